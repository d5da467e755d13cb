// The RWKV-7 forward pass as a flat list of ops (../shared/docs/rwkv7-spec.md section 1), recorded
// for a batch of token sequences, with scratch buffers sized for `max_tokens` tokens per batch.
#pragma once
#include "model/weights.hpp"
#include "vk/recorder.hpp"

namespace rwkv::model {

class Forward {
 public:
  // `precision` applies to every matrix product (ops/matmul.hpp).
  Forward(const vk::DevicePtr& device, const Config& config, const Weights& weights, uint32_t max_tokens,
          ops::Precision precision);

  uint32_t max_tokens() const { return max_tokens_; }
  // Bytes of the scratch buffers per token of max_tokens (the tensor-core products' scratch left
  // out: it is sized by their kernel table), in all and of the largest buffer.
  static uint64_t scratch_bytes_per_token(const Config& config);
  static uint64_t largest_scratch_bytes_per_token(const Config& config);

  // Records layers [begin, end) of the batch on `state` (one slot of config.state_floats() floats
  // per sequence slot), the embedding with layer 0. Consecutive ranges may go to consecutive
  // submissions of one queue (each submission ends with a barrier, vk::Recorder::submit).
  void record_layers(vk::Recorder& rec, const ops::BatchView& batch, const vk::BufferRange& state, uint32_t begin,
                     uint32_t end) const;
  // Records ln_out for the `n_rows` tokens listed in `rows` (after record_layers) into the
  // embeddings buffer ([n_rows, C]), and, when `logits` is given, the head into it ([n_rows, V]).
  void record_output(vk::Recorder& rec, const vk::BufferRange& rows, uint32_t n_rows, const vk::BufferRange* logits) const;
  // ln_out of the rows of the last record_output: [max_tokens, C] f32.
  const vk::BufferPtr& embeddings() const { return ln_out_; }

 private:
  void record_layer(vk::Recorder& rec, uint32_t l, const ops::BatchView& batch, const vk::BufferRange& state) const;
  // The products' options: this model's precision and the tensor-core kernel's scratch.
  ops::MatmulOptions options(ops::ActOut act_out = ops::ActOut::None, bool accumulate = false) const;

  const Config& c_;
  const Weights& w_;
  uint32_t max_tokens_;
  ops::Precision precision_;
  vk::BufferPtr x_, mixes_, rkv_, lora_down_, lora_up_, v_first_, o_, ffn_, ln_out_, wkv_scratch_, matmul_scratch_;
};

}  // namespace rwkv::model
