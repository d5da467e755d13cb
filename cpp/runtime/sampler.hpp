// Sampling settings and the GPU memory sampling needs: per-row parameters, the drawn ids, and a
// penalty memory (decayed counts of generated tokens) per state slot.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "ops/sample.hpp"
#include "vk/memory.hpp"

namespace rwkv::runtime {

// As in the official RWKV pipeline (rwkv.utils.PIPELINE_ARGS): penalties on the logits of tokens
// generated before (presence once, frequency per decayed occurrence; tokens that are only
// whitespace or digits do not count), softmax, top-p, top-k, then probabilities to the power
// 1 / temperature. temperature 0 is greedy. The defaults are the pipeline's, penalties off: the
// one definition of them (Python's SamplingParams is this struct).
struct SamplingParams {
  float temperature = 1.0f;
  float top_p = 0.85f;  // 1: off
  uint32_t top_k = 0;   // 0: off
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  float penalty_decay = 0.996f;  // each step multiplies past occurrences by this
  // The sequence's random stream: the same seed, prompt and settings draw the same tokens, alone or
  // in a batch. Unset: the scheduler draws one at submission.
  std::optional<uint64_t> seed;

  void validate() const;  // InvalidArgument naming the bad field
  // The shader's row for draw number `counter` of a sequence on penalty slot `slot`.
  ops::SampleRow row(uint32_t slot, uint32_t counter) const;
};

class Sampler {
 public:
  // `token_weights`: what one occurrence of each token adds to its count (vocab entries).
  Sampler(const vk::DevicePtr& device, std::span<const float> token_weights, uint32_t slots, uint32_t max_rows);

  uint32_t slots() const { return slots_; }
  uint32_t max_rows() const { return max_rows_; }
  // Forgets the tokens generated on `slot` (a new sequence takes it).
  void reset_slot(uint32_t slot);

  const vk::BufferPtr& occurrence() const { return occurrence_; }
  const vk::BufferPtr& token_weights() const { return weights_; }
  const vk::BufferPtr& params() const { return params_; }  // [max_rows] SampleRow, host-written
  const vk::BufferPtr& ids() const { return ids_; }        // [max_rows] u32, host-read
  const vk::BufferPtr& scratch() const { return scratch_; }  // ops::sample's, for max_rows rows
  // Expires when this sampler is destroyed (as State::liveness).
  std::weak_ptr<const void> liveness() const { return alive_; }

 private:
  std::shared_ptr<const int> alive_ = std::make_shared<const int>(0);
  vk::DevicePtr device_;
  uint32_t vocab_, slots_, max_rows_;
  vk::BufferPtr occurrence_, weights_, params_, ids_, scratch_;
};

}  // namespace rwkv::runtime
