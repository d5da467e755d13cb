// The RWKV World tokenizer: greedy longest match over a byte trie of all tokens
// (../shared/docs/rwkv7-spec.md section 3), loaded from the vocab text file or from a GGUF.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rwkv::gguf {
class File;
}

namespace rwkv {

class WorldTokenizer {
 public:
  // The vocab text file: one token a line, "ID REPR LEN", REPR a Python str or bytes literal.
  static WorldTokenizer from_vocab_file(const std::filesystem::path& path);
  // tokenizer.ggml.tokens (each `repr(bytes)[2:-1]`); CONTROL and UNUSED tokens are left out of the
  // trie (as the official tokenizer has no "<s>" or "[PADi]" text) and decode to nothing.
  static WorldTokenizer from_gguf(const gguf::File& file);

  std::vector<uint32_t> encode(std::string_view bytes) const;
  std::string decode(std::span<const uint32_t> ids) const;  // raw bytes, possibly invalid UTF-8
  uint32_t vocab_size() const { return static_cast<uint32_t>(tokens_.size()); }
  std::string_view token_bytes(uint32_t id) const;

 private:
  struct Node {
    int32_t token = -1;  // token ending here, -1 if none
    uint32_t first_edge = 0;
    uint32_t n_edges = 0;
  };
  struct Edge {
    uint8_t byte;
    uint32_t child;
  };
  explicit WorldTokenizer(std::vector<std::string> tokens, std::vector<bool> in_trie);
  uint32_t child(uint32_t node, uint8_t byte) const;  // 0 when absent (the root is never a child)

  std::vector<std::string> tokens_;
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  uint32_t root_children_[256] = {};
};

// Decodes a Python string or bytes literal body (without quotes): \\ \' \" \n \t \r \a \b \f \v,
// \xhh, octal, and for str also \uXXXX and \UXXXXXXXX; str code points come out as UTF-8.
std::string unescape_python_literal(std::string_view body, bool is_bytes);

}  // namespace rwkv
