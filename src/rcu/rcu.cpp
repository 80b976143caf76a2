// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/rcu/rcu.cpp
#include "rcustate/abi.hpp"
#include "src/rcu/rcu.hpp"

#include <pthread.h>

#include <mutex>

#include "src/common/log.hpp"

namespace RCUSTATE_NAMESPACE {
namespace detail {
thread_local constinit ReaderState reader_tls __attribute__((tls_model("initial-exec")));
void RegisterReaderSlow() { rcu::RegisterSlow(); }
}  // namespace detail

namespace rcu {

char grace_token;
char qsbr_grace_token;

namespace {
// Armed on the first registration of a thread we registered (either
// flavor); unregisters it when the thread exits. A thread must not exit
// inside a read section; an online QSBR thread is taken offline by liburcu.
struct Registration {
  bool armed = false;
  ~Registration() {
    if (!armed || detail::reader_tls.in_callback) return;
    if (detail::reader_tls.registered) {
      urcu_memb_unregister_thread();
      detail::reader_tls.registered = false;
    }
    if (detail::reader_tls.qsbr_registered) {
      urcu_qsbr_unregister_thread();
      detail::reader_tls.qsbr_registered = false;
      detail::reader_tls.qsbr_online = false;
    }
  }
};
thread_local Registration registration;
}  // namespace

namespace {
// fork(): liburcu's call_rcu worker threads do not exist in a child, whose
// call_rcu and barrier would then wait for them forever. liburcu provides the
// hooks, per flavor; they must run around every fork() of the process, so
// they are installed once, before the first registration could queue a
// callback.
void InstallForkHandlers() {
#ifdef RCUSTATE_TSAN
  // ThreadSanitizer's runtime kills a child that starts a thread after a
  // multi-threaded fork, which liburcu's child hook does: with the hooks a
  // TSan build could not even fork and exec. TSan builds do not support
  // using a store in a forked child.
  return;
#endif
  static std::once_flag once;
  std::call_once(once, [] {
    if (pthread_atfork(&urcu_memb_call_rcu_before_fork, &urcu_memb_call_rcu_after_fork_parent,
                       &urcu_memb_call_rcu_after_fork_child) != 0 ||
        pthread_atfork(&urcu_qsbr_call_rcu_before_fork, &urcu_qsbr_call_rcu_after_fork_parent,
                       &urcu_qsbr_call_rcu_after_fork_child) != 0) {
      detail::Fatal("pthread_atfork failed (out of memory): liburcu's fork handlers not installed");
    }
  });
}
}  // namespace

void RegisterSlow() {
  ThreadState& t = detail::reader_tls;
  if (t.registered) return;
  InstallForkHandlers();
  urcu_memb_register_thread();
  t.registered = true;
  registration.armed = true;
}

void Unregister() {
  ThreadState& t = detail::reader_tls;
  if (t.in_callback) return;
  if (t.registered) {
    urcu_memb_unregister_thread();
    t.registered = false;
  }
  if (t.qsbr_registered) {
    if (t.qsbr_online) QsbrOffline();
    urcu_qsbr_unregister_thread();
    t.qsbr_registered = false;
  }
}

// ---- QSBR

void QsbrRegisterSlow() {
  ThreadState& t = detail::reader_tls;
  if (t.qsbr_registered) return;
  InstallForkHandlers();
  urcu_qsbr_register_thread();  // registers online...
  urcu_qsbr_thread_offline();   // ...and a thread we register starts offline
  t.qsbr_registered = true;
  registration.armed = true;
}

void QsbrOnline() {
  QsbrEnsureRegistered();
  ThreadState& t = detail::reader_tls;
  if (t.qsbr_online) return;
#ifdef RCUSTATE_TSAN
  urcu_qsbr_thread_online();
#else
  rcustate_qsbr_thread_online();
#endif
  t.qsbr_online = true;
}

void QsbrOffline() {
  ThreadState& t = detail::reader_tls;
  if (!t.qsbr_online) return;
  t.qsbr_online = false;
  ++t.qsbr_epochs;
  // Before liburcu learns it: once it does, a grace period may end.
  RCUSTATE_TSAN_RELEASE(&qsbr_grace_token);
#ifdef RCUSTATE_TSAN
  urcu_qsbr_thread_offline();
#else
  rcustate_qsbr_thread_offline();
#endif
}

void QsbrQuiescent() {
  ThreadState& t = detail::reader_tls;
  if (!t.qsbr_online) return;
  ++t.qsbr_epochs;
  RCUSTATE_TSAN_RELEASE(&qsbr_grace_token);
#ifdef RCUSTATE_TSAN
  urcu_qsbr_quiescent_state();
#else
  rcustate_qsbr_quiescent_state();
#endif
}

void Synchronize(Flavor f) {
  if (f == Flavor::kMemb) {
    urcu_memb_synchronize_rcu();
    RCUSTATE_TSAN_ACQUIRE(&grace_token);
    return;
  }
  OfflineScope offline(f);
  urcu_qsbr_synchronize_rcu();
  RCUSTATE_TSAN_ACQUIRE(&qsbr_grace_token);
}

namespace {
// Standard layout, so a pointer to `head` is a pointer to the NodeHead.
struct NodeHead {
  struct rcu_head head;
};
}  // namespace

struct CallbackTracker::Node : NodeHead {
  Node(CallbackTracker* o, absl::AnyInvocable<void() &&> f) : owner(o), fn(std::move(f)) {}
  CallbackTracker* owner;
  absl::AnyInvocable<void() &&> fn;
};

std::atomic<uint64_t> CallbackTracker::barriers_{0};
const size_t CallbackTracker::kNodeBytes = sizeof(CallbackTracker::Node);

CallbackTracker::Ticket::~Ticket() { delete node_; }

CallbackTracker::Ticket CallbackTracker::Prepare(absl::AnyInvocable<void() &&> fn) {
  return Ticket(new Node(this, std::move(fn)));
}

void CallbackTracker::Defer(absl::AnyInvocable<void() &&> fn) { Defer(Prepare(std::move(fn))); }

void CallbackTracker::Defer(Ticket ticket) noexcept {
  Node* node = std::exchange(ticket.node_, nullptr);
  pending_.fetch_add(1, std::memory_order_relaxed);
  RCUSTATE_TSAN_RELEASE(node);
  if (flavor_ == Flavor::kMemb) {
    EnsureRegistered();
    urcu_memb_call_rcu(&node->head, &CallbackTracker::Trampoline);
  } else {
    QsbrEnsureRegistered();
    urcu_qsbr_call_rcu(&node->head, &CallbackTracker::QsbrTrampoline);
  }
}

void CallbackTracker::Run(struct rcu_head* head, const char* grace_token_of_flavor) {
  detail::reader_tls.in_callback = true;
  Node* node = static_cast<Node*>(reinterpret_cast<NodeHead*>(head));
  RCUSTATE_TSAN_ACQUIRE(node);
  RCUSTATE_TSAN_ACQUIRE(grace_token_of_flavor);
  CallbackTracker* owner = node->owner;
  std::move(node->fn)();
  delete node;
  // Release: Drain() that sees the count drop also sees the callback's work.
  owner->pending_.fetch_sub(1, std::memory_order_release);
  detail::reader_tls.in_callback = false;
  (void)grace_token_of_flavor;
}

void CallbackTracker::Trampoline(struct rcu_head* head) {
  // liburcu registers its worker threads itself; record that so our code on
  // this thread neither registers it again nor unregisters it.
  detail::reader_tls.registered = true;
  Run(head, &grace_token);
}

void CallbackTracker::QsbrTrampoline(struct rcu_head* head) {
  // liburcu's QSBR workers are registered and run callbacks online. Ours
  // run offline: a callback may take a partition's mutex, whose holder may be
  // waiting for a QSBR grace period -- which would wait for this thread if it
  // stayed online. Nothing of ours needs protection here (the grace period
  // is over); code that reads opens its own section, which goes online for
  // its scope. liburcu gets the thread back online.
  detail::reader_tls.qsbr_registered = true;
  detail::reader_tls.qsbr_online = false;
  urcu_qsbr_thread_offline();
  Run(head, &qsbr_grace_token);
  urcu_qsbr_thread_online();
}

void CallbackTracker::Drain() {
  if (pending_.load(std::memory_order_acquire) == 0) return;  // nothing to wait for
  OfflineScope offline(flavor_);
  if (flavor_ == Flavor::kMemb) {
    EnsureRegistered();
  } else {
    QsbrEnsureRegistered();
  }
  // The barrier waits only for callbacks queued before it; callbacks queued
  // by callbacks need another round.
  while (pending_.load(std::memory_order_acquire) != 0) {
    barriers_.fetch_add(1, std::memory_order_relaxed);
    if (flavor_ == Flavor::kMemb) {
      urcu_memb_barrier();
    } else {
      urcu_qsbr_barrier();
    }
  }
}

}  // namespace rcu
}  // namespace rcustate
