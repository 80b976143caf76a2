// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/common/log.cpp
#include "rcustate/abi.hpp"
#include "src/common/log.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>

#include <pthread.h>

namespace RCUSTATE_NAMESPACE {
namespace {

// The handler and its argument change together, under the mutex; a message
// is delivered outside it (a handler may log through rcustate or set a new
// handler without deadlocking).
std::mutex handler_mu;
LogHandler handler = nullptr;
void* handler_arg = nullptr;
// A child of fork() has only the forking thread: if another thread held the
// mutex at the fork, the child's copy would stay locked, and the child's
// next message (a fatal one, say) would hang instead of being delivered.
[[maybe_unused]] const int fork_handler =
    pthread_atfork(nullptr, nullptr, [] { new (&handler_mu) std::mutex; });

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
    case LogLevel::kFatal:
      return "fatal";
  }
  return "?";
}

void Deliver(LogLevel level, const char* format, va_list args) {
  char message[512];
  std::vsnprintf(message, sizeof message, format, args);
  LogHandler fn;
  void* arg;
  {
    std::lock_guard<std::mutex> lock(handler_mu);
    fn = handler;
    arg = handler_arg;
  }
  if (fn != nullptr) {
    try {
      fn(arg, level, message);
    } catch (...) {
      // A handler must not throw; the message (and, for a fatal one, the
      // abort that follows) must not be lost to it.
      std::fprintf(stderr, "rcustate: %s: %s (the log handler threw)\n", LevelName(level),
                   message);
    }
  } else {
    std::fprintf(stderr, "rcustate: %s: %s\n", LevelName(level), message);
  }
}

}  // namespace

void SetLogHandler(LogHandler fn, void* arg) {
  std::lock_guard<std::mutex> lock(handler_mu);
  handler = fn;
  handler_arg = fn != nullptr ? arg : nullptr;
}

namespace detail {

void Log(LogLevel level, const char* format, ...) {
  va_list args;
  va_start(args, format);
  Deliver(level, format, args);
  va_end(args);
}

void Fatal(const char* format, ...) {
  va_list args;
  va_start(args, format);
  Deliver(LogLevel::kFatal, format, args);
  va_end(args);
  std::abort();
}

}  // namespace detail
}  // namespace RCUSTATE_NAMESPACE
