# `flywheel review` (issue 5): rubrics, queues, fill, stats, the JSON
# operations and the interactive terminal reviewer. JSON through jansson.
pkg_check_modules(FW_REVIEW_JANSSON REQUIRED IMPORTED_TARGET jansson)
list(APPEND FW_CLI_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/review_admin.c
  ${CMAKE_CURRENT_LIST_DIR}/review_ops.c
  ${CMAKE_CURRENT_LIST_DIR}/review_tui.c
  ${CMAKE_CURRENT_LIST_DIR}/review_text.c)
list(APPEND FW_CLI_LIBS PkgConfig::FW_REVIEW_JANSSON m)
