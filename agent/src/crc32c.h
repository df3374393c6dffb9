/*
 * crc32c — CRC-32C (Castagnoli), table-driven, one byte at a time. Used to
 * detect torn or corrupt spool records; speed is not critical there (the
 * record was just zstd-compressed, which costs far more).
 */
#ifndef FW_CRC32C_H
#define FW_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: start with crc = 0. crc32c("123456789") == 0xE3069283. */
uint32_t fw_crc32c(uint32_t crc, const void *data, size_t len);

#endif
