// ops::wkv7 (spec T4-T12) against a double-precision reference written from
// ../shared/docs/rwkv7-spec.md, for both kernels (wkv7.comp and wkv7_chunked.comp, forced with
// $RWKV_GPU_WKV): 2 heads of 64 and 3 of 32; a ragged batch of 1, 17 and 40 tokens (chunks of 16:
// a partial one, a full one plus one token, two full plus a partial) on slots 2, 0 and 3 of four;
// a random initial state carried through; layer 0 (v_first written) and a later layer (v_first
// read); decays at both ends of T4's range, w in (e^-0.606531 = 0.545, 1): a decay factor near 0
// cannot occur, the strongest one is 0.545.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <utility>

#include "common/error.hpp"
#include "ops/wkv7.hpp"
#include "vk/device.hpp"

namespace rwkv {
namespace {

vk::DevicePtr device() {
  static vk::DevicePtr d = vk::Device::open();
  return d;
}

enum class Decay { Random, Strongest, NearOne };  // w0 random, +30 (w = 0.545), -30 (w = 1 - 1e-13)
const char* const k_decay_names[] = {"random decay", "strongest decay", "decay near 1"};

struct Case {
  uint32_t H, N;
  bool layer0;
  Decay decay;
};

const std::vector<uint32_t> k_lens = {1, 17, 40}, k_slots = {2, 0, 3};
constexpr uint32_t k_n_slots = 4;  // slot 1 is never named: it must come back bit for bit
// The rows out of order among rows the op must not read (forward.cpp's table holds every vector).
constexpr ops::Wkv7Rows k_rows{7, 2, 9, 0, 5, 3, 1, 8};
constexpr uint32_t k_table_rows = 11;

struct Inputs {
  uint32_t T, C, H, N, offset, stride;
  std::vector<float> rkv, lora, vec, v_first, state;
};

Inputs make_inputs(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uni(0.0f, 1.0f);
  Inputs in{0, c.H * c.N, c.H, c.N, 0, 0, {}, {}, {}, {}, {}};
  for (uint32_t len : k_lens) in.T += len;
  // As forward.cpp lays out a layer: the att shift [C] before the wkv [H, N, N], the ffn shift after.
  in.offset = in.C;
  in.stride = in.offset + c.H * c.N * c.N + in.C;
  const uint64_t TC = uint64_t(in.T) * in.C;
  auto fill = [&](uint64_t n, auto gen) {
    std::vector<float> x(n);
    for (auto& e : x) e = gen();
    return x;
  };
  in.rkv = fill(3 * TC, [&] { return normal(rng); });
  // The LoRA outputs as forward.cpp hands them over: w, a and v before their bias and sigmoid (the
  // kernel adds w0, a0, v0), g already the gate.
  in.lora = fill(4 * TC, [&] { return normal(rng); });
  in.vec = fill(uint64_t(k_table_rows) * in.C, [&] { return normal(rng); });
  auto row = [&](uint32_t r, auto gen) {
    for (uint32_t i = 0; i < in.C; ++i) in.vec[r * in.C + i] = gen();
  };
  row(k_rows.k_k, [&] { return 0.5f + uni(rng); });
  row(k_rows.k_a, [&] { return 1.5f * uni(rng); });
  row(k_rows.r_k, [&] { return 0.5f * normal(rng); });
  row(k_rows.ln_x_w, [&] { return 1.0f + 0.3f * normal(rng); });
  row(k_rows.ln_x_b, [&] { return 0.3f * normal(rng); });
  if (c.decay != Decay::Random) row(k_rows.w0, [&] { return c.decay == Decay::Strongest ? 30.0f : -30.0f; });
  if (c.layer0) {
    // Layer 0 has no value LoRA (forward.cpp leaves its block stale) and a dummy v0: NaN there
    // shows the kernel never reads them. v_first is NaN until the kernel writes it.
    std::fill(in.lora.begin() + 2 * TC, in.lora.begin() + 3 * TC, NAN);
    row(k_rows.v0, [] { return NAN; });
    in.v_first.assign(TC, NAN);
  } else {
    in.v_first = fill(TC, [&] { return normal(rng); });
  }
  in.state = fill(uint64_t(k_n_slots) * in.stride, [&] { return 0.5f * normal(rng); });
  return in;
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// T4-T12 token by token in double precision. `state` ([slots, stride]) and `v_first` are updated
// in place; returns out [T, C].
std::vector<double> reference(const Inputs& in, bool layer0, std::vector<double>& state, std::vector<double>& v_first) {
  const uint32_t T = in.T, C = in.C, N = in.N;
  auto x = [&](const std::vector<float>& b, uint32_t block, uint32_t t, uint32_t c) -> double { return b[(uint64_t(block) * T + t) * C + c]; };
  auto param = [&](uint32_t row, uint32_t c) -> double { return in.vec[uint64_t(row) * C + c]; };
  std::vector<double> out(uint64_t(T) * C), r(N), w(N), k(N), v(N), kk(N), a(N), y(N);
  for (size_t s = 0, t0 = 0; s < k_lens.size(); t0 += k_lens[s++])
    for (uint32_t h = 0; h < in.H; ++h) {
      double* S = &state[uint64_t(k_slots[s]) * in.stride + in.offset + uint64_t(h) * N * N];  // [i = value][j = key]
      for (uint32_t t = t0; t < t0 + k_lens[s]; ++t) {
        double norm2 = 0;
        for (uint32_t j = 0; j < N; ++j) {
          const uint32_t c = h * N + j;
          r[j] = x(in.rkv, 0, t, c), k[j] = x(in.rkv, 1, t, c), v[j] = x(in.rkv, 2, t, c);
          w[j] = std::exp(-0.606531 * sigmoid(param(k_rows.w0, c) + x(in.lora, 0, t, c)));  // T4
          a[j] = sigmoid(param(k_rows.a0, c) + x(in.lora, 1, t, c));                        // T5
          kk[j] = k[j] * param(k_rows.k_k, c);                                              // T7: k before T8
          norm2 += kk[j] * kk[j];
          k[j] *= 1 + (a[j] - 1) * param(k_rows.k_a, c);  // T8
          double& vf = v_first[uint64_t(t) * C + c];       // T9
          if (layer0)
            vf = v[j];
          else
            v[j] += (vf - v[j]) * sigmoid(param(k_rows.v0, c) + x(in.lora, 2, t, c));
        }
        for (auto& e : kk) e /= std::max(std::sqrt(norm2), 1e-12);
        double mean = 0, var = 0, bonus = 0;
        for (uint32_t i = 0; i < N; ++i) {  // T10: sa from the old state, y from the new one
          double sa = 0;
          for (uint32_t j = 0; j < N; ++j) sa -= S[i * N + j] * kk[j];
          y[i] = 0;
          for (uint32_t j = 0; j < N; ++j) {
            S[i * N + j] = S[i * N + j] * w[j] + sa * kk[j] * a[j] + v[i] * k[j];
            y[i] += S[i * N + j] * r[j];
          }
          mean += y[i] / N;
          bonus += r[i] * k[i] * param(k_rows.r_k, h * N + i);
        }
        for (uint32_t i = 0; i < N; ++i) var += (y[i] - mean) * (y[i] - mean) / N;
        for (uint32_t i = 0; i < N; ++i) {  // T11 GroupNorm, T12 bonus, then the gate
          const uint32_t c = h * N + i;
          const double normed = (y[i] - mean) / std::sqrt(var + 64e-5) * param(k_rows.ln_x_w, c) + param(k_rows.ln_x_b, c);
          out[uint64_t(t) * C + c] = (normed + bonus * v[i]) * x(in.lora, 3, t, c);
        }
      }
    }
  return out;
}

struct GpuResult {
  std::vector<float> out, state, v_first, scratch;
};

template <typename T>
vk::BufferPtr buffer_of(const std::vector<T>& x, vk::MemoryKind kind) {
  auto b = std::make_shared<vk::Buffer>(device(), x.size() * sizeof(T), kind);
  std::memcpy(b->mapped(), x.data(), x.size() * sizeof(T));
  return b;
}

GpuResult run_gpu(const Inputs& in, bool layer0, const char* kernel) {
  auto dev = device();
  std::vector<uint32_t> seqs, token_seq;
  for (uint32_t s = 0, t0 = 0; s < k_lens.size(); t0 += k_lens[s++]) {
    seqs.insert(seqs.end(), {t0, k_lens[s], k_slots[s], 0});
    token_seq.insert(token_seq.end(), k_lens[s], s);
  }
  auto seqs_buf = buffer_of(seqs, vk::MemoryKind::Upload), token_seq_buf = buffer_of(token_seq, vk::MemoryKind::Upload);
  auto vec = std::make_shared<vk::Buffer>(dev, in.vec.size() * 4, vk::MemoryKind::Device);
  vk::upload(dev, {vec}, in.vec.data(), in.vec.size() * 4);
  auto rkv = buffer_of(in.rkv, vk::MemoryKind::Upload), lora = buffer_of(in.lora, vk::MemoryKind::Upload);
  auto v_first = buffer_of(in.v_first, vk::MemoryKind::Readback), state = buffer_of(in.state, vk::MemoryKind::Readback);
  // NaN poison: every output must be written; the scratch shows whether the chunked kernel ran
  // (ops::wkv7 falls back to the sequential one, which never binds it, where the device lacks what
  // the chunked kernels need).
  const uint64_t TC = uint64_t(in.T) * in.C;
  auto out = buffer_of(std::vector<float>(TC, NAN), vk::MemoryKind::Readback);
  auto scratch = buffer_of(std::vector<float>(ops::wkv7_scratch_floats(in.T, in.C, in.N), NAN), vk::MemoryKind::Readback);

  ::setenv("RWKV_GPU_WKV", kernel, 1);  // read while recording
  vk::Recorder rec(dev);
  ops::wkv7(rec, {rkv}, {lora}, {{vec}, in.C}, k_rows, layer0, {v_first}, {{state}, in.offset, in.stride},
            {{token_seq_buf}, {token_seq_buf}, {seqs_buf}, in.T, uint32_t(k_lens.size()), *std::max_element(k_lens.begin(), k_lens.end())}, in.N, {out}, {scratch});
  ::unsetenv("RWKV_GPU_WKV");
  rec.submit().wait();
  auto back = [](const vk::BufferPtr& b) {
    const auto* f = reinterpret_cast<const float*>(b->mapped());
    return std::vector<float>(f, f + b->size() / 4);
  };
  return {back(out), back(state), back(v_first), back(scratch)};
}

// The largest |got - want| over the scale of `want` (at least 1), over the elements `in` selects.
template <typename Select>
double worst_error(const std::vector<float>& got, const std::vector<double>& want, Select in, double* scale_out) {
  double scale = 1, worst = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (in(i)) scale = std::max(scale, std::abs(want[i]));
  for (size_t i = 0; i < want.size(); ++i)
    if (in(i)) worst = std::max(worst, std::isnan(got[i]) ? INFINITY : std::abs(got[i] - want[i]));
  *scale_out = scale;
  return worst / scale;
}

constexpr double k_tol = 1e-5;  // of the output's (or state's) scale: the exact fp32 path's bar

void check_case(const Case& c, uint32_t seed, const char* kernel) {
  const std::string name = std::to_string(c.H) + "x" + std::to_string(c.N) + (c.layer0 ? " layer 0, " : " later layer, ") +
                           k_decay_names[int(c.decay)];
  SCOPED_TRACE(name);
  const Inputs in = make_inputs(c, seed);
  std::vector<double> state(in.state.begin(), in.state.end()), v_first(in.v_first.begin(), in.v_first.end());
  const auto want = reference(in, c.layer0, state, v_first);
  const auto got = run_gpu(in, c.layer0, kernel);

  const bool chunked_ran = !std::isnan(got.scratch[0]);
  const auto& info = device()->info();
  ASSERT_EQ(chunked_ran, std::string(kernel) == "chunked")
      << "the " << kernel << " kernel did not run; the chunked one needs N % 32 == 0, subgroups of 8+ (this device: "
      << info.min_subgroup_size << ") with shuffle and arithmetic, and its shared memory (device: "
      << info.max_compute_shared_memory_size << " bytes)";

  double out_scale, state_scale;
  const double out_err = worst_error(got.out, want, [](size_t) { return true; }, &out_scale);
  // The wkv [H, N, N] of the batch's slots follows the reference; every other float of the state
  // (slot 1, the shifts around each wkv) must come back bit for bit.
  const uint64_t wkv = uint64_t(c.H) * c.N * c.N;
  auto in_wkv = [&](size_t i) {
    const uint64_t slot = i / in.stride, at = i % in.stride;
    return std::find(k_slots.begin(), k_slots.end(), slot) != k_slots.end() && at >= in.offset && at < in.offset + wkv;
  };
  const double state_err = worst_error(got.state, state, in_wkv, &state_scale);
  size_t changed = 0;
  for (size_t i = 0; i < in.state.size(); ++i) changed += !in_wkv(i) && std::memcmp(&got.state[i], &in.state[i], 4) != 0;
  std::printf("[wkv7 %-10s %-36s] worst out err %.2e (scale %.3g), state err %.2e (scale %.3g)\n", kernel, name.c_str(),
              out_err, out_scale, state_err, state_scale);
  EXPECT_LE(out_err, k_tol);
  EXPECT_LE(state_err, k_tol);
  EXPECT_EQ(changed, 0u) << "floats of the state outside the batch's wkv matrices changed";
  // Layer 0 stores v exactly; later layers leave v_first as it was.
  for (size_t i = 0; i < v_first.size(); ++i) ASSERT_EQ(got.v_first[i], float(v_first[i])) << "v_first at " << i;
}

void check_all_cases(const char* kernel) {
  const std::pair<uint32_t, uint32_t> shapes[] = {{2, 64}, {3, 32}};  // heads x head size
  const std::pair<bool, Decay> layers[] = {{true, Decay::Random}, {false, Decay::Random}, {false, Decay::Strongest}, {true, Decay::NearOne}};
  uint32_t seed = 1;
  for (const auto& [H, N] : shapes)
    for (const auto& [layer0, decay] : layers) check_case({H, N, layer0, decay}, seed++, kernel);
}

TEST(Wkv7, SequentialKernelMatchesTheReference) { check_all_cases("sequential"); }
// Every row width the device takes (wkv7_row_lanes): lavapipe's subgroups of 8 take 1 to 8.
TEST(Wkv7, SequentialKernelMatchesTheReferenceAtEveryRowWidth) {
  const auto& info = device()->info();
  for (uint32_t lanes = 2; lanes <= std::min(info.min_subgroup_size, 16u); lanes *= 2) {
    const std::string forced = "sequential:" + std::to_string(lanes);
    SCOPED_TRACE(forced);
    check_all_cases(forced.c_str());
  }
}
TEST(Wkv7, RowWidthOutsideTheDeviceIsRefused) {
  const auto& info = device()->info();
  EXPECT_THROW(ops::wkv7_row_lanes(info, 64, "sequential:3"), InvalidArgument);
  EXPECT_THROW(ops::wkv7_row_lanes(info, 64, "sequential:0"), InvalidArgument);
  EXPECT_THROW(ops::wkv7_row_lanes(info, 64, "sequential:"), InvalidArgument);
  EXPECT_THROW(ops::wkv7_row_lanes(info, 64, "sequential:" + std::to_string(2 * info.max_subgroup_size)), InvalidArgument);
  EXPECT_THROW(ops::wkv7_row_lanes(info, 24, "sequential:16"), InvalidArgument);
  EXPECT_EQ(ops::wkv7_row_lanes(info, 64, "sequential:2"), 2u);
}
TEST(Wkv7, ChunkedKernelMatchesTheReference) { check_all_cases("chunked"); }

// A longest sequence that T tokens in S sequences cannot have (under T / S, or more than the
// others' one token each leave) is refused: the sequential kernel would skip tokens or read past.
TEST(Wkv7, ImpossibleLongestSequenceIsRefused) {
  auto dev = device();
  const uint32_t N = 64, C = 2 * N, T = 10;
  const auto buf = [&](uint64_t floats) { return std::make_shared<vk::Buffer>(dev, floats * 4, vk::MemoryKind::Device); };
  auto rkv = buf(3 * T * C), lora = buf(4 * T * C), tc = buf(T * C), vec = buf(16 * C), state = buf(2 * C * N), ints = buf(T + 8);
  for (uint32_t longest : {0u, 4u, 10u}) {
    vk::Recorder rec(dev);
    EXPECT_THROW(ops::wkv7(rec, {rkv}, {lora}, {{vec}, C}, k_rows, false, {tc}, {{state}, 0, C * N}, {{ints}, {ints}, {ints}, T, 2, longest},
                           N, {tc}, {tc}),
                 InvalidArgument)
        << "longest " << longest;
  }
}

}  // namespace
}  // namespace rwkv
