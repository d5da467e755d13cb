// Pooling of embeddings on the GPU: per-sequence sums of rows that build up over a call's chunks
// (shaders/pool_rows.comp), then the finish (shaders/pool_finish.comp): "state" pooling from the
// recurrent state, the mean's scale, normalization. Only [sequences, C] comes back to the host.
#pragma once
#include <cstdint>

#include "layouts.h"
#include "vk/recorder.hpp"

namespace rwkv::ops {

// One sequence's rows of a chunk: rows [first, first + count) of `rows` add to row `dest` of `pooled`
// (shaders/include/layouts.h, shared with pool_rows.comp).
using PoolPiece = gpu::PoolPiece;

// pooled[piece.dest, :] += the sum of the piece's rows of `rows` ([*, C]), for the n_pieces pieces
// in `pieces` (host-visible PoolPiece entries: distinct `dest` rows, rows and outs in range; the
// caller builds them, a shader cannot raise errors).
void pool_rows(vk::Recorder& rec, const vk::BufferRange& rows, const vk::BufferRange& pieces, uint32_t n_pieces,
               uint32_t C, const vk::BufferRange& pooled);

// One sequence for pool_finish: its state slot and its token count (layouts.h).
using PoolSeq = gpu::PoolSeq;

// What pool_finish does (layouts.h: the push block itself): the state layout for "state" pooling,
// and the from_state / mean / normalize flags (0 or 1).
using PoolFinish = gpu::PoolFinishPush;

// Finishes the n_seqs rows of `pooled` ([n_seqs, C]; `seqs`: host-visible PoolSeq entries with
// slots inside `state` and tokens > 0 where `mean`), as `f` says.
void pool_finish(vk::Recorder& rec, const vk::BufferRange& state, const vk::BufferRange& seqs, uint32_t n_seqs,
                 const PoolFinish& f, const vk::BufferRange& pooled);

}  // namespace rwkv::ops
