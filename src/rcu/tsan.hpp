// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/rcu/tsan.hpp
//
// ThreadSanitizer annotations for the RCU wrapper. liburcu 0.13 is not built
// with TSan and synchronizes through fences and volatile accesses TSan cannot
// see, so we tell TSan about the happens-before edges RCU guarantees:
//   - publication: Assign() releases on the pointer's address and
//     Dereference() acquires on it;
//   - grace periods: the end of every outermost read section releases on one
//     process-wide token, and Synchronize() and every call_rcu callback acquire
//     it, so a writer that waited for a grace period is ordered after the
//     reads it waited for;
//   - deferred work: Defer() releases on the node it queues and the callback
//     acquires it, so the callback sees what the caller wrote before queueing.
// Outside TSan builds these compile to nothing.
#ifndef RCUSTATE_SRC_RCU_TSAN_HPP_
#define RCUSTATE_SRC_RCU_TSAN_HPP_

#if defined(__SANITIZE_THREAD__)
#define RCUSTATE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RCUSTATE_TSAN 1
#endif
#endif

#ifdef RCUSTATE_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#define RCUSTATE_TSAN_ACQUIRE(addr) __tsan_acquire((void*)(addr))
#define RCUSTATE_TSAN_RELEASE(addr) __tsan_release((void*)(addr))
#else
#define RCUSTATE_TSAN_ACQUIRE(addr) ((void)0)
#define RCUSTATE_TSAN_RELEASE(addr) ((void)0)
#endif

#endif  // RCUSTATE_SRC_RCU_TSAN_HPP_
