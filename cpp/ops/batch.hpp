// The token batch as the shaders see it (shaders/include/batch.glsl): tokens of each sequence are
// contiguous; token_seq maps a token to its sequence, seqs[s] = {start, len, state slot, 0}.
#pragma once
#include <cstdint>

#include "vk/recorder.hpp"

namespace rwkv::ops {

struct BatchView {
  vk::BufferRange token_ids;  // [T] u32
  vk::BufferRange token_seq;  // [T] u32
  vk::BufferRange seqs;       // [S] uvec4
  uint32_t n_tokens;
  uint32_t n_seqs;
  uint32_t longest;  // the most tokens of one sequence (the host's count): the WKV's choice and steps
};

// Where one layer's part of the recurrent state lives: slot s starts at s * stride floats.
struct StateView {
  vk::BufferRange buffer;
  uint32_t offset;  // floats from a slot's start to the vector or matrix in question
  uint32_t stride;  // floats per slot
};

// f32 parameter rows [*, C] (norm weights, mus, biases...), all in one buffer.
struct VectorTable {
  vk::BufferRange buffer;
  uint32_t C;
};

}  // namespace rwkv::ops
