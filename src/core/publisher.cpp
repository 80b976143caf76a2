// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/publisher.cpp
#include "rcustate/abi.hpp"
#include "src/core/publisher.hpp"

#include <pthread.h>

#include <new>
#include <utility>

#include "absl/time/time.h"
#include "src/common/log.hpp"
#include "src/rcu/rcu.hpp"

namespace RCUSTATE_NAMESPACE::detail {
namespace {

class SteadyClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

// The process-wide publishers, one per read flavor (so that a QSBR reader
// that stalls reclamation holds back group commit of QSBR stores only); set
// once, together, by Default().
Publisher* default_publishers[2] = {nullptr, nullptr};

}  // namespace

Publisher& Publisher::Default(rcu::Flavor flavor) {
  // Leaked on purpose: partitions of stores closed at exit may still be
  // cancelling, and their threads only ever wait or publish. A thread starts
  // only with the first batch sealed for its publisher.
  static const bool made = [] {
    auto* clock = new SteadyClock;
    default_publishers[0] = new Publisher(clock, rcu::Flavor::kMemb);
    default_publishers[1] = new Publisher(clock, rcu::Flavor::kQsbr);
    if (pthread_atfork(&BeforeFork, &AfterForkParent, &AfterForkChild) != 0) {
      detail::Fatal("pthread_atfork failed (out of memory): the publisher's fork handlers not installed");
    }
    return true;
  }();
  (void)made;
  return *default_publishers[flavor == rcu::Flavor::kMemb ? 0 : 1];
}

void Publisher::BeforeFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  // Held across fork() so that the child gets the publishers' state whole,
  // and taken between rounds: a round holds partition mutexes, which the
  // child could never take if the fork caught a thread holding one. Always
  // in the same order.
  for (Publisher* p : default_publishers) {
    p->mu_.Lock();
    while (p->busy_ != nullptr) p->mu_.Wait(p->idle_);
  }
}

void Publisher::AfterForkParent() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (Publisher* p : default_publishers) p->mu_.Unlock();
}

void Publisher::AfterForkChild() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (Publisher* p : default_publishers) p->RestartInChild();
}

void Publisher::RestartInChild() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Publisher* p = this;
  // The parent's thread does not exist here: forget it (its std::thread
  // object must not be joined or destroyed). It was between rounds (busy_
  // is empty), most likely waiting on wake_: the mutex and the condition
  // variables still list it as a waiter, and a Signal() here could wake
  // that dead waiter instead of the new thread. Start them afresh, once this
  // thread released the mutex (abseil's checks remember what it holds).
  (void)p->thread_.release();
  p->mu_.Unlock();
  p->mu_.~CheckedMutex();
  new (&p->mu_) CheckedMutex();
  p->wake_.~CondVar();
  new (&p->wake_) absl::CondVar();
  p->idle_.~CondVar();
  new (&p->idle_) absl::CondVar();
  p->started_ = false;
  p->wake_at_ = Clock::TimePoint::max();
  p->pokes_seen_ = p->pokes_;
  const bool scheduled = p->head_ != nullptr;
  if (scheduled) {
    try {
      p->EnsureStarted();
    } catch (...) {
      // No thread: the scheduled partitions are published by their next
      // commit, their standby's callback or Flush().
    }
  }
}

Publisher::Publisher(const Clock* clock, rcu::Flavor flavor) : clock_(clock), flavor_(flavor) {}

Publisher::~Publisher() {
  std::thread t;
  {
    CheckedMutexLock lock(&mu_);
    stop_ = true;
    wake_.Signal();
    if (thread_ != nullptr) t = std::move(*thread_);
  }
  if (t.joinable()) t.join();
}

void Publisher::EnsureStarted() {
  CheckedMutexLock lock(&mu_);
  if (started_) return;
  // May throw: nothing changed then.
  thread_ = std::make_unique<std::thread>([this] { Run(); });
  started_ = true;
}

void Publisher::Link(PublishTarget* t) {
  t->prev_ = nullptr;
  t->next_ = head_;
  if (head_ != nullptr) head_->prev_ = t;
  head_ = t;
  t->state_ = PublishTarget::State::kScheduled;
}

void Publisher::Unlink(PublishTarget* t) {
  if (t->prev_ != nullptr) t->prev_->next_ = t->next_;
  if (t->next_ != nullptr) t->next_->prev_ = t->prev_;
  if (head_ == t) head_ = t->next_;
  t->next_ = t->prev_ = nullptr;
  t->state_ = PublishTarget::State::kIdle;
}

void Publisher::Schedule(PublishTarget* t, Clock::TimePoint deadline) noexcept {
  CheckedMutexLock lock(&mu_);
  switch (t->state_) {
    case PublishTarget::State::kIdle:
      t->deadline_ = deadline;
      Link(t);
      // Wake the thread only if it would sleep past the deadline (a commit
      // that seals the first batch of a round pays no wake-up).
      if (deadline < wake_at_) wake_.Signal();
      break;
    case PublishTarget::State::kScheduled:
      if (deadline < t->deadline_) {
        t->deadline_ = deadline;
        if (deadline < wake_at_) wake_.Signal();
      }
      break;
    case PublishTarget::State::kBusy:
      // Being published: what it published may not include this batch.
      if (!t->again_ || deadline < t->deadline_) t->deadline_ = deadline;
      t->again_ = true;
      break;
  }
}

void Publisher::Cancel(PublishTarget* t) {
  CheckedMutexLock lock(&mu_);
  while (t->state_ == PublishTarget::State::kBusy) mu_.Wait(idle_);
  if (t->state_ == PublishTarget::State::kScheduled) Unlink(t);
  t->again_ = false;
}

void Publisher::Poke() {
  CheckedMutexLock lock(&mu_);
  if (!started_) return;
  const uint64_t target = ++pokes_;
  wake_.Signal();
  while (pokes_seen_ < target && !stop_) mu_.Wait(idle_);
}

uint64_t Publisher::rounds() {
  CheckedMutexLock lock(&mu_);
  return rounds_;
}

void Publisher::Run() {
  for (;;) {
    uint64_t poke;
    {
      CheckedMutexLock lock(&mu_);
      for (;;) {
        if (stop_) return;
        poke = pokes_;
        const Clock::TimePoint now = clock_->Now();
        Clock::TimePoint next = Clock::TimePoint::max();
        for (PublishTarget* t = head_; t != nullptr;) {
          PublishTarget* following = t->next_;
          if (t->deadline_ <= now) {
            Unlink(t);
            t->state_ = PublishTarget::State::kBusy;
            t->next_ = busy_;
            busy_ = t;
          } else if (t->deadline_ < next) {
            next = t->deadline_;
          }
          t = following;
        }
        if (busy_ != nullptr) break;
        pokes_seen_ = poke;
        idle_.SignalAll();
        if (pokes_ != poke) continue;
        wake_at_ = next;
        if (next == Clock::TimePoint::max()) {
          mu_.Wait(wake_);
        } else {
          mu_.WaitWithTimeout(wake_, absl::FromChrono(next - now));
        }
        wake_at_ = Clock::TimePoint::min();  // awake: Schedule need not signal
      }
    }
    // busy_ is this thread's until the round ends: Schedule and Cancel only
    // look at a busy target's state, under mu_.
    PublishTarget* due;
    {
      CheckedMutexLock lock(&mu_);
      due = busy_;
    }
    bool wait = false;
    for (PublishTarget* t = due; t != nullptr; t = t->next_) wait |= t->BeforeGrace();
    // One grace period for every due partition, then each publishes without
    // waiting (unless a publication in between retired its standby again).
    if (wait) rcu::Synchronize(flavor_);
    for (PublishTarget* t = due; t != nullptr; t = t->next_) t->PublishDue(wait);
    CheckedMutexLock lock(&mu_);
    while (busy_ != nullptr) {
      PublishTarget* t = busy_;
      busy_ = t->next_;
      t->next_ = nullptr;
      t->state_ = PublishTarget::State::kIdle;
      if (t->again_) {
        t->again_ = false;
        Link(t);
      }
    }
    ++rounds_;
    pokes_seen_ = poke;
    idle_.SignalAll();
  }
}

}  // namespace rcustate::detail
