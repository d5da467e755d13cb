// Recording, submitting and reading back as separate steps. A Recorder collects dispatches and
// copies into one command buffer, inserting a barrier only where a command touches bytes an
// earlier command of the same recording wrote (or writes bytes it read). submit() hands the work
// to the queue and returns a Submission that keeps every buffer alive until the GPU is done.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "vk/device.hpp"

namespace rwkv::vk {

struct BufferRange {
  BufferPtr buffer;
  uint64_t offset = 0;
  uint64_t size = VK_WHOLE_SIZE;  // to the end of the buffer

  uint64_t bytes() const { return size == VK_WHOLE_SIZE ? buffer->size() - offset : size; }
};

enum class Access { Read, Write, ReadWrite };

struct Binding {
  BufferRange range;
  Access access;
};

inline Binding reads(BufferRange r) { return {std::move(r), Access::Read}; }
inline Binding writes(BufferRange r) { return {std::move(r), Access::Write}; }
inline Binding updates(BufferRange r) { return {std::move(r), Access::ReadWrite}; }

struct DispatchTiming {
  std::string label;
  double ms;
  double start_ms;  // on the device's clock: comparable across the submissions of one device
};

struct RecordingState;  // command buffer, descriptor pools, keep-alive list, timestamps

class Submission {
 public:
  explicit Submission(std::unique_ptr<RecordingState> state);
  ~Submission();  // waits, so nothing the GPU uses is freed early
  Submission(Submission&&) noexcept;
  Submission& operator=(Submission&&) noexcept;

  // Blocks until the GPU finishes; DeviceLost or DeviceTimeout instead of a hang (after which the
  // work belongs to the device, which frees it once it finishes).
  void wait();
  bool done() const;
  // Per-dispatch GPU times of a profiled recording, after wait().
  std::vector<DispatchTiming> timings() const;
  // Runs the same commands again (a Recorder made with reusable = true): waits for the previous
  // run, then submits. What the commands read from host-visible buffers may change in between.
  void resubmit();

 private:
  void abandon();  // hands the unfinished work to the device (Device::abandon)
  std::unique_ptr<RecordingState> state_;
  bool waited_ = false;
};

class Recorder {
 public:
  // reusable: the submission can run again (Submission::resubmit), e.g. a decode step.
  explicit Recorder(DevicePtr device, bool profile = false, bool reusable = false);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Records a dispatch of `pipeline` with `bindings` (binding i = bindings[i]) and a push block.
  template <class Push>
  void dispatch(const Pipeline& pipeline, std::initializer_list<Binding> bindings, const Push& push,
                std::array<uint32_t, 3> groups) {
    static_assert(std::is_trivially_copyable_v<Push> && sizeof(Push) % 4 == 0, "push blocks are plain words");
    dispatch_raw(pipeline, bindings, &push, sizeof(Push), groups);
  }
  void copy(const BufferRange& src, const BufferRange& dst, uint64_t bytes);
  void fill(const BufferRange& dst, uint32_t word);
  Submission submit();
  Device& device() const { return *device_; }

 private:
  void dispatch_raw(const Pipeline& pipeline, std::initializer_list<Binding> bindings, const void* push,
                    uint32_t push_size, std::array<uint32_t, 3> groups);
  void track(const std::vector<std::pair<BufferRange, Access>>& accesses);
  DescriptorSet allocate_set(::vk::DescriptorSetLayout layout);

  DevicePtr device_;
  std::unique_ptr<RecordingState> state_;
};

// Blocking transfers through staging memory, for setup and tests (not for hot paths).
void upload(const DevicePtr& device, const BufferRange& dst, const void* data, uint64_t bytes);
void download(const DevicePtr& device, const BufferRange& src, void* data, uint64_t bytes);

}  // namespace rwkv::vk
