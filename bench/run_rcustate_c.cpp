// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/run_rcustate_c.cpp
#include "bench/impl_rcustate_c.hpp"
#include "bench/runners.hpp"
#include "bench/scenarios.hpp"

namespace rcsbench {

RunResult RunRcuStateC(const Config& cfg, const Workload& wl) {
  return RunScenario<RcuStateCImpl>(cfg, wl);
}

}  // namespace rcsbench
