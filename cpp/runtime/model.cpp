#include "runtime/model.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>

#include "gguf/file.hpp"
#include "runtime/batch_plan.hpp"

namespace rwkv::runtime {
namespace {

std::atomic<uint64_t> g_next_model_id{1};

// FNV-1a over the hyper-parameters and the tensor table (names, types, shapes, offsets).
uint64_t fingerprint(const gguf::File& f, const model::Config& c) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const uint8_t*>(p)[i]) * 1099511628211ull;
  };
  const uint32_t dims[] = {c.n_layer, c.n_embd, c.head_size, c.ffn, c.vocab, c.d_decay, c.d_iclr, c.d_value, c.d_gate};
  mix(dims, sizeof dims);
  for (const auto& t : f.tensors()) {
    mix(t.name.data(), t.name.size());
    mix(&t.type, sizeof t.type);
    mix(t.ne.data(), t.ne.size() * sizeof(uint64_t));
    mix(&t.offset, sizeof t.offset);
  }
  return h;
}

}  // namespace

Model::Model(const std::filesystem::path& path, const std::string& device, const model::ProgressFn& progress,
             uint32_t chunk_tokens)
    : id_(g_next_model_id++) {
  const auto t0 = std::chrono::steady_clock::now();
  const gguf::File file(path);
  info_.config = model::Config::from_gguf(file);
  info_.fingerprint = fingerprint(file, info_.config);
  // Models converted without a vocabulary still run on token ids.
  if (const auto* m = file.find("tokenizer.ggml.model"); m && m->type == gguf::ValueType::STRING && m->as_string() == "rwkv")
    tokenizer_ = std::make_shared<const WorldTokenizer>(WorldTokenizer::from_gguf(file));
  device_ = vk::Device::open(device);
  info_.device_name = device_->info().name;
  weights_ = model::upload_weights(device_, file, info_.config, progress);
  std::map<std::string, uint32_t> types;
  for (const auto& t : file.tensors()) ++types[std::string(gguf::type_name(t.type))];
  info_.weight_types.assign(types.begin(), types.end());

  const auto& c = info_.config;
  if (chunk_tokens == 0) throw InvalidArgument("[Model] chunk_tokens must be positive");
  forward_ = std::make_unique<model::Forward>(device_, c, weights_, chunk_tokens);
  const uint64_t T = chunk_tokens;
  token_ids_ = std::make_shared<vk::Buffer>(device_, T * 4, vk::MemoryKind::Upload);
  token_seq_ = std::make_shared<vk::Buffer>(device_, T * 4, vk::MemoryKind::Upload);
  seqs_ = std::make_shared<vk::Buffer>(device_, T * 16, vk::MemoryKind::Upload);
  rows_ = std::make_shared<vk::Buffer>(device_, T * 4, vk::MemoryKind::Upload);
  logits_ = std::make_shared<vk::Buffer>(device_, T * c.vocab * 4, vk::MemoryKind::Device);
  logits_back_ = std::make_shared<vk::Buffer>(device_, T * c.vocab * 4, vk::MemoryKind::Readback);
  embeddings_back_ = std::make_shared<vk::Buffer>(device_, T * c.n_embd * 4, vk::MemoryKind::Readback);
  info_.gpu_bytes = weights_.bytes;
  info_.decode_bytes_per_token = weights_.bytes - weights_.embedding.data.bytes() + weights_.embedding.row_bytes();
  info_.file_bytes = file.file_size();
  info_.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Model::~Model() = default;

std::shared_ptr<State> Model::new_state(uint32_t slots) const {
  return std::make_shared<State>(device_, info_.fingerprint, info_.config.state_floats(), slots);
}

void Model::check(std::span<const std::span<const uint32_t>> seqs, const State& state) const {
  const auto& c = info_.config;
  if (seqs.empty()) throw InvalidArgument("[run] no sequences given");
  for (size_t s = 0; s < seqs.size(); ++s) {
    if (seqs[s].empty()) throw InvalidArgument("[run] sequence " + std::to_string(s) + " has no tokens");
    for (size_t i = 0; i < seqs[s].size(); ++i)
      if (seqs[s][i] >= c.vocab)
        throw InvalidArgument("[run] token id " + std::to_string(seqs[s][i]) + " at position " + std::to_string(i) +
                              " is out of range for a vocabulary of " + std::to_string(c.vocab));
  }
  if (state.model_fingerprint() != info_.fingerprint || state.floats_per_slot() != c.state_floats() ||
      state.device().get() != device_.get())
    throw InvalidArgument("[run] the state belongs to another model");
  if (state.slots() < seqs.size())
    throw InvalidArgument("[run] " + std::to_string(seqs.size()) + " sequences need as many state slots; the state has " +
                          std::to_string(state.slots()));
}

void Model::forward(std::span<const std::span<const uint32_t>> seqs, State& state, Rows rows, bool logits, const RowSink& sink) {
  const auto& c = info_.config;
  const uint32_t width = logits ? c.vocab : c.n_embd;
  const vk::BufferPtr& back = logits ? logits_back_ : embeddings_back_;
  for (const Chunk& chunk : plan_chunks(seqs, forward_->max_tokens())) {
    auto* ids = reinterpret_cast<uint32_t*>(token_ids_->mapped());
    auto* token_seq = reinterpret_cast<uint32_t*>(token_seq_->mapped());
    auto* seq_table = reinterpret_cast<uint32_t*>(seqs_->mapped());
    auto* row_list = reinterpret_cast<uint32_t*>(rows_->mapped());
    std::vector<std::pair<uint32_t, uint32_t>> row_owner;  // (sequence, token index) of each output row
    uint32_t T = 0;
    for (uint32_t p = 0; p < chunk.size(); ++p) {
      const Piece& piece = chunk[p];
      const uint32_t n = piece.end - piece.begin;
      std::memcpy(ids + T, seqs[piece.seq].data() + piece.begin, n * 4);
      std::fill_n(token_seq + T, n, p);
      const uint32_t entry[4] = {T, n, piece.seq, 0};
      std::memcpy(seq_table + 4 * p, entry, sizeof entry);
      for (uint32_t i = piece.begin; i < piece.end; ++i) {
        const bool last = i + 1 == seqs[piece.seq].size();
        if (rows == Rows::All || (rows == Rows::Last && last)) {
          row_list[row_owner.size()] = T + (i - piece.begin);
          row_owner.emplace_back(piece.seq, i);
        }
      }
      T += n;
    }
    const auto n_rows = uint32_t(row_owner.size());
    const uint64_t bytes = uint64_t(n_rows) * width * 4;
    const ops::BatchView batch{{token_ids_}, {token_seq_}, {seqs_}, T, uint32_t(chunk.size())};
    auto record = [&](bool reusable) {
      vk::Recorder rec(device_, profiling_, reusable);
      forward_->record_layers(rec, batch, {state.buffer()});
      const vk::BufferRange logits_range{logits_};
      forward_->record_output(rec, {rows_}, n_rows, logits ? &logits_range : nullptr);
      if (n_rows) rec.copy({logits ? logits_ : forward_->embeddings()}, {back}, bytes);
      return rec.submit();
    };
    if (T == 1 && !profiling_) {
      // Decoding: replay the recorded step of this state (see DecodeStep).
      const uint32_t key = logits ? n_rows : n_rows + 2;
      auto it = std::find_if(decode_steps_.begin(), decode_steps_.end(),
                             [&](const DecodeStep& d) { return d.state == state.buffer().get() && d.n_rows == key; });
      if (it != decode_steps_.end()) {
        it->submission.resubmit();
      } else {
        if (decode_steps_.size() == 4) decode_steps_.erase(decode_steps_.begin());
        decode_steps_.push_back({state.buffer().get(), key, record(true)});
        it = decode_steps_.end() - 1;
      }
      it->submission.wait();
    } else {
      auto submission = record(false);
      submission.wait();
      if (profiling_)
        for (auto& t : submission.timings()) last_timings_.push_back(std::move(t));
    }
    const auto* out = reinterpret_cast<const float*>(back->mapped());
    for (uint32_t r = 0; r < n_rows; ++r) sink(row_owner[r].first, row_owner[r].second, out + uint64_t(r) * width);
  }
}

std::vector<float> Model::run(std::span<const uint32_t> tokens, State& state, LogitsMode mode) {
  if (tokens.empty()) throw InvalidArgument("[run] no tokens given");
  const std::span<const uint32_t> seqs[] = {tokens};
  std::lock_guard lock(mutex_);
  check(seqs, state);
  last_timings_.clear();
  const uint32_t V = info_.config.vocab;
  std::vector<float> out;
  out.reserve(mode == LogitsMode::All ? tokens.size() * V : mode == LogitsMode::Last ? V : 0);
  const Rows rows = mode == LogitsMode::All ? Rows::All : mode == LogitsMode::Last ? Rows::Last : Rows::None;
  forward(seqs, state, rows, true, [&](uint32_t, uint32_t, const float* row) { out.insert(out.end(), row, row + V); });
  return out;
}

std::vector<float> Model::embed(std::span<const std::span<const uint32_t>> seqs, State& state, Pooling pooling) {
  std::lock_guard lock(mutex_);
  check(seqs, state);
  last_timings_.clear();
  const uint32_t C = info_.config.n_embd;
  std::vector<double> sums(seqs.size() * uint64_t(C), 0.0);
  forward(seqs, state, pooling == Pooling::Last ? Rows::Last : Rows::All, false,
          [&](uint32_t s, uint32_t, const float* row) {
            double* dst = sums.data() + uint64_t(s) * C;
            for (uint32_t c = 0; c < C; ++c) dst[c] += row[c];
          });
  std::vector<float> out(sums.size());
  for (size_t s = 0; s < seqs.size(); ++s) {
    const double scale = pooling == Pooling::Mean ? 1.0 / double(seqs[s].size()) : 1.0;
    for (uint32_t c = 0; c < C; ++c) out[s * C + c] = float(sums[s * C + c] * scale);
  }
  return out;
}

}  // namespace rwkv::runtime
