// Validation-layer status, without pulling in Vulkan headers (for the bindings and the CLI).
#pragma once
#include <cstdint>

namespace rwkv::vk {

// Validation messages (warnings and errors) seen since the process started: tests assert zero.
uint64_t validation_message_count();
// Whether RWKV_GPU_VALIDATION asks for the validation layers.
bool validation_requested();

}  // namespace rwkv::vk
