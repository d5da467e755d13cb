#include "ops/wkv7.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string>

#include "layouts.h"

namespace rwkv::ops {
namespace {

using Push = gpu::Wkv7Push;  // shaders/include/layouts.h

// Tokens of a sequence one dispatch of the sequential kernel runs, times its head size: a longer
// loop in one workgroup came out wrong on lavapipe (Mesa 22.3) from about 26,500 (token 414 at
// head size 64, 210 at 128, 333 at 80; tests/python/test_wkv_long_dispatch.py), so longer
// sequences run in windows of dispatches on the same state. A window costs one state round trip.
constexpr uint32_t k_window_work = 16384;

constexpr uint32_t k_chunk = 16;      // wkv7_chunked.comp CH
constexpr uint32_t k_state_lanes = 8;  // wkv7_chunked.comp STATE: invocations per state row

// What the chunked kernels need of the device and the head size N: N a multiple of 32 (16-token
// chunks; STATE's rows of 8 invocations, each reading vec4s) and at most 256 (PREPARE gives each
// invocation an entry of the 16 x 16 matrices at least), subgroups of 8 or more invocations with shuffles and
// adds (a state row's 8 invocations sum within their subgroup), and the shared memory of the
// largest step, PREPARE (wkv7_chunked.comp: four [16][N + 1] and four [16][16] floats, reduce.glsl's
// [N] vec4).
bool chunked_runs_on(const vk::DeviceInfo& device, uint32_t n) {
  const auto& ops = device.subgroup_operations;
  const auto has = [&](const char* op) { return std::find(ops.begin(), ops.end(), op) != ops.end(); };
  const uint64_t shared = 4ull * (4 * k_chunk * (n + 1) + 4 * k_chunk * k_chunk + 4 * n);
  return n % (4 * k_state_lanes) == 0 && n <= k_chunk * k_chunk && device.min_subgroup_size >= k_state_lanes &&
         has("shuffle") && has("arithmetic") && shared <= device.max_compute_shared_memory_size;
}

// Which kernel runs a batch: the first rule that holds. CPU devices (lavapipe) run the sequential
// kernel: they gain nothing from more workgroups and the chunked form does 1.5x the arithmetic.
// On the H200 (docs/benchmarks.md, 2026-11-29, F16, the same call) the chunked kernels took 23.5
// ms instead of 39.4 at 2.9B pp512 and 9.1 instead of 12.8 at pp164; 4.1 instead of 12.8 at 0.1B
// pp512 and 1.8 instead of 4.1 at pp164.
// The rule counts the longest sequence's tokens: the sequential kernel takes one dependent step
// per token of it, the chunked one a step per 16 (the other sequences' chunks run beside them).
// A decode step of 64 sequences of one token each took 12.7 ms in the chunked kernels (2.9B,
// H200, 2026-11-29); a field analysis (a 164-token document and six 9-11-token prompts in one
// batch: 31.9 tokens a sequence) ran sequentially under the earlier rule by the average.
struct Wkv7Rule {
  Wkv7Kernel kernel;
  bool gpu_only;
  uint32_t min_longest;
};
constexpr Wkv7Rule k_wkv7_rules[] = {
    {Wkv7Kernel::Chunked, true, 2 * k_chunk},
    {Wkv7Kernel::Sequential, false, 0},
};

// Invocations per state row of the sequential kernel (wkv7.comp LANES), by device type: the first
// row that holds. CPU devices (lavapipe) run a workgroup's invocations in turn: one per row there.
struct Wkv7LanesRule {
  bool gpu_only;
  uint32_t lanes;
};
constexpr Wkv7LanesRule k_wkv7_lanes_rules[] = {
    {true, 8},
    {false, 1},
};

// wkv7.comp's shared memory: five [N] floats and reduce.glsl's vec4 per invocation.
uint64_t sequential_shared_bytes(uint32_t n, uint32_t lanes) { return 4ull * 5 * n + 16ull * n * lanes; }

}  // namespace

uint32_t wkv7_row_lanes(const vk::DeviceInfo& device, uint32_t head_size, const std::string& forced) {
  // A width the kernel can take: a power of two dividing the head, a row's invocations inside one
  // subgroup, the workgroup and its shared memory within the device's limits.
  const auto fits = [&](uint64_t lanes) {
    return lanes && !(lanes & (lanes - 1)) && lanes <= device.min_subgroup_size && head_size % lanes == 0 &&
           lanes * head_size <= device.max_workgroup_invocations &&
           sequential_shared_bytes(head_size, uint32_t(lanes)) <= device.max_compute_shared_memory_size;
  };
  if (forced.rfind("sequential:", 0) == 0) {
    const char* digits = forced.c_str() + std::strlen("sequential:");
    char* tail = nullptr;
    const unsigned long want = std::strtoul(digits, &tail, 10);
    if (!*digits || *tail || want > UINT32_MAX || !fits(want))
      throw InvalidArgument("RWKV_GPU_WKV='" + forced + "': LANES must be a power of two dividing the head size (" +
                            std::to_string(head_size) + "), at most the subgroup size (" + std::to_string(device.min_subgroup_size) +
                            "), with the head size within the workgroup size (" +
                            std::to_string(device.max_workgroup_invocations) + ") and shared memory");
    return uint32_t(want);
  }
  uint32_t lanes = 1;
  for (const auto& r : k_wkv7_lanes_rules)
    if (!r.gpu_only || device.type != "cpu") {
      lanes = r.lanes;
      break;
    }
  while (lanes > 1 && !fits(lanes)) lanes /= 2;  // the table's width, halved until it fits
  return lanes;
}

Wkv7Kernel choose_wkv7(const vk::DeviceInfo& device, uint32_t longest, const std::string& forced) {
  if (forced == "sequential" || forced.rfind("sequential:", 0) == 0) return Wkv7Kernel::Sequential;
  if (forced == "chunked") return Wkv7Kernel::Chunked;
  if (!forced.empty()) throw InvalidArgument("RWKV_GPU_WKV='" + forced + "': expected sequential, sequential:LANES or chunked");
  for (const auto& r : k_wkv7_rules)
    if (longest >= r.min_longest && (!r.gpu_only || device.type != "cpu")) return r.kernel;
  return Wkv7Kernel::Sequential;
}

uint64_t wkv7_scratch_floats(uint32_t max_tokens, uint32_t n_embd, uint32_t head_size) {
  // Ten [T, C] regions and the two [T, H, 16] matrices A_rb, A_rk (wkv7_chunked.comp).
  return 10ull * max_tokens * n_embd + 2ull * max_tokens * (n_embd / head_size) * k_chunk;
}

void wkv7(vk::Recorder& rec, const vk::BufferRange& rkv, const vk::BufferRange& lora, const VectorTable& vectors,
          const Wkv7Rows& rows, bool layer0, const vk::BufferRange& v_first, const StateView& state,
          const BatchView& batch, uint32_t head_size, const vk::BufferRange& out, const vk::BufferRange& scratch) {
  const uint32_t T = batch.n_tokens, C = vectors.C;
  if (head_size == 0 || C % head_size) throw InvalidArgument("[wkv7] n_embd must be a multiple of the head size");
  const auto& info = rec.device().info();
  if (head_size > info.max_workgroup_invocations)
    throw InvalidArgument("[wkv7] head size " + std::to_string(head_size) + " exceeds the device's workgroup size");
  if (const uint64_t shared = sequential_shared_bytes(head_size, 1); shared > info.max_compute_shared_memory_size)
    throw InvalidArgument("[wkv7] head size " + std::to_string(head_size) + " needs " + std::to_string(shared) +
                          " bytes of shared memory; the device allows " + std::to_string(info.max_compute_shared_memory_size));
  const uint64_t tc = uint64_t(T) * C * 4;
  if (rkv.bytes() < 3 * tc || lora.bytes() < 4 * tc || v_first.bytes() < tc || out.bytes() < tc)
    throw InvalidArgument("[wkv7] a buffer is smaller than its [*, T, C] shape");
  // The sequential kernel steps through `longest` tokens: fewer would leave tokens unprocessed.
  // (Every sequence has a token, one of them at least T / n_seqs.)
  if (batch.n_seqs == 0 || batch.n_seqs > T || batch.longest == 0 || batch.longest > T - batch.n_seqs + 1 ||
      uint64_t(batch.longest) * batch.n_seqs < T)
    throw InvalidArgument("[wkv7] " + std::to_string(T) + " tokens in " + std::to_string(batch.n_seqs) +
                          " sequences cannot have a longest sequence of " + std::to_string(batch.longest));
  Push push{T, C, layer0 ? 1u : 0u, rows.w0, rows.a0, rows.v0, rows.k_k, rows.k_a, rows.r_k,
            rows.ln_x_w, rows.ln_x_b, state.offset, state.stride, batch.n_seqs, 0, T};
  const uint32_t heads = C / head_size;
  const char* env = std::getenv("RWKV_GPU_WKV");
  const std::string forced = env ? env : "";
  const bool chunk_fits = chunked_runs_on(info, head_size) && scratch.bytes() >= wkv7_scratch_floats(T, C, head_size) * 4;
  if (choose_wkv7(info, batch.longest, forced) == Wkv7Kernel::Sequential || !chunk_fits) {
    const uint32_t lanes = wkv7_row_lanes(info, head_size, forced);
    const auto& pipeline = rec.device().pipeline({ShaderId::wkv7, 7, sizeof(Push), {head_size * lanes, head_size, lanes}});
    push.window_tokens = std::max(1u, k_window_work / head_size);
    for (push.window_begin = 0; push.window_begin < batch.longest; push.window_begin += push.window_tokens)
      rec.dispatch(pipeline,
                   {vk::reads(rkv), vk::reads(lora), vk::reads(vectors.buffer), layer0 ? vk::writes(v_first) : vk::reads(v_first),
                    vk::updates(state.buffer), vk::reads(batch.seqs), vk::writes(out)},
                   push, {batch.n_seqs, heads, 1});
    return;
  }
  // Chunks of all sequences: at most T / 16 + one partial chunk per sequence.
  const uint32_t chunks = (T + k_chunk - 1) / k_chunk + batch.n_seqs;
  auto& dev = rec.device();
  auto step = [&](ShaderId shader, std::array<uint32_t, 3> groups) {
    rec.dispatch(dev.pipeline({shader, 8, sizeof(Push), {head_size, k_state_lanes}}),
                 {vk::reads(rkv), vk::reads(lora), vk::reads(vectors.buffer), layer0 ? vk::writes(v_first) : vk::reads(v_first),
                  vk::updates(state.buffer), vk::reads(batch.seqs), vk::writes(out), vk::updates(scratch)},
                 push, groups);
  };
  step(ShaderId::wkv7_chunk_prepare, {chunks, heads, 1});
  step(ShaderId::wkv7_chunk_state, {batch.n_seqs, heads, k_state_lanes});  // N / 8 rows each
  step(ShaderId::wkv7_chunk_output, {chunks, heads, 1});
}

}  // namespace rwkv::ops
