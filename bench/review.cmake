# Review queue benchmark (issue 5): claim + submit latency under 16
# concurrent reviewers, against a bare SKIP LOCKED baseline in the same run.
add_executable(fw_bench_review ${CMAKE_CURRENT_LIST_DIR}/review_bench.c)
set_target_properties(fw_bench_review PROPERTIES OUTPUT_NAME flywheel-bench-review)
target_link_libraries(fw_bench_review PRIVATE PkgConfig::LIBPQ Threads::Threads fw_warnings)
