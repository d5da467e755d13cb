// Token sampling on the GPU (shaders/sample.comp): penalties, softmax, top-p, top-k, temperature
// and one draw per row of logits, as the official RWKV pipeline samples.
#pragma once
#include <span>

#include "layouts.h"
#include "vk/device_info.hpp"
#include "vk/recorder.hpp"

namespace rwkv::ops {

// One row to sample (shaders/include/layouts.h, shared with sample.comp).
using SampleRow = gpu::SampleRow;

// The steps after the rows' statistics and before the pick that some row needs (sample.comp):
// the threshold searches (a sampled row with top-k or top-p), the draw (a sampled row), the
// penalty memory (a penalizing row). A step no row needs is not recorded.
struct SampleSteps {
  bool search = true, draw = true, remember = true;
  bool operator==(const SampleSteps&) const = default;
};
SampleSteps sample_steps(std::span<const SampleRow> rows, uint32_t V);

struct SampleOptions {
  vk::BufferRange scratch{};  // at least sample_scratch_bytes(...); without one, the call allocates it
  uint32_t chunks = 0;        // workgroups sharing one row of logits (0: the rule's, sample_chunks)
  SampleSteps steps{};        // all, unless the caller knows its rows (a recording replayed with
                              // other rows must cover them too)
};

// The rule: on GPUs one chunk per 1024 tokens of the vocabulary (at most one per invocation of
// a workgroup: 256), so that a single row spreads over the GPU; on CPU devices one.
uint32_t sample_chunks(const vk::DeviceInfo& device, uint32_t V);
uint64_t sample_scratch_bytes(uint32_t n_rows, uint32_t chunks);

// ids[r] = the token drawn from logits[params[r].logits_row] ([*, V] f32); updates the penalty
// memory `occurrence` ([slots, V] f32) of rows that penalize. token_weights: [V] f32.
void sample(vk::Recorder& rec, const vk::BufferRange& logits, const vk::BufferRange& params, uint32_t n_rows,
            const vk::BufferRange& occurrence, const vk::BufferRange& token_weights, uint32_t V,
            const vk::BufferRange& ids, SampleOptions options = {});

}  // namespace rwkv::ops
