// Scalar conversions against Eigen's half/bfloat16 (an independent implementation), and block
// dequantization against hand-computed blocks. The full parity test against the PyPI gguf
// package lives in tests/python/test_dequant_parity.py.
#include <gtest/gtest.h>

#include <cmath>

#include "common/error.hpp"
#include "common/fp16.hpp"
#include "gguf/dequant.hpp"
#include "test_helpers.hpp"

using namespace rwkv;

TEST(Fp16, AllHalfBitPatternsMatchEigen) {
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const float ref = float(Eigen::numext::bit_cast<Eigen::half>(uint16_t(bits)));
    const float got = f16_to_f32(uint16_t(bits));
    if (std::isnan(ref)) EXPECT_TRUE(std::isnan(got)) << bits;
    else EXPECT_EQ(Eigen::numext::bit_cast<uint32_t>(ref), Eigen::numext::bit_cast<uint32_t>(got)) << bits;
  }
}

TEST(Fp16, Bf16MatchesEigen) {
  for (uint32_t bits = 0; bits < 65536; bits += 7) {
    const float ref = float(Eigen::numext::bit_cast<Eigen::bfloat16>(uint16_t(bits)));
    const float got = bf16_to_f32(uint16_t(bits));
    if (!std::isnan(ref)) EXPECT_EQ(ref, got) << bits;
  }
}

TEST(Dequant, Q8_0HandBlock) {
  std::vector<uint8_t> block(34);
  test::put_f16(block.data(), 0.5f);
  for (int j = 0; j < 32; ++j) block[2 + j] = uint8_t(int8_t(j - 16));
  std::vector<float> out(32);
  gguf::dequantize(gguf::GgmlType::Q8_0, block, out);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], 0.5f * float(j - 16));
}

TEST(Dequant, Q4_0HandBlock) {
  std::vector<uint8_t> block(18);
  test::put_f16(block.data(), 2.0f);
  for (int j = 0; j < 16; ++j) block[2 + j] = uint8_t(j | (15 - j) << 4);
  std::vector<float> out(32);
  gguf::dequantize(gguf::GgmlType::Q4_0, block, out);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 2.0f * float(j - 8));
    EXPECT_EQ(out[j + 16], 2.0f * float(15 - j - 8));
  }
}

TEST(Dequant, RejectsWrongSizes) {
  std::vector<uint8_t> block(33);
  std::vector<float> out(32);
  EXPECT_THROW(gguf::dequantize(gguf::GgmlType::Q8_0, block, out), InvalidArgument);
  std::vector<float> odd(31);
  EXPECT_THROW(gguf::dequantize(gguf::GgmlType::Q8_0, block, odd), InvalidArgument);
  EXPECT_THROW(gguf::dequantize(gguf::GgmlType::Q8_K, block, out), InvalidArgument);
}
