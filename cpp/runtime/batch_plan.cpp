#include "runtime/batch_plan.hpp"

#include <algorithm>

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

}  // namespace rwkv::runtime
