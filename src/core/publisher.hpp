// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/publisher.hpp
//
// Group commit's publisher: a thread that publishes what partitions have
// sealed once the oldest sealed batch has waited max_publish_delay, waiting
// for the grace period itself, off every commit path. With it, a sealed batch
// is visible at most max_publish_delay plus one grace period (the end of the
// read sections open when the delay expired) plus the publication itself
// after its commit, whether or not its writer commits again. (The standby's
// retirement ticket usually publishes sooner.)
//
// One process-wide publisher per read flavor (Default()) serves every
// partition of that flavor under group commit; its thread starts with the
// first sealed batch, and again in a forked child. Tests make their own with
// a fake clock.
//
// A partition is scheduled at most once (an intrusive link, so Schedule never
// allocates); when several are due, one grace period serves them all.
#ifndef RCUSTATE_SRC_CORE_PUBLISHER_HPP_
#define RCUSTATE_SRC_CORE_PUBLISHER_HPP_

#include "rcustate/abi.hpp"
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "src/core/checked_mutex.hpp"
#include "src/rcu/rcu.hpp"

namespace RCUSTATE_NAMESPACE::detail {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class Publisher;

// What a partition gives the publisher (Partition derives from it).
class PublishTarget {
 public:
  virtual ~PublishTarget() = default;
  // Before the publisher waits for a grace period: remember what that grace
  // period will reclaim. False if there is nothing to wait for (nothing
  // sealed, or the standby already reclaimed).
  virtual bool BeforeGrace() = 0;
  // After it (`waited`: the publisher did wait for a grace period that began
  // after BeforeGrace; false if no due partition needed one): publish what is
  // sealed. Must not throw.
  virtual void PublishDue(bool waited) noexcept = 0;

 private:
  friend class Publisher;
  // Guarded by the publisher's mutex.
  enum class State { kIdle, kScheduled, kBusy } state_ = State::kIdle;
  bool again_ = false;  // scheduled again while busy
  Clock::TimePoint deadline_{};
  PublishTarget* next_ = nullptr;
  PublishTarget* prev_ = nullptr;
};

class Publisher {
 public:
  // The process-wide publisher of a flavor (steady clock); never destroyed.
  static Publisher& Default(rcu::Flavor flavor);
  // Waits for grace periods of `flavor`.
  explicit Publisher(const Clock* clock, rcu::Flavor flavor = rcu::Flavor::kMemb);
  // Stops the thread. No partition may still be scheduled.
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  const Clock& clock() const { return *clock_; }
  // Starts the thread if it is not running. May throw (std::system_error,
  // std::bad_alloc); call it before a change that needs the publisher.
  void EnsureStarted() ABSL_LOCKS_EXCLUDED(mu_);
  // Publishes `t` at `deadline` or soon after (keeps an earlier deadline).
  // Never allocates or fails. Needs EnsureStarted() first.
  void Schedule(PublishTarget* t, Clock::TimePoint deadline) noexcept ABSL_LOCKS_EXCLUDED(mu_);
  // Unschedules `t`, waiting while the thread is publishing it. Not inside a
  // read section (the thread may be waiting for a grace period).
  void Cancel(PublishTarget* t) ABSL_LOCKS_EXCLUDED(mu_);

  // ---- tests
  // Makes the thread read the clock again and waits until it did (and
  // published whatever was due then).
  void Poke() ABSL_LOCKS_EXCLUDED(mu_);
  // Rounds of publication (each: at most one grace period, then the due
  // partitions).
  uint64_t rounds() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // fork(): the process-wide publisher is locked across it, between two
  // rounds (the prepare handler waits for a round in progress, grace period
  // included), and in the child a new thread takes over with fresh
  // synchronization objects.
  static void BeforeFork();
  static void AfterForkParent();
  static void AfterForkChild();
  void RestartInChild();
  void Link(PublishTarget* t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unlink(PublishTarget* t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* const clock_;
  const rcu::Flavor flavor_;
  CheckedMutex mu_;
  absl::CondVar wake_;  // the thread: something scheduled, poked or stopping
  absl::CondVar idle_;  // Cancel and Poke: a round ended
  // On the heap so that a forked child can abandon the parent's thread
  // object (the thread does not exist there) and start its own.
  std::unique_ptr<std::thread> thread_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t pokes_ ABSL_GUARDED_BY(mu_) = 0;       // requested
  uint64_t pokes_seen_ ABSL_GUARDED_BY(mu_) = 0;  // served
  uint64_t rounds_ ABSL_GUARDED_BY(mu_) = 0;
  // When the thread will look at the clock again (max: when woken).
  Clock::TimePoint wake_at_ ABSL_GUARDED_BY(mu_) = Clock::TimePoint::max();
  PublishTarget* head_ ABSL_GUARDED_BY(mu_) = nullptr;  // scheduled, unordered
  PublishTarget* busy_ ABSL_GUARDED_BY(mu_) = nullptr;  // being published (linked)
};

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_PUBLISHER_HPP_
