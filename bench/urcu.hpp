// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/urcu.hpp
//
// The RCU baselines talk to liburcu (flavor urcu-memb, the one rcustate uses)
// directly, read side inlined (_LGPL_SOURCE). A baseline registers the
// threads it runs on itself; rcustate threads are registered by rcustate. The
// two never share a thread (each run uses fresh threads), so no thread is
// registered twice.
#ifndef RCUSTATE_BENCH_URCU_HPP_
#define RCUSTATE_BENCH_URCU_HPP_

#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE 1
#endif
#include <urcu/urcu-memb.h>

namespace rcsbench {

// rcu_assign_pointer, without clang's C++20 complaint about liburcu's use of
// a volatile assignment's result (the macro is C).
template <typename T>
inline void RcuPublish(T*& slot, T* value) {
#ifdef __clang__
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-volatile"
#endif
  rcu_assign_pointer(slot, value);
#ifdef __clang__
#pragma clang diagnostic pop
#endif
}

// Threads of an RCU baseline register with urcu-memb (the Threads parameter
// of ImplBase, impl_base.hpp).
struct UrcuThreads {
  static void ThreadStart() { urcu_memb_register_thread(); }
  static void ThreadStop() { urcu_memb_unregister_thread(); }
};

class UrcuReadGuard {
 public:
  UrcuReadGuard() { urcu_memb_read_lock(); }
  ~UrcuReadGuard() { urcu_memb_read_unlock(); }
  UrcuReadGuard(const UrcuReadGuard&) = delete;
  UrcuReadGuard& operator=(const UrcuReadGuard&) = delete;
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_URCU_HPP_
