// File: src/rcu/rcu.cpp
#include "src/rcu/rcu.hpp"

#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace rcustate::rcu {

thread_local constinit ThreadState tls __attribute__((tls_model("initial-exec")));
char grace_token;

namespace {
// Armed on the first registration of a thread we registered; unregisters it
// when the thread exits. A thread must not exit inside a read section.
struct Registration {
  bool armed = false;
  ~Registration() {
    if (armed && tls.registered && !tls.in_callback) {
      urcu_memb_unregister_thread();
      tls.registered = false;
    }
  }
};
thread_local Registration registration;
}  // namespace

namespace {
// fork(): liburcu's call_rcu worker threads do not exist in a child, whose
// call_rcu and barrier would then wait for them forever. liburcu provides the
// hooks; they must run around every fork() of the process, so they are
// installed once, before the first registration could queue a callback.
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
                       &urcu_memb_call_rcu_after_fork_child) != 0) {
      std::fprintf(stderr, "rcustate: fatal: pthread_atfork failed (out of memory)\n");
      std::abort();
    }
  });
}
}  // namespace

void RegisterSlow() {
  if (tls.registered) return;
  InstallForkHandlers();
  urcu_memb_register_thread();
  tls.registered = true;
  registration.armed = true;
}

void Unregister() {
  if (!tls.registered || tls.in_callback) return;
  urcu_memb_unregister_thread();
  tls.registered = false;
}

void Synchronize() {
  urcu_memb_synchronize_rcu();
  RCUSTATE_TSAN_ACQUIRE(&grace_token);
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
  EnsureRegistered();
  RCUSTATE_TSAN_RELEASE(node);
  urcu_memb_call_rcu(&node->head, &CallbackTracker::Trampoline);
}

void CallbackTracker::Trampoline(struct rcu_head* head) {
  // liburcu registers its worker threads itself; record that so our code on
  // this thread neither registers it again nor unregisters it.
  tls.registered = true;
  tls.in_callback = true;
  Node* node = static_cast<Node*>(reinterpret_cast<NodeHead*>(head));
  RCUSTATE_TSAN_ACQUIRE(node);
  RCUSTATE_TSAN_ACQUIRE(&grace_token);
  CallbackTracker* owner = node->owner;
  std::move(node->fn)();
  delete node;
  // Release: Drain() that sees the count drop also sees the callback's work.
  owner->pending_.fetch_sub(1, std::memory_order_release);
  tls.in_callback = false;
}

void CallbackTracker::Drain() {
  if (pending_.load(std::memory_order_acquire) == 0) return;  // nothing to wait for
  EnsureRegistered();
  // urcu_memb_barrier waits only for callbacks queued before it; callbacks
  // queued by callbacks need another round.
  while (pending_.load(std::memory_order_acquire) != 0) {
    barriers_.fetch_add(1, std::memory_order_relaxed);
    urcu_memb_barrier();
  }
}

}  // namespace rcustate::rcu
