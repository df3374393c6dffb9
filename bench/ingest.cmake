# scripts/bench ingest: the producer/latency probe used by bench/ingest.sh.
add_executable(fw-ingest-load ingest_load.c ${CMAKE_SOURCE_DIR}/tests/collector/gen.c)
target_include_directories(fw-ingest-load PRIVATE ${CMAKE_SOURCE_DIR}/tests/collector)
target_link_libraries(fw-ingest-load PRIVATE flywheel_schema PkgConfig::RDKAFKA PkgConfig::LIBPQ
  fw_warnings)
