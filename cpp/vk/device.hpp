// A logical device: one compute queue, the memory allocator and the pipeline cache.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "vk/device_info.hpp"
#include "vk/instance.hpp"
#include "vk/memory.hpp"
#include "vk/pipeline.hpp"

namespace rwkv::vk {

class Device : public std::enable_shared_from_this<Device> {
 public:
  // Opens the device chosen by `selector` (see select_device).
  static std::shared_ptr<Device> open(const std::string& selector = "");
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const DeviceInfo& info() const { return info_; }
  // Whether dispatches push their buffers (VK_KHR_push_descriptor) instead of binding descriptor sets.
  bool push_descriptors() const { return push_descriptors_; }
  const raii::Device& handle() const { return device_; }
  uint32_t queue_family() const { return queue_family_; }
  // Submits under the queue's lock (Vulkan queues are externally synchronized).
  void submit(const SubmitInfo& info, ::vk::Fence fence);
  MemoryAllocator& memory() { return *memory_; }
  // The pipeline for `desc`, created on first use.
  const Pipeline& pipeline(const PipelineDesc& desc);
  // What the driver reports of each pipeline created so far (registers, spills, ...: one line per
  // pipeline, "name spec=[...]: statistic=value, ..."), for kernel tuning. Empty unless
  // $RWKV_GPU_PIPELINE_STATS was set when the device opened and it has
  // VK_KHR_pipeline_executable_properties.
  std::vector<std::string> pipeline_statistics();
  // Seconds a fence wait may take before DeviceTimeout: $RWKV_GPU_TIMEOUT_S, default 600.
  double timeout_seconds() const { return timeout_s_; }
  // Keeps the resources of a submission whose wait gave up (`owner`) until `fence` signals: the GPU
  // may still use them. Later submissions run after it (each ends with a full barrier); finished
  // ones are freed at the next submit, the rest when the device closes (after waiting idle).
  void abandon(::vk::Fence fence, std::shared_ptr<void> owner);

 private:
  Device(std::shared_ptr<Instance> instance, uint32_t index);
  std::shared_ptr<Instance> instance_;
  raii::PhysicalDevice physical_ = nullptr;
  DeviceInfo info_;
  uint32_t queue_family_ = 0;
  raii::Device device_ = nullptr;
  raii::Queue queue_ = nullptr;
  std::mutex queue_mutex_;
  std::unique_ptr<MemoryAllocator> memory_;
  std::filesystem::path cache_path_;
  raii::PipelineCache pipeline_cache_ = nullptr;
  size_t cached_pipelines_at_load_ = 0;
  std::map<PipelineDesc, std::unique_ptr<Pipeline>> pipelines_;
  std::mutex pipeline_mutex_;
  double timeout_s_ = 600;
  bool push_descriptors_ = false;  // dispatches push their buffers (Recorder)
  PipelineCreateFlags capture_;  // what pipelines keep for pipeline_statistics
  // After device_: destroyed before it. Guarded by queue_mutex_.
  std::vector<std::pair<::vk::Fence, std::shared_ptr<void>>> abandoned_;
  uint64_t submissions_ = 0;
  uint64_t lose_after_ = UINT64_MAX;  // $RWKV_GPU_FAULT (tests)
};

DeviceInfo query_device_info(const raii::PhysicalDevice& physical, uint32_t index);

using DevicePtr = std::shared_ptr<Device>;

}  // namespace rwkv::vk
