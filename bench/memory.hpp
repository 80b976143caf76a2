// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/memory.hpp
//
// Process memory as the kernel counts it (/proc/self/status), so that every
// implementation is measured the same way, allocator overheads included.
#ifndef RCUSTATE_BENCH_MEMORY_HPP_
#define RCUSTATE_BENCH_MEMORY_HPP_

#include <cstdint>

namespace rcsbench {

// Resident set size now, in bytes.
uint64_t CurrentRss();
// Highest resident set size since the last ResetPeakRss(), in bytes.
uint64_t PeakRss();
// Restarts the peak at the current RSS (/proc/self/clear_refs "5"). Returns
// false if the kernel refused; PeakRss() is then the process-lifetime peak.
bool ResetPeakRss();
// Returns free heap memory to the kernel (malloc_trim), so that one
// implementation's leftovers do not count against the next.
void TrimHeap();

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_MEMORY_HPP_
