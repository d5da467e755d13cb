#version 450
// The last step of pooling on the GPU, one workgroup per sequence s (seqs[s] = {state slot, tokens}):
//   "state" pooling first writes pooled[s, h * N + i] = mean over j of the last layer's wkv state
//   [H, N, N] of the slot (the state layout comes in the push block: the engine's, ops/pool.hpp);
//   then pooled[s, :] *= scale (1 / tokens for "mean", else 1), and with normalize it is divided by
//   max(its L2 norm, 1e-12), as numpy's pooled / norm would be.
#extension GL_GOOGLE_include_directive : require
#include "layouts.h"

layout(local_size_x_id = 0) in;

layout(binding = 0) readonly buffer State { float state[]; };  // [slots, floats per slot]
layout(binding = 1) readonly buffer Seqs { PoolSeq seqs[]; };   // [n_seqs]
layout(binding = 2) buffer Pooled { float pooled[]; };         // [n_seqs, C]

layout(push_constant, std430) uniform Push { PoolFinishPush p; };

shared float partial[gl_WorkGroupSize.x];

void main() {
  const PoolSeq seq = seqs[gl_WorkGroupID.x];
  const uint row = gl_WorkGroupID.x * p.C;
  const float scale = p.mean != 0u ? 1.0 / float(seq.tokens) : 1.0;
  float squares = 0.0;
  for (uint c = gl_LocalInvocationID.x; c < p.C; c += gl_WorkGroupSize.x) {
    float v = pooled[row + c];
    if (p.from_state != 0u) {
      const uint base = seq.slot * p.slot_floats + p.wkv_offset + c * p.head_size;  // row c of [C, N] = [H, N, N]
      v = 0.0;
      for (uint j = 0u; j < p.head_size; ++j) v += state[base + j];
      v /= float(p.head_size);
    }
    v *= scale;
    pooled[row + c] = v;
    squares += v * v;
  }
  if (p.normalize == 0u) return;
  partial[gl_LocalInvocationID.x] = squares;
  barrier();
  for (uint half_size = gl_WorkGroupSize.x / 2u; half_size > 0u; half_size /= 2u) {
    if (gl_LocalInvocationID.x < half_size) partial[gl_LocalInvocationID.x] += partial[gl_LocalInvocationID.x + half_size];
    barrier();
  }
  const float inv = 1.0 / max(sqrt(partial[0]), 1e-12);
  for (uint c = gl_LocalInvocationID.x; c < p.C; c += gl_WorkGroupSize.x) pooled[row + c] *= inv;
}
