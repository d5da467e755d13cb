#version 450
// Y[t, m] = act_out(sum_k W[m, k] * X16[t, k]) (+ Y[t, m] when accumulating), for the groups in
// matmul_params.glsl, on the tensor cores (GL_KHR_cooperative_matrix): fp16 operands, fp32
// accumulation. X16 is X in fp16 with act_in and the 2^-x_shift scale applied (matmul_x16.comp:
// rows of ceil(k / 8) uvec4 at uvec4 offset x_offset); otherwise the contract of matmul.comp.
//
// A workgroup computes a BT x BR block of Y (tokens x weight rows). Its subgroups form KS k-groups
// of (BR / WR) x (BT / WT) subgroups; each subgroup owns a WT x WR part of the block, as
// (WT / 16) x (WR / 16) 16x16 accumulators, over its k-group's BK-wide part of each step. Per step
// of KS * BK of k the workgroup dequantizes its W tile (quant.glsl, any GGUF type) and copies its
// X16 tile into shared memory; the loads of the next step are issued before the tensor cores work
// on the current one, and decoded after. k-groups add invocations, hence loads in flight, without
// adding registers per invocation or workgroups (few tiles: small T and few rows). At the end
// the epilogue (the 2^x_shift scale, act_out, accumulate, bounds) is applied element by element:
// with one k-group each subgroup writes its blocks itself (write_acc_own), with several the
// k-groups' sums meet in a shared staging block (write_acc).
//
// Split k (SK > 1, when the tiles are too few to fill the GPU): workgroup z = group * SK + split
// sums its split's whole steps of k only, and writes the sum, as it is, to binding 2 = partial
// sums: per group (in order) SK blocks of [T, m] floats. matmul_splitk.comp adds the blocks in
// order (the result does not depend on timing) and applies the epilogue.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : require
layout(local_size_x_id = 0) in;  // KS * (BR / WR) * (BT / WT) subgroups
layout(constant_id = 1) const uint BR = 64;  // weight rows per workgroup
layout(constant_id = 2) const uint BT = 64;  // tokens per workgroup
layout(constant_id = 3) const uint WR = 32;  // weight rows per subgroup
layout(constant_id = 4) const uint WT = 32;  // tokens per subgroup
layout(constant_id = 5) const uint BK = 32;  // k per subgroup and step: a multiple of 16
layout(constant_id = 6) const uint KS = 1;   // k-groups: a step covers KS * BK of k
layout(constant_id = 7) const uint SK = 1;   // workgroups per tile splitting k

layout(binding = 0) readonly buffer W { uint w_words[]; };
layout(binding = 0) readonly buffer WQuads { uvec4 w_quads[]; };
layout(binding = 1) readonly buffer X16 { uvec4 x16[]; };
layout(binding = 2) buffer Y { float y[]; };  // or the partial sums (SK > 1)

#define BYTES_BUFFER w_words
#define QUADS_BUFFER w_quads
#include "quant.glsl"
#include "matmul_params.glsl"

// Tiles live in shared memory as rows of 4-half units (uvec2: 8-byte stores; cooperative loads
// count in them): STRIDE per row, 16 bytes more than BKS halves, so that 8 consecutive rows start
// on distinct banks. After the k loop the same memory stages the accumulators (epilogue): one
// array for both keeps a workgroup's shared memory to the larger of the two.
const uint BKS = BK * KS;  // k per step
const uint STRIDE = BKS / 4u + 2u;
const uint CR = WR / 16u, CT = WT / 16u;
const uint TILES = (BR / WR) * (BT / WT);  // subgroups per k-group
const uint SUBGROUPS = TILES * KS;
const uint CHUNKS_PER_ROW = BKS / 8u;  // chunks of 8 consecutive k: one dequant8 of W, one uvec4 of X16
const uint W_CHUNKS = BR * CHUNKS_PER_ROW, X_CHUNKS = BT * CHUNKS_PER_ROW;
const uint X_TILE = BR * STRIDE;  // where the X16 tile starts (the W tile at 0)
const uint TILE_UNITS = (BR + BT) * STRIDE, STAGED_UNITS = SUBGROUPS * 128u;  // 256 floats per subgroup

shared uvec2 smem[TILE_UNITS > STAGED_UNITS ? TILE_UNITS : STAGED_UNITS];

// The W and X16 chunks of one step this invocation loads: chunk c = gl_LocalInvocationID.x + i * size.
// fetch_step issues the loads of the next step into registers before the current step's products;
// store_step decodes them (quant.glsl's fetch8 / decode8) and writes the fp16 tiles after them.
const uint W_PER = (W_CHUNKS + gl_WorkGroupSize.x - 1u) / gl_WorkGroupSize.x;
const uint X_PER = (X_CHUNKS + gl_WorkGroupSize.x - 1u) / gl_WorkGroupSize.x;
// Register arrays have fixed sizes (the largest the host allows, ops/matmul.cpp checks) and are
// indexed only in unrolled loops with specialization-constant bounds.
const uint MAX_W_PER = 8u, MAX_X_PER = 8u, MAX_CT = 4u, MAX_CR = 4u;
Raw8 w_raw[MAX_W_PER];
uvec4 x_raw[MAX_X_PER];

// Chunk c of a tile: its row (of W or of X16) and first k.
uint chunk_row(uint c, uint row0) { return row0 + c / CHUNKS_PER_ROW; }
uint chunk_k(uint c, uint k0) { return k0 + (c % CHUNKS_PER_ROW) * 8u; }
uint tile_at(uint c) { return (c / CHUNKS_PER_ROW) * STRIDE + (c % CHUNKS_PER_ROW) * 2u; }

// A whole W chunk inside the matrix; the others (edges) are read element by element in store_step.
// X16 rows are padded to whole chunks with zeros: a chunk is inside or wholly past k.
bool w_whole(MatmulPushGroup g, uint c, uint row, uint k) { return c < W_CHUNKS && row < g.m && k + 8u <= g.k; }
bool x_inside(MatmulPushGroup g, uint c, uint t, uint k) { return c < X_CHUNKS && t < p.T && k < g.k; }

// How fetch_step issues a step's loads. Steps wider than 32 of k: every chunk without a
// condition, at a place clamped inside the matrices (store_step then drops what lies outside).
// 32-wide steps: each chunk under its bounds check. Measured on the H100 (docs/benchmarks.md,
// 2026-12-07, the 2.9B and 0.1B products, GPU us, guarded -> clamped): the 64x64 tile with two
// k-groups (128 of k a step) 74 -> 63 (r/k/v, 64 tokens), 24.3 -> 20.7 (0.1B r/k/v); 128x128
// with BK 64 530 -> 284 (r/k/v, 512 tokens); but 128x128 with BK 32 147 -> 168 (the same).
const bool CLAMP_LOADS = BKS > 32u;

void fetch_step(MatmulPushGroup g, uint row0, uint t0, uint k0) {
  const uint row_bytes = (g.k / QK) * QBYTES, x_quads = (g.k + 7u) / 8u;
  // The last whole chunk's first k (rows narrower than a chunk, k < 8, are read in store_step alone).
  const uint k_last = g.k >= 8u ? (g.k - 8u) / 8u * 8u : 0u;
  [[unroll]] for (uint i = 0u; i < W_PER; ++i) {
    const uint c = gl_LocalInvocationID.x + i * gl_WorkGroupSize.x, row = chunk_row(c, row0), k = chunk_k(c, k0);
    if (CLAMP_LOADS) {
      if (g.k >= 8u) w_raw[i] = fetch8(g.w_offset + min(row, g.m - 1u) * row_bytes, min(k, k_last));
    } else if (w_whole(g, c, row, k)) {
      w_raw[i] = fetch8(g.w_offset + row * row_bytes, k);
    }
  }
  [[unroll]] for (uint i = 0u; i < X_PER; ++i) {
    const uint c = gl_LocalInvocationID.x + i * gl_WorkGroupSize.x, t = chunk_row(c, t0), k = chunk_k(c, k0);
    if (CLAMP_LOADS) {
      x_raw[i] = x16[g.x_offset + min(t, p.T - 1u) * x_quads + min(k / 8u, x_quads - 1u)];
    } else {
      x_raw[i] = x_inside(g, c, t, k) ? x16[g.x_offset + t * x_quads + k / 8u] : uvec4(0u);
    }
  }
}

void store_step(MatmulPushGroup g, uint row0, uint t0, uint k0) {
  const uint row_bytes = (g.k / QK) * QBYTES;
  // Whole tiles inside the matrices (uniform): no per-chunk checks on the way to the barrier.
  const bool w_all = row0 + BR <= g.m && k0 + BKS <= g.k, x_all = t0 + BT <= p.T && k0 + BKS <= g.k;
  [[unroll]] for (uint i = 0u; i < W_PER; ++i) {
    const uint c = gl_LocalInvocationID.x + i * gl_WorkGroupSize.x, row = chunk_row(c, row0), k = chunk_k(c, k0);
    if (c < W_CHUNKS) {
      float w8[8];
#if defined(TYPE_F16)
      // fp16 weights go to the tile as loaded (no round trip through fp32).
      if (w_all || w_whole(g, c, row, k)) {
        smem[tile_at(c)] = w_raw[i].q.xy;
        smem[tile_at(c) + 1u] = w_raw[i].q.zw;
        continue;
      }
#endif
      if (w_all || w_whole(g, c, row, k)) {
        decode8(w_raw[i], w8);
      } else {
        const uint base = g.w_offset + row * row_bytes;
        for (uint e = 0u; e < 8u; ++e) w8[e] = row < g.m && k + e < g.k ? dequant(base + ((k + e) / QK) * QBYTES, (k + e) % QK) : 0.0;
      }
      smem[tile_at(c)] = uvec2(packHalf2x16(vec2(w8[0], w8[1])), packHalf2x16(vec2(w8[2], w8[3])));
      smem[tile_at(c) + 1u] = uvec2(packHalf2x16(vec2(w8[4], w8[5])), packHalf2x16(vec2(w8[6], w8[7])));
    }
  }
  [[unroll]] for (uint i = 0u; i < X_PER; ++i) {
    const uint c = gl_LocalInvocationID.x + i * gl_WorkGroupSize.x;
    if (c < X_CHUNKS) {
      const uvec4 q = !CLAMP_LOADS || x_all || x_inside(g, c, chunk_row(c, t0), chunk_k(c, k0)) ? x_raw[i] : uvec4(0u);
      smem[X_TILE + tile_at(c)] = q.xy;
      smem[X_TILE + tile_at(c) + 1u] = q.zw;
    }
  }
}

// One element of the epilogue: the partial sum as it is (SK > 1), else Y = act_out(sum * 2^x_shift),
// plus Y when accumulating.
void store_sum(MatmulPushGroup g, uint t, uint row, float sum, uint partials, float y_scale) {
  if (SK > 1u) {
    y[partials + t * g.m + row] = sum;
    return;
  }
  const uint i = g.y_offset + t * g.y_stride + row;
  float v = activate_out(sum * y_scale);
  if (p.accumulate != 0u) v += y[i];
  y[i] = v;
}

// The epilogue of one 16x16 accumulator [token][row] (ct, cr) of every subgroup, when the
// workgroup has several k-groups: through the staging block, where the workgroup sums the
// k-groups' parts and writes Y.
void write_acc(coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator> m, MatmulPushGroup g, uint ct, uint cr, uint row0,
               uint t0, uint partials) {
  const float y_scale = exp2(float(x_shift(g.act_in)));
  coopMatStore(m, smem, gl_SubgroupID * 128u, 8u, gl_CooperativeMatrixLayoutRowMajor);
  barrier();
  for (uint e = gl_LocalInvocationID.x; e < TILES * 256u; e += gl_WorkGroupSize.x) {
    const uint tile = e / 256u, at = e % 256u;
    const uint t = t0 + tile / (BR / WR) * WT + ct * 16u + at / 16u, row = row0 + tile % (BR / WR) * WR + cr * 16u + at % 16u;
    if (t < p.T && row < g.m) {
      float sum = 0.0;
      for (uint j = 0u; j < KS; ++j) {
        const uint f = (j * TILES + tile) * 256u + at;
        sum += uintBitsToFloat(smem[f / 2u][f % 2u]);
      }
      store_sum(g, t, row, sum, partials, y_scale);
    }
  }
  barrier();
}

// The epilogue of one accumulator when the workgroup has one k-group (KS = 1): each subgroup
// writes its own 16x16 block, with no workgroup barrier. A block wholly inside Y (and 16-byte
// aligned, as cooperative loads and stores need) goes straight from the registers, the others
// through the subgroup's own part of the staging block, element by element. The values are those
// of write_acc. Measured on the H100 (docs/benchmarks.md, 2026-12-07), against the staged path for
// every block: the 2.9B products 3% less at 164 tokens, the same at 512 (what the epilogue costs
// is mostly its writes, not its barriers).
void write_acc_own(coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator> m, MatmulPushGroup g, uint ct, uint cr,
                   uint row0, uint t0, uint partials) {
  const uint tile = gl_SubgroupID;
  const uint tb = t0 + tile / (BR / WR) * WT + ct * 16u, rb = row0 + tile % (BR / WR) * WR + cr * 16u;
  const bool inside = tb + 16u <= p.T && rb + 16u <= g.m;
  const float y_scale = exp2(float(x_shift(g.act_in)));
  if (SK > 1u) {
    if (inside && g.m % 4u == 0u && partials % 4u == 0u) {
      coopMatStore(m, y, partials + tb * g.m + rb, g.m, gl_CooperativeMatrixLayoutRowMajor);
      return;
    }
  } else if (inside && g.y_stride % 4u == 0u && g.y_offset % 4u == 0u) {
    for (int i = 0; i < m.length(); ++i) m[i] = activate_out(m[i] * y_scale);
    const uint at = g.y_offset + tb * g.y_stride + rb;
    if (p.accumulate != 0u) {
      coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator> before;
      coopMatLoad(before, y, at, g.y_stride, gl_CooperativeMatrixLayoutRowMajor);
      for (int i = 0; i < m.length(); ++i) m[i] += before[i];
    }
    coopMatStore(m, y, at, g.y_stride, gl_CooperativeMatrixLayoutRowMajor);
    return;
  }
  coopMatStore(m, smem, tile * 128u, 8u, gl_CooperativeMatrixLayoutRowMajor);
  subgroupMemoryBarrierShared();
  subgroupBarrier();
  for (uint e = gl_SubgroupInvocationID; e < 256u; e += gl_SubgroupSize) {
    const uint t = tb + e / 16u, row = rb + e % 16u;
    if (t < p.T && row < g.m) {
      store_sum(g, t, row, uintBitsToFloat(smem[tile * 128u + e / 2u][e % 2u]), partials, y_scale);
    }
  }
  subgroupMemoryBarrierShared();
  subgroupBarrier();  // every invocation has read the block before the next one is staged
}

void main() {
  const uint group = gl_WorkGroupID.z / SK, split = gl_WorkGroupID.z % SK;
  const MatmulPushGroup g = p.groups[group];
  const uint row0 = gl_WorkGroupID.x * BR;
  if (row0 >= g.m) return;
  // This split's steps: [k_begin, k_end), whole steps (an empty range sums to zeros).
  const uint k_per = ((g.k + SK - 1u) / SK + BKS - 1u) / BKS * BKS;
  const uint k_begin = split * k_per, k_end = min(g.k, k_begin + k_per);
  uint partials = split * p.T * g.m;
  for (uint i = 0u; i < group; ++i) partials += SK * p.T * p.groups[i].m;
  const uint t0 = gl_WorkGroupID.y * BT;
  const uint sg = gl_SubgroupID, kg = sg / TILES, sg_row = sg % TILES % (BR / WR), sg_tok = sg % TILES / (BR / WR);

  // Indexed by constants only (unrolled loops, literal indices below): an array of cooperative
  // matrices indexed otherwise lives in local memory (measured on the H200: 512 bytes per
  // invocation, whenever an index was not resolved; loops holding barriers are not unrolled).
  coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator> acc[MAX_CT * MAX_CR];
  [[unroll]] for (uint i = 0u; i < CT * CR; ++i) acc[i] = coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator>(0.0);

  // The first step is stored before the loop; each step's products run between the next step's
  // loads and its store (after a barrier: every subgroup has read the tiles). This order, against
  // store-barrier-fetch-products at the top of each step, took 10-11% off the F16 products of a
  // 2.9B prompt (H100, 2026-12-07, docs/benchmarks.md).
  if (k_begin < k_end) {
    fetch_step(g, row0, t0, k_begin);
    store_step(g, row0, t0, k_begin);
  }
  barrier();
  for (uint k0 = k_begin; k0 < k_end; k0 += BKS) {
    const bool more = k0 + BKS < k_end;
    if (more) fetch_step(g, row0, t0, k0 + BKS);
    // This k-group's BK of the step, 16 k (4 f16vec4) at a time.
    [[unroll]] for (uint j = 0u; j < BK / 16u; ++j) {
      const uint kk = (kg * BK + j * 16u) / 4u;
      coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> a[MAX_CT];
      [[unroll]] for (uint ct = 0u; ct < CT; ++ct)
        coopMatLoad(a[ct], smem, X_TILE + (sg_tok * WT + ct * 16u) * STRIDE + kk, STRIDE, gl_CooperativeMatrixLayoutRowMajor);
      [[unroll]] for (uint cr = 0u; cr < CR; ++cr) {
        // W^T as a k x rows operand: the rows of the W tile read column-major.
        coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseB> b;
        coopMatLoad(b, smem, (sg_row * WR + cr * 16u) * STRIDE + kk, STRIDE, gl_CooperativeMatrixLayoutColumnMajor);
        [[unroll]] for (uint ct = 0u; ct < CT; ++ct) acc[ct * CR + cr] = coopMatMulAdd(a[ct], b, acc[ct * CR + cr]);
      }
    }
    barrier();
    if (more) store_step(g, row0, t0, k0 + BKS);
    barrier();
  }

  // One literal per entry of acc (MAX_CT * MAX_CR = 16).
#define WRITE_ACC(I)                                                  \
  if (I < CT * CR) {                                                  \
    if (KS == 1u)                                                     \
      write_acc_own(acc[I], g, I / CR, I % CR, row0, t0, partials);   \
    else                                                              \
      write_acc(acc[I], g, I / CR, I % CR, row0, t0, partials);       \
  }
  WRITE_ACC(0); WRITE_ACC(1); WRITE_ACC(2); WRITE_ACC(3); WRITE_ACC(4); WRITE_ACC(5); WRITE_ACC(6); WRITE_ACC(7);
  WRITE_ACC(8); WRITE_ACC(9); WRITE_ACC(10); WRITE_ACC(11); WRITE_ACC(12); WRITE_ACC(13); WRITE_ACC(14); WRITE_ACC(15);
}
