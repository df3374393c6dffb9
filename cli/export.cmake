# `flywheel export` and `flywheel dataset`: the export library (formats,
# validation, splits, dedupe, outputs) as a static library so that the unit
# tests link exactly what the CLI runs.
pkg_check_modules(FW_EXPORT_JANSSON REQUIRED IMPORTED_TARGET jansson)
add_library(fw_export STATIC
  ${CMAKE_CURRENT_LIST_DIR}/export_buf.c
  ${CMAKE_CURRENT_LIST_DIR}/export_conv.c
  ${CMAKE_CURRENT_LIST_DIR}/export_split.c
  ${CMAKE_CURRENT_LIST_DIR}/export_check.c
  ${CMAKE_CURRENT_LIST_DIR}/export_fmt.c
  ${CMAKE_CURRENT_LIST_DIR}/export_sink.c
  ${CMAKE_CURRENT_LIST_DIR}/export_select.c
  ${CMAKE_CURRENT_LIST_DIR}/export_run.c
  ${CMAKE_CURRENT_LIST_DIR}/export_copy.c
  ${CMAKE_CURRENT_LIST_DIR}/export_json.c)
target_include_directories(fw_export PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(fw_export PUBLIC fw_common fw_redact PkgConfig::LIBPQ PkgConfig::FW_EXPORT_JANSSON PkgConfig::ZSTD m
  PRIVATE fw_warnings)
target_compile_definitions(fw_export PRIVATE FW_VERSION_STR="${PROJECT_VERSION}")
list(APPEND FW_CLI_LIBS fw_export)
