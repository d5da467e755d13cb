#version 450
// Weights in fp16 for the tensor-core matmul (matmul_coopmat.comp): for each part, rows of a
// matrix in its GGUF type (quant.glsl) written as fp16, 8 halves per uvec4, row after row, at
// uvec4 offset out_offset. ops/matmul.cpp converts block-quantized weights of products over many
// tokens this way first: the product then loads them as F16, with no dequantization between its
// loads and its tensor-core steps (the values are those the product's fp16 tiles held before).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;

layout(binding = 0) readonly buffer W { uint w_words[]; };
layout(binding = 0) readonly buffer WQuads { uvec4 w_quads[]; };
layout(binding = 1) writeonly buffer W16 { uvec4 w16[]; };

#define BYTES_BUFFER w_words
#define QUADS_BUFFER w_quads
#include "quant.glsl"

// Per part: rows, k (a multiple of 8: every type's block is), w_offset (bytes of the weight
// binding), out_offset (uvec4s of W16).
#include "layouts.h"
layout(push_constant, std430) uniform Push { HalfWeightsPush p; };

void main() {
  const uvec4 part = p.parts[gl_WorkGroupID.z];
  const uint quads = part.y / 8u;
  const uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  if (i >= part.x * quads) return;
  const uint row = i / quads, k0 = (i % quads) * 8u;
  float w[8];
  dequant8(part.z + row * (part.y / QK) * QBYTES, k0, w);
  w16[part.w + i] = uvec4(packHalf2x16(vec2(w[0], w[1])), packHalf2x16(vec2(w[2], w[3])), packHalf2x16(vec2(w[4], w[5])),
                          packHalf2x16(vec2(w[6], w[7])));
}
