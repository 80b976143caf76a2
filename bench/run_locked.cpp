// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/run_locked.cpp
#include "bench/impl_locked.hpp"
#include "bench/runners.hpp"
#include "bench/scenarios.hpp"

namespace rcsbench {

RunResult RunLocked(const Config& cfg, const Workload& wl) { return RunScenario<LockedImpl>(cfg, wl); }

}  // namespace rcsbench
