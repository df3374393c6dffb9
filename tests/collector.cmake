# Collector tests (issue 4). Integration tests run flywheel-collector as a
# child process against the shared PostgreSQL and dev broker, each with its
# own database, topic and group.
add_library(fwc_harness STATIC collector/harness.c collector/gen.c)
target_link_libraries(fwc_harness PUBLIC fwtest flywheel_schema PkgConfig::RDKAFKA
  PRIVATE fw_warnings)
target_include_directories(fwc_harness PUBLIC collector)

function(fwc_test name src labels timeout)
  set(_extra)
  if(FW_SANITIZE MATCHES "thread")
    set(_extra agent/tsan_thrd.c) # librdkafka's C11 threads through pthreads
  endif()
  fw_add_test(NAME ${name} SOURCES collector/${src} ${_extra} LABELS ${labels}
    TIMEOUT ${timeout} LIBS fwc_harness fw_collector)
  add_dependencies(${name} flywheel-collector)
  if(_extra)
    target_link_options(${name} PRIVATE -rdynamic)
    set_tests_properties(${name} PROPERTIES ENVIRONMENT
      "TSAN_OPTIONS=halt_on_error=1 exitcode=66 suppressions=${CMAKE_CURRENT_SOURCE_DIR}/agent/tsan.supp")
  endif()
endfunction()

# The tests where the write mode matters run in the default mode (direct)
# under their own name and once more, as <name>_staging, with
# FWC_WRITE_MODE=staging (harness.c passes it as --pg.write_mode), so both
# modes stay covered. collector_replay_new_group runs both modes itself.
function(fwc_staging_too name timeout)
  add_test(NAME ${name}_staging COMMAND ${name})
  set_tests_properties(${name}_staging PROPERTIES LABELS integration TIMEOUT ${timeout}
    ENVIRONMENT "FWC_WRITE_MODE=staging;${ARGN}")
endfunction()

fwc_test(collector_unit_encode test_encode.c unit 30)
fwc_test(collector_exact_100k test_exact.c integration 240)
fwc_test(collector_poison test_poison.c integration 180)
add_dependencies(collector_poison flywheel_cli)
fwc_test(collector_kill9 test_kill9.c integration 240)
fwc_test(collector_two_members test_members.c integration 240)
fwc_test(collector_replay_new_group test_replay.c integration 180)
fwc_test(collector_pg_outage test_pg_outage.c integration 240)
fwc_staging_too(collector_poison 180)
fwc_staging_too(collector_kill9 240 FWC_KILLS=2)
# kill -9 with static membership (kafka.group.instance.id): delivery stays exact
# (the dev broker accepts the id but does not implement the fast rejoin).
add_test(NAME collector_kill9_static COMMAND collector_kill9)
set_tests_properties(collector_kill9_static PROPERTIES LABELS integration TIMEOUT 240
  ENVIRONMENT "FWC_KILLS=2;FWC_GROUP_INSTANCE_ID=fwt-kill9-static")
fwc_staging_too(collector_two_members 240)
fwc_staging_too(collector_pg_outage 240)

# The seed-corpus generator of the fuzz target: built (not run as a test) so
# that the corpus can be regenerated when gen.c changes:
#   build/tests/fwc_fuzz_seed tests/collector/fuzz_corpus
add_executable(fwc_fuzz_seed collector/fuzz_seed.c)
target_link_libraries(fwc_fuzz_seed PRIVATE fwc_harness fw_warnings)

# libFuzzer target for decode + validate + encode, built with clang (the
# rest of the build may use gcc) by a custom command over the same sources.
find_program(FWC_CLANG NAMES clang clang-14)
if(FWC_CLANG)
  set(_fz_src ${CMAKE_SOURCE_DIR}/collector/src)
  set(_fz_sources ${CMAKE_CURRENT_SOURCE_DIR}/collector/fuzz_decode.c ${_fz_src}/strbuf.c
    ${_fz_src}/copyenc.c ${_fz_src}/decode.c ${_fz_src}/rows.c
    ${CMAKE_BINARY_DIR}/schema/flywheel/v1/flywheel.pb-c.c)
  add_custom_command(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/fuzz_decode
    COMMAND ${FWC_CLANG} -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
      -fno-sanitize-recover=all -I${_fz_src} -I${CMAKE_BINARY_DIR}/schema ${_fz_sources}
      -lprotobuf-c -lm -o ${CMAKE_CURRENT_BINARY_DIR}/fuzz_decode
    DEPENDS ${_fz_sources} flywheel_schema
    COMMENT "building fuzz_decode with clang"
    VERBATIM)
  add_custom_target(fuzz_decode ALL DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/fuzz_decode)
  fw_add_script_test(NAME collector_fuzz_decode SCRIPT collector/test_fuzz.sh
    LABELS integration TIMEOUT 120)
else()
  message(STATUS "clang not found: collector fuzz target not built")
endif()
fw_add_script_test(NAME collector_config SCRIPT collector/test_config_doc.sh LABELS unit TIMEOUT 30)
fwc_test(collector_schema_check test_schema.c integration 60)
fwc_test(collector_offsets_monotonic test_offsets_monotonic.c integration 60)
