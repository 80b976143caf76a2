// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/workload.cpp
#include "bench/workload.hpp"

#include <cstring>
#include <optional>

#include "absl/strings/str_format.h"

namespace rcsbench {

std::string Distribution::ToString() const {
  return zipf ? absl::StrFormat("zipf:%g", theta) : std::string("uniform");
}

ZipfGenerator::ZipfGenerator(uint64_t n, double theta) : n_(n) {
  double zetan = 0;
  for (uint64_t i = 1; i <= n; ++i) zetan += 1.0 / std::pow(static_cast<double>(i), theta);
  zetan_ = zetan;
  half_pow_theta_ = std::pow(0.5, theta);
  const double zeta2 = 1.0 + half_pow_theta_;
  alpha_ = 1.0 / (1.0 - theta);
  eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2 / zetan);
}

uint64_t ZipfGenerator::Scramble(uint64_t rank) const {
  // 2654435761 is prime and larger than any key count used here, so
  // multiplication by it permutes [0, n).
  // rank < n < 2^32, so the product fits in 64 bits.
  return rank * 2654435761u % n_;
}

namespace {

template <typename Draw>
std::vector<uint32_t> MakeStream(size_t len, Draw&& draw) {
  std::vector<uint32_t> s(len);
  for (uint32_t& id : s) id = static_cast<uint32_t>(draw());
  return s;
}

// A function drawing ids in [0, n) from `dist`.
struct Drawer {
  Drawer(uint64_t n, const Distribution& dist, uint64_t seed) : n(n), rng(seed) {
    if (dist.zipf && n > 1) zipf.emplace(n, dist.theta);
  }
  uint64_t operator()() {
    if (zipf) return (*zipf)(rng);
    return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng);
  }
  uint64_t n;
  std::mt19937_64 rng;
  std::optional<ZipfGenerator> zipf;
};

constexpr size_t kReaderStreamLen = size_t{1} << 16;

}  // namespace

Workload::Workload(uint64_t keys, const Distribution& dist, uint32_t readers, uint64_t seed,
                   size_t stream_len)
    : keys_(keys) {
  if (keys == 0 || keys > UINT32_MAX) Die("keys must be in [1, 2^32)");
  keybuf_.resize(8 * keys);
  for (uint64_t id = 0; id < keys; ++id) std::memcpy(keybuf_.data() + 8 * id, &id, 8);
  Drawer w(keys, dist, seed);
  stream_ = MakeStream(stream_len, w);
  for (uint32_t r = 0; r < std::max<uint32_t>(readers, 1); ++r) {
    Drawer d(keys, dist, seed * 1000003 + r + 1);
    reader_streams_.push_back(MakeStream(kReaderStreamLen, d));
  }
}

Workload Workload::ForGroups(uint32_t groups1, uint32_t groups2, const Distribution& dist,
                             uint32_t readers, uint64_t seed) {
  Workload w;
  w.keys_ = uint64_t{groups1} * groups2;
  w.keybuf_.resize(8 * w.keys_);
  for (uint32_t k1 = 0; k1 < groups1; ++k1) {
    for (uint32_t k2 = 0; k2 < groups2; ++k2) {
      char* p = w.keybuf_.data() + 8 * (uint64_t{k1} * groups2 + k2);
      std::memcpy(p, &k1, 4);
      std::memcpy(p + 4, &k2, 4);
    }
  }
  Drawer d1(groups1, dist, seed), d2(groups2, dist, seed + 7);
  w.stream_ = MakeStream(size_t{1} << 20, [&] { return d1() * groups2 + d2(); });
  for (uint32_t r = 0; r < std::max<uint32_t>(readers, 1); ++r) {
    Drawer e1(groups1, dist, seed * 31 + r), e2(groups2, dist, seed * 37 + r);
    w.reader_streams_.push_back(MakeStream(kReaderStreamLen, [&] { return e1() * groups2 + e2(); }));
  }
  return w;
}

std::string_view MarkerKey() { return "marker"; }

std::string_view InvKey(uint32_t k) {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (int i = 0; i < 64; ++i) v.push_back(absl::StrFormat("inv-%02d", i));
    return v;
  }();
  return names[k];
}

}  // namespace rcsbench
