// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/run_raw.cpp
#include "bench/impl_raw.hpp"
#include "bench/runners.hpp"
#include "bench/scenarios.hpp"

namespace rcsbench {

RunResult RunRaw(const Config& cfg, const Workload& wl) { return RunScenario<RawImpl>(cfg, wl); }

}  // namespace rcsbench
