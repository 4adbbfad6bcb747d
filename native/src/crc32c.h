// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) over a byte range.
#pragma once
#include <cstddef>
#include <cstdint>

namespace evmesh {

// Standard CRC-32C with chaining: crc32c(b, crc32c(a)) == crc32c(a ‖ b); crc32c(x, 0) is the
// plain checksum ("123456789" → 0xE3069283). Uses SSE4.2 when the CPU has it (runtime check).
uint32_t Crc32c(const uint8_t* data, size_t len, uint32_t initial);

// The portable slicing-by-8 path alone, whatever the CPU (so tests cover it on any machine).
uint32_t Crc32cPortable(const uint8_t* data, size_t len, uint32_t initial);

// Which implementation Crc32c dispatches to: "sse4.2" or "table".
const char* Crc32cImpl();

}  // namespace evmesh
