// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/sealed_queue.cpp
#include "rcustate/abi.hpp"
#include "src/core/sealed_queue.hpp"

#include <new>

#include <string>
#include <type_traits>
#include <utility>

#include "src/core/safe_map.hpp"

namespace RCUSTATE_NAMESPACE::detail {
namespace {

size_t StringHeap(const std::string& s) {
  static const size_t kInline = std::string().capacity();
  return s.capacity() > kInline ? s.capacity() + 1 : 0;
}

}  // namespace

size_t DeltaBytes(const Delta& d) {
  size_t total = sizeof(Delta) + d.tables().capacity() * sizeof(TableDelta);
  for (const TableDelta& t : d.tables()) {
    using Slot = std::remove_reference_t<decltype(t.ops)>::value_type;
    total += t.ops.capacity() * (sizeof(Slot) + 1);
    for (const auto& [key, op] : t.ops) total += StringHeap(key) + StringHeap(op.value);
  }
  return total;
}

SealedQueue::SealedQueue(size_t num_tables) : spares_(num_tables, 2) {}

SealedQueue::Result SealedQueue::Seal(const Schema& schema, std::unique_ptr<Delta>& delta,
                                      const SealRequest& request,
                                      const std::atomic<uint64_t>& published) {
  const bool keep = request.keep;
  // Allocate first: the copy (or the empty delta that replaces the caller's)
  // and the queue's slot. Any of these may throw; nothing is changed yet.
  std::unique_ptr<Delta> spare;
  {
    CheckedMutexLock lock(&mu_);
    spare = spares_.Take();
    batches_.reserve(batches_.size() + 1);
  }
  if (keep) {
    try {
      // Room first (a failure there leaves the spare whole), then the copy.
      for (size_t t = 0; t < delta->tables().size(); ++t) {
        ReserveSafely(spare->tables()[t].ops, delta->tables()[t].ops.size());
      }
    } catch (const std::bad_alloc&) {
      GiveSpare(std::move(spare));
      throw;
    }
    try {
      spare->Absorb(schema, *delta);  // into an empty delta: a plain copy
    } catch (const std::bad_alloc&) {
      // Absorb leaves the spare whole (a prefix of the copy): back to the pool.
      GiveSpare(std::move(spare));
      throw;
    }
  }
  CheckedMutexLock lock(&mu_);
  if (batches_.capacity() == batches_.size()) {
    // A publication took batches and another seal used the room we
    // reserved: reserve again (still before any change).
    try {
      batches_.reserve(batches_.size() + 1);
    } catch (...) {
      spares_.Give(std::move(spare));
      throw;
    }
  }
  Result r{Outcome::kSealed, {}, committed_, absl::OkStatus()};
  if (request.expect_version != 0 && request.expect_version != committed_ + 1) {
    r.outcome = Outcome::kUnexpectedVersion;
  } else if (request.hook != nullptr && unhooked_ > 0 && !request.holds_publication_lock) {
    r.outcome = Outcome::kNeedsPublicationLock;
  } else if (request.hook != nullptr) {
    r.error = request.hook->BeforeQueue(committed_ + 1, keep ? *spare : *delta, batches_, encoder_);
    if (!r.error.ok()) r.outcome = Outcome::kRefused;
  }
  if (r.outcome != Outcome::kSealed) {
    spares_.Give(std::move(spare));
    return r;
  }
  // From here on nothing allocates.
  r.sealed = Sealed{++committed_, take_epoch_, batches_.empty(),
                    published.load(std::memory_order_acquire)};
  r.committed = committed_;
  if (request.hook == nullptr) ++unhooked_;
  entries_.store(entries_.load(std::memory_order_relaxed) + delta->size(),
                 std::memory_order_relaxed);
  if (keep) {
    batches_.push_back(std::move(spare));
  } else {
    batches_.push_back(std::move(delta));
    delta = std::move(spare);
  }
  return r;
}

void SealedQueue::StartAt(uint64_t version) {
  CheckedMutexLock lock(&mu_);
  committed_ = version;
}

void SealedQueue::PeekFrom(size_t from, std::vector<Delta*>& out) {
  CheckedMutexLock lock(&mu_);
  for (size_t i = from; i < batches_.size(); ++i) out.push_back(batches_[i].get());
}

size_t SealedQueue::size() {
  CheckedMutexLock lock(&mu_);
  return batches_.size();
}

uint64_t SealedQueue::TakeAllLocked(bool commit, size_t folded,
                                    std::vector<std::unique_ptr<Delta>>& done,
                                    std::vector<std::unique_ptr<Delta>>& out) {
  // Room reserved by the caller: push_back cannot allocate.
  for (size_t i = 0; i < batches_.size(); ++i) {
    (i < folded ? done : out).push_back(std::move(batches_[i]));
  }
  batches_.clear();
  unhooked_ = 0;
  entries_.store(0, std::memory_order_relaxed);
  if (commit) ++committed_;
  ++take_epoch_;
  return committed_;
}

void SealedQueue::GiveSpare(std::unique_ptr<Delta> d) {
  CheckedMutexLock lock(&mu_);
  spares_.Give(std::move(d));
}

uint64_t SealedQueue::committed() {
  CheckedMutexLock lock(&mu_);
  return committed_;
}

bool SealedQueue::empty() {
  CheckedMutexLock lock(&mu_);
  return batches_.empty();
}

void SealedQueue::Clear() {
  CheckedMutexLock lock(&mu_);
  batches_.clear();
  unhooked_ = 0;
  entries_.store(0, std::memory_order_relaxed);
}

size_t SealedQueue::ApproxBytes() {
  CheckedMutexLock lock(&mu_);
  size_t total = batches_.capacity() * sizeof(batches_[0]);
  for (const auto& d : batches_) total += DeltaBytes(*d);
  total += spares_.ApproxBytes(DeltaBytes);
  return total;
}

}  // namespace rcustate::detail
