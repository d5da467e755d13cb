// Typed errors of the engine. Every failure a user can cause or meet (bad file, no GPU, out of
// device memory, device lost) is one of these; the Python bindings map each to an exception class.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace rwkv {

// Messages can quote bytes from files: an embedded NUL is shown as \0 instead of ending the message
// (what() is a C string).
struct Error : std::runtime_error {
  explicit Error(const std::string& what) : std::runtime_error(escape_nul(what)) {}
  static std::string escape_nul(std::string s) {
    for (size_t i = s.find('\0'); i != std::string::npos; i = s.find('\0', i + 2)) s.replace(i, 1, "\\0");
    return s;
  }
};

// Bad arguments from the caller (shapes, ids, options). Maps to Python's ValueError.
struct InvalidArgument : Error {
  using Error::Error;
};

struct VulkanError : Error {
  VulkanError(const std::string& what, int32_t result = 0) : Error(what), result(result) {}
  int32_t result;  // the VkResult, 0 when the failure is not a Vulkan call's result
};
struct NoVulkanLoader : VulkanError { using VulkanError::VulkanError; };
struct NoDevice : VulkanError { using VulkanError::VulkanError; };
struct OutOfDeviceMemory : VulkanError { using VulkanError::VulkanError; };
struct DeviceLost : VulkanError { using VulkanError::VulkanError; };
struct DeviceTimeout : VulkanError { using VulkanError::VulkanError; };

struct GGUFError : Error {
  using Error::Error;
};

struct TokenizerError : Error {
  using Error::Error;
};

// NaN or infinity where a finite number must be (logits to sample from): non-finite weights or
// state. Maps to rwkv_gpu.NonFiniteError.
struct NonFinite : Error {
  using Error::Error;
};

}  // namespace rwkv
