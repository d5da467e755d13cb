#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <memory>

#include "bindings/bindings.hpp"
#include "common/error.hpp"
#include "gguf/dequant.hpp"
#include "gguf/file.hpp"

namespace py = pybind11;

namespace rwkv::bindings {
namespace {

py::object to_python(const gguf::Value& v) {
  return std::visit(
      [&](const auto& x) -> py::object {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return to_str(x);
        } else if constexpr (std::is_same_v<T, gguf::Array>) {
          py::list l(x.items.size());
          for (size_t i = 0; i < x.items.size(); ++i) l[i] = to_python(x.items[i]);
          return std::move(l);
        } else {
          return py::cast(x);
        }
      },
      v.data);
}

gguf::GgmlType type_from_python(const py::handle& t) {
  if (py::isinstance<py::str>(t)) {
    const auto name = t.cast<std::string>();
    for (uint32_t id = 0; id < 64; ++id)
      if (auto tr = gguf::ggml_type_traits(id); tr && tr->name == name) return tr->type;
    throw InvalidArgument("unknown ggml type name '" + name + "'");
  }
  const auto id = t.cast<uint32_t>();
  if (auto tr = gguf::ggml_type_traits(id)) return tr->type;
  throw InvalidArgument("unknown ggml type id " + std::to_string(id));
}

}  // namespace

void bind_gguf(py::module_& m) {
  py::class_<gguf::File, std::shared_ptr<gguf::File>>(m, "GGUFFile")
      .def(py::init([](const std::filesystem::path& p) {
             py::gil_scoped_release release;
             return std::make_shared<gguf::File>(p);
           }),
           py::arg("path"))
      .def_property_readonly("version", &gguf::File::version)
      .def_property_readonly("alignment", &gguf::File::alignment)
      .def_property_readonly("data_offset", &gguf::File::data_offset)
      .def_property_readonly("path", &gguf::File::path)
      .def("metadata", [](const gguf::File& f) {
        py::dict d;
        for (const auto& k : f.keys()) d[to_str(k)] = to_python(f.at(k));
        return d;
      })
      .def("metadata_types", [](const gguf::File& f) {
        py::dict d;
        for (const auto& k : f.keys()) {
          const auto& v = f.at(k);
          std::string t = gguf::value_type_name(v.type);
          if (v.type == gguf::ValueType::ARRAY) t += std::string("[") + gguf::value_type_name(v.as_array().element_type) + "]";
          d[to_str(k)] = t;
        }
        return d;
      })
      .def("tensors", [](const gguf::File& f) {
        py::list l;
        for (const auto& t : f.tensors())
          l.append(py::make_tuple(to_str(t.name), t.ne, std::string(gguf::type_name(t.type)), static_cast<uint32_t>(t.type),
                                  f.data_offset() + t.offset, t.n_bytes));
        return l;
      }, "(name, ne, type name, type id, absolute byte offset, byte size) per tensor, in file order")
      .def("tensor_bytes", [](std::shared_ptr<gguf::File> f, const std::string& name) {
        const auto data = f->tensor_data(f->tensor(name));
        // A read-only view of the mapped file; the capsule keeps the file mapped while it lives.
        py::capsule owner(new std::shared_ptr<gguf::File>(f), [](void* p) { delete static_cast<std::shared_ptr<gguf::File>*>(p); });
        py::array_t<uint8_t> view({data.size()}, {size_t(1)}, data.data(), owner);
        view.attr("setflags")(py::arg("write") = false);  // the mapping is read-only
        return view;
      }, py::arg("name"));

  m.def("dequantize", [](const py::handle& type, py::array_t<uint8_t, py::array::c_style> src, size_t n_elements) {
        const auto t = type_from_python(type);
        py::array_t<float> out(n_elements);
        {
          std::span<const uint8_t> in(src.data(), size_t(src.size()));
          std::span<float> dst(out.mutable_data(), n_elements);
          py::gil_scoped_release release;
          gguf::dequantize(t, in, dst);
        }
        return out;
      }, py::arg("type"), py::arg("data"), py::arg("n_elements"),
      "CPU dequantization of ggml blocks (type: name like 'Q4_K' or id) to float32.");
  m.def("ggml_type", [](const py::handle& t) {
    const auto& tr = gguf::traits(type_from_python(t));
    return py::make_tuple(std::string(tr.name), static_cast<uint32_t>(tr.type), tr.block_elements, tr.block_bytes);
  }, py::arg("type"), "(name, id, block elements, block bytes) of a ggml type.");
}

}  // namespace rwkv::bindings
