// Recurrent state on the GPU: one slot per sequence, each per layer att_shift [C], wkv [H, N, N]
// (value-major: [head][value row i][key column j]), ffn_shift [C], all f32.
#pragma once
#include <cstdint>

#include "vk/device.hpp"

namespace rwkv::runtime {

class State {
 public:
  State(vk::DevicePtr device, uint64_t model_id, uint64_t floats_per_slot, uint32_t slots = 1);
  const vk::BufferPtr& buffer() const { return buffer_; }
  uint64_t model_id() const { return model_id_; }
  uint64_t floats_per_slot() const { return floats_per_slot_; }
  uint32_t slots() const { return slots_; }
  void reset();  // all zeros, as a fresh state

 private:
  vk::DevicePtr device_;
  uint64_t model_id_;
  uint64_t floats_per_slot_;
  uint32_t slots_;
  vk::BufferPtr buffer_;
};

}  // namespace rwkv::runtime
