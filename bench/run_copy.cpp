// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/run_copy.cpp
#include "bench/impl_copy.hpp"
#include "bench/runners.hpp"
#include "bench/scenarios.hpp"

namespace rcsbench {

RunResult RunCopy(const Config& cfg, const Workload& wl) { return RunScenario<CopyImpl>(cfg, wl); }

}  // namespace rcsbench
