# Review queue tests (issue 5): SQL semantics, CLI, concurrency, statistics,
# the terminal reviewer.
fw_add_script_test(NAME review_sql SCRIPT review/test_sql.sh LABELS integration TIMEOUT 120)
fw_add_script_test(NAME review_closed_items SCRIPT review/test_closed.sh LABELS integration TIMEOUT 180)
fw_add_test(NAME review_concurrency SOURCES review/test_concurrency.c LABELS integration
  LIBS Threads::Threads TIMEOUT 300)
fw_add_script_test(NAME review_cli SCRIPT review/test_cli.sh LABELS integration TIMEOUT 120)
fw_add_script_test(NAME review_stats SCRIPT review/test_stats.sh LABELS integration TIMEOUT 120)
fw_add_test(NAME review_tui SOURCES review/test_tui.c LABELS integration LIBS util TIMEOUT 120)
pkg_check_modules(FW_REVIEW_TEST_JANSSON REQUIRED IMPORTED_TARGET jansson)
fw_add_test(NAME review_unit_text SOURCES review/test_text.c ${CMAKE_SOURCE_DIR}/cli/review_text.c
  LABELS unit LIBS PkgConfig::FW_REVIEW_TEST_JANSSON)
target_include_directories(review_unit_text PRIVATE ${CMAKE_SOURCE_DIR}/cli)
