#version 450
// The second pass of a split-k tensor-core product (matmul_coopmat.comp with SK > 1): Y of each
// group from its SK blocks of partial sums, added in order, with the epilogue of matmul.comp's
// contract (the 2^x_shift scale, act_out, accumulate).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint SK = 2;

layout(binding = 0) readonly buffer Partials { float partials[]; };  // per group SK blocks of [T, m]
layout(binding = 1) buffer Y { float y[]; };

#include "matmul_params.glsl"

void main() {
  const MatmulPushGroup g = p.groups[gl_WorkGroupID.z];
  const uint i = gl_GlobalInvocationID.x;
  if (i >= p.T * g.m) return;
  uint base = 0u;
  for (uint j = 0u; j < gl_WorkGroupID.z; ++j) base += SK * p.T * p.groups[j].m;
  float sum = 0.0;
  for (uint s = 0u; s < SK; ++s) sum += partials[base + s * p.T * g.m + i];
  const uint t = i / g.m, row = i % g.m, at = g.y_offset + t * g.y_stride + row;
  float v = activate_out(sum * exp2(float(x_shift(g.act_in))));
  if (p.accumulate != 0u) v += y[at];
  y[at] = v;
}
