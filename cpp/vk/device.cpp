#include "vk/device.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "vk/cooperative_matrix.hpp"

namespace rwkv::vk {
namespace {

// The compute-capable family with timestamps, else any compute-capable family.
uint32_t choose_queue_family(const raii::PhysicalDevice& physical) {
  const auto families = physical.getQueueFamilyProperties();
  int fallback = -1;
  for (uint32_t i = 0; i < families.size(); ++i) {
    if (!(families[i].queueFlags & QueueFlagBits::eCompute)) continue;
    if (families[i].timestampValidBits > 0) return i;
    if (fallback < 0) fallback = int(i);
  }
  if (fallback < 0) throw NoDevice("the device has no compute queue");
  return uint32_t(fallback);
}

}  // namespace

std::shared_ptr<Device> Device::open(const std::string& selector) {
  auto instance = Instance::get();
  const auto devices = list_devices();
  const uint32_t index = select_device(devices, selector);
  return std::shared_ptr<Device>(new Device(std::move(instance), index));
}

Device::Device(std::shared_ptr<Instance> instance, uint32_t index) : instance_(std::move(instance)) {
  raii::PhysicalDevices physicals(instance_->handle());
  physical_ = std::move(physicals[index]);
  info_ = query_device_info(physical_, index);
  if (info_.api_version_number < VK_API_VERSION_1_2)
    throw NoDevice(info_.name + " supports Vulkan " + info_.api_version + "; rwkv_gpu needs Vulkan 1.2");
  queue_family_ = choose_queue_family(physical_);

  // Turn on what the device has of the features later shaders use.
  auto supported = physical_.getFeatures2<PhysicalDeviceFeatures2, PhysicalDeviceVulkan11Features, PhysicalDeviceVulkan12Features>();
  StructureChain<PhysicalDeviceFeatures2, PhysicalDeviceVulkan11Features, PhysicalDeviceVulkan12Features> enabled;
  auto& f = enabled.get<PhysicalDeviceFeatures2>().features;
  f.shaderInt16 = supported.get<PhysicalDeviceFeatures2>().features.shaderInt16;
  f.shaderInt64 = supported.get<PhysicalDeviceFeatures2>().features.shaderInt64;
  auto& f11 = enabled.get<PhysicalDeviceVulkan11Features>();
  f11.storageBuffer16BitAccess = supported.get<PhysicalDeviceVulkan11Features>().storageBuffer16BitAccess;
  auto& f12 = enabled.get<PhysicalDeviceVulkan12Features>();
  const auto& s12 = supported.get<PhysicalDeviceVulkan12Features>();
  f12.shaderFloat16 = s12.shaderFloat16;
  f12.shaderInt8 = s12.shaderInt8;
  f12.storageBuffer8BitAccess = s12.storageBuffer8BitAccess;
  // The tensor-core matmul (matmul_coopmat.comp) is SPIR-V 1.6 with the Vulkan memory model.
  khr::CooperativeMatrixFeatures coop;
  std::vector<const char*> extensions;
  if (info_.coopmat_f16) {
    coop.cooperativeMatrix = VK_TRUE;
    f12.vulkanMemoryModel = VK_TRUE;
    f12.pNext = &coop;
    extensions.push_back(khr::k_cooperative_matrix_extension);
  }

  // Buffers pushed with each dispatch where the driver can (VK_KHR_push_descriptor): no descriptor
  // set to allocate and write per dispatch. $RWKV_GPU_PUSH_DESCRIPTORS=0 takes the descriptor-set
  // path, which devices without the extension take (so tests run it on any device).
  const char* push = std::getenv("RWKV_GPU_PUSH_DESCRIPTORS");
  push_descriptors_ = info_.push_descriptors && !(push && std::string_view(push) == "0");
  if (push_descriptors_) extensions.push_back(VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);

  // Pipeline statistics (benchmarks only: capturing them may cost compile time).
  PhysicalDevicePipelineExecutablePropertiesFeaturesKHR executable_info;
  const auto available = physical_.enumerateDeviceExtensionProperties();
  const bool has_statistics = std::any_of(available.begin(), available.end(), [](const auto& e) {
    return std::strcmp(e.extensionName, VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME) == 0;
  });
  if (const char* s = std::getenv("RWKV_GPU_PIPELINE_STATS"); s && *s && has_statistics) {
    executable_info.pipelineExecutableInfo = VK_TRUE;
    executable_info.pNext = enabled.get<PhysicalDeviceFeatures2>().pNext;
    enabled.get<PhysicalDeviceFeatures2>().pNext = &executable_info;
    extensions.push_back(VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME);
    capture_ = PipelineCreateFlagBits::eCaptureStatisticsKHR;
  }

  const float priority = 1.0f;
  const DeviceQueueCreateInfo queue_info({}, queue_family_, 1, &priority);
  DeviceCreateInfo info({}, queue_info, {}, extensions);
  info.pNext = &enabled.get<PhysicalDeviceFeatures2>();
  device_ = checked("vkCreateDevice", [&] { return raii::Device(physical_, info); });
  queue_ = raii::Queue(device_, queue_family_, 0);
  memory_ = std::make_unique<MemoryAllocator>(device_, physical_, info_.max_memory_allocation_size);

  const auto props = physical_.getProperties();
  char name[64];
  std::snprintf(name, sizeof name, "pipelines-%04x-%04x.bin", props.vendorID, props.deviceID);
  cache_path_ = cache_directory() / name;
  const auto initial = read_pipeline_cache(cache_path_, props);
  pipeline_cache_ = checked("vkCreatePipelineCache", [&] {
    return raii::PipelineCache(device_, PipelineCacheCreateInfo({}, initial.size(), initial.data()));
  });
  cached_pipelines_at_load_ = initial.size();
  if (const char* t = std::getenv("RWKV_GPU_TIMEOUT_S"); t && std::atof(t) > 0) timeout_s_ = std::atof(t);
  // Fault injection for tests: RWKV_GPU_FAULT=lose_device_after:N loses the device (as a driver
  // reset would) at submission N + 1, so the recovery path runs on any device.
  if (const char* f = std::getenv("RWKV_GPU_FAULT"); f && *f) {
    const std::string fault = f, prefix = "lose_device_after:";
    if (fault.rfind(prefix, 0) != 0 || fault.size() == prefix.size() ||
        fault.find_first_not_of("0123456789", prefix.size()) != std::string::npos)
      throw InvalidArgument("RWKV_GPU_FAULT='" + fault + "': expected lose_device_after:N");
    lose_after_ = std::stoull(fault.substr(prefix.size()));
  }
}

Device::~Device() {
  try {
    device_.waitIdle();
    const auto data = pipeline_cache_.getData();
    if (!pipelines_.empty() && data.size() != cached_pipelines_at_load_) write_pipeline_cache(cache_path_, data);
  } catch (...) {
    // Teardown of a lost device: nothing to save, nothing to report from a destructor.
  }
}

void Device::submit(const SubmitInfo& info, ::vk::Fence fence) {
  std::lock_guard lock(queue_mutex_);
  if (++submissions_ > lose_after_) throw_vulkan_error("vkQueueSubmit", Result::eErrorDeviceLost, "RWKV_GPU_FAULT");
  std::erase_if(abandoned_, [&](const auto& a) {
    return (*device_).getFenceStatus(a.first, *device_.getDispatcher()) == Result::eSuccess;
  });
  checked("vkQueueSubmit", [&] { queue_.submit(info, fence); });
}

void Device::abandon(::vk::Fence fence, std::shared_ptr<void> owner) {
  std::lock_guard lock(queue_mutex_);
  abandoned_.emplace_back(fence, std::move(owner));
}

const Pipeline& Device::pipeline(const PipelineDesc& desc) {
  std::lock_guard lock(pipeline_mutex_);
  auto it = pipelines_.find(desc);
  if (it == pipelines_.end()) it = pipelines_.emplace(desc, std::make_unique<Pipeline>(device_, pipeline_cache_, desc, push_descriptors_, capture_)).first;
  return *it->second;
}

std::vector<std::string> Device::pipeline_statistics() {
  std::lock_guard lock(pipeline_mutex_);
  std::vector<std::string> lines;
  if (!capture_) return lines;
  for (const auto& [desc, pipeline] : pipelines_) {
    std::string line(pipeline->name());
    line += " spec=[";
    for (size_t i = 0; i < desc.spec_constants.size(); ++i) line += (i ? "," : "") + std::to_string(desc.spec_constants[i]);
    line += "]:";
    const auto executables = device_.getPipelineExecutablePropertiesKHR(PipelineInfoKHR(pipeline->handle()));
    for (uint32_t e = 0; e < executables.size(); ++e)
      for (const auto& st : device_.getPipelineExecutableStatisticsKHR(PipelineExecutableInfoKHR(pipeline->handle(), e))) {
        line += std::string(" ") + st.name.data() + "=";
        switch (st.format) {
          case PipelineExecutableStatisticFormatKHR::eBool32: line += st.value.b32 ? "true" : "false"; break;
          case PipelineExecutableStatisticFormatKHR::eInt64: line += std::to_string(st.value.i64); break;
          case PipelineExecutableStatisticFormatKHR::eUint64: line += std::to_string(st.value.u64); break;
          case PipelineExecutableStatisticFormatKHR::eFloat64: line += std::to_string(st.value.f64); break;
        }
        line += ";";
      }
    lines.push_back(line);
  }
  return lines;
}

}  // namespace rwkv::vk
