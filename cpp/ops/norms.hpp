// Row-wise LayerNorm, and the fused LayerNorm + token shift + lerp of the spec's T1-T2 and C1.
#pragma once
#include "ops/batch.hpp"
#include "vk/device_info.hpp"

namespace rwkv::ops {

// out[r] = LN(x[rows[r]] or x[r]) * vectors[weight_row] + vectors[bias_row]; rows may be null.
void layer_norm(vk::Recorder& rec, const vk::BufferRange& x, const VectorTable& vectors, uint32_t weight_row,
                uint32_t bias_row, const vk::BufferRange* rows, uint32_t n_rows, float eps, const vk::BufferRange& out);

struct ShiftMixRows {
  uint32_t ln_weight, ln_bias;
  uint32_t first_mu;  // n_mix consecutive mu rows
  uint32_t n_mix;
};

// mixes[k, t] = u + (prev - u) * mu[k] with u = LN(x[t]); advances the shift vector in `state`.
// half_out: the mixes in fp16 as the tensor-core products take their inputs (rows of
// ceil(C / 8) * 8 halves, zeros past C; MatmulGroup::x_half). channel_groups: workgroups per
// token, each taking a share of the channels (0: the rule's, shift_mix_channel_groups).
void ln_shift_mix(vk::Recorder& rec, const vk::BufferRange& x, const VectorTable& vectors, const ShiftMixRows& rows,
                  const StateView& state, const BatchView& batch, float eps, const vk::BufferRange& mixes, bool half_out = false,
                  uint32_t channel_groups = 0);

// The rule: on GPUs, enough workgroups per token for the grid to reach the device's compute units
// (decode runs one token per sequence), at most one per WG channels; on CPU devices one.
uint32_t shift_mix_channel_groups(const vk::DeviceInfo& device, uint32_t n_tokens, uint32_t channels);

}  // namespace rwkv::ops
