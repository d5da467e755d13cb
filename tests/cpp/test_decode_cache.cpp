// The model's cache of recorded decode steps must not keep a dropped state alive: a recording
// holds the buffers it binds (the GPU may run it again), so the step recorded for a state is
// dropped at the model's next call once that state is gone, and the state's memory is freed.
#include <gtest/gtest.h>

#include "runtime/model.hpp"
#include "test_helpers.hpp"

namespace rwkv {

TEST(DecodeCache, ADroppedStateIsFreedAtTheNextCall) {
  runtime::Model model(test::shared_model("tiny-rwkv7-834K-F32.gguf"), "", {}, 64, ops::Precision::Exact);
  auto& memory = model.device()->memory();
  const std::vector<uint32_t> token = {17};
  auto kept = model.new_state();
  model.run(token, *kept, runtime::LogitsMode::Last);  // records and caches the decode step of `kept`
  const uint64_t before = memory.bytes_in_use();
  auto dropped = model.new_state();
  const uint64_t state_bytes = memory.bytes_in_use() - before;
  ASSERT_GT(state_bytes, 0u);
  model.run(token, *dropped, runtime::LogitsMode::Last);  // a second cached step, holding `dropped`'s buffer
  model.run(token, *dropped, runtime::LogitsMode::Last);  // replayed
  dropped.reset();
  EXPECT_EQ(memory.bytes_in_use(), before + state_bytes);  // still held by its recording
  model.run(token, *kept, runtime::LogitsMode::Last);      // the next call drops that recording
  EXPECT_EQ(memory.bytes_in_use(), before);
}

}  // namespace rwkv
