// Picks the shader variant of a weight-typed family (shaders/variants.cmake) for a tensor's type.
#pragma once
#include <span>
#include <string>

#include "common/error.hpp"
#include "gguf/ggml_types.hpp"
#include "shader_ids.hpp"

namespace rwkv::ops {

inline const WeightVariant* find_variant(std::span<const WeightVariant> family, gguf::GgmlType type) {
  for (const auto& v : family)
    if (v.ggml_type == static_cast<uint32_t>(type)) return &v;
  return nullptr;
}

inline ShaderId weight_variant(std::span<const WeightVariant> family, gguf::GgmlType type, const char* op) {
  if (const auto* v = find_variant(family, type)) return v->shader;
  throw InvalidArgument(std::string("[") + op + "] no GPU kernel for weight type " + std::string(gguf::type_name(type)));
}

}  // namespace rwkv::ops
