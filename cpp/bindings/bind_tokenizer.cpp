#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings/bindings.hpp"
#include "gguf/file.hpp"
#include "tokenizer/utf8_stream.hpp"
#include "tokenizer/world_tokenizer.hpp"

namespace py = pybind11;

namespace rwkv::bindings {
namespace {

// str is encoded as UTF-8; bytes are taken as they are.
std::string text_bytes(const py::handle& text) {
  if (py::isinstance<py::bytes>(text) || py::isinstance<py::bytearray>(text)) return text.cast<std::string>();
  if (py::isinstance<py::str>(text)) return text.cast<std::string>();
  throw py::type_error("expected str or bytes, got " + std::string(py::str(py::type::of(text).attr("__name__"))));
}

}  // namespace

void bind_tokenizer(py::module_& m) {
  py::class_<WorldTokenizer, std::shared_ptr<WorldTokenizer>>(m, "WorldTokenizer")
      .def_static("from_vocab_file", [](const std::filesystem::path& p) { return std::make_shared<WorldTokenizer>(WorldTokenizer::from_vocab_file(p)); })
      .def_static("from_gguf", [](const std::filesystem::path& p) {
        return std::make_shared<WorldTokenizer>(WorldTokenizer::from_gguf(gguf::File(p)));
      })
      .def_property_readonly("vocab_size", &WorldTokenizer::vocab_size)
      .def("encode", [](const WorldTokenizer& t, const py::handle& text) {
        const std::string bytes = text_bytes(text);
        std::vector<uint32_t> ids;
        {
          py::gil_scoped_release release;
          ids = t.encode(bytes);
        }
        return ids;
      }, py::arg("text"))
      .def("decode_bytes", [](const WorldTokenizer& t, const std::vector<uint32_t>& ids) { return py::bytes(t.decode(ids)); },
           py::arg("ids"))
      .def("token_bytes", [](const WorldTokenizer& t, uint32_t id) { return py::bytes(std::string(t.token_bytes(id))); },
           py::arg("id"));

  py::class_<Utf8StreamDecoder>(m, "Utf8StreamDecoder")
      .def(py::init<>())
      .def("push", [](Utf8StreamDecoder& d, const py::bytes& b) { return d.push(std::string(b)); }, py::arg("data"))
      .def("flush", &Utf8StreamDecoder::flush)
      .def_property_readonly("pending", &Utf8StreamDecoder::pending);
}

}  // namespace rwkv::bindings
