// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/kafka/rebalance/rebalance_test.cpp
//
// Partitions that move between processes, end to end, with the documented
// example job (docs/examples/kafka_groupby.c) as the processes.
//
// Each round, against a mock Kafka cluster of its own (librdkafka's
// in-process mock, listening on 127.0.0.1 only, destroyed at the end of the
// round):
//   1. create the input topic (4 partitions) and the changelog topic (4),
//      produce the input: a few thousand records over a few hundred keys,
//      counting what each partition holds per key;
//   2. start process A (the example) in consumer group G; wait until its
//      changelog shows progress;
//   3. start process B in G (a rebalance: A gives partitions up, B restores
//      them), and SIGKILL A at a random moment from then on: before, during
//      or after the rebalance, in the middle of a batch;
//   4. B takes every partition over (A's session expires), consumes the
//      input to its end and exits;
//   5. restore all 4 partitions into a fresh store, from the changelog topic
//      alone, and again from B's checkpoints plus the topic: every count must
//      equal the input's exactly (nothing lost, nothing counted twice) and
//      every partition's "next" offset must be the input's end.
// Rounds run a few at a time (each mostly waits for the mock's group timers).
// RCUSTATE_STRESS_SCALE multiplies the rounds (20 at 1, never fewer). Every
// wait is bounded: a round that does not finish fails with a message and the
// log of both processes.
//
// Environment: RCUSTATE_KAFKA_EXAMPLE = the example executable (meson sets
// it); RCUSTATE_KAFKA_ROUNDS overrides the number of rounds;
// RCUSTATE_KAFKA_PARALLEL the rounds run at once (default 5);
// RCUSTATE_KAFKA_DEBUG is passed to the processes as librdkafka's "debug".
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "rcustate/kafka.h"
#include "rcustate/rcustate.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

constexpr int kPartitions = 4;
constexpr int kRecords = 6000;
constexpr int kKeys = 300;
// Group timings of librdkafka 2.0's mock cluster: a group's first join waits
// 3 s for more members; a member is dropped session.timeout.ms after its last
// sign of life (checked every second), so the session must outlast that
// first wait; a later rebalance waits session.timeout.ms - 1 s for members
// to rejoin.
constexpr const char* kSessionTimeoutMs = "4000";
constexpr const char* kHeartbeatMs = "300";
constexpr const char* kPauseUs = "700";  // per record: A needs ~4 s alone for the input
// When A dies (a random moment of a window that depends on the round):
//   round % 4 == 0: 0-300 ms after B starts: A owns everything, is in the
//                   middle of a batch or giving its partitions up;
//   round % 4 == 1: 300-3000 ms after B starts: A mostly waits for the group
//                   with nothing (its partitions checkpointed and dropped);
//   otherwise:      0-1800 ms after A got its share back: in the middle of a
//                   batch of its share (it needs ~2 s for it).
constexpr int kKillEarlyMs = 300;
constexpr int kKillBetweenMs = 3000;
constexpr int kKillShareMs = 1800;
constexpr Ms kShareTimeout{30000};  // A gets its share back after B joined
constexpr Ms kProgressTimeout{30000};    // A's first commit reaches the changelog
constexpr Ms kFinishTimeout{60000};      // B finishes the input after A's death
constexpr int kBrokerTimeoutMs = 10000;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

std::string SessionTimeoutMs() {
  const char* v = std::getenv("RCUSTATE_KAFKA_SESSION_MS");
  return v != nullptr && *v != '\0' ? v : kSessionTimeoutMs;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A child process running the example, its output in a log file.
struct Child {
  pid_t pid = -1;
  std::string log;

  bool Start(const std::vector<std::string>& args, const std::string& log_path, std::string* why) {
    log = log_path;
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      *why = log_path + ": " + std::strerror(errno);
      return false;
    }
    const pid_t parent = ::getpid();
    pid = ::fork();
    if (pid == 0) {
      // Only async-signal-safe calls until exec. If this test dies (a crash,
      // a timeout), its children die with it instead of running on: A
      // never exits by itself. (The signal follows the forking thread, which
      // outlives its children: each round reaps both.)
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execve(argv[0], argv.data(), environ);
      ::_exit(127);
    }
    const int saved = errno;
    ::close(fd);
    if (pid < 0) {
      *why = std::string("fork: ") + std::strerror(saved);
      return false;
    }
    return true;
  }
  // Waits until it exits or the deadline passes; true if it exited.
  bool WaitUntil(Clock::time_point deadline, int* status) {
    for (;;) {
      const pid_t r = ::waitpid(pid, status, WNOHANG);
      if (r == pid) {
        pid = -1;
        return true;
      }
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(Ms(20));
    }
  }
  bool Exited(int* status) { return WaitUntil(Clock::now(), status); }
  void Kill() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    int status;
    ::waitpid(pid, &status, 0);
    pid = -1;
  }
  ~Child() { Kill(); }
};

// What the input holds: expected[partition][key] = count, and each end.
struct Input {
  std::map<std::string, int64_t> counts[kPartitions];
  int64_t end[kPartitions] = {};
};

struct RoundResult {
  bool ok = false;
  std::string why;
  int kill_after_ms = 0;
  int64_t changelog_at_kill = 0;
  // Where A was when it died, from its log: 0 = still owning every partition,
  // 1 = it had given them up and waited for the group, 2 = it had its share
  // back (processing it, or done with it).
  int a_phase = 0;
  double seconds = 0;
};

// Everything of one round lives here; the destructor tears it down in order.
class Round {
 public:
  Round(int index, std::string exe, std::string base)
      : index_(index), exe_(std::move(exe)), base_(std::move(base)), rng_(0x5eed0000u + index) {}
  ~Round() {
    a_.Kill();
    b_.Kill();
    if (producer_ != nullptr) rd_kafka_destroy(producer_);
    if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
    if (cluster_rk_ != nullptr) rd_kafka_destroy(cluster_rk_);
  }

  RoundResult Run() {
    RoundResult r;
    const auto start = Clock::now();
    r.ok = RunSteps(&r);
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!r.ok) {
      r.why += "\n--- process A log (" + a_.log + ")\n" + ReadFile(a_.log) +
               "--- process B log (" + b_.log + ")\n" + ReadFile(b_.log);
    }
    return r;
  }

 private:
  bool Fail(RoundResult* r, const std::string& why) {
    r->why = "round " + std::to_string(index_) + ": " + why;
    return false;
  }

  bool RunSteps(RoundResult* r) {
    std::filesystem::remove_all(base_);
    std::filesystem::create_directories(base_);
    std::string why;
    if (!StartCluster(&why) || !ProduceInput(&why)) return Fail(r, why);

    // Even rounds: both processes keep checkpoints in one directory (shared
    // storage). Odd rounds: each its own (local disks): B then restores A's
    // partitions from the topic alone.
    const bool shared = index_ % 2 == 0;
    a_dir_ = base_ + (shared ? "/state" : "/state-a");
    b_dir_ = base_ + (shared ? "/state" : "/state-b");
    if (!a_.Start(Args(a_dir_, false), base_ + "/a.log", &why)) return Fail(r, why);

    // A is running once its first commits are in the changelog.
    const auto progress_deadline = Clock::now() + kProgressTimeout;
    for (;;) {
      int64_t n = 0;
      if (!ChangelogRecords(&n, &why)) return Fail(r, why);
      if (n > 0) break;
      int status;
      if (a_.Exited(&status)) return Fail(r, "process A exited before any progress");
      if (Clock::now() >= progress_deadline) {
        return Fail(r, "process A made no progress within " +
                           std::to_string(kProgressTimeout.count()) + " ms");
      }
      std::this_thread::sleep_for(Ms(20));
    }

    if (!b_.Start(Args(b_dir_, true), base_ + "/b.log", &why)) return Fail(r, why);
    const auto b_started = Clock::now();
    // The kill moment is random; nothing below depends on when it lands.
    int delay_ms;
    switch (index_ % 4) {
      case 0:
        delay_ms = std::uniform_int_distribution<int>(0, kKillEarlyMs)(rng_);
        break;
      case 1:
        delay_ms = std::uniform_int_distribution<int>(kKillEarlyMs, kKillBetweenMs)(rng_);
        break;
      default: {
        // Watch A's log for its share (bounded), then pick the moment.
        const auto deadline = Clock::now() + kShareTimeout;
        while (APhase() < 2) {
          int status;
          if (a_.Exited(&status)) return Fail(r, "process A exited during the rebalance");
          if (Clock::now() >= deadline) {
            return Fail(r, "process A did not get its share back within " +
                               std::to_string(kShareTimeout.count()) + " ms of B's start");
          }
          std::this_thread::sleep_for(Ms(10));
        }
        delay_ms = std::uniform_int_distribution<int>(0, kKillShareMs)(rng_);
      }
    }
    std::this_thread::sleep_for(Ms(delay_ms));
    r->kill_after_ms = static_cast<int>(
        std::chrono::duration_cast<Ms>(Clock::now() - b_started).count());
    a_.Kill();
    if (!ChangelogRecords(&r->changelog_at_kill, &why)) return Fail(r, why);
    r->a_phase = APhase();

    int status = 0;
    if (!b_.WaitUntil(Clock::now() + kFinishTimeout, &status)) {
      return Fail(r, "process B did not finish the input within " +
                         std::to_string(kFinishTimeout.count()) + " ms of A's death");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return Fail(r, "process B failed (wait status " + std::to_string(status) + ")");
    }
    if (!Verify(nullptr, &why)) return Fail(r, "restored from the topic alone: " + why);
    if (!Verify(&b_dir_, &why)) return Fail(r, "restored from B's checkpoints + topic: " + why);
    return true;
  }

  // Where A is, from its log (see RoundResult::a_phase).
  int APhase() const {
    const std::string log = ReadFile(a_.log);
    const size_t revoked = log.find("revoked partition");
    if (revoked == std::string::npos) return 0;
    return log.find("assigned partition", revoked) == std::string::npos ? 1 : 2;
  }

  std::vector<std::string> Args(const std::string& dir, bool exit_at_end) {
    std::vector<std::string> args = {exe_,
                                     bootstraps_,
                                     "input",
                                     "changelog",
                                     dir,
                                     "-g",
                                     "groupby-" + std::to_string(index_),
                                     "-X",
                                     std::string("session.timeout.ms=") + SessionTimeoutMs(),
                                     "-X",
                                     std::string("heartbeat.interval.ms=") + kHeartbeatMs,
                                     "-b",
                                     "50",
                                     "-c",
                                     "7",
                                     "-p",
                                     kPauseUs};
    if (exit_at_end) args.push_back("-e");
    if (const char* debug = std::getenv("RCUSTATE_KAFKA_DEBUG"); debug != nullptr && *debug) {
      args.push_back("-X");
      args.push_back(std::string("debug=") + debug);
    }
    return args;
  }

  bool StartCluster(std::string* why) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    cluster_rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (cluster_rk_ == nullptr) {
      *why = std::string("rd_kafka_new: ") + err;
      return false;
    }
    cluster_ = rd_kafka_mock_cluster_new(cluster_rk_, 1);
    if (cluster_ == nullptr) {
      *why = "rd_kafka_mock_cluster_new failed";
      return false;
    }
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
    if (bootstraps_.rfind("127.0.0.1:", 0) != 0) {
      *why = "the mock cluster does not listen on 127.0.0.1: " + bootstraps_;
      return false;
    }
    for (const char* topic : {"input", "changelog"}) {
      if (rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(cluster_, topic, kPartitions, 1)) {
        *why = std::string("rd_kafka_mock_topic_create ") + topic + ": " + rd_kafka_err2str(e);
        return false;
      }
    }
    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), err, sizeof err) ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err)) {
      rd_kafka_conf_destroy(conf);
      *why = err;
      return false;
    }
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (producer_ == nullptr) {
      *why = std::string("rd_kafka_new: ") + err;
      return false;
    }
    return true;
  }

  bool ProduceInput(std::string* why) {
    std::uniform_int_distribution<int> key_dist(0, kKeys - 1), part_dist(0, kPartitions - 1);
    rd_kafka_topic_t* input_topic = rd_kafka_topic_new(producer_, "input", nullptr);
    if (input_topic == nullptr) {
      *why = std::string("rd_kafka_topic_new: ") + rd_kafka_err2str(rd_kafka_last_error());
      return false;
    }
    for (int i = 0; i < kRecords; ++i) {
      char key[32];
      std::snprintf(key, sizeof key, "key-%03d", key_dist(rng_));
      const int p = part_dist(rng_);
      for (;;) {
        // rd_kafka_produce, not the producev macros (GNU statement
        // expressions: clang -Wpedantic warns).
        char value[] = "x";
        if (rd_kafka_produce(input_topic, p, RD_KAFKA_MSG_F_COPY, value, 1, key, std::strlen(key),
                             nullptr) == 0) {
          break;
        }
        const rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          rd_kafka_topic_destroy(input_topic);
          *why = std::string("produce input: ") + rd_kafka_err2str(e);
          return false;
        }
        rd_kafka_poll(producer_, 100);
      }
      ++input_.counts[p][key];
      ++input_.end[p];
    }
    rd_kafka_topic_destroy(input_topic);
    if (rd_kafka_resp_err_t e = rd_kafka_flush(producer_, kBrokerTimeoutMs)) {
      *why = std::string("flush input: ") + rd_kafka_err2str(e);
      return false;
    }
    for (int p = 0; p < kPartitions; ++p) {
      int64_t low = 0, high = 0;
      if (rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(producer_, "input", p, &low,
                                                                   &high, kBrokerTimeoutMs)) {
        *why = std::string("input watermarks: ") + rd_kafka_err2str(e);
        return false;
      }
      if (high != input_.end[p]) {
        *why = "input partition " + std::to_string(p) + " has " + std::to_string(high) +
               " records, " + std::to_string(input_.end[p]) + " were produced";
        return false;
      }
    }
    return true;
  }

  bool ChangelogRecords(int64_t* total, std::string* why) {
    *total = 0;
    for (int p = 0; p < kPartitions; ++p) {
      int64_t low = 0, high = 0;
      if (rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(producer_, "changelog", p, &low,
                                                                   &high, kBrokerTimeoutMs)) {
        *why = std::string("changelog watermarks: ") + rd_kafka_err2str(e);
        return false;
      }
      *total += high;
    }
    return true;
  }

  // Restores every partition into a fresh store (from `dir`'s checkpoints
  // plus the topic, or from the topic alone) and compares it with the input.
  bool Verify(const std::string* dir, std::string* why) {
    rcs_table_spec tables[] = {{"counts", RCS_MERGE_ADD_I64, 0}, {"offsets", RCS_MERGE_NONE, 0}};
    rcs_options o;
    rcs_options_init(&o);
    o.tables = tables;
    o.num_tables = 2;
    rcs_store* store = nullptr;
    if (rcs_store_open(&o, &store) != RCS_OK) {
      *why = rcs_last_error();
      return false;
    }
    rcs_kafka_options ko;
    rcs_kafka_options_init(&ko);
    ko.brokers = bootstraps_.c_str();
    ko.topic = "changelog";
    rcs_kafka* k = nullptr;
    if (rcs_kafka_open(store, &ko, &k) != RCS_OK) {
      *why = rcs_kafka_last_error();
      rcs_store_close(store);
      return false;
    }
    bool ok = true;
    for (int p = 0; p < kPartitions && ok; ++p) ok = VerifyPartition(store, k, dir, p, why);
    rcs_kafka_close(k, kBrokerTimeoutMs);
    rcs_store_close(store);
    return ok;
  }

  bool VerifyPartition(rcs_store* store, rcs_kafka* k, const std::string* dir, int p,
                       std::string* why) {
    const std::string pdir = dir != nullptr ? *dir + "/p-" + std::to_string(p) : std::string();
    rcs_kafka_restore_info info{};
    info.struct_size = sizeof info;
    if (rcs_kafka_restore(k, p, dir != nullptr ? pdir.c_str() : nullptr, nullptr, nullptr,
                          &info) != RCS_OK) {
      *why = std::string("rcs_kafka_restore: ") + rcs_kafka_last_error();
      return false;
    }
    const std::string where = "partition " + std::to_string(p) + " (version " +
                              std::to_string(info.version) + ", checkpoint version " +
                              std::to_string(info.checkpoint_version) + "): ";
    unsigned char buf[8];
    size_t len = 0;
    if (rcs_get(store, p, 1, "next", 4, buf, sizeof buf, &len) != RCS_OK || len != 8) {
      *why = where + "no input offset";
      return false;
    }
    int64_t next = 0;
    for (int i = 7; i >= 0; --i) next = (next << 8) | buf[i];
    if (next != input_.end[p]) {
      *why = where + "the input offset is " + std::to_string(next) + ", the input ends at " +
             std::to_string(input_.end[p]);
      return false;
    }
    rcs_snapshot* snap = nullptr;
    if (rcs_snapshot_open(store, p, &snap) != RCS_OK) {
      *why = rcs_last_error();
      return false;
    }
    struct Walk {
      const std::map<std::string, int64_t>* expected;
      std::string mismatch;
      size_t seen = 0;
    } walk{&input_.counts[p], {}, 0};
    rcs_snapshot_foreach(
        snap, 0,
        [](const void* key, size_t key_len, const void* value, size_t, void* ctx) -> int {
          auto* w = static_cast<Walk*>(ctx);
          const std::string k(static_cast<const char*>(key), key_len);
          int64_t v;
          std::memcpy(&v, value, sizeof v);
          const auto it = w->expected->find(k);
          const int64_t want = it == w->expected->end() ? 0 : it->second;
          if (v != want) {
            w->mismatch = "count of " + k + " is " + std::to_string(v) + ", the input has " +
                          std::to_string(want);
            return 1;
          }
          ++w->seen;
          return 0;
        },
        &walk);
    rcs_snapshot_close(snap);
    if (!walk.mismatch.empty()) {
      *why = where + walk.mismatch;
      return false;
    }
    if (walk.seen != input_.counts[p].size()) {
      *why = where + std::to_string(walk.seen) + " keys counted, the input has " +
             std::to_string(input_.counts[p].size());
      return false;
    }
    return true;
  }

  const int index_;
  const std::string exe_;
  const std::string base_;
  std::mt19937 rng_;
  rd_kafka_t* cluster_rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  std::string bootstraps_;
  std::string a_dir_, b_dir_;
  Input input_;
  Child a_, b_;
};

}  // namespace

int main() {
  const char* exe = std::getenv("RCUSTATE_KAFKA_EXAMPLE");
  if (exe == nullptr || *exe == '\0') {
    std::fprintf(stderr, "RCUSTATE_KAFKA_EXAMPLE must name the kafka_groupby example\n");
    return 1;
  }
  const int scale = std::max(1, EnvInt("RCUSTATE_STRESS_SCALE", 1));
  const int rounds = std::max(1, EnvInt("RCUSTATE_KAFKA_ROUNDS", 20 * scale));
  const int parallel = std::max(1, EnvInt("RCUSTATE_KAFKA_PARALLEL", 5));
  char tmpl[] = "/tmp/rcustate-rebalance-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string base = tmpl;

  std::mutex mu;
  std::vector<RoundResult> results(rounds);
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int w = 0; w < parallel; ++w) {
    workers.emplace_back([&] {
      for (int i = next++; i < rounds; i = next++) {
        RoundResult r;
        {
          Round round(i, exe, base + "/round-" + std::to_string(i));
          r = round.Run();
        }
        std::lock_guard<std::mutex> lock(mu);
        static const char* const phases[] = {"owned everything", "was between owners",
                                             "had its share"};
        std::printf("round %2d: %s  A killed %4d ms after B started (it %s), changelog %5lld"
                    " records, %.1f s\n",
                    i, r.ok ? "ok  " : "FAIL", r.kill_after_ms, phases[r.a_phase],
                    static_cast<long long>(r.changelog_at_kill), r.seconds);
        std::fflush(stdout);
        results[i] = std::move(r);
      }
    });
  }
  for (auto& t : workers) t.join();
  int failed = 0, phase[3] = {0, 0, 0};
  for (const auto& r : results) {
    if (!r.ok) {
      ++failed;
      std::fprintf(stderr, "%s\n", r.why.c_str());
    }
    ++phase[r.a_phase];
  }
  std::printf("%d rounds, %d failed; A killed owning everything in %d, between owners in %d,"
              " with its share in %d; %.1f s\n",
              rounds, failed, phase[0], phase[1], phase[2],
              std::chrono::duration<double>(Clock::now() - start).count());
  if (failed == 0) std::filesystem::remove_all(base);
  return failed == 0 ? 0 : 1;
}
