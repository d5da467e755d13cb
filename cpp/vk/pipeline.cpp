#include "vk/pipeline.hpp"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <system_error>

#include <unistd.h>

namespace rwkv::vk {

Pipeline::Pipeline(const raii::Device& device, const raii::PipelineCache& cache, const PipelineDesc& desc, bool push_descriptors,
                   PipelineCreateFlags capture)
    : desc_(desc) {
  const ShaderCode code = shader_code(desc.shader);
  module_ = checked("vkCreateShaderModule", [&] {
    return raii::ShaderModule(device, ShaderModuleCreateInfo({}, code.words.size_bytes(), code.words.data()));
  });
  std::vector<DescriptorSetLayoutBinding> bindings;
  for (uint32_t i = 0; i < desc.n_buffers; ++i)
    bindings.emplace_back(i, DescriptorType::eStorageBuffer, 1, ShaderStageFlagBits::eCompute);
  const DescriptorSetLayoutCreateFlags set_flags =
      push_descriptors ? DescriptorSetLayoutCreateFlagBits::ePushDescriptorKHR : DescriptorSetLayoutCreateFlags{};
  set_layout_ = checked("vkCreateDescriptorSetLayout", [&] { return raii::DescriptorSetLayout(device, DescriptorSetLayoutCreateInfo(set_flags, bindings)); });
  const PushConstantRange push(ShaderStageFlagBits::eCompute, 0, desc.push_size);
  const ::vk::DescriptorSetLayout set_layout = *set_layout_;
  PipelineLayoutCreateInfo layout_info({}, set_layout);
  if (desc.push_size) layout_info.setPushConstantRanges(push);
  layout_ = checked("vkCreatePipelineLayout", [&] { return raii::PipelineLayout(device, layout_info); });

  std::vector<SpecializationMapEntry> entries;
  for (uint32_t i = 0; i < desc.spec_constants.size(); ++i) entries.emplace_back(i, i * 4, 4);
  const SpecializationInfo spec(uint32_t(entries.size()), entries.data(), desc.spec_constants.size() * 4, desc.spec_constants.data());
  const PipelineShaderStageCreateInfo stage({}, ShaderStageFlagBits::eCompute, *module_, "main",
                                            entries.empty() ? nullptr : &spec);
  pipeline_ = checked("vkCreateComputePipelines", [&] {
    return raii::Pipeline(device, cache, ComputePipelineCreateInfo(capture, stage, *layout_));
  });
}

std::filesystem::path cache_directory() {
  if (const char* d = std::getenv("RWKV_GPU_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::filesystem::path(x) / "rwkv_gpu";
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "rwkv_gpu";
  return std::filesystem::temp_directory_path() / "rwkv_gpu";
}

std::vector<uint8_t> read_pipeline_cache(const std::filesystem::path& path, const PhysicalDeviceProperties& props) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // VkPipelineCacheHeaderVersionOne: length, version, vendor, device, UUID. A file from another
  // driver or device is dropped here rather than handed to a driver that may trust it.
  if (data.size() < 32) return {};
  uint32_t header[4];
  std::memcpy(header, data.data(), 16);
  if (header[0] < 32 || header[1] != uint32_t(PipelineCacheHeaderVersion::eOne) || header[2] != props.vendorID ||
      header[3] != props.deviceID || std::memcmp(data.data() + 16, props.pipelineCacheUUID.data(), VK_UUID_SIZE) != 0)
    return {};
  return data;
}

void write_pipeline_cache(const std::filesystem::path& path, const std::vector<uint8_t>& data) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return;
  const auto tmp = path.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()))) return;
  }
  std::filesystem::rename(tmp, path, ec);  // atomic: concurrent processes never see half a file
  if (ec) std::filesystem::remove(tmp, ec);
}

}  // namespace rwkv::vk
