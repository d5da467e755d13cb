#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "gguf/file.hpp"
#include "test_helpers.hpp"

using namespace rwkv;

TEST(GGUFReader, TinyModelTableAndMetadata) {
  const gguf::File f(test::shared_model("tiny-rwkv7-834K-F32.gguf"));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.tensors().size(), 342u);
  EXPECT_EQ(f.at("general.architecture").as_string(), "rwkv7");
  EXPECT_EQ(f.at("rwkv7.block_count").as_uint(), 12u);
  const auto& emb = f.tensor("token_embd.weight");
  EXPECT_EQ(emb.ne, (std::vector<uint64_t>{64, 256}));
  EXPECT_EQ(emb.type, gguf::GgmlType::F32);
  const auto& lerp = f.tensor("blk.3.time_mix_lerp_fused.weight");
  EXPECT_EQ(lerp.ne, (std::vector<uint64_t>{64, 1, 1, 6}));
  EXPECT_EQ(f.tensor_data(emb).size(), 64u * 256u * 4u);
  EXPECT_EQ(f.at("tokenizer.ggml.tokens").as_array().items.size(), 256u);
}

TEST(GGUFReader, TruncatedCopyRaisesGGUFError) {
  const auto src = test::shared_model("tiny-rwkv7-834K-F32.gguf");
  std::ifstream in(src, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 5000u) << "test data missing: " << src;
  const auto path = std::filesystem::temp_directory_path() / "rwkv_gpu_truncated.gguf";
  for (size_t cut : {size_t(0), size_t(3), size_t(7), size_t(23), size_t(100), size_t(5000), bytes.size() - 1}) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(cut));
    EXPECT_THROW(gguf::File{path}, GGUFError) << "cut at " << cut;
  }
  std::filesystem::remove(path);
}

TEST(GGUFReader, MissingFileRaisesGGUFError) { EXPECT_THROW(gguf::File("/nonexistent/x.gguf"), GGUFError); }
