# Dashboards: the Grafana panels' SQL against real data, the EXPLAIN checks
# that the views prune partitions and use the time index, and `flywheel
# stats`. Python 3 standard library only; queries go through psql.
find_program(FW_PYTHON3 NAMES python3 REQUIRED)

function(fw_add_dashboard_test name script)
  add_test(NAME ${name} COMMAND ${FW_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/dashboards/${script})
  set_tests_properties(${name} PROPERTIES LABELS integration TIMEOUT 240
    ENVIRONMENT "FW_BUILD_DIR=${CMAKE_BINARY_DIR};FW_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()

fw_add_dashboard_test(dashboards_panels test_panels.py)
fw_add_dashboard_test(dashboards_stats test_stats.py)
fw_add_dashboard_test(dashboards_explain test_explain.py)
