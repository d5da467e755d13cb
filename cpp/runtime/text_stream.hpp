// The text of one generated sequence as it streams: token ids to UTF-8 text pieces that never
// split a character, with stop strings held back until it is known whether they complete (a stop
// string may span tokens). What the scheduler puts in each event, so Python only shows it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/utf8_stream.hpp"
#include "tokenizer/world_tokenizer.hpp"

namespace rwkv::runtime {

class TextStream {
 public:
  TextStream() = default;
  // Without a tokenizer there is no text (pieces are empty); empty stop strings are ignored.
  TextStream(std::shared_ptr<const WorldTokenizer> tokenizer, std::vector<std::string> stop);

  // The text a token adds that can be shown now; stopped() once a stop string has appeared (the
  // text ends before it, and later tokens add nothing).
  std::string push(uint32_t token);
  // What is still held back (a possible stop-string start, an incomplete character), at the end.
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::string emit(bool final);

  std::shared_ptr<const WorldTokenizer> tokenizer_;
  std::vector<std::string> stop_;
  Utf8StreamDecoder decoder_;
  std::string pending_;  // decoded, not shown yet
  bool stopped_ = false;
};

}  // namespace rwkv::runtime
