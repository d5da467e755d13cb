#version 450
// Y[t, m] = act_out(sum_k W[m, k] * act_in(X[t, k])) (+ Y[t, m] when accumulating), for the
// groups in matmul_params.glsl. W stays in its GGUF type and is dequantized here (quant.glsl).
// Two variants of this one source:
//   MATVEC: few tokens (decode); each workgroup reads ROWS weight rows once for up to 8 tokens.
//   TILED:  many tokens (prefill); 64x64 output tiles through shared memory.
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

void store(Group g, uint t, uint row, float acc) {
  const uint i = g.y_offset + t * g.y_stride + row;
  float v = activate_out(acc);
  if (p.accumulate != 0u) v += y[i];
  y[i] = v;
}

#if defined(MATVEC)
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// ROWS rows per workgroup, each taken by gl_WorkGroupSize.x / ROWS invocations (whole subgroups)
// that stride along k, two 8-element chunks per step so that several wide loads are in flight;
// subgroupAdd, then one partial per subgroup through shared memory. TT (tokens per workgroup) is
// a specialization constant so that every per-token array has a constant size and every loop a
// constant trip count: they stay in registers.
layout(constant_id = 1) const uint ROWS = 1;
layout(constant_id = 2) const uint TT = 1;
#define CHUNK 8u  // consecutive elements per dequant8: inside one block for every type

shared float partials[gl_WorkGroupSize.x][TT];

void accumulate(Group g, uint base, uint k0, uint t0, inout float acc[TT]) {
  float wv[CHUNK];
  if (k0 + CHUNK <= g.k) {
    dequant8(base, k0, wv);
  } else {
    for (uint e = 0u; e < CHUNK; ++e) wv[e] = k0 + e < g.k ? dequant(base + ((k0 + e) / QK) * QBYTES, (k0 + e) % QK) : 0.0;
  }
  for (uint t = 0u; t < TT; ++t) {
    // Tokens past the batch (the last workgroup of a ragged T) read the last row; never stored.
    const uint xb = g.x_offset + min(t0 + t, p.T - 1u) * g.k + k0;
    float xv[CHUNK];
    if ((xb & 3u) == 0u && k0 + CHUNK <= g.k) {  // two 16-byte loads instead of eight 4-byte ones
      const vec4 lo = x_quads[xb >> 2], hi = x_quads[(xb >> 2) + 1u];
      xv = float[CHUNK](lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w);
    } else {
      for (uint e = 0u; e < CHUNK; ++e) xv[e] = k0 + e < g.k ? x[xb + e] : 0.0;
    }
    for (uint e = 0u; e < CHUNK; ++e) acc[t] += wv[e] * activate_in(xv[e], g.act_in);
  }
}

void main() {
  const Group g = p.groups[gl_WorkGroupID.z];
  const uint t0 = gl_WorkGroupID.y * TT;
  const uint per_row = gl_WorkGroupSize.x / ROWS;
  const uint r = gl_LocalInvocationID.x / per_row, lane = gl_LocalInvocationID.x % per_row;
  const uint row = gl_WorkGroupID.x * ROWS + r;
  float acc[TT];
  for (uint t = 0u; t < TT; ++t) acc[t] = 0.0;
  if (row < g.m) {
    const uint base = g.w_offset + row * ((g.k / QK) * QBYTES);
    const uint step = per_row * CHUNK;
    uint k0 = lane * CHUNK;
    for (; k0 + step < g.k; k0 += 2u * step) {
      accumulate(g, base, k0, t0, acc);
      accumulate(g, base, k0 + step, t0, acc);
    }
    if (k0 < g.k) accumulate(g, base, k0, t0, acc);
  }
  for (uint t = 0u; t < TT; ++t) {
    const float s = subgroupAdd(acc[t]);
    if (subgroupElect()) partials[gl_SubgroupID][t] = s;
  }
  barrier();
  // The first invocation of each row adds its subgroups' partials.
  if (lane == 0u && row < g.m) {
    const uint first = (r * per_row) / gl_SubgroupSize, count = per_row / gl_SubgroupSize;
    for (uint t = 0u; t < TT; ++t) {
      float sum = 0.0;
      for (uint i = 0u; i < count; ++i) sum += partials[first + i][t];
      if (t0 + t < p.T) store(g, t0 + t, row, sum);
    }
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
  const Group g = p.groups[gl_WorkGroupID.z];
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
