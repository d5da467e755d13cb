// Device memory: a block allocator (few large vkAllocateMemory calls, sub-allocated first-fit) and
// the Buffer type, one RAII owner per VkBuffer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "vk/vulkan.hpp"

namespace rwkv::vk {

class Device;

enum class MemoryKind {
  Device,    // device-local, for weights, activations and states
  Upload,    // host-visible, coherent, persistently mapped: staging for uploads
  Readback,  // host-visible, coherent, cached if possible, persistently mapped: results
};

struct Placement {
  ::vk::DeviceMemory memory;
  uint64_t offset = 0;
  uint64_t size = 0;
  std::byte* mapped = nullptr;  // null for device-only memory
  uint32_t block = 0;
};

class MemoryAllocator {
 public:
  MemoryAllocator(const raii::Device& device, const raii::PhysicalDevice& physical, uint64_t max_allocation);
  Placement allocate(const MemoryRequirements& req, MemoryKind kind);
  void release(const Placement& p);
  uint64_t bytes_in_use() const;
  uint64_t bytes_reserved() const;  // held from the driver, in use or not

 private:
  struct Block {
    raii::DeviceMemory memory;
    uint64_t size;
    uint32_t type;
    std::byte* mapped;
    bool dedicated;
    std::map<uint64_t, uint64_t> free;  // offset -> size, coalesced
  };
  uint32_t choose_type(uint32_t type_bits, MemoryKind kind) const;
  const raii::Device& device_;
  PhysicalDeviceMemoryProperties properties_;
  uint64_t max_allocation_;
  std::vector<std::unique_ptr<Block>> blocks_;  // null slots are released dedicated blocks
  uint64_t in_use_ = 0;
  mutable std::mutex mutex_;
};

class Buffer {
 public:
  Buffer(std::shared_ptr<Device> device, uint64_t size, MemoryKind kind);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  ::vk::Buffer handle() const { return *buffer_; }
  uint64_t size() const { return size_; }
  MemoryKind kind() const { return kind_; }
  // Host pointer of Upload and Readback buffers (null for Device buffers).
  std::byte* mapped() const { return placement_.mapped; }
  Device& device() const { return *device_; }

 private:
  std::shared_ptr<Device> device_;
  uint64_t size_;
  MemoryKind kind_;
  raii::Buffer buffer_ = nullptr;
  Placement placement_;
};

using BufferPtr = std::shared_ptr<Buffer>;

}  // namespace rwkv::vk
