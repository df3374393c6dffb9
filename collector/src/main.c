/* flywheel-collector: placeholder until the collector work lands. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "flywheel-collector: not built yet\n");
    return 1;
}
