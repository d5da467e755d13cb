#include "tokenizer/world_tokenizer.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>

#include "common/error.hpp"
#include "gguf/file.hpp"

namespace rwkv {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | cp >> 6);
    out += char(0x80 | (cp & 63));
  } else if (cp < 0x10000) {
    out += char(0xE0 | cp >> 12);
    out += char(0x80 | ((cp >> 6) & 63));
    out += char(0x80 | (cp & 63));
  } else {
    out += char(0xF0 | cp >> 18);
    out += char(0x80 | ((cp >> 12) & 63));
    out += char(0x80 | ((cp >> 6) & 63));
    out += char(0x80 | (cp & 63));
  }
}

// Token types of tokenizer.ggml.token_type (llama.cpp's llama_token_type).
constexpr int64_t k_control = 3, k_unused = 5;

}  // namespace

std::string unescape_python_literal(std::string_view s, bool is_bytes) {
  std::string out;
  out.reserve(s.size());
  // A code point (str) or a raw byte (bytes).
  auto put = [&](uint32_t v) {
    if (is_bytes) out += char(v & 0xFF);
    else append_utf8(out, v);
  };
  auto hex = [&](size_t& i, int digits) -> uint32_t {
    if (i + digits > s.size()) throw TokenizerError("truncated \\x/\\u escape in '" + std::string(s) + "'");
    uint32_t v = 0;
    for (int d = 0; d < digits; ++d) {
      const int h = hex_value(s[i + d]);
      if (h < 0) throw TokenizerError("bad hex escape in '" + std::string(s) + "'");
      v = v * 16 + uint32_t(h);
    }
    i += digits;
    return v;
  };
  for (size_t i = 0; i < s.size();) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i++];
      continue;
    }
    const char e = s[i + 1];
    i += 2;
    switch (e) {
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case 'x': put(hex(i, 2)); break;
      case 'u': if (is_bytes) { out += "\\u"; } else { put(hex(i, 4)); } break;
      case 'U': if (is_bytes) { out += "\\U"; } else { put(hex(i, 8)); } break;
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = uint32_t(e - '0');
          for (int d = 0; d < 2 && i < s.size() && s[i] >= '0' && s[i] <= '7'; ++d) v = v * 8 + uint32_t(s[i++] - '0');
          put(v);
        } else {  // Python keeps unknown escapes as they are
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

WorldTokenizer WorldTokenizer::from_vocab_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizerError(path.string() + ": cannot open vocab file");
  std::vector<std::string> tokens(1);  // id 0 is not in the file (the GGUF's "<s>")
  std::vector<bool> in_trie(1, false);
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto fail = [&](const std::string& why) {
      throw TokenizerError(path.string() + ":" + std::to_string(line_no) + ": " + why);
    };
    const size_t first = line.find(' '), last = line.rfind(' ');
    if (first == std::string::npos || last <= first) fail("expected 'ID REPR LEN'");
    // Whole decimal fields (from_chars: "12abc" is not 12).
    auto number = [&](std::string_view field, uint64_t& value) {
      const auto r = std::from_chars(field.data(), field.data() + field.size(), value);
      if (field.empty() || r.ec != std::errc() || r.ptr != field.data() + field.size()) fail("bad ID or LEN");
    };
    uint64_t id = 0, len = 0;
    number(std::string_view(line).substr(0, first), id);
    number(std::string_view(line).substr(last + 1), len);
    std::string_view repr(line.data() + first + 1, last - first - 1);
    const bool is_bytes = !repr.empty() && repr[0] == 'b';
    if (is_bytes) repr.remove_prefix(1);
    if (repr.size() < 2 || (repr[0] != '\'' && repr[0] != '"') || repr.back() != repr[0]) fail("bad literal");
    std::string bytes = unescape_python_literal(repr.substr(1, repr.size() - 2), is_bytes);
    if (bytes.size() != len) fail("literal is " + std::to_string(bytes.size()) + " bytes, LEN says " + std::to_string(len));
    if (id == 0 || id > (1u << 24)) fail("token id " + std::to_string(id) + " out of range");
    // Ids are dense (the World file lists 1, 2, ... in order): one far beyond the lines read so
    // far would make a vocabulary of mostly empty tokens (a fuzzed file with id 6888888 took 12 s).
    if (id >= tokens.size() && id > 2 * line_no + 1024)
      fail("token id " + std::to_string(id) + " on line " + std::to_string(line_no) + " leaves most ids before it unused");
    if (id >= tokens.size()) {
      tokens.resize(id + 1);
      in_trie.resize(id + 1, false);
    }
    tokens[id] = std::move(bytes);
    in_trie[id] = true;
  }
  return WorldTokenizer(std::move(tokens), std::move(in_trie));
}

WorldTokenizer WorldTokenizer::from_gguf(const gguf::File& file) {
  const gguf::Value* model = file.find("tokenizer.ggml.model");
  if (!model || model->type != gguf::ValueType::STRING || model->as_string() != "rwkv")
    throw TokenizerError(file.path().string() + ": tokenizer.ggml.model is not \"rwkv\" (not a World tokenizer)");
  const auto& items = file.at("tokenizer.ggml.tokens").as_array().items;
  const gguf::Value* types = file.find("tokenizer.ggml.token_type");
  const gguf::Array* type_array = types ? &types->as_array() : nullptr;
  if (type_array && type_array->items.size() != items.size())
    throw TokenizerError(file.path().string() + ": token_type and tokens differ in length");
  std::vector<std::string> tokens;
  std::vector<bool> in_trie;
  tokens.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].type != gguf::ValueType::STRING) throw TokenizerError("tokenizer.ggml.tokens must hold strings");
    const int64_t type = type_array ? type_array->items[i].as_int() : 1;
    const bool special = type == k_control || type == k_unused;
    tokens.push_back(special ? std::string() : unescape_python_literal(items[i].as_string(), true));
    in_trie.push_back(!special && !tokens.back().empty());
  }
  return WorldTokenizer(std::move(tokens), std::move(in_trie));
}

WorldTokenizer::WorldTokenizer(std::vector<std::string> tokens, std::vector<bool> in_trie) : tokens_(std::move(tokens)) {
  // Build a pointer trie, then flatten it: edges of a node are contiguous and sorted by byte.
  std::vector<std::map<uint8_t, uint32_t>> children(1);
  std::vector<int32_t> token_at(1, -1);
  for (uint32_t id = 0; id < tokens_.size(); ++id) {
    if (!in_trie[id]) continue;
    uint32_t node = 0;
    for (unsigned char b : tokens_[id]) {
      auto it = children[node].find(b);
      if (it == children[node].end()) {
        it = children[node].emplace(b, uint32_t(children.size())).first;
        children.emplace_back();
        token_at.push_back(-1);
      }
      node = it->second;
    }
    if (token_at[node] < 0) token_at[node] = int32_t(id);  // duplicates: the lowest id wins
  }
  nodes_.resize(children.size());
  for (uint32_t n = 0; n < children.size(); ++n) {
    nodes_[n].token = token_at[n];
    nodes_[n].first_edge = uint32_t(edges_.size());
    nodes_[n].n_edges = uint32_t(children[n].size());
    for (auto [b, c] : children[n]) edges_.push_back({b, c});
  }
  for (auto [b, c] : children[0]) root_children_[b] = c;
}

uint32_t WorldTokenizer::child(uint32_t node, uint8_t byte) const {
  if (node == 0) return root_children_[byte];
  const Node& n = nodes_[node];
  const Edge* first = edges_.data() + n.first_edge;
  const Edge* last = first + n.n_edges;
  const Edge* it = std::lower_bound(first, last, byte, [](const Edge& e, uint8_t b) { return e.byte < b; });
  return it != last && it->byte == byte ? it->child : 0;
}

std::vector<uint32_t> WorldTokenizer::encode(std::string_view text) const {
  std::vector<uint32_t> ids;
  ids.reserve(text.size() / 3 + 1);
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t pos = 0;
  while (pos < n) {
    int32_t best = -1;
    size_t best_end = pos;
    uint32_t node = 0;
    for (size_t i = pos; i < n; ++i) {
      node = child(node, s[i]);
      if (node == 0) break;
      if (nodes_[node].token >= 0) {
        best = nodes_[node].token;
        best_end = i + 1;
      }
    }
    if (best < 0)
      throw TokenizerError("byte 0x" + std::string(1, "0123456789abcdef"[s[pos] >> 4]) +
                           std::string(1, "0123456789abcdef"[s[pos] & 15]) + " at offset " + std::to_string(pos) +
                           " has no token in this vocabulary");
    ids.push_back(uint32_t(best));
    pos = best_end;
  }
  return ids;
}

std::string_view WorldTokenizer::token_bytes(uint32_t id) const {
  if (id >= tokens_.size())
    throw TokenizerError("token id " + std::to_string(id) + " is out of range (vocab size " +
                         std::to_string(tokens_.size()) + ")");
  return tokens_[id];
}

std::string WorldTokenizer::decode(std::span<const uint32_t> ids) const {
  std::string out;
  for (uint32_t id : ids) out += token_bytes(id);
  return out;
}

}  // namespace rwkv
