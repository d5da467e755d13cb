#include "runtime/state.hpp"

#include "vk/recorder.hpp"

namespace rwkv::runtime {

State::State(vk::DevicePtr device, uint64_t model_id, uint64_t floats_per_slot, uint32_t slots)
    : device_(std::move(device)), model_id_(model_id), floats_per_slot_(floats_per_slot), slots_(slots),
      buffer_(std::make_shared<vk::Buffer>(device_, floats_per_slot * slots * 4, vk::MemoryKind::Device)) {
  reset();
}

void State::reset() {
  vk::Recorder rec(device_);
  rec.fill({buffer_}, 0u);
  rec.submit().wait();
}

}  // namespace rwkv::runtime
