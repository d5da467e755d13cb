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

  // The exception hierarchy; pybind11 tries translators newest first, so bases come first.
  static py::exception<rwkv::Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<rwkv::VulkanError> vulkan_error(m, "VulkanError", error.ptr());
  static py::exception<rwkv::NoVulkanLoader> no_loader(m, "NoVulkanLoaderError", vulkan_error.ptr());
  static py::exception<rwkv::NoDevice> no_device(m, "NoDeviceError", vulkan_error.ptr());
  static py::exception<rwkv::OutOfDeviceMemory> oom(m, "OutOfDeviceMemoryError", vulkan_error.ptr());
  static py::exception<rwkv::DeviceLost> lost(m, "DeviceLostError", vulkan_error.ptr());
  static py::exception<rwkv::DeviceTimeout> timeout(m, "DeviceTimeoutError", vulkan_error.ptr());
  static py::exception<rwkv::GGUFError> gguf_error(m, "GGUFError", error.ptr());
  static py::exception<rwkv::TokenizerError> tok_error(m, "TokenizerError", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const rwkv::InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const rwkv::NoVulkanLoader& e) {
      no_loader(e.what());
    } catch (const rwkv::NoDevice& e) {
      no_device(e.what());
    } catch (const rwkv::OutOfDeviceMemory& e) {
      oom(e.what());
    } catch (const rwkv::DeviceLost& e) {
      lost(e.what());
    } catch (const rwkv::DeviceTimeout& e) {
      timeout(e.what());
    } catch (const rwkv::VulkanError& e) {
      vulkan_error(e.what());
    } catch (const rwkv::GGUFError& e) {
      gguf_error(e.what());
    } catch (const rwkv::TokenizerError& e) {
      tok_error(e.what());
    } catch (const rwkv::Error& e) {
      error(e.what());
    }
  });

  rwkv::bindings::bind_devices(m);
  rwkv::bindings::bind_gguf(m);
  rwkv::bindings::bind_tokenizer(m);
}
