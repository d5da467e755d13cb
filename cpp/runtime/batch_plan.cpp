#include "runtime/batch_plan.hpp"

#include <algorithm>
#include <iterator>

namespace rwkv::runtime {

std::vector<Chunk> plan_chunks(std::span<const std::span<const uint32_t>> seqs, uint32_t chunk_tokens) {
  std::vector<Chunk> chunks(1);
  uint32_t used = 0;
  for (uint32_t s = 0; s < seqs.size(); ++s) {
    const auto n = uint32_t(seqs[s].size());
    for (uint32_t at = 0; at < n;) {
      if (used == chunk_tokens) {
        chunks.emplace_back();
        used = 0;
      }
      const uint32_t take = std::min(n - at, chunk_tokens - used);
      chunks.back().push_back({s, at, at + take});
      used += take;
      at += take;
    }
  }
  if (chunks.back().empty()) chunks.pop_back();
  return chunks;
}

namespace {

// Candidate chunk sizes, largest first; the first that fits is taken. CPU devices (lavapipe) keep
// 256: more tokens per submission only delay the progress and interrupt checks there.
struct ChunkRule {
  bool gpu_only;
  uint32_t tokens;
};
constexpr ChunkRule k_chunk_rules[] = {{true, 4096}, {true, 2048}, {true, 1024}, {true, 512}, {false, 256}};
constexpr uint64_t k_heap_share = 8;  // scratch takes at most 1/8 of the largest device-local heap

// Layers per submission, in order (the rest go in the last), for chunks of at least
// k_split_min_token_channels tokens x n_embd; smaller chunks go in one. In one submission the
// host records every layer before the GPU starts; in several it records the next layers while the
// GPU runs the first, but each submission costs the host more than a small chunk's layer costs
// the GPU. Measured on the H100 (docs/benchmarks.md, 2026-12-07, one submission -> these, wall ms
// of a prompt): 2.9B (n_embd 2560) 164 tokens 27.5 -> 25.3, 512 tokens 45.5 -> 44.4; 0.1B (768)
// 512 tokens 7.55 -> 7.50, but 164 tokens 4.87 -> 5.52 (the GPU waited up to 0.25 ms between
// submissions there).
constexpr uint32_t k_layers_per_submission[] = {1, 2, 4, 8};
constexpr uint64_t k_split_min_token_channels = 1u << 18;

}  // namespace

std::vector<uint32_t> submission_layers(uint32_t n_layer, uint32_t n_tokens, uint32_t n_embd) {
  std::vector<uint32_t> out;
  uint32_t done = 0;
  if (uint64_t(n_tokens) * n_embd >= k_split_min_token_channels)
    for (const uint32_t layers : k_layers_per_submission) {
      if (done + layers >= n_layer) break;
      out.push_back(layers);
      done += layers;
    }
  if (done < n_layer) out.push_back(n_layer - done);
  return out;
}

uint32_t default_chunk_tokens(const vk::DeviceInfo& device, const ChunkMemory& memory) {
  uint64_t heap = 0;
  for (const auto& h : device.memory_heaps)
    if (h.device_local) heap = std::max(heap, h.size);
  for (const auto& r : k_chunk_rules) {
    if (r.gpu_only && device.type == "cpu") continue;
    if (r.tokens * memory.bytes_per_token <= heap / k_heap_share &&
        r.tokens * memory.largest_buffer_bytes_per_token <= device.max_storage_buffer_range)
      return r.tokens;
  }
  return k_chunk_rules[std::size(k_chunk_rules) - 1].tokens;
}

}  // namespace rwkv::runtime
