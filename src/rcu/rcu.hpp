// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/rcu/rcu.hpp
//
// rcustate's contact with liburcu, both flavors it uses: urcu-memb (read
// sections) and urcu-qsbr (QSBR stores: online threads, quiescent states).
// The core uses these wrappers and never includes a liburcu header itself;
// the one public header that does, rcustate/inline_read.hpp, shares the
// per-thread reader state defined there.
//
//  - Registration: a thread registers on its first read section or retirement
//    (thread_local RAII unregisters it at thread exit); RegisterSlow() and
//    Unregister() do it explicitly (the public AttachThread/DetachThread).
//    call_rcu worker threads are registered by liburcu; callbacks run through
//    our trampoline, which marks them as such.
//  - Read sections: ReadLock()/ReadUnlock() nest; liburcu's read side is
//    inlined into read_side.c (see there why C) except in TSan builds. Code
//    of the library opens its sections with ScopedRead, so that an exception
//    can never leave one open (every later grace period would wait forever).
//  - fork(): the first registration installs pthread_atfork handlers that
//    pause liburcu's call_rcu worker threads around fork() and recreate them
//    in the child, so a child process can keep using the library.
//  - Publication: Assign() is rcu_assign_pointer (a release store);
//    Dereference() is rcu_dereference (a consume load).
//  - Grace periods: Synchronize() is synchronize_rcu; Defer() queues work
//    with call_rcu on behalf of a CallbackTracker, whose Drain() waits until
//    every callback it queued (including ones queued by those callbacks) ran.
#ifndef RCUSTATE_SRC_RCU_RCU_HPP_
#define RCUSTATE_SRC_RCU_RCU_HPP_

#include "rcustate/abi.hpp"
#include "src/rcu/tsan.hpp"

// Inline liburcu's static functions (rcustate is LGPL-2.1-or-later, like
// liburcu): here rcu_dereference/rcu_assign_pointer; the read side is inlined
// in read_side.c. Not under TSan: the inlined fast path touches liburcu's
// globals with accesses TSan cannot see as atomic (inline asm, volatile), and
// through calls into the uninstrumented library TSan sees none of it; our
// annotations (tsan.hpp) describe what RCU guarantees instead.
#if !defined(_LGPL_SOURCE) && !defined(RCUSTATE_TSAN)
#define _LGPL_SOURCE 1
#endif

#include <urcu/urcu-memb.h>
#include <urcu/urcu-qsbr.h>

// liburcu declares call_rcu and its companions once per translation unit,
// for the first flavor included (memb here); the QSBR flavor's are the same
// functions with the urcu_qsbr_ prefix (liburcu-qsbr.so exports them).
extern "C" {
void urcu_qsbr_call_rcu(struct rcu_head* head, void (*func)(struct rcu_head* head));
void urcu_qsbr_barrier(void);
void urcu_qsbr_call_rcu_before_fork(void);
void urcu_qsbr_call_rcu_after_fork_parent(void);
void urcu_qsbr_call_rcu_after_fork_child(void);
}

#include <atomic>
#include <chrono>
#include <cstdint>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "rcustate/inline_read.hpp"
#include "src/rcu/read_side.h"

namespace RCUSTATE_NAMESPACE::rcu {

// Per-thread state: detail::ReaderState (rcustate/inline_read.hpp, which
// inlines the read side into callers that opt in, shares it with us).
using ThreadState = detail::ReaderState;
// detail::reader_tls is initial-exec: one %fs-relative load instead of a
// __tls_get_addr call from inside the shared library (a few dozen bytes of
// static TLS).

// The two flavors a store may use (StoreOptions::read_flavor). Everything
// below that waits for or queues behind a grace period takes one.
enum class Flavor : uint8_t { kMemb = 0, kQsbr = 1 };

// Registers the thread now; idempotent. Returns false if liburcu refused.
void RegisterSlow();
inline void EnsureRegistered() {
  if (__builtin_expect(!detail::reader_tls.registered, 0)) RegisterSlow();
}
// Explicit detach; the caller checked that no section is open.
void Unregister();

// Process-wide tokens, one per flavor, on which TSan sees reader epochs end
// (see tsan.hpp).
extern char grace_token;       // memb
extern char qsbr_grace_token;  // QSBR

inline void ReadLock() {
  EnsureRegistered();
  ++detail::reader_tls.depth;
#ifdef RCUSTATE_TSAN
  urcu_memb_read_lock();
#else
  rcustate_rcu_read_lock();
#endif
}
inline void ReadUnlock() {
  if (--detail::reader_tls.depth == 0) {
    ++detail::reader_tls.sections;
    // Before the real unlock: once it is done a grace period may end and the
    // writer acquire the token, which must already hold this section.
    RCUSTATE_TSAN_RELEASE(&grace_token);
  }
#ifdef RCUSTATE_TSAN
  urcu_memb_read_unlock();
#else
  rcustate_rcu_read_unlock();
#endif
}
inline bool InReadSection() { return detail::reader_tls.depth != 0; }

// ---- QSBR. A thread registers (offline) on first use; online, it may read
// QSBR stores with no section at all, until it goes offline or announces a
// quiescent state. Each of those ends its QSBR reader epoch (qsbr_epochs)
// and, under TSan, releases the flavor's grace token like the end of a memb
// section.
void QsbrRegisterSlow();  // registers offline; idempotent
inline void QsbrEnsureRegistered() {
  if (__builtin_expect(!detail::reader_tls.qsbr_registered, 0)) QsbrRegisterSlow();
}
void QsbrOnline();      // idempotent; registers first if needed
void QsbrOffline();     // idempotent
void QsbrQuiescent();   // a no-op unless online
inline bool QsbrIsOnline() { return detail::reader_tls.qsbr_online; }

// True if the calling thread may read stores of flavor `f` now: inside a
// memb read section, or online for QSBR.
inline bool ReaderProtected(Flavor f) {
  return f == Flavor::kMemb ? detail::reader_tls.depth != 0 : detail::reader_tls.qsbr_online;
}
// True if waiting for a grace period of `f` on this thread would wait for
// the thread itself. Never for QSBR: the wait takes an online thread offline
// for its duration (a quiescent state for it).
inline bool WaitWouldSelfDeadlock(Flavor f) {
  return f == Flavor::kMemb && detail::reader_tls.depth != 0;
}

// While it lives, a thread online for QSBR is offline (a quiescent state);
// a no-op for offline threads. Every call of the library that may block
// (wait for a grace period or barrier, or take a lock whose holder may wait
// for one: a partition's commit lock) holds one, whatever its store's
// flavor: an online thread that blocks -- on a memb store's grace period
// too, which may wait for a thread that waits for a QSBR grace period --
// would hold back the grace period its blocker waits for.
class OfflineScope {
 public:
  explicit OfflineScope(Flavor) : was_online_(QsbrIsOnline()) {
    if (was_online_) QsbrOffline();
  }
  ~OfflineScope() {
    if (was_online_) QsbrOnline();
  }
  OfflineScope(const OfflineScope&) = delete;
  OfflineScope& operator=(const OfflineScope&) = delete;

 private:
  const bool was_online_;
};

// A read section of flavor `f` for the scope: for memb a (nested) section;
// for QSBR nothing if the thread is online, else it goes online for the
// scope and offline at its end.
class ScopedRead {
 public:
  ScopedRead() { ReadLock(); }
  explicit ScopedRead(Flavor f) : flavor_(f) {
    if (f == Flavor::kMemb) {
      ReadLock();
    } else if (!QsbrIsOnline()) {
      QsbrOnline();
      went_online_ = true;
    }
  }
  ~ScopedRead() {
    if (flavor_ == Flavor::kMemb) {
      ReadUnlock();
    } else if (went_online_) {
      QsbrOffline();
    }
  }
  ScopedRead(const ScopedRead&) = delete;
  ScopedRead& operator=(const ScopedRead&) = delete;

 private:
  Flavor flavor_ = Flavor::kMemb;
  bool went_online_ = false;
};

template <typename T>
inline T* Dereference(T* const& slot) {
#ifdef RCUSTATE_TSAN
  T* p = __atomic_load_n(&slot, __ATOMIC_ACQUIRE);
  RCUSTATE_TSAN_ACQUIRE(&slot);
  return p;
#else
  return rcu_dereference(slot);
#endif
}

// rcu_assign_pointer's guarantee (everything written before is visible to a
// reader that loads the new pointer) is a release store; written as one
// because liburcu's macro assigns through a volatile, which C++20 deprecates
// (clang warns).
template <typename T>
inline void Assign(T*& slot, T* value) {
#ifdef RCUSTATE_TSAN
  RCUSTATE_TSAN_RELEASE(&slot);
#endif
  __atomic_store_n(&slot, value, __ATOMIC_RELEASE);
}

// Waits for a grace period of `f`. Precondition: !WaitWouldSelfDeadlock(f),
// not in a callback. QSBR: an online caller is offline while it waits.
void Synchronize(Flavor f = Flavor::kMemb);

// One owner's (a store's) use of RCU: its flavor, how long a grace period
// may last before the owner counts it as stalled, and the callbacks it has
// queued, which it can wait for.
class CallbackTracker {
 public:
  struct Node;  // one queued callback (rcu.cpp)
  explicit CallbackTracker(Flavor f = Flavor::kMemb,
                           std::chrono::nanoseconds stall_threshold = std::chrono::seconds(1))
      : flavor_(f), stall_threshold_(stall_threshold) {}
  Flavor flavor() const { return flavor_; }
  std::chrono::nanoseconds stall_threshold() const { return stall_threshold_; }
  CallbackTracker(const CallbackTracker&) = delete;
  CallbackTracker& operator=(const CallbackTracker&) = delete;

  // Runs `fn` on a call_rcu worker after a grace period. May be called from
  // any thread, inside a read section, or from another callback. `fn` must
  // not block on a grace period. Throws std::bad_alloc (nothing queued).
  void Defer(absl::AnyInvocable<void() &&> fn);

  // The same in two steps, for paths that must not fail once they started:
  // Prepare() allocates (may throw std::bad_alloc), Defer(Ticket) queues
  // without allocating. A ticket never queued frees its callback unrun.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
    Ticket& operator=(Ticket&& o) noexcept {
      std::swap(node_, o.node_);
      return *this;
    }
    ~Ticket();

   private:
    friend class CallbackTracker;
    explicit Ticket(Node* n) : node_(n) {}
    Node* node_ = nullptr;
  };
  Ticket Prepare(absl::AnyInvocable<void() &&> fn);
  void Defer(Ticket ticket) noexcept;

  // Waits until every callback Defer()ed so far, and every callback those
  // queued, has run. Precondition: !WaitWouldSelfDeadlock(flavor()), not in
  // a callback. QSBR: an online caller is offline while it waits.
  void Drain();

  int64_t pending() const { return pending_.load(std::memory_order_acquire); }
  // urcu barriers Drain() has waited for, by all trackers (tests: a close
  // with nothing queued must not wait for liburcu's callback batching).
  static uint64_t barriers() { return barriers_.load(std::memory_order_relaxed); }

  // Heap bytes one Defer()red callback holds until it has run (its node);
  // the function's own captures are counted by its caller.
  static const size_t kNodeBytes;

 private:
  static void Trampoline(struct rcu_head* head);
  static void QsbrTrampoline(struct rcu_head* head);
  // Both trampolines' body: runs the node's callback, acquiring the flavor's
  // grace token (TSan), and counts it done.
  static void Run(struct rcu_head* head, const char* grace_token_of_flavor);
  const Flavor flavor_;
  const std::chrono::nanoseconds stall_threshold_;
  std::atomic<int64_t> pending_{0};
  static std::atomic<uint64_t> barriers_;
};

}  // namespace rcustate::rcu

#endif  // RCUSTATE_SRC_RCU_RCU_HPP_
