/* The name rule of rubrics, queues, datasets and eval runs; see names.h. */
#include "names.h"

#include <stdio.h>
#include <string.h>

static int name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

int fw_cli_check_name(const char *cmd, const char *kind, const char *name)
{
    char problem[128] = "";
    size_t len = strlen(name);
    if (len == 0) {
        snprintf(problem, sizeof problem, "it is empty");
    } else if (!name_char((unsigned char)name[0]) || name[0] == '_' || name[0] == '.' ||
               name[0] == '-') {
        /* A byte of a multi-byte character is shown as the whole character. */
        size_t n = 1;
        while (((unsigned char)name[0] & 0x80) && n < len &&
               ((unsigned char)name[n] & 0xC0) == 0x80)
            n++;
        snprintf(problem, sizeof problem, "it starts with \"%.*s\"", (int)n, name);
    } else {
        for (size_t i = 0; i < len; i++) {
            if (!name_char((unsigned char)name[i])) {
                size_t n = 1;
                while (((unsigned char)name[i] & 0x80) && i + n < len &&
                       ((unsigned char)name[i + n] & 0xC0) == 0x80)
                    n++;
                snprintf(problem, sizeof problem, "it contains \"%.*s\"", (int)n, name + i);
                break;
            }
        }
        /* ASCII from here on: bytes are characters. */
        if (!problem[0] && len > 63)
            snprintf(problem, sizeof problem, "it is %zu characters long", len);
    }
    if (!problem[0])
        return 0;
    fprintf(stderr, "flywheel %s: invalid %s name \"%s\": %s\nDETAIL: A %s name is %s.\n", cmd,
            kind, name, problem, kind, FW_CLI_NAME_RULE);
    return -1;
}
