#include "ops/get_rows.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "ops/weight_variant.hpp"
#include "layouts.h"

namespace rwkv::ops {
namespace {

constexpr uint32_t k_workgroup = 64;

using Push = gpu::GetRowsPush;  // shaders/include/layouts.h

}  // namespace

bool gpu_weight_type(gguf::GgmlType type) { return find_variant(k_get_rows_variants, type) != nullptr; }

void get_rows(vk::Recorder& rec, const TableView& table, const vk::BufferRange& ids, const vk::BufferRange& out,
              uint32_t n_tokens, uint64_t max_chunk_bytes) {
  const uint64_t row_bytes = gguf::row_bytes(table.type, table.cols);
  if (table.data.bytes() < row_bytes * table.rows) throw InvalidArgument("[get_rows] table buffer is smaller than its shape");
  if (ids.bytes() < uint64_t(n_tokens) * 4 || out.bytes() < uint64_t(n_tokens) * table.cols * 4)
    throw InvalidArgument("[get_rows] ids or out buffer too small for " + std::to_string(n_tokens) + " tokens");
  if (n_tokens == 0) return;
  const auto& info = rec.device().info();
  const vk::Pipeline& pipeline = rec.device().pipeline({weight_variant(k_get_rows_variants, table.type, "get_rows"), 3, sizeof(Push), {k_workgroup}});

  // Rows per chunk: as many as maxStorageBufferRange allows, with every chunk's byte offset a
  // multiple of minStorageBufferOffsetAlignment.
  const uint64_t align = info.min_storage_buffer_offset_alignment;
  const uint64_t row_step = align / std::gcd(align, row_bytes);
  const uint64_t limit = max_chunk_bytes ? std::min(max_chunk_bytes, info.max_storage_buffer_range) : info.max_storage_buffer_range;
  uint64_t chunk_rows = limit / row_bytes / row_step * row_step;
  if (chunk_rows == 0) throw InvalidArgument("[get_rows] one table row exceeds maxStorageBufferRange");
  chunk_rows = std::min<uint64_t>(chunk_rows, table.rows);
  if ((table.data.offset % align) != 0) throw InvalidArgument("[get_rows] table offset is misaligned");

  const uint32_t max_y = info.max_workgroup_count[1];
  const uint32_t groups_x = (table.cols + k_workgroup - 1) / k_workgroup;
  for (uint64_t row = 0; row < table.rows; row += chunk_rows) {
    const uint64_t count = std::min<uint64_t>(chunk_rows, table.rows - row);
    const vk::BufferRange chunk{table.data.buffer, table.data.offset + row * row_bytes, count * row_bytes};
    for (uint32_t t0 = 0; t0 < n_tokens; t0 += max_y) {
      const Push push{n_tokens, table.cols, uint32_t(row_bytes), uint32_t(row), uint32_t(count), t0};
      rec.dispatch(pipeline, {vk::reads(chunk), vk::reads(ids), vk::writes(out)}, push,
                   {groups_x, std::min(max_y, n_tokens - t0), 1});
    }
  }
}

}  // namespace rwkv::ops
