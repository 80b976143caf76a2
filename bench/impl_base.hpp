// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/impl_base.hpp
//
// The interface every implementation adapter (impl_*.hpp) offers the
// scenarios, and ImplBase, which gives the parts most adapters share once: an
// adapter derives from ImplBase<itself, Threads> and defines only what differs
// (its own definition of a member hides the default).
//
// An implementation Impl provides (the scenarios call them with Impl's type,
// so every call is inlined):
//   static constexpr std::string_view kName;
//   static constexpr bool kConcurrent;   // false: one thread, no readers (raw)
//   static constexpr bool kBatchAtomic;  // readers see whole batches (checked)
//   static constexpr bool kHasPins;      // PinScan holds a version without a read section
//   class View { Find(table, key) -> optional<string_view>; ForEach(table, f(k, v)); Size(table) };
//   Impl(const Schema&, const Config&);
//   absl::Status Init();                 // not OK: the run is skipped with that reason
//   static void ThreadStart(), ThreadStop();   // around every thread's use of Impl
//   void Put/Merge(p, table, key, bytes), Clear(p, table), Commit(p);  // p's writer only
//   void Finish(p);                      // makes everything committed to p visible
//   void Read(p, f(const View&));        // f inside one read section: one version
//   void WriterRead(p, f);               // what p's writer committed (read-your-writes)
//   void Scan(p, f);                     // a read that may walk whole tables (verification)
//   bool PinScan(p, scan(View), hold()); // scan a held version, hold() it, release it;
//                                        // false if there are no pins (scan ran in Read)
//   void Collect(RunResult&) const;      // the implementation's own counters
#ifndef RCUSTATE_BENCH_IMPL_BASE_HPP_
#define RCUSTATE_BENCH_IMPL_BASE_HPP_

#include <cstdint>

#include "absl/status/status.h"

namespace rcsbench {

// Threads that need no registration (Threads parameter of ImplBase; urcu.hpp
// has the liburcu one).
struct UnregisteredThreads {
  static void ThreadStart() {}
  static void ThreadStop() {}
};

template <class Derived, class Threads = UnregisteredThreads>
class ImplBase : public Threads {
 public:
  absl::Status Init() { return absl::OkStatus(); }
  // Commits are visible when Commit returns.
  void Finish(uint32_t) {}
  // The writer reads what readers read: commits are visible at once.
  template <typename F>
  void WriterRead(uint32_t p, F&& f) {
    self().Read(p, f);
  }
  template <typename F>
  void Scan(uint32_t p, F&& f) {
    self().Read(p, f);
  }
  // No pins: the scan runs inside a read section (and hold() is not called).
  template <typename F, typename Hold>
  bool PinScan(uint32_t p, F&& scan, Hold&&) {
    self().Read(p, scan);
    return false;
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_IMPL_BASE_HPP_
