// The GPU pooling ops against double precision: pool_rows at odd widths, pieces of 0..40 rows in
// any output order, and two dispatches adding into the same outputs (a call's chunks); pool_finish
// ("state" pooling from a state laid out as the engine lays it out, the mean's scale,
// normalization) on sequences in scattered slots.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "ops/pool.hpp"
#include "vk/device.hpp"

namespace rwkv {
namespace {

vk::BufferPtr host_buffer(const vk::DevicePtr& dev, const void* data, uint64_t bytes, vk::MemoryKind kind) {
  auto b = std::make_shared<vk::Buffer>(dev, bytes, kind);
  std::memcpy(b->mapped(), data, bytes);
  return b;
}

TEST(PoolRows, SumsPiecesIntoTheirOutputsOverDispatches) {
  auto dev = vk::Device::open();
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (uint32_t C : {1u, 77u, 300u}) {
    const uint32_t n_out = 9;
    std::vector<double> want(uint64_t(n_out) * C, 0.0);
    std::vector<float> start(want.size());
    for (auto& v : start) v = normal(rng);
    for (size_t i = 0; i < want.size(); ++i) want[i] = start[i];
    auto pooled = host_buffer(dev, start.data(), start.size() * 4, vk::MemoryKind::Readback);
    for (int dispatch = 0; dispatch < 2; ++dispatch) {
      // Pieces of 0..40 rows, consecutive in the row list; outputs in a shuffled order.
      std::vector<uint32_t> outs(n_out);
      for (uint32_t i = 0; i < n_out; ++i) outs[i] = i;
      std::shuffle(outs.begin(), outs.end(), rng);
      std::vector<ops::PoolPiece> pieces;
      uint32_t n_rows = 0;
      for (uint32_t i = 0; i < 7; ++i) {
        const uint32_t count = i == 3 ? 0 : uint32_t(rng() % 41);
        pieces.push_back({n_rows, count, outs[i], 0});
        n_rows += count;
      }
      std::vector<float> rows(uint64_t(std::max(n_rows, 1u)) * C);
      for (auto& v : rows) v = normal(rng);
      for (const auto& p : pieces)
        for (uint32_t r = 0; r < p.count; ++r)
          for (uint32_t c = 0; c < C; ++c) want[uint64_t(p.dest) * C + c] += rows[uint64_t(p.first + r) * C + c];
      auto rows_buf = host_buffer(dev, rows.data(), rows.size() * 4, vk::MemoryKind::Upload);
      auto pieces_buf = host_buffer(dev, pieces.data(), pieces.size() * sizeof(ops::PoolPiece), vk::MemoryKind::Upload);
      vk::Recorder rec(dev);
      ops::pool_rows(rec, {rows_buf}, {pieces_buf}, uint32_t(pieces.size()), C, {pooled});
      rec.submit().wait();
    }
    const auto* got = reinterpret_cast<const float*>(pooled->mapped());
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]) / (1.0 + std::abs(want[i])));
    EXPECT_LE(worst, 1e-5) << "C = " << C;
  }
}

// Per sequence: "state" pooling (mean over the last axis of the wkv [H, N, N] at wkv_offset of
// its slot) or the pooled sum scaled by 1 / tokens, then optionally the L2 normalization.
TEST(PoolFinish, StateMeanAndNormalizeAgainstDoubles) {
  auto dev = vk::Device::open();
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  const uint32_t H = 3, N = 24, C = H * N, wkv_offset = 2 * C + 7, slot_floats = wkv_offset + C * N + C + 5, slots = 5;
  std::vector<float> state(uint64_t(slots) * slot_floats);
  for (auto& v : state) v = normal(rng);
  const std::vector<ops::PoolSeq> seqs = {{3, 7}, {0, 1}, {4, 300}, {1, 2}};
  auto state_buf = host_buffer(dev, state.data(), state.size() * 4, vk::MemoryKind::Upload);
  auto seqs_buf = host_buffer(dev, seqs.data(), seqs.size() * sizeof(ops::PoolSeq), vk::MemoryKind::Upload);
  for (const bool from_state : {false, true})
    for (const bool mean : {false, true})
      for (const bool normalize : {false, true}) {
        if (from_state && mean) continue;  // the engine never asks for both
        std::vector<float> sums(seqs.size() * C);
        for (auto& v : sums) v = normal(rng);
        sums[3] = 0.0f;
        auto pooled = host_buffer(dev, sums.data(), sums.size() * 4, vk::MemoryKind::Readback);
        vk::Recorder rec(dev);
        ops::pool_finish(rec, {state_buf}, {seqs_buf}, uint32_t(seqs.size()), {C, N, wkv_offset, slot_floats, from_state, mean, normalize},
                         {pooled});
        rec.submit().wait();
        const auto* got = reinterpret_cast<const float*>(pooled->mapped());
        for (size_t s = 0; s < seqs.size(); ++s) {
          std::vector<double> want(C);
          for (uint32_t c = 0; c < C; ++c) {
            if (from_state) {
              double sum = 0;
              for (uint32_t j = 0; j < N; ++j) sum += state[uint64_t(seqs[s].slot) * slot_floats + wkv_offset + c * N + j];
              want[c] = sum / N;
            } else {
              want[c] = double(sums[s * C + c]) / (mean ? seqs[s].tokens : 1);
            }
          }
          double norm = 0;
          for (double v : want) norm += v * v;
          const double scale = normalize ? 1.0 / std::max(std::sqrt(norm), 1e-12) : 1.0;
          for (uint32_t c = 0; c < C; ++c)
            ASSERT_NEAR(got[s * C + c], want[c] * scale, 2e-6 * (1 + std::abs(want[c] * scale)))
                << "state " << from_state << " mean " << mean << " normalize " << normalize << " seq " << s << " c " << c;
        }
      }
}

TEST(PoolRows, RefusesAPiecesBufferTooSmall) {
  auto dev = vk::Device::open();
  auto small = std::make_shared<vk::Buffer>(dev, 16, vk::MemoryKind::Upload);
  auto rows = std::make_shared<vk::Buffer>(dev, 64, vk::MemoryKind::Device);
  vk::Recorder rec(dev);
  EXPECT_THROW(ops::pool_rows(rec, {rows}, {small}, 2, 4, {rows}), InvalidArgument);
}

}  // namespace
}  // namespace rwkv
