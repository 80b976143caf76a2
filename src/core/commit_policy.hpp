// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/commit_policy.hpp
//
// The publish-or-seal decision of a commit, as a pure function of the facts
// the commit knows (StoreOptions::max_publish_delay):
//
//  - default policy (delay zero): every commit publishes, waiting for the
//    partition mutex and, if the standby's retirement ticket has not run
//    yet, for a grace period;
//  - group commit (delay positive): a commit does not wait for a grace period
//    nor for a publication in progress. It publishes only if it got the
//    mutex without waiting and the standby is already reclaimed; otherwise it
//    seals its batch. How long sealed batches have waited plays no part
//    here: the next commit that finds the standby reclaimed publishes them,
//    and the publisher (publisher.hpp) publishes them, waiting for the grace
//    period itself, once the oldest has waited max_publish_delay.
//    The one exception is the backlog bound (SealedBacklogBound): a commit
//    that finds more sealed changes than that publishes them itself, waiting
//    like the default policy, so that writers faster than publication are
//    held back instead of piling up unpublished batches without bound.
#ifndef RCUSTATE_SRC_CORE_COMMIT_POLICY_HPP_
#define RCUSTATE_SRC_CORE_COMMIT_POLICY_HPP_

#include "rcustate/abi.hpp"
#include <cstddef>

namespace RCUSTATE_NAMESPACE::detail {

enum class CommitAction {
  kPublishWaiting,  // publish, waiting for a grace period if needed
  kPublish,         // publish; the standby is reclaimed, nothing to wait for
  kSeal,            // seal into the queue and return
};

struct CommitFacts {
  bool group_commit;       // max_publish_delay > 0
  bool got_mutex;          // the partition mutex (always true for the default policy)
  bool standby_reclaimed;  // the standby's last retirement is past its grace period
  bool backlog_full = false;  // sealed changes exceed SealedBacklogBound
};

// How many sealed changes (distinct keys changed per batch, summed over the
// batches) a partition under group commit holds at most before its commits
// publish themselves: a 64th of the published entries, and never fewer
// than kMinSealedBacklog, so that small partitions and small batches keep
// the policy's "never waits" in practice.
inline constexpr size_t kMinSealedBacklog = size_t{1} << 16;
constexpr size_t SealedBacklogBound(size_t published_entries) {
  return published_entries / 64 > kMinSealedBacklog ? published_entries / 64 : kMinSealedBacklog;
}

constexpr CommitAction DecideCommit(const CommitFacts& f) {
  if (!f.group_commit || f.backlog_full) return CommitAction::kPublishWaiting;
  if (f.got_mutex && f.standby_reclaimed) return CommitAction::kPublish;
  return CommitAction::kSeal;
}

// Group commit's promise, checked at compile time: without both the mutex
// and a reclaimed standby, a group commit seals (never waits).
static_assert(DecideCommit({true, true, false}) == CommitAction::kSeal);
static_assert(DecideCommit({true, false, true}) == CommitAction::kSeal);
static_assert(DecideCommit({true, true, true}) == CommitAction::kPublish);
static_assert(DecideCommit({false, true, false}) == CommitAction::kPublishWaiting);
static_assert(DecideCommit({true, false, false, true}) == CommitAction::kPublishWaiting);
static_assert(SealedBacklogBound(0) == kMinSealedBacklog);
static_assert(SealedBacklogBound(size_t{64} << 20) == size_t{1} << 20);

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_COMMIT_POLICY_HPP_
