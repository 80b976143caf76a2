// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/fault/model.hpp
//
// The machinery of the fault-injection sweep (fault_sweep.cpp): the model of
// a partition's contents, the failure log, and the bounded probe that proves
// no lock is held and no grace period is blocked after an injected failure.
#ifndef RCUSTATE_TEST_FAULT_MODEL_HPP_
#define RCUSTATE_TEST_FAULT_MODEL_HPP_

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/test_env.hpp"
#include "rcustate/merge.hpp"

namespace rcustate::testing::fault {

// Table 0 has no merge operator, table 1 adds int64 (AddInt64).
inline constexpr uint32_t kPlainTable = 0;
inline constexpr uint32_t kSumTable = 1;
inline constexpr uint32_t kTables = 2;

// What a partition holds: one sorted map per table.
using Table = std::map<std::string, std::string>;
struct State {
  Table t[kTables];
  bool operator==(const State&) const = default;
};

struct Op {
  enum Kind { kPut, kErase, kMerge, kClear } kind;
  uint32_t table;
  std::string key;
  std::string value;  // the value of a put, the encoded int64 operand of a merge
};

// Applies one change the way the store resolves it.
inline void Apply(State& s, const Op& op) {
  Table& t = s.t[op.table];
  switch (op.kind) {
    case Op::kPut:
      t[op.key] = op.value;
      break;
    case Op::kErase:
      t.erase(op.key);
      break;
    case Op::kClear:
      t.clear();
      break;
    case Op::kMerge: {
      auto it = t.find(op.key);
      const int64_t old = it == t.end() ? 0 : DecodeInt64(it->second).value_or(0);
      const int64_t add = DecodeInt64(op.value).value_or(0);
      t[op.key] = EncodeInt64(
          static_cast<int64_t>(static_cast<uint64_t>(old) + static_cast<uint64_t>(add)));
      break;
    }
  }
}

inline std::string Describe(const State& s) {
  std::string out;
  for (uint32_t i = 0; i < kTables; ++i) {
    out += "table " + std::to_string(i) + ": " + std::to_string(s.t[i].size()) + " keys;";
  }
  return out;
}

// The first difference between what was read and what was expected.
inline std::string Diff(const State& got, const State& want) {
  for (uint32_t i = 0; i < kTables; ++i) {
    for (const auto& [k, v] : want.t[i]) {
      auto it = got.t[i].find(k);
      if (it == got.t[i].end()) return "table " + std::to_string(i) + " lacks key " + k;
      if (it->second != v) return "table " + std::to_string(i) + " key " + k + " has another value";
    }
    for (const auto& [k, v] : got.t[i]) {
      if (!want.t[i].contains(k)) return "table " + std::to_string(i) + " has extra key " + k;
    }
  }
  return "equal";
}

// The failure log of one sweep child. Every failure names the step, the
// allocation that failed (N) and what was wrong.
struct Log {
  std::string step;
  int64_t n = 0;
  int failures = 0;
  int progress_fd = -1;  // the parent's watchdog pipe; -1 when run directly

  void Fail(const std::string& what) {
    ++failures;
    std::fprintf(stderr, "FAIL [%s] N=%lld: %s\n", step.c_str(), static_cast<long long>(n),
                 what.c_str());
  }
  // Tells the parent what runs now, so that a hang or a crash is reported
  // with the step and the N it happened at.
  void Progress(const char* phase) {
    if (progress_fd < 0) return;
    std::string line = step + " N=" + std::to_string(n) + " " + phase + "\n";
    if (write(progress_fd, line.data(), line.size()) < 0) {
      // The parent is gone: nothing left to report to.
    }
  }
  // A failure after which the process cannot go on (a lock or a read
  // section is left behind, so the next call would hang): report, stop now.
  [[noreturn]] void Fatal(const std::string& what) {
    Fail(what + " (cannot continue this sweep)");
    std::fflush(stderr);
    _exit(3);
  }
};

// Runs `fn` on a new thread and waits for it at most `bound`. fn returns ""
// or what was wrong. A thread that does not finish in time is stuck on a lock
// or a grace period the failed call left behind: Fatal (it cannot be joined).
inline std::string OnOtherThreadBounded(Log& log, const std::string& what,
                                        std::function<std::string()> fn) {
  auto result = std::make_shared<std::promise<std::string>>();
  std::future<std::string> done = result->get_future();
  std::thread t([fn = std::move(fn), result] { result->set_value(fn()); });
  // A bound, not a timing check: the probe takes milliseconds; only a held
  // lock or an open read section makes it wait forever.
  const auto bound = std::chrono::seconds(static_cast<int64_t>(10 * StressScale()));
  if (done.wait_for(bound) != std::future_status::ready) {
    t.detach();
    log.Fatal(what +
              ": another thread did not complete within the bound (a lock is held or "
              "a read section was left open)");
  }
  t.join();
  return done.get();
}

}  // namespace rcustate::testing::fault

#endif  // RCUSTATE_TEST_FAULT_MODEL_HPP_
