#include "ops/norms.hpp"

#include <algorithm>
#include <string>

#include "layouts.h"
#include "ops/matmul.hpp"

namespace rwkv::ops {
namespace {

// Invocations per workgroup (of a token's row, or a share of its channels), by device type: GPUs
// wide, for decode's single token; CPU devices (lavapipe) run a workgroup's invocations in turn
// through every barrier of the reductions, so there a narrow one wins. Measured on lavapipe (2 cores, the
// default model, pp256, GPU ms of ln_shift_mix / layer_norm): 512: 144 / 17; 128: 18 / 1.7;
// 64: 10.5 / 0.8; 32: 9.2 / 0.7; 8: 7.1 / 0.4 (prompt 447 -> 617 tokens/s at 32).
uint32_t row_workgroup(const vk::DeviceInfo& info) { return info.type == "cpu" ? 32 : 512; }

using gpu::LayerNormPush;  // shaders/include/layouts.h
using gpu::ShiftMixPush;

}  // namespace

void layer_norm(vk::Recorder& rec, const vk::BufferRange& x, const VectorTable& vectors, uint32_t weight_row,
                uint32_t bias_row, const vk::BufferRange* rows, uint32_t n_rows, float eps, const vk::BufferRange& out) {
  if (n_rows == 0) return;
  if (out.bytes() < uint64_t(n_rows) * vectors.C * 4) throw InvalidArgument("[layer_norm] output too small");
  const auto& pipeline = rec.device().pipeline({ShaderId::layer_norm, 4, sizeof(LayerNormPush), {row_workgroup(rec.device().info())}});
  const LayerNormPush push{n_rows, vectors.C, eps, weight_row, bias_row, rows ? 1u : 0u};
  rec.dispatch(pipeline, {vk::reads(x), vk::reads(vectors.buffer), vk::reads(rows ? *rows : x), vk::writes(out)}, push,
               {n_rows, 1, 1});
}

// The channel groups' target: the compute units where the driver reports them, else this many.
// Why: at one token, one workgroup wrote a 2.9B layer's 6 x 2560 mixes in 16 us (1.0 of a 5.4 ms
// decode step on the H200 in 64 dispatches: docs/benchmarks.md), a single compute unit's rate;
// prefill's many tokens fill the GPU already and keep one workgroup per token. Not yet timed.
constexpr uint32_t k_default_compute_units = 64;

uint32_t shift_mix_channel_groups(const vk::DeviceInfo& device, uint32_t n_tokens, uint32_t channels) {
  if (device.type == "cpu" || n_tokens == 0) return 1;
  const uint32_t units = device.compute_units ? device.compute_units : k_default_compute_units;
  const uint32_t wg = row_workgroup(device), most = (channels + wg - 1) / wg;
  return std::clamp((units + n_tokens - 1) / n_tokens, 1u, std::max(most, 1u));
}

void ln_shift_mix(vk::Recorder& rec, const vk::BufferRange& x, const VectorTable& vectors, const ShiftMixRows& rows,
                  const StateView& state, const BatchView& batch, float eps, const vk::BufferRange& mixes, bool half_out,
                  uint32_t channel_groups) {
  const uint32_t T = batch.n_tokens, C = vectors.C;
  const uint64_t row_bytes = half_out ? half_row_bytes(C) : C * 4ull;
  if (mixes.bytes() < uint64_t(rows.n_mix) * T * row_bytes) throw InvalidArgument("[ln_shift_mix] output too small");
  const auto& info = rec.device().info();
  const uint32_t groups = channel_groups ? channel_groups : shift_mix_channel_groups(info, T, C);
  if (groups > info.max_workgroup_count[1]) throw InvalidArgument("[ln_shift_mix] too many channel groups");
  const auto& pipeline = rec.device().pipeline({ShaderId::ln_shift_mix, 6, sizeof(ShiftMixPush), {row_workgroup(info)}});
  const ShiftMixPush push{T, C, eps, rows.ln_weight, rows.ln_bias, rows.first_mu, rows.n_mix, state.offset, state.stride, half_out ? 1u : 0u};
  rec.dispatch(pipeline,
               {vk::reads(x), vk::reads(vectors.buffer), vk::updates(state.buffer), vk::reads(batch.token_seq),
                vk::reads(batch.seqs), vk::writes(mixes)},
               push, {T, groups, 1});
}

}  // namespace rwkv::ops
