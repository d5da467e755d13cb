#version 450
// Embedding gather: out[t, :] = dequant(table[ids[t], :]) for the tokens whose id falls in this
// dispatch's chunk of table rows [row_begin, row_begin + row_count). Tables above the device's
// maxStorageBufferRange are bound one chunk at a time (cpp/ops/get_rows.cpp).
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(binding = 0) readonly buffer Table { uint table_words[]; };  // [row_count, row_bytes] ggml blocks
layout(binding = 1) readonly buffer Ids { uint ids[]; };            // [n_tokens] token ids
layout(binding = 2) writeonly buffer Out { float out_rows[]; };     // [n_tokens, cols] f32

#include "layouts.h"
layout(push_constant, std430) uniform Push { GetRowsPush p; };

#define BYTES_BUFFER table_words
#include "quant.glsl"

void main() {
  const uint col = gl_GlobalInvocationID.x;
  const uint t = gl_WorkGroupID.y + p.token_begin;
  if (col >= p.cols || t >= p.n_tokens) return;
  const uint row = ids[t] - p.row_begin;
  if (ids[t] < p.row_begin || row >= p.row_count) return;
  const uint block = row * p.row_bytes + (col / QK) * QBYTES;
  out_rows[t * p.cols + col] = dequant(block, col % QK);
}
