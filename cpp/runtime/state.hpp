// Recurrent state on the GPU: one slot per sequence, each per layer att_shift [C], wkv [H, N, N]
// (value-major: [head][value row i][key column j]), ffn_shift [C], all f32.
#pragma once
#include <cstdint>
#include <memory>

#include "vk/device.hpp"

namespace rwkv::runtime {

class State {
 public:
  State(vk::DevicePtr device, uint64_t model_fingerprint, uint64_t floats_per_slot, uint32_t slots = 1);

  const vk::BufferPtr& buffer() const { return buffer_; }
  const vk::DevicePtr& device() const { return device_; }
  uint64_t model_fingerprint() const { return fingerprint_; }
  uint64_t floats_per_slot() const { return floats_per_slot_; }
  uint32_t slots() const { return slots_; }

  void reset();  // all zeros, as a fresh state
  void reset_slot(uint32_t slot);  // one slot to zeros
  std::shared_ptr<State> clone() const;
  // GPU copies of slot `src_slot` of `src` into slots [dst_first, dst_first + count) of this
  // state, in one submission.
  void copy_slot(const State& src, uint32_t src_slot, uint32_t dst_first, uint32_t count = 1);

  // The host-visible mirror of the whole state, refreshed from the GPU copy (no host copy: the
  // caller views the mirror's memory). Mirrors are made on first use and reused.
  const vk::BufferPtr& read_to_mirror();
  // Makes the GPU state equal the mirror's contents (after the host wrote into the mirror).
  void write_from_mirror();
  const vk::BufferPtr& mirror();
  // Expires when this state is destroyed (its buffer may outlive it in a cached recording, which
  // then drops it: runtime::Model's decode steps).
  std::weak_ptr<const void> liveness() const { return alive_; }

 private:
  std::shared_ptr<const int> alive_ = std::make_shared<const int>(0);
  vk::DevicePtr device_;
  uint64_t fingerprint_;
  uint64_t floats_per_slot_;
  uint32_t slots_;
  vk::BufferPtr buffer_;
  vk::BufferPtr mirror_;
};

}  // namespace rwkv::runtime
