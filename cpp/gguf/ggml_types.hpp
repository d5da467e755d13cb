// The ggml tensor types a GGUF file can hold: block sizes and byte sizes, as ggml defines them.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace rwkv::gguf {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15, BF16 = 30,
};

struct GgmlTypeTraits {
  GgmlType type;
  std::string_view name;
  uint32_t block_elements;  // elements per block (1 for plain floats)
  uint32_t block_bytes;     // bytes per block
  bool cpu_dequant;         // dequantize() supports it
};

// Traits of a known type id; nullopt for ids this engine does not know.
std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t id);
const GgmlTypeTraits& traits(GgmlType type);
inline std::string_view type_name(GgmlType t) { return traits(t).name; }

// Bytes of a row of `elements` values; `elements` must be a multiple of the block size.
inline uint64_t row_bytes(GgmlType t, uint64_t elements) {
  const auto& tr = traits(t);
  return elements / tr.block_elements * tr.block_bytes;
}

}  // namespace rwkv::gguf
