// A GGUF file (versions 2 and 3), memory-mapped and validated as strictly as llama.cpp validates it:
// hostile input raises GGUFError and never over-reads.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gguf/ggml_types.hpp"
#include "gguf/value.hpp"

namespace rwkv::gguf {

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> ne;  // ggml order: ne[0] varies fastest (numpy shape is ne reversed)
  GgmlType type;
  uint64_t offset;  // relative to the data section
  uint64_t n_bytes;
  uint64_t n_elements() const;
};

class MappedFile;

class File {
 public:
  explicit File(const std::filesystem::path& path);
  ~File();
  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute offset of the data section
  uint64_t file_size() const;
  const std::filesystem::path& path() const { return path_; }

  // Keys in file order, and lookup.
  const std::vector<std::string>& keys() const { return key_order_; }
  const Value* find(const std::string& key) const;
  const Value& at(const std::string& key) const;  // GGUFError when missing

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(const std::string& name) const;
  const TensorInfo& tensor(const std::string& name) const;  // GGUFError when missing
  std::span<const uint8_t> tensor_data(const TensorInfo& t) const;

 private:
  std::filesystem::path path_;
  std::unique_ptr<MappedFile> map_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::map<std::string, Value> kv_;
  std::vector<std::string> key_order_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

}  // namespace rwkv::gguf
