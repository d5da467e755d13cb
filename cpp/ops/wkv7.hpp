// The WKV7 time-mix core (spec T4-T12): prelude, recurrence, GroupNorm, bonus and gate, one
// workgroup per (sequence, head) walking the sequence's tokens in order.
#pragma once
#include "ops/batch.hpp"

namespace rwkv::ops {

struct Wkv7Rows {  // rows of the VectorTable
  uint32_t w0, a0, v0, k_k, k_a, r_k, ln_x_w, ln_x_b;
};

// rkv: [3, T, C] (r, k, v); lora: [4, T, C] (w, a, v, g LoRA outputs); v_first: [T, C], written
// when layer0 else read; out: [T, C]. `state` addresses this layer's wkv [H, N, N].
void wkv7(vk::Recorder& rec, const vk::BufferRange& rkv, const vk::BufferRange& lora, const VectorTable& vectors,
          const Wkv7Rows& rows, bool layer0, const vk::BufferRange& v_first, const StateView& state,
          const BatchView& batch, uint32_t head_size, const vk::BufferRange& out);

}  // namespace rwkv::ops
