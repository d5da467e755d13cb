#include "vk/cooperative_matrix.hpp"

#include <algorithm>
#include <cstring>

#include "vk/instance.hpp"

namespace rwkv::vk {
namespace {

using GetProperties = VkResult(VKAPI_PTR*)(VkPhysicalDevice, uint32_t*, khr::CooperativeMatrixProperties*);

const char* component_name(uint32_t t) {
  static const char* names[] = {"f16", "f32", "f64", "s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64"};
  return t < std::size(names) ? names[t] : "other";
}

}  // namespace

CooperativeMatrixSupport query_cooperative_matrix(const raii::PhysicalDevice& physical) {
  CooperativeMatrixSupport out;
  const auto extensions = physical.enumerateDeviceExtensionProperties();
  const bool has = std::any_of(extensions.begin(), extensions.end(), [](const auto& e) {
    return std::strcmp(e.extensionName, khr::k_cooperative_matrix_extension) == 0;
  });
  if (!has || physical.getProperties().apiVersion < VK_API_VERSION_1_3) return out;
  const auto* dispatch = physical.getDispatcher();
  const auto get = reinterpret_cast<GetProperties>(
      dispatch->vkGetInstanceProcAddr(*Instance::get()->handle(), "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR"));
  if (!get) return out;
  uint32_t count = 0;
  if (get(*physical, &count, nullptr) != VK_SUCCESS) return out;
  std::vector<khr::CooperativeMatrixProperties> props(count);
  if (get(*physical, &count, props.data()) != VK_SUCCESS) return out;
  bool shape = false;
  for (const auto& p : props) {
    out.shapes.push_back(std::string(component_name(p.AType)) + " x " + component_name(p.BType) + " -> " +
                         component_name(p.ResultType) + ", " + std::to_string(p.MSize) + "x" + std::to_string(p.NSize) + "x" +
                         std::to_string(p.KSize) + (p.scope == khr::k_scope_subgroup ? ", subgroup" : ", other scope"));
    shape |= p.MSize == 16 && p.NSize == 16 && p.KSize == 16 && p.AType == khr::k_component_float16 &&
             p.BType == khr::k_component_float16 && p.CType == khr::k_component_float32 &&
             p.ResultType == khr::k_component_float32 && p.scope == khr::k_scope_subgroup;
  }
  khr::CooperativeMatrixFeatures coop;
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES, &coop};
  VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &f12};
  dispatch->vkGetPhysicalDeviceFeatures2(*physical, &f2);
  out.f16_16x16x16 = shape && coop.cooperativeMatrix && f12.shaderFloat16 && f12.vulkanMemoryModel;
  return out;
}

}  // namespace rwkv::vk
