// The engine facade: a loaded RWKV-7 model on one device, running token sequences on states.
#pragma once
#include <algorithm>
#include <array>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "model/forward.hpp"
#include "runtime/batch_plan.hpp"
#include "runtime/sampler.hpp"
#include "runtime/state.hpp"
#include "tokenizer/world_tokenizer.hpp"
#include "vk/device.hpp"

namespace rwkv::runtime {

enum class LogitsMode { None, Last, All };
// How embed() turns a sequence into one vector of C floats: the last token's ln_out, the mean of
// its tokens' ln_out, or "state": the last layer's wkv state averaged over its last axis.
enum class Pooling { Last, Mean, State };

// A sequence of a generation step: `tokens` run on state slot `slot`; with `sample`, a token is
// drawn on the GPU after the last of them (`sample->logits_row` is filled in by the step).
struct StepSeq {
  std::span<const uint32_t> tokens;
  uint32_t slot;
  const ops::SampleRow* sample = nullptr;
};

struct ModelInfo {
  model::Config config;
  std::string device_name;
  uint64_t gpu_bytes;
  uint64_t decode_bytes_per_token;  // weights one decode step reads: all but the embedding table (one row of it)
  uint64_t file_bytes;
  uint64_t fingerprint;             // of the hyper-parameters and tensor table: states carry it
  ops::Precision precision;         // in effect: Fast only where the device has tensor cores
  double load_seconds;
  std::vector<std::pair<std::string, uint32_t>> weight_types;  // ggml type name -> tensor count
};

class Model {
 public:
  // Loads a rwkv7 GGUF on the device chosen by `device` (index, name substring or "" for default).
  // `precision` (ops/matmul.hpp): Fast runs the matrix products on the tensor cores where the
  // device has them, in fp16 with fp32 sums; Exact keeps every product in fp32. `chunk_tokens`:
  // tokens per submission, 0 for the device's default (runtime/batch_plan.hpp).
  Model(const std::filesystem::path& path, const std::string& device = "", const model::ProgressFn& progress = {},
        uint32_t chunk_tokens = 0, ops::Precision precision = ops::Precision::Fast);
  ~Model();

  const ModelInfo& info() const { return info_; }
  const model::Config& config() const { return info_.config; }
  const vk::DevicePtr& device() const { return device_; }
  // The model's World tokenizer, or null when the file has no rwkv vocabulary.
  const std::shared_ptr<const WorldTokenizer>& tokenizer() const { return tokenizer_; }
  uint64_t id() const { return id_; }

  std::shared_ptr<State> new_state(uint32_t slots = 1) const;

  // Runs `tokens` through the model on slot 0 of `state` (advanced in place), as chunks of at most
  // chunk_tokens. Returns the logits asked for: [V] (Last), [T, V] (All) or nothing.
  std::vector<float> run(std::span<const uint32_t> tokens, State& state, LogitsMode mode);

  // Embeddings of many sequences at once: sequence i runs on slot i of `state` (which needs at
  // least seqs.size() slots), all advancing together in shared chunks. Returns [seqs.size(), C],
  // pooled as `pooling` says and, with `normalize`, each row divided by max(its L2 norm, 1e-12),
  // all on the GPU. `progress`, when given, hears (tokens done, tokens in all) after each chunk.
  using Progress = std::function<void(uint64_t, uint64_t)>;
  std::vector<float> embed(std::span<const std::span<const uint32_t>> seqs, State& state, Pooling pooling,
                           bool normalize = false, const Progress& progress = {});

  // One step of batched generation: runs the sequences together (at most chunk_tokens() tokens in
  // all, distinct slots) and returns the token drawn for each sequence that samples, in order.
  // With `logits`, their rows of logits come back too ([drawn, V]); otherwise only the ids do.
  std::vector<uint32_t> step(std::span<const StepSeq> seqs, State& state, Sampler& sampler, std::vector<float>* logits);
  uint32_t chunk_tokens() const { return forward_->max_tokens(); }
  // The most slots one state can hold: the shaders bind a state whole, so its slots must fit the
  // device's largest storage binding (maxStorageBufferRange: 128 MiB on lavapipe, 4 GiB on the
  // H200; a slot of the 2.9B shape is 21 MiB).
  uint32_t max_state_slots() const;
  // The most sequences one step can sample, and the rows of logits a chunk can return: the logit
  // rows the model holds (min(chunk_tokens, 512): a row is vocab floats, 256 KiB at 65536 tokens),
  // and no more than a state holds.
  uint32_t max_batch() const { return std::min(logit_rows_, max_state_slots()); }
  // What one generated occurrence of each token adds to its penalty count: 0 for tokens that
  // are only whitespace or digits, else 1 (as the official pipeline counts).
  std::vector<float> token_penalty_weights() const;

  // With profiling on, each run records GPU timestamps around every dispatch; last_timings()
  // returns those of the last run (all its chunks).
  void set_profiling(bool on) { profiling_ = on; }
  // Called between the submissions of a call (each chunk of a prompt or batch); throwing from it
  // stops the call there: the state then holds every token of the chunks already run. The Python
  // bindings check for signals (Ctrl-C) in it.
  void set_interrupt_check(std::function<void()> check) { interrupt_check_ = std::move(check); }
  std::vector<vk::DispatchTiming> last_timings() const { return last_timings_; }

 private:
  struct SeqRef {
    std::span<const uint32_t> tokens;
    uint32_t slot;
    bool output;  // with Rows::Last: whether its last token gives an output row
  };
  enum class Rows { None, Last, All };  // which tokens of each sequence produce an output row
  struct Outputs {
    // Pooled: the embedding rows summed per sequence on the GPU, then finished there as
    // `pooling` and `normalize` say (ops/pool.hpp); the sink hears each sequence's vector once,
    // after the last chunk, as (sequence, 0, row, 0).
    enum Kind { Pooled, Logits, Sample } kind;
    Sampler* sampler = nullptr;               // Sample: draws with these per-sequence rows
    std::span<const ops::SampleRow> samples = {};  // indexed by sequence
    bool keep_logits = false;                 // Sample: the logits rows come back as well
    Pooling pooling = Pooling::Last;          // Pooled
    bool normalize = false;                   // Pooled
  };
  // Called per output row: (sequence, token index in the sequence, row of C or V floats or null,
  // drawn token id).
  using RowSink = std::function<void(uint32_t, uint32_t, const float*, uint32_t)>;
  // Runs the sequences chunk by chunk (plan_chunks), each through the four steps below.
  void forward(std::span<const SeqRef> seqs, State& state, Rows rows, const Outputs& outputs, const RowSink& sink,
               const Progress& progress = {});
  // A chunk's inputs: host-visible, written by plan_chunk, read by the shaders.
  struct ChunkInputs {
    vk::BufferPtr token_ids, token_seq, seqs, rows, pool_pieces;
  };
  // One chunk: its tokens and sequences, and the (sequence, token index) of each output row.
  struct ChunkPlan {
    const ChunkInputs* inputs = nullptr;  // where plan_chunk wrote them
    uint32_t T = 0, n_seqs = 0, n_pool_pieces = 0, longest = 0;
    std::vector<std::pair<uint32_t, uint32_t>> row_owner;
    ops::SampleSteps sample_steps{};  // what the chunk's sampling rows need
    uint32_t rows() const { return uint32_t(row_owner.size()); }
  };
  // Whole rows of logits come back to the host (not for pooling, nor for sampling without keep_logits).
  static bool rows_back(const Outputs& o) { return o.kind == Outputs::Logits || (o.kind == Outputs::Sample && o.keep_logits); }
  // Writes the chunk's host-visible inputs (token ids, sequences, output rows, sampling rows, pool pieces).
  ChunkPlan plan_chunk(const Chunk& chunk, std::span<const SeqRef> seqs, Rows rows, const Outputs& outputs,
                       const ChunkInputs& inputs);
  // Records and submits the chunk: one submission when `reusable` (a decode step, replayed),
  // else as submission_layers (batch_plan.hpp) divides the layers.
  std::vector<vk::Submission> record_chunk(const ChunkPlan& plan, State& state, const Outputs& outputs, uint32_t n_seqs,
                                           bool first, bool last, bool reusable);
  // Records and submits the chunk (a decode step replays its cached recording) and waits.
  void submit_chunk(const ChunkPlan& plan, State& state, const Outputs& outputs, uint32_t n_seqs, bool first, bool last);
  // Waits for the submissions in order, keeping their timings when profiling.
  void finish(std::vector<vk::Submission>& submissions);
  // Hands the chunk's rows (or, after the last chunk of a pooled call, every sequence's vector) to the sink.
  void read_back(const ChunkPlan& plan, const Outputs& outputs, uint32_t n_seqs, bool last, const RowSink& sink) const;
  void check(std::span<const SeqRef> seqs, const State& state) const;
  static std::vector<SeqRef> refs(std::span<const std::span<const uint32_t>> seqs);

  vk::DevicePtr device_;
  ModelInfo info_;
  std::shared_ptr<const WorldTokenizer> tokenizer_;
  model::Weights weights_;
  std::unique_ptr<model::Forward> forward_;
  uint64_t id_;
  // Two sets of chunk inputs: forward writes and records a chunk into one while the GPU runs the
  // chunk before from the other, where no chunk's rows come back before the next (pooled calls,
  // prompts without logits). Other calls, and the decode steps' replayed recordings, use the first.
  std::array<ChunkInputs, 2> inputs_;
  vk::BufferPtr logits_, logits_back_;  // the outputs on their way back
  vk::BufferPtr pooled_, pooled_back_;  // [sequences, C] sums of a Pooled call, grown as calls need
  vk::BufferPtr pool_seqs_;             // [sequences] ops::PoolSeq of a Pooled call (host-written)
  uint32_t logit_rows_ = 0;  // rows of logits_ and logits_back_
  std::mutex mutex_;  // one run at a time per model: runs share the scratch buffers
  bool profiling_ = false;
  std::function<void()> interrupt_check_;
  std::vector<vk::DispatchTiming> last_timings_;
  // Recorded decode steps (one token per sequence), replayed: their commands only differ in token
  // ids, slots and sampling rows, which the shaders read from host-visible memory. The key names
  // the buffers the recording binds (kept alive by it, so the addresses stay unique). A recording
  // holds those buffers, so a step whose state or sampler is gone is dropped at the model's next
  // call (their liveness), which frees their memory: a dropped state is not kept alive.
  struct DecodeKey {
    const vk::Buffer* state;
    const vk::Buffer* occurrence;
    uint32_t n_seqs, n_rows, kind;
    bool keep_logits;
    ops::SampleSteps sample_steps;
    bool operator==(const DecodeKey&) const = default;
  };
  struct DecodeStep {
    DecodeKey key;
    vk::Submission submission;
    std::weak_ptr<const void> state_alive, sampler_alive;  // the sampler's: the state's when not sampling
  };
  std::vector<DecodeStep> decode_steps_;  // most recent last; a few at most
};

}  // namespace rwkv::runtime
