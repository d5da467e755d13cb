#include "ops/sample.hpp"

#include <algorithm>
#include <memory>

#include "vk/device.hpp"

namespace rwkv::ops {
namespace {

// Tokens per chunk on GPUs: at 65,536 tokens 16 workgroups per row (16 tokens per invocation and
// pass). One workgroup walking the whole row took 0.41-0.48 ms a step on the H200. 64 chunks of
// 1,024 tokens took 0.15 ms for one row and 1.06 ms for 64 rows (a 2.9B generate_batch step: 4,096
// workgroups a pass, each summing its buckets for 4 tokens an invocation); 16 chunks took 0.18 and
// 0.42 ms (H100, docs/benchmarks.md, 2026-12-07). The chunks do not depend on the number of rows,
// so that a sequence draws the same tokens alone or in a batch.
constexpr uint32_t k_chunk_tokens = 4096, k_max_chunks = 256;

// Invocations per workgroup: 256 on GPUs (a power of two: the argmax reduces by halves), fewer
// where the device allows fewer or its shared memory is smaller (sample.comp's: 36 bytes per
// invocation and the buckets' 6 x 257 words, rounded up).
// CPU devices (lavapipe) run a workgroup's invocations in turn through each barrier: 64 there
// (this file's tests of draws on lavapipe, 2 cores: 7.9 s at 256, 1.4 at 64, 0.9 at 32, while the
// greedy ones took 1.0, 1.4 and 2.0 s).
uint32_t workgroup_size(const vk::DeviceInfo& info) {
  uint32_t wg = info.type == "cpu" ? 64 : 256;
  const auto shared_bytes = [](uint64_t wg) { return 36 * wg + 4 * 6 * (SAMPLE_BUCKETS + 1) + 64; };
  while (wg > 32 && (wg > info.max_workgroup_invocations || shared_bytes(wg) > info.max_compute_shared_memory_size)) wg /= 2;
  return wg;
}

}  // namespace

uint32_t sample_chunks(const vk::DeviceInfo& device, uint32_t V) {
  if (device.type == "cpu") return 1;
  return std::clamp((V + k_chunk_tokens - 1) / k_chunk_tokens, 1u, std::min(k_max_chunks, workgroup_size(device)));
}

SampleSteps sample_steps(std::span<const SampleRow> rows, uint32_t V) {
  SampleSteps steps{false, false, false};
  for (const auto& r : rows) {
    const bool sampled = r.temperature > 0.0f;
    steps.draw |= sampled;
    steps.search |= sampled && ((r.top_k > 0 && r.top_k < V) || r.top_p < 1.0f);
    steps.remember |= r.penalize != 0;
  }
  return steps;
}

uint64_t sample_scratch_bytes(uint32_t n_rows, uint32_t chunks) { return uint64_t(n_rows) * SAMPLE_SCRATCH_WORDS(chunks) * 4; }

void sample(vk::Recorder& rec, const vk::BufferRange& logits, const vk::BufferRange& params, uint32_t n_rows,
            const vk::BufferRange& occurrence, const vk::BufferRange& token_weights, uint32_t V,
            const vk::BufferRange& ids, SampleOptions options) {
  if (n_rows == 0) return;
  if (params.bytes() < uint64_t(n_rows) * sizeof(SampleRow) || ids.bytes() < uint64_t(n_rows) * 4 ||
      token_weights.bytes() < uint64_t(V) * 4 || occurrence.bytes() < uint64_t(V) * 4)
    throw InvalidArgument("[sample] a buffer is smaller than its shape");
  const auto& info = rec.device().info();
  const uint32_t chunks = options.chunks ? options.chunks : sample_chunks(info, V);
  const uint32_t wg = workgroup_size(info);
  // sample.comp combines the chunks' partials one per invocation.
  if (chunks > V || chunks > wg || n_rows > info.max_workgroup_count[1])
    throw InvalidArgument("[sample] more chunks than tokens or than invocations per workgroup, or more rows than a dispatch holds");
  vk::BufferRange scratch = options.scratch;
  const uint64_t bytes = sample_scratch_bytes(n_rows, chunks);
  if (!scratch.buffer) scratch = {std::make_shared<vk::Buffer>(rec.device().shared_from_this(), bytes, vk::MemoryKind::Device)};
  if (scratch.bytes() < bytes) throw InvalidArgument("[sample] scratch smaller than sample_scratch_bytes");
  auto step = [&](ShaderId shader, uint32_t pass, uint32_t groups) {
    const auto& pipeline = rec.device().pipeline({shader, 6, sizeof(gpu::SamplePush), {wg, chunks}});
    rec.dispatch(pipeline,
                 {vk::reads(logits), vk::reads(params), vk::updates(occurrence), vk::reads(token_weights), vk::updates(ids),
                  vk::updates(scratch)},
                 gpu::SamplePush{V, pass}, {groups, n_rows, 1});
  };
  // sample.comp says what each step leaves for the next.
  const SampleSteps& needed = options.steps;
  step(ShaderId::sample_stats, 0, chunks);
  for (uint32_t pass = 0; needed.search && pass < SAMPLE_SEARCH_PASSES; ++pass) step(ShaderId::sample_search, pass, chunks);
  if (needed.draw) step(ShaderId::sample_draw, 0, chunks);
  step(ShaderId::sample_pick, 0, 1);
  if (needed.remember) step(ShaderId::sample_remember, 0, chunks);
}

}  // namespace rwkv::ops
