#include "ops/pool.hpp"

#include <string>

namespace rwkv::ops {
namespace {

constexpr uint32_t k_workgroup = 256;

struct Push {
  uint32_t C, n_pieces;
};
static_assert(sizeof(Push) == 8);

}  // namespace

void pool_rows(vk::Recorder& rec, const vk::BufferRange& rows, const vk::BufferRange& pieces, uint32_t n_pieces,
               uint32_t C, const vk::BufferRange& pooled) {
  if (n_pieces == 0) return;
  if (pieces.bytes() < uint64_t(n_pieces) * sizeof(PoolPiece))
    throw InvalidArgument("[pool_rows] the pieces buffer holds fewer than " + std::to_string(n_pieces) + " pieces");
  const auto& pipeline = rec.device().pipeline({ShaderId::pool_rows, 3, sizeof(Push), {k_workgroup}});
  rec.dispatch(pipeline, {vk::reads(rows), vk::reads(pieces), vk::updates(pooled)}, Push{C, n_pieces}, {n_pieces, 1, 1});
}

}  // namespace rwkv::ops
