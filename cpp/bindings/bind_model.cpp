#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>

#include "bindings/bindings.hpp"
#include "common/error.hpp"
#include "runtime/model.hpp"

namespace py = pybind11;

namespace {
// The pooling names of embed (runtime::Pooling), also rwkv_gpu.POOLINGS.
const std::pair<const char*, rwkv::runtime::Pooling> k_poolings[] = {
    {"last", rwkv::runtime::Pooling::Last}, {"mean", rwkv::runtime::Pooling::Mean}, {"state", rwkv::runtime::Pooling::State}};
}  // namespace


namespace rwkv::bindings {
namespace {

runtime::LogitsMode logits_mode(const py::object& o) {
  if (o.is_none()) return runtime::LogitsMode::None;
  if (!py::isinstance<py::str>(o)) throw py::type_error("logits must be \"last\", \"all\" or None, not " + std::string(py::repr(o)));
  const auto s = o.cast<std::string>();
  if (s == "last") return runtime::LogitsMode::Last;
  if (s == "all") return runtime::LogitsMode::All;
  throw InvalidArgument("logits must be \"last\", \"all\" or None, not \"" + s + "\"");
}

// A float32 numpy array owning `values` without a copy.
py::array_t<float> to_numpy(std::vector<float>&& values, std::vector<py::ssize_t> shape) {
  auto* heap = new std::vector<float>(std::move(values));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  return py::array_t<float>(shape, heap->data(), owner);
}

// [slots, floats_per_slot] float32 over the state's host-visible mirror: no copy; the array keeps
// the mirror alive after the State is gone.
py::array_t<float> mirror_array(runtime::State& s) {
  const vk::BufferPtr& mirror = s.mirror();
  auto* keep = new vk::BufferPtr(mirror);
  py::capsule owner(keep, [](void* p) { delete static_cast<vk::BufferPtr*>(p); });
  return py::array_t<float>({py::ssize_t(s.slots()), py::ssize_t(s.floats_per_slot())},
                            reinterpret_cast<float*>(mirror->mapped()), owner);
}

}  // namespace

void bind_model(py::module_& m) {
  py::tuple poolings(std::size(k_poolings));
  for (size_t i = 0; i < std::size(k_poolings); ++i) poolings[i] = py::str(k_poolings[i].first);
  m.attr("POOLINGS") = poolings;
  py::class_<runtime::State, std::shared_ptr<runtime::State>>(m, "State")
      .def_property_readonly("model_fingerprint", &runtime::State::model_fingerprint)
      .def_property_readonly("floats_per_slot", &runtime::State::floats_per_slot)
      .def_property_readonly("slots", &runtime::State::slots)
      .def("reset", &runtime::State::reset, py::call_guard<py::gil_scoped_release>())
      .def("clone", &runtime::State::clone, py::call_guard<py::gil_scoped_release>())
      .def("copy_slot", &runtime::State::copy_slot, py::arg("src"), py::arg("src_slot"), py::arg("dst_first"),
           py::arg("count") = 1, py::call_guard<py::gil_scoped_release>())
      .def("read", [](runtime::State& s) {
        {
          py::gil_scoped_release release;
          s.read_to_mirror();
        }
        return mirror_array(s);
      }, "Refreshes the host-visible mirror from the GPU and returns a view of it.")
      .def("mirror", &mirror_array, "The host-visible mirror as it is (no refresh).")
      .def("write_mirror", &runtime::State::write_from_mirror, py::call_guard<py::gil_scoped_release>(),
           "Copies the mirror's contents into the GPU state.");

  py::class_<runtime::Model, std::shared_ptr<runtime::Model>>(m, "Model")
      .def(py::init([](const std::filesystem::path& path, const std::string& device, std::function<void(uint64_t, uint64_t)> progress,
                       uint32_t chunk_tokens, const std::optional<std::string>& precision) {
             // Progress callbacks re-take the GIL; the load itself runs without it.
             model::ProgressFn fn;
             if (progress) fn = [progress](uint64_t done, uint64_t total) {
               py::gil_scoped_acquire gil;
               progress(done, total);
             };
             // None: the engine's default precision.
             const auto p = precision ? std::optional(ops::parse_precision(*precision)) : std::nullopt;
             std::shared_ptr<runtime::Model> model;
             {
               py::gil_scoped_release release;
               model = p ? std::make_shared<runtime::Model>(path, device, fn, chunk_tokens, *p)
                         : std::make_shared<runtime::Model>(path, device, fn, chunk_tokens);
             }
             // Ctrl-C between chunks: the pending KeyboardInterrupt (or a handler's exception)
             // leaves the call at once.
             model->set_interrupt_check([] {
               py::gil_scoped_acquire gil;
               if (PyErr_CheckSignals() != 0) throw py::error_already_set();
             });
             return model;
           }),
           py::arg("path"), py::arg("device") = "", py::arg("progress") = nullptr, py::arg("chunk_tokens") = 0,
           py::arg("precision") = py::none())
      .def_property_readonly("id", &runtime::Model::id)
      .def_property_readonly("tokenizer", [](const runtime::Model& model) {
        return std::const_pointer_cast<WorldTokenizer>(model.tokenizer());
      })
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
        // Where each part of a layer's state lives in a sequence's state: (offset, shape) of
        // layer 0; layer l adds l * floats_per_layer (runtime's layout, the one definition).
        d["state_layout"] = py::dict(
            py::arg("floats_per_layer") = c.state_floats_per_layer(),
            py::arg("att_shift") = py::make_tuple(c.att_shift_offset(0), py::make_tuple(c.n_embd)),
            py::arg("wkv") = py::make_tuple(c.wkv_offset(0), py::make_tuple(c.n_head, c.head_size, c.head_size)),
            py::arg("ffn_shift") = py::make_tuple(c.ffn_shift_offset(0), py::make_tuple(c.n_embd)));
        d["fingerprint"] = i.fingerprint;
        d["device"] = i.device_name;
        d["load_seconds"] = i.load_seconds;
        d["precision"] = ops::precision_name(i.precision);
        d["chunk_tokens"] = model.chunk_tokens();
        d["max_batch"] = model.max_batch();
        d["max_state_slots"] = model.max_state_slots();
        return d;
      })
      .def("set_profiling", &runtime::Model::set_profiling, py::arg("on"))
      .def("last_timings", [](const runtime::Model& model) {
        std::vector<std::pair<std::string, double>> out;
        for (const auto& t : model.last_timings()) out.emplace_back(t.label, t.ms);
        return out;
      }, "(shader, GPU ms) of each dispatch of the last profiled run.")
      .def("new_state", &runtime::Model::new_state, py::arg("slots") = 1, py::call_guard<py::gil_scoped_release>())
      .def("run", [](runtime::Model& model, py::array_t<uint32_t, py::array::c_style | py::array::forcecast> tokens,
                     runtime::State& state, const py::object& logits) -> py::object {
        const auto mode = logits_mode(logits);
        const std::span<const uint32_t> ids(tokens.data(), size_t(tokens.size()));
        std::vector<float> out;
        {
          py::gil_scoped_release release;
          out = model.run(ids, state, mode);
        }
        const auto V = py::ssize_t(model.config().vocab);
        if (mode == runtime::LogitsMode::None) return py::none();
        if (mode == runtime::LogitsMode::Last) return to_numpy(std::move(out), {V});
        const auto rows = py::ssize_t(out.size()) / V;
        return to_numpy(std::move(out), {rows, V});
      }, py::arg("tokens"), py::arg("state"), py::arg("logits") = "last")
      .def("embed", [](runtime::Model& model, const std::vector<py::array_t<uint32_t, py::array::c_style | py::array::forcecast>>& seqs,
                       runtime::State& state, const std::string& pooling, bool normalize, const py::object& progress) {
        const auto it = std::find_if(std::begin(k_poolings), std::end(k_poolings), [&](const auto& n) { return pooling == n.first; });
        if (it == std::end(k_poolings)) throw InvalidArgument("pooling must be \"last\", \"mean\" or \"state\", not \"" + pooling + "\"");
        std::vector<std::span<const uint32_t>> spans;
        for (const auto& s : seqs) spans.emplace_back(s.data(), size_t(s.size()));
        runtime::Model::Progress report;
        if (!progress.is_none())
          report = [&progress](uint64_t done, uint64_t total) {
            py::gil_scoped_acquire gil;
            progress(done, total);
          };
        std::vector<float> out;
        {
          py::gil_scoped_release release;
          out = model.embed(spans, state, it->second, normalize, report);
        }
        return to_numpy(std::move(out), {py::ssize_t(seqs.size()), py::ssize_t(model.config().n_embd)});
      }, py::arg("sequences"), py::arg("state"), py::arg("pooling") = "last", py::arg("normalize") = false,
      py::arg("progress") = py::none(),
      "progress(tokens_done, tokens_total), when given, is called after each chunk (submission).");
}

}  // namespace rwkv::bindings
