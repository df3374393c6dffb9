# Review queue tests (issue 5): SQL semantics, CLI, concurrency, statistics,
# the terminal reviewer.
fw_add_script_test(NAME review_sql SCRIPT review/test_sql.sh LABELS integration TIMEOUT 120)
fw_add_test(NAME review_concurrency SOURCES review/test_concurrency.c LABELS integration
  LIBS Threads::Threads TIMEOUT 180)
fw_add_script_test(NAME review_cli SCRIPT review/test_cli.sh LABELS integration TIMEOUT 120)
fw_add_script_test(NAME review_stats SCRIPT review/test_stats.sh LABELS integration TIMEOUT 120)
fw_add_test(NAME review_tui SOURCES review/test_tui.c LABELS integration LIBS util TIMEOUT 120)
