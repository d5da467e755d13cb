#include "vk/device_info.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "vk/cooperative_matrix.hpp"
#include "vk/device.hpp"

namespace rwkv::vk {
namespace {

std::string vendor_name(uint32_t id, const std::string& driver) {
  switch (id) {
    case 0x10DE: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    case 0x13B5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x106B: return "Apple";
    case 0x10005: return driver.find("llvmpipe") != std::string::npos || driver.find("lavapipe") != std::string::npos
                             ? "Mesa (lavapipe)" : "Mesa";
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04X", id);
  return buf;
}

std::string type_name(PhysicalDeviceType t) {
  switch (t) {
    case PhysicalDeviceType::eDiscreteGpu: return "discrete";
    case PhysicalDeviceType::eIntegratedGpu: return "integrated";
    case PhysicalDeviceType::eVirtualGpu: return "virtual";
    case PhysicalDeviceType::eCpu: return "cpu";
    default: return "other";
  }
}

int type_rank(const std::string& type) {
  static const char* order[] = {"discrete", "integrated", "virtual", "cpu", "other"};
  for (int i = 0; i < 5; ++i)
    if (type == order[i]) return i;
  return 5;
}

std::string version_string(uint32_t v) {
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
         std::to_string(VK_API_VERSION_PATCH(v));
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

DeviceInfo query_device_info(const raii::PhysicalDevice& physical, uint32_t index) {
  DeviceInfo d{};
  d.index = index;
  const auto props = physical.getProperties();
  d.api_version_number = props.apiVersion;
  const bool v13 = props.apiVersion >= VK_API_VERSION_1_3;

  std::vector<std::string> extensions;
  for (const auto& e : physical.enumerateDeviceExtensionProperties()) extensions.emplace_back(e.extensionName.data());
  auto has_ext = [&](const char* name) { return std::find(extensions.begin(), extensions.end(), name) != extensions.end(); };

  const auto chain = physical.getProperties2<PhysicalDeviceProperties2, PhysicalDeviceSubgroupProperties,
                                             PhysicalDeviceDriverProperties, PhysicalDeviceMaintenance3Properties>();
  const auto& subgroup = chain.get<PhysicalDeviceSubgroupProperties>();
  const auto& driver = chain.get<PhysicalDeviceDriverProperties>();
  d.name = props.deviceName.data();
  d.vendor_id = props.vendorID;
  d.device_id = props.deviceID;
  d.driver_name = driver.driverName.data();
  d.driver_info = driver.driverInfo.data();
  d.vendor = vendor_name(props.vendorID, lower(d.name + " " + d.driver_name));
  d.type = type_name(props.deviceType);
  d.api_version = version_string(props.apiVersion);
  d.subgroup_size = d.min_subgroup_size = d.max_subgroup_size = subgroup.subgroupSize;

  const std::pair<SubgroupFeatureFlagBits, const char*> ops[] = {
      {SubgroupFeatureFlagBits::eBasic, "basic"},         {SubgroupFeatureFlagBits::eVote, "vote"},
      {SubgroupFeatureFlagBits::eArithmetic, "arithmetic"}, {SubgroupFeatureFlagBits::eBallot, "ballot"},
      {SubgroupFeatureFlagBits::eShuffle, "shuffle"},     {SubgroupFeatureFlagBits::eShuffleRelative, "shuffle_relative"},
      {SubgroupFeatureFlagBits::eClustered, "clustered"}, {SubgroupFeatureFlagBits::eQuad, "quad"}};
  if (subgroup.supportedStages & ShaderStageFlagBits::eCompute)
    for (auto [bit, name] : ops)
      if (subgroup.supportedOperations & bit) d.subgroup_operations.emplace_back(name);

  const auto& limits = props.limits;
  d.max_storage_buffer_range = limits.maxStorageBufferRange;
  d.min_storage_buffer_offset_alignment = limits.minStorageBufferOffsetAlignment;
  d.max_memory_allocation_size = chain.get<PhysicalDeviceMaintenance3Properties>().maxMemoryAllocationSize;
  d.max_compute_shared_memory_size = limits.maxComputeSharedMemorySize;
  d.max_workgroup_invocations = limits.maxComputeWorkGroupInvocations;
  d.max_workgroup_count = {limits.maxComputeWorkGroupCount[0], limits.maxComputeWorkGroupCount[1],
                           limits.maxComputeWorkGroupCount[2]};
  d.max_push_constants_size = limits.maxPushConstantsSize;
  d.timestamp_period_ns = limits.timestampPeriod;
  d.max_buffer_size = d.max_memory_allocation_size;

  const auto features = physical.getFeatures2<PhysicalDeviceFeatures2, PhysicalDeviceVulkan11Features,
                                               PhysicalDeviceVulkan12Features>();
  d.fp16 = features.get<PhysicalDeviceVulkan12Features>().shaderFloat16;
  d.int8 = features.get<PhysicalDeviceVulkan12Features>().shaderInt8;
  d.storage_8bit = features.get<PhysicalDeviceVulkan12Features>().storageBuffer8BitAccess;
  d.storage_16bit = features.get<PhysicalDeviceVulkan11Features>().storageBuffer16BitAccess;
  if (v13) {
    const auto f13 = physical.getFeatures2<PhysicalDeviceFeatures2, PhysicalDeviceVulkan13Features>();
    d.integer_dot_product = f13.get<PhysicalDeviceVulkan13Features>().shaderIntegerDotProduct;
    const auto p13 = physical.getProperties2<PhysicalDeviceProperties2, PhysicalDeviceVulkan13Properties>();
    const auto& v13p = p13.get<PhysicalDeviceVulkan13Properties>();
    d.integer_dot_product_4x8_accelerated = v13p.integerDotProduct4x8BitPackedSignedAccelerated;
    d.max_buffer_size = v13p.maxBufferSize;
    if (f13.get<PhysicalDeviceVulkan13Features>().subgroupSizeControl) {
      d.min_subgroup_size = v13p.minSubgroupSize;
      d.max_subgroup_size = v13p.maxSubgroupSize;
    }
  }
  d.cooperative_matrix_khr = has_ext("VK_KHR_cooperative_matrix");
  d.push_descriptors = has_ext(VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
  d.cooperative_matrix_nv = has_ext(VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);
  const auto coop = query_cooperative_matrix(physical);
  d.cooperative_matrix_shapes = coop.shapes;
  d.coopmat_f16 = coop.f16_16x16x16;
  if (has_ext(VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME)) {
    const auto sm = physical.getProperties2<PhysicalDeviceProperties2, PhysicalDeviceShaderSMBuiltinsPropertiesNV>();
    d.compute_units = sm.get<PhysicalDeviceShaderSMBuiltinsPropertiesNV>().shaderSMCount;
  } else if (has_ext(VK_AMD_SHADER_CORE_PROPERTIES_EXTENSION_NAME)) {
    const auto amd = physical.getProperties2<PhysicalDeviceProperties2, PhysicalDeviceShaderCorePropertiesAMD>();
    const auto& c = amd.get<PhysicalDeviceShaderCorePropertiesAMD>();
    d.compute_units = c.shaderEngineCount * c.shaderArraysPerEngineCount * c.computeUnitsPerShaderArray;
  }

  const auto memory = physical.getMemoryProperties();
  for (uint32_t i = 0; i < memory.memoryHeapCount; ++i)
    d.memory_heaps.push_back({memory.memoryHeaps[i].size,
                              bool(memory.memoryHeaps[i].flags & MemoryHeapFlagBits::eDeviceLocal)});
  d.timestamps = false;
  if (limits.timestampComputeAndGraphics)
    for (const auto& q : physical.getQueueFamilyProperties())
      d.timestamps |= (q.queueFlags & QueueFlagBits::eCompute) && q.timestampValidBits > 0;
  return d;
}

std::vector<DeviceInfo> list_devices() {
  auto instance = Instance::get();
  raii::PhysicalDevices physicals = checked("vkEnumeratePhysicalDevices", [&] { return raii::PhysicalDevices(instance->handle()); });
  std::vector<DeviceInfo> out;
  for (uint32_t i = 0; i < physicals.size(); ++i) out.push_back(query_device_info(physicals[i], i));
  return out;
}

uint32_t select_device(const std::vector<DeviceInfo>& devices, const std::string& selector_arg) {
  auto listing = [&] {
    std::string s;
    for (const auto& d : devices) s += "\n  " + std::to_string(d.index) + ": " + d.name + " (" + d.type + ")";
    return s.empty() ? std::string(" none") : s;
  };
  if (devices.empty())
    throw NoDevice("no Vulkan device found: install a GPU driver, or mesa-vulkan-drivers for the CPU device (lavapipe)");
  std::string selector = selector_arg;
  const char* env = std::getenv("RWKV_GPU_DEVICE");
  if (selector.empty() && env) selector = env;
  if (selector.empty()) {
    const auto best = std::min_element(devices.begin(), devices.end(), [](const DeviceInfo& a, const DeviceInfo& b) {
      return type_rank(a.type) < type_rank(b.type);
    });
    return best->index;
  }
  if (std::all_of(selector.begin(), selector.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (selector.size() < 6 && std::stoul(selector) < devices.size()) return uint32_t(std::stoul(selector));
    throw NoDevice("device index " + selector + " out of range; devices:" + listing());
  }
  for (const auto& d : devices)
    if (lower(d.name).find(lower(selector)) != std::string::npos) return d.index;
  throw NoDevice("no device name contains '" + selector + "'; devices:" + listing());
}

}  // namespace rwkv::vk
