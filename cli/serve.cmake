# `flywheel serve` and `flywheel reviewer` (issue 14): the web review server
# (serve/, library fw_serve) and its accounts.
list(APPEND FW_CLI_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/cmd_serve.c
  ${CMAKE_CURRENT_LIST_DIR}/cmd_reviewer.c)
list(APPEND FW_CLI_LIBS fw_serve)
