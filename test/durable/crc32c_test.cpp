// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/durable/crc32c_test.cpp
//
// CRC-32C against published check values (the "123456789" check value and
// RFC 3720's iSCSI test vectors), the hardware and software paths against each
// other on random buffers at every alignment and length mod 8, and Extend
// against one-shot. Prints the throughput of both paths (not asserted).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "src/durable/crc32c.hpp"

namespace rcustate::durable {
namespace {

struct Vector {
  std::string data;
  uint32_t crc;
};

std::vector<Vector> KnownVectors() {
  std::string inc, dec;
  for (int i = 0; i < 32; ++i) {
    inc.push_back(static_cast<char>(i));
    dec.push_back(static_cast<char>(31 - i));
  }
  return {
      {"", 0x00000000u},
      {"123456789", 0xE3069283u},
      {std::string(32, '\0'), 0x8A9136AAu},
      {std::string(32, '\xFF'), 0x62A8AB43u},
      {inc, 0x46DD794Eu},
      {dec, 0x113FDB5Cu},
  };
}

TEST(Crc32c, KnownVectorsSoftware) {
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(Crc32cExtendSoftware(0, v.data.data(), v.data.size()), v.crc) << v.data.size();
  }
}

TEST(Crc32c, KnownVectorsHardware) {
  if (!Crc32cHardwareAvailable()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(Crc32cExtendHardware(0, v.data.data(), v.data.size()), v.crc) << v.data.size();
  }
}

TEST(Crc32c, DispatchedMatchesKnownVectors) {
  for (const Vector& v : KnownVectors()) EXPECT_EQ(Crc32c(v.data), v.crc);
}

TEST(Crc32c, HardwareMatchesSoftwareOnRandomBuffers) {
  if (!Crc32cHardwareAvailable()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::mt19937_64 rng(42);
  std::string buf(70000, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (int i = 0; i < 2000; ++i) {
    size_t off = rng() % 64;
    size_t len = i < 200 ? static_cast<size_t>(i) : rng() % (buf.size() - off);
    uint32_t seed = i % 2 ? static_cast<uint32_t>(rng()) : 0;
    ASSERT_EQ(Crc32cExtendHardware(seed, buf.data() + off, len),
              Crc32cExtendSoftware(seed, buf.data() + off, len))
        << "off " << off << " len " << len;
  }
}

TEST(Crc32c, ExtendEqualsOneShot) {
  std::mt19937_64 rng(7);
  std::string buf(5000, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  uint32_t whole = Crc32c(buf);
  for (size_t cut = 0; cut <= buf.size(); cut += 97) {
    EXPECT_EQ(Crc32cExtend(Crc32c(buf.data(), cut), buf.data() + cut, buf.size() - cut), whole);
    EXPECT_EQ(Crc32cExtendSoftware(Crc32cExtendSoftware(0, buf.data(), cut), buf.data() + cut,
                                   buf.size() - cut),
              whole);
  }
}

// Not a bound (no timing assertions): shows the order of magnitude in the log.
TEST(Crc32c, Throughput) {
  std::string buf(size_t{64} << 20, 'x');
  auto gbps = [&](auto fn) {
    auto t0 = std::chrono::steady_clock::now();
    volatile uint32_t sink = fn(0, buf.data(), buf.size());
    (void)sink;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return static_cast<double>(buf.size()) / s / 1e9;
  };
  std::printf("crc32c software: %.2f GB/s\n", gbps(&Crc32cExtendSoftware));
  if (Crc32cHardwareAvailable()) std::printf("crc32c hardware: %.2f GB/s\n", gbps(&Crc32cExtendHardware));
}

}  // namespace
}  // namespace rcustate::durable
