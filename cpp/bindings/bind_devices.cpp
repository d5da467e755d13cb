#include <pybind11/stl.h>

#include "bindings/bindings.hpp"
#include "vk/device_info.hpp"
#include "vk/validation.hpp"

namespace py = pybind11;

namespace rwkv::bindings {

void bind_devices(py::module_& m) {
  m.def(
      "devices",
      [] {
        py::list out;
        for (const auto& d : vk::list_devices()) {
          py::list heaps;
          for (const auto& h : d.memory_heaps) heaps.append(py::dict(py::arg("size") = h.size, py::arg("device_local") = h.device_local));
          py::dict e;
          e["index"] = d.index;
          e["name"] = d.name;
          e["vendor"] = d.vendor;
          e["vendor_id"] = d.vendor_id;
          e["device_id"] = d.device_id;
          e["type"] = d.type;
          e["api_version"] = d.api_version;
          e["driver_name"] = d.driver_name;
          e["driver_info"] = d.driver_info;
          e["memory_heaps"] = heaps;
          e["subgroup_size"] = d.subgroup_size;
          e["min_subgroup_size"] = d.min_subgroup_size;
          e["max_subgroup_size"] = d.max_subgroup_size;
          e["subgroup_operations"] = d.subgroup_operations;
          e["fp16"] = d.fp16;
          e["int8"] = d.int8;
          e["storage_16bit"] = d.storage_16bit;
          e["storage_8bit"] = d.storage_8bit;
          e["integer_dot_product"] = d.integer_dot_product;
          e["integer_dot_product_4x8_accelerated"] = d.integer_dot_product_4x8_accelerated;
          e["cooperative_matrix_khr"] = d.cooperative_matrix_khr;
          e["cooperative_matrix_nv"] = d.cooperative_matrix_nv;
          e["cooperative_matrix_shapes"] = d.cooperative_matrix_shapes;
          e["tensor_cores"] = d.coopmat_f16;
          e["compute_units"] = d.compute_units;
          e["max_storage_buffer_range"] = d.max_storage_buffer_range;
          e["min_storage_buffer_offset_alignment"] = d.min_storage_buffer_offset_alignment;
          e["max_buffer_size"] = d.max_buffer_size;
          e["max_memory_allocation_size"] = d.max_memory_allocation_size;
          e["max_compute_shared_memory_size"] = d.max_compute_shared_memory_size;
          e["max_workgroup_invocations"] = d.max_workgroup_invocations;
          e["max_workgroup_count"] = d.max_workgroup_count;
          e["timestamps"] = d.timestamps;
          e["timestamp_period_ns"] = d.timestamp_period_ns;
          out.append(e);
        }
        return out;
      },
      "Every Vulkan device the loader reports, as dicts (rwkv_gpu.devices() wraps them).");
  m.def("select_device", [](const std::string& selector) { return vk::select_device(vk::list_devices(), selector); },
        py::arg("selector") = "", "Index of the device a Model would use for `selector` (see RWKV_GPU_DEVICE).");
  m.def("validation_message_count", &vk::validation_message_count,
        "Vulkan validation warnings and errors seen in this process (RWKV_GPU_VALIDATION=1).");
  m.def("validation_requested", &vk::validation_requested);
}

}  // namespace rwkv::bindings
