/*
 * errors — names, descriptions and kinds generated from the X-macro lists in
 * the public header (FW_ERR_MAP, FW_STAT_MAP), plus the library version.
 * Nothing here is a second list: a stat or error added to the header's list
 * gets its name and kind here without an edit.
 */
#include <ctype.h>
#include <pthread.h>
#include <stddef.h>

#include "flywheel/flywheel.h"

#define FW_STR_(x)  #x
#define FW_XSTR_(x) FW_STR_(x)
#define FW_VERSION_TEXT                                                                            \
    FW_XSTR_(FW_VERSION_MAJOR) "." FW_XSTR_(FW_VERSION_MINOR) "." FW_XSTR_(FW_VERSION_PATCH)

const char *fw_version(void)
{
    return FW_VERSION_TEXT;
}

int fw_version_num(void)
{
    return FW_VERSION_NUM;
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

/* Stat names are the enumerators' names in lower case. The preprocessor
 * cannot change case, so the lower-case forms are made from the generated
 * upper-case table once, on the first call (pthread_once). */
static const char *const stat_names_uc[FW_STAT__COUNT] = {
#define FW_STAT_STR_(name, value, kind, desc) [value] = #name,
    FW_STAT_MAP(FW_STAT_STR_)
#undef FW_STAT_STR_
};

static const signed char stat_kinds[FW_STAT__COUNT] = {
#define FW_STAT_KIND_(name, value, kind, desc) [value] = kind,
    FW_STAT_MAP(FW_STAT_KIND_)
#undef FW_STAT_KIND_
};

#define STAT_NAME_MAX 32
static char stat_names_lc[FW_STAT__COUNT][STAT_NAME_MAX];
static pthread_once_t stat_names_once = PTHREAD_ONCE_INIT;

static void make_stat_names(void)
{
    for (int i = 0; i < FW_STAT__COUNT; i++) {
        const char *uc = stat_names_uc[i];
        for (size_t j = 0; uc && uc[j] && j + 1 < STAT_NAME_MAX; j++)
            stat_names_lc[i][j] = (char)tolower((unsigned char)uc[j]);
    }
}

const char *fw_stat_name(fw_stat_t stat)
{
    if ((int)stat < 0 || stat >= FW_STAT__COUNT || !stat_names_uc[stat])
        return NULL;
    pthread_once(&stat_names_once, make_stat_names);
    return stat_names_lc[stat];
}

int fw_stat_kind(fw_stat_t stat)
{
    if ((int)stat < 0 || stat >= FW_STAT__COUNT || !stat_names_uc[stat])
        return -1;
    return stat_kinds[stat];
}

/* Every name must fit STAT_NAME_MAX with its NUL. */
#define FW_STAT_LEN_(name, value, kind, desc)                                                      \
    _Static_assert(sizeof #name <= STAT_NAME_MAX, "stat name too long: " #name);
FW_STAT_MAP(FW_STAT_LEN_)
#undef FW_STAT_LEN_
