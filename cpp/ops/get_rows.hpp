// Embedding gather on the GPU: rows of a (possibly quantized) table selected by token ids,
// dequantized to f32. Tables larger than maxStorageBufferRange are bound in row chunks.
#pragma once
#include <cstdint>

#include "gguf/ggml_types.hpp"
#include "vk/recorder.hpp"

namespace rwkv::ops {

struct TableView {
  vk::BufferRange data;  // rows * row_bytes(type, cols) bytes
  gguf::GgmlType type;
  uint32_t rows;
  uint32_t cols;
};

// True when get_rows has a GPU variant for `type`.
bool gpu_weight_type(gguf::GgmlType type);

// out[t, :] = table[ids[t], :] for t < n_tokens; ids (u32) must be < table.rows (checked by callers
// before upload: a shader cannot raise errors). max_chunk_bytes (0: the device's
// maxStorageBufferRange) bounds each bound slice of the table.
void get_rows(vk::Recorder& rec, const TableView& table, const vk::BufferRange& ids, const vk::BufferRange& out,
              uint32_t n_tokens, uint64_t max_chunk_bytes = 0);

}  // namespace rwkv::ops
