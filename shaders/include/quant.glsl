// One dequantizer per GGUF weight type, all with the same signature:
//   float dequant(uint block_offset, uint e)  -- element e of the block starting at byte block_offset
// and the constants QK (elements per block) and QBYTES (bytes per block). The variant is chosen by
// defining one of TYPE_F32, TYPE_F16, ... (shaders/variants.cmake). Formats: rwkv7-spec.md section 2.
#ifndef QUANT_GLSL
#define QUANT_GLSL
#include "bytes.glsl"

#if defined(TYPE_F32)
#define QK 1u
#define QBYTES 4u
float dequant(uint b, uint e) { return uintBitsToFloat(BYTES_BUFFER[b >> 2]); }

#elif defined(TYPE_F16)
#define QK 1u
#define QBYTES 2u
float dequant(uint b, uint e) { return load_f16(b); }

#elif defined(TYPE_BF16)
#define QK 1u
#define QBYTES 2u
float dequant(uint b, uint e) { return load_bf16(b); }

#elif defined(TYPE_Q4_0)
#define QK 32u
#define QBYTES 18u
float dequant(uint b, uint e) {
  const uint q = (load_u8(b + 2u + (e & 15u)) >> ((e >> 4) * 4u)) & 15u;
  return (float(q) - 8.0) * load_f16(b);
}

#elif defined(TYPE_Q4_1)
#define QK 32u
#define QBYTES 20u
float dequant(uint b, uint e) {
  const uint q = (load_u8(b + 4u + (e & 15u)) >> ((e >> 4) * 4u)) & 15u;
  return float(q) * load_f16(b) + load_f16(b + 2u);
}

#elif defined(TYPE_Q5_0)
#define QK 32u
#define QBYTES 22u
float dequant(uint b, uint e) {
  const uint lo = (load_u8(b + 6u + (e & 15u)) >> ((e >> 4) * 4u)) & 15u;
  const uint hi = (load_u32(b + 2u) >> e) & 1u;
  return (float(lo | (hi << 4)) - 16.0) * load_f16(b);
}

#elif defined(TYPE_Q5_1)
#define QK 32u
#define QBYTES 24u
float dequant(uint b, uint e) {
  const uint lo = (load_u8(b + 8u + (e & 15u)) >> ((e >> 4) * 4u)) & 15u;
  const uint hi = (load_u32(b + 4u) >> e) & 1u;
  return float(lo | (hi << 4)) * load_f16(b) + load_f16(b + 2u);
}

#elif defined(TYPE_Q8_0)
#define QK 32u
#define QBYTES 34u
float dequant(uint b, uint e) { return float(load_i8(b + 2u + e)) * load_f16(b); }

#elif defined(TYPE_Q4_K) || defined(TYPE_Q5_K)
#define QK 256u
#if defined(TYPE_Q4_K)
#define QBYTES 144u
#define QS_OFFSET 16u
#else
#define QBYTES 176u
#define QS_OFFSET 48u
#endif
// 6-bit scale and min of sub-block j from the 12 packed bytes at s.
vec2 scale_min_k4(uint s, uint j) {
  if (j < 4u) return vec2(load_u8(s + j) & 63u, load_u8(s + j + 4u) & 63u);
  const uint a = load_u8(s + j + 4u);
  return vec2((a & 15u) | ((load_u8(s + j - 4u) >> 6) << 4), (a >> 4) | ((load_u8(s + j) >> 6) << 4));
}
float dequant(uint b, uint e) {
  const uint c = e >> 6, w = e & 63u, l = w & 31u, sb = 2u * c + (w >> 5);
  uint q = (load_u8(b + QS_OFFSET + 32u * c + l) >> ((w >> 5) * 4u)) & 15u;
#if defined(TYPE_Q5_K)
  q |= ((load_u8(b + 16u + l) >> sb) & 1u) << 4;
#endif
  const vec2 sm = scale_min_k4(b + 4u, sb);
  return load_f16(b) * sm.x * float(q) - load_f16(b + 2u) * sm.y;
}

#elif defined(TYPE_Q6_K)
#define QK 256u
#define QBYTES 210u
float dequant(uint b, uint e) {
  const uint h = e >> 7, r = e & 127u, qt = r >> 5, l = r & 31u;
  const uint lo = (load_u8(b + 64u * h + l + ((qt & 1u) * 32u)) >> ((qt >> 1) * 4u)) & 15u;
  const uint hi = (load_u8(b + 128u + 32u * h + l) >> (2u * qt)) & 3u;
  const float scale = float(load_i8(b + 192u + 8u * h + 2u * qt + l / 16u));
  return load_f16(b + 208u) * scale * (float(lo | (hi << 4)) - 32.0);
}

#else
#error "define one TYPE_* to choose the weight type"
#endif

#endif
