// Block formats as ggml defines them (ggml-quants.c); ../shared/docs/rwkv7-spec.md section 2.
#include "gguf/dequant.hpp"

#include <string>

#include "common/error.hpp"
#include "common/fp16.hpp"

namespace rwkv::gguf {
namespace {

float half(const uint8_t* p) { return f16_to_f32(load_le<uint16_t>(p)); }

void q4_0(const uint8_t* b, float* y) {
  const float d = half(b);
  for (int j = 0; j < 16; ++j) {
    y[j] = float((b[2 + j] & 15) - 8) * d;
    y[j + 16] = float((b[2 + j] >> 4) - 8) * d;
  }
}

void q4_1(const uint8_t* b, float* y) {
  const float d = half(b), m = half(b + 2);
  for (int j = 0; j < 16; ++j) {
    y[j] = float(b[4 + j] & 15) * d + m;
    y[j + 16] = float(b[4 + j] >> 4) * d + m;
  }
}

void q5_0(const uint8_t* b, float* y) {
  const float d = half(b);
  const uint32_t h = load_le<uint32_t>(b + 2);
  for (int j = 0; j < 16; ++j) {
    const int lo = (b[6 + j] & 15) | ((h >> j) & 1) << 4;
    const int hi = (b[6 + j] >> 4) | ((h >> (j + 16)) & 1) << 4;
    y[j] = float(lo - 16) * d;
    y[j + 16] = float(hi - 16) * d;
  }
}

void q5_1(const uint8_t* b, float* y) {
  const float d = half(b), m = half(b + 2);
  const uint32_t h = load_le<uint32_t>(b + 4);
  for (int j = 0; j < 16; ++j) {
    const int lo = (b[8 + j] & 15) | ((h >> j) & 1) << 4;
    const int hi = (b[8 + j] >> 4) | ((h >> (j + 16)) & 1) << 4;
    y[j] = float(lo) * d + m;
    y[j + 16] = float(hi) * d + m;
  }
}

void q8_0(const uint8_t* b, float* y) {
  const float d = half(b);
  for (int j = 0; j < 32; ++j) y[j] = float(int8_t(b[2 + j])) * d;
}

void q2_k(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const uint8_t* q = b + 16;
  const float d = half(b + 80), dmin = half(b + 82);
  int is = 0;
  for (int n = 0; n < 256; n += 128, q += 32) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half16 = 0; half16 < 2; ++half16) {
        const uint8_t sc = scales[is++];
        const float dl = d * float(sc & 15), ml = dmin * float(sc >> 4);
        for (int l = 0; l < 16; ++l) *y++ = dl * float((q[l + 16 * half16] >> shift) & 3) - ml;
      }
    }
  }
}

void q3_k(const uint8_t* b, float* y) {
  const uint8_t* hm = b;
  const uint8_t* q = b + 32;
  const float d = half(b + 108);
  // Unpack the 12 bytes of 6-bit scales into 16 signed values (ggml's kmask shuffle).
  uint32_t aux[4];
  std::memcpy(aux, b + 96, 12);
  const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f, tmp = aux[2];
  aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
  aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
  aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
  aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
  int8_t scales[16];
  std::memcpy(scales, aux, 16);
  int is = 0;
  uint8_t m = 1;
  for (int n = 0; n < 256; n += 128, q += 32) {
    for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
      for (int half16 = 0; half16 < 2; ++half16) {
        const float dl = d * float(scales[is++] - 32);
        for (int l = 16 * half16; l < 16 * half16 + 16; ++l)
          *y++ = dl * float(((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
      }
    }
  }
}

// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K block.
void scale_min_k4(int j, const uint8_t* s, float& sc, float& mn) {
  if (j < 4) {
    sc = float(s[j] & 63);
    mn = float(s[j + 4] & 63);
  } else {
    sc = float((s[j + 4] & 15) | ((s[j - 4] >> 6) << 4));
    mn = float((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

// Q4_K and Q5_K share the layout of scales; Q5_K adds a fifth bit from qh.
void q45_k(const uint8_t* b, float* y, bool five) {
  const float d = half(b), dmin = half(b + 2);
  const uint8_t* s = b + 4;
  const uint8_t* qh = five ? b + 16 : nullptr;
  const uint8_t* q = b + (five ? 48 : 16);
  for (int c = 0; c < 4; ++c, q += 32) {
    for (int nib = 0; nib < 2; ++nib) {
      const int sb = 2 * c + nib;
      float sc, mn;
      scale_min_k4(sb, s, sc, mn);
      const float dl = d * sc, ml = dmin * mn;
      for (int l = 0; l < 32; ++l) {
        int v = nib ? q[l] >> 4 : q[l] & 15;
        if (five && ((qh[l] >> sb) & 1)) v += 16;
        *y++ = dl * float(v) - ml;
      }
    }
  }
}

void q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const auto* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = half(b + 208);
  for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = int((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
      const int q2 = int((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
      const int q3 = int((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
      const int q4 = int((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
      y[l] = d * float(sc[is]) * float(q1);
      y[l + 32] = d * float(sc[is + 2]) * float(q2);
      y[l + 64] = d * float(sc[is + 4]) * float(q3);
      y[l + 96] = d * float(sc[is + 6]) * float(q4);
    }
  }
}

}  // namespace

void dequantize(GgmlType type, std::span<const uint8_t> src, std::span<float> dst) {
  const auto& tr = traits(type);
  if (!tr.cpu_dequant) throw InvalidArgument("dequantize: no dequantizer for " + std::string(tr.name));
  if (dst.size() % tr.block_elements != 0)
    throw InvalidArgument("dequantize: " + std::to_string(dst.size()) + " elements is not a multiple of the " +
                          std::string(tr.name) + " block size " + std::to_string(tr.block_elements));
  const size_t n_blocks = dst.size() / tr.block_elements;
  if (src.size() != n_blocks * tr.block_bytes)
    throw InvalidArgument("dequantize: " + std::to_string(src.size()) + " bytes given, " +
                          std::to_string(n_blocks * tr.block_bytes) + " expected for " +
                          std::to_string(dst.size()) + " " + std::string(tr.name) + " elements");
  const uint8_t* s = src.data();
  float* y = dst.data();
  for (size_t i = 0; i < n_blocks; ++i, s += tr.block_bytes, y += tr.block_elements) {
    switch (type) {
      case GgmlType::F32: *y = load_le<float>(s); break;
      case GgmlType::F16: *y = half(s); break;
      case GgmlType::BF16: *y = bf16_to_f32(load_le<uint16_t>(s)); break;
      case GgmlType::Q4_0: q4_0(s, y); break;
      case GgmlType::Q4_1: q4_1(s, y); break;
      case GgmlType::Q5_0: q5_0(s, y); break;
      case GgmlType::Q5_1: q5_1(s, y); break;
      case GgmlType::Q8_0: q8_0(s, y); break;
      case GgmlType::Q2_K: q2_k(s, y); break;
      case GgmlType::Q3_K: q3_k(s, y); break;
      case GgmlType::Q4_K: q45_k(s, y, false); break;
      case GgmlType::Q5_K: q45_k(s, y, true); break;
      case GgmlType::Q6_K: q6_k(s, y); break;
      default: throw InvalidArgument("dequantize: no dequantizer for " + std::string(tr.name));
    }
  }
}

}  // namespace rwkv::gguf
