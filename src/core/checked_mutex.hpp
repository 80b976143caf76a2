// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/checked_mutex.hpp
//
// absl::Mutex, as the core's locks use it, made visible to ThreadSanitizer.
// The distribution's abseil is not built with TSan, so TSan cannot see the
// ordering an absl::Mutex provides (its fast path is atomics inside the
// uninstrumented library) and reports every access it guards as a race. This
// wrapper tells TSan what the mutex guarantees (an unlock happens before the
// next lock) and carries clang's thread-safety annotations, so that
// -Wthread-safety checks its users. Outside TSan builds the annotations
// compile to nothing: the cost is absl::Mutex's.
#ifndef RCUSTATE_SRC_CORE_CHECKED_MUTEX_HPP_
#define RCUSTATE_SRC_CORE_CHECKED_MUTEX_HPP_

#include "rcustate/abi.hpp"
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "src/rcu/tsan.hpp"

namespace RCUSTATE_NAMESPACE::detail {

class ABSL_LOCKABLE CheckedMutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_.Lock();
    RCUSTATE_TSAN_ACQUIRE(this);
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    RCUSTATE_TSAN_RELEASE(this);
    mu_.Unlock();
  }
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    if (!mu_.TryLock()) return false;
    RCUSTATE_TSAN_ACQUIRE(this);
    return true;
  }
  // Waits on `cv` (which releases the mutex meanwhile). WaitWithTimeout:
  // true if it timed out.
  void Wait(absl::CondVar& cv) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    RCUSTATE_TSAN_RELEASE(this);
    cv.Wait(&mu_);
    RCUSTATE_TSAN_ACQUIRE(this);
  }
  bool WaitWithTimeout(absl::CondVar& cv, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    RCUSTATE_TSAN_RELEASE(this);
    const bool timed_out = cv.WaitWithTimeout(&mu_, timeout);
    RCUSTATE_TSAN_ACQUIRE(this);
    return timed_out;
  }

 private:
  absl::Mutex mu_;
};

// absl::MutexLock for a CheckedMutex.
class ABSL_SCOPED_LOCKABLE CheckedMutexLock {
 public:
  explicit CheckedMutexLock(CheckedMutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~CheckedMutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  CheckedMutexLock(const CheckedMutexLock&) = delete;
  CheckedMutexLock& operator=(const CheckedMutexLock&) = delete;

 private:
  CheckedMutex* const mu_;
};

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_CHECKED_MUTEX_HPP_
