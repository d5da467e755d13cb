// Token sampling on the GPU (shaders/sample.comp): penalties, softmax, top-p, top-k, temperature
// and one draw per row of logits, as the official RWKV pipeline samples.
#pragma once
#include "layouts.h"
#include "vk/recorder.hpp"

namespace rwkv::ops {

// One row to sample (shaders/include/layouts.h, shared with sample.comp).
using SampleRow = gpu::SampleRow;

// ids[r] = the token drawn from logits[params[r].logits_row] ([*, V] f32); updates the penalty
// memory `occurrence` ([slots, V] f32) of rows that penalize. token_weights: [V] f32.
void sample(vk::Recorder& rec, const vk::BufferRange& logits, const vk::BufferRange& params, uint32_t n_rows,
            const vk::BufferRange& occurrence, const vk::BufferRange& token_weights, uint32_t V,
            const vk::BufferRange& ids);

}  // namespace rwkv::ops
