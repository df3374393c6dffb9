# scripts/bench otlp: the load generator of bench/otlp.sh.
pkg_check_modules(FWB_CURL REQUIRED IMPORTED_TARGET libcurl)
add_executable(fw-otlp-load otlp_load.c)
target_link_libraries(fw-otlp-load PRIVATE PkgConfig::RDKAFKA PkgConfig::FWB_CURL Threads::Threads
  fw_warnings)
