#version 450
// Y[t, m] = act_out(sum_k W[m, k] * act_in(X[t, k])) (+ Y[t, m] when accumulating), for the
// groups in matmul_params.glsl, on the tensor cores (GL_KHR_cooperative_matrix): fp16 operands,
// fp32 accumulation. The same contract as matmul.comp; only the operand precision differs.
//
// A workgroup computes a BT x BR block of Y (tokens x weight rows); each of its subgroups a WT x WR
// part of it, as (WT / 16) x (WR / 16) 16x16 accumulators. Per BK-wide step of k the workgroup
// dequantizes its W tile (quant.glsl, any GGUF type) and converts its X tile (act_in applied) to
// fp16 in shared memory; the loads of the next step are issued before the tensor cores work on the
// current one, and decoded after. The results leave through a small shared staging block per subgroup,
// where the epilogue (act_out, accumulate, bounds) is applied element by element.
//
// fp16 range: X is multiplied by 2^-x_shift (matmul_params.glsl) before the conversion and the
// sum by 2^x_shift after it, so products whose inputs can exceed 65504 (relu^2) stay finite.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : require
layout(local_size_x_id = 0) in;  // (BR / WR) * (BT / WT) subgroups
layout(constant_id = 1) const uint BR = 64;  // weight rows per workgroup
layout(constant_id = 2) const uint BT = 64;  // tokens per workgroup
layout(constant_id = 3) const uint WR = 32;  // weight rows per subgroup
layout(constant_id = 4) const uint WT = 32;  // tokens per subgroup
layout(constant_id = 5) const uint BK = 32;  // k per step: a multiple of 16

layout(binding = 0) readonly buffer W { uint w_words[]; };
layout(binding = 0) readonly buffer WQuads { uvec4 w_quads[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer XQuads { vec4 x_quads[]; };
layout(binding = 2) buffer Y { float y[]; };

#define BYTES_BUFFER w_words
#define QUADS_BUFFER w_quads
#include "quant.glsl"
#include "matmul_params.glsl"

// Tiles live in shared memory as f16vec4 (8-byte stores; cooperative loads count in f16vec4):
// STRIDE per row, 16 bytes more than BK halves, so that 8 consecutive rows start on distinct banks.
const uint STRIDE = BK / 4u + 2u;
const uint CR = WR / 16u, CT = WT / 16u;
const uint SUBGROUPS = (BR / WR) * (BT / WT);
const uint W_CHUNKS = BR * BK / 8u;  // 8 consecutive k of one row: one dequant8
const uint X_CHUNKS = BT * BK / 4u;  // 4 consecutive k of one token: one vec4

shared f16vec4 w_tile[BR * STRIDE];
shared f16vec4 x_tile[BT * STRIDE];
shared float staged[SUBGROUPS * 256u];

// The W and X chunks of one step this invocation loads: chunk c = gl_LocalInvocationID.x + i * size.
// fetch_step issues the loads of the next step into registers before the current step's products;
// store_step decodes them (quant.glsl's fetch8 / decode8) and writes the fp16 tiles after them.
const uint W_PER = (W_CHUNKS + gl_WorkGroupSize.x - 1u) / gl_WorkGroupSize.x;
const uint X_PER = (X_CHUNKS + gl_WorkGroupSize.x - 1u) / gl_WorkGroupSize.x;
// Register arrays have fixed sizes (the largest the host allows, ops/matmul.cpp checks) and are
// indexed only in unrolled loops with specialization-constant bounds.
const uint MAX_W_PER = 8u, MAX_X_PER = 16u, MAX_CT = 4u, MAX_CR = 4u;
Raw8 w_raw[MAX_W_PER];
vec4 x_raw[MAX_X_PER];

uint w_row(uint c, uint row0) { return row0 + c / (BK / 8u); }
uint w_k(uint c, uint k0) { return k0 + (c % (BK / 8u)) * 8u; }
uint x_tok(uint c, uint t0) { return t0 + c / (BK / 4u); }
uint x_k(uint c, uint k0) { return k0 + (c % (BK / 4u)) * 4u; }

// A whole chunk inside the matrix; the others (edges) are read element by element in store_step.
bool w_whole(Group g, uint c, uint row, uint k) { return c < W_CHUNKS && row < g.m && k + 8u <= g.k; }
bool x_whole(Group g, uint c, uint t, uint k) {
  return c < X_CHUNKS && t < p.T && k + 4u <= g.k && ((g.x_offset + t * g.k + k) & 3u) == 0u;
}

void fetch_step(Group g, uint row0, uint t0, uint k0) {
  const uint row_bytes = (g.k / QK) * QBYTES;
  [[unroll]] for (uint i = 0u; i < W_PER; ++i) {
    const uint c = gl_LocalInvocationID.x + i * gl_WorkGroupSize.x, row = w_row(c, row0), k = w_k(c, k0);
    if (w_whole(g, c, row, k)) w_raw[i] = fetch8(g.w_offset + row * row_bytes, k);
  }
  [[unroll]] for (uint i = 0u; i < X_PER; ++i) {
    const uint c = gl_LocalInvocationID.x + i * gl_WorkGroupSize.x, t = x_tok(c, t0), k = x_k(c, k0);
    if (x_whole(g, c, t, k)) x_raw[i] = x_quads[(g.x_offset + t * g.k + k) >> 2];
  }
}

void store_step(Group g, uint row0, uint t0, uint k0, float x_scale) {
  const uint row_bytes = (g.k / QK) * QBYTES;
  [[unroll]] for (uint i = 0u; i < W_PER; ++i) {
    const uint c = gl_LocalInvocationID.x + i * gl_WorkGroupSize.x, row = w_row(c, row0), k = w_k(c, k0);
    if (c < W_CHUNKS) {
      float w8[8];
      if (w_whole(g, c, row, k)) {
        decode8(w_raw[i], w8);
      } else {
        const uint base = g.w_offset + row * row_bytes;
        for (uint e = 0u; e < 8u; ++e) w8[e] = row < g.m && k + e < g.k ? dequant(base + ((k + e) / QK) * QBYTES, (k + e) % QK) : 0.0;
      }
      const uint at = (c / (BK / 8u)) * STRIDE + (c % (BK / 8u)) * 2u;
      w_tile[at] = f16vec4(w8[0], w8[1], w8[2], w8[3]);
      w_tile[at + 1u] = f16vec4(w8[4], w8[5], w8[6], w8[7]);
    }
  }
  [[unroll]] for (uint i = 0u; i < X_PER; ++i) {
    const uint c = gl_LocalInvocationID.x + i * gl_WorkGroupSize.x, t = x_tok(c, t0), k = x_k(c, k0);
    if (c < X_CHUNKS) {
      vec4 v = vec4(0.0);
      if (x_whole(g, c, t, k)) {
        v = x_raw[i];
      } else if (t < p.T) {
        for (uint e = 0u; e < 4u; ++e) v[e] = k + e < g.k ? x[g.x_offset + t * g.k + k + e] : 0.0;
      }
      [[unroll]] for (uint e = 0u; e < 4u; ++e) v[e] = k + e < g.k ? activate_in(v[e], g.act_in) * x_scale : 0.0;
      x_tile[(c / (BK / 4u)) * STRIDE + c % (BK / 4u)] = f16vec4(v);
    }
  }
}

void main() {
  const Group g = p.groups[gl_WorkGroupID.z];
  const uint row0 = gl_WorkGroupID.x * BR;
  if (row0 >= g.m) return;
  const uint t0 = gl_WorkGroupID.y * BT;
  const uint sg = gl_SubgroupID, sg_row = sg % (BR / WR), sg_tok = sg / (BR / WR);
  const int shift = x_shift(g.act_in);
  const float x_scale = exp2(float(-shift)), y_scale = exp2(float(shift));

  coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator> acc[MAX_CT * MAX_CR];
  [[unroll]] for (uint i = 0u; i < CT * CR; ++i) acc[i] = coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator>(0.0);

  fetch_step(g, row0, t0, 0u);
  for (uint k0 = 0u; k0 < g.k; k0 += BK) {
    store_step(g, row0, t0, k0, x_scale);
    barrier();
    if (k0 + BK < g.k) fetch_step(g, row0, t0, k0 + BK);
    [[unroll]] for (uint kk = 0u; kk < BK / 4u; kk += 4u) {  // 16 k at a time, in f16vec4s
      coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> a[MAX_CT];
      [[unroll]] for (uint ct = 0u; ct < CT; ++ct)
        coopMatLoad(a[ct], x_tile, (sg_tok * WT + ct * 16u) * STRIDE + kk, STRIDE, gl_CooperativeMatrixLayoutRowMajor);
      [[unroll]] for (uint cr = 0u; cr < CR; ++cr) {
        // W^T as a k x rows operand: the rows of the W tile read column-major.
        coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseB> b;
        coopMatLoad(b, w_tile, (sg_row * WR + cr * 16u) * STRIDE + kk, STRIDE, gl_CooperativeMatrixLayoutColumnMajor);
        [[unroll]] for (uint ct = 0u; ct < CT; ++ct) acc[ct * CR + cr] = coopMatMulAdd(a[ct], b, acc[ct * CR + cr]);
      }
    }
    barrier();
  }

  // Each 16x16 accumulator [token][row] through this subgroup's staging block to Y.
  const uint lane = gl_SubgroupInvocationID;
  [[unroll]] for (uint ct = 0u; ct < CT; ++ct)
    [[unroll]] for (uint cr = 0u; cr < CR; ++cr) {
      coopMatStore(acc[ct * CR + cr], staged, sg * 256u, 16u, gl_CooperativeMatrixLayoutRowMajor);
      subgroupMemoryBarrierShared();
      subgroupBarrier();
      for (uint e = lane; e < 256u; e += gl_SubgroupSize) {
        const uint t = t0 + sg_tok * WT + ct * 16u + e / 16u, row = row0 + sg_row * WR + cr * 16u + e % 16u;
        if (t < p.T && row < g.m) {
          const uint i = g.y_offset + t * g.y_stride + row;
          float v = activate_out(staged[sg * 256u + e] * y_scale);
          if (p.accumulate != 0u) v += y[i];
          y[i] = v;
        }
      }
      subgroupBarrier();
    }
}
