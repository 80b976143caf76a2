// SPDX-License-Identifier: LGPL-2.1-or-later
// File: rcustate/read_section.hpp
//
// Read sections, QSBR reader threads and thread registration.
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
//
// QSBR stores (StoreOptions::read_flavor = ReadFlavor::kQsbr) are read
// without sections: a thread that is online (ThreadOnline()) may read them
// at any time, at no cost per read, and every view it obtained stays valid
// until it announces a quiescent state (QuiescentState()) or goes offline
// (ThreadOffline()). A stream worker announces one between records. The
// rule it must keep: a thread that is online must announce quiescent states
// regularly, or go offline before it blocks (sleeps, waits for input, waits
// for a lock): until it does, no grace period of a QSBR store ends, so
// commits that wait for one wait, and reclamation stops (docs/design.md,
// "QSBR", says what the library then does and how stats show it). Calls
// that may wait for a grace period or block on a commit (Commit, Flush,
// DropPartition, Close, Stats, Checkpoint, Restore, Apply, ...) are allowed
// on an online thread, whatever the store they are called on, and count as a
// quiescent state: views obtained before them are invalid after them. Do not
// fork() on an online thread: go offline first.
//
//   rcustate::ThreadOnline();
//   for (const Record& r : records) {
//     auto v = reader.Find(r.key);   // a TableReader of a QSBR store
//     ...
//     rcustate::QuiescentState();    // no view of before survives this
//   }
//   rcustate::ThreadOffline();       // before blocking or exiting
//
// rcustate/inline_read.hpp has inline versions of ReadSection and
// QuiescentState for programs that opt in.
#ifndef RCUSTATE_READ_SECTION_HPP_
#define RCUSTATE_READ_SECTION_HPP_

#include "rcustate/abi.hpp"
#include "rcustate/export.hpp"

#include "absl/status/status.h"

#include <cstdint>

namespace RCUSTATE_NAMESPACE {

class Store;

class RCUSTATE_EXPORT ReadSection {
 public:
  ReadSection();
  // A section that protects reads of `store`, whichever its read flavor: for
  // a store of the default (memb) flavor exactly ReadSection(); for a QSBR
  // store nothing if the thread is online, else the thread goes online for
  // the section and offline at its end. For code that reads stores of
  // either flavor.
  explicit ReadSection(const Store& store);
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

 private:
  uint8_t mode_ = 0;  // 0: a memb section; 1: none; 2: went online (QSBR)
};

// ---- QSBR readers. May be called on any thread, any number of times. The
// first ThreadOnline() of a thread registers it (liburcu's registry lock and
// a thread-exit hook); after that all four are allocation-free and never
// block.
// Puts the calling thread online (registering it on first use): it may read
// QSBR stores from now on. Idempotent.
RCUSTATE_EXPORT void ThreadOnline() noexcept;
// Puts it offline: a quiescent state that lasts until ThreadOnline(). Do it
// before blocking. Idempotent.
RCUSTATE_EXPORT void ThreadOffline() noexcept;
RCUSTATE_EXPORT bool ThreadIsOnline() noexcept;
// Announces that the calling thread holds no view of a QSBR store: every
// view it obtained before is invalid after. A no-op on an offline thread.
RCUSTATE_EXPORT void QuiescentState() noexcept;

// Registers the calling thread with RCU now instead of on first use. Idempotent.
RCUSTATE_EXPORT absl::Status AttachThread();
// Unregisters the calling thread (it re-registers on its next use), from
// both flavors (an online thread goes offline first). kState inside a read
// section.
RCUSTATE_EXPORT absl::Status DetachThread();

}  // namespace rcustate

#endif  // RCUSTATE_READ_SECTION_HPP_
