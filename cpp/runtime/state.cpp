#include "runtime/state.hpp"

#include "vk/recorder.hpp"

namespace rwkv::runtime {

State::State(vk::DevicePtr device, uint64_t model_fingerprint, uint64_t floats_per_slot, uint32_t slots)
    : device_(std::move(device)), fingerprint_(model_fingerprint), floats_per_slot_(floats_per_slot), slots_(slots) {
  if (slots == 0) throw InvalidArgument("[State] a state needs at least one slot");
  buffer_ = std::make_shared<vk::Buffer>(device_, floats_per_slot * slots * 4, vk::MemoryKind::Device);
  reset();
}

void State::reset() {
  vk::Recorder rec(device_);
  rec.fill({buffer_}, 0u);
  rec.submit().wait();
}

void State::reset_slot(uint32_t slot) {
  if (slot >= slots_) throw InvalidArgument("[State] slot out of range");
  const uint64_t bytes = floats_per_slot_ * 4;
  vk::Recorder rec(device_);
  rec.fill({buffer_, slot * bytes, bytes}, 0u);
  rec.submit().wait();
}

std::shared_ptr<State> State::clone() const {
  auto copy = std::make_shared<State>(device_, fingerprint_, floats_per_slot_, slots_);
  vk::Recorder rec(device_);
  rec.copy({buffer_}, {copy->buffer_}, buffer_->size());
  rec.submit().wait();
  return copy;
}

void State::copy_slot(const State& src, uint32_t src_slot, uint32_t dst_first, uint32_t count) {
  if (src.fingerprint_ != fingerprint_ || src.floats_per_slot_ != floats_per_slot_ || src.device_ != device_)
    throw InvalidArgument("[State] the states belong to different models");
  if (src_slot >= src.slots_ || dst_first + uint64_t(count) > slots_) throw InvalidArgument("[State] slot out of range");
  const uint64_t bytes = floats_per_slot_ * 4;
  vk::Recorder rec(device_);
  for (uint32_t i = 0; i < count; ++i)
    rec.copy({src.buffer_, src_slot * bytes, bytes}, {buffer_, (dst_first + i) * bytes, bytes}, bytes);
  rec.submit().wait();
}

const vk::BufferPtr& State::mirror() {
  if (!mirror_) mirror_ = std::make_shared<vk::Buffer>(device_, buffer_->size(), vk::MemoryKind::Readback);
  return mirror_;
}

const vk::BufferPtr& State::read_to_mirror() {
  mirror();
  vk::Recorder rec(device_);
  rec.copy({buffer_}, {mirror_}, buffer_->size());
  rec.submit().wait();
  return mirror_;
}

void State::write_from_mirror() {
  mirror();
  vk::Recorder rec(device_);
  rec.copy({mirror_}, {buffer_}, buffer_->size());
  rec.submit().wait();
}

}  // namespace rwkv::runtime
