#version 450
// The fp16 operand of the tensor-core matmul (matmul_coopmat.comp): for each group,
// X16_g[t, k] = fp16(act_in(X_g[t, k]) * 2^-x_shift) (act_in and x_shift as in
// matmul_params.glsl), rows of ceil(k / 8) uvec4 (8 halves each, zeros past k). Converting once
// here instead of in each of the product's workgroups (rows / BR of them read every X) halves the
// bytes the product reads of X and frees the registers its fp32 loads held.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) writeonly buffer X16 { uvec4 x16[]; };

#define MATMUL_NO_PUSH
#include "matmul_params.glsl"

// Per group: k, x_offset (floats), x16_offset (uvec4s), act_in (as matmul_params.glsl's MatmulPushGroup).
#include "layouts.h"
layout(push_constant, std430) uniform Push { HalfInputsPush p; };

void main() {
  const uvec4 g = p.groups[gl_WorkGroupID.z];
  const uint k = g.x, quads = (k + 7u) / 8u;
  const uint i = gl_GlobalInvocationID.x;
  if (i >= p.T * quads) return;
  const uint t = i / quads, k0 = (i % quads) * 8u;
  const float scale = exp2(float(-x_shift(g.w)));
  float v[8];
  for (uint e = 0u; e < 8u; ++e) v[e] = k0 + e < k ? activate_in(x[g.y + t * k + k0 + e], g.w) * scale : 0.0;
  x16[g.z + i] = uvec4(packHalf2x16(vec2(v[0], v[1])), packHalf2x16(vec2(v[2], v[3])), packHalf2x16(vec2(v[4], v[5])),
                       packHalf2x16(vec2(v[6], v[7])));
}
