# The Python package (python/): unittest files run with Debian's python3
# under `-X dev -W error`, against the library just built. test_native is
# in-process only (unit); the others use the dev broker and PostgreSQL
# (integration). The package is imported from the source tree; the install
# test covers `pip install` into a venv.
find_program(FW_DEBIAN_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT FW_DEBIAN_PYTHON3)
  find_program(FW_DEBIAN_PYTHON3 NAMES python3 REQUIRED)
endif()

# In an AddressSanitizer build (FW_SANITIZE) libflywheel needs the ASan
# runtime first in the process, which python3 is not linked with: preload it
# (leak checking off: the interpreter's own allocations at exit are not ours).
set(_fw_py_sanitizer_env "")
if(FW_SANITIZE MATCHES "address")
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
    OUTPUT_VARIABLE _fw_libasan OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(_fw_py_sanitizer_env ";LD_PRELOAD=${_fw_libasan};ASAN_OPTIONS=detect_leaks=0")
endif()

function(fw_add_python_test name file labels timeout)
  add_test(NAME ${name} COMMAND ${FW_DEBIAN_PYTHON3} -X dev -W error
    ${CMAKE_SOURCE_DIR}/python/tests/${file})
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${timeout}
    ENVIRONMENT "FW_BUILD_DIR=${CMAKE_BINARY_DIR};FW_SOURCE_DIR=${CMAKE_SOURCE_DIR};FLYWHEEL_LIBRARY=$<TARGET_FILE:flywheel>;PYTHONDONTWRITEBYTECODE=1${_fw_py_sanitizer_env}")
endfunction()

fw_add_python_test(python_unit_native test_native.py unit 30)
fw_add_python_test(python_integration_api test_api.py integration 60)
fw_add_python_test(python_integration_wrappers test_wrappers.py integration 60)
fw_add_python_test(python_integration_store test_store.py integration 180)
fw_add_python_test(python_integration_fork test_fork.py integration 180)
fw_add_python_test(python_integration_ledger test_ledger.py integration 240)
fw_add_python_test(python_integration_exit test_exit.py integration 180)
fw_add_python_test(python_integration_install test_install.py integration 240)
fw_add_python_test(python_e2e_example test_example.py e2e 180)
