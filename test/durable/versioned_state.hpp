// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/durable/versioned_state.hpp
//
// A partition whose every version can be recomputed from its version number
// alone, for the store-level durability tests: WriteVersion(v) makes the
// thread's delta turn version v-1 into version v (puts, erases, merges into
// every kind of table, a periodic clear), and Expected(v) is the whole
// partition at version v. A restored partition that says version R must hold
// exactly Expected(R): a checkpoint that mixed two versions, lost a change,
// kept an erased key or missed a clear differs from it.
//
// Tables (AllKindsOfTables() of unit_util.hpp):
//   plain  "version" = v; exactly one "r<v%10>" = v (the previous one is
//          erased); "bulk<i>" = BulkValue(last v' <= v with v' % kBulk == i)
//          (1000-byte values: a full checkpoint is ~2 MB, written in
//          several blocks, so a kill lands inside writes too)
//   sum    "count" += 1            (= v)
//   min    cleared when v % 37 == 0; "m" min= -v (= -v); "c<v%37>" = v
//   max    "max" max= v            (= v)
//   fsum   "half" += 0.5           (= v / 2, exact)
//   log    "log" = "|" when v % 100 == 0, else appends one letter
#ifndef RCUSTATE_TEST_DURABLE_VERSIONED_STATE_HPP_
#define RCUSTATE_TEST_DURABLE_VERSIONED_STATE_HPP_

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "rcustate/rcustate.hpp"
#include "unit/unit_util.hpp"

namespace rcustate::testing {

inline constexpr uint64_t kBulk = 2000;
inline constexpr size_t kBulkValueSize = 1000;

inline std::string BulkValue(uint64_t v) {
  std::string s = std::to_string(v) + ":";
  std::string out;
  while (out.size() < kBulkValueSize) out += s;
  out.resize(kBulkValueSize);
  return out;
}

inline char LogLetter(uint64_t v) { return static_cast<char>('a' + v % 26); }

// Writes version v's changes into this thread's delta of partition p
// (commit it next). Returns the first error.
inline absl::Status WriteVersion(Store& s, uint32_t p, uint64_t v) {
  const int64_t iv = static_cast<int64_t>(v);
  absl::Status st;
  auto step = [&st](absl::Status x) {
    if (st.ok()) st = std::move(x);
  };
  step(s.Put(p, kPlain, "version", std::to_string(v)));
  step(s.Erase(p, kPlain, "r" + std::to_string((v - 1) % 10)));
  step(s.Put(p, kPlain, "r" + std::to_string(v % 10), std::to_string(v)));
  step(s.Put(p, kPlain, "bulk" + std::to_string(v % kBulk), BulkValue(v)));
  step(s.Merge(p, kSum, "count", I(1)));
  if (v % 37 == 0) step(s.Clear(p, kMin));
  step(s.Merge(p, kMin, "m", I(-iv)));
  step(s.Put(p, kMin, "c" + std::to_string(v % 37), I(iv)));
  step(s.Merge(p, kMax, "max", I(iv)));
  step(s.Merge(p, kFsum, "half", D(0.5)));
  if (v % 100 == 0) {
    step(s.Put(p, kLog, "log", "|"));
  } else {
    step(s.Merge(p, kLog, "log", std::string(1, LogLetter(v))));
  }
  return st;
}

using TableContents = std::vector<std::pair<std::string, std::string>>;  // sorted

// The whole partition at version v.
inline std::vector<TableContents> Expected(uint64_t v) {
  std::vector<std::map<std::string, std::string>> t(kNumTables);
  if (v > 0) {
    const int64_t iv = static_cast<int64_t>(v);
    t[kPlain]["version"] = std::to_string(v);
    t[kPlain]["r" + std::to_string(v % 10)] = std::to_string(v);
    for (uint64_t i = 0; i < kBulk; ++i) {
      // The last v' <= v with v' % kBulk == i, if any (v' >= 1).
      const uint64_t back = (v % kBulk + kBulk - i) % kBulk;
      if (back < v) t[kPlain]["bulk" + std::to_string(i)] = BulkValue(v - back);
    }
    t[kSum]["count"] = I(iv);
    t[kMin]["m"] = I(-iv);
    for (uint64_t w = std::max<uint64_t>(v - v % 37, 1); w <= v; ++w) {
      t[kMin]["c" + std::to_string(w % 37)] = I(static_cast<int64_t>(w));
    }
    t[kMax]["max"] = I(iv);
    t[kFsum]["half"] = D(0.5 * static_cast<double>(v));
    std::string log;
    const uint64_t reset = v - v % 100;
    if (reset > 0) log = "|";
    for (uint64_t w = std::max<uint64_t>(reset + 1, 1); w <= v; ++w) log += LogLetter(w);
    t[kLog]["log"] = log;
  }
  std::vector<TableContents> out(kNumTables);
  for (size_t i = 0; i < t.size(); ++i) out[i].assign(t[i].begin(), t[i].end());
  return out;
}

// What differs between the published partition p of `s` and Expected(v):
// "" if nothing.
inline std::string DiffFromExpected(const Store& s, uint32_t p, uint64_t v) {
  const std::vector<TableContents> want = Expected(v);
  std::string out;
  for (TableId t = 0; t < kNumTables; ++t) {
    TableContents got = PublishedTable(s, p, t);
    if (got == want[t]) continue;
    out += "table " + std::to_string(t) + ": " + std::to_string(got.size()) + " entries, " +
           std::to_string(want[t].size()) + " expected at version " + std::to_string(v);
    for (const auto& [k, val] : want[t]) {
      auto it = std::lower_bound(got.begin(), got.end(), std::make_pair(k, std::string()));
      if (it == got.end() || it->first != k) {
        out += "; missing " + k;
        break;
      }
      if (it->second != val) {
        out += "; " + k + " differs";
        break;
      }
    }
    out += "\n";
  }
  return out;
}

// The published partition as one string (equal digests: equal contents).
inline std::string DigestOf(const Store& s, uint32_t p) {
  std::string out;
  for (TableId t = 0; t < kNumTables; ++t) {
    out += "table " + std::to_string(t) + "\n";
    for (const auto& [k, v] : PublishedTable(s, p, t)) {
      out += std::to_string(k.size()) + ":" + k + "=" + std::to_string(v.size()) + ":" + v + "\n";
    }
  }
  return out;
}

}  // namespace rcustate::testing

#endif  // RCUSTATE_TEST_DURABLE_VERSIONED_STATE_HPP_
