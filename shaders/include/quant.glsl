// One dequantizer per GGUF weight type, all with the same signatures:
//   float dequant(uint block_offset, uint e)  -- element e of the block starting at byte block_offset
//   void dequant8(uint row_offset, uint k0, out float w[8])  -- elements k0..k0+7 of a row (k0 % 8 == 0)
// and the constants QK (elements per block) and QBYTES (bytes per block). The variant is chosen by
// defining one of TYPE_F32, TYPE_F16, ... (shaders/variants.cmake). Formats: rwkv7-spec.md section 2.
// dequant8 has fast paths (wide loads, one scale lookup) where QUADS_BUFFER names a uvec4 view of
// the same buffer; other types fall back to eight dequant() calls.
#ifndef QUANT_GLSL
#define QUANT_GLSL
#include "bytes.glsl"

#if defined(TYPE_F32)
#define QK 1u
#define QBYTES 4u
float dequant(uint b, uint e) { return uintBitsToFloat(BYTES_BUFFER[b >> 2]); }
#ifdef QUADS_BUFFER
#define HAVE_DEQUANT8
void dequant8_generic(uint row, uint k0, out float w[8]);
void dequant8(uint row, uint k0, out float w[8]) {
  const uint b = row + k0 * 4u;
  if ((b & 15u) != 0u) { dequant8_generic(row, k0, w); return; }
  const vec4 lo = uintBitsToFloat(QUADS_BUFFER[b >> 4]), hi = uintBitsToFloat(QUADS_BUFFER[(b >> 4) + 1u]);
  w[0] = lo.x; w[1] = lo.y; w[2] = lo.z; w[3] = lo.w; w[4] = hi.x; w[5] = hi.y; w[6] = hi.z; w[7] = hi.w;
}
#endif

#elif defined(TYPE_F16) || defined(TYPE_BF16)
#define QK 1u
#define QBYTES 2u
#if defined(TYPE_F16)
float dequant(uint b, uint e) { return load_f16(b); }
vec2 unpack_pair(uint word) { return unpackHalf2x16(word); }
#else
float dequant(uint b, uint e) { return load_bf16(b); }
vec2 unpack_pair(uint word) { return vec2(uintBitsToFloat(word << 16), uintBitsToFloat(word & 0xFFFF0000u)); }
#endif
#ifdef QUADS_BUFFER
#define HAVE_DEQUANT8
void dequant8_generic(uint row, uint k0, out float w[8]);
void dequant8(uint row, uint k0, out float w[8]) {
  const uint b = row + k0 * 2u;
  if ((b & 15u) != 0u) { dequant8_generic(row, k0, w); return; }
  const uvec4 q = QUADS_BUFFER[b >> 4];
  for (uint i = 0u; i < 4u; ++i) {
    const vec2 h = unpack_pair(q[i]);
    w[2u * i] = h.x;
    w[2u * i + 1u] = h.y;
  }
}
#endif

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
#define HAVE_DEQUANT8
void dequant8(uint row, uint k0, out float w[8]) {
  const uint b = row + (k0 / 32u) * 34u;
  const float d = load_f16(b);
  const uvec2 q = load_8bytes(b + 2u + (k0 & 31u));
  for (uint i = 0u; i < 8u; ++i) w[i] = float(int(byte_of(q, i) << 24) >> 24) * d;
}

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
#define HAVE_DEQUANT8
void dequant8(uint row, uint k0, out float w[8]) {
  const uint b = row + (k0 / 256u) * QBYTES;
  const uint e0 = k0 & 255u, c = e0 >> 6, hi = (e0 >> 5) & 1u, l0 = e0 & 31u, sb = 2u * c + hi;
  const vec2 sm = scale_min_k4(b + 4u, sb);
  const float d = load_f16(b) * sm.x, m = load_f16(b + 2u) * sm.y;
  const uvec2 q = load_8bytes(b + QS_OFFSET + 32u * c + l0);
#if defined(TYPE_Q5_K)
  const uvec2 h = load_8bytes(b + 16u + l0);
#endif
  for (uint i = 0u; i < 8u; ++i) {
    uint v = (byte_of(q, i) >> (4u * hi)) & 15u;
#if defined(TYPE_Q5_K)
    v |= ((byte_of(h, i) >> sb) & 1u) << 4;
#endif
    w[i] = d * float(v) - m;
  }
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
#define HAVE_DEQUANT8
void dequant8(uint row, uint k0, out float w[8]) {
  const uint b = row + (k0 / 256u) * 210u;
  const uint e0 = k0 & 255u, h = e0 >> 7, r = e0 & 127u, qt = r >> 5, l0 = r & 31u;
  const float d = load_f16(b + 208u) * float(load_i8(b + 192u + 8u * h + 2u * qt + l0 / 16u));
  const uvec2 ql = load_8bytes(b + 64u * h + l0 + 32u * (qt & 1u));
  const uvec2 qh = load_8bytes(b + 128u + 32u * h + l0);
  for (uint i = 0u; i < 8u; ++i) {
    const uint v = ((byte_of(ql, i) >> (4u * (qt >> 1))) & 15u) | (((byte_of(qh, i) >> (2u * qt)) & 3u) << 4);
    w[i] = d * (float(v) - 32.0);
  }
}

#else
#error "define one TYPE_* to choose the weight type"
#endif

// Eight dequant() calls: the fallback of every type, and the unaligned case of the wide paths.
void dequant8_generic(uint row, uint k0, out float w[8]) {
  for (uint i = 0u; i < 8u; ++i) w[i] = dequant(row + ((k0 + i) / QK) * QBYTES, (k0 + i) % QK);
}
#ifndef HAVE_DEQUANT8
void dequant8(uint row, uint k0, out float w[8]) { dequant8_generic(row, k0, w); }
#endif

// dequant8 in two halves, for kernels that issue the next tile's loads before working on the
// current one: fetch8 only loads (the raw words of elements k0..k0+7 of a row), decode8 computes
// the values later, so the loads' latency can pass while other work runs (matmul_coopmat.comp;
// no gain measured yet: docs/benchmarks.md). Types without a split decode inside fetch8.
#if defined(QUADS_BUFFER) && (defined(TYPE_F16) || defined(TYPE_BF16))
struct Raw8 { uvec4 q; };
Raw8 fetch8(uint row, uint k0) {
  const uint b = row + k0 * 2u;
  if ((b & 15u) == 0u) return Raw8(QUADS_BUFFER[b >> 4]);
  uvec4 q;
  for (uint i = 0u; i < 4u; ++i) q[i] = load_u16(b + 4u * i) | (load_u16(b + 4u * i + 2u) << 16);
  return Raw8(q);
}
void decode8(Raw8 r, out float w[8]) {
  for (uint i = 0u; i < 4u; ++i) {
    const vec2 h = unpack_pair(r.q[i]);
    w[2u * i] = h.x;
    w[2u * i + 1u] = h.y;
  }
}
#elif defined(QUADS_BUFFER) && defined(TYPE_F32)
struct Raw8 { uvec4 lo, hi; };
Raw8 fetch8(uint row, uint k0) {
  const uint b = row + k0 * 4u;
  if ((b & 15u) == 0u) return Raw8(QUADS_BUFFER[b >> 4], QUADS_BUFFER[(b >> 4) + 1u]);
  uvec4 lo, hi;
  for (uint i = 0u; i < 4u; ++i) {
    lo[i] = BYTES_BUFFER[(b >> 2) + i];
    hi[i] = BYTES_BUFFER[(b >> 2) + 4u + i];
  }
  return Raw8(lo, hi);
}
void decode8(Raw8 r, out float w[8]) {
  for (uint i = 0u; i < 4u; ++i) {
    w[i] = uintBitsToFloat(r.lo[i]);
    w[4u + i] = uintBitsToFloat(r.hi[i]);
  }
}
#else
struct Raw8 { float w[8]; };
Raw8 fetch8(uint row, uint k0) {
  Raw8 r;
  dequant8(row, k0, r.w);
  return r;
}
void decode8(Raw8 r, out float w[8]) { w = r.w; }
#endif

#endif
