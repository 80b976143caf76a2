// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/workload.hpp
//
// The input of a run, generated once before any implementation runs and
// shared read-only by all of them (so every implementation sees the very same
// records): encoded keys, the writers' record stream and the readers' lookup
// streams, drawn uniformly or from a zipf distribution.
#ifndef RCUSTATE_BENCH_WORKLOAD_HPP_
#define RCUSTATE_BENCH_WORKLOAD_HPP_

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bench/common.hpp"
#include "bench/config.hpp"

namespace rcsbench {

// Draws ranks in [0, n) with P(rank) ∝ 1/(rank+1)^theta, 0 < theta < 1
// (Gray et al., "Quickly generating billion-record synthetic databases",
// the generator YCSB uses). Ranks are scrambled over the key space by a
// multiplicative bijection so hot keys are not neighbours.
class ZipfGenerator {
 public:
  ZipfGenerator(uint64_t n, double theta);
  template <typename Rng>
  uint64_t operator()(Rng& rng) {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const double uz = u * zetan_;
    uint64_t rank;
    if (uz < 1.0) {
      rank = 0;
    } else if (uz < 1.0 + half_pow_theta_) {
      rank = 1;
    } else {
      rank = static_cast<uint64_t>(static_cast<double>(n_) *
                                   std::pow(eta_ * u - eta_ + 1.0, alpha_));
      if (rank >= n_) rank = n_ - 1;
    }
    return Scramble(rank);
  }

 private:
  uint64_t Scramble(uint64_t rank) const;
  uint64_t n_;
  double zetan_, alpha_, eta_, half_pow_theta_;
};

class Workload {
 public:
  // `keys` distinct keys; a writer stream of `stream_len` (a power of two)
  // key ids drawn from `dist`, and `readers` reader streams.
  Workload(uint64_t keys, const Distribution& dist, uint32_t readers, uint64_t seed,
           size_t stream_len = size_t{1} << 20);
  // The window scenario's GROUP BY (k1, k2): groups1 x groups2 keys, each key
  // the two 4-byte group keys; k1 and k2 drawn independently from `dist`.
  static Workload ForGroups(uint32_t groups1, uint32_t groups2, const Distribution& dist,
                            uint32_t readers, uint64_t seed);

  uint64_t keys() const { return keys_; }
  // Key `id` (< keys()): its 8-byte little-endian encoding.
  std::string_view Key(uint64_t id) const { return {keybuf_.data() + 8 * id, 8}; }
  // The writers' stream of key ids; index with `& stream_mask()`.
  const std::vector<uint32_t>& stream() const { return stream_; }
  size_t stream_mask() const { return stream_.size() - 1; }
  const std::vector<uint32_t>& reader_stream(uint32_t r) const { return reader_streams_[r]; }
  size_t reader_mask() const { return reader_streams_[0].size() - 1; }

 private:
  Workload() = default;
  uint64_t keys_ = 0;
  std::string keybuf_;
  std::vector<uint32_t> stream_;
  std::vector<std::vector<uint32_t>> reader_streams_;
};

// Fixed names of the invariant keys: the marker and the K check keys.
std::string_view MarkerKey();
std::string_view InvKey(uint32_t k);  // k < 64

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_WORKLOAD_HPP_
