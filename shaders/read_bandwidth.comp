#version 450
#extension GL_GOOGLE_include_directive : require
// Memory read bandwidth probe for the benchmark program: every invocation reads 16-byte words in
// a grid-stride loop and writes one word, so the bytes moved are the buffer's size.
layout(local_size_x = 256) in;

layout(binding = 0) readonly buffer Src { uvec4 src[]; };  // [n] the buffer read
layout(binding = 1) writeonly buffer Dst { uint dst[]; };  // [invocations] one word each

#include "layouts.h"
layout(push_constant, std430) uniform Push { BandwidthPush p; };

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  uvec4 acc = uvec4(0);
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) acc ^= src[i];
  dst[gl_GlobalInvocationID.x] = acc.x ^ acc.y ^ acc.z ^ acc.w;
}
