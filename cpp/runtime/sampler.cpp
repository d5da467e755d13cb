#include "runtime/sampler.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "common/error.hpp"
#include "vk/recorder.hpp"

namespace rwkv::runtime {

void SamplingParams::validate() const {
  auto bad = [](const std::string& what) { throw InvalidArgument("[sampling] " + what); };
  if (!(temperature >= 0.0f) || !std::isfinite(temperature)) bad("temperature must be a finite number >= 0");
  if (!(top_p > 0.0f && top_p <= 1.0f)) bad("top_p must be in (0, 1]");
  if (!std::isfinite(presence_penalty) || !std::isfinite(frequency_penalty)) bad("penalties must be finite");
  if (!(penalty_decay >= 0.0f && penalty_decay <= 1.0f)) bad("penalty_decay must be in [0, 1]");
}

ops::SampleRow SamplingParams::row(uint32_t slot, uint32_t counter) const {
  return {0, slot, temperature, top_p, top_k, presence_penalty, frequency_penalty, penalty_decay,
          uint32_t(seed.value_or(0)), uint32_t(seed.value_or(0) >> 32), counter,
          (presence_penalty != 0.0f || frequency_penalty != 0.0f) ? 1u : 0u};
}

Sampler::Sampler(const vk::DevicePtr& device, std::span<const float> token_weights, uint32_t slots, uint32_t max_rows)
    : device_(device), vocab_(uint32_t(token_weights.size())), slots_(slots), max_rows_(max_rows) {
  if (slots == 0 || max_rows == 0 || vocab_ == 0) throw InvalidArgument("[Sampler] slots, rows and vocab must be positive");
  occurrence_ = std::make_shared<vk::Buffer>(device_, uint64_t(slots) * vocab_ * 4, vk::MemoryKind::Device);
  weights_ = std::make_shared<vk::Buffer>(device_, uint64_t(vocab_) * 4, vk::MemoryKind::Upload);
  std::memcpy(weights_->mapped(), token_weights.data(), token_weights.size_bytes());
  params_ = std::make_shared<vk::Buffer>(device_, uint64_t(max_rows) * sizeof(ops::SampleRow), vk::MemoryKind::Upload);
  ids_ = std::make_shared<vk::Buffer>(device_, uint64_t(max_rows) * 4, vk::MemoryKind::Readback);
  scratch_ = std::make_shared<vk::Buffer>(
      device_, ops::sample_scratch_bytes(max_rows, ops::sample_chunks(device_->info(), vocab_)), vk::MemoryKind::Device);
  vk::Recorder rec(device_);
  rec.fill({occurrence_}, std::bit_cast<uint32_t>(-1.0f));
  rec.submit().wait();
}

void Sampler::reset_slot(uint32_t slot) {
  if (slot >= slots_) throw InvalidArgument("[Sampler] slot out of range");
  const uint64_t bytes = uint64_t(vocab_) * 4;
  vk::Recorder rec(device_);
  rec.fill({occurrence_, slot * bytes, bytes}, std::bit_cast<uint32_t>(-1.0f));  // -1: never generated
  rec.submit().wait();
}

}  // namespace rwkv::runtime
