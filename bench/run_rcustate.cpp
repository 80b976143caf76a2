// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/run_rcustate.cpp
#include "bench/impl_rcustate.hpp"
#include "bench/runners.hpp"
#include "bench/scenarios.hpp"

namespace rcsbench {

RunResult RunRcuState(const Config& cfg, const Workload& wl) { return RunScenario<RcuStateImpl>(cfg, wl); }

}  // namespace rcsbench
