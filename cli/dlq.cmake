# `flywheel dlq` re-validates and re-encodes dead letters with the
# collector's own decoder and row encoder.
list(APPEND FW_CLI_LIBS fw_collector)
