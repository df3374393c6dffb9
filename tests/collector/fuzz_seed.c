/* Writes the seed corpus of fuzz_decode into a directory (run by hand when
 * the generator changes; the corpus is kept in the repository). Built by
 * tests/collector.cmake as fwc_fuzz_seed:
 *   <build>/tests/collector/fwc_fuzz_seed tests/collector/fuzz_corpus */
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    for (uint64_t i = 0; i < 40; i++) {
        size_t len;
        uint8_t *b = fwc_gen_event(i, i % 5 == 0 ? 64 : 0, 0, &len);
        char path[512];
        snprintf(path, sizeof path, "%s/seed_%02d", argv[1], (int)i);
        FILE *f = fopen(path, "wb");
        if (!f)
            return 1;
        fwrite(b, 1, len, f);
        fclose(f);
        free(b);
    }
    return 0;
}
