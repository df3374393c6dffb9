# The web review server (issue 14): unit tests of its pure parts, HTTP tests
# against the real server and PostgreSQL, browser tests in Chromium.
fw_add_test(NAME serve_unit_html SOURCES serve/test_html.c LABELS unit LIBS fw_serve)
fw_add_test(NAME serve_unit_form SOURCES serve/test_form.c LABELS unit LIBS fw_serve)
fw_add_test(NAME serve_unit_guard SOURCES serve/test_guard.c LABELS unit LIBS fw_serve)
fw_add_test(NAME serve_unit_diff SOURCES serve/test_diff.c LABELS unit LIBS fw_serve)

find_program(FW_PYTHON3 NAMES python3 REQUIRED)
function(fw_add_serve_py_test name script)
  add_test(NAME ${name} COMMAND ${FW_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/serve/${script})
  set_tests_properties(${name} PROPERTIES LABELS integration TIMEOUT 180
    ENVIRONMENT "FW_BUILD_DIR=${CMAKE_BINARY_DIR};FW_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()
fw_add_serve_py_test(serve_http test_http.py)
fw_add_script_test(NAME serve_config SCRIPT serve/test_config.sh LABELS unit)
fw_add_serve_py_test(serve_review test_review.py)
add_test(NAME serve_browser COMMAND ${FW_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/serve/test_browser.py)
set_tests_properties(serve_browser PROPERTIES LABELS integration TIMEOUT 900 COST 900
  ENVIRONMENT "FW_BUILD_DIR=${CMAKE_BINARY_DIR};FW_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
