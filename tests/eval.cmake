# Eval runs (issue 16). The unit test links the eval library and reads its
# private headers (its own module's tests); the integration tests run the
# real `flywheel` binary against a fresh database and the fake
# OpenAI-compatible server (tests/eval/fake_openai.py).
fw_add_test(NAME eval_unit_scorers SOURCES eval/test_scorers.c LABELS unit LIBS fw_eval)
target_include_directories(eval_unit_scorers PRIVATE ${CMAKE_SOURCE_DIR}/eval/src)
fw_add_script_test(NAME eval_run SCRIPT eval/test_run.sh LABELS integration TIMEOUT 240)
fw_add_script_test(NAME eval_resume SCRIPT eval/test_resume.sh LABELS integration TIMEOUT 240)
fw_add_script_test(NAME eval_compare SCRIPT eval/test_compare.sh LABELS integration TIMEOUT 300)
