/* `flywheel export`: not built yet; its issue replaces this file. */
#include "cli.h"

#include <stdio.h>

int fw_cmd_export(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "flywheel export: not available in this build yet\n");
    return 1;
}
