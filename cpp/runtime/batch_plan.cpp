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

}  // namespace

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
