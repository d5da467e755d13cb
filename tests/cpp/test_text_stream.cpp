// The text of a generated sequence as the scheduler streams it (runtime/text_stream): byte tokens
// of multi-byte characters arriving one at a time never give a piece with a broken character,
// stop strings spanning tokens end the text before them, a stop-string prefix is held back until
// it is known not to complete, and the rest comes out at the end. References: the strings
// themselves (the World vocabulary's ids 1..256 are the single bytes 0..255).
#include <gtest/gtest.h>

#include "runtime/text_stream.hpp"
#include "test_helpers.hpp"

namespace rwkv {
namespace {

std::shared_ptr<const WorldTokenizer> world() {
  static const auto tok = std::make_shared<const WorldTokenizer>(WorldTokenizer::from_vocab_file(test::shared_model("rwkv_vocab_v20230424.txt")));
  return tok;
}

std::vector<uint32_t> byte_tokens(const std::string& s) {
  std::vector<uint32_t> ids;
  for (unsigned char c : s) ids.push_back(uint32_t(c) + 1);
  return ids;
}

bool valid_utf8(const std::string& s) { return Error::printable(s) == s; }

}  // namespace

TEST(TextStream, StopStringAcrossSplitCharacters) {
  const std::string text = "na\xc3\xafve \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 end";  // naïve 中文 😀 end
  runtime::TextStream t(world(), {"\xf0\x9f\x98\x80 e", ""});
  std::string shown;
  for (uint32_t id : byte_tokens(text)) {
    const std::string piece = t.push(id);
    EXPECT_TRUE(valid_utf8(piece)) << piece;
    shown += piece;
  }
  shown += t.flush();
  EXPECT_TRUE(t.stopped());
  EXPECT_EQ(shown, text.substr(0, text.find("\xf0\x9f\x98\x80")));
}

TEST(TextStream, HeldBackPrefixComesOutWhenItDoesNotComplete) {
  runtime::TextStream t(world(), {"abc"});
  EXPECT_EQ(t.push(byte_tokens("x")[0]), "x");
  EXPECT_EQ(t.push(byte_tokens("a")[0]), "");   // may start "abc"
  EXPECT_EQ(t.push(byte_tokens("b")[0]), "");
  EXPECT_EQ(t.push(byte_tokens("d")[0]), "abd");  // it did not
  EXPECT_EQ(t.push(byte_tokens("a")[0]), "");
  EXPECT_EQ(t.flush(), "a");  // the end: what was held back
  EXPECT_FALSE(t.stopped());
}

TEST(TextStream, MultiByteTokensAndTheEarliestStopString) {
  const auto tok = world();
  const std::string text = "The quick brown fox jumps over the lazy dog";
  runtime::TextStream t(tok, {"lazy", "fox jumps"});
  std::string shown;
  for (uint32_t id : tok->encode(text)) shown += t.push(id);
  EXPECT_TRUE(t.stopped());
  EXPECT_EQ(shown + t.flush(), "The quick brown ");
  EXPECT_EQ(t.push(tok->encode("more")[0]), "");  // nothing after the stop
}

TEST(TextStream, IncompleteCharacterAtTheEndAndNoTokenizer) {
  runtime::TextStream t(world(), {});
  EXPECT_EQ(t.push(0xe4 + 1), "");
  EXPECT_EQ(t.flush(), "\xef\xbf\xbd");  // U+FFFD, as Python's errors="replace"
  runtime::TextStream none(nullptr, {"x"});
  EXPECT_EQ(none.push(5), "");
  EXPECT_EQ(none.flush(), "");
}

}  // namespace rwkv
