// Splitting ragged token sequences into chunks of at most `chunk_tokens` tokens: each chunk holds
// consecutive pieces of the sequences, in order; a long sequence continues in the next chunk on
// the same state slot.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace rwkv::runtime {

struct Piece {
  uint32_t seq;    // index of the sequence
  uint32_t begin;  // token range [begin, end) of the sequence
  uint32_t end;
};

using Chunk = std::vector<Piece>;

std::vector<Chunk> plan_chunks(std::span<const std::span<const uint32_t>> seqs, uint32_t chunk_tokens);

}  // namespace rwkv::runtime
