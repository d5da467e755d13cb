// libFuzzer target for the GGUF reader as the engine uses it (coverage-instrumented, under
// AddressSanitizer and UBSan): the file's header, metadata and tensor table (gguf/file.cpp), every
// value read back, the RWKV-7 hyper-parameters and shape checks (model/config.cpp), the
// tokenizer built from its metadata (tokenizer/world_tokenizer.cpp) and the CPU dequantization of
// small tensors (gguf/dequant.cpp). A hostile file may only raise rwkv::Error; anything else (another
// exception, a crash, a sanitizer report, a hang) is a finding.
#include <cstdint>
#include <vector>

#include "common/error.hpp"
#include "fuzz_input.hpp"
#include "gguf/dequant.hpp"
#include "gguf/file.hpp"
#include "model/config.hpp"
#include "tokenizer/world_tokenizer.hpp"

namespace {

using namespace rwkv;

// Reads every scalar the way the engine may (as_uint / as_int / as_float / as_string).
void touch(const gguf::Value& v) {
  try { (void)v.as_uint(); } catch (const Error&) {}
  try { (void)v.as_int(); } catch (const Error&) {}
  try { (void)v.as_float(); } catch (const Error&) {}
  try { (void)v.as_string(); } catch (const Error&) {}
  if (v.type == gguf::ValueType::ARRAY)
    for (const auto& item : v.as_array().items) touch(item);
}

void read(const std::string& path) {
  const gguf::File f(path);
  for (const auto& key : f.keys()) touch(f.at(key));
  std::vector<float> out;
  for (const auto& t : f.tensors()) {
    const auto bytes = f.tensor_data(t);
    if (bytes.size() != t.n_bytes) abort();
    if (t.n_elements() <= (1u << 16)) {
      out.resize(t.n_elements());
      try { gguf::dequantize(t.type, bytes, out); } catch (const Error&) {}
    }
  }
  try { (void)model::Config::from_gguf(f); } catch (const Error&) {}
  const auto tok = WorldTokenizer::from_gguf(f);
  const auto ids = tok.encode("Hello, \xe4\xb8\x96\xe7\x95\x8c! 123\n\n");
  (void)tok.decode(ids);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    read(fuzz::as_file(data, size));
  } catch (const Error&) {
  }
  return 0;
}
