#include "vk/recorder.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace rwkv::vk {

namespace {
constexpr uint32_t k_sets_per_pool = 256;
constexpr uint32_t k_buffers_per_set = 8;
constexpr uint32_t k_max_timestamps = 4096;

// A byte range of a buffer touched since the last barrier.
struct Touch {
  ::vk::Buffer buffer;
  uint64_t begin, end;
  bool write;
};
}  // namespace

struct RecordingState {
  DevicePtr device;
  raii::CommandPool pool = nullptr;
  raii::CommandBuffer cmd = nullptr;
  std::vector<raii::DescriptorPool> descriptor_pools;
  uint32_t sets_in_last_pool = k_sets_per_pool;
  std::vector<BufferPtr> keep_alive;
  std::vector<Touch> touched;
  raii::Fence fence = nullptr;
  raii::QueryPool queries = nullptr;
  std::vector<std::string> labels;  // timestamps 2i and 2i+1 bracket labels[i]
  bool submitted = false;
  bool reusable = false;
};

Recorder::Recorder(DevicePtr device, bool profile, bool reusable) : device_(std::move(device)), state_(std::make_unique<RecordingState>()) {
  auto& s = *state_;
  const auto& dev = device_->handle();
  s.device = device_;
  s.pool = checked("vkCreateCommandPool", [&] {
    return raii::CommandPool(dev, CommandPoolCreateInfo(CommandPoolCreateFlagBits::eTransient, device_->queue_family()));
  });
  s.cmd = checked("vkAllocateCommandBuffers", [&] {
    return std::move(raii::CommandBuffers(dev, CommandBufferAllocateInfo(*s.pool, CommandBufferLevel::ePrimary, 1)).front());
  });
  s.fence = checked("vkCreateFence", [&] { return raii::Fence(dev, FenceCreateInfo()); });
  s.reusable = reusable;
  s.cmd.begin(CommandBufferBeginInfo(reusable ? CommandBufferUsageFlags() : CommandBufferUsageFlagBits::eOneTimeSubmit));
  if (profile && device_->info().timestamps) {
    s.queries = checked("vkCreateQueryPool", [&] {
      return raii::QueryPool(dev, QueryPoolCreateInfo({}, QueryType::eTimestamp, k_max_timestamps));
    });
    s.cmd.resetQueryPool(*s.queries, 0, k_max_timestamps);
  }
}

Recorder::~Recorder() = default;

DescriptorSet Recorder::allocate_set(::vk::DescriptorSetLayout layout) {
  auto& s = *state_;
  if (s.sets_in_last_pool == k_sets_per_pool) {
    const DescriptorPoolSize size(DescriptorType::eStorageBuffer, k_sets_per_pool * k_buffers_per_set);
    s.descriptor_pools.push_back(checked("vkCreateDescriptorPool", [&] {
      return raii::DescriptorPool(device_->handle(), DescriptorPoolCreateInfo({}, k_sets_per_pool, size));
    }));
    s.sets_in_last_pool = 0;
  }
  ++s.sets_in_last_pool;
  const auto sets = checked("vkAllocateDescriptorSets", [&] {
    return (*device_->handle()).allocateDescriptorSets(DescriptorSetAllocateInfo(*s.descriptor_pools.back(), layout),
                                                       *device_->handle().getDispatcher());
  });
  return sets.front();
}

void Recorder::track(const std::vector<std::pair<BufferRange, Access>>& accesses) {
  auto& s = *state_;
  bool hazard = false;
  for (const auto& [range, access] : accesses) {
    const uint64_t begin = range.offset, end = range.offset + range.bytes();
    const bool write = access != Access::Read;
    for (const auto& t : s.touched)
      hazard |= t.buffer == range.buffer->handle() && begin < t.end && t.begin < end && (write || t.write);
  }
  if (hazard) {
    using A = AccessFlagBits;
    const MemoryBarrier barrier(A::eShaderWrite | A::eTransferWrite,
                                A::eShaderRead | A::eShaderWrite | A::eTransferRead | A::eTransferWrite);
    const auto stages = PipelineStageFlagBits::eComputeShader | PipelineStageFlagBits::eTransfer;
    s.cmd.pipelineBarrier(stages, stages, {}, barrier, {}, {});
    s.touched.clear();
  }
  for (const auto& [range, access] : accesses) {
    s.touched.push_back({range.buffer->handle(), range.offset, range.offset + range.bytes(), access != Access::Read});
    s.keep_alive.push_back(range.buffer);
  }
}

void Recorder::dispatch_raw(const Pipeline& pipeline, std::initializer_list<Binding> bindings, const void* push,
                            uint32_t push_size, std::array<uint32_t, 3> groups) {
  auto& s = *state_;
  const auto& info = device_->info();
  const std::string name(pipeline.name());
  if (bindings.size() != pipeline.desc().n_buffers || push_size != pipeline.desc().push_size)
    throw InvalidArgument("[" + name + "] expects " + std::to_string(pipeline.desc().n_buffers) + " buffers and a " +
                          std::to_string(pipeline.desc().push_size) + "-byte push block");
  for (int i = 0; i < 3; ++i)
    if (groups[i] == 0 || groups[i] > info.max_workgroup_count[i])
      throw InvalidArgument("[" + name + "] workgroup count " + std::to_string(groups[i]) + " outside 1.." +
                            std::to_string(info.max_workgroup_count[i]));
  std::vector<std::pair<BufferRange, Access>> accesses;
  std::vector<DescriptorBufferInfo> buffer_infos;
  for (const auto& b : bindings) {
    const uint64_t bytes = b.range.bytes();
    if (b.range.offset % info.min_storage_buffer_offset_alignment != 0 || bytes > info.max_storage_buffer_range ||
        b.range.offset + bytes > b.range.buffer->size())
      throw InvalidArgument("[" + name + "] binding " + std::to_string(buffer_infos.size()) + " (offset " +
                            std::to_string(b.range.offset) + ", " + std::to_string(bytes) +
                            " bytes) is misaligned, past the buffer's end or above maxStorageBufferRange");
    // Vulkan sees buffers rounded up to whole words (see Buffer); so do the shaders.
    const uint64_t vk_bytes = std::min<uint64_t>((bytes + 3) / 4 * 4, (b.range.buffer->size() + 3) / 4 * 4 - b.range.offset);
    buffer_infos.emplace_back(b.range.buffer->handle(), b.range.offset, vk_bytes);
    accesses.emplace_back(b.range, b.access);
  }
  track(accesses);
  // The buffers pushed with the dispatch, or written into a set of this recording's pools.
  const bool pushed = device_->push_descriptors();
  const DescriptorSet set = pushed ? DescriptorSet{} : allocate_set(pipeline.set_layout());
  std::vector<WriteDescriptorSet> writes;
  for (uint32_t i = 0; i < buffer_infos.size(); ++i)
    writes.emplace_back(set, i, 0, 1, DescriptorType::eStorageBuffer, nullptr, &buffer_infos[i]);
  if (!pushed) device_->handle().updateDescriptorSets(writes, {});

  // Timestamps 2i and 2i+1 bracket dispatch i of a profiled recording.
  const auto query = uint32_t(s.labels.size() * 2);
  const bool profiled = *s.queries && query + 2 <= k_max_timestamps;
  if (profiled) s.cmd.writeTimestamp(PipelineStageFlagBits::eTopOfPipe, *s.queries, query);
  s.cmd.bindPipeline(PipelineBindPoint::eCompute, pipeline.handle());
  if (pushed)
    s.cmd.pushDescriptorSetKHR(PipelineBindPoint::eCompute, pipeline.layout(), 0, writes);
  else
    s.cmd.bindDescriptorSets(PipelineBindPoint::eCompute, pipeline.layout(), 0, set, {});
  if (push_size)
    (*s.cmd).pushConstants(pipeline.layout(), ShaderStageFlagBits::eCompute, 0, push_size, push, *s.cmd.getDispatcher());
  s.cmd.dispatch(groups[0], groups[1], groups[2]);
  if (profiled) {
    s.cmd.writeTimestamp(PipelineStageFlagBits::eBottomOfPipe, *s.queries, query + 1);
    s.labels.push_back(name);
  }
}

void Recorder::copy(const BufferRange& src, const BufferRange& dst, uint64_t bytes) {
  if (src.offset + bytes > src.buffer->size() || dst.offset + bytes > dst.buffer->size())
    throw InvalidArgument("[copy] range past the end of a buffer");
  track({{BufferRange{src.buffer, src.offset, bytes}, Access::Read}, {BufferRange{dst.buffer, dst.offset, bytes}, Access::Write}});
  state_->cmd.copyBuffer(src.buffer->handle(), dst.buffer->handle(), BufferCopy(src.offset, dst.offset, bytes));
}

void Recorder::fill(const BufferRange& dst, uint32_t word) {
  const uint64_t bytes = dst.bytes();
  if (dst.offset % 4 || bytes % 4) throw InvalidArgument("[fill] offset and size must be multiples of 4");
  track({{dst, Access::Write}});
  state_->cmd.fillBuffer(dst.buffer->handle(), dst.offset, bytes, word);
}

Submission Recorder::submit() {
  auto& s = *state_;
  // Make every write visible to the host (readback buffers) and ordered before whatever is
  // submitted next (which may read or write the same bytes: a recording split into submissions).
  using A = AccessFlagBits;
  const MemoryBarrier barrier(A::eShaderWrite | A::eTransferWrite, A::eHostRead | A::eMemoryRead | A::eMemoryWrite);
  s.cmd.pipelineBarrier(PipelineStageFlagBits::eComputeShader | PipelineStageFlagBits::eTransfer,
                        PipelineStageFlagBits::eHost | PipelineStageFlagBits::eAllCommands, {}, barrier, {}, {});
  s.cmd.end();
  const ::vk::CommandBuffer cmd = *s.cmd;
  device_->submit(SubmitInfo({}, {}, cmd), *s.fence);
  s.submitted = true;
  return Submission(std::move(state_));
}

Submission::Submission(std::unique_ptr<RecordingState> state) : state_(std::move(state)) {}
Submission::Submission(Submission&&) noexcept = default;
Submission& Submission::operator=(Submission&& o) noexcept {
  if (this != &o) {
    try {
      if (state_ && !waited_ && !done()) abandon();
    } catch (...) {
    }
    state_ = std::move(o.state_);
    waited_ = o.waited_;
  }
  return *this;
}

Submission::~Submission() {
  // Never free what the GPU may still use: unfinished work goes to the device to outlive us.
  try {
    if (state_ && !waited_ && !done()) abandon();
  } catch (...) {
    // A lost device cannot be asked; its resources are released with it.
  }
}

void Submission::abandon() {
  const ::vk::Fence fence = *state_->fence;
  auto device = std::move(state_->device);  // the device must not own itself through it
  device->abandon(fence, std::shared_ptr<RecordingState>(std::move(state_)));
}

void Submission::wait() {
  if (!state_ || waited_) return;
  const auto& dev = state_->device->handle();
  const auto timeout = std::chrono::duration<double>(state_->device->timeout_seconds());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Wait in slices so a lost device or a stuck driver surfaces as an error, never a hang.
  while (true) {
    const Result r = checked("vkWaitForFences", [&] { return dev.waitForFences(*state_->fence, VK_TRUE, 100'000'000); });
    if (r == Result::eSuccess) break;
    if (std::chrono::steady_clock::now() > deadline) {
      abandon();  // this object no longer owns the work; the next call can run
      throw DeviceTimeout("GPU work did not finish within " + std::to_string(int(timeout.count())) +
                          " s (RWKV_GPU_TIMEOUT_S raises the limit)", int32_t(Result::eTimeout));
    }
  }
  waited_ = true;
}

void Submission::resubmit() {
  if (!state_) throw InvalidArgument("[resubmit] the recording was abandoned after a timeout");
  if (!state_->reusable) throw InvalidArgument("[resubmit] the recording was not made reusable");
  wait();
  checked("vkResetFences", [&] { state_->device->handle().resetFences(*state_->fence); });
  const ::vk::CommandBuffer cmd = *state_->cmd;
  state_->device->submit(SubmitInfo({}, {}, cmd), *state_->fence);
  waited_ = false;
}

bool Submission::done() const {
  return waited_ || (state_ && checked("vkGetFenceStatus", [&] { return state_->fence.getStatus(); }) == Result::eSuccess);
}

std::vector<DispatchTiming> Submission::timings() const {
  std::vector<DispatchTiming> out;
  if (!state_ || !waited_ || !*state_->queries || state_->labels.empty()) return out;
  const auto n = uint32_t(state_->labels.size() * 2);
  std::vector<uint64_t> ticks(n);
  const Result r = (*state_->device->handle()).getQueryPoolResults(
      *state_->queries, 0, n, n * sizeof(uint64_t), ticks.data(), sizeof(uint64_t), QueryResultFlagBits::e64 | QueryResultFlagBits::eWait,
      *state_->device->handle().getDispatcher());
  if (r != Result::eSuccess) throw_vulkan_error("vkGetQueryPoolResults", r);
  const double period_ms = state_->device->info().timestamp_period_ns * 1e-6;
  for (size_t i = 0; i < state_->labels.size(); ++i)
    out.push_back({state_->labels[i], double(ticks[2 * i + 1] - ticks[2 * i]) * period_ms, double(ticks[2 * i]) * period_ms});
  return out;
}

void upload(const DevicePtr& device, const BufferRange& dst, const void* data, uint64_t bytes) {
  if (dst.buffer->mapped()) {
    std::memcpy(dst.buffer->mapped() + dst.offset, data, bytes);
    return;
  }
  constexpr uint64_t chunk = 64ull << 20;
  auto staging = std::make_shared<Buffer>(device, std::min(bytes, chunk), MemoryKind::Upload);
  for (uint64_t done = 0; done < bytes; done += chunk) {
    const uint64_t n = std::min(chunk, bytes - done);
    std::memcpy(staging->mapped(), static_cast<const std::byte*>(data) + done, n);
    Recorder rec(device);
    rec.copy(BufferRange{staging}, BufferRange{dst.buffer, dst.offset + done}, n);
    rec.submit().wait();
  }
}

void download(const DevicePtr& device, const BufferRange& src, void* data, uint64_t bytes) {
  if (src.buffer->mapped()) {
    std::memcpy(data, src.buffer->mapped() + src.offset, bytes);
    return;
  }
  constexpr uint64_t chunk = 64ull << 20;
  auto staging = std::make_shared<Buffer>(device, std::min(bytes, chunk), MemoryKind::Readback);
  for (uint64_t done = 0; done < bytes; done += chunk) {
    const uint64_t n = std::min(chunk, bytes - done);
    Recorder rec(device);
    rec.copy(BufferRange{src.buffer, src.offset + done}, BufferRange{staging}, n);
    rec.submit().wait();
    std::memcpy(static_cast<std::byte*>(data) + done, staging->mapped(), n);
  }
}

}  // namespace rwkv::vk
