// The WKV selection table (ops/wkv7.cpp): the chunked form for sequences of 32+ tokens on GPUs,
// counted per sequence (a decode step of many one-token sequences stays sequential), the
// sequential kernel on CPU devices, and $RWKV_GPU_WKV's values.
#include <gtest/gtest.h>

#include "common/error.hpp"
#include "ops/wkv7.hpp"

namespace rwkv {
namespace {

vk::DeviceInfo device(const char* type) {
  vk::DeviceInfo d{};
  d.name = "a test device";
  d.type = type;
  return d;
}

TEST(Wkv7Choice, ChunkedForLongSequencesOnGpus) {
  using K = ops::Wkv7Kernel;
  const auto gpu = device("discrete"), cpu = device("cpu");
  EXPECT_EQ(ops::choose_wkv7(gpu, 32, 1, ""), K::Chunked);
  EXPECT_EQ(ops::choose_wkv7(gpu, 31, 1, ""), K::Sequential);
  EXPECT_EQ(ops::choose_wkv7(gpu, 512, 8, ""), K::Chunked);     // 64 tokens each
  EXPECT_EQ(ops::choose_wkv7(gpu, 64, 64, ""), K::Sequential);   // a decode step of 64 sequences
  EXPECT_EQ(ops::choose_wkv7(gpu, 100, 4, ""), K::Sequential);   // 25 each
  EXPECT_EQ(ops::choose_wkv7(cpu, 4096, 1, ""), K::Sequential);
}

TEST(Wkv7Choice, ForcedByEnvironmentValue) {
  using K = ops::Wkv7Kernel;
  const auto gpu = device("discrete"), cpu = device("cpu");
  EXPECT_EQ(ops::choose_wkv7(cpu, 1, 1, "chunked"), K::Chunked);
  EXPECT_EQ(ops::choose_wkv7(gpu, 4096, 1, "sequential"), K::Sequential);
  EXPECT_THROW(ops::choose_wkv7(gpu, 64, 1, "parallel"), InvalidArgument);
}

}  // namespace
}  // namespace rwkv
