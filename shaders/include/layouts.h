// Buffer and push-constant layouts shared by the shaders and the host: one definition of each,
// included by both (the GLSL shaders through GL_GOOGLE_include_directive, C++ as rwkv::gpu::*,
// with GLSL's `uint` as uint32_t). Every member is a 4-byte scalar, so std430 and C++ lay the
// structs out alike; the host's static_asserts check their sizes at build time.
#ifndef RWKV_LAYOUTS_H
#define RWKV_LAYOUTS_H

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
namespace rwkv::gpu {
using uint = uint32_t;
struct uvec4 {
  uint x, y, z, w;
};
#endif

// One sequence of a token batch (batch.glsl): its tokens are contiguous from `start`.
struct Sequence {
  uint start;  // first token of the sequence in this batch
  uint len;    // its token count
  uint slot;   // its state slot
  uint pad;
};

// One row to sample (sample.comp).
struct SampleRow {
  uint logits_row;
  uint slot;          // penalty memory slot
  float temperature;  // 0: greedy
  float top_p;        // >= 1: off
  uint top_k;         // 0: off
  float presence;
  float frequency;
  float decay;
  uint seed_lo, seed_hi;
  uint counter;       // tokens this sequence drew before: the draw's position in its random stream
  uint penalize;      // presence or frequency is nonzero
};

// pool_rows.comp: rows [first, first + count) add to row `dest` of the pooled rows.
struct PoolPiece {
  uint first, count, dest, unused;
};

// pool_finish.comp: a sequence's state slot and token count, and the push block.
struct PoolSeq {
  uint slot, tokens;
};
struct PoolFinishPush {
  uint C;
  uint head_size;    // N
  uint wkv_offset;   // floats from a slot's start to the last layer's wkv [H, N, N]
  uint slot_floats;  // floats per slot
  uint from_state;   // 1: "state" pooling
  uint mean;         // 1: scale by 1 / tokens
  uint normalize;    // 1: divide by max(L2 norm, 1e-12)
};

// The push blocks, one per shader (family); a shader declares
//   layout(push_constant, std430) uniform Push { XPush p; };
// and reads p.field. At most 128 bytes each (every device's maxPushConstantsSize).

struct SamplePush {
  uint V;
  uint pass;  // SEARCH: which pass
};
// sample.comp's threshold searches: buckets a pass splits a range of probability bits into, and
// passes that narrow any range to one threshold (256-way steps from [0, 1.0f]; worked out in
// tests/cpp/test_sample.cpp); and its scratch per row of logits with G chunks, in 32-bit words
// (the layout: sample.comp).
#define SAMPLE_BUCKETS 256u
#define SAMPLE_SEARCH_PASSES 4u
#define SAMPLE_SCRATCH_WORDS(G) ((4u + 8u * (SAMPLE_BUCKETS + 1u)) * (G) + 4u * SAMPLE_SEARCH_PASSES)
struct PoolRowsPush {
  uint C, n_pieces;
};
struct BandwidthPush {
  uint n;  // uvec4s to read
};
struct GetRowsPush {
  uint n_tokens;
  uint cols;       // elements per row
  uint row_bytes;  // bytes per row in the table
  uint row_begin;  // first table row of this chunk
  uint row_count;  // rows in this chunk
  uint token_begin;
};
struct LayerNormPush {
  uint n_rows;
  uint C;
  float eps;
  uint weight_row;  // rows of the vector table holding the weight and the bias
  uint bias_row;
  uint use_rows;    // 1: normalize only the rows listed in the row buffer
};
struct ShiftMixPush {
  uint T;
  uint C;
  float eps;
  uint ln_weight_row;
  uint ln_bias_row;
  uint mu_row;        // first of n_mix consecutive mu rows
  uint n_mix;
  uint state_offset;  // floats from a slot's start to this shift vector
  uint state_stride;  // floats per slot
  uint half_out;      // 1: the mixes in fp16, as the tensor-core products' X16 (ln_shift_mix.comp)
};
// wkv7.comp and wkv7_chunked.comp (which ignores the window).
struct Wkv7Push {
  uint T;
  uint C;
  uint layer0;        // 1: store v_first; else mix v towards it
  uint w0_row, a0_row, v0_row, k_k_row, k_a_row, r_k_row, ln_x_w_row, ln_x_b_row;
  uint state_offset;  // floats from a slot's start to this layer's wkv [H, N, N]
  uint state_stride;  // floats per slot
  uint n_seqs;
  uint window_begin;  // wkv7.comp: this dispatch runs tokens [window_begin, window_begin +
  uint window_tokens; // window_tokens) of each sequence (ops/wkv7.cpp bounds one dispatch's loop)
};
// The grouped products (matmul_params.glsl says what each field means).
struct MatmulPushGroup {
  uint m, k, w_offset, x_offset, y_offset, y_stride, act_in;
};
struct MatmulPush {
  uint T, act_out, accumulate, n_groups;
  MatmulPushGroup groups[4];
};
// matmul.comp MATVEC: the most weight rows one invocation reads at once (its RPI; registers).
#define MATVEC_MAX_RPI 4u
// matmul_x16.comp: per group k, x_offset (floats), x16 offset (uvec4s), act_in.
struct HalfInputsPush {
  uint T, pad0, pad1, pad2;  // (the uvec4s start at byte 16 in std430)
  uvec4 groups[4];
};
// matmul_w16.comp: per part rows, k, w_offset (bytes of the weight binding), out offset (uvec4s).
struct HalfWeightsPush {
  uint n_parts, pad0, pad1, pad2;
  uvec4 parts[4];
};

#ifdef __cplusplus
static_assert(sizeof(Sequence) == 16 && sizeof(SampleRow) == 48 && sizeof(PoolPiece) == 16 && sizeof(PoolSeq) == 8);
static_assert(sizeof(PoolFinishPush) == 28 && sizeof(GetRowsPush) == 24 && sizeof(LayerNormPush) == 24 &&
              sizeof(ShiftMixPush) == 40 && sizeof(Wkv7Push) == 64 && sizeof(MatmulPush) == 128);
static_assert(offsetof(HalfInputsPush, groups) == 16 && sizeof(HalfInputsPush) == 80 &&
              offsetof(HalfWeightsPush, parts) == 16 && sizeof(HalfWeightsPush) == 80);
}  // namespace rwkv::gpu
#endif

#endif
