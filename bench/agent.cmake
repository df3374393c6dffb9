# Agent hot-path benchmark (scripts/bench agent): application-thread latency
# of recording a ~2 KB chat generation through libflywheel versus producing
# it with librdkafka directly from the application thread.
add_executable(bench_agent ${CMAKE_CURRENT_SOURCE_DIR}/agent.c)
target_link_libraries(bench_agent PRIVATE flywheel_static flywheel_schema PkgConfig::RDKAFKA
  PkgConfig::PROTOBUFC PkgConfig::ZSTD Threads::Threads fw_warnings)
