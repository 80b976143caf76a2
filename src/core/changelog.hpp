// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/changelog.hpp
//
// The changelog on the commit path: the store's listener (swapped while
// commits run), the record of a commit (encoded from its batch once every
// merge in it is resolved: records hold resulting values), and the call.
// The record format is src/durable/changelog_record.hpp; when and under which
// locks the call happens is Partition's (partition_publish.cpp for a
// publishing commit, Partition::Seal under group commit).
#ifndef RCUSTATE_SRC_CORE_CHANGELOG_HPP_
#define RCUSTATE_SRC_CORE_CHANGELOG_HPP_

#include "rcustate/abi.hpp"
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "rcustate/options.hpp"
#include "src/core/checked_mutex.hpp"
#include "src/core/delta.hpp"
#include "src/core/schema.hpp"
#include "src/durable/changelog_record.hpp"

namespace RCUSTATE_NAMESPACE::detail {

// The store's listener. Commits load it with one acquire load; every
// listener ever set stays alive until the store is destroyed, so a commit
// that loaded one may still call it after it was replaced.
class ChangelogHook {
 public:
  const ChangelogFn* Load() const { return current_.load(std::memory_order_acquire); }
  // Throws std::bad_alloc with nothing changed.
  void Set(ChangelogFn fn) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  std::atomic<const ChangelogFn*> current_{nullptr};
  CheckedMutex mu_;
  std::vector<std::unique_ptr<const ChangelogFn>> all_ ABSL_GUARDED_BY(mu_);
};

// Encodes `delta` (no merge op left) as the record of `version`.
// Throws std::bad_alloc.
std::string_view EncodeRecord(const Schema& schema, uint32_t partition, uint64_t version,
                              const Delta& delta, durable::ChangelogEncoder& encoder);

// Calls the listener: OK, or kIo naming the partition and version with the
// listener's own message (also for an exception it let escape).
absl::Status Notify(const ChangelogFn& fn, uint32_t partition, uint64_t version,
                    std::string_view record);

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_CHANGELOG_HPP_
