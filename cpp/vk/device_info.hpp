// What a Vulkan device can do, as the engine needs to know it, and how one is chosen.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>


namespace rwkv::vk {

struct MemoryHeapInfo {
  uint64_t size;
  bool device_local;
};

struct DeviceInfo {
  uint32_t index;
  std::string name;
  uint32_t vendor_id;
  std::string vendor;  // "NVIDIA", "AMD", "Intel", "Mesa (lavapipe)", ... or the id in hex
  uint32_t device_id;
  std::string type;    // "discrete", "integrated", "virtual", "cpu", "other"
  std::string api_version;
  std::string driver_name;
  std::string driver_info;
  std::vector<MemoryHeapInfo> memory_heaps;
  uint32_t subgroup_size;
  uint32_t min_subgroup_size;  // equal to subgroup_size where size control is unsupported
  uint32_t max_subgroup_size;
  std::vector<std::string> subgroup_operations;  // "basic", "vote", "arithmetic", ...
  bool fp16;                  // shaderFloat16
  bool int8;                  // shaderInt8
  bool storage_16bit;         // storageBuffer16BitAccess
  bool storage_8bit;          // storageBuffer8BitAccess
  bool integer_dot_product;   // shaderIntegerDotProduct
  bool integer_dot_product_4x8_accelerated;
  bool cooperative_matrix_khr;
  bool cooperative_matrix_nv;
  std::vector<std::string> cooperative_matrix_shapes;  // of VK_KHR_cooperative_matrix
  bool coopmat_f16;  // the tensor-core matmul can run (vk/cooperative_matrix.hpp says what it needs)
  // Streaming multiprocessors (VK_NV_shader_sm_builtins) or compute units (VK_AMD_shader_core_properties):
  // how many workgroups run at once, for the matmul's k-split rule. 0 where the driver does not say.
  uint32_t compute_units;
  uint64_t max_storage_buffer_range;
  uint64_t min_storage_buffer_offset_alignment;
  uint64_t max_buffer_size;
  uint64_t max_memory_allocation_size;
  uint32_t max_compute_shared_memory_size;
  uint32_t max_workgroup_invocations;
  std::array<uint32_t, 3> max_workgroup_count;
  uint32_t max_push_constants_size;
  bool timestamps;            // compute queues can write timestamps
  bool push_descriptors;      // VK_KHR_push_descriptor
  float timestamp_period_ns;
  uint32_t api_version_number;
};

// Every device the loader reports, in the loader's order.
std::vector<DeviceInfo> list_devices();

// The index of the device to use: `selector` is an index, or a case-insensitive substring of the
// name; empty means $RWKV_GPU_DEVICE, and if that is unset the best type
// (discrete > integrated > virtual > cpu). Throws NoDevice with the list when nothing matches.
uint32_t select_device(const std::vector<DeviceInfo>& devices, const std::string& selector);

}  // namespace rwkv::vk
