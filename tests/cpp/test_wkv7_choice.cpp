// The WKV selection table (ops/wkv7.cpp): the chunked form on GPUs where the batch's longest
// sequence has 32+ tokens (a decode step of many one-token sequences stays sequential), the
// sequential kernel on CPU devices, $RWKV_GPU_WKV's values, and the sequential kernel's
// invocations per state row.
#include <gtest/gtest.h>

#include <string>

#include "common/error.hpp"
#include "ops/wkv7.hpp"

namespace rwkv {
namespace {

vk::DeviceInfo device(const char* type) {
  vk::DeviceInfo d{};
  d.name = "a test device";
  d.type = type;
  d.subgroup_size = d.min_subgroup_size = d.max_subgroup_size = std::string(type) == "cpu" ? 8 : 32;
  d.max_workgroup_invocations = 1024;
  d.max_compute_shared_memory_size = 48 << 10;
  return d;
}

TEST(Wkv7Choice, ChunkedForLongSequencesOnGpus) {
  using K = ops::Wkv7Kernel;
  const auto gpu = device("discrete"), cpu = device("cpu");
  EXPECT_EQ(ops::choose_wkv7(gpu, 32, ""), K::Chunked);
  EXPECT_EQ(ops::choose_wkv7(gpu, 31, ""), K::Sequential);
  EXPECT_EQ(ops::choose_wkv7(gpu, 1, ""), K::Sequential);     // a decode step, of one or 64 sequences
  EXPECT_EQ(ops::choose_wkv7(gpu, 164, ""), K::Chunked);      // a document beside six short field prompts
  EXPECT_EQ(ops::choose_wkv7(cpu, 4096, ""), K::Sequential);
}

TEST(Wkv7Choice, ForcedByEnvironmentValue) {
  using K = ops::Wkv7Kernel;
  const auto gpu = device("discrete"), cpu = device("cpu");
  EXPECT_EQ(ops::choose_wkv7(cpu, 1, "chunked"), K::Chunked);
  EXPECT_EQ(ops::choose_wkv7(gpu, 4096, "sequential"), K::Sequential);
  EXPECT_EQ(ops::choose_wkv7(gpu, 4096, "sequential:4"), K::Sequential);
  EXPECT_THROW(ops::choose_wkv7(gpu, 64, "parallel"), InvalidArgument);
}

// The sequential kernel's invocations per state row: the table's 8 on GPUs and 1 on CPUs, halved
// where the subgroup, the head size or the workgroup limit cannot take them.
TEST(Wkv7Choice, RowLanesFromTheTableWithinTheDevice) {
  const auto gpu = device("discrete"), cpu = device("cpu");
  EXPECT_EQ(ops::wkv7_row_lanes(gpu, 64, ""), 8u);
  EXPECT_EQ(ops::wkv7_row_lanes(cpu, 64, ""), 1u);
  EXPECT_EQ(ops::wkv7_row_lanes(gpu, 64, "chunked"), 8u);
  EXPECT_EQ(ops::wkv7_row_lanes(gpu, 36, ""), 4u);   // 36 = 4 x 9
  EXPECT_EQ(ops::wkv7_row_lanes(gpu, 512, ""), 2u);  // 1,024 invocations at most
  auto narrow = gpu;
  narrow.min_subgroup_size = 4;
  EXPECT_EQ(ops::wkv7_row_lanes(narrow, 64, ""), 4u);
  EXPECT_EQ(ops::wkv7_row_lanes(cpu, 64, "sequential:4"), 4u);
  auto small = gpu;  // 4 KiB of shared memory: 20 bytes per channel and 16 per invocation fit 2 lanes at 64
  small.max_compute_shared_memory_size = 4096;
  EXPECT_EQ(ops::wkv7_row_lanes(small, 64, ""), 2u);
  EXPECT_THROW(ops::wkv7_row_lanes(small, 64, "sequential:8"), InvalidArgument);
}

}  // namespace
}  // namespace rwkv
