#ifndef VIGIE_CCRC32C_H
#define VIGIE_CCRC32C_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the SSE 4.2 CRC32 instruction (x86-64), else 0.
int vigie_crc32c_hardware_available(void);

/// Extends `crc` (a finalized CRC-32C, 0 for none) with `length` bytes at `data`
/// using the CRC32 instruction. Only call when vigie_crc32c_hardware_available().
uint32_t vigie_crc32c_hardware(uint32_t crc, const void *data, size_t length);

#endif
