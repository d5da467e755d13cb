// Turns a stream of bytes (token pieces) into text without ever splitting a UTF-8 character.
// Invalid bytes become U+FFFD, one per maximal invalid subpart, as Python's errors="replace" does.
#pragma once
#include <string>
#include <string_view>

namespace rwkv {

class Utf8StreamDecoder {
 public:
  // Returns the complete characters available so far; holds back an incomplete tail.
  std::string push(std::string_view bytes);
  // Returns what is held back, with an incomplete tail replaced by U+FFFD.
  std::string flush();
  bool pending() const { return !pending_.empty(); }

 private:
  std::string drain(bool final);
  std::string pending_;
};

}  // namespace rwkv
