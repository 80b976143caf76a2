// SPDX-License-Identifier: LGPL-2.1-or-later
// File: rcustate/write_handle.hpp
//
// A write handle on one table of one partition (Store::Writer): the calling
// thread's uncommitted delta for the partition, resolved once. Each
// Put/Merge/Erase through it is one call that goes straight to the delta's
// map for the table: no partition directory lookup, no search for the
// thread's delta, no table check, and no Status built when it succeeds. Use
// it for a writer's hot loop; Store::Put/Merge/Erase do the same work with
// those lookups on every call.
//
//   rcustate::WriteHandle counts = store->Writer(p, counts_table).value();  // once
//   for (...) {
//     if (absl::Status s = counts.Merge(key, rcustate::EncodeInt64(1)); !s.ok()) ...
//   }
//   store->Commit(p).value();          // or counts.Commit()
//
// Thread rule: a handle belongs to the thread that made it and writes into
// that thread's delta for the partition -- the same delta Store::Put, Commit,
// Abort and Get (read-your-writes) use on that thread. Call Put, Merge, Erase
// and Commit only on that thread, and not after it has exited (builds
// without NDEBUG assert the thread on every one of them); moving and
// destroying a handle touch no thread state and are allowed anywhere. Several handles
// of one thread on one partition (one per table, say) share its delta.
// Commit, Abort and the handle's changes interleave freely: after a commit
// or an abort the handle writes into the (now empty) delta again.
//
// Return values: absl::Status, as everywhere in the library. The success
// path returns the inline absl::OkStatus() (one word, no allocation, no
// message), so a write that succeeds costs no more than a bool; the errors
// keep their code and message.
//
// Errors, each leaving the delta as it was:
//  - kInvalidArgument: a key longer than kMaxKeySize; a value or operand a
//    table's merge operator rejects (a numeric built-in needs 8 bytes);
//    Merge on a table without a merge operator.
//  - kNoMemory: an allocation failed (nothing changed; the call may be retried).
//  - kNoPartition: the partition was dropped after the handle was made (or
//    after the last call). As with Store::Put, the first call to notice it
//    says that this thread's uncommitted changes to the partition were
//    discarded with it (if it had any); then the handle follows the
//    partition id: if the partition was re-created, the next call writes to
//    the new partition, otherwise it returns kNoPartition again.
//  - kState: the store was closed, or the handle is empty (default-made or
//    moved from).
//
// Lifetime: the handle keeps the store's internal state and the partition
// alive (not the Store object); after Store::Close() every write returns
// kState.
#ifndef RCUSTATE_WRITE_HANDLE_HPP_
#define RCUSTATE_WRITE_HANDLE_HPP_

#include "rcustate/abi.hpp"
#include "rcustate/export.hpp"

#include <cstdint>
#include <memory>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rcustate/snapshot.hpp"

namespace RCUSTATE_NAMESPACE {

namespace detail {
class Partition;
class StoreState;
class ThreadEntry;
}  // namespace detail

class Store;

class RCUSTATE_EXPORT WriteHandle {
 public:
  WriteHandle() = default;  // empty: every write returns kState
  WriteHandle(WriteHandle&& other) noexcept;
  WriteHandle& operator=(WriteHandle&& other) noexcept;
  WriteHandle(const WriteHandle&) = delete;
  WriteHandle& operator=(const WriteHandle&) = delete;
  ~WriteHandle();

  bool empty() const { return state_ == nullptr; }
  uint32_t partition() const { return partition_id_; }
  TableId table() const { return table_; }

  // Like Store::Put/Merge/Erase(partition(), table(), ...), errors above.
  absl::Status Put(std::string_view key, std::string_view value);
  absl::Status Merge(std::string_view key, std::string_view operand);
  absl::Status Erase(std::string_view key);
  // Store::Commit(partition()): publishes this thread's delta for the
  // partition (all tables, whatever wrote them) and returns the new version.
  absl::StatusOr<uint64_t> Commit();

 private:
  friend class Store;
  // The common part of the writes: `Change` is Delta's fast operation.
  template <typename Change>
  absl::Status Write(Change&& change);
  // Binds the handle to the thread's current delta for partition_id_ (after
  // a drop, a re-created partition's): kNoPartition, kState.
  absl::Status Rebind();
  void Release() noexcept;

  std::shared_ptr<detail::StoreState> state_;
  // A counted reference; its `dropped` flag tells whether entry_ is still the
  // thread's record for the partition (an entry is forgotten only after its
  // partition was dropped or its store closed).
  detail::Partition* partition_ = nullptr;
  detail::ThreadEntry* entry_ = nullptr;  // null after a failed Rebind
  uint32_t partition_id_ = 0;
  TableId table_ = 0;
  std::thread::id owner_;
};

}  // namespace rcustate

#endif  // RCUSTATE_WRITE_HANDLE_HPP_
