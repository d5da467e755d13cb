// libFuzzer target for the World vocab file parser (tokenizer/world_tokenizer.cpp: lines of
// "ID REPR LEN", Python str / bytes literals), coverage-instrumented under AddressSanitizer and
// UBSan: the file is loaded, a text is encoded and decoded, and the input is also unescaped as a
// literal body directly. Only rwkv::Error may escape the parser; anything else is a finding.
#include <cstdint>
#include <string_view>

#include "common/error.hpp"
#include "fuzz_input.hpp"
#include "tokenizer/world_tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rwkv;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (const bool is_bytes : {false, true}) {
    try { (void)unescape_python_literal(bytes, is_bytes); } catch (const Error&) {}
  }
  try {
    const auto tok = WorldTokenizer::from_vocab_file(fuzz::as_file(data, size));
    const auto ids = tok.encode("Hello, \xe4\xb8\x96\xe7\x95\x8c! 123\n\n");
    if (tok.decode(ids).empty() && !ids.empty()) abort();
    for (uint32_t id = 0; id < tok.vocab_size() && id < 512; ++id) (void)tok.token_bytes(id);
  } catch (const Error&) {
  }
  return 0;
}
