// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/impl_lfht.hpp
//
// `lfht`: liburcu's lock-free RCU hash table (cds_lfht), one per table per
// partition, updated key by key: every Put/Merge builds a new node and
// replaces the old one (cds_lfht_add_replace / cds_lfht_replace), which goes
// through call_rcu. Readers see each update on its own, so there is no batch
// atomicity (its readers only count the torn batches they see) and commit is
// a no-op. It is the read-path reference of a per-key RCU structure.
#ifndef RCUSTATE_BENCH_IMPL_LFHT_HPP_
#define RCUSTATE_BENCH_IMPL_LFHT_HPP_

#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/impl_base.hpp"
#include "bench/urcu.hpp"

#include <urcu/rculfhash.h>

namespace rcsbench {

class LfhtImpl : public ImplBase<LfhtImpl, UrcuThreads> {
 public:
  static constexpr std::string_view kName = "lfht";
  static constexpr bool kConcurrent = true;
  static constexpr bool kBatchAtomic = false;
  static constexpr bool kHasPins = false;

 private:
  // Node layout: this header, then the key bytes, then the value bytes.
  struct Node {
    struct cds_lfht_node node;  // first: a cds_lfht_node* is a Node*
    struct rcu_head head;
    uint32_t klen, vlen;
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
    char* data() { return reinterpret_cast<char*>(this + 1); }
    std::string_view key() const { return {data(), klen}; }
    std::string_view value() const { return {data() + klen, vlen}; }
  };
  static Node* NewNode(std::string_view key, std::string_view value) {
    void* mem = ::operator new(sizeof(Node) + key.size() + value.size());
    Node* n = new (mem) Node;
    cds_lfht_node_init(&n->node);
    n->klen = static_cast<uint32_t>(key.size());
    n->vlen = static_cast<uint32_t>(value.size());
    std::memcpy(n->data(), key.data(), key.size());
    std::memcpy(n->data() + key.size(), value.data(), value.size());
    return n;
  }
  static Node* FromLfht(struct cds_lfht_node* n) { return reinterpret_cast<Node*>(n); }
  static void FreeNode(struct rcu_head* h) {
    Node* n = reinterpret_cast<Node*>(reinterpret_cast<char*>(h) - offsetof(Node, head));
    n->~Node();
    ::operator delete(n);
  }
  static int Match(struct cds_lfht_node* n, const void* key) {
    return FromLfht(n)->key() == *static_cast<const std::string_view*>(key);
  }
  static unsigned long Hash(std::string_view key) { return KeyHash{}(key); }

 public:
  class View {
   public:
    View(const LfhtImpl* impl, uint32_t p) : impl_(impl), p_(p) {}
    std::optional<std::string_view> Find(uint32_t t, std::string_view key) const {
      struct cds_lfht_iter iter;
      cds_lfht_lookup(impl_->Table(p_, t), Hash(key), &LfhtImpl::Match, &key, &iter);
      struct cds_lfht_node* n = cds_lfht_iter_get_node(&iter);
      if (n == nullptr) return std::nullopt;
      return FromLfht(n)->value();
    }
    template <typename F>
    void ForEach(uint32_t t, F&& f) const {
      struct cds_lfht_iter iter;
      struct cds_lfht_node* n;
      cds_lfht_for_each(impl_->Table(p_, t), &iter, n) {
        const Node* node = FromLfht(n);
        f(node->key(), node->value());
      }
    }
    size_t Size(uint32_t t) const {
      long before, after;
      unsigned long count;
      cds_lfht_count_nodes(impl_->Table(p_, t), &before, &count, &after);
      return count;
    }

   private:
    const LfhtImpl* impl_;
    uint32_t p_;
  };

  LfhtImpl(const Schema& schema, const Config&)
      : num_tables_(static_cast<uint32_t>(schema.tables.size())) {
    for (const TableDef& t : schema.tables) kinds_.push_back(t.merge);
    writers_.resize(schema.partitions);
    for (uint32_t i = 0; i < schema.partitions * num_tables_; ++i) {
      unsigned long init = 1024;
      while (init < schema.tables[i % num_tables_].expected) init *= 2;
      tables_.push_back(cds_lfht_new_flavor(init, 1024, 0,
                                            CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
                                            &urcu_memb_flavor, nullptr));
      if (tables_.back() == nullptr) Die("cds_lfht_new failed");
    }
  }
  // Called on a registered thread, outside read sections, with no reader left.
  ~LfhtImpl() {
    for (struct cds_lfht* ht : tables_) {
      EmptyTable(ht);
      if (cds_lfht_destroy(ht, nullptr) != 0) Die("cds_lfht_destroy failed");
    }
    urcu_memb_barrier();
  }

  void Put(uint32_t p, uint32_t t, std::string_view key, std::string_view value) {
    UrcuReadGuard g;
    struct cds_lfht* ht = Table(p, t);
    Node* n = NewNode(key, value);
    struct cds_lfht_node* old = cds_lfht_add_replace(ht, Hash(key), &Match, &key, &n->node);
    if (old != nullptr) Retire(p, FromLfht(old));
  }
  void Merge(uint32_t p, uint32_t t, std::string_view key, std::string_view operand) {
    UrcuReadGuard g;
    struct cds_lfht* ht = Table(p, t);
    const unsigned long hash = Hash(key);
    struct cds_lfht_iter iter;
    cds_lfht_lookup(ht, hash, &Match, &key, &iter);
    struct cds_lfht_node* found = cds_lfht_iter_get_node(&iter);
    std::string& scratch = writers_[p].scratch;
    if (found == nullptr) {
      scratch.assign(operand.data(), operand.size());
    } else {
      scratch.assign(FromLfht(found)->value());
      MergeInPlace(kinds_[t], scratch, true, operand);
    }
    Node* n = NewNode(key, scratch);
    if (found == nullptr) {
      cds_lfht_add(ht, hash, &n->node);  // one writer per partition: no racing insert
    } else {
      if (cds_lfht_replace(ht, &iter, hash, &Match, &key, &n->node) != 0) Die("cds_lfht_replace");
      Retire(p, FromLfht(found));
    }
  }
  void Clear(uint32_t p, uint32_t t) { writers_[p].retired += EmptyTable(Table(p, t)); }
  void Commit(uint32_t p) { ++writers_[p].commits; }

  template <typename F>
  void Read(uint32_t p, F&& f) {
    UrcuReadGuard g;
    View v(this, p);
    f(v);
  }
  void Collect(RunResult& r) const {
    for (const WriterState& w : writers_) {
      r.async_reclaims += w.retired;
      r.publications += w.commits;
    }
  }

 private:
  struct cds_lfht* Table(uint32_t p, uint32_t t) const { return tables_[p * num_tables_ + t]; }
  void Retire(uint32_t p, Node* n) {
    ++writers_[p].retired;
    urcu_memb_call_rcu(&n->head, &LfhtImpl::FreeNode);
  }
  // Removes every node; returns how many went to call_rcu.
  static uint64_t EmptyTable(struct cds_lfht* ht) {
    UrcuReadGuard g;
    struct cds_lfht_iter iter;
    struct cds_lfht_node* n;
    uint64_t removed = 0;
    cds_lfht_for_each(ht, &iter, n) {
      if (cds_lfht_del(ht, n) == 0) {
        urcu_memb_call_rcu(&FromLfht(n)->head, &LfhtImpl::FreeNode);
        ++removed;
      }
    }
    return removed;
  }

  uint32_t num_tables_;
  std::vector<MergeKind> kinds_;
  std::vector<struct cds_lfht*> tables_;
  // Per partition, touched only by the partition's writer thread.
  struct alignas(64) WriterState {
    std::string scratch;
    uint64_t commits = 0, retired = 0;
  };
  std::vector<WriterState> writers_;
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_IMPL_LFHT_HPP_
