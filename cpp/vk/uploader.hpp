// Streams host bytes into device buffers through a reused staging buffer: copies are batched into
// one submission per staging-buffer fill, and the host fills one half while the GPU copies the other.
#pragma once
#include <optional>

#include "vk/recorder.hpp"

namespace rwkv::vk {

class Uploader {
 public:
  explicit Uploader(DevicePtr device, uint64_t staging_bytes = 64ull << 20);
  ~Uploader();  // waits for copies in flight
  // Queues a copy of `bytes` bytes at `data` into `dst`; `data` may be reused on return.
  void upload(const BufferRange& dst, const void* data, uint64_t bytes);
  // Submits what is queued and waits for all copies.
  void finish();
  uint64_t bytes_uploaded() const { return total_; }

 private:
  void flush();
  DevicePtr device_;
  uint64_t half_;
  BufferPtr staging_;
  int current_ = 0;          // which half the host is filling
  uint64_t used_ = 0;        // bytes used in the current half
  std::optional<Recorder> recorder_;
  std::optional<Submission> in_flight_[2];
  uint64_t total_ = 0;
};

}  // namespace rwkv::vk
