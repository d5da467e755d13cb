#include "ops/matmul.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "ops/weight_variant.hpp"
#include "layouts.h"

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
constexpr uint32_t k_tile = 64;  // matmul.comp TILED: 64 x 64 outputs per workgroup

// Which kernel runs a product: the first rule that holds (tensor_cores: precision Fast on a device
// with cooperative matrices). Measured on the H200 (docs/benchmarks.md, 2026-11-30, the 2.9B
// products r/k/v 2560x2560x3, FFN key 10240x2560, value 2560x10240, GPU ms of one product,
// BATCHED / COOPMAT): T = 2: 0.035 / 0.050, 0.042 / 0.076, 0.063 / 0.072; T = 4: 0.053 / 0.052,
// 0.063 / 0.077, 0.082 / 0.073; T = 8: 0.088 / 0.054, 0.094 / 0.077, 0.145 / 0.075; T = 16: 0.172 /
// 0.057, 0.226 / 0.080, 0.233 / 0.078; T = 32: 0.30 / 0.060, 0.41 / 0.083, 0.46 / 0.079. (On
// 2026-11-29 the first COOPMAT version lost up to 32 tokens; it is 3-5x faster since.)
struct KernelRule {
  MatmulKernel kernel;
  uint32_t min_tokens, max_tokens;
  bool needs_tensor_cores;
};
constexpr KernelRule k_kernel_rules[] = {
    {MatmulKernel::Matvec, 1, 1, false},
    {MatmulKernel::Batched, 2, 7, false},
    {MatmulKernel::Coopmat, 8, UINT32_MAX, true},
    {MatmulKernel::Batched, 8, k_batched_max_tokens, false},
    {MatmulKernel::Tiled, k_batched_max_tokens + 1, UINT32_MAX, false},
};
// The cooperative-matrix tile for up to max_tokens tokens: the first row that holds. Measured on
// the H200 (docs/benchmarks.md, 2026-11-29, benchmarks/device_matmul.sh: the 2.9B model's products
// r/k/v 2560x2560x3, FFN key 10240x2560, FFN value 2560x10240, output 2560x2560; the same call):
// at 64 tokens 64x64x32x32x64x2 38 / 38 / 39 / 27 TFLOP/s; at 164 128x128x64x64x32 47 / 48 / 46 /
// 42, at 512 100 / 82 / 81 / 59. Tried since at 164 / 512 / 4096 tokens, all slower: 8 subgroups
// (128x128x32x64, 128x128x64x32, 128x128x64x64x32x2, 256x128x64x64; 128x256x64x64 nearly as
// fast), BK 48 and 64 (2-3x slower; with the shader's clamped loads still 1.4-2x slower on the
// H100, 2026-12-07). The 128x128 tile holds 219 registers per invocation there: two workgroups per SM.
// Why the wider steps and double-buffered tiles lose: padding this tile's 20 KB of shared memory
// to 31 KB made it 1.4-1.6x slower (H100, 2026-12-07), as slow as at 40 KB: the driver then keeps
// one workgroup per SM. So does a second register set for the loads (246 registers).
// Between calls the same kernel varied up to 2x (other machines); compare within one call.
struct CoopmatTileRule {
  uint32_t max_tokens;
  CoopmatTile tile;
};
// Rows from the smallest tile to the largest: where a row's tile leaves compute units without a
// workgroup (fewer tiles times k splits than units), the row before it runs the product instead.
// Measured on the H100 (docs/benchmarks.md, 2026-12-07, the 0.1B products at 164 tokens, us, the
// 128x128 tile / 64x64): r/k/v 768x768x3 52.5 / 24.4 (36 workgroups of 128x128 on 132 SMs), FFN
// key 3072x768 52.9 / 30.5 (48), FFN value 768x3072 44.6 / 29.6 (72 with 6 splits); at 512 tokens
// the 128x128 tile keeps value (144 workgroups: 53.1 / 63.5) and r/k/v and key move to 64x64
// (72 and 96 workgroups: 53.4 / 54.8 and 52.1 / 54.6); the 2.9B products fill the units with
// 128x128 tiles from 97 tokens on.
constexpr CoopmatTileRule k_coopmat_tiles[] = {
    {96, {64, 64, 32, 32, 64, 2, 0, 0}},
    {UINT32_MAX, {128, 128, 64, 64, 32, 1, 0, 2}},
};
// Products of few rows over a long k (the LoRA down-projections: four groups of 64-320 rows over
// n_embd) take their own tile with a fixed split count, before the token rows above: the first
// row whose bounds hold. Measured on the H100 (docs/benchmarks.md, 2026-12-07, "The host's
// recording beside the GPU": four groups of 144 rows x 2,560, GPU us, the token rows' tile /
// 64x64x32x32x32 with 8 splits): F32 weights 34.6 / 28.6 at 164 tokens, 93.2 / 66.9 at 512; F16
// 33.0 / 27.7 and 66.0 / 64.0. Longer prompts were not measured (the token rows keep them).
struct NarrowTileRule {
  uint32_t max_rows, min_k, min_tokens, max_tokens;  // rows: of all the dispatch's groups together
  CoopmatTile tile;
};
constexpr NarrowTileRule k_narrow_tiles[] = {
    {640, 2048, 97, 512, {64, 64, 32, 32, 32, 1, 8, 0}},  // 576 rows at 2.9B; not the 0.1B FFN value (768)
};

const CoopmatTile* narrow_tile(uint32_t n_tokens, std::span<const ProductShape> groups) {
  if (groups.empty()) return nullptr;
  uint64_t rows = 0;
  uint32_t min_k = UINT32_MAX;
  for (const auto& g : groups) rows += g.rows, min_k = std::min(min_k, g.cols);
  for (const auto& r : k_narrow_tiles)
    if (rows <= r.max_rows && min_k >= r.min_k && n_tokens >= r.min_tokens && n_tokens <= r.max_tokens) return &r.tile;
  return nullptr;
}

// Split k (tile sk 0), each split at least k_split_min_k of k and at most k_split_max of them.
// Where the device's compute units and the tile's resident workgroups are known, the split that
// makes the product shortest in a model of waves: time ~ ceil(workgroups / slots) * k / sk, plus
// the partial sums (sk * T * rows floats written and added back), each k_split_sum_floats of which
// cost about one unit of k of a wave; a split is taken only when it saves k_split_gain of the best
// so far. Fitted on the H200 (same call, 2.9B F16, 128x128 tiles on 2 x 132 slots): k units cost
// 60 ns a wave, 2 splits of FFN key at 512 tokens added 0.05 ms of sums for 10.5 M floats; the
// model picks 1 / 2 / 3 splits for r/k/v, key, value at 512 tokens (measured best 1 / 2 / 2 of
// the 1, 2, 4 timed: 0.166 / 0.283 / 0.300 ms against the workgroup-count rule's 0.199 / 0.316 /
// 0.323) and 2 / 3 / 6 at 164 (timed: r/k/v best at 2 of 1, 2, 3; key 1 better than 2).
// Elsewhere: as many splits as bring the workgroups to k_split_workgroups.
constexpr uint32_t k_split_workgroups = 256, k_split_min_k = 512, k_split_max = 8;
constexpr double k_split_sum_floats = 15000, k_split_gain = 0.10;

uint32_t split_k(uint64_t tiles, uint32_t k, uint64_t sum_floats_per_split, uint64_t slots) {
  if (slots == 0) {
    const uint64_t wanted = (k_split_workgroups + tiles - 1) / std::max<uint64_t>(tiles, 1);
    return uint32_t(std::clamp<uint64_t>(std::min<uint64_t>(wanted, k / k_split_min_k), 1, k_split_max));
  }
  const auto waves = [&](uint32_t sk) { return double((tiles * sk + slots - 1) / slots); };
  uint32_t best_sk = 1;
  double best = waves(1) * k;
  for (uint32_t sk = 2; sk <= k_split_max && k / sk >= k_split_min_k; ++sk) {
    const double cost = waves(sk) * ((k + sk - 1) / sk) + double(sk * sum_floats_per_split) / k_split_sum_floats;
    if (cost < best * (1 - k_split_gain)) best = cost, best_sk = sk;
  }
  return best_sk;
}

// The push blocks (shaders/include/layouts.h).
using GroupPush = gpu::MatmulPushGroup;
using Push = gpu::MatmulPush;
static_assert(sizeof(Push) == 128 && std::size(Push{}.groups) == k_max_groups, "the minimum maxPushConstantsSize every device has");

using HalfPush = gpu::HalfInputsPush;  // matmul_x16.comp's

uint32_t half_quads(uint32_t k) { return (k + 7) / 8; }  // uvec4s (8 halves) per row of X16

// Block-quantized weights of a product over at least k_w16_min_tokens tokens are converted to
// fp16 first (matmul_w16.comp), as llama.cpp's CUDA backend converts them for cuBLAS on large
// batches: the product's loads then wait for no dequantization before its tensor-core steps. At
// most k_w16_max_bytes of fp16 weights per dispatch (the output head stays as it is). Measured: docs/benchmarks.md.
constexpr uint32_t k_w16_min_tokens = 128;
constexpr uint64_t k_w16_max_bytes = 128ull << 20;

bool block_quantized(gguf::GgmlType t) { return gguf::traits(t).block_elements > 1; }

// What a tensor-core product needs besides its operands: the k splits (the rule's, unless the
// tile gives them), the fp16 copy of X, the partial sums and the fp16 weights, in one scratch, each
// from a 256-byte boundary (a binding offset every device accepts).
struct CoopmatPlan {
  uint32_t sk;
  uint64_t x16_bytes, partial_bytes, w16_bytes = 0;
  uint64_t workgroups = 0;  // tiles times k splits
  static uint64_t aligned(uint64_t b) { return (b + 255) / 256 * 256; }
  uint64_t partial_offset() const { return aligned(x16_bytes); }
  uint64_t w16_offset() const { return aligned(partial_offset() + partial_bytes); }
  uint64_t bytes() const { return w16_bytes ? w16_offset() + w16_bytes : partial_offset() + partial_bytes; }
};

CoopmatPlan coopmat_plan(const CoopmatTile& tile, uint32_t T, std::span<const ProductShape> groups, uint32_t compute_units) {
  uint64_t tiles = 0, quads = 0, rows = 0, w16 = 0;
  uint32_t min_k = UINT32_MAX;
  bool quantized = true;
  for (const auto& g : groups) {
    tiles += uint64_t((g.rows + tile.br - 1) / tile.br) * ((T + tile.bt - 1) / tile.bt);
    quads += half_quads(g.cols);
    rows += g.rows;
    w16 += uint64_t(g.rows) * g.cols * 2;
    min_k = std::min(min_k, g.cols);
    quantized = quantized && block_quantized(g.type);
  }
  const uint32_t sk = tile.sk ? tile.sk : split_k(tiles, min_k, uint64_t(T) * rows, uint64_t(compute_units) * tile.resident);
  const bool converts = quantized && T >= k_w16_min_tokens && w16 <= k_w16_max_bytes;
  return {sk, std::max<uint64_t>(quads * T * 16, 16), sk > 1 ? uint64_t(sk) * T * rows * 4 : 0, converts ? w16 : 0, tiles * sk};
}

// One product over a row range of its matrix: what one GroupPush describes.
struct Piece {
  const MatmulGroup* g;
  uint32_t row_begin, row_count;
};

uint32_t float_offset(const vk::BufferRange& r, const char* what) {
  if (r.offset % 4) throw InvalidArgument(std::string("[matmul] ") + what + " offset is not float-aligned");
  return uint32_t(r.offset / 4);
}

CoopmatTile parse_tile(const std::string& s) {
  CoopmatTile t{};
  char tail = 0;
  const int n = std::sscanf(s.c_str(), "%ux%ux%ux%ux%ux%ux%u%c", &t.br, &t.bt, &t.wr, &t.wt, &t.bk, &t.ks, &t.sk, &tail);
  if (n <= 4) t.bk = 32;
  if (n <= 5) t.ks = 1;
  if (n <= 6) t.sk = 0;
  if (n < 4 || n > 7 || !t.wr || !t.wt || !t.bk || !t.ks || t.br % t.wr || t.bt % t.wt || t.wr % 16 || t.wt % 16 ||
      t.bk % 16 || t.sk > 64)
    throw InvalidArgument("RWKV_GPU_MATMUL: coopmat tile '" + s +
                          "' is not BRxBTxWRxWT[xBK[xKS[xSK]]] with WR, WT multiples of 16 dividing BR, BT, BK a multiple of "
                          "16, KS >= 1 and SK <= 64 (0: the rule)");
  return t;
}

// The pipeline for a kernel and its workgroup grid over (rows, tokens).
struct Launch {
  const vk::Pipeline* pipeline;
  uint32_t rows_per_group, tokens_per_group;
};

// The shape of a one-token product on GPUs: the first row whose weight type (none: every type)
// and min_k the product matches. An invocation issues up to `steps` chunks of 8 weights a
// step (all of k in one step at 128 invocations, 2 steps and k 2,048: those past k are skipped).
// Measured on the H100 (docs/benchmarks.md, GPU us): 2026-12-07, 128 / 256 invocations: F16 r/k/v
// 2560x2560x3 22.9 / 25.2, FFN key 10240x2560 31.0 / 35.1, FFN value 2560x10240 34.5 / 30.6; Q4_K
// the same order (28.4 / 30.5, 35.9 / 39.0, 37.3 / 36.1). 2026-12-08, two rows an invocation
// (each chunk of X loaded once for both): Q8_0 r/k/v 22.9 -> 20.0 (128x2x2), FFN key 29.2 -> 25.1
// (128x2x2), FFN value 28.9 -> 24.8 (256x1x2); F16 and Q4_K gained at some shapes and lost at
// others (kept at one row). Below 1,024 of k (the LoRA up-projections) one subgroup.
struct MatvecRule {
  std::optional<gguf::GgmlType> type;
  uint32_t min_k;
  MatvecShape shape;
};
constexpr MatvecRule k_matvec_rules[] = {
    {gguf::GgmlType::Q8_0, 8192, {256, 1, 2}},
    {gguf::GgmlType::Q8_0, 1024, {128, 2, 2}},
    {std::nullopt, 8192, {256, 2, 1}},
    {std::nullopt, 1024, {128, 2, 1}},
    {std::nullopt, 0, {32, 2, 1}},
};

}  // namespace

MatvecShape matvec_shape(const vk::DeviceInfo& device, gguf::GgmlType type, uint32_t max_k) {
  const uint32_t sg = std::max(1u, device.subgroup_size);
  if (device.type == "cpu") return {sg, 2, 1};
  MatvecShape shape{};
  for (const auto& r : k_matvec_rules)
    if ((!r.type || *r.type == type) && max_k >= r.min_k) {
      shape = r.shape;
      break;
    }
  shape.lanes = std::max(sg, std::min(shape.lanes, device.max_workgroup_invocations) / sg * sg);
  return shape;
}

namespace {

Launch launch(vk::Device& device, const MatmulChoice& choice, gguf::GgmlType type, uint32_t T, uint32_t max_k) {
  const auto& info = device.info();
  const bool cpu = info.type == "cpu";
  switch (choice.kernel) {
    case MatmulKernel::Matvec: {
      auto [per_row, steps, rpi] = matvec_shape(info, type, max_k);
      if (const char* forced = std::getenv("RWKV_GPU_MATVEC")) {  // benchmarks: LANES[xSTEPS[xRPI]]
        const int n = std::sscanf(forced, "%ux%ux%u", &per_row, &steps, &rpi);
        if (n < 1 || per_row == 0 || per_row % info.subgroup_size || per_row > info.max_workgroup_invocations || steps == 0 ||
            steps > 8 || rpi == 0 || rpi > MATVEC_MAX_RPI)
          throw InvalidArgument(std::string("RWKV_GPU_MATVEC='") + forced +
                                "': expected LANES[xSTEPS[xRPI]], LANES a multiple of the subgroup size, STEPS 1 to 8, RPI 1 to " +
                                std::to_string(MATVEC_MAX_RPI));
      }
      const uint32_t rows = cpu ? 16 : std::max(1u, 128 / per_row);
      const ShaderId shader = weight_variant(k_matvec_variants, type, "matmul");
      return {&device.pipeline({shader, 3, sizeof(Push), {per_row * rows, rows, steps, rpi}}), rows * rpi, 1};
    }
    case MatmulKernel::Batched: {
      // One subgroup per row, 256 invocations where the device allows; its staged inputs take
      // tokens x subgroup x 32 bytes of shared memory (16 KiB at 16 x 32: Vulkan's minimum).
      // Tokens per workgroup are a specialization constant, so per-token arrays stay in registers.
      const uint32_t group = std::min(256u, info.max_workgroup_invocations) / info.subgroup_size * info.subgroup_size;
      uint32_t tokens = std::min(T, k_batched_tokens);
      while (tokens > 1 && tokens * info.subgroup_size * 32 > info.max_compute_shared_memory_size) --tokens;
      const ShaderId shader = weight_variant(k_matmul_batched_variants, type, "matmul");
      return {&device.pipeline({shader, 3, sizeof(Push), {group, info.subgroup_size, tokens}}), group / info.subgroup_size, tokens};
    }
    case MatmulKernel::Tiled: {
      const ShaderId shader = weight_variant(k_matmul_tiled_variants, type, "matmul");
      return {&device.pipeline({shader, 3, sizeof(Push), {256}}), k_tile, k_tile};
    }
    case MatmulKernel::Coopmat: {
      const CoopmatTile& t = choice.tile;
      const uint32_t group = (t.br / t.wr) * (t.bt / t.wt) * t.ks * info.subgroup_size, bks = t.bk * t.ks;
      // matmul_coopmat.comp's shared memory: fp16 tiles of BK * KS + 8 halves per row, or where
      // more, the epilogue's staging in the same memory, 1 KiB per subgroup.
      const uint32_t shared = std::max((t.br + t.bt) * (bks + 8) * 2, group / info.subgroup_size * 1024);
      // Register arrays of the shader (MAX_* there): chunks of 8 weights and of 8 inputs per
      // invocation and step, 16x16 accumulators per subgroup.
      const bool fits = t.br * bks / 8 <= 8 * group && t.bt * bks / 8 <= 8 * group && t.wt <= 64 && t.wr <= 64;
      if (!fits || group > info.max_workgroup_invocations || shared > info.max_compute_shared_memory_size)
        throw InvalidArgument("[matmul] coopmat tile " + std::to_string(t.br) + "x" + std::to_string(t.bt) + "x" +
                              std::to_string(t.wr) + "x" + std::to_string(t.wt) + "x" + std::to_string(t.bk) + "x" +
                              std::to_string(t.ks) + " exceeds the device's workgroup limits");
      const ShaderId shader = weight_variant(k_matmul_coopmat_variants, type, "matmul");
      return {&device.pipeline({shader, 3, sizeof(Push), {group, t.br, t.bt, t.wr, t.wt, t.bk, t.ks, std::max(t.sk, 1u)}}), t.br, t.bt};
    }
  }
  throw InvalidArgument("[matmul] unknown kernel");
}

void dispatch(vk::Recorder& rec, std::span<const Piece> pieces, uint32_t T, const MatmulOptions& opt) {
  const auto& info = rec.device().info();
  const MatmulGroup& first = *pieces.front().g;
  uint32_t max_k = 0;
  std::vector<ProductShape> shapes;
  for (const auto& p : pieces) max_k = std::max(max_k, p.g->w->cols), shapes.push_back({p.row_count, p.g->w->cols, p.g->w->type});
  const char* forced = std::getenv("RWKV_GPU_MATMUL");
  MatmulChoice choice = choose_matmul(info, T, opt.precision, forced ? forced : "", shapes);
  const bool coopmat = choice.kernel == MatmulKernel::Coopmat;
  if (first.x_half && !coopmat) throw InvalidArgument("[matmul] fp16 X needs the tensor-core kernel (matmul_takes_half_inputs)");
  const CoopmatPlan plan = coopmat ? coopmat_plan(choice.tile, T, shapes, info.compute_units) : CoopmatPlan{1, 0, 0};
  choice.tile.sk = plan.sk;
  const Launch l = launch(rec.device(), choice, plan.w16_bytes ? gguf::GgmlType::F16 : first.w->type, T, max_k);
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
                      uint32_t(p.g->act_in) | uint32_t(uint8_t(p.g->x_shift)) << 8};
    max_rows = std::max(max_rows, p.row_count);
  }
  const uint32_t gx = (max_rows + l.rows_per_group - 1) / l.rows_per_group;
  const uint32_t gy = (T + l.tokens_per_group - 1) / l.tokens_per_group;
  const uint32_t n = uint32_t(pieces.size());
  vk::BufferRange weights{first.w->data.buffer, lo, hi - lo};
  // X and Y are bound whole; offsets travel in the push block.
  const vk::BufferRange x{first.x.buffer}, y{first.y.buffer};
  const vk::Binding out = opt.accumulate ? vk::updates(y) : vk::writes(y);
  if (!coopmat) {
    rec.dispatch(*l.pipeline, {vk::reads(weights), vk::reads(x), out}, push, {gx, gy, n});
    return;
  }
  // The tensor-core kernel: X in fp16 first, then the product (into Y, or into partial sums that
  // matmul_splitk.comp adds into Y), all in the scratch (or a buffer of the product's own).
  vk::BufferRange scratch = opt.scratch;
  if (!scratch.buffer || scratch.bytes() < plan.bytes() || scratch.offset % 256)
    scratch = {std::make_shared<vk::Buffer>(rec.device().shared_from_this(), plan.bytes(), vk::MemoryKind::Device)};
  vk::BufferRange x16{first.x.buffer};  // X in fp16 as its producer wrote it, or converted here
  if (first.x_half) {
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (pieces[i].g->x.offset % 16) throw InvalidArgument("[matmul] fp16 X must start on a 16-byte boundary");
      push.groups[i].x_offset = uint32_t(pieces[i].g->x.offset / 16);
    }
  } else {
    std::vector<MatmulGroup> groups;
    std::vector<uint32_t> offsets;
    for (size_t i = 0, at = 0; i < pieces.size(); at += uint64_t(T) * half_quads(shapes[i].cols), ++i) {
      groups.push_back(*pieces[i].g);
      offsets.push_back(uint32_t(scratch.offset / 16 + at));
      push.groups[i].x_offset = offsets.back();
    }
    matmul_half_inputs(rec, groups, T, {scratch.buffer}, offsets);
    x16 = {scratch.buffer, 0, scratch.offset + plan.x16_bytes};
  }
  if (plan.w16_bytes) {
    // The weights in fp16, each piece's rows after the last's; the product reads them as F16.
    std::vector<MatrixRows> parts;
    std::vector<uint32_t> w16_offsets;
    uint64_t at = 0;
    for (size_t i = 0; i < pieces.size(); ++i) {
      parts.push_back({pieces[i].g->w, pieces[i].row_begin, pieces[i].row_count});
      w16_offsets.push_back(uint32_t((scratch.offset + plan.w16_offset() + at) / 16));
      push.groups[i].w_offset = uint32_t(at);
      at += uint64_t(pieces[i].row_count) * pieces[i].g->w->cols * 2;
    }
    weights = {scratch.buffer, scratch.offset + plan.w16_offset(), plan.w16_bytes};
    matmul_half_weights(rec, parts, weights, w16_offsets);
  }
  if (plan.sk == 1) {
    rec.dispatch(*l.pipeline, {vk::reads(weights), vk::reads(x16), out}, push, {gx, gy, n});
    return;
  }
  const vk::BufferRange partials{scratch.buffer, scratch.offset + plan.partial_offset(), plan.partial_bytes};
  rec.dispatch(*l.pipeline, {vk::reads(weights), vk::reads(x16), vk::writes(partials)}, push, {gx, gy, n * plan.sk});
  const auto& add = rec.device().pipeline({ShaderId::matmul_splitk, 2, sizeof(Push), {plan.sk}});
  rec.dispatch(add, {vk::reads(partials), out}, push, {uint32_t((uint64_t(T) * max_rows + 255) / 256), 1, n});
}

}  // namespace

uint64_t matmul_scratch_bytes(const vk::DeviceInfo& device, Precision precision, uint32_t max_tokens,
                              std::span<const ProductShape> groups) {
  const char* forced = std::getenv("RWKV_GPU_MATMUL");
  uint64_t most = 0;
  // Every token count: fewer tokens can take more k splits (fewer tiles), hence more partial sums.
  for (uint32_t T = 1; T <= max_tokens; ++T) {
    // Dispatches as matmul() forms them: at most k_max_groups consecutive groups of one type.
    for (size_t i = 0, n = 0; i < groups.size(); i += n) {
      for (n = 1; i + n < groups.size() && n < k_max_groups && groups[i + n].type == groups[i].type;) ++n;
      const MatmulChoice choice = choose_matmul(device, T, precision, forced ? forced : "", groups.subspan(i, n));
      if (choice.kernel != MatmulKernel::Coopmat) break;  // the kernel depends on T alone
      most = std::max(most, coopmat_plan(choice.tile, T, groups.subspan(i, n), device.compute_units).bytes());
    }
  }
  return most;
}

uint32_t matmul_k_splits(const vk::DeviceInfo& device, uint32_t n_tokens, Precision precision, std::span<const ProductShape> groups) {
  const char* forced = std::getenv("RWKV_GPU_MATMUL");
  const MatmulChoice choice = choose_matmul(device, n_tokens, precision, forced ? forced : "", groups);
  return choice.kernel == MatmulKernel::Coopmat ? coopmat_plan(choice.tile, n_tokens, groups, device.compute_units).sk : 1;
}

uint64_t half_row_bytes(uint32_t k) { return uint64_t(half_quads(k)) * 16; }

bool matmul_takes_half_inputs(const vk::DeviceInfo& device, uint32_t n_tokens, Precision precision) {
  const char* forced = std::getenv("RWKV_GPU_MATMUL");
  return choose_matmul(device, n_tokens, precision, forced ? forced : "").kernel == MatmulKernel::Coopmat;
}

void matmul_half_inputs(vk::Recorder& rec, std::span<const MatmulGroup> groups, uint32_t n_tokens, const vk::BufferRange& out,
                        std::span<const uint32_t> offsets) {
  if (groups.empty() || groups.size() > k_max_groups || offsets.size() != groups.size())
    throw InvalidArgument("[matmul] 1 to 4 groups, one offset each");
  HalfPush push{n_tokens, 0, 0, 0, {}};
  uint64_t hi = 0, most = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    const MatmulGroup& g = groups[i];
    const uint64_t quads = uint64_t(n_tokens) * half_quads(g.w->cols);
    if (g.x.buffer != groups[0].x.buffer) throw InvalidArgument("[matmul] the groups' X must share one buffer");
    if ((offsets[i] + quads) * 16 > out.offset + out.bytes() || offsets[i] * 16ull < out.offset)
      throw InvalidArgument("[matmul] fp16 inputs outside their buffer range");
    push.groups[i] = {g.w->cols, float_offset(g.x, "x"), offsets[i], uint32_t(g.act_in) | uint32_t(uint8_t(g.x_shift)) << 8};
    hi = std::max<uint64_t>(hi, (offsets[i] + quads) * 16);
    most = std::max(most, quads);
  }
  const auto& pipeline = rec.device().pipeline({ShaderId::matmul_x16, 2, sizeof(HalfPush), {}});
  // Offsets are from the buffer's start: bound from there (the hazards still end at `hi`).
  rec.dispatch(pipeline, {vk::reads({groups[0].x.buffer}), vk::writes({out.buffer, 0, hi})}, push,
               {uint32_t((most + 255) / 256), 1, uint32_t(groups.size())});
}

void matmul_half_weights(vk::Recorder& rec, std::span<const MatrixRows> parts, const vk::BufferRange& out,
                         std::span<const uint32_t> offsets) {
  if (parts.empty() || parts.size() > k_max_groups || offsets.size() != parts.size())
    throw InvalidArgument("[matmul] 1 to 4 weight parts, one offset each");
  const Matrix& first = *parts[0].w;
  const uint64_t align = rec.device().info().min_storage_buffer_offset_alignment;
  uint64_t lo = UINT64_MAX, hi = 0, most = 0;
  for (const auto& part : parts) {
    const Matrix& w = *part.w;
    if (w.data.buffer != first.data.buffer || w.type != first.type || w.cols % 8 || part.row_begin + part.rows > w.rows)
      throw InvalidArgument("[matmul] fp16 weights: parts of one buffer and type, k a multiple of 8, rows inside the matrix");
    lo = std::min(lo, w.data.offset + part.row_begin * w.row_bytes());
    hi = std::max(hi, w.data.offset + (part.row_begin + part.rows) * w.row_bytes());
  }
  lo = lo / align * align;
  gpu::HalfWeightsPush push{uint32_t(parts.size()), 0, 0, 0, {}};
  uint64_t out_hi = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Matrix& w = *parts[i].w;
    const uint64_t quads = uint64_t(parts[i].rows) * w.cols / 8;
    if (offsets[i] * 16ull < out.offset || (offsets[i] + quads) * 16 > out.offset + out.bytes())
      throw InvalidArgument("[matmul] fp16 weights outside their buffer range");
    push.parts[i] = {parts[i].rows, w.cols, uint32_t(w.data.offset + parts[i].row_begin * w.row_bytes() - lo), offsets[i]};
    out_hi = std::max<uint64_t>(out_hi, (offsets[i] + quads) * 16);
    most = std::max(most, quads);
  }
  const ShaderId shader = weight_variant(k_matmul_w16_variants, first.type, "matmul");
  const auto& pipeline = rec.device().pipeline({shader, 2, sizeof(push), {}});
  // Workgroups of 256 quads: rows of at most 65,535 workgroups (every device's limit), in y beyond.
  const uint64_t groups = (most + 255) / 256;
  const uint32_t gx = uint32_t(std::min<uint64_t>(groups, 65535)), gy = uint32_t((groups + gx - 1) / gx);
  // Offsets are from the buffer's start: bound from there (the hazards still end at `out_hi`).
  rec.dispatch(pipeline, {vk::reads({first.data.buffer, lo, hi - lo}), vk::writes({out.buffer, 0, out_hi})}, push,
               {gx, gy, uint32_t(parts.size())});
}

Precision parse_precision(const std::string& name) {
  if (name == "exact") return Precision::Exact;
  if (name == "fast") return Precision::Fast;
  throw InvalidArgument("precision must be \"exact\" or \"fast\", not \"" + name + "\"");
}

const char* precision_name(Precision p) { return p == Precision::Fast ? "fast" : "exact"; }

const char* kernel_name(MatmulKernel k) {
  static const char* names[] = {"matvec", "batched", "tiled", "coopmat"};
  return names[uint32_t(k)];
}

MatmulChoice choose_matmul(const vk::DeviceInfo& device, uint32_t n_tokens, Precision precision, const std::string& forced,
                          std::span<const ProductShape> groups) {
  const bool tensor_cores = precision == Precision::Fast && device.coopmat_f16;
  auto tile_for = [&] {
    if (const CoopmatTile* narrow = narrow_tile(n_tokens, groups)) return *narrow;
    size_t row = 0;
    while (row + 1 < std::size(k_coopmat_tiles) && n_tokens > k_coopmat_tiles[row].max_tokens) ++row;
    if (!groups.empty() && device.compute_units)
      while (row > 0 && coopmat_plan(k_coopmat_tiles[row].tile, n_tokens, groups, device.compute_units).workgroups < device.compute_units)
        --row;
    return k_coopmat_tiles[row].tile;
  };
  if (!forced.empty()) {
    const std::string name = forced.substr(0, forced.find(':'));
    for (auto k : {MatmulKernel::Batched, MatmulKernel::Tiled, MatmulKernel::Coopmat}) {
      if (name != kernel_name(k)) continue;
      if (k != MatmulKernel::Coopmat) return {k};
      if (!device.coopmat_f16) throw InvalidArgument("RWKV_GPU_MATMUL=coopmat: " + device.name + " has no usable cooperative matrices");
      return {k, forced.size() > name.size() ? parse_tile(forced.substr(name.size() + 1)) : tile_for()};
    }
    throw InvalidArgument("RWKV_GPU_MATMUL='" + forced + "': expected batched, tiled, coopmat or coopmat:BRxBTxWRxWT");
  }
  for (const auto& r : k_kernel_rules)
    if (n_tokens >= r.min_tokens && n_tokens <= r.max_tokens && (!r.needs_tensor_cores || tensor_cores))
      return {r.kernel, r.kernel == MatmulKernel::Coopmat ? tile_for() : CoopmatTile{}};
  throw InvalidArgument("[matmul] no kernel for " + std::to_string(n_tokens) + " tokens");
}

void matmul(vk::Recorder& rec, std::span<const MatmulGroup> groups, uint32_t n_tokens, MatmulOptions options) {
  if (n_tokens == 0 || groups.empty()) return;
  const auto& info = rec.device().info();
  const uint64_t range = info.max_storage_buffer_range;
  std::vector<Piece> pieces;
  for (const auto& g : groups) {
    const Matrix& w = *g.w;
    const uint64_t x_row_bytes = g.x_half ? half_row_bytes(w.cols) : w.cols * 4ull;
    if (g.x_half && (g.act_in != ActIn::None || g.x_shift != 0))
      throw InvalidArgument("[matmul] fp16 X comes with its activation and scale applied (act_in None, x_shift 0)");
    if (g.x.bytes() < n_tokens * x_row_bytes || g.y.bytes() < uint64_t(n_tokens) * w.rows * 4)
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
                        b.x.buffer == a.x.buffer && b.x_half == a.x_half && b.y.buffer == a.y.buffer;
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
