# Collector tests (issue 4). Integration tests run flywheel-collector as a
# child process against the shared PostgreSQL and dev broker, each with its
# own database, topic and group.
add_library(fwc_harness STATIC collector/harness.c collector/gen.c)
target_link_libraries(fwc_harness PUBLIC fwtest flywheel_schema PkgConfig::RDKAFKA
  PRIVATE fw_warnings)
target_include_directories(fwc_harness PUBLIC collector)

function(fwc_test name src labels timeout)
  fw_add_test(NAME ${name} SOURCES collector/${src} LABELS ${labels} TIMEOUT ${timeout}
    LIBS fwc_harness fw_collector)
  add_dependencies(${name} flywheel-collector)
endfunction()

fwc_test(collector_unit_encode test_encode.c unit 30)
fwc_test(collector_exact_100k test_exact.c integration 240)
fwc_test(collector_poison test_poison.c integration 180)
add_dependencies(collector_poison flywheel_cli)
fwc_test(collector_kill9 test_kill9.c integration 240)
fwc_test(collector_two_members test_members.c integration 240)
fwc_test(collector_replay_new_group test_replay.c integration 180)
fwc_test(collector_pg_outage test_pg_outage.c integration 240)
