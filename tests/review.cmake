# Review queue tests (issue 5): SQL semantics, CLI, concurrency, statistics,
# the terminal reviewer.
fw_add_script_test(NAME review_sql SCRIPT review/test_sql.sh LABELS integration TIMEOUT 120)
