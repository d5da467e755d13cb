// The one place that includes Vulkan-Hpp. The loader is opened at run time (vk::raii::Context), so
// a machine without libvulkan still imports rwkv_gpu and gets a NoVulkanLoader error, not a crash.
#pragma once
#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#ifndef VULKAN_HPP_DISPATCH_LOADER_DYNAMIC
#define VULKAN_HPP_DISPATCH_LOADER_DYNAMIC 1
#endif
#define VULKAN_HPP_NO_SMART_HANDLE
// We open the loader ourselves (vk/instance.cpp) so its absence is a typed error.
#define VULKAN_HPP_ENABLE_DYNAMIC_LOADER_TOOL 0
#include <vulkan/vulkan_raii.hpp>

#include "common/error.hpp"

namespace rwkv::vk {

using namespace ::vk;

// Maps a Vulkan failure to the engine's typed errors, naming the call that failed.
[[noreturn]] void throw_vulkan_error(const char* call, ::vk::Result result, const char* detail = "");

// Runs a Vulkan-Hpp call and rethrows its vk::SystemError as a typed rwkv error naming `call`.
template <class F>
decltype(auto) checked(const char* call, F&& f) {
  try {
    return f();
  } catch (const ::vk::SystemError& e) {
    throw_vulkan_error(call, static_cast<::vk::Result>(e.code().value()), e.what());
  }
}

}  // namespace rwkv::vk
