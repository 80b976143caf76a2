// SPDX-License-Identifier: LGPL-2.1-or-later
// File: rcustate/inline_read.hpp
//
// Opt-in: read sections and quiescent states inlined into the caller.
//
// This is the one public header that includes liburcu. Everything in it has
// an out-of-line equivalent in read_section.hpp that costs a call into the
// library (and, in the default dlopen()-safe build, a __tls_get_addr call to
// reach liburcu's per-thread state): about 15 ns per read section. Here the
// fast paths are inlined: a section enter + leave costs a few thread-local
// loads and stores and two compiler barriers (docs/design.md, "Inline read
// sections", has the measurements).
//
// The price, which is why it is opt-in:
//  - The program must link liburcu itself (pkg-config `rcustate-inline`, or
//    `rcustate liburcu-memb liburcu-qsbr`), and the library must be loaded
//    at start (linked, not dlopen()ed): the inline code reaches the
//    library's and liburcu's per-thread state with initial-exec TLS.
//  - The inlined code is liburcu's (LGPL-2.1-or-later, like rcustate), and
//    it depends on the exact layout of rcustate's per-thread reader state:
//    rebuild the program with every new rcustate release (the C++ API has
//    that rule anyway).
//  - Under ThreadSanitizer (GCC's or clang's), the functions below call the
//    library's out-of-line versions instead, so that TSan sees what RCU
//    orders.
//
// InlineReadSection is a ReadSection (for stores of the default memb
// flavor): it nests with ReadSection objects and rcs_read_lock, every rule
// of read_section.hpp applies, and ReadSection::Active() sees it.
// InlineQuiescentState() is QuiescentState() (for QSBR stores).
//
//   #include "rcustate/inline_read.hpp"
//   for (const Record& r : records) {
//     rcustate::InlineReadSection rs;
//     auto v = reader.Find(r.key);      // a TableReader
//     ...
//   }
#ifndef RCUSTATE_INLINE_READ_HPP_
#define RCUSTATE_INLINE_READ_HPP_

#include "rcustate/abi.hpp"
#include <cstdint>

#include "rcustate/export.hpp"
#include "rcustate/read_section.hpp"

#if defined(__SANITIZE_THREAD__)
#define RCUSTATE_INLINE_READ_OUT_OF_LINE 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RCUSTATE_INLINE_READ_OUT_OF_LINE 1
#endif
#endif

#ifndef RCUSTATE_INLINE_READ_OUT_OF_LINE
// The static headers give liburcu's inline fast paths (_urcu_memb_read_lock,
// _urcu_qsbr_quiescent_state, ...) without defining _LGPL_SOURCE for the
// including file.
#include <urcu/static/urcu-memb.h>
#include <urcu/static/urcu-qsbr.h>
#endif

namespace RCUSTATE_NAMESPACE {
namespace detail {
// The calling thread's reader state, shared by the library and the inline
// functions below. Plain data, so that no access needs a TLS guard.
struct ReaderState {
  bool registered = false;        // with liburcu's memb flavor
  bool in_callback = false;       // running a call_rcu callback
  bool qsbr_registered = false;   // with liburcu's QSBR flavor
  bool qsbr_online = false;       // QSBR: online (reads of QSBR stores allowed)
  uint32_t depth = 0;             // memb read-section nesting
  uint64_t sections = 0;          // outermost memb sections ended
  uint64_t qsbr_epochs = 0;       // QSBR quiescent states and offline transitions
};
extern RCUSTATE_EXPORT thread_local constinit ReaderState reader_tls
    __attribute__((tls_model("initial-exec")));
// Registers the calling thread with the memb flavor (idempotent).
RCUSTATE_EXPORT void RegisterReaderSlow();
}  // namespace detail

class InlineReadSection {
 public:
#ifdef RCUSTATE_INLINE_READ_OUT_OF_LINE
  // Under TSan: a ReadSection object, exactly (not Enter/Leave, whose
  // sections an unbalanced Leave could close).
  InlineReadSection() = default;
  ~InlineReadSection() = default;
#else
  InlineReadSection() {
    // The thread-local state is named at every access, never bound to a
    // reference: GCC 12's UBSan reports a false "null pointer" for a
    // reference to an initial-exec variable the linker relaxed.
    if (__builtin_expect(!detail::reader_tls.registered, 0)) detail::RegisterReaderSlow();
    ++detail::reader_tls.depth;
    _urcu_memb_read_lock();
  }
  ~InlineReadSection() {
    if (--detail::reader_tls.depth == 0) ++detail::reader_tls.sections;
    _urcu_memb_read_unlock();
  }
#endif
  InlineReadSection(const InlineReadSection&) = delete;
  InlineReadSection& operator=(const InlineReadSection&) = delete;

#ifdef RCUSTATE_INLINE_READ_OUT_OF_LINE
 private:
  ReadSection section_;
#endif
};

// QuiescentState(), inline: on an online thread, announces that it holds no
// view of a QSBR store; elsewhere it does nothing.
inline void InlineQuiescentState() {
#ifdef RCUSTATE_INLINE_READ_OUT_OF_LINE
  QuiescentState();
#else
  if (__builtin_expect(detail::reader_tls.qsbr_online, 1)) {
    _urcu_qsbr_quiescent_state();
    ++detail::reader_tls.qsbr_epochs;
  }
#endif
}

}  // namespace rcustate

#endif  // RCUSTATE_INLINE_READ_HPP_
