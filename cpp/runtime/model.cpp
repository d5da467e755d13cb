#include "runtime/model.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>

#include "gguf/file.hpp"
#include "ops/pool.hpp"
#include "runtime/batch_plan.hpp"

namespace rwkv::runtime {
namespace {

std::atomic<uint64_t> g_next_model_id{1};

// Rows of logits a model holds: 128 MiB at a vocabulary of 65536 (lavapipe's storage-buffer range).
constexpr uint32_t k_logit_rows = 512;

// FNV-1a over the hyper-parameters, the tensor table (names, types, shapes, offsets) and samples
// of every tensor's bytes (its first, middle and last 64): two files of one shape but other
// weights get other fingerprints, at the cost of reading a few pages per tensor.
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
    const auto data = f.tensor_data(t);
    const size_t n = std::min<size_t>(64, data.size());
    for (const size_t at : {size_t(0), (data.size() - n) / 2, data.size() - n}) mix(data.data() + at, n);
  }
  return h;
}

}  // namespace

Model::Model(const std::filesystem::path& path, const std::string& device, const model::ProgressFn& progress,
             uint32_t chunk_tokens, ops::Precision precision)
    : id_(g_next_model_id++) {
  const auto t0 = std::chrono::steady_clock::now();
  const gguf::File file(path);
  info_.config = model::Config::from_gguf(file);
  info_.fingerprint = fingerprint(file, info_.config);
  // Models converted without a vocabulary still run on token ids.
  if (const auto* m = file.find("tokenizer.ggml.model"); m && m->type == gguf::ValueType::STRING && m->as_string() == "rwkv")
    tokenizer_ = std::make_shared<const WorldTokenizer>(WorldTokenizer::from_gguf(file));
  // Checked at load, not at the first call: every call would fail.
  if (tokenizer_ && tokenizer_->vocab_size() < info_.config.vocab)
    throw GGUFError(path.string() + ": the tokenizer has " + std::to_string(tokenizer_->vocab_size()) +
                    " tokens for a vocabulary of " + std::to_string(info_.config.vocab));
  device_ = vk::Device::open(device);
  if (info_.config.head_size > device_->info().max_workgroup_invocations)
    throw InvalidArgument(path.string() + ": head size " + std::to_string(info_.config.head_size) + " exceeds " +
                          device_->info().name + "'s " + std::to_string(device_->info().max_workgroup_invocations) +
                          " invocations per workgroup");
  info_.device_name = device_->info().name;
  weights_ = model::upload_weights(device_, file, info_.config, progress);
  std::map<std::string, uint32_t> types;
  for (const auto& t : file.tensors()) ++types[std::string(gguf::type_name(t.type))];
  info_.weight_types.assign(types.begin(), types.end());

  const auto& c = info_.config;
  if (chunk_tokens == 0)
    chunk_tokens = default_chunk_tokens(device_->info(), {model::Forward::scratch_bytes_per_token(c) + 4ull * c.n_embd,
                                                          model::Forward::largest_scratch_bytes_per_token(c)});
  info_.precision = device_->info().coopmat_f16 ? precision : ops::Precision::Exact;
  forward_ = std::make_unique<model::Forward>(device_, c, weights_, chunk_tokens, info_.precision);
  const uint64_t T = chunk_tokens;
  logit_rows_ = std::min(chunk_tokens, k_logit_rows);
  for (auto& in : inputs_) {
    in.token_ids = std::make_shared<vk::Buffer>(device_, T * 4, vk::MemoryKind::Upload);
    in.token_seq = std::make_shared<vk::Buffer>(device_, T * 4, vk::MemoryKind::Upload);
    in.seqs = std::make_shared<vk::Buffer>(device_, T * sizeof(gpu::Sequence), vk::MemoryKind::Upload);
    in.rows = std::make_shared<vk::Buffer>(device_, T * 4, vk::MemoryKind::Upload);
    in.pool_pieces = std::make_shared<vk::Buffer>(device_, T * sizeof(ops::PoolPiece), vk::MemoryKind::Upload);
  }
  logits_ = std::make_shared<vk::Buffer>(device_, uint64_t(logit_rows_) * c.vocab * 4, vk::MemoryKind::Device);
  logits_back_ = std::make_shared<vk::Buffer>(device_, uint64_t(logit_rows_) * c.vocab * 4, vk::MemoryKind::Readback);
  info_.gpu_bytes = weights_.bytes;
  info_.decode_bytes_per_token = weights_.bytes - weights_.embedding.data.bytes() + weights_.embedding.row_bytes();
  info_.file_bytes = file.file_size();
  info_.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Model::~Model() = default;

uint32_t Model::max_state_slots() const {
  const uint64_t slot_bytes = info_.config.state_floats() * 4;
  return uint32_t(std::min<uint64_t>(device_->info().max_storage_buffer_range / slot_bytes, UINT32_MAX));
}

std::shared_ptr<State> Model::new_state(uint32_t slots) const {
  if (slots > max_state_slots())
    throw InvalidArgument("[State] " + std::to_string(slots) + " slots of " + std::to_string(info_.config.state_floats() * 4) +
                          " bytes exceed the device's largest storage binding (" +
                          std::to_string(device_->info().max_storage_buffer_range >> 20) + " MiB): at most " +
                          std::to_string(max_state_slots()) + " (info['max_state_slots'])");
  return std::make_shared<State>(device_, info_.fingerprint, info_.config.state_floats(), slots);
}

std::vector<Model::SeqRef> Model::refs(std::span<const std::span<const uint32_t>> seqs) {
  std::vector<SeqRef> out;
  out.reserve(seqs.size());
  for (size_t s = 0; s < seqs.size(); ++s) out.push_back({seqs[s], uint32_t(s), true});
  return out;
}

void Model::check(std::span<const SeqRef> seqs, const State& state) const {
  const auto& c = info_.config;
  if (seqs.empty()) throw InvalidArgument("[run] no sequences given");
  std::vector<bool> used(state.slots(), false);
  for (size_t s = 0; s < seqs.size(); ++s) {
    const auto& tokens = seqs[s].tokens;
    if (tokens.empty()) throw InvalidArgument("[run] sequence " + std::to_string(s) + " has no tokens");
    for (size_t i = 0; i < tokens.size(); ++i)
      if (tokens[i] >= c.vocab)
        throw InvalidArgument("[run] token id " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                              " is out of range for a vocabulary of " + std::to_string(c.vocab));
    if (seqs[s].slot >= state.slots())
      throw InvalidArgument("[run] " + std::to_string(seqs.size()) + " sequences need as many state slots; the state has " +
                            std::to_string(state.slots()));
    if (used[seqs[s].slot]) throw InvalidArgument("[run] two sequences share state slot " + std::to_string(seqs[s].slot));
    used[seqs[s].slot] = true;
  }
  if (state.model_fingerprint() != info_.fingerprint || state.floats_per_slot() != c.state_floats() ||
      state.device().get() != device_.get())
    throw InvalidArgument("[run] the state belongs to another model");
}

// The steps of one chunk: plan (the host-visible inputs the shaders read, and which output row
// belongs to which token), record, submit (replaying a recorded decode step), read back.
Model::ChunkPlan Model::plan_chunk(const Chunk& chunk, std::span<const SeqRef> seqs, Rows rows, const Outputs& outputs,
                                   const ChunkInputs& inputs) {
  auto* ids = reinterpret_cast<uint32_t*>(inputs.token_ids->mapped());
  auto* token_seq = reinterpret_cast<uint32_t*>(inputs.token_seq->mapped());
  auto* seq_table = reinterpret_cast<gpu::Sequence*>(inputs.seqs->mapped());
  auto* row_list = reinterpret_cast<uint32_t*>(inputs.rows->mapped());
  const bool sampling = outputs.kind == Outputs::Sample, pooled = outputs.kind == Outputs::Pooled;
  auto* sample_rows = sampling ? reinterpret_cast<ops::SampleRow*>(outputs.sampler->params()->mapped()) : nullptr;
  auto* pool_pieces = reinterpret_cast<ops::PoolPiece*>(inputs.pool_pieces->mapped());
  ChunkPlan plan;
  plan.inputs = &inputs;
  plan.n_seqs = uint32_t(chunk.size());
  for (uint32_t p = 0; p < chunk.size(); ++p) {
    const auto rows_before = uint32_t(plan.row_owner.size());
    const Piece& piece = chunk[p];
    const SeqRef& seq = seqs[piece.seq];
    const uint32_t n = piece.end - piece.begin;
    std::memcpy(ids + plan.T, seq.tokens.data() + piece.begin, n * 4);
    std::fill_n(token_seq + plan.T, n, p);
    seq_table[p] = {plan.T, n, seq.slot, 0};
    plan.longest = std::max(plan.longest, n);
    for (uint32_t i = piece.begin; i < piece.end; ++i) {
      const bool last = i + 1 == seq.tokens.size();
      if (rows == Rows::All || (rows == Rows::Last && last && seq.output)) {
        const auto r = uint32_t(plan.row_owner.size());
        row_list[r] = plan.T + (i - piece.begin);
        if (sampling) {
          // Checked before the write: the sampler's params hold max_rows rows.
          if (r >= outputs.sampler->max_rows()) throw InvalidArgument("[step] more draws than the sampler's rows");
          sample_rows[r] = outputs.samples[piece.seq];
          sample_rows[r].logits_row = r;
        }
        plan.row_owner.emplace_back(piece.seq, i);
      }
    }
    if (pooled && plan.row_owner.size() > rows_before)
      pool_pieces[plan.n_pool_pieces++] = {rows_before, uint32_t(plan.row_owner.size()) - rows_before, piece.seq, 0};
    plan.T += n;
  }
  // From the sequences' rows in host memory (not the mapped, write-combined params): those of
  // sequences without a row in this chunk can only add steps, which change nothing.
  if (sampling) plan.sample_steps = ops::sample_steps(outputs.samples, info_.config.vocab);
  return plan;
}

std::vector<vk::Submission> Model::record_chunk(const ChunkPlan& plan, State& state, const Outputs& outputs, uint32_t n_seqs,
                                                bool first, bool last, bool reusable) {
  const auto& c = info_.config;
  const bool pooled = outputs.kind == Outputs::Pooled;
  const uint64_t pooled_bytes = uint64_t(n_seqs) * c.n_embd * 4;
  const ChunkInputs& in = *plan.inputs;
  const ops::BatchView batch{{in.token_ids}, {in.token_seq}, {in.seqs}, plan.T, plan.n_seqs, plan.longest};
  // A replayed recording is one submission; others may take several (submission_layers).
  const auto segments = reusable ? std::vector<uint32_t>{c.n_layer} : submission_layers(c.n_layer, plan.T, c.n_embd);
  std::vector<vk::Submission> submitted;
  std::optional<vk::Recorder> recorder;
  uint32_t begin = 0;
  for (const uint32_t layers : segments) {
    if (recorder) submitted.push_back(recorder->submit());
    recorder.emplace(device_, profiling_, reusable);
    forward_->record_layers(*recorder, batch, {state.buffer()}, begin, begin + layers);
    begin += layers;
  }
  vk::Recorder& rec = *recorder;
  const vk::BufferRange logits_range{logits_};
  forward_->record_output(rec, {in.rows}, plan.rows(), pooled ? nullptr : &logits_range);
  if (plan.rows() && rows_back(outputs)) rec.copy({logits_}, {logits_back_}, uint64_t(plan.rows()) * c.vocab * 4);
  if (pooled) {
    if (first) rec.fill({pooled_, 0, pooled_bytes}, 0);
    ops::pool_rows(rec, {forward_->embeddings()}, {in.pool_pieces}, plan.n_pool_pieces, c.n_embd, {pooled_, 0, pooled_bytes});
    if (last) {
      const ops::PoolFinish finish{c.n_embd, c.head_size, uint32_t(c.wkv_offset(c.n_layer - 1)), uint32_t(c.state_floats()),
                                   outputs.pooling == Pooling::State, outputs.pooling == Pooling::Mean, outputs.normalize};
      ops::pool_finish(rec, {state.buffer()}, {pool_seqs_}, n_seqs, finish, {pooled_, 0, pooled_bytes});
      rec.copy({pooled_, 0, pooled_bytes}, {pooled_back_, 0, pooled_bytes}, pooled_bytes);
    }
  }
  if (outputs.kind == Outputs::Sample) {
    const Sampler& s = *outputs.sampler;
    ops::sample(rec, {logits_}, {s.params()}, plan.rows(), {s.occurrence()}, {s.token_weights()}, c.vocab, {s.ids()},
                {.scratch = {s.scratch()}, .steps = plan.sample_steps});
  }
  submitted.push_back(rec.submit());
  return submitted;
}

void Model::submit_chunk(const ChunkPlan& plan, State& state, const Outputs& outputs, uint32_t n_seqs, bool first, bool last) {
  // Decoding (one token per sequence): replay the recording of this shape (see DecodeStep).
  // (Pooled calls are not replayed: their first and last chunks record more than the others.)
  if (plan.T == plan.n_seqs && !profiling_ && outputs.kind != Outputs::Pooled) {
    const bool sampling = outputs.kind == Outputs::Sample;
    const DecodeKey key{state.buffer().get(), sampling ? outputs.sampler->occurrence().get() : nullptr,
                        plan.T, plan.rows(), uint32_t(outputs.kind), outputs.keep_logits, plan.sample_steps};
    auto it = std::find_if(decode_steps_.begin(), decode_steps_.end(), [&](const DecodeStep& d) { return d.key == key; });
    if (it != decode_steps_.end()) {
      it->submission.resubmit();
    } else {
      if (decode_steps_.size() == 8) decode_steps_.erase(decode_steps_.begin());
      decode_steps_.push_back({key, std::move(record_chunk(plan, state, outputs, n_seqs, first, last, true).front()),
                               state.liveness(), sampling ? outputs.sampler->liveness() : state.liveness()});
      it = decode_steps_.end() - 1;
    }
    try {
      it->submission.wait();
    } catch (const DeviceTimeout&) {
      decode_steps_.erase(it);  // its recording went to the device: record anew next time
      throw;
    }
    return;
  }
  auto submissions = record_chunk(plan, state, outputs, n_seqs, first, last, false);
  finish(submissions);
}

void Model::finish(std::vector<vk::Submission>& submissions) {
  for (auto& submission : submissions) {
    submission.wait();
    if (profiling_)
      for (auto& t : submission.timings()) last_timings_.push_back(std::move(t));
  }
  submissions.clear();
}

void Model::read_back(const ChunkPlan& plan, const Outputs& outputs, uint32_t n_seqs, bool last, const RowSink& sink) const {
  const auto& c = info_.config;
  const auto* out = reinterpret_cast<const float*>(logits_back_->mapped());
  const auto* drawn = outputs.kind == Outputs::Sample ? reinterpret_cast<const uint32_t*>(outputs.sampler->ids()->mapped()) : nullptr;
  for (uint32_t r = 0; r < plan.rows(); ++r)
    if (drawn && drawn[r] >= c.vocab)  // sample.comp's marker
      throw NonFinite("[sample] the logits of sequence " + std::to_string(plan.row_owner[r].first) +
                      " hold NaN or infinity (non-finite weights or state): nothing to sample from");
  if (outputs.kind != Outputs::Pooled) {
    const bool whole_rows = rows_back(outputs);
    for (uint32_t r = 0; r < plan.rows(); ++r)
      sink(plan.row_owner[r].first, plan.row_owner[r].second, whole_rows ? out + uint64_t(r) * c.vocab : nullptr,
           drawn ? drawn[r] : 0);
  } else if (last) {
    for (uint32_t s = 0; s < n_seqs; ++s) sink(s, 0, reinterpret_cast<const float*>(pooled_back_->mapped()) + uint64_t(s) * c.n_embd, 0);
  }
}

void Model::forward(std::span<const SeqRef> seqs, State& state, Rows rows, const Outputs& outputs, const RowSink& sink,
                    const Progress& progress) {
  std::erase_if(decode_steps_, [](const DecodeStep& d) { return d.state_alive.expired() || d.sampler_alive.expired(); });
  const auto& c = info_.config;
  const auto n_seqs = uint32_t(seqs.size());
  std::vector<std::span<const uint32_t>> token_spans;
  uint64_t done = 0, total = 0;
  for (const auto& s : seqs) token_spans.push_back(s.tokens), total += s.tokens.size();
  if (outputs.kind == Outputs::Pooled) {
    const uint64_t pooled_bytes = uint64_t(n_seqs) * c.n_embd * 4;
    if (!pooled_ || pooled_->size() < pooled_bytes) {
      pooled_ = std::make_shared<vk::Buffer>(device_, pooled_bytes, vk::MemoryKind::Device);
      pooled_back_ = std::make_shared<vk::Buffer>(device_, pooled_bytes, vk::MemoryKind::Readback);
      pool_seqs_ = std::make_shared<vk::Buffer>(device_, n_seqs * sizeof(ops::PoolSeq), vk::MemoryKind::Upload);
    }
    auto* table = reinterpret_cast<ops::PoolSeq*>(pool_seqs_->mapped());
    for (uint32_t s = 0; s < n_seqs; ++s) table[s] = {seqs[s].slot, uint32_t(seqs[s].tokens.size())};
  }
  // Logits of every token come back a logits buffer at a time.
  const bool all_logits = outputs.kind != Outputs::Pooled && rows == Rows::All;
  const auto chunks = plan_chunks(token_spans, all_logits ? logit_rows_ : forward_->max_tokens());
  // Chunks overlap where none hands rows back before the next: chunk i is written and recorded
  // into the other set of inputs while the GPU runs chunk i - 1, then waited for in turn (the
  // queue runs them in order). Otherwise each chunk is submitted and waited for alone.
  const bool overlap = chunks.size() > 1 && (outputs.kind == Outputs::Pooled || rows == Rows::None);
  std::vector<vk::Submission> running;  // the chunk before's, while overlapping
  uint32_t running_tokens = 0;
  // Leaving by an exception (an interrupt, a failed recording), the chunk still on the GPU is
  // waited for: the next call writes the inputs it may still read.
  struct WaitFor {
    std::vector<vk::Submission>& submissions;
    ~WaitFor() {
      for (auto& s : submissions) {
        try {
          s.wait();
        } catch (...) {
          // Already failing: the first error is the one reported.
        }
      }
    }
  } wait_for_running{running};
  for (size_t i = 0; i < chunks.size(); ++i) {
    const bool first = i == 0, last = i + 1 == chunks.size();
    if (!first && interrupt_check_) interrupt_check_();
    const ChunkPlan plan = plan_chunk(chunks[i], seqs, rows, outputs, inputs_[overlap ? i % 2 : 0]);
    if (overlap) {
      auto submitted = record_chunk(plan, state, outputs, n_seqs, first, last, false);
      finish(running);  // frees its inputs for chunk i + 1
      done += running_tokens;
      if (progress && !first) progress(done, total);
      running = std::move(submitted);
      running_tokens = plan.T;
      if (!last) continue;
      finish(running);
    } else {
      submit_chunk(plan, state, outputs, n_seqs, first, last);
    }
    read_back(plan, outputs, n_seqs, last, sink);
    done += plan.T;  // overlapping: the last chunk (those before were counted as they ended)
    if (progress) progress(done, total);
  }
}

namespace {

// Outputs are checked as they come back (a pass over what the host copies anyway): NaN or
// infinity there means non-finite weights or a corrupted state, which must not pass as a result.
void check_finite(const float* row, uint32_t n, const char* what, uint32_t seq, uint32_t token) {
  bool finite = true;
  for (uint32_t i = 0; i < n; ++i) finite &= std::isfinite(row[i]);
  if (!finite)
    throw NonFinite(std::string("[") + what + "] the output of sequence " + std::to_string(seq) + ", token " +
                    std::to_string(token) + " holds NaN or infinity (non-finite weights or state)");
}

}  // namespace

std::vector<float> Model::run(std::span<const uint32_t> tokens, State& state, LogitsMode mode) {
  if (tokens.empty()) throw InvalidArgument("[run] no tokens given");
  const SeqRef seqs[] = {{tokens, 0, true}};
  std::lock_guard lock(mutex_);
  check(seqs, state);
  last_timings_.clear();
  const uint32_t V = info_.config.vocab;
  std::vector<float> out;
  out.reserve(mode == LogitsMode::All ? tokens.size() * V : mode == LogitsMode::Last ? V : 0);
  const Rows rows = mode == LogitsMode::All ? Rows::All : mode == LogitsMode::Last ? Rows::Last : Rows::None;
  forward(seqs, state, rows, {Outputs::Logits}, [&](uint32_t s, uint32_t t, const float* row, uint32_t) {
    check_finite(row, V, "run", s, t);
    out.insert(out.end(), row, row + V);
  });
  return out;
}

std::vector<float> Model::embed(std::span<const std::span<const uint32_t>> seqs, State& state, Pooling pooling,
                                bool normalize, const Progress& progress) {
  const auto seq_refs = refs(seqs);
  std::lock_guard lock(mutex_);
  check(seq_refs, state);
  last_timings_.clear();
  const uint32_t C = info_.config.n_embd;
  std::vector<float> out(seqs.size() * uint64_t(C));
  const Rows rows = pooling == Pooling::Mean ? Rows::All : pooling == Pooling::Last ? Rows::Last : Rows::None;
  Outputs outputs{Outputs::Pooled};
  outputs.pooling = pooling;
  outputs.normalize = normalize;
  forward(seq_refs, state, rows, outputs,
          [&](uint32_t s, uint32_t, const float* vec, uint32_t) {
            std::copy_n(vec, C, out.data() + s * uint64_t(C));
            check_finite(vec, C, "embed", s, uint32_t(seqs[s].size() - 1));
          },
          progress);
  return out;
}

std::vector<uint32_t> Model::step(std::span<const StepSeq> seqs, State& state, Sampler& sampler,
                                  std::vector<float>* logits) {
  std::vector<SeqRef> seq_refs;
  std::vector<ops::SampleRow> samples;
  uint64_t tokens = 0;
  for (const auto& s : seqs) {
    seq_refs.push_back({s.tokens, s.slot, s.sample != nullptr});
    samples.push_back(s.sample ? *s.sample : ops::SampleRow{});
    tokens += s.tokens.size();
    if (s.sample && s.sample->slot >= sampler.slots()) throw InvalidArgument("[step] penalty slot out of range");
  }
  if (tokens > chunk_tokens())
    throw InvalidArgument("[step] " + std::to_string(tokens) + " tokens exceed the step size of " + std::to_string(chunk_tokens()));
  if (const auto n = std::count_if(seqs.begin(), seqs.end(), [](const StepSeq& s) { return s.sample != nullptr; });
      n > max_batch())
    throw InvalidArgument("[step] " + std::to_string(n) + " sequences sample; a step samples at most " + std::to_string(max_batch()));
  if (sampler.token_weights()->size() != uint64_t(info_.config.vocab) * 4)
    throw InvalidArgument("[step] the sampler was made for another vocabulary");
  std::lock_guard lock(mutex_);
  check(seq_refs, state);
  last_timings_.clear();
  const uint32_t V = info_.config.vocab;
  std::vector<uint32_t> drawn;
  if (logits) logits->clear();
  forward(seq_refs, state, Rows::Last, {Outputs::Sample, &sampler, samples, logits != nullptr},
          [&](uint32_t, uint32_t, const float* row, uint32_t id) {
            drawn.push_back(id);
            if (logits) logits->insert(logits->end(), row, row + V);
          });
  return drawn;
}

std::vector<float> Model::token_penalty_weights() const {
  std::vector<float> weights(info_.config.vocab, 1.0f);
  if (!tokenizer_) return weights;
  // The official pipeline: `if decoded in ' \t0123456789': weight 0` (a substring test).
  constexpr std::string_view blank = " \t0123456789";
  for (uint32_t id = 0; id < weights.size(); ++id) {
    const std::string_view bytes = tokenizer_->token_bytes(id);
    if (blank.find(bytes) != std::string_view::npos) weights[id] = 0.0f;
  }
  return weights;
}

}  // namespace rwkv::runtime
