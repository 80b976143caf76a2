// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/replay.cpp
#include "rcustate/abi.hpp"
#include "src/core/replay.hpp"

#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"
#include "src/core/commit.hpp"
#include "src/core/delta.hpp"
#include "src/durable/changelog_record.hpp"
#include "src/rcu/rcu.hpp"

namespace RCUSTATE_NAMESPACE::detail {
namespace {

// Debian's abseil has its own string_view type, which StrCat expects.
absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The record's changes as a batch, checked against the store's tables.
absl::Status BuildBatch(const Schema& schema, const durable::ChangeRecordView& rec, Delta& batch) {
  for (const durable::ChangeRecordView::Table& t : rec.tables) {
    if (t.id >= schema.tables.size() || schema.tables[t.id].name != t.name) {
      return MakeError(ErrorCode::kInvalidArgument,
                       absl::StrCat("the record's table ", t.id, " \"", AsAbsl(t.name),
                                    "\" is not this store's (",
                                    t.id < schema.tables.size()
                                        ? absl::StrCat("its table ", t.id, " is \"",
                                                       schema.tables[t.id].name, "\"")
                                        : absl::StrCat("it has ", schema.tables.size(), " tables"),
                                    ")"));
    }
    if (t.cleared) {
      if (absl::Status s = batch.Clear(schema, t.id); !s.ok()) return s;
    }
    for (const durable::ChangeRecordView::Op& op : t.ops) {
      absl::Status s = op.erase ? batch.Erase(schema, t.id, op.key)
                                : batch.Put(schema, t.id, op.key, op.value);
      if (!s.ok()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         absl::StrCat("the record does not fit table \"", AsAbsl(t.name),
                                      "\": ", s.message()));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> ApplyRecord(const std::shared_ptr<StoreState>& store, uint32_t partition,
                                     std::string_view record) {
  if (store->WaitWouldSelfDeadlock()) return InsideReadSection("Apply");
  rcu::OfflineScope offline(store->flavor());  // QSBR: blocking calls are quiescent
  if (absl::Status s = store->CheckOpen(); !s.ok()) return s;
  try {
    absl::StatusOr<durable::ChangeRecordView> rec = durable::DecodeChangelog(record);
    if (!rec.ok()) return rec.status();
    if (rec->partition != partition) {
      return MakeError(ErrorCode::kInvalidArgument,
                       absl::StrCat("the record is of partition ", rec->partition,
                                    ", not of partition ", partition));
    }
    absl::StatusOr<PartitionRef> p = store->Acquire(partition);
    if (!p.ok()) return p.status();
    const uint64_t committed = (*p)->committed_version();
    if (rec->version <= committed) return committed;  // applied before: idempotent
    if (rec->version != committed + 1) {
      return MakeError(ErrorCode::kState,
                       absl::StrCat("partition ", partition, " expects the record of version ",
                                    committed + 1, ", not of version ", rec->version,
                                    " (records are applied in version order)"));
    }
    auto batch = std::make_unique<Delta>(store->schema.tables.size());
    if (absl::Status s = BuildBatch(store->schema, *rec, *batch); !s.ok()) return s;
    // The version is checked again where the commit takes it: a commit of
    // another thread in between makes this one fail rather than apply the
    // record at another version.
    absl::StatusOr<uint64_t> v = CommitForThread(store, partition, &batch, rec->version);
    if (!v.ok() && ErrorCodeOf(v.status()) == ErrorCode::kState && !store->closed()) {
      const uint64_t now = (*p)->committed_version();
      if (rec->version <= now) return now;  // another thread applied it meanwhile
    }
    return v;
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory,
                     absl::StrCat("Apply to partition ", partition, ": out of memory (nothing applied)"));
  }
}

}  // namespace rcustate::detail
