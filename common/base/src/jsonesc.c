/*
 * JSON string escaping; see jsonesc.h. Runs of bytes that need nothing are
 * copied in one append; only bytes ≥ 0x80 pay for UTF-8 validation.
 */
#include "fw_jsonesc.h"

#include "fw_utf8.h"

#define C1 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define C2 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2

const unsigned char fw_json_byte_class[256] = {
    C1, C1,                                                 /* 0x00-0x1f */
    0,  0,  1,  0,  0,  0,  0,  0,  0, 0, 0, 0, 0, 0, 0, 0, /* 0x20-0x2f: '"' */
    0,  0,  0,  0,  0,  0,  0,  0,  0, 0, 0, 0, 0, 0, 0, 0, /* 0x30-0x3f */
    0,  0,  0,  0,  0,  0,  0,  0,  0, 0, 0, 0, 0, 0, 0, 0, /* 0x40-0x4f */
    0,  0,  0,  0,  0,  0,  0,  0,  0, 0, 0, 0, 1, 0, 0, 0, /* 0x50-0x5f: '\\' */
    0,  0,  0,  0,  0,  0,  0,  0,  0, 0, 0, 0, 0, 0, 0, 0, /* 0x60-0x6f */
    0,  0,  0,  0,  0,  0,  0,  0,  0, 0, 0, 0, 0, 0, 0, 0, /* 0x70-0x7f */
    C2, C2, C2, C2, C2, C2, C2, C2,                         /* 0x80-0xff */
};

size_t fw_json_escape_byte(unsigned char c, char out[6])
{
    static const char upper[] = "0123456789ABCDEF";
    char e = 0;
    switch (c) {
    case '"':
        e = '"';
        break;
    case '\\':
        e = '\\';
        break;
    case '\b':
        e = 'b';
        break;
    case '\f':
        e = 'f';
        break;
    case '\n':
        e = 'n';
        break;
    case '\r':
        e = 'r';
        break;
    case '\t':
        e = 't';
        break;
    default:
        if (c >= 0x20) {
            out[0] = (char)c;
            return 1;
        }
        out[0] = '\\';
        out[1] = 'u';
        out[2] = '0';
        out[3] = '0';
        out[4] = upper[c >> 4];
        out[5] = upper[c & 15];
        return 6;
    }
    out[0] = '\\';
    out[1] = e;
    return 2;
}

int fw_json_put_string(fw_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    fw_buf_addc(b, '"');
    while (p < end) {
        const unsigned char *run = p;
        while (p < end) {
            unsigned cls = fw_json_byte_class[*p];
            if (cls == 0) {
                p++;
                continue;
            }
            if (cls == 1)
                break;
            size_t k = fw_utf8_seq(p, end);
            if (!k)
                return -1;
            p += k;
        }
        if (p > run)
            fw_buf_add(b, run, (size_t)(p - run));
        if (p >= end)
            break;
        char esc[6];
        fw_buf_add(b, esc, fw_json_escape_byte(*p++, esc));
    }
    fw_buf_addc(b, '"');
    return 0;
}
