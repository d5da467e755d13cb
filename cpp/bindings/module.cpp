// rwkv_gpu._core: thin bindings. Logic lives in the C++ engine or in the Python package.
#include <pybind11/pybind11.h>

#include "bindings/bindings.hpp"
#include "common/error.hpp"

namespace py = pybind11;

namespace rwkv::bindings {

py::str to_str(const std::string& s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), Py_ssize_t(s.size()), "replace");
  if (!o) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(o);
}

}  // namespace rwkv::bindings

PYBIND11_MODULE(_core, m) {
  m.doc() = "rwkv_gpu engine bindings (use the rwkv_gpu package, not this module)";

  // The exception hierarchy. pybind11 tries translators newest first: bases are registered first.
  // (Messages are valid UTF-8 whatever file bytes they quote: rwkv::Error makes them so.)
  const auto& error = py::register_exception<rwkv::Error>(m, "Error", PyExc_RuntimeError);
  const auto& vulkan = py::register_exception<rwkv::VulkanError>(m, "VulkanError", error.ptr());
  py::register_exception<rwkv::NoVulkanLoader>(m, "NoVulkanLoaderError", vulkan.ptr());
  py::register_exception<rwkv::NoDevice>(m, "NoDeviceError", vulkan.ptr());
  py::register_exception<rwkv::OutOfDeviceMemory>(m, "OutOfDeviceMemoryError", vulkan.ptr());
  py::register_exception<rwkv::DeviceLost>(m, "DeviceLostError", vulkan.ptr());
  py::register_exception<rwkv::DeviceTimeout>(m, "DeviceTimeoutError", vulkan.ptr());
  py::register_exception<rwkv::GGUFError>(m, "GGUFError", error.ptr());
  py::register_exception<rwkv::TokenizerError>(m, "TokenizerError", error.ptr());
  py::register_exception<rwkv::NonFinite>(m, "NonFiniteError", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const rwkv::InvalidArgument& e) {  // the caller's mistake: Python's ValueError
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  rwkv::bindings::bind_devices(m);
  rwkv::bindings::bind_gguf(m);
  rwkv::bindings::bind_tokenizer(m);
  rwkv::bindings::bind_model(m);
  rwkv::bindings::bind_generate(m);
}
