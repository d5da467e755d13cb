// The norm kernels against double-precision references at odd widths: layer_norm (all rows and a
// row subset) and ln_shift_mix (ragged sequences on scattered state slots: the first token mixes
// with the state's shift vector, the others with the previous token, and the shift advances).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "common/fp16.hpp"
#include "ops/norms.hpp"
#include "vk/device.hpp"

namespace rwkv {
namespace {

template <typename T>
vk::BufferPtr buffer_of(const vk::DevicePtr& dev, const std::vector<T>& data) {
  auto b = std::make_shared<vk::Buffer>(dev, std::max<uint64_t>(data.size() * sizeof(T), 4), vk::MemoryKind::Readback);
  std::memcpy(b->mapped(), data.data(), data.size() * sizeof(T));
  return b;
}

const float* floats(const vk::BufferPtr& b) { return reinterpret_cast<const float*>(b->mapped()); }

std::vector<double> layer_norm_ref(const float* x, uint32_t C, const float* w, const float* b, double eps) {
  double mean = 0, var = 0;
  for (uint32_t c = 0; c < C; ++c) mean += x[c];
  mean /= C;
  for (uint32_t c = 0; c < C; ++c) var += (x[c] - mean) * (x[c] - mean);
  var /= C;
  std::vector<double> out(C);
  for (uint32_t c = 0; c < C; ++c) out[c] = (x[c] - mean) / std::sqrt(var + eps) * w[c] + b[c];
  return out;
}

void expect_close(const float* got, const std::vector<double>& want, const char* what, double tol = 1e-5) {
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]) / (1.0 + std::abs(want[i])));
  EXPECT_LE(worst, tol) << what;
}

// fp16 values (IEEE binary16) as floats.
std::vector<float> from_halves(const uint16_t* h, size_t n) {
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = f16_to_f32(h[i]);
  return out;
}

TEST(Norms, LayerNormOfAllRowsAndOfARowSubset) {
  auto dev = vk::Device::open();
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.5f, 2.0f);
  for (uint32_t C : {1u, 77u, 300u, 2561u}) {
    const uint32_t T = 6;
    std::vector<float> x(T * C), vec(3 * C);
    for (auto& v : x) v = normal(rng);
    for (auto& v : vec) v = normal(rng);
    const std::vector<uint32_t> subset = {5, 0, 3};
    auto xb = buffer_of(dev, x), vb = buffer_of(dev, vec), rows = buffer_of(dev, subset);
    auto all = buffer_of(dev, std::vector<float>(T * C, NAN)), some = buffer_of(dev, std::vector<float>(subset.size() * C, NAN));
    vk::Recorder rec(dev);
    const ops::VectorTable table{{vb}, C};
    ops::layer_norm(rec, {xb}, table, 1, 2, nullptr, T, 1e-5f, {all});
    const vk::BufferRange rows_range{rows};
    ops::layer_norm(rec, {xb}, table, 1, 2, &rows_range, uint32_t(subset.size()), 1e-5f, {some});
    rec.submit().wait();
    for (uint32_t r = 0; r < T; ++r)
      expect_close(floats(all) + r * C, layer_norm_ref(&x[r * C], C, &vec[C], &vec[2 * C], 1e-5), "all rows");
    for (size_t r = 0; r < subset.size(); ++r)
      expect_close(floats(some) + r * C, layer_norm_ref(&x[subset[r] * C], C, &vec[C], &vec[2 * C], 1e-5), "row subset");
  }
}

TEST(Norms, LnShiftMixOverRaggedSequencesAndSlots) {
  auto dev = vk::Device::open();
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.5f);
  const uint32_t C = 77, n_mix = 6, stride = C + 5, offset = 3;
  // Sequences of 1, 4 and 7 tokens on slots 2, 0 and 1 (seqs[s] = start, len, slot, 0).
  const std::vector<uint32_t> lens = {1, 4, 7}, slots = {2, 0, 1};
  std::vector<uint32_t> seqs, token_seq;
  uint32_t T = 0;
  for (uint32_t s = 0; s < lens.size(); ++s) {
    seqs.insert(seqs.end(), {T, lens[s], slots[s], 0});
    token_seq.insert(token_seq.end(), lens[s], s);
    T += lens[s];
  }
  std::vector<float> x(T * C), vec((2 + n_mix) * C), state(3 * stride);
  for (auto* v : {&x, &vec, &state})
    for (auto& e : *v) e = normal(rng);
  const auto state_before = state;
  // Channel groups: the rule's, one per token, and 2, 3 and 7 per token (channels strided over
  // the groups, one group per channel and groups with none at lavapipe's 32 invocations). The
  // mixes in fp32, and in fp16 as the tensor-core products read them: rows of 80 halves (C = 77
  // padded with zeros to whole uvec4s), each value rounded once (2^-11 relative).
  const uint32_t C8 = (C + 7) / 8 * 8;
  for (bool half : {false, true})
  for (uint32_t groups : {0u, 1u, 2u, 3u, 7u}) {
    SCOPED_TRACE("channel groups " + std::to_string(groups) + (half ? ", fp16" : ""));
    auto xb = buffer_of(dev, x), vb = buffer_of(dev, vec), sb = buffer_of(dev, state_before);
    auto ts = buffer_of(dev, token_seq), sq = buffer_of(dev, seqs);
    auto mixes = buffer_of(dev, std::vector<float>(n_mix * T * C, NAN));
    vk::Recorder rec(dev);
    ops::ln_shift_mix(rec, {xb}, {{vb}, C}, {0, 1, 2, n_mix}, {{sb}, offset, stride}, {{ts}, {ts}, {sq}, T, 3, 7}, 1e-5f,
                      {mixes}, half, groups);
    rec.submit().wait();
    const auto* halves = reinterpret_cast<const uint16_t*>(mixes->mapped());
    const auto mix_row = [&](uint32_t k, uint32_t t) {
      const uint64_t row = uint64_t(k) * T + t;
      if (!half) return std::vector<float>(floats(mixes) + row * C, floats(mixes) + (row + 1) * C);
      for (uint32_t c = C; c < C8; ++c) EXPECT_EQ(halves[row * C8 + c], 0u) << "padding";
      return from_halves(halves + row * C8, C);
    };
    for (uint32_t s = 0, t0 = 0; s < lens.size(); t0 += lens[s++]) {
      for (uint32_t t = t0; t < t0 + lens[s]; ++t) {
        const auto u = layer_norm_ref(&x[t * C], C, &vec[0], &vec[C], 1e-5);
        std::vector<double> prev(C);
        if (t == t0) {
          for (uint32_t c = 0; c < C; ++c) prev[c] = state_before[slots[s] * stride + offset + c];
        } else {
          prev = layer_norm_ref(&x[(t - 1) * C], C, &vec[0], &vec[C], 1e-5);
        }
        for (uint32_t k = 0; k < n_mix; ++k) {
          std::vector<double> want(C);
          for (uint32_t c = 0; c < C; ++c) want[c] = u[c] + (prev[c] - u[c]) * vec[(2 + k) * C + c];
          expect_close(mix_row(k, t).data(), want, "mix", half ? 4.9e-4 : 1e-5);
        }
      }
      // The shift vector now holds LN of the sequence's last token; the rest of the slot is untouched.
      expect_close(floats(sb) + slots[s] * stride + offset, layer_norm_ref(&x[(t0 + lens[s] - 1) * C], C, &vec[0], &vec[C], 1e-5),
                   "new shift");
      for (uint32_t i = 0; i < offset; ++i) EXPECT_EQ(floats(sb)[slots[s] * stride + i], state_before[slots[s] * stride + i]);
    }
  }
}

// The rule: few tokens on a GPU spread each row over workgroups (one per 512 channels at most)
// until the grid reaches the compute units; CPU devices and prefill keep one per token.
TEST(Norms, ShiftMixChannelGroupsRule) {
  vk::DeviceInfo gpu{};
  gpu.type = "discrete";
  gpu.compute_units = 132;
  EXPECT_EQ(ops::shift_mix_channel_groups(gpu, 1, 2560), 5u);
  EXPECT_EQ(ops::shift_mix_channel_groups(gpu, 1, 768), 2u);
  EXPECT_EQ(ops::shift_mix_channel_groups(gpu, 64, 2560), 3u);
  EXPECT_EQ(ops::shift_mix_channel_groups(gpu, 132, 2560), 1u);
  EXPECT_EQ(ops::shift_mix_channel_groups(gpu, 512, 2560), 1u);
  EXPECT_EQ(ops::shift_mix_channel_groups(gpu, 1, 100), 1u);
  gpu.compute_units = 0;  // not reported: 64
  EXPECT_EQ(ops::shift_mix_channel_groups(gpu, 16, 4096), 4u);
  vk::DeviceInfo cpu = gpu;
  cpu.type = "cpu";
  EXPECT_EQ(ops::shift_mix_channel_groups(cpu, 1, 2560), 1u);
}

}  // namespace
}  // namespace rwkv
