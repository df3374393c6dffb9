# `flywheel stats` builds its JSON document with jansson.
pkg_check_modules(FW_STATS_JANSSON REQUIRED IMPORTED_TARGET jansson)
list(APPEND FW_CLI_LIBS PkgConfig::FW_STATS_JANSSON m)
