// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/common/alloc_fault.hpp
//
// Allocation-failure injection for tests. A test executable that links
// alloc_fault.cpp gets replacement global operator new/delete functions which
// count the allocations of the calling thread while it is armed, and make the
// Nth one fail (throw std::bad_alloc, or return nullptr for the nothrow
// forms). Only the arming thread is affected: liburcu's call_rcu worker and
// other threads allocate normally, so a test decides exactly which call sees
// the failure.
//
// The usual sweep drives one scenario step over every N until the step
// succeeds without reaching its Nth allocation:
//
//   for (int64_t n = 1;; ++n) {
//     rcustate::testing::AllocFault fault(n);   // arms this thread
//     absl::Status s = step();
//     bool injected = fault.fired();
//     fault.Disarm();
//     ... check: s.ok() or a kNoMemory error; the store still works ...
//     if (!injected) break;                    // the step needs fewer than n allocations
//   }
//
// Allocations made by malloc directly (liburcu, C code) are not counted.
#ifndef RCUSTATE_TEST_COMMON_ALLOC_FAULT_HPP_
#define RCUSTATE_TEST_COMMON_ALLOC_FAULT_HPP_

#include <cstdint>

namespace rcustate::testing {

// Arms the calling thread: its `fail_at`th operator new from now on fails
// (1 = the next one). 0 arms nothing. At most one per thread at a time.
void ArmAllocFault(int64_t fail_at);
// Disarms the calling thread; returns true if the failure was injected.
bool DisarmAllocFault();
// Allocations counted on this thread since it was armed.
int64_t AllocationsSinceArmed();
// True while this thread is armed and its failure has not been injected yet.
bool AllocFaultArmed();
// Total injected failures in the process (to check a sweep reached them).
int64_t InjectedAllocFaults();

// RAII arming: the destructor disarms.
class AllocFault {
 public:
  explicit AllocFault(int64_t fail_at) { ArmAllocFault(fail_at); }
  ~AllocFault() { Disarm(); }
  AllocFault(const AllocFault&) = delete;
  AllocFault& operator=(const AllocFault&) = delete;
  // Disarms now (idempotent); remembers whether the failure was injected.
  void Disarm() {
    if (!disarmed_) fired_ = DisarmAllocFault();
    disarmed_ = true;
  }
  // True if the failure was injected (so far, while still armed).
  bool fired() const { return disarmed_ ? fired_ : injected_now(); }

 private:
  static bool injected_now();
  bool disarmed_ = false;
  bool fired_ = false;
};

}  // namespace rcustate::testing

#endif  // RCUSTATE_TEST_COMMON_ALLOC_FAULT_HPP_
