/* Hexadecimal digits; see hex.h. */
#include "fw_hex.h"

const char fw_hex_digits[17] = "0123456789abcdef";

char *fw_hex_encode(char *out, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        *out++ = fw_hex_digits[b[i] >> 4];
        *out++ = fw_hex_digits[b[i] & 15];
    }
    return out;
}

int fw_hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int fw_hex_u16(const char *p, const char *end, unsigned *out)
{
    if (end - p < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = fw_hex_val((unsigned char)p[i]);
        if (d < 0)
            return -1;
        v = (v << 4) | (unsigned)d;
    }
    *out = v;
    return 0;
}

void fw_uuid_format(char out[36], const unsigned char id[16])
{
    char *w = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *w++ = '-';
        *w++ = fw_hex_digits[id[i] >> 4];
        *w++ = fw_hex_digits[id[i] & 15];
    }
}
