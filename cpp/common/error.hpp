// Typed errors of the engine. Every failure a user can cause or meet (bad file, no GPU, out of
// device memory, device lost) is one of these; the Python bindings map each to an exception class.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace rwkv {

// Messages can quote bytes from hostile files: they are made valid UTF-8 (an embedded NUL shown
// as \0, other undecodable bytes as U+FFFD), so what() is the whole message and Python can decode it.
struct Error : std::runtime_error {
  explicit Error(const std::string& what) : std::runtime_error(printable(what)) {}

  static std::string printable(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
      const auto b = static_cast<unsigned char>(s[i]);
      // Sequence length and the allowed range of the second byte (no overlongs, no surrogates).
      size_t n = 1;
      unsigned char lo = 0x80, hi = 0xBF;
      if (b >= 0xC2 && b <= 0xDF) n = 2;
      else if (b >= 0xE0 && b <= 0xEF) n = 3, lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
      else if (b >= 0xF0 && b <= 0xF4) n = 4, lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
      bool ok = b < 0x80 || (n > 1 && i + n <= s.size());
      for (size_t k = 1; ok && k < n; ++k) {
        const auto c = static_cast<unsigned char>(s[i + k]);
        ok = k == 1 ? c >= lo && c <= hi : c >= 0x80 && c <= 0xBF;
      }
      if (b == 0) {
        out += "\\0";
      } else if (ok) {
        out.append(s, i, n);
      } else {
        out += "\xEF\xBF\xBD";
        n = 1;
      }
      i += n;
    }
    return out;
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
