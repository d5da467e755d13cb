#include <gtest/gtest.h>

#include <numeric>

#include "runtime/batch_plan.hpp"

using rwkv::runtime::plan_chunks;

TEST(BatchPlan, RaggedSequencesFillChunksInOrder) {
  const std::vector<uint32_t> lengths = {1, 300, 5, 64, 63, 129, 2};
  std::vector<std::vector<uint32_t>> storage;
  for (uint32_t n : lengths) storage.emplace_back(n, 7u);
  std::vector<std::span<const uint32_t>> seqs(storage.begin(), storage.end());
  for (uint32_t chunk : {1u, 7u, 64u, 1000u}) {
    const auto chunks = plan_chunks(seqs, chunk);
    std::vector<uint32_t> covered(lengths.size(), 0);
    uint32_t last_seq = 0;
    for (size_t c = 0; c < chunks.size(); ++c) {
      uint32_t tokens = 0;
      for (const auto& p : chunks[c]) {
        ASSERT_LT(p.begin, p.end);
        EXPECT_EQ(p.begin, covered[p.seq]) << "pieces of a sequence come in order, without gaps";
        EXPECT_GE(p.seq, last_seq) << "sequences come in order";
        covered[p.seq] = p.end;
        last_seq = p.seq;
        tokens += p.end - p.begin;
      }
      EXPECT_LE(tokens, chunk);
      if (c + 1 < chunks.size()) EXPECT_EQ(tokens, chunk) << "every chunk but the last is full";
    }
    EXPECT_EQ(covered, lengths);
  }
}

TEST(BatchPlan, EmptyInputGivesNoChunks) { EXPECT_TRUE(plan_chunks({}, 16).empty()); }

namespace {

rwkv::vk::DeviceInfo device(const char* type, uint64_t heap_bytes, uint64_t range_bytes) {
  rwkv::vk::DeviceInfo d{};
  d.type = type;
  d.memory_heaps = {{heap_bytes / 4, false}, {heap_bytes, true}};
  d.max_storage_buffer_range = range_bytes;
  return d;
}

// The 2.9B shapes (n_embd 2560, FFN 10240, 40 heads of 64): 81,216 floats of scratch per token,
// the chunked WKV's 26,880 the largest buffer (model/forward.cpp), and the embeddings readback.
constexpr rwkv::runtime::ChunkMemory k_2_9b{4 * 81216 + 4 * 2560, 4 * 26880};
constexpr uint64_t GiB = 1ull << 30;

}  // namespace

TEST(DefaultChunkTokens, CpuDevicesKeep256) {
  EXPECT_EQ(rwkv::runtime::default_chunk_tokens(device("cpu", 2 * GiB, 128ull << 20), k_2_9b), 256u);
  EXPECT_EQ(rwkv::runtime::default_chunk_tokens(device("cpu", 512 * GiB, 4 * GiB), k_2_9b), 256u);
}

TEST(DefaultChunkTokens, GpusTakeTheLargestSizeTheirMemoryHolds) {
  using rwkv::runtime::default_chunk_tokens;
  // An H200: 4096 tokens take 1.4 GB of scratch, far below an eighth of 141 GB.
  EXPECT_EQ(default_chunk_tokens(device("discrete", 141 * GiB, 4 * GiB), k_2_9b), 4096u);
  // 8 GiB: an eighth is 1 GiB, 2048 tokens (690 MB) fit, 4096 do not.
  EXPECT_EQ(default_chunk_tokens(device("discrete", 8 * GiB, 4 * GiB), k_2_9b), 2048u);
  // A 128 MiB storage-buffer range bounds the largest buffer (107 KB per token): 1024 tokens.
  EXPECT_EQ(default_chunk_tokens(device("discrete", 141 * GiB, 128ull << 20), k_2_9b), 1024u);
  // Too little memory for any GPU size: the smallest of the table.
  EXPECT_EQ(default_chunk_tokens(device("integrated", 256ull << 20, 4 * GiB), k_2_9b), 256u);
}

TEST(SubmissionLayers, SmallChunksGoInOneSubmission) {
  using rwkv::runtime::submission_layers;
  // 0.1B (12 layers, n_embd 768) at 164 tokens: 125,952 token-channels, below 2^18.
  EXPECT_EQ(submission_layers(12, 164, 768), std::vector<uint32_t>{12});
  EXPECT_EQ(submission_layers(2, 255, 1024), std::vector<uint32_t>{2});
}

TEST(SubmissionLayers, LargeChunksStartTheGpuEarly) {
  using rwkv::runtime::submission_layers;
  // 2.9B (32 layers, n_embd 2560) at 164 tokens: 1, 2, 4, 8 layers, then the other 17.
  EXPECT_EQ(submission_layers(32, 164, 2560), (std::vector<uint32_t>{1, 2, 4, 8, 17}));
  EXPECT_EQ(submission_layers(12, 512, 768), (std::vector<uint32_t>{1, 2, 4, 5}));
  // Every layer exactly once, whatever the count.
  for (uint32_t n = 1; n <= 40; ++n) {
    const auto s = submission_layers(n, 4096, 4096);
    uint32_t sum = 0;
    for (uint32_t l : s) {
      EXPECT_GT(l, 0u);
      sum += l;
    }
    EXPECT_EQ(sum, n);
  }
  EXPECT_EQ(submission_layers(1, 4096, 4096), std::vector<uint32_t>{1});
  EXPECT_EQ(submission_layers(2, 256, 1024), (std::vector<uint32_t>{1, 1}));
}
