/* The library version, fixed at build time from the CMake project version. */
#include "flywheel/flywheel.h"

const char *fw_version(void)
{
    return FW_VERSION_STR;
}
