/*
 * Test tool: converts an OTLP/JSON trace request (a file) to its protobuf
 * encoding (stdout), with the tests' own encoder (otlpw.c), so that shell
 * tests can produce binary OTLP messages with kcat.
 *   otlp_json2proto request.json > request.pb
 */
#include "otlpw.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: otlp_json2proto FILE.json\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static char text[1 << 22];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    pbw w;
    otlpw_json_to_proto(text, &w);
    if (w.len && fwrite(w.p, 1, w.len, stdout) != w.len) {
        perror("stdout");
        return 1;
    }
    pbw_free(&w);
    return 0;
}
