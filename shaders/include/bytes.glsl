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

#endif
