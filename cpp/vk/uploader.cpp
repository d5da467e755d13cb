#include "vk/uploader.hpp"

#include <algorithm>
#include <cstring>

namespace rwkv::vk {

Uploader::Uploader(DevicePtr device, uint64_t staging_bytes)
    : device_(std::move(device)), half_(staging_bytes / 2),
      staging_(std::make_shared<Buffer>(device_, staging_bytes, MemoryKind::Upload)) {}

Uploader::~Uploader() {
  try {
    finish();
  } catch (...) {
    // Destructors do not throw; a failed upload already surfaced through finish() or upload().
  }
}

void Uploader::upload(const BufferRange& dst, const void* data, uint64_t bytes) {
  if (dst.offset + bytes > dst.buffer->size()) throw InvalidArgument("[upload] past the end of the destination buffer");
  const auto* src = static_cast<const std::byte*>(data);
  for (uint64_t done = 0; done < bytes;) {
    if (used_ == half_) flush();
    if (!recorder_) {
      if (in_flight_[current_]) in_flight_[current_]->wait();  // this half's previous copies are done
      in_flight_[current_].reset();
      recorder_.emplace(device_);
    }
    const uint64_t n = std::min(bytes - done, half_ - used_);
    const uint64_t at = uint64_t(current_) * half_ + used_;
    std::memcpy(staging_->mapped() + at, src + done, n);
    recorder_->copy(BufferRange{staging_, at, n}, BufferRange{dst.buffer, dst.offset + done, n}, n);
    used_ += n;
    done += n;
  }
  total_ += bytes;
}

void Uploader::flush() {
  if (!recorder_) return;
  in_flight_[current_].emplace(recorder_->submit());
  recorder_.reset();
  current_ ^= 1;
  used_ = 0;
}

void Uploader::finish() {
  flush();
  for (auto& s : in_flight_) {
    if (s) s->wait();
    s.reset();
  }
}

}  // namespace rwkv::vk
