#include "gguf/value.hpp"

#include "common/error.hpp"

namespace rwkv::gguf {

const char* value_type_name(ValueType t) {
  static const char* names[] = {"u8",     "i8",    "u16", "i16", "u32", "i32", "f32",
                                "bool",   "string", "array", "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(t);
  return i < std::size(names) ? names[i] : "unknown";
}

uint64_t Value::as_uint() const {
  if (auto* u = std::get_if<uint64_t>(&data)) return *u;
  if (auto* i = std::get_if<int64_t>(&data); i && *i >= 0) return static_cast<uint64_t>(*i);
  throw GGUFError(std::string("expected a non-negative integer, found ") + value_type_name(type));
}

int64_t Value::as_int() const {
  if (auto* i = std::get_if<int64_t>(&data)) return *i;
  if (auto* u = std::get_if<uint64_t>(&data); u && *u <= uint64_t(INT64_MAX)) return int64_t(*u);
  throw GGUFError(std::string("expected an integer, found ") + value_type_name(type));
}

double Value::as_float() const {
  if (auto* d = std::get_if<double>(&data)) return *d;
  if (auto* u = std::get_if<uint64_t>(&data)) return double(*u);
  if (auto* i = std::get_if<int64_t>(&data)) return double(*i);
  throw GGUFError(std::string("expected a number, found ") + value_type_name(type));
}

const std::string& Value::as_string() const {
  if (auto* s = std::get_if<std::string>(&data)) return *s;
  throw GGUFError(std::string("expected a string, found ") + value_type_name(type));
}

const Array& Value::as_array() const {
  if (auto* a = std::get_if<Array>(&data)) return *a;
  throw GGUFError(std::string("expected an array, found ") + value_type_name(type));
}

}  // namespace rwkv::gguf
