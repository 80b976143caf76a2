// File: src/core/local_delta.cpp
#include "src/core/local_delta.hpp"

#include "src/core/merge_apply.hpp"
#include "src/rcu/rcu.hpp"

namespace rcustate::detail {

thread_local constinit size_t local_nonempty __attribute__((tls_model("initial-exec"))) = 0;

namespace {

bool Counted(const LocalEntry& e) { return !e.delta->empty() || e.has_sealed(); }

void Keep(LocalEntry& e, std::unique_ptr<Delta> d) {
  constexpr size_t kMaxSpares = 4;
  if (e.spares.size() >= kMaxSpares) return;
  d->Reset();
  e.spares.push_back(std::move(d));
}

// Forgets the first `n` sealed groups (they are published).
void DropSealed(LocalEntry& e, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    for (auto& d : e.sealed[i].batches) Keep(e, std::move(d));
    if (e.sealed[i].folded != nullptr) Keep(e, std::move(e.sealed[i].folded));
  }
  e.sealed.erase(e.sealed.begin(), e.sealed.begin() + static_cast<ptrdiff_t>(n));
}
void DropAllSealed(LocalEntry& e) { DropSealed(e, e.sealed.size()); }

// One-entry cache in front of `local`: writers usually hit the same partition
// again and again. Plain data with initial-exec TLS, so the hit costs two
// %fs-relative loads; `local` itself has a destructor, which makes every
// access go through a TLS init wrapper and __tls_get_addr (10% of a window
// run's instructions under callgrind).
struct LastEntry {
  uint64_t store_id = 0;  // store ids start at 1
  uint32_t partition = 0;
  LocalEntry* entry = nullptr;
};
thread_local constinit LastEntry last __attribute__((tls_model("initial-exec")));

struct LocalDeltas {
  using Key = std::pair<uint64_t, uint32_t>;  // store id, partition
  absl::flat_hash_map<Key, std::unique_ptr<LocalEntry>> entries;
  // ScratchValue() storage and the section it belongs to.
  std::deque<std::string> scratch;
  uint64_t scratch_section = 0;

  ~LocalDeltas() {
    last = LastEntry{};
    for (auto& [key, entry] : entries) {
      if (Counted(*entry)) --local_nonempty;
    }
  }
};

thread_local LocalDeltas local;

LocalEntry* Lookup(uint64_t store_id, uint32_t partition) {
  LocalDeltas::Key key{store_id, partition};
  if (last.entry != nullptr && last.store_id == store_id && last.partition == partition) {
    return last.entry;
  }
  auto it = local.entries.find(key);
  if (it == local.entries.end()) return nullptr;
  last = LastEntry{store_id, partition, it->second.get()};
  return last.entry;
}

}  // namespace

LocalEntry* FindLocalEntry(const StoreState& store, uint32_t partition) {
  return Lookup(store.id, partition);
}

void EraseLocal(const StoreState& store, uint32_t partition) {
  auto it = local.entries.find(LocalDeltas::Key{store.id, partition});
  if (it == local.entries.end()) return;
  if (Counted(*it->second)) --local_nonempty;
  if (last.entry == it->second.get()) last = LastEntry{};
  local.entries.erase(it);
}

absl::StatusOr<LocalEntry*> LocalEntryFor(const std::shared_ptr<StoreState>& store,
                                          uint32_t partition) {
  if (LocalEntry* e = Lookup(store->id, partition)) {
    if (!e->partition->dropped()) return e;
    EraseLocal(*store, partition);
  }
  absl::StatusOr<PartitionRef> ref = store->Acquire(partition);
  if (!ref.ok()) return ref.status();
  // Creating an entry is the slow path: also forget entries whose store was
  // closed or whose partition was dropped, so that a long-lived thread does
  // not accumulate them.
  for (auto it = local.entries.begin(); it != local.entries.end();) {
    LocalEntry& old = *it->second;
    if (old.store->closed() || old.partition->dropped()) {
      if (Counted(old)) --local_nonempty;
      local.entries.erase(it++);
    } else {
      ++it;
    }
  }
  last = LastEntry{};
  auto entry = std::make_unique<LocalEntry>();
  entry->store = store;
  entry->partition = *std::move(ref);
  entry->delta = std::make_unique<Delta>(store->schema.tables.size());
  LocalEntry* raw = entry.get();
  LocalDeltas::Key key{store->id, partition};
  local.entries[key] = std::move(entry);
  last = LastEntry{store->id, partition, raw};
  return raw;
}

void ResetLocal(LocalEntry& entry) {
  const bool before = Counted(entry);
  entry.delta->Reset();
  if (before && !Counted(entry)) --local_nonempty;
}

absl::StatusOr<uint64_t> CommitForThread(const std::shared_ptr<StoreState>& store,
                                         uint32_t partition, std::unique_ptr<Delta>* batch) {
  if (rcu::InReadSection()) return InsideReadSection("Commit");
  if (absl::Status s = store->CheckOpen(); !s.ok()) return s;
  absl::StatusOr<LocalEntry*> e = LocalEntryFor(store, partition);
  if (!e.ok()) return e.status();
  LocalEntry& entry = **e;
  const bool before = Counted(entry);
  const bool group_commit = store->max_publish_delay.count() > 0;
  std::unique_ptr<Delta>& delta = batch != nullptr ? *batch : entry.delta;
  absl::StatusOr<CommitResult> r = entry.partition->Commit(store->schema, delta, group_commit);
  if (!r.ok()) {
    EraseLocal(*store, partition);
    return r.status();
  }
  if (r->visible) {
    // A publication publishes everything sealed before it.
    DropAllSealed(entry);
  } else {
    size_t published = 0;
    while (published < entry.sealed.size() &&
           entry.sealed[published].last_version <= r->published_version) {
      ++published;
    }
    DropSealed(entry, published);
    // Keep the sealed batch for read-your-writes; the thread writes on.
    if (entry.sealed.empty() || entry.sealed.back().epoch != r->epoch) {
      entry.sealed.emplace_back().epoch = r->epoch;
    }
    SealedGroup& group = entry.sealed.back();
    group.batches.push_back(std::move(delta));
    group.last_version = r->version;
    if (entry.spares.empty()) {
      delta = std::make_unique<Delta>(store->schema.tables.size());
    } else {
      delta = std::move(entry.spares.back());
      entry.spares.pop_back();
    }
  }
  const bool after = Counted(entry);
  if (before && !after) --local_nonempty;
  if (!before && after) ++local_nonempty;
  return r->version;
}

absl::StatusOr<uint64_t> FlushForThread(const std::shared_ptr<StoreState>& store,
                                        uint32_t partition) {
  if (rcu::InReadSection()) return InsideReadSection("Flush");
  if (absl::Status s = store->CheckOpen(); !s.ok()) return s;
  absl::StatusOr<PartitionRef> p = store->Acquire(partition);
  if (!p.ok()) return p.status();
  absl::StatusOr<uint64_t> v = (*p)->Flush();
  if (!v.ok()) return v;
  if (LocalEntry* e = Lookup(store->id, partition); e != nullptr && e->has_sealed()) {
    const bool before = Counted(*e);
    DropAllSealed(*e);
    if (before && !Counted(*e)) --local_nonempty;
  }
  return v;
}

namespace {

// The group's batches folded into one delta.
const Delta& SealedView(LocalEntry& entry, SealedGroup& group, const Schema& schema) {
  if (group.folded == nullptr) {
    if (entry.spares.empty()) {
      group.folded = std::make_unique<Delta>(schema.tables.size());
    } else {
      group.folded = std::move(entry.spares.back());
      entry.spares.pop_back();
    }
  }
  for (auto& d : group.batches) {
    group.folded->AbsorbMove(schema, *d);
    Keep(entry, std::move(d));
  }
  group.batches.clear();
  return *group.folded;
}

}  // namespace

std::optional<std::optional<std::string_view>> ReadOwn(LocalEntry& entry, const Schema& schema,
                                                       uint64_t snapshot_version, TableId table,
                                                       std::string_view key, const TableMap& map) {
  // The layers over the snapshot, oldest first: the unpublished sealed groups
  // (a suffix of entry.sealed, folded on first read), then the uncommitted
  // delta.
  size_t first = entry.sealed.size();
  while (first > 0 && entry.sealed[first - 1].last_version > snapshot_version) --first;
  auto layer = [&](size_t i) -> const Delta& {
    return i < entry.sealed.size() ? SealedView(entry, entry.sealed[i], schema) : *entry.delta;
  };
  const size_t end = entry.sealed.size() + 1;
  bool touched = false;
  for (size_t i = first; i < end && !touched; ++i) {
    touched = layer(i).cleared(table) || layer(i).Find(table, key) != nullptr;
  }
  if (!touched) return std::nullopt;

  // The thread's own records may change before its section ends: the value
  // is built in its scratch area.
  std::string* out = ScratchValue();
  bool exists = false;
  if (auto it = map.find(key); it != map.end()) {
    out->assign(it->second);
    exists = true;
  }
  const MergeKind kind = schema.kinds[table];
  const MergeOperator* mop = schema.tables[table].merge.get();
  for (size_t i = first; i < end; ++i) {
    const Delta& d = layer(i);
    if (d.cleared(table)) exists = false;  // what the delta records came after the clear
    const Op* op = d.Find(table, key);
    if (op == nullptr) continue;
    switch (op->kind) {
      case Op::kPut:
        out->assign(op->value);
        exists = true;
        break;
      case Op::kErase:
        exists = false;
        break;
      case Op::kMerge:
        if (!exists) out->clear();
        MergeInto(kind, mop, *out, exists, op->value);
        exists = true;
        break;
    }
  }
  if (!exists) return std::optional<std::string_view>();
  return std::optional<std::string_view>(*out);
}

std::string* ScratchValue() {
  if (local.scratch_section != rcu::tls.sections) {
    local.scratch.clear();
    local.scratch_section = rcu::tls.sections;
  }
  return &local.scratch.emplace_back();
}

}  // namespace rcustate::detail
