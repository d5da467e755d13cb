# cmake "-DCOMMAND=arg|arg|..." -P run_werror.cmake: runs COMMAND and fails when it fails or prints
# a warning (for compilers without a -Werror of their own). Its output is shown either way.
string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command} RESULT_VARIABLE failed OUTPUT_VARIABLE out ERROR_VARIABLE out)
# glslangValidator names each file it compiles on a line of its own: that is not a message.
string(REGEX REPLACE "^[^\n]*\\.comp\n" "" messages "${out}")
if(NOT messages STREQUAL "")
  message("${messages}")
endif()
if(failed OR messages MATCHES "WARNING|ERROR")
  message(FATAL_ERROR "shader compilation failed")
endif()
