// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/crc32c.hpp
//
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and
// final xor 0xFFFFFFFF), the checksum of every checkpoint block and changelog
// record. It runs on the checkpoint write path, which must keep up with a
// sequential disk write, so it uses the SSE4.2 `crc32` instruction (8 bytes per
// instruction, several GB/s) when the CPU has it, chosen once at run time; a
// slicing-by-8 table fallback serves other CPUs. Both give identical results
// (test/durable/crc32c_test.cpp compares them on random buffers).
//
//   uint32_t c = Crc32c(data, n);                    // one buffer
//   uint32_t c = Crc32cExtend(Crc32c(a, na), b, nb); // == Crc32c(a ‖ b)
#ifndef RCUSTATE_DURABLE_CRC32C_HPP_
#define RCUSTATE_DURABLE_CRC32C_HPP_

#include "rcustate/abi.hpp"
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace RCUSTATE_NAMESPACE::durable {

// The CRC-32C of `crc`'s message followed by `n` bytes at `data`. Start from
// 0 (the CRC of the empty message).
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);

inline uint32_t Crc32c(const void* data, size_t n) { return Crc32cExtend(0, data, n); }
inline uint32_t Crc32c(std::string_view s) { return Crc32c(s.data(), s.size()); }

// The two implementations, exposed for tests and the benchmark. Hardware
// requires Crc32cHardwareAvailable().
bool Crc32cHardwareAvailable();
uint32_t Crc32cExtendHardware(uint32_t crc, const void* data, size_t n);
uint32_t Crc32cExtendSoftware(uint32_t crc, const void* data, size_t n);

}  // namespace rcustate::durable

#endif  // RCUSTATE_DURABLE_CRC32C_HPP_
