// CPU dequantization of ggml blocks to float32: the reference the GPU shaders are tested against.
#pragma once
#include <cstdint>
#include <span>

#include "gguf/ggml_types.hpp"

namespace rwkv::gguf {

// Dequantizes `dst.size()` elements (a multiple of the type's block size) from `src`.
// Throws InvalidArgument when sizes disagree or the type has no CPU dequantizer.
void dequantize(GgmlType type, std::span<const uint8_t> src, std::span<float> dst);

}  // namespace rwkv::gguf
