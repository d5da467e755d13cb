// Pooling of embedding rows on the GPU (shaders/pool_rows.comp): per-sequence sums that build up
// over a call's chunks, so that only [sequences, C] comes back to the host.
#pragma once
#include <cstdint>

#include "vk/recorder.hpp"

namespace rwkv::ops {

// One sequence's rows of a chunk: rows [first, first + count) of `rows` add to row `out` of `pooled`.
struct PoolPiece {
  uint32_t first, count, out, unused;
};
static_assert(sizeof(PoolPiece) == 16);

// pooled[piece.out, :] += the sum of the piece's rows of `rows` ([*, C]), for the n_pieces pieces
// in `pieces` (host-visible PoolPiece entries: distinct `out` rows, rows and outs in range; the
// caller builds them, a shader cannot raise errors).
void pool_rows(vk::Recorder& rec, const vk::BufferRange& rows, const vk::BufferRange& pieces, uint32_t n_pieces,
               uint32_t C, const vk::BufferRange& pooled);

}  // namespace rwkv::ops
