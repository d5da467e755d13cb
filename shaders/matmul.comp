#version 450
// Y[t, m] = act_out(sum_k W[m, k] * act_in(X[t, k])) (+ Y[t, m] when accumulating), for the
// groups in matmul_params.glsl. W stays in its GGUF type and is dequantized here (quant.glsl).
// Two variants of this one source:
//   MATVEC: few tokens (decode); each workgroup reads ROWS weight rows once for up to 8 tokens.
//   TILED:  many tokens (prefill); 64x64 output tiles through shared memory.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(binding = 0) readonly buffer W { uint w_words[]; };  // weight rows, ggml blocks
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) buffer Y { float y[]; };

#define BYTES_BUFFER w_words
#include "quant.glsl"
#include "matmul_params.glsl"

void store(Group g, uint t, uint row, float acc) {
  const uint i = g.y_offset + t * g.y_stride + row;
  float v = activate_out(acc);
  if (p.accumulate != 0u) v += y[i];
  y[i] = v;
}

#if defined(MATVEC)
#include "reduce.glsl"
layout(constant_id = 1) const uint ROWS = 2;
#define TT 8u
#define CHUNK 8u  // consecutive elements per thread step: inside one block for every type

void main() {
  const Group g = p.groups[gl_WorkGroupID.z];
  const uint row0 = gl_WorkGroupID.x * ROWS;
  if (row0 >= g.m) return;  // uniform: the whole workgroup leaves
  const uint t0 = gl_WorkGroupID.y * TT;
  const uint nt = min(p.T - t0, TT);
  const uint row_bytes = (g.k / QK) * QBYTES;
  float acc[ROWS * TT];
  for (uint i = 0u; i < ROWS * TT; ++i) acc[i] = 0.0;

  for (uint k0 = gl_LocalInvocationID.x * CHUNK; k0 < g.k; k0 += gl_WorkGroupSize.x * CHUNK) {
    float xv[CHUNK * TT];
    for (uint t = 0u; t < nt; ++t)
      for (uint e = 0u; e < CHUNK; ++e)
        xv[t * CHUNK + e] = k0 + e < g.k ? activate_in(x[g.x_offset + (t0 + t) * g.k + k0 + e], g.act_in) : 0.0;
    for (uint r = 0u; r < ROWS; ++r) {
      const uint row = min(row0 + r, g.m - 1u);
      const uint base = g.w_offset + row * row_bytes;
      for (uint e = 0u; e < CHUNK && k0 + e < g.k; ++e) {
        const uint k = k0 + e;
        const float wv = dequant(base + (k / QK) * QBYTES, k % QK);
        for (uint t = 0u; t < nt; ++t) acc[r * TT + t] += wv * xv[t * CHUNK + e];
      }
    }
  }
  for (uint r = 0u; r < ROWS; ++r) {
    for (uint t = 0u; t < nt; t += 4u) {
      const vec4 s = workgroup_sum(vec4(acc[r * TT + t], acc[r * TT + min(t + 1u, TT - 1u)],
                                        acc[r * TT + min(t + 2u, TT - 1u)], acc[r * TT + min(t + 3u, TT - 1u)]));
      if (gl_LocalInvocationID.x == 0u && row0 + r < g.m)
        for (uint j = 0u; j < 4u && t + j < nt; ++j) store(g, t0 + t + j, row0 + r, s[j]);
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
    for (uint i = tid; i < BM * BK; i += 256u) {
      const uint r = i / BK, kk = i % BK, row = row0 + r, k = k0 + kk;
      w_tile[r][kk] = row < g.m && k < g.k ? dequant(g.w_offset + row * row_bytes + (k / QK) * QBYTES, k % QK) : 0.0;
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
