/*
 * errors — names and descriptions generated from the X-macro lists in the
 * public header (FW_ERR_MAP, FW_STAT_MAP), plus the library version.
 */
#include "flywheel/flywheel.h"

const char *fw_version(void)
{
    return FW_VERSION_STR;
}

const char *fw_err_name(fw_err_t err)
{
    switch (err) {
#define FW_ERR_NAME_(name, value, desc)                                                            \
    case FW_ERR_##name:                                                                            \
        return #name;
        FW_ERR_MAP(FW_ERR_NAME_)
#undef FW_ERR_NAME_
    }
    return "UNKNOWN";
}

const char *fw_strerror(fw_err_t err)
{
    switch (err) {
#define FW_ERR_DESC_(name, value, desc)                                                            \
    case FW_ERR_##name:                                                                            \
        return desc;
        FW_ERR_MAP(FW_ERR_DESC_)
#undef FW_ERR_DESC_
    }
    return "unknown error";
}

static const char *const stat_names[FW_STAT__COUNT] = {
#define FW_STAT_STR_(name, value, desc) [value] = #name,
    FW_STAT_MAP(FW_STAT_STR_)
#undef FW_STAT_STR_
};

/* Lower-case copies, made once: the table is small and static. */
static const char *const stat_names_lc[FW_STAT__COUNT] = {"recorded",
                                                          "delivered",
                                                          "in_queue",
                                                          "in_queue_bytes",
                                                          "in_flight",
                                                          "spooled",
                                                          "replayed",
                                                          "spool_pending",
                                                          "spool_pending_bytes",
                                                          "sampled_out",
                                                          "dropped",
                                                          "dropped_queue_full",
                                                          "dropped_nomem",
                                                          "dropped_spool_full",
                                                          "dropped_too_large",
                                                          "dropped_encode_error",
                                                          "dropped_delivery_failed",
                                                          "dropped_shutdown",
                                                          "dropped_builder_error",
                                                          "recorded_bytes",
                                                          "delivered_bytes",
                                                          "truncated",
                                                          "redactions",
                                                          "spool_corrupt",
                                                          "spool_errors",
                                                          "producer_restarts"};

const char *fw_stat_name(fw_stat_t stat)
{
    if ((int)stat < 0 || stat >= FW_STAT__COUNT || !stat_names[stat])
        return NULL;
    return stat_names_lc[stat];
}
