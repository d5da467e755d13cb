// Tokenizer pieces with known answers; parity with the official tokenizer is in
// tests/python/test_tokenizer_parity.py.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "test_helpers.hpp"
#include "tokenizer/utf8_stream.hpp"
#include "tokenizer/world_tokenizer.hpp"

using namespace rwkv;

TEST(Unescape, PythonLiterals) {
  EXPECT_EQ(unescape_python_literal("a\\nb\\t\\\\\\'", false), "a\nb\t\\'");
  EXPECT_EQ(unescape_python_literal("\\xe4", false), "\xc3\xa4");  // str: U+00E4 as UTF-8
  EXPECT_EQ(unescape_python_literal("\\xe4", true), "\xe4");       // bytes: the raw byte
  EXPECT_EQ(unescape_python_literal("\\u2002", false), "\xe2\x80\x82");
  EXPECT_EQ(unescape_python_literal("\\U0001F600", false), "\xf0\x9f\x98\x80");
  EXPECT_EQ(unescape_python_literal("\\q", false), "\\q");
  EXPECT_THROW(unescape_python_literal("\\x4", true), TokenizerError);
}

TEST(WorldTokenizer, VocabFileRoundTrip) {
  const auto tok = WorldTokenizer::from_vocab_file(test::shared_model("rwkv_vocab_v20230424.txt"));
  EXPECT_EQ(tok.vocab_size(), 65530u);
  const std::string text = "Hello, world! \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80\n\n\x01\xff";
  const auto ids = tok.encode(text);
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_EQ(tok.encode("\n\n"), std::vector<uint32_t>{261});  // the spec's eot token
  EXPECT_LT(ids.size(), text.size());
  EXPECT_TRUE(tok.encode("").empty());
  EXPECT_THROW(tok.token_bytes(70000), TokenizerError);
}

// Hostile vocab files (the native fuzz target's findings): an ID with bytes after its digits,
// and an id far beyond the lines read (a vocabulary of millions of empty tokens: 12 s under ASan).
TEST(WorldTokenizer, RefusesMalformedAndSparseIds) {
  const auto path = std::filesystem::temp_directory_path() / "rwkv_gpu_bad_vocab.txt";
  for (const std::string text : {std::string("1 '\\x01' 1\n6888888\xff\xff\xff" "978 '\\x05' 1\n"), std::string("1 'a' 1\n6888888 'b' 1\n"),
                                 std::string("1 'a' 1x\n")}) {
    std::ofstream(path, std::ios::binary) << text;
    EXPECT_THROW(WorldTokenizer::from_vocab_file(path), TokenizerError) << text;
  }
  std::ofstream(path, std::ios::binary) << "3 'c' 1\n1 'a' 1\n2 'b' 1\n";  // any order, dense
  EXPECT_EQ(WorldTokenizer::from_vocab_file(path).vocab_size(), 4u);
  std::filesystem::remove(path);
}

TEST(Utf8Stream, NeverSplitsACharacter) {
  Utf8StreamDecoder d;
  EXPECT_EQ(d.push("a\xe4"), "a");
  EXPECT_EQ(d.push("\xbd"), "");
  EXPECT_EQ(d.push("\xa0!"), "\xe4\xbd\xa0!");
  EXPECT_FALSE(d.pending());
  EXPECT_EQ(d.push("\xf0\x9f"), "");
  EXPECT_EQ(d.flush(), "\xef\xbf\xbd");  // an incomplete tail at the end is one U+FFFD
}

TEST(Utf8Stream, InvalidBytesBecomeReplacement) {
  Utf8StreamDecoder d;
  EXPECT_EQ(d.push("\xff" "a"), "\xef\xbf\xbd" "a");
  EXPECT_EQ(d.push("\xe4\xbd" "b"), "\xef\xbf\xbd" "b");  // maximal subpart: one U+FFFD
  EXPECT_EQ(d.push("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogates are invalid
}
