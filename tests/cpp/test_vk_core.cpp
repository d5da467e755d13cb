#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <numeric>

#include "vk/recorder.hpp"

namespace rwkv {

namespace {
vk::DevicePtr device() {
  static vk::DevicePtr d = vk::Device::open();
  return d;
}
}  // namespace

TEST(VkDevices, ListsAndSelects) {
  const auto list = vk::list_devices();
  ASSERT_FALSE(list.empty());
  for (const auto& d : list) {
    EXPECT_FALSE(d.name.empty());
    EXPECT_GT(d.subgroup_size, 0u);
    EXPECT_GE(d.max_storage_buffer_range, 1u << 27);  // the Vulkan minimum is 128 MiB
    EXPECT_FALSE(d.memory_heaps.empty());
  }
  EXPECT_EQ(vk::select_device(list, "0"), 0u);
  EXPECT_EQ(vk::select_device(list, list.back().name.substr(0, 4)), list.size() > 1 ? vk::select_device(list, list.back().name.substr(0, 4)) : 0u);
  EXPECT_THROW(vk::select_device(list, "no such device name"), NoDevice);
  EXPECT_THROW(vk::select_device(list, "99"), NoDevice);
  EXPECT_THROW(vk::select_device({}, ""), NoDevice);
  EXPECT_EQ(vk::Instance::get()->validation(), vk::validation_requested());
}

TEST(VkMemory, UploadDownloadOddSizes) {
  auto dev = device();
  for (uint64_t n : {1ull, 3ull, 4097ull, (3ull << 20) + 5}) {
    std::vector<uint8_t> data(n);
    std::iota(data.begin(), data.end(), uint8_t(n));
    auto buf = std::make_shared<vk::Buffer>(dev, n, vk::MemoryKind::Device);
    vk::upload(dev, {buf}, data.data(), n);
    std::vector<uint8_t> back(n);
    vk::download(dev, {buf}, back.data(), n);
    EXPECT_EQ(back, data) << n;
  }
}

TEST(VkMemory, AllocatorReusesFreedSpace) {
  auto dev = device();
  const uint64_t before = dev->memory().bytes_in_use();
  {
    std::vector<vk::BufferPtr> bufs;
    for (int i = 0; i < 50; ++i) bufs.push_back(std::make_shared<vk::Buffer>(dev, 1000 + i * 4096, vk::MemoryKind::Device));
    EXPECT_GT(dev->memory().bytes_in_use(), before);
  }
  EXPECT_EQ(dev->memory().bytes_in_use(), before);
  const uint64_t reserved = dev->memory().bytes_reserved();
  for (int i = 0; i < 20; ++i) std::make_shared<vk::Buffer>(dev, 1 << 20, vk::MemoryKind::Device);
  EXPECT_EQ(dev->memory().bytes_reserved(), reserved);  // freed blocks are reused, not reallocated
  EXPECT_THROW(vk::Buffer(dev, 0, vk::MemoryKind::Device), InvalidArgument);
}

TEST(VkMemory, OversizedBufferIsOutOfDeviceMemory) {
  auto dev = device();
  const uint64_t too_big = std::max(dev->info().max_buffer_size, dev->info().max_memory_allocation_size) + 4096;
  EXPECT_THROW(vk::Buffer(dev, too_big, vk::MemoryKind::Device), OutOfDeviceMemory);
}

TEST(VkRecorder, FillCopyChainNeedsBarriers) {
  auto dev = device();
  const uint64_t n = 1 << 16;
  auto a = std::make_shared<vk::Buffer>(dev, n, vk::MemoryKind::Device);
  auto b = std::make_shared<vk::Buffer>(dev, n, vk::MemoryKind::Device);
  auto out = std::make_shared<vk::Buffer>(dev, n, vk::MemoryKind::Readback);
  vk::Recorder rec(dev);
  rec.fill({a}, 0x11111111u);
  rec.fill({a, 0, n / 2}, 0x22222222u);  // write after write: ordered by a barrier
  rec.copy({a}, {b}, n);                  // read after write
  rec.fill({a}, 0x33333333u);             // write after read: must not clobber what b copied
  rec.copy({b}, {out}, n);
  rec.submit().wait();
  const auto* words = reinterpret_cast<const uint32_t*>(out->mapped());
  EXPECT_EQ(words[0], 0x22222222u);
  EXPECT_EQ(words[n / 4 - 1], 0x11111111u);
}

TEST(VkRecorder, SubmissionKeepsBuffersAlive) {
  auto dev = device();
  auto out = std::make_shared<vk::Buffer>(dev, 4096, vk::MemoryKind::Readback);
  vk::Submission sub = [&] {
    auto tmp = std::make_shared<vk::Buffer>(dev, 4096, vk::MemoryKind::Device);
    vk::Recorder rec(dev);
    rec.fill({tmp}, 7u);
    rec.copy({tmp}, {out}, 4096);
    return rec.submit();  // tmp's last owner is now the submission
  }();
  sub.wait();
  EXPECT_TRUE(sub.done());
  EXPECT_EQ(reinterpret_cast<const uint32_t*>(out->mapped())[1023], 7u);
}

TEST(VkPipeline, DiskCacheIsWritten) {
  const auto dir = std::filesystem::temp_directory_path() / ("rwkv_gpu_cache_test_" + std::to_string(::getpid()));
  ::setenv("RWKV_GPU_CACHE_DIR", dir.c_str(), 1);
  {
    auto dev = vk::Device::open();
    dev->pipeline({ShaderId::get_rows_f32, 3, 24, {64}});
  }
  ::unsetenv("RWKV_GPU_CACHE_DIR");
  bool found = false;
  for (const auto& e : std::filesystem::directory_iterator(dir)) found |= e.path().extension() == ".bin" && e.file_size() >= 32;  // lavapipe caches nothing: a bare header
  EXPECT_TRUE(found);
  std::filesystem::remove_all(dir);
}

}  // namespace rwkv
