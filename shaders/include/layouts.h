// Buffer and push-constant layouts shared by the shaders and the host: one definition of each,
// included by both (the GLSL shaders through GL_GOOGLE_include_directive, C++ as rwkv::gpu::*,
// with GLSL's `uint` as uint32_t). Every member is a 4-byte scalar, so std430 and C++ lay the
// structs out alike; the host's static_asserts check their sizes at build time.
#ifndef RWKV_LAYOUTS_H
#define RWKV_LAYOUTS_H

#ifdef __cplusplus
#include <cstdint>
namespace rwkv::gpu {
using uint = uint32_t;
#endif

// One sequence of a token batch (batch.glsl): its tokens are contiguous from `start`.
struct Sequence {
  uint start;  // first token of the sequence in this batch
  uint len;    // its token count
  uint slot;   // its state slot
  uint pad;
};

// One row to sample (sample.comp).
struct SampleRow {
  uint logits_row;
  uint slot;          // penalty memory slot
  float temperature;  // 0: greedy
  float top_p;        // >= 1: off
  uint top_k;         // 0: off
  float presence;
  float frequency;
  float decay;
  uint seed_lo, seed_hi;
  uint counter;       // tokens this sequence drew before: the draw's position in its random stream
  uint penalize;      // presence or frequency is nonzero
};

// pool_rows.comp: rows [first, first + count) add to row `dest` of the pooled rows.
struct PoolPiece {
  uint first, count, dest, unused;
};

// pool_finish.comp: a sequence's state slot and token count, and the push block.
struct PoolSeq {
  uint slot, tokens;
};
struct PoolFinishPush {
  uint C;
  uint head_size;    // N
  uint wkv_offset;   // floats from a slot's start to the last layer's wkv [H, N, N]
  uint slot_floats;  // floats per slot
  uint from_state;   // 1: "state" pooling
  uint mean;         // 1: scale by 1 / tokens
  uint normalize;    // 1: divide by max(L2 norm, 1e-12)
};

#ifdef __cplusplus
static_assert(sizeof(Sequence) == 16 && sizeof(SampleRow) == 48 && sizeof(PoolPiece) == 16 && sizeof(PoolSeq) == 8 &&
              sizeof(PoolFinishPush) == 28);
}  // namespace rwkv::gpu
#endif

#endif
