# Export tests (issue 6). Unit tests link the fw_export library; integration
# tests run the real `flywheel` binary against a fresh migrated database and
# check its output with an independent checker (export/check_format.py).
fw_add_test(NAME export_unit_lib SOURCES export/test_lib.c LABELS unit LIBS fw_export)
fw_add_test(NAME export_unit_fmt SOURCES export/test_fmt.c LABELS unit LIBS fw_export)
fw_add_test(NAME export_unit_json SOURCES export/test_json.c LABELS unit LIBS fw_export)
fw_add_test(NAME export_unit_sink SOURCES export/test_sink.c LABELS unit LIBS fw_export)
fw_add_script_test(NAME export_integration SCRIPT export/test_export.sh LABELS integration
  TIMEOUT 180)
