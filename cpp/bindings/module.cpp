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
  const auto& error = py::register_exception<rwkv::Error>(m, "Error", PyExc_RuntimeError);
  const auto& vulkan = py::register_exception<rwkv::VulkanError>(m, "VulkanError", error.ptr());
  static PyObject* no_loader = py::register_exception<rwkv::NoVulkanLoader>(m, "NoVulkanLoaderError", vulkan.ptr()).ptr();
  static PyObject* no_device = py::register_exception<rwkv::NoDevice>(m, "NoDeviceError", vulkan.ptr()).ptr();
  static PyObject* out_of_memory = py::register_exception<rwkv::OutOfDeviceMemory>(m, "OutOfDeviceMemoryError", vulkan.ptr()).ptr();
  static PyObject* lost = py::register_exception<rwkv::DeviceLost>(m, "DeviceLostError", vulkan.ptr()).ptr();
  static PyObject* timeout = py::register_exception<rwkv::DeviceTimeout>(m, "DeviceTimeoutError", vulkan.ptr()).ptr();
  static PyObject* gguf = py::register_exception<rwkv::GGUFError>(m, "GGUFError", error.ptr()).ptr();
  static PyObject* tokenizer = py::register_exception<rwkv::TokenizerError>(m, "TokenizerError", error.ptr()).ptr();
  static PyObject* non_finite = py::register_exception<rwkv::NonFinite>(m, "NonFiniteError", error.ptr()).ptr();
  static PyObject* vulkan_class = vulkan.ptr();
  static PyObject* error_class = error.ptr();
  // Registered last, so tried first: every engine error with its message decoded leniently (it can
  // quote bytes of a hostile file that are not UTF-8; pybind11's own translators would raise
  // UnicodeDecodeError instead).
  py::register_exception_translator([](std::exception_ptr p) {
    auto set = [](PyObject* type, const std::exception& e) { PyErr_SetObject(type, rwkv::bindings::to_str(e.what()).ptr()); };
    try {
      if (p) std::rethrow_exception(p);
    } catch (const rwkv::InvalidArgument& e) {  // the caller's mistake: Python's ValueError
      set(PyExc_ValueError, e);
    } catch (const rwkv::NoVulkanLoader& e) {
      set(no_loader, e);
    } catch (const rwkv::NoDevice& e) {
      set(no_device, e);
    } catch (const rwkv::OutOfDeviceMemory& e) {
      set(out_of_memory, e);
    } catch (const rwkv::DeviceLost& e) {
      set(lost, e);
    } catch (const rwkv::DeviceTimeout& e) {
      set(timeout, e);
    } catch (const rwkv::VulkanError& e) {
      set(vulkan_class, e);
    } catch (const rwkv::GGUFError& e) {
      set(gguf, e);
    } catch (const rwkv::TokenizerError& e) {
      set(tokenizer, e);
    } catch (const rwkv::NonFinite& e) {
      set(non_finite, e);
    } catch (const rwkv::Error& e) {
      set(error_class, e);
    }
  });

  rwkv::bindings::bind_devices(m);
  rwkv::bindings::bind_gguf(m);
  rwkv::bindings::bind_tokenizer(m);
  rwkv::bindings::bind_model(m);
  rwkv::bindings::bind_generate(m);
}
