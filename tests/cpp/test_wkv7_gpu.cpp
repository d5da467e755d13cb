// GPU suite: the chunked WKV kernel against the sequential one on the device (the CI suite checks
// both against the float64 reference on lavapipe, tests/python/test_wkv_chunked.py): the shared
// tiny model over 300 tokens (19 chunks, the last one partial), logits of every token.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "runtime/model.hpp"
#include "test_helpers.hpp"

namespace rwkv {

std::vector<float> logits_with(const char* wkv, runtime::Model& model, const std::vector<uint32_t>& tokens) {
  ::setenv("RWKV_GPU_WKV", wkv, 1);
  auto state = model.new_state();
  auto out = model.run(tokens, *state, runtime::LogitsMode::All);
  ::unsetenv("RWKV_GPU_WKV");
  return out;
}

TEST(Wkv7Gpu, ChunkedEqualsSequential) {
  runtime::Model model(test::shared_model("tiny-rwkv7-834K-F32.gguf"), "", {}, 300, ops::Precision::Exact);
  std::vector<uint32_t> tokens(300);
  for (uint32_t i = 0; i < tokens.size(); ++i) tokens[i] = (i * 37 + 11) % 256;
  const auto seq = logits_with("sequential", model, tokens), chunked = logits_with("chunked", model, tokens);
  ASSERT_EQ(seq.size(), chunked.size());
  float scale = 1, worst = 0;
  for (size_t i = 0; i < seq.size(); ++i) {
    scale = std::max(scale, std::abs(seq[i]));
    worst = std::max(worst, std::abs(seq[i] - chunked[i]));
  }
  std::printf("[wkv7 chunked vs sequential] max |diff| %.3g, logit scale %.3g\n", worst, scale);
  EXPECT_LE(worst, 1e-5f * scale);
}

}  // namespace rwkv
