# `flywheel eval`: rendering over the eval library (eval/, flywheel/eval.h).
list(APPEND FW_CLI_SOURCES ${CMAKE_CURRENT_LIST_DIR}/cmd_eval.c)
list(APPEND FW_CLI_LIBS fw_eval)
