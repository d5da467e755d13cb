// Token sampling on the GPU (shaders/sample.comp): penalties, softmax, top-p, top-k, temperature
// and one draw per row of logits, as the official RWKV pipeline samples.
#pragma once
#include "vk/recorder.hpp"

namespace rwkv::ops {

// One row to sample: the layout of RowParams in sample.comp.
struct SampleRow {
  uint32_t logits_row;
  uint32_t slot;  // penalty memory slot
  float temperature, top_p;
  uint32_t top_k;
  float presence, frequency, decay;
  uint32_t seed_lo, seed_hi;
  uint32_t counter;  // the draw's position in the sequence's random stream
  uint32_t penalize;
};
static_assert(sizeof(SampleRow) == 48);

// ids[r] = the token drawn from logits[params[r].logits_row] ([*, V] f32); updates the penalty
// memory `occurrence` ([slots, V] f32) of rows that penalize. token_weights: [V] f32.
void sample(vk::Recorder& rec, const vk::BufferRange& logits, const vk::BufferRange& params, uint32_t n_rows,
            const vk::BufferRange& occurrence, const vk::BufferRange& token_weights, uint32_t V,
            const vk::BufferRange& ids);

}  // namespace rwkv::ops
