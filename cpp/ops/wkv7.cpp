#include "ops/wkv7.hpp"

#include <string>

namespace rwkv::ops {
namespace {

struct Push {
  uint32_t T, C, layer0;
  uint32_t w0_row, a0_row, v0_row, k_k_row, k_a_row, r_k_row, ln_x_w_row, ln_x_b_row;
  uint32_t state_offset, state_stride;
};
static_assert(sizeof(Push) == 52);

}  // namespace

void wkv7(vk::Recorder& rec, const vk::BufferRange& rkv, const vk::BufferRange& lora, const VectorTable& vectors,
          const Wkv7Rows& rows, bool layer0, const vk::BufferRange& v_first, const StateView& state,
          const BatchView& batch, uint32_t head_size, const vk::BufferRange& out) {
  const uint32_t T = batch.n_tokens, C = vectors.C;
  if (head_size == 0 || C % head_size) throw InvalidArgument("[wkv7] n_embd must be a multiple of the head size");
  if (head_size > rec.device().info().max_workgroup_invocations)
    throw InvalidArgument("[wkv7] head size " + std::to_string(head_size) + " exceeds the device's workgroup size");
  const uint64_t tc = uint64_t(T) * C * 4;
  if (rkv.bytes() < 3 * tc || lora.bytes() < 4 * tc || v_first.bytes() < tc || out.bytes() < tc)
    throw InvalidArgument("[wkv7] a buffer is smaller than its [*, T, C] shape");
  const auto& pipeline = rec.device().pipeline({ShaderId::wkv7, 7, sizeof(Push), {head_size}});
  const Push push{T, C, layer0 ? 1u : 0u, rows.w0, rows.a0, rows.v0, rows.k_k, rows.k_a, rows.r_k,
                  rows.ln_x_w, rows.ln_x_b, state.offset, state.stride};
  rec.dispatch(pipeline,
               {vk::reads(rkv), vk::reads(lora), vk::reads(vectors.buffer), layer0 ? vk::writes(v_first) : vk::reads(v_first),
                vk::updates(state.buffer), vk::reads(batch.seqs), vk::writes(out)},
               push, {batch.n_seqs, C / head_size, 1});
}

}  // namespace rwkv::ops
