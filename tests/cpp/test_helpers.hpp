// Shared test helpers: paths to ../shared test data and random valid ggml blocks.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gguf/ggml_types.hpp"

namespace rwkv::test {

// $RWKV_SHARED_MODELS where set (a test binary carried to another machine), else the build's path.
inline std::string shared_model(const std::string& name) {
  const char* env = std::getenv("RWKV_SHARED_MODELS");
  return std::string(env && *env ? env : RWKV_SHARED_MODELS) + "/" + name;
}

inline void put_f16(uint8_t* p, float v) {
  const uint16_t bits = Eigen::numext::bit_cast<uint16_t>(Eigen::half(v));
  std::memcpy(p, &bits, 2);
}

// Random bytes shaped as valid blocks of `type`: scale fields are finite halves, quant bits random.
inline std::vector<uint8_t> random_blocks(gguf::GgmlType type, size_t n_blocks, std::mt19937& rng) {
  using T = gguf::GgmlType;
  const auto& tr = gguf::traits(type);
  std::vector<uint8_t> data(n_blocks * tr.block_bytes);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  for (auto& b : data) b = uint8_t(byte(rng));
  for (size_t i = 0; i < n_blocks; ++i) {
    uint8_t* b = data.data() + i * tr.block_bytes;
    switch (type) {
      case T::F32: { const float v = uni(rng); std::memcpy(b, &v, 4); break; }
      case T::F16: put_f16(b, uni(rng)); break;
      case T::BF16: {
        const uint16_t bits = Eigen::numext::bit_cast<uint16_t>(Eigen::bfloat16(uni(rng)));
        std::memcpy(b, &bits, 2);
        break;
      }
      case T::Q4_0: case T::Q5_0: case T::Q8_0: put_f16(b, uni(rng) * 0.1f); break;
      case T::Q4_1: case T::Q5_1: case T::Q4_K: case T::Q5_K: case T::Q2_K:
        put_f16(b + (type == T::Q2_K ? 80 : 0), uni(rng) * 0.1f);
        put_f16(b + (type == T::Q2_K ? 82 : 2), uni(rng) * 0.1f);
        break;
      case T::Q3_K: put_f16(b + 108, uni(rng) * 0.1f); break;
      case T::Q6_K: put_f16(b + 208, uni(rng) * 0.1f); break;
      default: break;
    }
  }
  return data;
}

}  // namespace rwkv::test
