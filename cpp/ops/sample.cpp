#include "ops/sample.hpp"

namespace rwkv::ops {

void sample(vk::Recorder& rec, const vk::BufferRange& logits, const vk::BufferRange& params, uint32_t n_rows,
            const vk::BufferRange& occurrence, const vk::BufferRange& token_weights, uint32_t V,
            const vk::BufferRange& ids) {
  if (n_rows == 0) return;
  if (params.bytes() < uint64_t(n_rows) * sizeof(SampleRow) || ids.bytes() < uint64_t(n_rows) * 4 ||
      token_weights.bytes() < uint64_t(V) * 4 || occurrence.bytes() < uint64_t(V) * 4)
    throw InvalidArgument("[sample] a buffer is smaller than its shape");
  // As many invocations as the device allows, up to 1024 (a power of two: the argmax reduces by
  // halves): one workgroup walks a whole row of logits ~10 times, latency-bound, so more warps
  // help. Its shared memory is about 45 bytes per invocation. CPU devices (lavapipe) run a
  // workgroup's invocations in turn: 256 there.
  uint32_t wg = rec.device().info().type == "cpu" ? 256 : 1024;
  while (wg > 32 && (wg > rec.device().info().max_workgroup_invocations ||
                     45 * wg > rec.device().info().max_compute_shared_memory_size))
    wg /= 2;
  const auto& pipeline = rec.device().pipeline({ShaderId::sample, 5, sizeof(uint32_t), {wg}});
  rec.dispatch(pipeline,
               {vk::reads(logits), vk::reads(params), vk::updates(occurrence), vk::reads(token_weights), vk::writes(ids)},
               V, {n_rows, 1, 1});
}

}  // namespace rwkv::ops
