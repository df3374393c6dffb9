# The eval benchmark (bench/eval.sh): a fast fake endpoint and the bare
# libcurl loop the runner is compared with.
pkg_check_modules(FW_BENCH_CURL REQUIRED IMPORTED_TARGET libcurl)
add_executable(eval_server ${CMAKE_CURRENT_LIST_DIR}/eval_server.c)
target_link_libraries(eval_server PRIVATE fw_warnings)
add_executable(eval_loop ${CMAKE_CURRENT_LIST_DIR}/eval_loop.c)
target_link_libraries(eval_loop PRIVATE PkgConfig::FW_BENCH_CURL fw_warnings)
