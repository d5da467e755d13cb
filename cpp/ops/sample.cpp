#include "ops/sample.hpp"

namespace rwkv::ops {

void sample(vk::Recorder& rec, const vk::BufferRange& logits, const vk::BufferRange& params, uint32_t n_rows,
            const vk::BufferRange& occurrence, const vk::BufferRange& token_weights, uint32_t V,
            const vk::BufferRange& ids) {
  if (n_rows == 0) return;
  if (params.bytes() < uint64_t(n_rows) * sizeof(SampleRow) || ids.bytes() < uint64_t(n_rows) * 4 ||
      token_weights.bytes() < uint64_t(V) * 4 || occurrence.bytes() < uint64_t(V) * 4)
    throw InvalidArgument("[sample] a buffer is smaller than its shape");
  // 256 invocations where the device allows (a power of two: the argmax reduces by halves); the
  // draw walks V / 256 tokens serially.
  uint32_t wg = 256;
  while (wg > rec.device().info().max_workgroup_invocations) wg /= 2;
  const auto& pipeline = rec.device().pipeline({ShaderId::sample, 5, sizeof(uint32_t), {wg}});
  rec.dispatch(pipeline,
               {vk::reads(logits), vk::reads(params), vk::updates(occurrence), vk::reads(token_weights), vk::writes(ids)},
               V, {n_rows, 1, 1});
}

}  // namespace rwkv::ops
