// File: src/rcu/rcu.hpp
//
// rcustate's only contact with liburcu (flavor urcu-memb). The core uses these
// wrappers and never includes a liburcu header itself.
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

#include <atomic>
#include <cstdint>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "src/rcu/read_side.h"

namespace rcustate::rcu {

// Per-thread state. Plain data so that the fast paths need no TLS guard.
struct ThreadState {
  bool registered = false;   // with liburcu (by us or, for call_rcu workers, by liburcu)
  bool in_callback = false;  // running a call_rcu callback
  uint32_t depth = 0;        // read-section nesting
  uint64_t sections = 0;     // outermost sections ended so far on this thread
};
// initial-exec: one %fs-relative load instead of a __tls_get_addr call from
// inside the shared library (a few dozen bytes of static TLS).
extern thread_local constinit ThreadState tls __attribute__((tls_model("initial-exec")));

// Registers the thread now; idempotent. Returns false if liburcu refused.
void RegisterSlow();
inline void EnsureRegistered() {
  if (__builtin_expect(!tls.registered, 0)) RegisterSlow();
}
// Explicit detach; the caller checked that no section is open.
void Unregister();

// Process-wide token on which TSan sees read sections end (see tsan.hpp).
extern char grace_token;

inline void ReadLock() {
  EnsureRegistered();
  ++tls.depth;
#ifdef RCUSTATE_TSAN
  urcu_memb_read_lock();
#else
  rcustate_rcu_read_lock();
#endif
}
inline void ReadUnlock() {
  if (--tls.depth == 0) {
    ++tls.sections;
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
inline bool InReadSection() { return tls.depth != 0; }

// A read section for the scope: closes it however the scope is left.
class ScopedRead {
 public:
  ScopedRead() { ReadLock(); }
  ~ScopedRead() { ReadUnlock(); }
  ScopedRead(const ScopedRead&) = delete;
  ScopedRead& operator=(const ScopedRead&) = delete;
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

// Waits for a grace period. Precondition: !InReadSection(), not in a callback.
void Synchronize();

// Counts the callbacks one owner (a store) has queued and waits for them.
class CallbackTracker {
 public:
  struct Node;  // one queued callback (rcu.cpp)
  CallbackTracker() = default;
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
  // queued, has run. Precondition: !InReadSection(), not in a callback.
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
  std::atomic<int64_t> pending_{0};
  static std::atomic<uint64_t> barriers_;
};

}  // namespace rcustate::rcu

#endif  // RCUSTATE_SRC_RCU_RCU_HPP_
