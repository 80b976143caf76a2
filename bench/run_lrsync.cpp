// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/run_lrsync.cpp
#include "bench/impl_lrsync.hpp"
#include "bench/runners.hpp"
#include "bench/scenarios.hpp"

namespace rcsbench {

RunResult RunLrSync(const Config& cfg, const Workload& wl) { return RunScenario<LrSyncImpl>(cfg, wl); }

}  // namespace rcsbench
