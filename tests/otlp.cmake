# OTLP ingest (issue 12): the decoders and the mapping (unit), the fuzz
# target (slow), the gateway and the collector's OTLP topics (integration).
add_library(fwo_support STATIC otlp/otlpw.c)
pkg_check_modules(FWO_JANSSON REQUIRED IMPORTED_TARGET jansson)
target_include_directories(fwo_support PUBLIC otlp)
target_link_libraries(fwo_support PUBLIC fwtest fw_otlp PkgConfig::FWO_JANSSON PRIVATE fw_warnings)

fw_add_test(NAME otlp_unit_decode SOURCES otlp/test_decode.c LABELS unit TIMEOUT 30
  LIBS fwo_support)
fw_add_test(NAME otlp_unit_map SOURCES otlp/test_map.c LABELS unit TIMEOUT 30
  LIBS fwo_support)

# The seed corpus of the fuzz target, regenerated with
#   build/tests/otlp_fuzz_seed tests/otlp/fuzz_corpus
add_executable(otlp_fuzz_seed otlp/fuzz_seed.c)
target_link_libraries(otlp_fuzz_seed PRIVATE fwo_support fw_warnings)

# libFuzzer target over the decoders and the mapping, checked against the
# collector's own validation; built with clang by a custom command.
find_program(FWO_CLANG NAMES clang clang-14)
if(FWO_CLANG)
  file(GLOB _fwo_lib_sources ${CMAKE_SOURCE_DIR}/otlp/src/*.c)
  set(_fwo_sources ${CMAKE_CURRENT_SOURCE_DIR}/otlp/fuzz_otlp.c ${_fwo_lib_sources}
    ${CMAKE_SOURCE_DIR}/collector/src/decode.c
    ${CMAKE_BINARY_DIR}/schema/flywheel/v1/flywheel.pb-c.c)
  add_custom_command(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/fuzz_otlp
    COMMAND ${FWO_CLANG} -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
      -fno-sanitize-recover=all -I${CMAKE_SOURCE_DIR}/otlp/include -I${CMAKE_SOURCE_DIR}/otlp/src
      -I${CMAKE_SOURCE_DIR}/collector/src -I${CMAKE_BINARY_DIR}/schema ${_fwo_sources}
      -ljansson -lcrypto -lprotobuf-c -lm -o ${CMAKE_CURRENT_BINARY_DIR}/fuzz_otlp
    DEPENDS ${_fwo_sources} flywheel_schema
    COMMENT "building fuzz_otlp with clang"
    VERBATIM)
  add_custom_target(fuzz_otlp ALL DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/fuzz_otlp)
  fw_add_script_test(NAME otlp_fuzz SCRIPT otlp/test_fuzz.sh LABELS slow TIMEOUT 120)
else()
  message(STATUS "clang not found: OTLP fuzz target not built")
endif()

fw_add_script_test(NAME otlp_gateway SCRIPT otlp/test_gateway.sh LABELS integration TIMEOUT 300)
set_tests_properties(otlp_gateway PROPERTIES COST 500)

fw_add_script_test(NAME otlp_gateway_config SCRIPT otlp/test_config_doc.sh LABELS unit TIMEOUT 30)
add_executable(otlp_json2proto otlp/json2proto.c)
target_link_libraries(otlp_json2proto PRIVATE fwo_support fw_warnings)
fw_add_script_test(NAME otlp_kafka SCRIPT otlp/test_kafka.sh LABELS integration TIMEOUT 300)
fw_add_script_test(NAME otlp_gateway_faults SCRIPT otlp/test_gateway_faults.sh LABELS integration TIMEOUT 300)
