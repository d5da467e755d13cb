// Byte-addressed reads from a storage buffer of 32-bit words. The including shader defines
// BYTES_BUFFER as the name of that uint[] array. GGUF blocks are byte-packed (18, 22, 210 bytes),
// so block fields are not word-aligned; 16-bit fields always sit at even offsets.
#ifndef BYTES_GLSL
#define BYTES_GLSL

uint load_u8(uint byte_offset) {
  return (BYTES_BUFFER[byte_offset >> 2] >> ((byte_offset & 3u) * 8u)) & 0xFFu;
}

int load_i8(uint byte_offset) {
  return int(load_u8(byte_offset) << 24) >> 24;
}

uint load_u16(uint byte_offset) {  // byte_offset must be even
  return (BYTES_BUFFER[byte_offset >> 2] >> ((byte_offset & 2u) * 8u)) & 0xFFFFu;
}

float load_f16(uint byte_offset) {
  return unpackHalf2x16(load_u16(byte_offset)).x;
}

float load_bf16(uint byte_offset) {
  return uintBitsToFloat(load_u16(byte_offset) << 16);
}

uint load_u32(uint byte_offset) {  // byte_offset must be even
  return load_u16(byte_offset) | (load_u16(byte_offset + 2u) << 16);
}

// 8 bytes at an even byte offset, little-endian in two words (two word loads when aligned).
uvec2 load_8bytes(uint byte_offset) {
  if ((byte_offset & 3u) == 0u) return uvec2(BYTES_BUFFER[byte_offset >> 2], BYTES_BUFFER[(byte_offset >> 2) + 1u]);
  return uvec2(load_u16(byte_offset) | (load_u16(byte_offset + 2u) << 16),
               load_u16(byte_offset + 4u) | (load_u16(byte_offset + 6u) << 16));
}

uint byte_of(uvec2 v, uint i) { return (v[i >> 2] >> ((i & 3u) * 8u)) & 0xFFu; }

// 16 bytes at an even byte offset: one 16-byte load where aligned and QUADS_BUFFER names a uvec4
// view of the buffer, else the words that hold them (4, or 5 shifted into place).
uvec4 load_16bytes(uint byte_offset) {
#ifdef QUADS_BUFFER
  if ((byte_offset & 15u) == 0u) return QUADS_BUFFER[byte_offset >> 4];
#endif
  const uint w = byte_offset >> 2;
  if ((byte_offset & 3u) == 0u) return uvec4(BYTES_BUFFER[w], BYTES_BUFFER[w + 1u], BYTES_BUFFER[w + 2u], BYTES_BUFFER[w + 3u]);
  const uint a = BYTES_BUFFER[w], b = BYTES_BUFFER[w + 1u], c = BYTES_BUFFER[w + 2u], d = BYTES_BUFFER[w + 3u], e = BYTES_BUFFER[w + 4u];
  return uvec4((a >> 16) | (b << 16), (b >> 16) | (c << 16), (c >> 16) | (d << 16), (d >> 16) | (e << 16));
}

// Byte i (0..31) of 32 bytes held as two uvec4.
uint byte_of32(uvec4 lo, uvec4 hi, uint i) { return ((i < 16u ? lo[(i >> 2) & 3u] : hi[(i >> 2) & 3u]) >> ((i & 3u) * 8u)) & 0xFFu; }

#endif
