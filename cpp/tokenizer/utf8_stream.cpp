#include "tokenizer/utf8_stream.hpp"

namespace rwkv {
namespace {

constexpr std::string_view k_replacement = "\xEF\xBF\xBD";

// Length of the sequence a lead byte starts and the allowed range of its second byte (Unicode
// Table 3-7: no overlongs, no surrogates, nothing above U+10FFFF); 0 for an invalid lead.
int sequence_length(unsigned char lead, unsigned char& lo, unsigned char& hi) {
  lo = 0x80;
  hi = 0xBF;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
    return 4;
  }
  return 0;
}

}  // namespace

std::string Utf8StreamDecoder::push(std::string_view bytes) {
  pending_.append(bytes);
  return drain(false);
}

std::string Utf8StreamDecoder::flush() { return drain(true); }

std::string Utf8StreamDecoder::drain(bool final) {
  std::string out;
  size_t i = 0;
  const size_t n = pending_.size();
  while (i < n) {
    const auto lead = static_cast<unsigned char>(pending_[i]);
    unsigned char lo, hi;
    const int len = sequence_length(lead, lo, hi);
    if (len == 0) {
      out += k_replacement;
      ++i;
      continue;
    }
    int valid = 0;  // continuation bytes that fit
    while (valid < len - 1 && i + 1 + valid < n) {
      const auto c = static_cast<unsigned char>(pending_[i + 1 + valid]);
      const unsigned char l = valid == 0 ? lo : 0x80, h = valid == 0 ? hi : 0xBF;
      if (c < l || c > h) break;
      ++valid;
    }
    if (valid == len - 1) {
      out.append(pending_, i, len);
      i += len;
    } else if (i + 1 + valid == n && !final) {
      break;  // an incomplete character at the end: wait for more bytes
    } else {
      out += k_replacement;
      i += 1 + valid;
    }
  }
  pending_.erase(0, i);
  return out;
}

}  // namespace rwkv
