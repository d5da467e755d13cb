// RWKV-7 weights on the GPU. Big matrices keep their GGUF type (dequantized inside the matrix
// shaders); vectors, norms, mus and the small LoRA matrices are stored as f32.
#pragma once
#include <array>
#include <functional>
#include <vector>

#include "model/config.hpp"
#include "ops/batch.hpp"
#include "ops/matmul.hpp"

namespace rwkv::gguf {
class File;
}

namespace rwkv::model {

// Rows of the f32 vector table: each layer's block, then the model-wide rows.
enum LayerRow : uint32_t {
  LN1_W, LN1_B, LN2_W, LN2_B,
  MU_R, MU_K, MU_V, MU_W, MU_A, MU_G,  // the order of ln_shift_mix's outputs
  W0, A0, V0, K_K, K_A, R_K, LNX_W, LNX_B, FFN_MU_K,
  ROWS_PER_LAYER
};
enum GlobalRow : uint32_t { LN0_W, LN0_B, LN_OUT_W, LN_OUT_B, GLOBAL_ROWS };

// LoRA groups in the order the lora buffers hold them: decay, in-context rate, value, gate.
enum Lora : uint32_t { LORA_W, LORA_A, LORA_V, LORA_G, LORA_COUNT };

struct LayerWeights {
  ops::Matrix receptance, key, value, output;  // [C, C]
  std::array<ops::Matrix, LORA_COUNT> lora_down;  // [D, C] f32
  std::array<ops::Matrix, LORA_COUNT> lora_up;    // [C, D] f32
  ops::Matrix ffn_key, ffn_value;               // [F, C], [C, F]
};

struct Weights {
  ops::VectorTable vectors;  // [n_layer * ROWS_PER_LAYER + GLOBAL_ROWS, C]
  ops::Matrix embedding;     // [V, C]
  ops::Matrix head;          // [V, C]
  std::vector<LayerWeights> layers;
  uint64_t bytes = 0;        // on the GPU
  double upload_seconds = 0;

  uint32_t layer_row(uint32_t layer, LayerRow row) const { return layer * ROWS_PER_LAYER + row; }
  uint32_t global_row(GlobalRow row) const { return uint32_t(layers.size()) * ROWS_PER_LAYER + row; }
};

// Called with (bytes uploaded, bytes in total) as the upload proceeds.
using ProgressFn = std::function<void(uint64_t, uint64_t)>;

Weights upload_weights(const vk::DevicePtr& device, const gguf::File& file, const Config& config,
                       const ProgressFn& progress = {});

}  // namespace rwkv::model
