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
