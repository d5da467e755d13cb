#version 450
// Spec T4-T12 for one (sequence, head): the elementwise prelude (decay, in-context learning rate,
// kk normalization, key and value adjustments), the WKV7 recurrence over the sequence's tokens in
// order with the state kept in registers, then GroupNorm, the r*k bonus and the gate:
//   out[t, head] = (GroupNorm(y) * ln_x.w + ln_x.b + bonus * v) * g
// One workgroup per (sequence, head). LANES consecutive invocations own state row i (value index)
// of the head, invocation lane of them the columns lane + LANES m: a row's sums over its columns
// end in LANES-wide subgroup shuffles, and the state moves between memory and registers directly,
// each load or store of a subgroup covering LANES consecutive floats of each of its rows. A decode
// step is latency-bound: LANES > 1 gives a head more invocations, each a shorter chain of work
// (the host picks LANES, ops/wkv7.cpp). Every invocation of a row computes the row's channel values
// (its loads are the same addresses); the row's first invocation shares them and adds them into
// the sums over the head.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
layout(local_size_x_id = 0) in;               // N * LANES
layout(constant_id = 1) const uint N = 64u;   // the head size
layout(constant_id = 2) const uint LANES = 1u;  // a power of two dividing N and the subgroup size
const uint COLS = N / LANES;                  // state columns per invocation

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

shared float s_r[N], s_w[N], s_k[N], s_kk[N], s_kka[N];

float sigmoid(float z) { return 1.0 / (1.0 + exp(-z)); }
float param(uint row, uint c) { return vec[row * p.C + c]; }

// The sum over a row's LANES invocations (consecutive, inside one subgroup), in every one of them.
float row_sum(float v) {
  [[unroll]] for (uint d = 1u; d < LANES; d *= 2u) v += subgroupShuffleXor(v, d);
  return v;
}

void main() {
  const Sequence seq = seqs[gl_WorkGroupID.x];
  const uint begin = seq.start + min(seq.len, p.window_begin), end = seq.start + min(seq.len, p.window_begin + p.window_tokens);
  if (begin == end) return;  // the whole workgroup: this sequence has no tokens in the window
  const uint h = gl_WorkGroupID.y;
  const uint i = gl_LocalInvocationID.x / LANES, lane = gl_LocalInvocationID.x % LANES;
  const bool lead = lane == 0u;  // the row's invocation that shares its channel's values
  const uint c = h * N + i;
  const uint TC = p.T * p.C;
  const uint row = seq.slot * p.state_stride + p.state_offset + (h * N + i) * N + lane;

  // S is indexed only in unrolled loops of constant bounds, which keeps it in registers.
  float S[COLS];
  [[unroll]] for (uint m = 0u; m < COLS; ++m) S[m] = state[row + LANES * m];

  for (uint t = begin; t < end; ++t) {
    const uint at = t * p.C + c;
    const float r = rkv[at];
    float k = rkv[TC + at];
    float v = rkv[2u * TC + at];
    const float w = exp(-0.606531 * sigmoid(param(p.w0_row, c) + lora[at]));
    const float a = sigmoid(param(p.a0_row, c) + lora[TC + at]);
    const float g = lora[3u * TC + at];
    float kk = k * param(p.k_k_row, c);
    kk /= max(sqrt(workgroup_sum(lead ? kk * kk : 0.0)), 1e-12);
    k *= 1.0 + (a - 1.0) * param(p.k_a_row, c);
    if (p.layer0 != 0u) {
      if (lead) v_first[at] = v;
    } else {
      v += (v_first[at] - v) * sigmoid(param(p.v0_row, c) + lora[2u * TC + at]);
    }
    if (lead) {
      s_r[i] = r;
      s_w[i] = w;
      s_k[i] = k;
      s_kk[i] = kk;
      s_kka[i] = kk * a;
    }
    barrier();
    float sa = 0.0;
    [[unroll]] for (uint m = 0u; m < COLS; ++m) sa -= S[m] * s_kk[lane + LANES * m];
    sa = row_sum(sa);
    float y = 0.0;
    [[unroll]] for (uint m = 0u; m < COLS; ++m) {
      const uint j = lane + LANES * m;
      S[m] = S[m] * s_w[j] + sa * s_kka[j] + v * s_k[j];
      y += S[m] * s_r[j];
    }
    y = row_sum(y);
    // GroupNorm over the head (eps 64e-5), then the bonus sum_j r_j k_j r_k_j times v, then the gate.
    const vec4 sums = workgroup_sum(lead ? vec4(y, r * k * param(p.r_k_row, c), 0.0, 0.0) : vec4(0.0));
    const float mean = sums.x / float(N);
    const float var = workgroup_sum(lead ? (y - mean) * (y - mean) : 0.0) / float(N);
    const float normed = (y - mean) * inversesqrt(var + 64e-5) * param(p.ln_x_w_row, c) + param(p.ln_x_b_row, c);
    if (lead) o[at] = (normed + sums.y * v) * g;
  }
  [[unroll]] for (uint m = 0u; m < COLS; ++m) state[row + LANES * m] = S[m];
}
