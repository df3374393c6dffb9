# `flywheel keys` (issue 12): project keys of flywheel-gateway.
list(APPEND FW_CLI_SOURCES cmd_keys.c)
find_package(OpenSSL REQUIRED)
list(APPEND FW_CLI_LIBS OpenSSL::Crypto)
