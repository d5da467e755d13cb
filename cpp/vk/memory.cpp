#include "vk/memory.hpp"

#include <string>

#include "vk/device.hpp"

namespace rwkv::vk {
namespace {

constexpr uint64_t k_block_size = 128ull << 20;  // requests above half of this get their own block

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

MemoryAllocator::MemoryAllocator(const raii::Device& device, const raii::PhysicalDevice& physical, uint64_t max_allocation)
    : device_(device), properties_(physical.getMemoryProperties()), max_allocation_(max_allocation) {}

uint32_t MemoryAllocator::choose_type(uint32_t bits, MemoryKind kind) const {
  using F = MemoryPropertyFlagBits;
  MemoryPropertyFlags required, preferred;
  switch (kind) {
    case MemoryKind::Device: required = F::eDeviceLocal; break;
    case MemoryKind::Upload: required = F::eHostVisible | F::eHostCoherent; break;
    case MemoryKind::Readback: required = F::eHostVisible | F::eHostCoherent; preferred = F::eHostCached; break;
  }
  int fallback = -1;
  for (uint32_t i = 0; i < properties_.memoryTypeCount; ++i) {
    const auto flags = properties_.memoryTypes[i].propertyFlags;
    if (!(bits & (1u << i)) || (flags & required) != required) continue;
    if ((flags & preferred) == preferred) return i;
    if (fallback < 0) fallback = int(i);
  }
  if (fallback >= 0) return uint32_t(fallback);
  if (kind == MemoryKind::Device)  // devices without a device-local type (rare): any type will do
    for (uint32_t i = 0; i < properties_.memoryTypeCount; ++i)
      if (bits & (1u << i)) return i;
  throw VulkanError("no Vulkan memory type fits a " + std::string(kind == MemoryKind::Device ? "device" : "host-visible") + " buffer");
}

Placement MemoryAllocator::allocate(const MemoryRequirements& req, MemoryKind kind) {
  const uint32_t type = choose_type(req.memoryTypeBits, kind);
  // Host-visible types are mapped whatever the request, so one block can serve every kind that
  // lands on its type (on CPU devices all kinds share one type).
  const bool host = bool(properties_.memoryTypes[type].propertyFlags & MemoryPropertyFlagBits::eHostVisible);
  std::lock_guard lock(mutex_);
  auto place = [&](uint32_t index, uint64_t offset) {
    Block& b = *blocks_[index];
    in_use_ += req.size;
    return Placement{*b.memory, offset, req.size, b.mapped ? b.mapped + offset : nullptr, index};
  };
  // First fit in an existing block of the same type.
  for (uint32_t i = 0; i < blocks_.size(); ++i) {
    Block* b = blocks_[i].get();
    if (!b || b->dedicated || b->type != type) continue;
    for (auto it = b->free.begin(); it != b->free.end(); ++it) {
      const uint64_t start = align_up(it->first, req.alignment);
      const uint64_t end = it->first + it->second;
      if (start + req.size > end) continue;
      const uint64_t free_start = it->first;
      b->free.erase(it);
      if (start > free_start) b->free.emplace(free_start, start - free_start);
      if (end > start + req.size) b->free.emplace(start + req.size, end - start - req.size);
      return place(i, start);
    }
  }
  if (req.size > max_allocation_)
    throw OutOfDeviceMemory("a buffer of " + std::to_string(req.size) + " bytes exceeds this device's largest allocation (" +
                            std::to_string(max_allocation_) + " bytes)");
  const bool dedicated = req.size > k_block_size / 2;
  const uint64_t size = dedicated ? req.size : k_block_size;
  auto block = std::make_unique<Block>(Block{
      checked("vkAllocateMemory", [&] { return raii::DeviceMemory(device_, MemoryAllocateInfo(size, type)); }),
      size, type, nullptr, dedicated, {}});
  if (host) block->mapped = static_cast<std::byte*>(checked("vkMapMemory", [&] { return block->memory.mapMemory(0, size); }));
  if (!dedicated && size > req.size) block->free.emplace(req.size, size - req.size);
  uint32_t index = uint32_t(blocks_.size());
  for (uint32_t i = 0; i < blocks_.size(); ++i)
    if (!blocks_[i]) index = i;
  if (index == blocks_.size()) blocks_.emplace_back();
  blocks_[index] = std::move(block);
  return place(index, 0);
}

void MemoryAllocator::release(const Placement& p) {
  std::lock_guard lock(mutex_);
  in_use_ -= p.size;
  Block& b = *blocks_[p.block];
  if (b.dedicated) {
    blocks_[p.block].reset();
    return;
  }
  // Insert and coalesce with the neighbours.
  auto it = b.free.emplace(p.offset, p.size).first;
  if (auto next = std::next(it); next != b.free.end() && it->first + it->second == next->first) {
    it->second += next->second;
    b.free.erase(next);
  }
  if (it != b.free.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second == it->first) {
      prev->second += it->second;
      b.free.erase(it);
    }
  }
}

uint64_t MemoryAllocator::bytes_in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

uint64_t MemoryAllocator::bytes_reserved() const {
  std::lock_guard lock(mutex_);
  uint64_t total = 0;
  for (const auto& b : blocks_)
    if (b) total += b->size;
  return total;
}

Buffer::Buffer(std::shared_ptr<Device> device, uint64_t size, MemoryKind kind)
    : device_(std::move(device)), size_(size), kind_(kind) {
  if (size == 0) throw InvalidArgument("[Buffer] size must be positive");
  if (size > device_->info().max_buffer_size)
    throw OutOfDeviceMemory("[Buffer] " + std::to_string(size) + " bytes exceeds the device's maxBufferSize " +
                            std::to_string(device_->info().max_buffer_size));
  using U = BufferUsageFlagBits;
  // Shaders address buffers in 32-bit words: round the Vulkan size up to a multiple of 4.
  const BufferCreateInfo info({}, align_up(size, 4), U::eStorageBuffer | U::eTransferSrc | U::eTransferDst);
  buffer_ = checked("vkCreateBuffer", [&] { return raii::Buffer(device_->handle(), info); });
  placement_ = device_->memory().allocate(buffer_.getMemoryRequirements(), kind);
  try {
    checked("vkBindBufferMemory", [&] { buffer_.bindMemory(placement_.memory, placement_.offset); });
  } catch (...) {
    device_->memory().release(placement_);
    throw;
  }
}

Buffer::~Buffer() {
  buffer_.clear();
  device_->memory().release(placement_);
}

}  // namespace rwkv::vk
