// The GPU embedding gather of every weight type against the CPU dequantizer (itself checked
// against the PyPI gguf package), at odd sizes, and on a table above maxStorageBufferRange.
#include <gtest/gtest.h>

#include <cmath>

#include "gguf/dequant.hpp"
#include "ops/get_rows.hpp"
#include "test_helpers.hpp"

namespace rwkv {
using gguf::GgmlType;

namespace {

vk::DevicePtr device() {
  static vk::DevicePtr d = vk::Device::open();
  return d;
}

// Gathers `ids` from a random table on the GPU and compares with CPU dequantization.
void check_gather(GgmlType type, uint32_t rows, uint32_t cols, const std::vector<uint32_t>& ids, uint64_t max_chunk_bytes = 0) {
  auto dev = device();
  std::mt19937 rng(uint32_t(type) * 7919u + rows);
  const auto& tr = gguf::traits(type);
  const auto table = test::random_blocks(type, uint64_t(rows) * cols / tr.block_elements, rng);
  auto table_buf = std::make_shared<vk::Buffer>(dev, table.size(), vk::MemoryKind::Device);
  vk::upload(dev, {table_buf}, table.data(), table.size());
  auto ids_buf = std::make_shared<vk::Buffer>(dev, ids.size() * 4, vk::MemoryKind::Upload);
  std::memcpy(ids_buf->mapped(), ids.data(), ids.size() * 4);
  const uint64_t out_bytes = uint64_t(ids.size()) * cols * 4;
  auto out = std::make_shared<vk::Buffer>(dev, out_bytes, vk::MemoryKind::Readback);
  std::memset(out->mapped(), 0xFF, out_bytes);  // NaN poison: every element must be written

  vk::Recorder rec(dev);
  ops::get_rows(rec, {{table_buf}, type, rows, cols}, {ids_buf}, {out}, uint32_t(ids.size()), max_chunk_bytes);
  rec.submit().wait();

  const uint64_t row_bytes = gguf::row_bytes(type, cols);
  std::vector<float> ref(cols);
  const auto* got = reinterpret_cast<const float*>(out->mapped());
  for (size_t t = 0; t < ids.size(); ++t) {
    gguf::dequantize(type, {table.data() + ids[t] * row_bytes, row_bytes}, ref);
    for (uint32_t c = 0; c < cols; ++c)
      ASSERT_NEAR(got[t * cols + c], ref[c], 1e-6f * std::abs(ref[c]) + 1e-7f)
          << gguf::type_name(type) << " token " << t << " col " << c;
  }
}

}  // namespace

class GetRowsTypes : public ::testing::TestWithParam<GgmlType> {};

TEST_P(GetRowsTypes, OddSizesMatchCpu) {
  const GgmlType type = GetParam();
  const uint32_t cols = gguf::traits(type).block_elements == 256 ? 768 : 96 + 32;  // 3 or 4 blocks per row
  std::vector<uint32_t> ids;
  for (uint32_t t = 0; t < 67; ++t) ids.push_back((t * 13 + 5) % 37);
  check_gather(type, 37, cols, ids);
}

TEST_P(GetRowsTypes, ChunkedTableMatchesCpu) {
  const GgmlType type = GetParam();
  const uint32_t cols = gguf::traits(type).block_elements == 256 ? 512 : 64;
  // A chunk limit of a few rows exercises the split on any device, whatever its real limit.
  check_gather(type, 41, cols, {0, 40, 17, 3, 39, 20, 21, 0}, 5 * gguf::row_bytes(type, cols) + 7);
}

INSTANTIATE_TEST_SUITE_P(AllGpuTypes, GetRowsTypes,
                         ::testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
                                           GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q4_K,
                                           GgmlType::Q5_K, GgmlType::Q6_K),
                         [](const auto& info) { return std::string(gguf::type_name(info.param)); });

TEST(GetRows, TableLargerThanMaxStorageBufferRange) {
  const auto& info = device()->info();
  // Rows of 16 KiB; enough rows that the table exceeds the binding limit (lavapipe: 128 MiB).
  const uint32_t cols = 4096;
  const uint64_t row_bytes = cols * 4ull;
  if (info.max_storage_buffer_range > (1ull << 30))
    GTEST_SKIP() << "maxStorageBufferRange is " << info.max_storage_buffer_range << ": ChunkedTableMatchesCpu covers the split here";
  const uint32_t rows = uint32_t(info.max_storage_buffer_range / row_bytes + 900);
  check_gather(GgmlType::F32, rows, cols, {0, rows - 1, rows / 2, rows - 900, 1, rows - 2});
}

TEST(GetRows, ProfiledRecordingReportsEachDispatch) {
  auto dev = device();
  if (!dev->info().timestamps) GTEST_SKIP() << "device has no compute timestamps";
  auto table = std::make_shared<vk::Buffer>(dev, 64 * 64 * 4, vk::MemoryKind::Device);
  auto ids = std::make_shared<vk::Buffer>(dev, 16, vk::MemoryKind::Upload);
  auto out = std::make_shared<vk::Buffer>(dev, 4 * 64 * 4, vk::MemoryKind::Device);
  std::memset(ids->mapped(), 0, 16);
  vk::Recorder rec(dev, /*profile=*/true);
  rec.fill({table}, 0);
  ops::get_rows(rec, {{table}, GgmlType::F32, 64, 64}, {ids}, {out}, 4);
  ops::get_rows(rec, {{table}, GgmlType::F32, 64, 64}, {ids}, {out}, 4);
  auto sub = rec.submit();
  sub.wait();
  const auto timings = sub.timings();
  ASSERT_EQ(timings.size(), 2u);
  for (const auto& t : timings) {
    EXPECT_EQ(t.label, "get_rows_f32");
    EXPECT_GE(t.ms, 0.0);
  }
}

TEST(GetRows, RejectsUnsupportedType) {
  auto dev = device();
  auto buf = std::make_shared<vk::Buffer>(dev, 1024, vk::MemoryKind::Device);
  vk::Recorder rec(dev);
  EXPECT_THROW(ops::get_rows(rec, {{buf}, GgmlType::Q2_K, 1, 256}, {buf}, {buf}, 1), InvalidArgument);
}

}  // namespace rwkv
