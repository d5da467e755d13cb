// RWKV-7 hyper-parameters, from GGUF metadata and tensor shapes (LoRA ranks always from shapes).
#pragma once
#include <cstdint>
#include <string>

namespace rwkv::gguf {
class File;
}

namespace rwkv::model {

struct Config {
  uint32_t n_layer = 0;
  uint32_t n_embd = 0;   // C
  uint32_t head_size = 0;  // N
  uint32_t n_head = 0;   // H = C / N
  uint32_t ffn = 0;      // F
  uint32_t vocab = 0;    // V
  uint32_t d_decay = 0, d_iclr = 0, d_value = 0, d_gate = 0;  // LoRA ranks
  float eps = 1e-5f;     // LayerNorm epsilon
  std::string name;

  // Reads and checks a rwkv7 file; GGUFError naming what was found for anything else.
  static Config from_gguf(const gguf::File& file);
  // The state layout (the one definition; Python reads it from Model.info): floats of one
  // sequence's state, per layer att_shift [C], wkv [H, N, N], ffn_shift [C], layer after layer.
  uint64_t state_floats_per_layer() const { return 2ull * n_embd + uint64_t(n_head) * head_size * head_size; }
  uint64_t state_floats() const { return n_layer * state_floats_per_layer(); }
  uint64_t att_shift_offset(uint32_t layer) const { return layer * state_floats_per_layer(); }
  uint64_t wkv_offset(uint32_t layer) const { return att_shift_offset(layer) + n_embd; }
  uint64_t ffn_shift_offset(uint32_t layer) const { return wkv_offset(layer) + uint64_t(n_head) * head_size * head_size; }
};

}  // namespace rwkv::model
