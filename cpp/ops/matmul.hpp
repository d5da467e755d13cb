// Matrix products Y = W X with W in its GGUF type (dequantized in the shader), grouped: several
// independent products with weights in one buffer and one type run as one dispatch.
#pragma once
#include <cstdint>
#include <span>

#include "gguf/ggml_types.hpp"
#include "vk/recorder.hpp"

namespace rwkv::ops {

// A weight matrix of `rows` outputs by `cols` inputs, row-major ggml blocks (y[m] = sum_k W[m,k] x[k]).
struct Matrix {
  vk::BufferRange data;
  gguf::GgmlType type = gguf::GgmlType::F32;
  uint32_t rows = 0;
  uint32_t cols = 0;
  uint64_t row_bytes() const { return gguf::row_bytes(type, cols); }
};

enum class ActIn : uint32_t { None = 0, Tanh = 1, Sigmoid = 2 };
enum class ActOut : uint32_t { None = 0, ReluSquare = 1 };

struct MatmulGroup {
  const Matrix* w;
  vk::BufferRange x;  // [T, w->cols] f32
  vk::BufferRange y;  // [T, w->rows] f32
  ActIn act_in = ActIn::None;
};

struct MatmulOptions {
  ActOut act_out = ActOut::None;
  bool accumulate = false;  // Y += W X (the residual adds)
};

// Records Y_g = act_out(W_g act_in(X_g)) for every group. Groups sharing a weight buffer, a
// weight type and X/Y buffers form one dispatch; weights above maxStorageBufferRange are split
// into row chunks.
void matmul(vk::Recorder& rec, std::span<const MatmulGroup> groups, uint32_t n_tokens, MatmulOptions options = {});

}  // namespace rwkv::ops
