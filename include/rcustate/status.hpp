// SPDX-License-Identifier: LGPL-2.1-or-later
// File: rcustate/status.hpp
//
// The one error style of the rcustate C++ API: every fallible call returns
// `absl::Status` or `absl::StatusOr<T>`. The absl code gives the broad class
// (kNotFound, kInvalidArgument, kFailedPrecondition, ...); `ErrorCodeOf()`
// recovers the precise rcustate error, which the C ABI maps 1:1 onto RCS_E*.
//
//   absl::StatusOr<uint64_t> v = store->Commit(7);
//   if (!v.ok() && rcustate::ErrorCodeOf(v.status()) == rcustate::ErrorCode::kNoPartition) ...
#ifndef RCUSTATE_STATUS_HPP_
#define RCUSTATE_STATUS_HPP_

#include "rcustate/abi.hpp"
#include "rcustate/export.hpp"

#include <string_view>

#include "absl/status/status.h"

namespace RCUSTATE_NAMESPACE {

// Precise error kinds. The numeric values are internal; the C ABI pins its own.
enum class ErrorCode {
  kOk = 0,
  kNotFound,         // key absent (absl kNotFound)
  kInvalidArgument,  // bad argument: size, name, operand (absl kInvalidArgument)
  kNoMemory,         // allocation failed (absl kResourceExhausted)
  kNoPartition,      // unknown or dropped partition (absl kNotFound)
  kExists,           // partition already exists (absl kAlreadyExists)
  kNoTable,          // unknown table id or name (absl kNotFound)
  kRange,            // caller's buffer too small (absl kOutOfRange)
  kState,            // not allowed now: inside a read section, store closed (absl kFailedPrecondition)
  kIo,               // I/O failure (absl kUnavailable)
  kCorrupt,          // corrupt input (absl kDataLoss)
  kInternal,         // a bug of ours (absl kInternal)
};

// Returns the rcustate error carried by `status`; kOk for an OK status. For a
// status rcustate did not create (e.g. one a user's MergeOperator::Validate
// returned): kInvalidArgument for absl kInvalidArgument, kNoMemory for
// kResourceExhausted, kInternal for anything else.
RCUSTATE_EXPORT ErrorCode ErrorCodeOf(const absl::Status& status);

// Builds a status of the given kind. Used by rcustate itself; callers that
// implement a MergeOperator may use it too.
RCUSTATE_EXPORT absl::Status MakeError(ErrorCode code, std::string_view message);

// ---- diagnostics
//
// What the library has to say outside a returned status goes to one handler
// per process: by default stderr ("rcustate: <level>: <message>"). Today
// that is only the fatal conditions that end the process (a fork handler
// that cannot be installed for want of memory, a Store destroyed inside a
// read section); the handler is called first, then abort().
enum class LogLevel { kWarning = 1, kError = 2, kFatal = 3 };

// `message` is NUL-terminated and valid only during the call. A handler is
// called from any thread, perhaps where memory ran out or a lock of the
// library is held: it must not call into rcustate (except SetLogHandler)
// and should only hand the message to the host's logger.
using LogHandler = void (*)(void* arg, LogLevel level, const char* message);

// Sets the process' handler (nullptr: back to stderr). Any thread, any time;
// a message being delivered when it returns may still reach the previous
// handler.
RCUSTATE_EXPORT void SetLogHandler(LogHandler fn, void* arg);

}  // namespace rcustate

#endif  // RCUSTATE_STATUS_HPP_
