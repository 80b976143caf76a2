// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/common/log.hpp
//
// The library's diagnostics: every message it emits goes through Log(), which
// calls the handler set with SetLogHandler (status.hpp) or writes to stderr.
// Knows nothing of liburcu or snapshots, so every layer may use it.
#ifndef RCUSTATE_SRC_COMMON_LOG_HPP_
#define RCUSTATE_SRC_COMMON_LOG_HPP_

#include "rcustate/abi.hpp"
#include "rcustate/status.hpp"

namespace RCUSTATE_NAMESPACE::detail {

// Formats like printf into a fixed buffer (longer messages are cut) and
// hands the message to the handler. Never allocates and never throws: it is
// called where memory ran out.
void Log(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

// Log(kFatal, ...), then abort().
[[noreturn]] void Fatal(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_COMMON_LOG_HPP_
