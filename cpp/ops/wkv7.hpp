// The WKV7 time-mix core (spec T4-T12): prelude, recurrence, GroupNorm, bonus and gate. Two
// kernels: SEQUENTIAL walks each sequence's tokens in order (one workgroup per sequence and
// head); CHUNKED runs chunks of 16 tokens in parallel with only the chunk-to-chunk state pass
// sequential (shaders/wkv7_chunked.comp). Both are fp32 and agree within rounding.
#pragma once
#include <string>

#include "ops/batch.hpp"
#include "vk/device_info.hpp"

namespace rwkv::ops {

struct Wkv7Rows {  // rows of the VectorTable
  uint32_t w0, a0, v0, k_k, k_a, r_k, ln_x_w, ln_x_b;
};

enum class Wkv7Kernel : uint32_t { Sequential, Chunked };

// The kernel for a batch whose longest sequence has `longest` tokens (a table in wkv7.cpp). `forced` is
// $RWKV_GPU_WKV ("" when unset, read at each call; for tests and benchmarks): "sequential" or
// "chunked" replaces the table's choice, "sequential:LANES" also forces wkv7_row_lanes; anything
// else is an InvalidArgument.
Wkv7Kernel choose_wkv7(const vk::DeviceInfo& device, uint32_t longest, const std::string& forced);

// Invocations per state row of the sequential kernel for the head size (a table in wkv7.cpp,
// bounded by the device's subgroup and workgroup sizes), or LANES of a `forced` "sequential:LANES"
// (InvalidArgument where the device or head size cannot take it).
uint32_t wkv7_row_lanes(const vk::DeviceInfo& device, uint32_t head_size, const std::string& forced);

// Floats of scratch the chunked kernel needs for max_tokens tokens (0 for the sequential one).
uint64_t wkv7_scratch_floats(uint32_t max_tokens, uint32_t n_embd, uint32_t head_size);

// rkv: [3, T, C] (r, k, v); lora: [4, T, C] (w, a, v, g LoRA outputs); v_first: [T, C], written
// when layer0 else read; out: [T, C]. `state` addresses this layer's wkv [H, N, N]. `scratch`
// holds at least wkv7_scratch_floats(T, C, N) floats.
void wkv7(vk::Recorder& rec, const vk::BufferRange& rkv, const vk::BufferRange& lora, const VectorTable& vectors,
          const Wkv7Rows& rows, bool layer0, const vk::BufferRange& v_first, const StateView& state,
          const BatchView& batch, uint32_t head_size, const vk::BufferRange& out, const vk::BufferRange& scratch);

}  // namespace rwkv::ops
