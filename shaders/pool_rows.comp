#version 450
// Pooling on the GPU, so that an embedding call reads back one row per sequence instead of every
// token's: for each piece (a sequence's rows of this chunk, consecutive in `rows`),
//   pooled[piece.dest, :] += sum of rows[piece.first .. piece.first + piece.count - 1, :]
// in row order. Chunks come in order, so sums over a sequence do not depend on timing. One
// workgroup per piece; no two pieces of a dispatch name the same output row.
#extension GL_GOOGLE_include_directive : require
#include "layouts.h"

layout(local_size_x_id = 0) in;

layout(binding = 0) readonly buffer Rows { float rows[]; };       // [n_rows, C]
layout(binding = 1) readonly buffer Pieces { PoolPiece pieces[]; };  // [n_pieces]
layout(binding = 2) buffer Pooled { float pooled[]; };           // [n_out, C]

layout(push_constant, std430) uniform Push { PoolRowsPush p; };

void main() {
  const PoolPiece piece = pieces[gl_WorkGroupID.x];
  for (uint c = gl_LocalInvocationID.x; c < p.C; c += gl_WorkGroupSize.x) {
    float sum = 0.0;
    for (uint r = 0u; r < piece.count; ++r) sum += rows[(piece.first + r) * p.C + c];
    pooled[piece.dest * p.C + c] += sum;
  }
}
