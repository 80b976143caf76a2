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

}  // namespace rcustate::testing

#endif  // RCUSTATE_TEST_COMMON_TEST_ENV_HPP_
