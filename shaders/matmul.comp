#version 450
// Y[t, m] = act_out(sum_k W[m, k] * act_in(X[t, k])) (+ Y[t, m] when accumulating), for the
// groups in matmul_params.glsl. W stays in its GGUF type and is dequantized here (quant.glsl).
// Three variants of this one source:
//   MATVEC:  one token (decode); each workgroup reads ROWS weight rows once.
//   BATCHED: a few tokens (a decode batch); each subgroup takes a row for TT tokens whose inputs
//            the workgroup stages in shared memory once for all its rows.
//   TILED:   many tokens (prefill); 64x64 output tiles through shared memory.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(binding = 0) readonly buffer W { uint w_words[]; };  // weight rows, ggml blocks
layout(binding = 0) readonly buffer WQuads { uvec4 w_quads[]; };  // the same bytes, for wide loads
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer XQuads { vec4 x_quads[]; };  // the same floats, for wide loads
layout(binding = 2) buffer Y { float y[]; };

#define BYTES_BUFFER w_words
#define QUADS_BUFFER w_quads
#include "quant.glsl"
#include "matmul_params.glsl"

void store(MatmulPushGroup g, uint t, uint row, float acc) {
  const uint i = g.y_offset + t * g.y_stride + row;
  float v = activate_out(acc);
  if (p.accumulate != 0u) v += y[i];
  y[i] = v;
}

#if defined(MATVEC)
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
// ROWS row sets per workgroup, each taken by gl_WorkGroupSize.x / ROWS invocations (whole
// subgroups) that stride along k, STEPS 8-element chunks per step so that several wide loads are
// in flight (chunks past k skipped: every invocation takes the same number of steps, and a k of up
// to STEPS x invocations x 8 takes one; a second loop for the remainder cost the H100 4-5 us of a
// 2.9B r/k/v or FFN key product); a set is RPI consecutive rows, whose weights an invocation
// reads at the same k, so that each chunk of X is loaded once for RPI rows; subgroupAdd, then one
// partial per subgroup and row through shared memory.
layout(constant_id = 1) const uint ROWS = 1;
layout(constant_id = 2) const uint STEPS = 2;
layout(constant_id = 3) const uint RPI = 1;
#define CHUNK 8u  // consecutive elements per dequant8: inside one block for every type

shared float partials[gl_WorkGroupSize.x * RPI];

// Elements k0..k0+7 of X (act_in applied; zeros past k).
void load_x8(MatmulPushGroup g, uint k0, out float xv[CHUNK]) {
  const uint xb = g.x_offset + k0;
  if ((xb & 3u) == 0u && k0 + CHUNK <= g.k) {  // two 16-byte loads instead of eight 4-byte ones
    const vec4 lo = x_quads[xb >> 2], hi = x_quads[(xb >> 2) + 1u];
    xv = float[CHUNK](lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w);
  } else {
    for (uint e = 0u; e < CHUNK; ++e) xv[e] = k0 + e < g.k ? x[xb + e] : 0.0;
  }
  for (uint e = 0u; e < CHUNK; ++e) xv[e] = activate_in(xv[e], g.act_in);
}

float chunk_dot(MatmulPushGroup g, uint base, uint k0, float xv[CHUNK]) {
  float wv[CHUNK];
  if (k0 + CHUNK <= g.k) {
    dequant8(base, k0, wv);
  } else {
    for (uint e = 0u; e < CHUNK; ++e) wv[e] = k0 + e < g.k ? dequant(base + ((k0 + e) / QK) * QBYTES, (k0 + e) % QK) : 0.0;
  }
  float acc = 0.0;
  for (uint e = 0u; e < CHUNK; ++e) acc += wv[e] * xv[e];
  return acc;
}

void main() {
  const MatmulPushGroup g = p.groups[gl_WorkGroupID.z];
  const uint per_row = gl_WorkGroupSize.x / ROWS;
  const uint r = gl_LocalInvocationID.x / per_row, lane = gl_LocalInvocationID.x % per_row;
  const uint row0 = (gl_WorkGroupID.x * ROWS + r) * RPI, row_bytes = (g.k / QK) * QBYTES;
  float acc[MATVEC_MAX_RPI];
  [[unroll]] for (uint i = 0u; i < MATVEC_MAX_RPI; ++i) acc[i] = 0.0;
  if (row0 < g.m) {
    const uint base = g.w_offset + row0 * row_bytes;
    const uint step = per_row * CHUNK;
    for (uint k0 = lane * CHUNK; k0 < g.k; k0 += STEPS * step) {
      [[unroll]] for (uint s = 0u; s < STEPS; ++s) {
        if (k0 + s * step >= g.k) continue;
        float xv[CHUNK];
        load_x8(g, k0 + s * step, xv);
        [[unroll]] for (uint i = 0u; i < RPI; ++i)
          if (row0 + i < g.m) acc[i] += chunk_dot(g, base + i * row_bytes, k0 + s * step, xv);
      }
    }
  }
  [[unroll]] for (uint i = 0u; i < RPI; ++i) {
    const float s = subgroupAdd(acc[i]);
    if (subgroupElect()) partials[i * gl_NumSubgroups + gl_SubgroupID] = s;
  }
  barrier();
  // The first invocation of each row set adds its subgroups' partials, row by row.
  if (lane == 0u) {
    const uint first = (r * per_row) / gl_SubgroupSize, count = per_row / gl_SubgroupSize;
    for (uint i = 0u; i < RPI; ++i) {
      if (row0 + i >= g.m) break;
      float sum = 0.0;
      for (uint j = 0u; j < count; ++j) sum += partials[i * gl_NumSubgroups + first + j];
      store(g, 0u, row0 + i, sum);
    }
  }
}

#elif defined(BATCHED)
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// One subgroup per row; the workgroup stages the TT tokens' inputs for a stretch of k in shared
// memory (activated once) and every row of the workgroup reads them from there. (Tried on the
// H200: 4 rows per subgroup and 2 chunks per stage were slower: too few workgroups.)
layout(constant_id = 1) const uint LANES = 32;  // invocations per row: the subgroup size
layout(constant_id = 2) const uint TT = 1;      // tokens per workgroup
#define CHUNK 8u
const uint KQ = LANES * CHUNK / 4u;  // quads of k per stage: one chunk per invocation
shared vec4 xs[TT * KQ];

void main() {
  const MatmulPushGroup g = p.groups[gl_WorkGroupID.z];
  const uint t0 = gl_WorkGroupID.y * TT;
  const uint lane = gl_LocalInvocationID.x % LANES;
  const uint row = gl_WorkGroupID.x * (gl_WorkGroupSize.x / LANES) + gl_LocalInvocationID.x / LANES;
  const uint base = g.w_offset + row * ((g.k / QK) * QBYTES);
  float acc[TT];
  for (uint t = 0u; t < TT; ++t) acc[t] = 0.0;
  for (uint kt = 0u; kt < g.k; kt += 4u * KQ) {
    for (uint i = gl_LocalInvocationID.x; i < TT * KQ; i += gl_WorkGroupSize.x) {
      const uint t = t0 + i / KQ, k = kt + 4u * (i % KQ);
      vec4 v = vec4(0.0);
      if (t < p.T) {
        const uint xb = g.x_offset + t * g.k + k;
        if ((xb & 3u) == 0u && k + 4u <= g.k) {
          v = x_quads[xb >> 2];
        } else {
          for (uint e = 0u; e < 4u; ++e) v[e] = k + e < g.k ? x[xb + e] : 0.0;
        }
        for (uint e = 0u; e < 4u; ++e) v[e] = k + e < g.k ? activate_in(v[e], g.act_in) : 0.0;
      }
      xs[i] = v;
    }
    barrier();
    const uint k0 = kt + lane * CHUNK;
    if (row < g.m && k0 < g.k) {
      float wv[CHUNK];
      if (k0 + CHUNK <= g.k) {
        dequant8(base, k0, wv);
      } else {
        for (uint e = 0u; e < CHUNK; ++e) wv[e] = k0 + e < g.k ? dequant(base + ((k0 + e) / QK) * QBYTES, (k0 + e) % QK) : 0.0;
      }
      const vec4 w_lo = vec4(wv[0], wv[1], wv[2], wv[3]), w_hi = vec4(wv[4], wv[5], wv[6], wv[7]);
      for (uint t = 0u; t < TT; ++t) acc[t] += dot(w_lo, xs[t * KQ + 2u * lane]) + dot(w_hi, xs[t * KQ + 2u * lane + 1u]);
    }
    barrier();
  }
  for (uint t = 0u; t < TT; ++t) {
    const float s = subgroupAdd(acc[t]);
    if (lane == 0u && row < g.m && t0 + t < p.T) store(g, t0 + t, row, s);
  }
}

#elif defined(TILED)
#define BM 64u
#define BN 64u
#define BK 16u
// 256 invocations, each computing a 4x4 block of the 64x64 tile.
shared float w_tile[BM][BK + 1u];
shared float x_tile[BN][BK + 1u];

void main() {
  const MatmulPushGroup g = p.groups[gl_WorkGroupID.z];
  const uint row0 = gl_WorkGroupID.x * BM;
  if (row0 >= g.m) return;
  const uint t0 = gl_WorkGroupID.y * BN;
  const uint tid = gl_LocalInvocationID.x;
  const uint tr = tid % 16u, tc = tid / 16u;
  const uint row_bytes = (g.k / QK) * QBYTES;
  float acc[16];
  for (uint i = 0u; i < 16u; ++i) acc[i] = 0.0;

  for (uint k0 = 0u; k0 < g.k; k0 += BK) {
    for (uint i = tid; i < BM * BK / 8u; i += 256u) {
      const uint r = i / (BK / 8u), kk = (i % (BK / 8u)) * 8u, row = row0 + r, k = k0 + kk;
      float w8[8];
      if (row < g.m && k + 8u <= g.k) {
        dequant8(g.w_offset + row * row_bytes, k, w8);
      } else {
        for (uint e = 0u; e < 8u; ++e)
          w8[e] = row < g.m && k + e < g.k ? dequant(g.w_offset + row * row_bytes + ((k + e) / QK) * QBYTES, (k + e) % QK) : 0.0;
      }
      for (uint e = 0u; e < 8u; ++e) w_tile[r][kk + e] = w8[e];
    }
    for (uint i = tid; i < BN * BK; i += 256u) {
      const uint c = i / BK, kk = i % BK, t = t0 + c, k = k0 + kk;
      x_tile[c][kk] = t < p.T && k < g.k ? activate_in(x[g.x_offset + t * g.k + k], g.act_in) : 0.0;
    }
    barrier();
    for (uint kk = 0u; kk < BK; ++kk) {
      float wr[4], xc[4];
      for (uint i = 0u; i < 4u; ++i) {
        wr[i] = w_tile[tr + 16u * i][kk];
        xc[i] = x_tile[tc + 16u * i][kk];
      }
      for (uint i = 0u; i < 4u; ++i)
        for (uint j = 0u; j < 4u; ++j) acc[i * 4u + j] += wr[i] * xc[j];
    }
    barrier();
  }
  for (uint i = 0u; i < 4u; ++i)
    for (uint j = 0u; j < 4u; ++j) {
      const uint row = row0 + tr + 16u * i, t = t0 + tc + 16u * j;
      if (row < g.m && t < p.T) store(g, t, row, acc[i * 4u + j]);
    }
}
#else
#error "define MATVEC or TILED"
#endif
