#version 450
// Spec T1-T2 / C1: u = LN(x[t]); d = prev - u; out[k, t, :] = u + d * mu[k] for k < n_mix,
// where prev is LN(x[t-1]) inside a sequence and the state's shift at its first token.
// Workgroups (t, g): token t's channels g * WG + i, strided by the grid's height (the channel
// groups: ops/norms.cpp's rule; several when few tokens would leave the GPU idle, each computing
// the row statistics itself). Only the first token's workgroups touch the state, each its own
// channels: they read the old shift and write the new one (LN of the sequence's last token), so
// no other workgroup races them.
// With half_out the mixes go out in fp16 as the tensor-core products read their inputs
// (matmul_coopmat.comp's X16: rows of ceil(C / 8) * 8 halves, zeros past C), two channels per
// invocation and store, so that those products need no conversion step of their own.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

#include "batch.glsl"

layout(binding = 0) readonly buffer X { float x[]; };          // [T, C] residual stream
layout(binding = 1) readonly buffer Vectors { float vec[]; };   // [*, C] f32 parameter rows
layout(binding = 2) buffer State { float state[]; };            // [slots, stride] recurrent state
layout(binding = 3) readonly buffer TokenSeq { uint token_seq[]; };  // [T] sequence of each token
layout(binding = 4) readonly buffer Seqs { Sequence seqs[]; };  // [S]
layout(binding = 5) writeonly buffer Out { float mixes[]; };    // [n_mix, T, C]
layout(binding = 5) writeonly buffer OutHalf { uint mixes_half[]; };  // [n_mix, T, ceil(C / 8) * 4] fp16 pairs

#include "layouts.h"
layout(push_constant, std430) uniform Push { ShiftMixPush p; };

#include "reduce.glsl"

// Mean and reciprocal std of rows a and b, as (mean_a, rstd_a, mean_b, rstd_b): two passes (for
// accuracy with tiny inputs), both rows in each workgroup reduction.
vec4 row_stats(uint a, uint b) {
  const uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  vec2 s = vec2(0.0);
  for (uint c = tid; c < p.C; c += wg) s += vec2(x[a * p.C + c], x[b * p.C + c]);
  const vec2 mean = workgroup_sum(vec4(s, 0.0, 0.0)).xy / float(p.C);
  vec2 q = vec2(0.0);
  for (uint c = tid; c < p.C; c += wg) {
    const vec2 d = vec2(x[a * p.C + c], x[b * p.C + c]) - mean;
    q += d * d;
  }
  const vec2 rstd = inversesqrt(workgroup_sum(vec4(q, 0.0, 0.0)).xy / float(p.C) + p.eps);
  return vec4(mean.x, rstd.x, mean.y, rstd.y);
}

float normed(uint t, uint c, vec2 st) {
  return (x[t * p.C + c] - st.x) * st.y * vec[p.ln_weight_row * p.C + c] + vec[p.ln_bias_row * p.C + c];
}

// Token t's LN value u at channel c, and d = prev - u (at a sequence's first token, prev comes
// from the state, which takes the new shift).
vec2 u_and_d(uint t, uint c, bool first, uint last, uint shift, vec2 cur, vec2 other) {
  const float u = normed(t, c, cur);
  float prev;
  if (first) {
    prev = state[shift + c];
    state[shift + c] = normed(last, c, other);
  } else {
    prev = normed(t - 1u, c, other);
  }
  return vec2(u, prev - u);
}

void main() {
  const uint t = gl_WorkGroupID.x;
  const Sequence seq = seqs[token_seq[t]];
  const bool first = t == seq.start;
  const uint last = seq.start + seq.len - 1u;
  // This token's stats, and the previous token's (or, at a sequence's first token, the last
  // token's, for the state update).
  const vec4 stats = row_stats(t, first ? last : t - 1u);
  const vec2 cur = stats.xy, other = stats.zw;
  const uint shift = seq.slot * p.state_stride + p.state_offset;
  const uint stride = gl_NumWorkGroups.y * gl_WorkGroupSize.x;
  const uint begin = gl_WorkGroupID.y * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (p.half_out == 0u) {
    for (uint c = begin; c < p.C; c += stride) {
      const vec2 ud = u_and_d(t, c, first, last, shift, cur, other);
      for (uint k = 0u; k < p.n_mix; ++k) mixes[(k * p.T + t) * p.C + c] = ud.x + ud.y * vec[(p.mu_row + k) * p.C + c];
    }
    return;
  }
  const uint pairs = (p.C + 7u) / 8u * 4u;  // per row
  for (uint i = begin; i < pairs; i += stride) {
    const uint c = 2u * i;
    const vec2 ud0 = c < p.C ? u_and_d(t, c, first, last, shift, cur, other) : vec2(0.0);
    const vec2 ud1 = c + 1u < p.C ? u_and_d(t, c + 1u, first, last, shift, cur, other) : vec2(0.0);
    for (uint k = 0u; k < p.n_mix; ++k) {
      const uint mu = (p.mu_row + k) * p.C + c;
      const vec2 m = vec2(ud0.x + ud0.y * (c < p.C ? vec[mu] : 0.0), ud1.x + ud1.y * (c + 1u < p.C ? vec[mu + 1u] : 0.0));
      mixes_half[(k * p.T + t) * pairs + i] = packHalf2x16(m);
    }
  }
}
