// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/fault/fault_sweep.cpp
//
// The fault-injection sweep: a scenario over the C++ API and the C ABI --
// open, create partitions, put/merge/erase/clear through the thread delta and
// through a batch, commit under both publication policies, flush, pin and
// read the pin, TableReader, list, drop, close -- driven step by step, each
// step over every N: the step runs with the Nth allocation of the calling
// thread failing (test/common/alloc_fault.hpp), is checked, then runs once
// more disarmed to move on. After each injected failure it checks:
//  - the call returned kNoMemory / RCS_ENOMEM (or succeeded and did all its
//    work); a call that cannot report an error (a destructor, a void close)
//    either completes or terminates with "rcustate: fatal:" (the parent
//    sees it, since every step runs in a forked child);
//  - no read section is left open on this thread;
//  - no lock is held: another thread commits to the partition, flushes, and
//    creates and drops a partition (which waits for a grace period) within a
//    bound; then this thread goes on;
//  - the partition reads the old version or the new one, whole: its contents
//    equal the model's (a std::map per table) for the version it reports;
//  - under ASan/LSan (the asan build runs this suite) nothing leaks.
//
// The parent forks one child per step; the child replays the steps before it
// disarmed, then sweeps its step. A child that hangs is killed after a bound
// and reported with the step and N it was at (from a progress pipe), then the
// sweep of that step goes on from N+1 in a new child.
//
//   fault_sweep            every step
//   fault_sweep STEP...    only these steps (names as printed)
//
// The steps are in cpp_steps.cpp and c_steps.cpp, what they are made of in
// sweep.cpp, the model and the bounded probe in model.hpp.
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/test_env.hpp"
#include "fault/sweep.hpp"

namespace rcustate::testing::fault {
namespace {

struct Scenario {
  std::string name;
  bool c_api;
  bool group;
};
const Scenario kScenarios[] = {
    {"cpp/immediate", false, false},
    {"cpp/group", false, true},
    {"c/immediate", true, false},
    {"c/group", true, true},
};

std::vector<Step> StepsOf(const Scenario& s) { return s.c_api ? CSteps() : CppSteps(); }

// ---------------------------------------------------------------- the child

// Replays the steps before `index` disarmed, then sweeps step `index` from
// N = first. Returns the exit code: 0 if every check held.
int RunChild(const Scenario& sc, size_t index, int64_t first, int progress_fd) {
  Ctx c;
  c.c_api = sc.c_api;
  c.group = sc.group;
  c.log.progress_fd = progress_fd;
  std::vector<Step> steps = StepsOf(sc);
  for (size_t i = 0; i < index; ++i) {
    c.log.step = sc.name + ": " + steps[i].name;
    c.log.n = 0;
    ++c.attempt;
    steps[i].run(c, 0);
  }
  const Step& step = steps[index];
  c.log.step = sc.name + ": " + step.name;
  int64_t injected = 0;
  for (int64_t n = first;; ++n) {
    c.log.n = n;
    ++c.attempt;
    const bool fired = step.run(c, n);
    if (!fired) break;
    ++injected;
  }
  // Leave nothing behind for LSan: release in the order the API wants.
  c.log.n = 0;
  c.log.Progress("teardown");
  c.pin = PinnedSnapshot();
  c.reader = TableReader();
  c.batch.reset();
  if (c.csnap != nullptr) rcs_snapshot_close(c.csnap);
  if (c.cbatch != nullptr) rcs_batch_destroy(c.cbatch);
  if (c.store != nullptr && !c.store->Close().ok()) c.log.Fail("Close at the end");
  c.store.reset();
  if (c.cs != nullptr) rcs_store_close(c.cs);
  std::fprintf(stderr, "[%s] %lld injected failures checked, %d failures\n", c.log.step.c_str(),
               static_cast<long long>(injected), c.log.failures);
  return c.log.failures == 0 ? 0 : 1;
}

// ---------------------------------------------------------------- the parent

struct ChildResult {
  int status = 0;
  bool timed_out = false;
  bool fatal_message = false;  // "rcustate: fatal:" on its stderr
  std::string last_progress;
};

// Forks a child for one step from N = first, relays its stderr, and kills it
// if it outlives the bound.
ChildResult Spawn(const Scenario& sc, size_t index, int64_t first) {
  int progress[2], err[2];
  if (pipe(progress) != 0 || pipe(err) != 0) {
    std::perror("pipe");
    std::exit(2);
  }
  std::fflush(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // Dies with the parent (a killed test run leaves no hung child behind).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(4);
    close(progress[0]);
    close(err[0]);
    dup2(err[1], 2);
    close(err[1]);
    int rc = RunChild(sc, index, first, progress[1]);
    std::fflush(nullptr);
    std::exit(rc);  // exit, not _exit: LSan checks for leaks at exit
  }
  close(progress[1]);
  close(err[1]);
  ChildResult r;
  std::string progress_buf, err_buf;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::seconds(static_cast<int64_t>(60 * StressScale()));
  bool progress_open = true, err_open = true;
  while (progress_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      r.timed_out = true;
      break;
    }
    pollfd fds[2] = {{progress_open ? progress[0] : -1, POLLIN, 0},
                     {err_open ? err[0] : -1, POLLIN, 0}};
    if (poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count(), 1000))) < 0) continue;
    char buf[4096];
    if (progress_open && (fds[0].revents & (POLLIN | POLLHUP))) {
      ssize_t got = read(progress[0], buf, sizeof buf);
      if (got <= 0) {
        progress_open = false;
      } else {
        progress_buf.append(buf, static_cast<size_t>(got));
      }
    }
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP))) {
      ssize_t got = read(err[0], buf, sizeof buf);
      if (got <= 0) {
        err_open = false;
      } else {
        std::fwrite(buf, 1, static_cast<size_t>(got), stderr);
        err_buf.append(buf, static_cast<size_t>(got));
      }
    }
  }
  close(progress[0]);
  close(err[0]);
  waitpid(pid, &r.status, 0);
  r.fatal_message = err_buf.find("rcustate: fatal:") != std::string::npos;
  // The last complete progress line.
  size_t end = progress_buf.rfind('\n');
  if (end != std::string::npos) {
    size_t start = progress_buf.rfind('\n', end - 1);
    r.last_progress = progress_buf.substr(start == std::string::npos ? 0 : start + 1,
                                          end - (start == std::string::npos ? 0 : start + 1));
  }
  return r;
}

int64_t NOf(const std::string& progress) {
  size_t at = progress.find(" N=");
  return at == std::string::npos ? 0 : std::atoll(progress.c_str() + at + 3);
}

// Sweeps one step in as many children as it takes: a child that dies or
// hangs at N is reported, and the sweep goes on from N+1 once (a step that
// breaks the store at two N needs no more evidence to be fixed).
bool SweepStep(const Scenario& sc, size_t index, const Step& step) {
  const std::string name = sc.name + ": " + step.name;
  bool ok = true;
  int64_t first = 1;
  for (int restarts = 0;; ++restarts) {
    ChildResult r = Spawn(sc, index, first);
    if (!r.timed_out && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) break;
    if (!r.timed_out && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1) {
      ok = false;  // checks failed; the child said which
      break;
    }
    const int64_t n = NOf(r.last_progress);
    const bool terminated = !r.timed_out && WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGABRT;
    if (terminated && r.fatal_message && step.may_terminate && n > 0) {
      std::fprintf(stderr, "[%s] N=%lld: terminated with a clear message, as documented\n",
                   name.c_str(), static_cast<long long>(n));
    } else {
      ok = false;
      std::string how;
      if (r.timed_out) {
        how = "HANG: killed after the bound";
      } else if (WIFSIGNALED(r.status)) {
        how = std::string("died of signal ") + strsignal(WTERMSIG(r.status)) +
              (r.fatal_message ? " with a rcustate: fatal: message" : "") +
              (step.may_terminate ? "" : " (this call must return an error instead)");
      } else if (WEXITSTATUS(r.status) == 3) {
        how = "stopped: the store was left unusable (see the FAIL line above)";
      } else {
        how = "exited with " + std::to_string(WEXITSTATUS(r.status));
      }
      std::fprintf(stderr, "FAIL [%s] %s; last progress: %s\n", name.c_str(), how.c_str(),
                   r.last_progress.c_str());
    }
    if (n <= 0 || restarts >= 1) {
      if (n > 0)
        std::fprintf(stderr, "[%s] not swept beyond N=%lld\n", name.c_str(),
                     static_cast<long long>(n));
      break;
    }
    first = n + 1;
  }
  std::fprintf(stderr, "%s %s\n", ok ? "ok  " : "FAIL", name.c_str());
  return ok;
}

int Main(int argc, char** argv) {
  std::vector<std::string> only(argv + 1, argv + argc);
  std::vector<std::string> failed;
  int run = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const Scenario& sc : kScenarios) {
    std::vector<Step> steps = StepsOf(sc);
    for (size_t i = 0; i < steps.size(); ++i) {
      const std::string name = sc.name + ": " + steps[i].name;
      if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
      ++run;
      if (!SweepStep(sc, i, steps[i])) failed.push_back(name);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The failed steps once more, together (details above, under FAIL [step]).
  for (const std::string& name : failed) std::fprintf(stderr, "failed step: %s\n", name.c_str());
  std::fprintf(stderr, "fault sweep: %d steps, %zu failed, %.1f s\n", run, failed.size(), seconds);
  if (run == 0) return 2;  // a filter that matched nothing ran nothing
  return failed.empty() ? 0 : 1;
}

}  // namespace
}  // namespace rcustate::testing::fault

int main(int argc, char** argv) { return rcustate::testing::fault::Main(argc, argv); }
