#version 450
// Spec T4-T12 for one (sequence, head): the elementwise prelude (decay, in-context learning rate,
// kk normalization, key and value adjustments), the WKV7 recurrence over the sequence's tokens in
// order with the state kept in registers, then GroupNorm, the r*k bonus and the gate:
//   out[t, head] = (GroupNorm(y) * ln_x.w + ln_x.b + bonus * v) * g
// One workgroup per (sequence, head); invocation i owns state row i (value index) of the head.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;  // the head size N

#include "batch.glsl"

layout(binding = 0) readonly buffer RKV { float rkv[]; };      // [3, T, C]: r, k, v (Wr/Wk/Wv outputs)
layout(binding = 1) readonly buffer Lora { float lora[]; };    // [4, T, C]: w, a, v, g LoRA outputs
layout(binding = 2) readonly buffer Vectors { float vec[]; };  // [*, C] f32 parameter rows
layout(binding = 3) buffer VFirst { float v_first[]; };        // [T, C]: layer 0 writes, others read
layout(binding = 4) buffer State { float state[]; };           // [slots, stride]
layout(binding = 5) readonly buffer Seqs { Sequence seqs[]; }; // [S]
layout(binding = 6) writeonly buffer Out { float o[]; };       // [T, C]

#include "layouts.h"
layout(push_constant, std430) uniform Push { Wkv7Push p; };

#include "reduce.glsl"

#define N gl_WorkGroupSize.x
shared float s_r[N], s_w[N], s_k[N], s_kk[N], s_kka[N];
// The state moves between memory and the invocations' rows through slabs of SLAB rows, read and
// written a column per invocation so that a subgroup's accesses are consecutive floats (a row per
// invocation would put them N floats apart). The host picks SLAB = N where the whole head fits in
// shared memory (one round trip: a decode step is latency-bound), else 16 rows at a time. Rows
// are padded to N + 1 floats so that a slab's rows read at one column fall in distinct banks.
layout(constant_id = 1) const uint SLAB = 16u;
shared float s_slab[SLAB][N + 1u];

float sigmoid(float z) { return 1.0 / (1.0 + exp(-z)); }
float param(uint row, uint c) { return vec[row * p.C + c]; }

void main() {
  const Sequence seq = seqs[gl_WorkGroupID.x];
  const uint begin = seq.start + min(seq.len, p.window_begin), end = seq.start + min(seq.len, p.window_begin + p.window_tokens);
  if (begin == end) return;  // the whole workgroup: this sequence has no tokens in the window
  const uint h = gl_WorkGroupID.y;
  const uint i = gl_LocalInvocationID.x;
  const uint c = h * N + i;
  const uint TC = p.T * p.C;
  const uint base = seq.slot * p.state_stride + p.state_offset + h * N * N;

  // S is indexed only in loops of constant bounds without barriers, which keeps it in registers.
  float S[N];
  for (uint r0 = 0u; r0 < N; r0 += SLAB) {
    for (uint k = 0u; k < SLAB && r0 + k < N; ++k) s_slab[k][i] = state[base + (r0 + k) * N + i];
    barrier();
    if (i >= r0 && i < r0 + SLAB)
      for (uint j = 0u; j < N; ++j) S[j] = s_slab[i - r0][j];
    barrier();
  }

  for (uint t = begin; t < end; ++t) {
    const uint at = t * p.C + c;
    const float r = rkv[at];
    float k = rkv[TC + at];
    float v = rkv[2u * TC + at];
    const float w = exp(-0.606531 * sigmoid(param(p.w0_row, c) + lora[at]));
    const float a = sigmoid(param(p.a0_row, c) + lora[TC + at]);
    const float g = lora[3u * TC + at];
    float kk = k * param(p.k_k_row, c);
    kk /= max(sqrt(workgroup_sum(kk * kk)), 1e-12);
    k *= 1.0 + (a - 1.0) * param(p.k_a_row, c);
    if (p.layer0 != 0u) {
      v_first[at] = v;
    } else {
      v += (v_first[at] - v) * sigmoid(param(p.v0_row, c) + lora[2u * TC + at]);
    }
    s_r[i] = r;
    s_w[i] = w;
    s_k[i] = k;
    s_kk[i] = kk;
    s_kka[i] = kk * a;
    barrier();
    float sa = 0.0;
    for (uint j = 0u; j < N; ++j) sa -= S[j] * s_kk[j];
    float y = 0.0;
    for (uint j = 0u; j < N; ++j) {
      S[j] = S[j] * s_w[j] + sa * s_kka[j] + v * s_k[j];
      y += S[j] * s_r[j];
    }
    // GroupNorm over the head (eps 64e-5), then the bonus sum_j r_j k_j r_k_j times v, then the gate.
    const vec4 sums = workgroup_sum(vec4(y, r * k * param(p.r_k_row, c), 0.0, 0.0));
    const float mean = sums.x / float(N);
    const float var = workgroup_sum((y - mean) * (y - mean)) / float(N);
    const float normed = (y - mean) * inversesqrt(var + 64e-5) * param(p.ln_x_w_row, c) + param(p.ln_x_b_row, c);
    o[at] = (normed + sums.y * v) * g;
  }
  for (uint r0 = 0u; r0 < N; r0 += SLAB) {
    if (i >= r0 && i < r0 + SLAB)
      for (uint j = 0u; j < N; ++j) s_slab[i - r0][j] = S[j];
    barrier();
    for (uint k = 0u; k < SLAB && r0 + k < N; ++k) state[base + (r0 + k) * N + i] = s_slab[k][i];
    barrier();
  }
}
