#include "vk/instance.hpp"

#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

VULKAN_HPP_DEFAULT_DISPATCH_LOADER_DYNAMIC_STORAGE

namespace rwkv::vk {
namespace {

std::atomic<uint64_t> g_validation_messages{0};

VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT,
                                                     const VkDebugUtilsMessengerCallbackDataEXT* data, void*) {
  if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    ++g_validation_messages;
    std::fprintf(stderr, "[rwkv_gpu validation] %s\n", data && data->pMessage ? data->pMessage : "(no message)");
  }
  return VK_FALSE;
}

// vkGetInstanceProcAddr of the loader library, opened once per process and never closed:
// $RWKV_GPU_VULKAN_LIBRARY, else libvulkan.so.1.
PFN_vkGetInstanceProcAddr loader_entry_point() {
  static const PFN_vkGetInstanceProcAddr entry = [] {
    const char* env = std::getenv("RWKV_GPU_VULKAN_LIBRARY");
    const std::string name = env && *env ? env : "libvulkan.so.1";
    void* lib = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    void* sym = lib ? ::dlsym(lib, "vkGetInstanceProcAddr") : nullptr;
    if (!sym)
      throw NoVulkanLoader("cannot load the Vulkan loader (" + name + "): " + (lib ? "no vkGetInstanceProcAddr" : ::dlerror()) +
                           ". Install it (Debian/Ubuntu: apt-get install libvulkan1) and a driver "
                           "(mesa-vulkan-drivers for a CPU device).");
    return reinterpret_cast<PFN_vkGetInstanceProcAddr>(sym);
  }();
  return entry;
}

}  // namespace

void throw_vulkan_error(const char* call, Result result, const char* detail) {
  const std::string what = std::string(call) + " failed: " + to_string(result) + (*detail ? std::string(" (") + detail + ")" : "");
  const auto code = static_cast<int32_t>(result);
  switch (result) {
    case Result::eErrorOutOfDeviceMemory:
    case Result::eErrorOutOfHostMemory:
    case Result::eErrorOutOfPoolMemory:
      throw OutOfDeviceMemory(what, code);
    case Result::eErrorDeviceLost:
      throw DeviceLost(what + ": the GPU device was lost (driver reset or crash); create a new model", code);
    case Result::eErrorIncompatibleDriver:
    case Result::eErrorInitializationFailed:
      throw NoDevice(what + ": no usable Vulkan driver", code);
    case Result::eTimeout:
      throw DeviceTimeout(what, code);
    default:
      throw VulkanError(what, code);
  }
}

Instance::Instance() : context_(loader_entry_point()) {
  api_version_ = checked("vkEnumerateInstanceVersion", [&] { return context_.enumerateInstanceVersion(); });
  const bool validate = validation_requested();
  std::vector<const char*> layers, extensions;
  if (validate) {
    bool found = false;
    for (const auto& l : context_.enumerateInstanceLayerProperties())
      found |= std::strcmp(l.layerName, "VK_LAYER_KHRONOS_validation") == 0;
    if (!found)
      throw VulkanError("RWKV_GPU_VALIDATION=1 but VK_LAYER_KHRONOS_validation is not installed "
                        "(Debian: apt-get install vulkan-validationlayers)");
    layers.push_back("VK_LAYER_KHRONOS_validation");
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }
  // Portability drivers (MoltenVK) are only listed when asked for.
  bool portability = false;
  for (const auto& e : context_.enumerateInstanceExtensionProperties())
    portability |= std::strcmp(e.extensionName, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME) == 0;
  if (portability) extensions.push_back(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);

  const ApplicationInfo app("rwkv_gpu", 1, "rwkv_gpu", 1, VK_API_VERSION_1_2 < api_version_ ? api_version_ : VK_API_VERSION_1_2);
  InstanceCreateInfo info({}, &app, layers, extensions);
  if (portability) info.flags |= InstanceCreateFlagBits::eEnumeratePortabilityKHR;
  const DebugUtilsMessengerCreateInfoEXT messenger_info(
      {},
      DebugUtilsMessageSeverityFlagBitsEXT::eWarning | DebugUtilsMessageSeverityFlagBitsEXT::eError,
      DebugUtilsMessageTypeFlagBitsEXT::eGeneral | DebugUtilsMessageTypeFlagBitsEXT::eValidation |
          DebugUtilsMessageTypeFlagBitsEXT::ePerformance,
      &on_validation_message);
  if (validate) info.pNext = &messenger_info;  // also catches messages of vkCreateInstance itself
  instance_ = checked("vkCreateInstance", [&] { return raii::Instance(context_, info); });
  if (validate) messenger_.emplace(checked("vkCreateDebugUtilsMessengerEXT", [&] { return raii::DebugUtilsMessengerEXT(instance_, messenger_info); }));
}

std::shared_ptr<Instance> Instance::get() {
  // One instance for the process; devices hold shared references. The process-wide reference is
  // deliberately never released: at exit, drivers (NVIDIA's) tear themselves down before static
  // destructors run, and destroying the instance after that crashes.
  static std::mutex mutex;
  static auto* instance = new std::shared_ptr<Instance>();
  std::lock_guard lock(mutex);
  if (!*instance) instance->reset(new Instance());
  return *instance;
}

uint64_t validation_message_count() { return g_validation_messages.load(); }

bool validation_requested() {
  const char* v = std::getenv("RWKV_GPU_VALIDATION");
  return v && *v && std::strcmp(v, "0") != 0;
}

}  // namespace rwkv::vk
