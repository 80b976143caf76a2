// SPDX-License-Identifier: LGPL-2.1-or-later
// File: rcustate/write_batch.hpp
//
// An explicit batch of changes, invisible to everybody (including the thread
// that fills it) until committed to a partition. A successful Commit publishes
// all of it atomically and empties the batch; a failed one leaves it intact.
// A batch is bound to the store it was made for and may be committed to any of
// its partitions. It is not thread-safe: one thread at a time.
//
//   rcustate::WriteBatch b(*store);
//   b.Merge(counts, "k", rcustate::EncodeInt64(1)).IgnoreError();
//   b.Clear(window);
//   absl::StatusOr<uint64_t> version = b.Commit(partition);
//
// For the common "stream of updates on my partition" case, Store::Put/Merge/...
// with Store::Commit use a thread-local delta instead and give read-your-writes.
#ifndef RCUSTATE_WRITE_BATCH_HPP_
#define RCUSTATE_WRITE_BATCH_HPP_

#include "rcustate/abi.hpp"
#include "rcustate/export.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rcustate/snapshot.hpp"

namespace RCUSTATE_NAMESPACE {

class Store;
namespace detail {
class Delta;
}

class RCUSTATE_EXPORT WriteBatch {
 public:
  // Throws std::bad_alloc when out of memory (a constructor has no other
  // way to fail; nothing is leaked). Every member reports errors as Status.
  explicit WriteBatch(const Store& store);
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;

  // Each returns kNoTable for an unknown table, kInvalidArgument for a key over
  // 64 KiB or a value/operand the table's merge operator rejects (numeric
  // tables: exactly 8 bytes), kInvalidArgument for Merge on a table without an
  // operator, kState once the store is closed, kNoMemory when an allocation
  // fails. On error the batch is unchanged.
  absl::Status Put(TableId table, std::string_view key, std::string_view value);
  absl::Status Erase(TableId table, std::string_view key);
  absl::Status Merge(TableId table, std::string_view key, std::string_view operand);
  // Empties the table; later changes in this batch apply on top of the empty table.
  absl::Status Clear(TableId table);

  // Publishes the batch to `partition` and returns the new version. Errors:
  // kNoPartition, kState (inside a read section, store closed), kNoMemory
  // (nothing committed). On success the batch is empty again; on error it is
  // intact.
  absl::StatusOr<uint64_t> Commit(uint32_t partition);

  // Drops every change.
  void Reset();
  // Number of distinct keys changed plus tables cleared.
  size_t size() const;
  bool empty() const { return size() == 0; }

 private:
  std::shared_ptr<detail::StoreState> store_;
  std::unique_ptr<detail::Delta> delta_;
};

}  // namespace rcustate

#endif  // RCUSTATE_WRITE_BATCH_HPP_
