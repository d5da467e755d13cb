// Every test binary run fails if the Vulkan validation layers said anything.
#include <gtest/gtest.h>

#include "vk/validation.hpp"

namespace {
class ValidationSilence : public ::testing::Environment {
 public:
  void TearDown() override {
    EXPECT_EQ(rwkv::vk::validation_message_count(), 0u) << "Vulkan validation layers reported problems (see stderr)";
  }
};
}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new ValidationSilence);
  return RUN_ALL_TESTS();
}
