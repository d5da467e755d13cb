#version 450
// out[r, :] = LayerNorm(x[row(r), :]) * weight + bias, one workgroup per output row r.
// row(r) = rows[r] when p.use_rows, else r (ln_out of only the tokens whose logits are wanted).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(binding = 0) readonly buffer X { float x[]; };        // [T, C]
layout(binding = 1) readonly buffer Vectors { float vec[]; }; // [*, C] f32 parameter rows
layout(binding = 2) readonly buffer Rows { uint rows[]; };    // [R] token rows to normalize
layout(binding = 3) writeonly buffer Out { float y[]; };      // [R, C]

#include "layouts.h"
layout(push_constant, std430) uniform Push { LayerNormPush p; };

#include "reduce.glsl"

void main() {
  const uint r = gl_WorkGroupID.x;
  const uint src = (p.use_rows != 0u ? rows[r] : r) * p.C;
  const uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  float s = 0.0;
  for (uint c = tid; c < p.C; c += wg) s += x[src + c];
  const float mean = workgroup_sum(s) / float(p.C);
  float q = 0.0;
  for (uint c = tid; c < p.C; c += wg) {
    const float d = x[src + c] - mean;
    q += d * d;
  }
  const float rstd = inversesqrt(workgroup_sum(q) / float(p.C) + p.eps);
  for (uint c = tid; c < p.C; c += wg)
    y[r * p.C + c] = (x[src + c] - mean) * rstd * vec[p.weight_row * p.C + c] + vec[p.bias_row * p.C + c];
}
