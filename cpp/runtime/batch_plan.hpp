// Splitting ragged token sequences into chunks of at most `chunk_tokens` tokens: each chunk holds
// consecutive pieces of the sequences, in order; a long sequence continues in the next chunk on
// the same state slot.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "vk/device_info.hpp"

namespace rwkv::runtime {

struct Piece {
  uint32_t seq;    // index of the sequence
  uint32_t begin;  // token range [begin, end) of the sequence
  uint32_t end;
};

using Chunk = std::vector<Piece>;

std::vector<Chunk> plan_chunks(std::span<const std::span<const uint32_t>> seqs, uint32_t chunk_tokens);

// What a model's scratch takes per token of a chunk: all its buffers, and the largest one (a
// buffer is bound whole: it must fit the device's storage-buffer range).
struct ChunkMemory {
  uint64_t bytes_per_token;
  uint64_t largest_buffer_bytes_per_token;
};

// The chunk size a model gets when none is asked for (a table in batch_plan.cpp): on GPUs the
// largest size of the table whose scratch fits an eighth of the largest device-local heap and the
// storage-buffer range (long prompts and big embedding batches run in fewer, fuller submissions:
// the tensor-core products and the chunked WKV gain with more tokens); on CPU devices 256.
uint32_t default_chunk_tokens(const vk::DeviceInfo& device, const ChunkMemory& memory);

// How many layers of a chunk of `n_tokens` tokens each submission records, in order (batch_plan.cpp):
// one submission (all layers) for small chunks, else a few of growing size, so that the GPU runs
// the first layers while the host records the next.
std::vector<uint32_t> submission_layers(uint32_t n_layer, uint32_t n_tokens, uint32_t n_embd);

}  // namespace rwkv::runtime
