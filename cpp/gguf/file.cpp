#include "gguf/file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"
#include "common/fp16.hpp"

namespace rwkv::gguf {

class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below); it
    // changes nothing for regular files.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) throw GGUFError(path.string() + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw GGUFError(path.string() + ": not a regular file");
    }
    size_ = static_cast<uint64_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
      if (p == MAP_FAILED) {
        ::close(fd_);
        throw GGUFError(path.string() + ": mmap failed: " + std::strerror(errno));
      }
      data_ = static_cast<const uint8_t*>(p);
    }
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  int fd_ = -1;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

namespace {

constexpr uint64_t k_max_name = 64;  // ggml's GGML_MAX_NAME, terminator included
constexpr uint32_t k_max_dims = 4;

// A bounds-checked little-endian reader over the mapped bytes.
class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size, std::string file) : data_(data), size_(size), file_(std::move(file)) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw GGUFError(file_ + ": " + what + " (at byte " + std::to_string(pos_) + ")");
  }
  void need(uint64_t n, const char* what) const {
    if (n > remaining()) fail(std::string("truncated file while reading ") + what);
  }
  template <class T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v = load_le<T>(data_ + pos_);
    pos_ += sizeof(T);
    return v;
  }
  std::string read_string(const char* what) {
    const auto n = read<uint64_t>(what);
    if (n > remaining()) fail(std::string(what) + " of length " + std::to_string(n) + " runs past the end of the file");
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string file_;
};

uint64_t min_encoded_size(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: case ValueType::STRING: return 8;
    case ValueType::ARRAY: return 12;
  }
  return 1;
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::F64); }

Value read_scalar(Cursor& c, ValueType t) {
  switch (t) {
    case ValueType::U8: return {t, uint64_t(c.read<uint8_t>("u8"))};
    case ValueType::I8: return {t, int64_t(c.read<int8_t>("i8"))};
    case ValueType::U16: return {t, uint64_t(c.read<uint16_t>("u16"))};
    case ValueType::I16: return {t, int64_t(c.read<int16_t>("i16"))};
    case ValueType::U32: return {t, uint64_t(c.read<uint32_t>("u32"))};
    case ValueType::I32: return {t, int64_t(c.read<int32_t>("i32"))};
    case ValueType::F32: return {t, double(c.read<float>("f32"))};
    case ValueType::BOOL: return {t, c.read<uint8_t>("bool") != 0};
    case ValueType::STRING: return {t, c.read_string("string value")};
    case ValueType::U64: return {t, c.read<uint64_t>("u64")};
    case ValueType::I64: return {t, c.read<int64_t>("i64")};
    case ValueType::F64: return {t, c.read<double>("f64")};
    case ValueType::ARRAY: break;
  }
  c.fail("nested arrays are not allowed in GGUF");
}

Value read_value(Cursor& c, ValueType t) {
  if (t != ValueType::ARRAY) return read_scalar(c, t);
  const auto elem = c.read<uint32_t>("array element type");
  if (!valid_value_type(elem)) c.fail("unknown array element type " + std::to_string(elem));
  const auto et = static_cast<ValueType>(elem);
  if (et == ValueType::ARRAY) c.fail("nested arrays are not allowed in GGUF");
  const auto n = c.read<uint64_t>("array length");
  if (n > c.remaining() / min_encoded_size(et))
    c.fail("array of " + std::to_string(n) + " elements cannot fit in the file");
  Array a{et, {}};
  a.items.reserve(n);
  for (uint64_t i = 0; i < n; ++i) a.items.push_back(read_scalar(c, et));
  return {t, std::move(a)};
}

uint64_t pad_to(uint64_t x, uint64_t align) { return (x + align - 1) / align * align; }

}  // namespace

uint64_t TensorInfo::n_elements() const {
  uint64_t n = 1;
  for (auto d : ne) n *= d;
  return n;
}

File::File(const std::filesystem::path& path) : path_(path), map_(std::make_unique<MappedFile>(path)) {
  Cursor c(map_->data(), map_->size(), path.string());

  const auto magic = c.read<uint32_t>("magic");
  if (std::memcmp(&magic, "GGUF", 4) != 0) c.fail("bad magic: not a GGUF file");
  version_ = c.read<uint32_t>("version");
  if (version_ != 2 && version_ != 3)
    c.fail("unsupported GGUF version " + std::to_string(version_) + " (supported: 2, 3)");
  const auto n_tensors = c.read<uint64_t>("tensor count");
  const auto n_kv = c.read<uint64_t>("metadata count");
  // Each tensor info takes at least 24 bytes, each key/value pair at least 14: larger counts are lies.
  // Each entry takes at least 24 (tensor) or 14 (metadata) bytes of what follows the header.
  if (n_tensors > c.remaining() / 24)
    c.fail(std::to_string(n_tensors) + " tensors cannot fit in the " + std::to_string(c.remaining()) +
           " bytes after the header (a truncated file, or a corrupt count)");
  if (n_kv > c.remaining() / 14)
    c.fail(std::to_string(n_kv) + " metadata entries cannot fit in the " + std::to_string(c.remaining()) +
           " bytes after the header (a truncated file, or a corrupt count)");

  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.read_string("metadata key");
    if (key.empty()) c.fail("empty metadata key");
    const auto type = c.read<uint32_t>("metadata value type");
    if (!valid_value_type(type)) c.fail("unknown value type " + std::to_string(type) + " for key '" + key + "'");
    Value v = read_value(c, static_cast<ValueType>(type));
    if (kv_.count(key)) c.fail("duplicate metadata key '" + key + "'");
    key_order_.push_back(key);
    kv_.emplace(std::move(key), std::move(v));
  }

  if (const Value* a = find("general.alignment")) {
    if (a->type != ValueType::U32) c.fail("general.alignment must be a u32");
    const uint64_t al = a->as_uint();
    if (al == 0 || (al & (al - 1)) != 0) c.fail("general.alignment " + std::to_string(al) + " is not a power of two");
    alignment_ = static_cast<uint32_t>(al);
  }

  tensors_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo t;
    t.name = c.read_string("tensor name");
    if (t.name.size() >= k_max_name) c.fail("tensor name '" + t.name.substr(0, 80) + "' is longer than 63 bytes");
    if (tensor_index_.count(t.name)) c.fail("duplicate tensor name '" + t.name + "'");
    const auto n_dims = c.read<uint32_t>("tensor dimension count");
    if (n_dims > k_max_dims) c.fail("tensor '" + t.name + "' has " + std::to_string(n_dims) + " dimensions (at most 4)");
    uint64_t n_elem = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto ne = c.read<int64_t>("tensor shape");
      if (ne < 0) c.fail("tensor '" + t.name + "' has a negative dimension");
      if (ne > 0 && n_elem > uint64_t(INT64_MAX) / uint64_t(ne)) c.fail("tensor '" + t.name + "' has too many elements");
      n_elem *= uint64_t(ne);
      t.ne.push_back(uint64_t(ne));
    }
    const auto type_id = c.read<uint32_t>("tensor type");
    const auto tr = ggml_type_traits(type_id);
    if (!tr) c.fail("tensor '" + t.name + "' has unknown ggml type " + std::to_string(type_id));
    t.type = tr->type;
    if (!t.ne.empty() && t.ne[0] % tr->block_elements != 0)
      c.fail("tensor '" + t.name + "': row length " + std::to_string(t.ne[0]) + " is not a multiple of the " +
             std::string(tr->name) + " block size " + std::to_string(tr->block_elements));
    t.n_bytes = n_elem / tr->block_elements * tr->block_bytes;
    t.offset = c.read<uint64_t>("tensor offset");
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  // llama.cpp requires each tensor to start exactly where the previous one's padded data ends.
  uint64_t expected = 0;
  for (const auto& t : tensors_) {
    if (t.offset != expected)
      c.fail("tensor '" + t.name + "' has data offset " + std::to_string(t.offset) + ", expected " + std::to_string(expected));
    expected = pad_to(expected + t.n_bytes, alignment_);
  }
  data_offset_ = pad_to(c.pos(), alignment_);
  for (const auto& t : tensors_) {
    if (data_offset_ > map_->size() || t.offset > map_->size() - data_offset_ ||
        t.n_bytes > map_->size() - data_offset_ - t.offset)
      throw GGUFError(path.string() + ": tensor '" + t.name + "' data (" + std::to_string(t.n_bytes) +
                      " bytes at offset " + std::to_string(t.offset) + ") runs past the end of the file");
  }
}

File::~File() = default;
File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;

uint64_t File::file_size() const { return map_->size(); }

const Value* File::find(const std::string& key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const Value& File::at(const std::string& key) const {
  if (const Value* v = find(key)) return *v;
  throw GGUFError(path_.string() + ": missing metadata key '" + key + "'");
}

const TensorInfo* File::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& File::tensor(const std::string& name) const {
  if (const TensorInfo* t = find_tensor(name)) return *t;
  throw GGUFError(path_.string() + ": missing tensor '" + name + "'");
}

std::span<const uint8_t> File::tensor_data(const TensorInfo& t) const {
  return {map_->data() + data_offset_ + t.offset, t.n_bytes};
}

}  // namespace rwkv::gguf
