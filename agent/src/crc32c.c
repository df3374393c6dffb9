/*
 * crc32c — reflected CRC-32C, polynomial 0x82F63B78. The table is built on
 * first use under pthread_once so the module needs no generated source.
 */
#include "crc32c.h"

#include <pthread.h>

static uint32_t table[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
}

uint32_t fw_crc32c(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&once, build);
    const unsigned char *p = data;
    crc = ~crc;
    while (len--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}
