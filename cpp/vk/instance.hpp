// The process-wide Vulkan instance: the loader, optional validation layers and their messenger.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include "vk/validation.hpp"
#include "vk/vulkan.hpp"

namespace rwkv::vk {

class Instance {
 public:
  // The shared instance, created on first use. Validation layers are on when RWKV_GPU_VALIDATION=1;
  // if they are asked for but not installed, this throws instead of running unchecked.
  static std::shared_ptr<Instance> get();

  const raii::Instance& handle() const { return instance_; }
  const raii::Context& context() const { return context_; }
  uint32_t api_version() const { return api_version_; }
  bool validation() const { return messenger_.has_value(); }

  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

 private:
  Instance();
  raii::Context context_;
  raii::Instance instance_ = nullptr;
  std::optional<raii::DebugUtilsMessengerEXT> messenger_;
  uint32_t api_version_ = 0;
};

}  // namespace rwkv::vk
