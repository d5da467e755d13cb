#include "ops/matmul.hpp"

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "ops/weight_variant.hpp"

namespace rwkv::ops {
namespace {

constexpr uint32_t k_max_groups = 4;
// matmul.comp BATCHED, for 2 .. k_batched_max_tokens tokens (decode batches): up to 16 tokens per
// workgroup (32 was slower: 188 ms instead of 100 for the step below). Beyond that, 64 x 64 tiles;
// on the H200 (2.9B F16, a decode step of 64 sequences) the tiles took 108 ms (too few
// workgroups), MATVEC with 8 tokens per workgroup 157 ms.
constexpr uint32_t k_batched_tokens = 16;
constexpr uint32_t k_batched_max_tokens = 64;
// matmul.comp MATVEC: on GPUs each row of a wide matrix (k >= 1024) is taken by 4 subgroups (at
// most 128 invocations), so that few rows still fill the GPU; narrow ones (the LoRA up
// projections) get one subgroup per row. CPU devices (lavapipe) pay per workgroup, not per idle
// lane: one subgroup per row, 16 rows per workgroup.
constexpr uint32_t k_tile = 64;           // matmul.comp TILED: 64 x 64 outputs per workgroup

struct GroupPush {
  uint32_t m, k, w_offset, x_offset, y_offset, y_stride, act_in;
};
struct Push {
  uint32_t T, act_out, accumulate, n_groups;
  GroupPush groups[k_max_groups];
};
static_assert(sizeof(Push) == 128, "the minimum maxPushConstantsSize every device has");

// One product over a row range of its matrix: what one GroupPush describes.
struct Piece {
  const MatmulGroup* g;
  uint32_t row_begin, row_count;
};

uint32_t float_offset(const vk::BufferRange& r, const char* what) {
  if (r.offset % 4) throw InvalidArgument(std::string("[matmul] ") + what + " offset is not float-aligned");
  return uint32_t(r.offset / 4);
}

void dispatch(vk::Recorder& rec, std::span<const Piece> pieces, uint32_t T, const MatmulOptions& opt) {
  const auto& info = rec.device().info();
  const MatmulGroup& first = *pieces.front().g;
  enum class Kind { Matvec, Batched, Tiled };
  const Kind kind = T <= 1 ? Kind::Matvec : T <= k_batched_max_tokens ? Kind::Batched : Kind::Tiled;
  const auto& variants = kind == Kind::Matvec    ? std::span<const WeightVariant>(k_matvec_variants)
                         : kind == Kind::Batched ? std::span<const WeightVariant>(k_matmul_batched_variants)
                                                 : std::span<const WeightVariant>(k_matmul_tiled_variants);
  const ShaderId shader = weight_variant(variants, first.w->type, "matmul");
  const bool cpu = info.type == "cpu";
  uint32_t max_k = 0;
  for (const auto& p : pieces) max_k = std::max(max_k, p.g->w->cols);
  const uint32_t per_row = cpu || max_k < 1024 ? info.subgroup_size : std::min(128u, 4 * info.subgroup_size);
  const uint32_t matvec_rows = cpu ? 16 : std::max(1u, 128 / per_row);
  // BATCHED: one subgroup per row, 256 invocations where the device allows; its staged inputs
  // take tokens x subgroup x 32 bytes of shared memory (16 KiB at 16 x 32: Vulkan's minimum).
  // Tokens per workgroup are a specialization constant, so per-token arrays stay in registers.
  const uint32_t batched_group = std::min(256u, info.max_workgroup_invocations) / info.subgroup_size * info.subgroup_size;
  const uint32_t batched_rows = batched_group / info.subgroup_size;
  uint32_t batched_tokens = std::min(T, k_batched_tokens);
  while (batched_tokens > 1 && batched_tokens * info.subgroup_size * 32 > info.max_compute_shared_memory_size) --batched_tokens;
  const auto& pipeline =
      kind == Kind::Matvec    ? rec.device().pipeline({shader, 3, sizeof(Push), {per_row * matvec_rows, matvec_rows}})
      : kind == Kind::Batched ? rec.device().pipeline({shader, 3, sizeof(Push),
                                                       {batched_group, info.subgroup_size, batched_tokens}})
                              : rec.device().pipeline({shader, 3, sizeof(Push), {256}});
  // The weight binding spans the pieces' rows, starting at an aligned offset.
  const uint64_t align = info.min_storage_buffer_offset_alignment;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& p : pieces) {
    const uint64_t start = p.g->w->data.offset + p.row_begin * p.g->w->row_bytes();
    lo = std::min(lo, start);
    hi = std::max(hi, start + p.row_count * p.g->w->row_bytes());
  }
  lo = lo / align * align;
  Push push{T, uint32_t(opt.act_out), opt.accumulate ? 1u : 0u, uint32_t(pieces.size()), {}};
  uint32_t max_rows = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const auto& p = pieces[i];
    const Matrix& w = *p.g->w;
    push.groups[i] = {p.row_count,
                      w.cols,
                      uint32_t(w.data.offset + p.row_begin * w.row_bytes() - lo),
                      float_offset(p.g->x, "x"),
                      float_offset(p.g->y, "y") + p.row_begin,
                      w.rows,
                      uint32_t(p.g->act_in)};
    max_rows = std::max(max_rows, p.row_count);
  }
  const uint32_t rows_per_group = kind == Kind::Matvec ? matvec_rows : kind == Kind::Batched ? batched_rows : k_tile;
  const uint32_t tokens_per_group = kind == Kind::Matvec ? 1 : kind == Kind::Batched ? batched_tokens : k_tile;
  const uint32_t gx = (max_rows + rows_per_group - 1) / rows_per_group;
  const uint32_t gy = (T + tokens_per_group - 1) / tokens_per_group;
  const vk::BufferRange weights{first.w->data.buffer, lo, hi - lo};
  // X and Y are bound whole; offsets travel in the push block.
  const vk::BufferRange x{first.x.buffer}, y{first.y.buffer};
  rec.dispatch(pipeline, {vk::reads(weights), vk::reads(x), opt.accumulate ? vk::updates(y) : vk::writes(y)}, push,
               {gx, gy, uint32_t(pieces.size())});
}

}  // namespace

void matmul(vk::Recorder& rec, std::span<const MatmulGroup> groups, uint32_t n_tokens, MatmulOptions options) {
  if (n_tokens == 0 || groups.empty()) return;
  const auto& info = rec.device().info();
  const uint64_t range = info.max_storage_buffer_range;
  std::vector<Piece> pieces;
  for (const auto& g : groups) {
    const Matrix& w = *g.w;
    if (g.x.bytes() < uint64_t(n_tokens) * w.cols * 4 || g.y.bytes() < uint64_t(n_tokens) * w.rows * 4)
      throw InvalidArgument("[matmul] x or y smaller than [" + std::to_string(n_tokens) + " tokens, " +
                            std::to_string(w.cols) + " -> " + std::to_string(w.rows) + "]");
    if (g.x.buffer->size() > range || g.y.buffer->size() > range)
      throw InvalidArgument("[matmul] activation buffers must fit maxStorageBufferRange");
    // Rows per chunk so that a chunk's bytes (plus alignment slack) fit in one binding.
    const uint64_t slack = info.min_storage_buffer_offset_alignment;
    const uint64_t chunk = std::max<uint64_t>(1, (range - slack) / w.row_bytes());
    for (uint64_t r = 0; r < w.rows; r += chunk)
      pieces.push_back({&g, uint32_t(r), uint32_t(std::min<uint64_t>(chunk, w.rows - r))});
  }
  // Consecutive pieces that can share one dispatch.
  size_t begin = 0;
  while (begin < pieces.size()) {
    size_t end = begin + 1;
    const MatmulGroup& a = *pieces[begin].g;
    uint64_t lo = a.w->data.offset + pieces[begin].row_begin * a.w->row_bytes();
    uint64_t hi = lo + pieces[begin].row_count * a.w->row_bytes();
    while (end < pieces.size() && end - begin < k_max_groups) {
      const MatmulGroup& b = *pieces[end].g;
      const uint64_t b_lo = b.w->data.offset + pieces[end].row_begin * b.w->row_bytes();
      const uint64_t b_hi = b_lo + pieces[end].row_count * b.w->row_bytes();
      const bool same = b.w->data.buffer == a.w->data.buffer && b.w->type == a.w->type &&
                        b.x.buffer == a.x.buffer && b.y.buffer == a.y.buffer;
      if (!same || std::max(hi, b_hi) - std::min(lo, b_lo) + info.min_storage_buffer_offset_alignment > range) break;
      lo = std::min(lo, b_lo);
      hi = std::max(hi, b_hi);
      ++end;
    }
    dispatch(rec, std::span(pieces).subspan(begin, end - begin), n_tokens, options);
    begin = end;
  }
}

}  // namespace rwkv::ops
