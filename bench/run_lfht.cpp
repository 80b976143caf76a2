// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/run_lfht.cpp
#include "bench/impl_lfht.hpp"
#include "bench/runners.hpp"
#include "bench/scenarios.hpp"

namespace rcsbench {

RunResult RunLfht(const Config& cfg, const Workload& wl) { return RunScenario<LfhtImpl>(cfg, wl); }

}  // namespace rcsbench
