// The engine facade: a loaded RWKV-7 model on one device, running token sequences on states.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "model/forward.hpp"
#include "runtime/state.hpp"
#include "tokenizer/world_tokenizer.hpp"
#include "vk/device.hpp"

namespace rwkv::runtime {

enum class LogitsMode { None, Last, All };
enum class Pooling { Last, Mean };

struct ModelInfo {
  model::Config config;
  std::string device_name;
  uint64_t gpu_bytes;
  uint64_t decode_bytes_per_token;  // weights one decode step reads: all but the embedding table (one row of it)
  uint64_t file_bytes;
  uint64_t fingerprint;             // of the hyper-parameters and tensor table: states carry it
  double load_seconds;
  std::vector<std::pair<std::string, uint32_t>> weight_types;  // ggml type name -> tensor count
};

class Model {
 public:
  // Loads a rwkv7 GGUF on the device chosen by `device` (index, name substring or "" for default).
  Model(const std::filesystem::path& path, const std::string& device = "", const model::ProgressFn& progress = {},
        uint32_t chunk_tokens = 256);
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

  // ln_out embeddings of many sequences at once: sequence i runs on slot i of `state` (which
  // needs at least seqs.size() slots), all advancing together in shared chunks. Returns
  // [seqs.size(), C]: the last token's ln_out, or the mean over the sequence's tokens.
  std::vector<float> embed(std::span<const std::span<const uint32_t>> seqs, State& state, Pooling pooling);

  // With profiling on, each run records GPU timestamps around every dispatch; last_timings()
  // returns those of the last run (all its chunks).
  void set_profiling(bool on) { profiling_ = on; }
  std::vector<vk::DispatchTiming> last_timings() const { return last_timings_; }

 private:
  enum class Rows { None, Last, All };  // which tokens of each sequence produce an output row
  // Called per output row: (sequence, token index in the sequence, row of C or V floats).
  using RowSink = std::function<void(uint32_t, uint32_t, const float*)>;
  void forward(std::span<const std::span<const uint32_t>> seqs, State& state, Rows rows, bool logits, const RowSink& sink);
  void check(std::span<const std::span<const uint32_t>> seqs, const State& state) const;

  vk::DevicePtr device_;
  ModelInfo info_;
  std::shared_ptr<const WorldTokenizer> tokenizer_;
  model::Weights weights_;
  std::unique_ptr<model::Forward> forward_;
  uint64_t id_;
  // Per-chunk inputs (host-visible, read by the shaders) and the outputs on their way back.
  vk::BufferPtr token_ids_, token_seq_, seqs_, rows_, logits_, logits_back_, embeddings_back_;
  std::mutex mutex_;  // one run at a time per model: runs share the scratch buffers
  bool profiling_ = false;
  std::vector<vk::DispatchTiming> last_timings_;
  // Recorded single-token steps, replayed for decoding: their commands only differ in the token
  // id, which the shaders read from host-visible memory. Keyed by state buffer and logits rows.
  struct DecodeStep {
    const vk::Buffer* state;
    uint32_t n_rows;
    vk::Submission submission;
  };
  std::vector<DecodeStep> decode_steps_;  // most recent last; a few at most
};

}  // namespace rwkv::runtime
