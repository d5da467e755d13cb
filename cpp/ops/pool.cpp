#include "ops/pool.hpp"

#include <string>

namespace rwkv::ops {
namespace {

constexpr uint32_t k_workgroup = 256;

using Push = gpu::PoolRowsPush;  // shaders/include/layouts.h

}  // namespace

void pool_rows(vk::Recorder& rec, const vk::BufferRange& rows, const vk::BufferRange& pieces, uint32_t n_pieces,
               uint32_t C, const vk::BufferRange& pooled) {
  if (n_pieces == 0) return;
  if (pieces.bytes() < uint64_t(n_pieces) * sizeof(PoolPiece))
    throw InvalidArgument("[pool_rows] the pieces buffer holds fewer than " + std::to_string(n_pieces) + " pieces");
  const auto& pipeline = rec.device().pipeline({ShaderId::pool_rows, 3, sizeof(Push), {k_workgroup}});
  rec.dispatch(pipeline, {vk::reads(rows), vk::reads(pieces), vk::updates(pooled)}, Push{C, n_pieces}, {n_pieces, 1, 1});
}

void pool_finish(vk::Recorder& rec, const vk::BufferRange& state, const vk::BufferRange& seqs, uint32_t n_seqs,
                 const PoolFinish& f, const vk::BufferRange& pooled) {
  if (n_seqs == 0 || (!f.from_state && !f.mean && !f.normalize)) return;
  if (seqs.bytes() < uint64_t(n_seqs) * sizeof(PoolSeq) || pooled.bytes() < uint64_t(n_seqs) * f.C * 4)
    throw InvalidArgument("[pool_finish] the sequence table or the pooled rows hold fewer than " + std::to_string(n_seqs) + " sequences");
  if (f.from_state && (f.head_size == 0 || f.C % f.head_size || f.wkv_offset + uint64_t(f.C) * f.head_size > f.slot_floats))
    throw InvalidArgument("[pool_finish] the wkv state does not fit the slot layout");
  const auto& pipeline = rec.device().pipeline({ShaderId::pool_finish, 3, sizeof(PoolFinish), {k_workgroup}});
  rec.dispatch(pipeline, {vk::reads(state), vk::reads(seqs), vk::updates(pooled)}, f, {n_seqs, 1, 1});
}

}  // namespace rwkv::ops
