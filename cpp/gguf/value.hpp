// A GGUF metadata value: one of the 13 value types, arrays holding scalars or strings (no nesting).
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace rwkv::gguf {

enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

struct Value;
struct Array {
  ValueType element_type;
  std::vector<Value> items;
};

struct Value {
  ValueType type;
  std::variant<uint64_t, int64_t, double, bool, std::string, Array> data;

  bool is_integer() const { return data.index() <= 1; }
  // Integer value of any integer type; throws GGUFError for other types or negative values.
  uint64_t as_uint() const;
  int64_t as_int() const;
  double as_float() const;  // any numeric type
  const std::string& as_string() const;
  const Array& as_array() const;
};

const char* value_type_name(ValueType t);

}  // namespace rwkv::gguf
