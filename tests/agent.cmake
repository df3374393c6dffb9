# Agent (libflywheel) tests. Unit tests link flywheel_static and reach the
# internal headers through flywheel_internal; integration tests use the
# shared dev broker (FLYWHEEL_KAFKA_BOOTSTRAP, one topic per test) or an
# in-process librdkafka mock cluster when they need to take brokers down.
set(_at ${CMAKE_CURRENT_SOURCE_DIR}/agent)

# In a ThreadSanitizer build, librdkafka's C11 threads must be routed through
# pthread_create for TSan to see them (tsan_thrd.c explains why).
set(_at_extra)
if(FW_SANITIZE MATCHES "thread")
  set(_at_extra agent/tsan_thrd.c)
endif()

function(fw_agent_test name src labels timeout)
  fw_add_test(NAME ${name} SOURCES agent/${src} ${_at_extra} LABELS ${labels}
    TIMEOUT ${timeout} LIBS flywheel_internal)
  target_include_directories(${name} PRIVATE ${_at})
  if(_at_extra)
    target_link_options(${name} PRIVATE -rdynamic)
    set_tests_properties(${name} PROPERTIES ENVIRONMENT
      "TSAN_OPTIONS=halt_on_error=1 exitcode=66 suppressions=${_at}/tsan.supp")
  endif()
endfunction()

fw_agent_test(agent_unit_queue test_queue.c unit 60)
fw_agent_test(agent_unit_conf test_conf.c unit 30)
fw_agent_test(agent_unit_encode test_encode.c unit 30)
fw_agent_test(agent_unit_redact test_redact.c unit 30)
fw_agent_test(agent_unit_spool test_spool.c unit 30)
fw_agent_test(agent_integration_delivery test_delivery.c integration 120)
fw_agent_test(agent_integration_outage test_outage.c integration 180)
fw_agent_test(agent_integration_queue_full test_queue_full.c integration 120)
fw_agent_test(agent_integration_fatal test_fatal.c integration 120)
fw_agent_test(agent_integration_fork test_fork.c integration 120)
fw_agent_test(agent_integration_ledger test_ledger.c integration 180)

# The exported symbols of libflywheel.so are exactly the fw_* functions the
# header declares.
add_test(NAME agent_unit_symbols COMMAND bash ${_at}/test_symbols.sh
  $<TARGET_FILE:flywheel> ${CMAKE_SOURCE_DIR}/agent/include/flywheel/flywheel.h)
set_tests_properties(agent_unit_symbols PROPERTIES LABELS unit TIMEOUT 30)

# The queue's concurrency test again under ThreadSanitizer, when the compiler
# supports it (unless the whole build is already sanitized).
include(CheckCSourceCompiles)
set(CMAKE_REQUIRED_FLAGS -fsanitize=thread)
set(CMAKE_REQUIRED_LINK_OPTIONS -fsanitize=thread)
check_c_source_compiles("int main(void) { return 0; }" FW_HAVE_TSAN)
unset(CMAKE_REQUIRED_FLAGS)
unset(CMAKE_REQUIRED_LINK_OPTIONS)
if(FW_HAVE_TSAN AND NOT FW_SANITIZE)
  add_executable(agent_unit_queue_tsan ${_at}/test_queue.c ${CMAKE_SOURCE_DIR}/agent/src/queue.c
    ${CMAKE_CURRENT_SOURCE_DIR}/support/fwtest.c)
  target_include_directories(agent_unit_queue_tsan PRIVATE ${_at} ${CMAKE_SOURCE_DIR}/agent/src
    ${CMAKE_CURRENT_SOURCE_DIR}/support)
  target_compile_definitions(agent_unit_queue_tsan PRIVATE FWT_BUILD_DIR="${CMAKE_BINARY_DIR}")
  target_compile_options(agent_unit_queue_tsan PRIVATE -fsanitize=thread -g -O1)
  target_link_options(agent_unit_queue_tsan PRIVATE -fsanitize=thread)
  target_link_libraries(agent_unit_queue_tsan PRIVATE fw_common PkgConfig::LIBPQ Threads::Threads
    fw_warnings)
  add_test(NAME agent_unit_queue_tsan COMMAND agent_unit_queue_tsan)
  set_tests_properties(agent_unit_queue_tsan PROPERTIES LABELS unit TIMEOUT 120
    ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1 exitcode=66")
endif()

# The agent's unit tests again under AddressSanitizer + UndefinedBehavior-
# Sanitizer, when the compiler supports them (unless the whole build is
# already sanitized): the agent sources are compiled once more into an
# instrumented static library, so CI catches memory errors and UB without a
# second full build. A few seconds of test time in all.
set(CMAKE_REQUIRED_FLAGS "-fsanitize=address,undefined")
set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=address,undefined")
check_c_source_compiles("int main(void) { return 0; }" FW_HAVE_ASAN_UBSAN)
unset(CMAKE_REQUIRED_FLAGS)
unset(CMAKE_REQUIRED_LINK_OPTIONS)
if(FW_HAVE_ASAN_UBSAN AND NOT FW_SANITIZE)
  if(NOT TARGET PkgConfig::PCRE2) # imported in agent/'s scope only
    pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
  endif()
  set(_asan_flags -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  set(_agent_src ${CMAKE_SOURCE_DIR}/agent/src)
  add_library(flywheel_agent_asan STATIC
    ${_agent_src}/errors.c ${_agent_src}/conf.c ${_agent_src}/queue.c ${_agent_src}/builder.c
    ${_agent_src}/encode.c ${_agent_src}/agent.c ${_agent_src}/spool.c ${_agent_src}/crc32c.c
    ${_agent_src}/redact.c)
  target_include_directories(flywheel_agent_asan PUBLIC ${CMAKE_SOURCE_DIR}/agent/include
    ${_agent_src})
  target_compile_definitions(flywheel_agent_asan PRIVATE FW_BUILDING_LIBRARY
    FW_VERSION_STR="${PROJECT_VERSION}")
  target_compile_options(flywheel_agent_asan PUBLIC ${_asan_flags})
  target_link_options(flywheel_agent_asan PUBLIC -fsanitize=address,undefined)
  target_link_libraries(flywheel_agent_asan PUBLIC flywheel_schema PkgConfig::RDKAFKA
    PkgConfig::PROTOBUFC PkgConfig::ZSTD PkgConfig::PCRE2 Threads::Threads PRIVATE fw_warnings)
  foreach(t queue conf encode redact spool)
    add_executable(agent_unit_${t}_asan ${_at}/test_${t}.c)
    target_include_directories(agent_unit_${t}_asan PRIVATE ${_at})
    target_link_libraries(agent_unit_${t}_asan PRIVATE flywheel_agent_asan fwtest fw_warnings)
    add_test(NAME agent_unit_${t}_asan COMMAND agent_unit_${t}_asan)
    set_tests_properties(agent_unit_${t}_asan PROPERTIES LABELS unit TIMEOUT 120
      ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1")
  endforeach()
endif()
