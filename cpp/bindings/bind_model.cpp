#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings/bindings.hpp"
#include "common/error.hpp"
#include "runtime/model.hpp"

namespace py = pybind11;

namespace rwkv::bindings {
namespace {

runtime::LogitsMode logits_mode(const py::object& o) {
  if (o.is_none()) return runtime::LogitsMode::None;
  const auto s = o.cast<std::string>();
  if (s == "last") return runtime::LogitsMode::Last;
  if (s == "all") return runtime::LogitsMode::All;
  throw InvalidArgument("logits must be \"last\", \"all\" or None, not \"" + s + "\"");
}

}  // namespace

void bind_model(py::module_& m) {
  py::class_<runtime::State, std::shared_ptr<runtime::State>>(m, "State")
      .def_property_readonly("model_id", &runtime::State::model_id)
      .def_property_readonly("floats_per_slot", &runtime::State::floats_per_slot)
      .def("reset", &runtime::State::reset, py::call_guard<py::gil_scoped_release>())
      .def("read", [](const runtime::State& s) {
        py::array_t<float> out(py::ssize_t(s.floats_per_slot() * s.slots()));
        float* dst = out.mutable_data();
        {
          py::gil_scoped_release release;
          vk::download(s.buffer()->device().shared_from_this(), {s.buffer()}, dst, s.floats_per_slot() * s.slots() * 4);
        }
        return out;
      }, "A copy of the state's floats (all slots).");

  py::class_<runtime::Model, std::shared_ptr<runtime::Model>>(m, "Model")
      .def(py::init([](const std::filesystem::path& path, const std::string& device, std::function<void(uint64_t, uint64_t)> progress,
                       uint32_t chunk_tokens) {
             // Progress callbacks re-take the GIL; the load itself runs without it.
             model::ProgressFn fn;
             if (progress) fn = [progress](uint64_t done, uint64_t total) {
               py::gil_scoped_acquire gil;
               progress(done, total);
             };
             py::gil_scoped_release release;
             return std::make_shared<runtime::Model>(path, device, fn, chunk_tokens);
           }),
           py::arg("path"), py::arg("device") = "", py::arg("progress") = nullptr, py::arg("chunk_tokens") = 256)
      .def_property_readonly("id", &runtime::Model::id)
      .def("info", [](const runtime::Model& model) {
        const auto& i = model.info();
        const auto& c = i.config;
        py::dict d;
        d["name"] = c.name;
        d["n_layer"] = c.n_layer;
        d["n_embd"] = c.n_embd;
        d["n_head"] = c.n_head;
        d["head_size"] = c.head_size;
        d["ffn"] = c.ffn;
        d["vocab"] = c.vocab;
        d["lora_ranks"] = py::dict(py::arg("decay") = c.d_decay, py::arg("iclr") = c.d_iclr,
                                   py::arg("value") = c.d_value, py::arg("gate") = c.d_gate);
        d["layer_norm_eps"] = c.eps;
        d["weight_types"] = i.weight_types;
        d["gpu_bytes"] = i.gpu_bytes;
        d["state_floats"] = c.state_floats();
        d["device"] = i.device_name;
        d["load_seconds"] = i.load_seconds;
        return d;
      })
      .def("new_state", &runtime::Model::new_state, py::call_guard<py::gil_scoped_release>())
      .def("run", [](runtime::Model& model, py::array_t<uint32_t, py::array::c_style | py::array::forcecast> tokens,
                     runtime::State& state, const py::object& logits) {
        const auto mode = logits_mode(logits);
        const std::span<const uint32_t> ids(tokens.data(), size_t(tokens.size()));
        std::vector<float> out;
        {
          py::gil_scoped_release release;
          out = model.run(ids, state, mode);
        }
        const auto V = py::ssize_t(model.config().vocab);
        auto* heap = new std::vector<float>(std::move(out));
        py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<float>*>(p); });
        if (mode == runtime::LogitsMode::None) return py::object(py::none());
        if (mode == runtime::LogitsMode::Last) return py::object(py::array_t<float>({V}, {sizeof(float)}, heap->data(), owner));
        return py::object(py::array_t<float>({py::ssize_t(heap->size()) / V, V}, {V * py::ssize_t(sizeof(float)), py::ssize_t(sizeof(float))},
                                             heap->data(), owner));
      }, py::arg("tokens"), py::arg("state"), py::arg("logits") = "last");
}

}  // namespace rwkv::bindings
