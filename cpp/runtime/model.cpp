#include "runtime/model.hpp"

#include <atomic>
#include <chrono>
#include <cstring>
#include <algorithm>
#include <map>

#include "gguf/file.hpp"

namespace rwkv::runtime {
namespace {
std::atomic<uint64_t> g_next_model_id{1};
}

Model::Model(const std::filesystem::path& path, const std::string& device, const model::ProgressFn& progress,
             uint32_t chunk_tokens)
    : id_(g_next_model_id++) {
  const auto t0 = std::chrono::steady_clock::now();
  const gguf::File file(path);
  info_.config = model::Config::from_gguf(file);
  device_ = vk::Device::open(device);
  info_.device_name = device_->info().name;
  weights_ = model::upload_weights(device_, file, info_.config, progress);
  std::map<std::string, uint32_t> types;
  for (const auto& t : file.tensors()) ++types[std::string(gguf::type_name(t.type))];
  info_.weight_types.assign(types.begin(), types.end());

  const auto& c = info_.config;
  forward_ = std::make_unique<model::Forward>(device_, c, weights_, chunk_tokens);
  const uint64_t T = chunk_tokens;
  token_ids_ = std::make_shared<vk::Buffer>(device_, T * 4, vk::MemoryKind::Upload);
  token_seq_ = std::make_shared<vk::Buffer>(device_, T * 4, vk::MemoryKind::Upload);
  seqs_ = std::make_shared<vk::Buffer>(device_, 16, vk::MemoryKind::Upload);
  rows_ = std::make_shared<vk::Buffer>(device_, T * 4, vk::MemoryKind::Upload);
  logits_ = std::make_shared<vk::Buffer>(device_, T * c.vocab * 4, vk::MemoryKind::Device);
  logits_back_ = std::make_shared<vk::Buffer>(device_, T * c.vocab * 4, vk::MemoryKind::Readback);
  info_.gpu_bytes = weights_.bytes;
  info_.decode_bytes_per_token =
      weights_.bytes - weights_.embedding.data.bytes() + weights_.embedding.row_bytes();
  info_.file_bytes = file.file_size();
  info_.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Model::~Model() = default;

std::shared_ptr<State> Model::new_state() const {
  return std::make_shared<State>(device_, id_, info_.config.state_floats());
}

std::vector<float> Model::run(std::span<const uint32_t> tokens, State& state, LogitsMode mode) {
  const auto& c = info_.config;
  if (tokens.empty()) throw InvalidArgument("[run] no tokens given");
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] >= c.vocab)
      throw InvalidArgument("[run] token id " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                            " is out of range for a vocabulary of " + std::to_string(c.vocab));
  if (state.model_id() != id_ || state.floats_per_slot() != c.state_floats())
    throw InvalidArgument("[run] the state belongs to another model");

  std::lock_guard lock(mutex_);
  const uint32_t chunk = forward_->max_tokens();
  last_timings_.clear();
  std::vector<float> out;
  out.reserve(mode == LogitsMode::All ? tokens.size() * c.vocab : mode == LogitsMode::Last ? c.vocab : 0);
  for (size_t begin = 0; begin < tokens.size(); begin += chunk) {
    const auto T = uint32_t(std::min<size_t>(chunk, tokens.size() - begin));
    const bool last_chunk = begin + T == tokens.size();
    std::memcpy(token_ids_->mapped(), tokens.data() + begin, T * 4);
    std::memset(token_seq_->mapped(), 0, T * 4);
    const uint32_t seq[4] = {0, T, 0, 0};
    std::memcpy(seqs_->mapped(), seq, sizeof seq);
    uint32_t n_rows = 0;
    auto* rows = reinterpret_cast<uint32_t*>(rows_->mapped());
    if (mode == LogitsMode::All) {
      for (uint32_t t = 0; t < T; ++t) rows[n_rows++] = t;
    } else if (mode == LogitsMode::Last && last_chunk) {
      rows[n_rows++] = T - 1;
    }
    const uint64_t bytes = uint64_t(n_rows) * c.vocab * 4;
    auto record = [&](bool reusable) {
      vk::Recorder rec(device_, profiling_, reusable);
      const ops::BatchView batch{{token_ids_}, {token_seq_}, {seqs_}, T, 1};
      forward_->record(rec, batch, {state.buffer()}, {rows_}, n_rows, {logits_});
      if (n_rows) rec.copy({logits_}, {logits_back_}, bytes);
      return rec.submit();
    };
    if (T == 1 && !profiling_) {
      auto it = std::find_if(decode_steps_.begin(), decode_steps_.end(),
                             [&](const DecodeStep& d) { return d.state == state.buffer().get() && d.n_rows == n_rows; });
      if (it != decode_steps_.end()) {
        it->submission.resubmit();
      } else {
        if (decode_steps_.size() == 4) decode_steps_.erase(decode_steps_.begin());
        decode_steps_.push_back({state.buffer().get(), n_rows, record(true)});
        it = decode_steps_.end() - 1;
      }
      it->submission.wait();
    } else {
      auto submission = record(false);
      submission.wait();
      if (profiling_)
        for (auto& t : submission.timings()) last_timings_.push_back(std::move(t));
    }
    const auto* logits = reinterpret_cast<const float*>(logits_back_->mapped());
    out.insert(out.end(), logits, logits + uint64_t(n_rows) * c.vocab);
  }
  return out;
}

}  // namespace rwkv::runtime
