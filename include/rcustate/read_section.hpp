// File: rcustate/read_section.hpp
//
// Read sections and thread registration.
//
// A ReadSection is an RCU read-side critical section (liburcu, urcu-memb
// flavor). While one is open on a thread, every snapshot, table view and value
// view obtained on that thread stays valid and unchanged, whatever writers
// commit meanwhile. Sections nest; only the outermost one costs anything:
// thread-local updates and a compiler barrier, no atomic RMW, no lock, no
// allocation. Measured: 15-17 ns for an outermost enter + leave in the default
// build, ~9 ns with -Dinitial_exec_tls=true (which makes the library
// impossible to dlopen()).
//
// Rules:
//  - Keep sections short: a writer that needs a grace period waits for every
//    section that was open when it asked.
//  - Inside a section, never commit, flush, drop a partition, release a pin,
//    close a store or detach the thread: those calls return kState and change
//    nothing (they may wait for a grace period, which would deadlock).
//    Destroying a Store there cannot report an error: it aborts the process
//    with a message. Close (or destroy) a store after the section.
//  - A section belongs to its thread; do not move it.
//
//   {
//     rcustate::ReadSection rs;
//     auto v = store->Get(partition, groups, "user-42");   // string_view into the snapshot
//   }  // the view dies here
//
// Threads are registered with RCU automatically on first use and unregistered
// when they exit; AttachThread()/DetachThread() do it explicitly.
#ifndef RCUSTATE_READ_SECTION_HPP_
#define RCUSTATE_READ_SECTION_HPP_

#include "rcustate/export.hpp"

#include "absl/status/status.h"

namespace rcustate {

class RCUSTATE_EXPORT ReadSection {
 public:
  ReadSection();
  ~ReadSection();
  ReadSection(const ReadSection&) = delete;
  ReadSection& operator=(const ReadSection&) = delete;

  // True if the calling thread is inside at least one read section.
  static bool Active();

  // A section without a scope, for bindings that cannot hold an object across
  // calls (the C ABI's rcs_read_lock/rcs_read_unlock). Enter() opens a section
  // on the calling thread, exactly like constructing a ReadSection. Leave()
  // closes the innermost section that Enter() opened on this thread and
  // returns true; with no such section open it is a caller's error: it
  // changes nothing and returns false, so an unbalanced Leave() can never end
  // a section a ReadSection object opened. Every Enter() needs its Leave() on
  // the same thread; prefer the RAII object where an exception could skip the
  // Leave(). Both cost what the RAII object costs (no allocation, no error
  // object on the fast path), which is why Leave() answers with a bool.
  static void Enter() noexcept;
  [[nodiscard]] static bool Leave() noexcept;
};

// Registers the calling thread with RCU now instead of on first use. Idempotent.
RCUSTATE_EXPORT absl::Status AttachThread();
// Unregisters the calling thread (it re-registers on its next use).
// kState inside a read section.
RCUSTATE_EXPORT absl::Status DetachThread();

}  // namespace rcustate

#endif  // RCUSTATE_READ_SECTION_HPP_
