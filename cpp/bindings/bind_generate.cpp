#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <charconv>
#include <string>

#include "bindings/bindings.hpp"
#include "runtime/scheduler.hpp"

namespace py = pybind11;

namespace rwkv::bindings {
namespace {

// The shortest text that reads back as the same float32, as Python writes floats ("1.0", "0.85").
std::string float_text(float v) {
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  std::string s(buf, end);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string sampling_repr(const runtime::SamplingParams& s) {
  return "SamplingParams(temperature=" + float_text(s.temperature) + ", top_p=" + float_text(s.top_p) +
         ", top_k=" + std::to_string(s.top_k) + ", presence_penalty=" + float_text(s.presence_penalty) +
         ", frequency_penalty=" + float_text(s.frequency_penalty) + ", penalty_decay=" + float_text(s.penalty_decay) +
         ", seed=" + (s.seed ? std::to_string(*s.seed) : "None") + ")";
}

}  // namespace

void bind_generate(py::module_& m) {
  // The defaults come from the engine's structs: one definition of each.
  const runtime::SamplingParams d;
  py::class_<runtime::SamplingParams>(m, "SamplingParams", R"(Sampling settings of one request, as in the official RWKV pipeline (rwkv.utils.PIPELINE_ARGS).

Past generated tokens lower their logits by presence_penalty + count * frequency_penalty (count:
occurrences, each step multiplied by penalty_decay; tokens that are only whitespace or digits do
not count); then softmax, the top-p cutoff, top-k (0: off), and probabilities raised to
1 / temperature. temperature=0 is greedy decoding. seed: the sequence's random stream (None: a
random one at submission); the same seed, prompt and settings give the same tokens, alone or in a
batch. Out-of-range values raise ValueError when a request is submitted (or at validate()).)")
      .def(py::init([](float temperature, float top_p, uint32_t top_k, float presence_penalty, float frequency_penalty,
                       float penalty_decay, std::optional<uint64_t> seed) {
             return runtime::SamplingParams{temperature, top_p, top_k, presence_penalty, frequency_penalty, penalty_decay, seed};
           }),
           py::kw_only(), py::arg("temperature") = d.temperature, py::arg("top_p") = d.top_p, py::arg("top_k") = d.top_k,
           py::arg("presence_penalty") = d.presence_penalty, py::arg("frequency_penalty") = d.frequency_penalty,
           py::arg("penalty_decay") = d.penalty_decay, py::arg("seed") = d.seed)
      .def_readwrite("temperature", &runtime::SamplingParams::temperature)
      .def_readwrite("top_p", &runtime::SamplingParams::top_p)
      .def_readwrite("top_k", &runtime::SamplingParams::top_k)
      .def_readwrite("presence_penalty", &runtime::SamplingParams::presence_penalty)
      .def_readwrite("frequency_penalty", &runtime::SamplingParams::frequency_penalty)
      .def_readwrite("penalty_decay", &runtime::SamplingParams::penalty_decay)
      .def_readwrite("seed", &runtime::SamplingParams::seed)
      .def("validate", &runtime::SamplingParams::validate, "Raises ValueError naming the first bad field.")
      .def("__repr__", &sampling_repr)
      .def("__copy__", [](const runtime::SamplingParams& s) { return s; })
      .def(py::pickle([](const runtime::SamplingParams& s) {
             return py::make_tuple(s.temperature, s.top_p, s.top_k, s.presence_penalty, s.frequency_penalty, s.penalty_decay, s.seed);
           },
           [](const py::tuple& t) {
             return runtime::SamplingParams{t[0].cast<float>(), t[1].cast<float>(), t[2].cast<uint32_t>(), t[3].cast<float>(),
                                            t[4].cast<float>(), t[5].cast<float>(), t[6].cast<std::optional<uint64_t>>()};
           }));

  const runtime::Request r;
  m.attr("DEFAULT_MAX_TOKENS") = r.max_tokens;
  m.attr("DEFAULT_STOP_TOKENS") = py::tuple(py::cast(r.stop_tokens));
  m.attr("FINISH_REASONS") = py::make_tuple(runtime::finish_name(runtime::Finish::Stop), runtime::finish_name(runtime::Finish::Length),
                                            runtime::finish_name(runtime::Finish::Cancelled));

  py::class_<runtime::Scheduler>(m, "Scheduler")
      .def(py::init<std::shared_ptr<runtime::Model>, uint32_t>(), py::arg("model"), py::arg("max_batch"),
           py::call_guard<py::gil_scoped_release>())
      .def("submit", [](runtime::Scheduler& s, std::vector<uint32_t> prompt, const runtime::SamplingParams& sampling,
                        uint32_t max_tokens, std::vector<std::string> stop, std::optional<std::vector<uint32_t>> stop_tokens,
                        std::shared_ptr<runtime::State> state, bool keep_logits) {
             runtime::Request q;
             q.prompt = std::move(prompt);
             q.sampling = sampling;
             q.max_tokens = max_tokens;
             q.stop = std::move(stop);
             if (stop_tokens) q.stop_tokens = std::move(*stop_tokens);
             q.state = std::move(state);
             q.keep_logits = keep_logits;
             return s.submit(std::move(q));
           },
           py::arg("prompt"), py::arg("sampling") = d, py::arg("max_tokens") = r.max_tokens,
           py::arg("stop") = std::vector<std::string>{}, py::arg("stop_tokens") = py::none(), py::arg("state") = nullptr,
           py::arg("keep_logits") = false, "Queues a request (stop_tokens None: the engine's default); returns its id.")
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
          const char* finish = runtime::finish_name(e.finish);
          out.append(py::make_tuple(e.id, e.token, py::str(e.text), finish ? py::object(py::str(finish)) : py::object(py::none()),
                                    logits));
        }
        return out;
      }, "Runs one step; returns (id, token or -1, text, finish or None, logits or None) per event: text is what the "
         "event adds (whole UTF-8 characters, never part of a stop string), finish 'stop', 'length' or 'cancelled'.")
      .def_property_readonly("idle", &runtime::Scheduler::idle)
      .def_property_readonly("running", &runtime::Scheduler::running)
      .def_property_readonly("waiting", &runtime::Scheduler::waiting)
      .def_property_readonly("max_batch", &runtime::Scheduler::max_batch);
}

}  // namespace rwkv::bindings
