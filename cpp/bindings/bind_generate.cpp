#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings/bindings.hpp"
#include "runtime/scheduler.hpp"

namespace py = pybind11;

namespace rwkv::bindings {
namespace {

const char* finish_name(runtime::Finish f) {
  switch (f) {
    case runtime::Finish::Length: return "length";
    case runtime::Finish::StopToken: return "stop_token";
    case runtime::Finish::Cancelled: return "cancelled";
    case runtime::Finish::None: break;
  }
  return nullptr;
}

}  // namespace

void bind_generate(py::module_& m) {
  py::class_<runtime::Scheduler>(m, "Scheduler")
      .def(py::init<std::shared_ptr<runtime::Model>, uint32_t>(), py::arg("model"), py::arg("max_batch"),
           py::call_guard<py::gil_scoped_release>())
      .def("submit", [](runtime::Scheduler& s, std::vector<uint32_t> prompt, float temperature, float top_p, uint32_t top_k,
                        float presence_penalty, float frequency_penalty, float penalty_decay, uint64_t seed,
                        uint32_t max_tokens, std::vector<uint32_t> stop_tokens, std::shared_ptr<runtime::State> state,
                        bool keep_logits) {
             runtime::Request r;
             r.prompt = std::move(prompt);
             r.sampling = {temperature, top_p, top_k, presence_penalty, frequency_penalty, penalty_decay, seed};
             r.max_tokens = max_tokens;
             r.stop_tokens = std::move(stop_tokens);
             r.state = std::move(state);
             r.keep_logits = keep_logits;
             return s.submit(std::move(r));
           },
           py::arg("prompt"), py::arg("temperature"), py::arg("top_p"), py::arg("top_k"), py::arg("presence_penalty"),
           py::arg("frequency_penalty"), py::arg("penalty_decay"), py::arg("seed"), py::arg("max_tokens"),
           py::arg("stop_tokens"), py::arg("state") = nullptr, py::arg("keep_logits") = false)
      .def("cancel", &runtime::Scheduler::cancel, py::arg("id"))
      .def("step", [](runtime::Scheduler& s) {
        std::vector<runtime::Event> events;
        {
          py::gil_scoped_release release;
          events = s.step();
        }
        py::list out;
        for (auto& e : events) {
          py::object logits = py::none();
          if (!e.logits.empty()) logits = py::array_t<float>(py::ssize_t(e.logits.size()), e.logits.data());
          const char* finish = finish_name(e.finish);
          out.append(py::make_tuple(e.id, e.token, finish ? py::object(py::str(finish)) : py::object(py::none()), logits));
        }
        return out;
      }, "Runs one step; returns (id, token or -1, finish or None, logits or None) per event.")
      .def_property_readonly("idle", &runtime::Scheduler::idle)
      .def_property_readonly("running", &runtime::Scheduler::running)
      .def_property_readonly("waiting", &runtime::Scheduler::waiting)
      .def_property_readonly("max_batch", &runtime::Scheduler::max_batch);
}

}  // namespace rwkv::bindings
