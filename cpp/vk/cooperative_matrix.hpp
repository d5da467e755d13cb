// VK_KHR_cooperative_matrix: the matrix shapes a device offers, and the feature to turn on.
// Vulkan headers older than 1.3.255 (Debian 12 has 1.3.239) lack this extension, so its few
// declarations are repeated here from the Vulkan registry, under names of our own.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vk/vulkan.hpp"

namespace rwkv::vk::khr {

inline constexpr const char* k_cooperative_matrix_extension = "VK_KHR_cooperative_matrix";
inline constexpr uint32_t k_component_float16 = 0;  // VkComponentTypeKHR
inline constexpr uint32_t k_component_float32 = 1;
inline constexpr uint32_t k_scope_subgroup = 3;     // VkScopeKHR

// VkPhysicalDeviceCooperativeMatrixFeaturesKHR
struct CooperativeMatrixFeatures {
  VkStructureType sType = VkStructureType(1000506000);
  void* pNext = nullptr;
  VkBool32 cooperativeMatrix = VK_FALSE;
  VkBool32 cooperativeMatrixRobustBufferAccess = VK_FALSE;
};

// VkCooperativeMatrixPropertiesKHR
struct CooperativeMatrixProperties {
  VkStructureType sType = VkStructureType(1000506001);
  void* pNext = nullptr;
  uint32_t MSize = 0, NSize = 0, KSize = 0;
  uint32_t AType = 0, BType = 0, CType = 0, ResultType = 0;
  VkBool32 saturatingAccumulation = VK_FALSE;
  uint32_t scope = 0;
};

}  // namespace rwkv::vk::khr

namespace rwkv::vk {

struct CooperativeMatrixSupport {
  std::vector<std::string> shapes;  // "f16 x f16 -> f32, 16x16x16, subgroup", ...
  // What matmul_coopmat.comp needs: f16 x f16 -> f32 at 16x16x16 in subgroup scope, with the
  // cooperativeMatrix, shaderFloat16 and vulkanMemoryModel features and Vulkan 1.3 (SPIR-V 1.6).
  bool f16_16x16x16 = false;
};

// What `physical` offers; empty where the extension is missing.
CooperativeMatrixSupport query_cooperative_matrix(const raii::PhysicalDevice& physical);

}  // namespace rwkv::vk
