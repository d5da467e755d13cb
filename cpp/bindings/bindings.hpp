// Declarations shared by the binding files of rwkv_gpu._core.
#pragma once
#include <pybind11/pybind11.h>

namespace rwkv::bindings {

void bind_devices(pybind11::module_& m);
void bind_gguf(pybind11::module_& m);
void bind_tokenizer(pybind11::module_& m);
void bind_model(pybind11::module_& m);
void bind_generate(pybind11::module_& m);

// Bytes that may not be UTF-8 (GGUF strings) as a Python str, bad bytes replaced.
pybind11::str to_str(const std::string& s);

}  // namespace rwkv::bindings
