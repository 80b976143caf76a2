// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/durable/child_process.hpp
//
// Child processes of the store-level durability tests: the test executable
// re-executes itself (a fresh process: no fork of a multi-threaded parent,
// which sanitizers refuse), and every wait for a child is bounded.
#ifndef RCUSTATE_TEST_DURABLE_CHILD_PROCESS_HPP_
#define RCUSTATE_TEST_DURABLE_CHILD_PROCESS_HPP_

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace rcustate::testing {

inline int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// This executable, for re-executing it.
inline const std::string& SelfPath() {
  static const std::string self = std::filesystem::canonical("/proc/self/exe");
  return self;
}

// Runs SelfPath() with `args` (argv[1..]); -1 if it could not fork.
inline pid_t SpawnSelf(const std::vector<std::string>& args) {
  std::vector<const char*> argv{SelfPath().c_str()};
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  return pid;
}

// waitpid with a bound: the wait status, or -1 if the child did not end
// before the deadline (it is then killed and reaped).
inline int WaitBounded(pid_t pid, int64_t deadline_ms) {
  for (;;) {
    int status = 0;
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) return status;
    if (w < 0 && errno != EINTR) return -1;
    if (NowMs() > deadline_ms) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    struct timespec ts = {0, 1000000};  // polls a bounded wait; synchronizes nothing
    nanosleep(&ts, nullptr);
  }
}

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class ScratchDir {
 public:
  explicit ScratchDir(const char* prefix = "rcs-store") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(base != nullptr && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
    char* p = mkdtemp(tmpl.data());
    if (p == nullptr) std::abort();
    path_ = p;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace rcustate::testing

#endif  // RCUSTATE_TEST_DURABLE_CHILD_PROCESS_HPP_
