// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/common/test_env.hpp
//
// Shared by the tests: stress scaling and the publication policies every
// stress and differential test runs under.
#ifndef RCUSTATE_TEST_COMMON_TEST_ENV_HPP_
#define RCUSTATE_TEST_COMMON_TEST_ENV_HPP_

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "rcustate/read_section.hpp"
#include "rcustate/store.hpp"

namespace rcustate::testing {

// RCUSTATE_STRESS_SCALE multiplies stress durations and operation counts
// (default 1; CI keeps it at 1, long runs use 10 or more).
inline double StressScale() {
  const char* s = std::getenv("RCUSTATE_STRESS_SCALE");
  if (s == nullptr || *s == '\0') return 1.0;
  double v = std::atof(s);
  return v > 0 ? v : 1.0;
}

struct Policy {
  std::string name;
  absl::Duration max_publish_delay;
  ReadFlavor read_flavor = ReadFlavor::kMemb;
};

// Every publication policy the library offers.
inline std::vector<Policy> AllPolicies() {
  return {
      {"immediate", absl::ZeroDuration()},
      // Group commit with a delay long enough that publication mostly comes
      // from later commits, and one so short that the publisher thread
      // (which waits for the grace period itself) publishes most batches.
      {"group_5ms", absl::Milliseconds(5)},
      {"group_50us", absl::Microseconds(50)},
  };
}

// The policies again with QSBR readers: what the stress and differential
// tests run under.
inline std::vector<Policy> AllPoliciesAndFlavors() {
  std::vector<Policy> all = AllPolicies();
  all.push_back({"qsbr_immediate", absl::ZeroDuration(), ReadFlavor::kQsbr});
  all.push_back({"qsbr_group_50us", absl::Microseconds(50), ReadFlavor::kQsbr});
  return all;
}

// A thread that reads `store` for its whole scope: on a QSBR store it is
// online throughout (and its Section()s end with quiescent states); on a
// memb store nothing.
class ReaderThread {
 public:
  explicit ReaderThread(const Store& store) : qsbr_(store.read_flavor() == ReadFlavor::kQsbr) {
    if (qsbr_) ThreadOnline();
  }
  ~ReaderThread() {
    if (qsbr_) ThreadOffline();
  }
  ReaderThread(const ReaderThread&) = delete;
  ReaderThread& operator=(const ReaderThread&) = delete;

 private:
  const bool qsbr_;
};

// One read section of `store` in either flavor: a memb section; on a QSBR
// store nothing on an online thread, whose views it ends with a quiescent
// state, and on an offline thread online for the scope.
class Section {
 public:
  explicit Section(const Store& store)
      : rs_(store), qsbr_online_(store.read_flavor() == ReadFlavor::kQsbr && ThreadIsOnline()) {}
  ~Section() {
    if (qsbr_online_) QuiescentState();
  }
  Section(const Section&) = delete;
  Section& operator=(const Section&) = delete;

 private:
  ReadSection rs_;
  const bool qsbr_online_;
};

}  // namespace rcustate::testing

#endif  // RCUSTATE_TEST_COMMON_TEST_ENV_HPP_
