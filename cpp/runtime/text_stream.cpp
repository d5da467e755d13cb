#include "runtime/text_stream.hpp"

#include <algorithm>

namespace rwkv::runtime {

TextStream::TextStream(std::shared_ptr<const WorldTokenizer> tokenizer, std::vector<std::string> stop)
    : tokenizer_(std::move(tokenizer)) {
  for (auto& s : stop)
    if (!s.empty()) stop_.push_back(std::move(s));
}

std::string TextStream::push(uint32_t token) {
  if (!tokenizer_ || stopped_) return {};
  pending_ += decoder_.push(tokenizer_->token_bytes(token));
  return emit(false);
}

std::string TextStream::flush() {
  if (!tokenizer_ || stopped_) return {};
  pending_ += decoder_.flush();
  return emit(true);
}

// Works on UTF-8 bytes: the pending text holds whole characters only, so a stop string's first
// byte found there, or a stop-string prefix that ends the text, is always at a character boundary.
std::string TextStream::emit(bool final) {
  size_t hit = std::string::npos;
  for (const auto& s : stop_) hit = std::min(hit, pending_.find(s));
  size_t cut = pending_.size();
  if (hit != std::string::npos) {
    cut = hit;
    stopped_ = true;
  } else if (!final) {
    // Keep the longest end of the text that starts some stop string.
    size_t keep = 0;
    for (const auto& s : stop_)
      for (size_t k = std::min(s.size() - 1, pending_.size()); k > keep; --k)
        if (pending_.compare(pending_.size() - k, k, s, 0, k) == 0) {
          keep = k;
          break;
        }
    cut = pending_.size() - keep;
  }
  std::string piece = pending_.substr(0, cut);
  pending_ = stopped_ ? std::string() : pending_.substr(cut);
  return piece;
}

}  // namespace rwkv::runtime
