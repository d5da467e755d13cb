// Compute pipelines: one shader variant (ShaderId), its specialization constants, a descriptor
// layout of storage buffers and a push-constant block. Pipelines are cached per device, and their
// driver binaries on disk under the user's cache directory.
#pragma once
#include <cstdint>
#include <filesystem>
#include <tuple>
#include <vector>

#include "shader_ids.hpp"
#include "vk/vulkan.hpp"

namespace rwkv::vk {

struct PipelineDesc {
  ShaderId shader;
  uint32_t n_buffers;                    // bindings 0..n-1, all storage buffers
  uint32_t push_size;                    // bytes of the push-constant block (0 for none)
  std::vector<uint32_t> spec_constants;  // constant_id i takes spec_constants[i]

  bool operator<(const PipelineDesc& o) const {
    return std::tie(shader, n_buffers, push_size, spec_constants) < std::tie(o.shader, o.n_buffers, o.push_size, o.spec_constants);
  }
};

class Pipeline {
 public:
  // push_descriptors: the buffers are pushed with each dispatch (Recorder), not bound as sets.
  // capture: what the driver keeps of the compiled pipeline for Device::pipeline_statistics
  // (its statistics), empty in normal use.
  Pipeline(const raii::Device& device, const raii::PipelineCache& cache, const PipelineDesc& desc, bool push_descriptors,
           PipelineCreateFlags capture = {});
  const PipelineDesc& desc() const { return desc_; }
  std::string_view name() const { return shader_code(desc_.shader).name; }
  ::vk::Pipeline handle() const { return *pipeline_; }
  ::vk::PipelineLayout layout() const { return *layout_; }
  ::vk::DescriptorSetLayout set_layout() const { return *set_layout_; }

 private:
  PipelineDesc desc_;
  raii::ShaderModule module_ = nullptr;
  raii::DescriptorSetLayout set_layout_ = nullptr;
  raii::PipelineLayout layout_ = nullptr;
  raii::Pipeline pipeline_ = nullptr;
};

// Where pipeline caches live: $RWKV_GPU_CACHE_DIR, else $XDG_CACHE_HOME/rwkv_gpu, else ~/.cache/rwkv_gpu.
std::filesystem::path cache_directory();

// Reads a cache file if its header matches this device (else returns nothing), and writes one
// atomically. A cache is an optimisation: failing to read or write it is never an error.
std::vector<uint8_t> read_pipeline_cache(const std::filesystem::path& path, const PhysicalDeviceProperties& props);
void write_pipeline_cache(const std::filesystem::path& path, const std::vector<uint8_t>& data);

}  // namespace rwkv::vk
