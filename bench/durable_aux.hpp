// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/durable_aux.hpp
//
// What `rcustate-ckpt` and `rcustate-log` add to the `rcustate` adapter, so
// that the harness pairs each with plain `rcustate` in the same process
// (--impls=rcustate,rcustate-ckpt --baseline=rcustate):
//  - Checkpointer: one thread writing Store::Checkpoint of every partition
//    every --checkpoint_incr_every, full when --checkpoint_full_every has
//    passed since the last full one, incremental otherwise; it records how
//    many, how many bytes and how long each took.
//  - ChangelogFile: a changelog listener that appends every record (a 4-byte
//    little-endian length, then the record) to one file through a 1 MiB
//    buffer flushed with write(); no fsync (what a host that batches its
//    fsyncs with its source commits would do).
//  - BenchDir: the directory both use, made fresh under $TMPDIR when
//    --checkpoint_dir is empty and removed afterwards.
#ifndef RCUSTATE_BENCH_DURABLE_AUX_HPP_
#define RCUSTATE_BENCH_DURABLE_AUX_HPP_

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "rcustate/rcustate.hpp"

namespace rcsbench {

// A directory for one run: `dir` if given (created if missing, kept), else a
// fresh one under $TMPDIR (removed by the destructor).
class BenchDir {
 public:
  explicit BenchDir(const std::string& dir) {
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) Die(absl::StrCat("cannot create ", dir, ": ", ec.message()));
      path_ = dir;
      return;
    }
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                                     "/rcustate-bench-XXXXXX");
    if (mkdtemp(templ.data()) == nullptr) Die(absl::StrCat("mkdtemp: ", std::strerror(errno)));
    path_ = templ;
    owned_ = true;
  }
  ~BenchDir() {
    if (!owned_) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool owned_ = false;
};

class Checkpointer {
 public:
  Checkpointer(rcustate::Store* store, uint32_t partitions, std::string dir, const Config& cfg)
      : store_(store),
        partitions_(partitions),
        dir_(std::move(dir)),
        full_every_(cfg.checkpoint_full_every),
        incr_every_(cfg.checkpoint_incr_every) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Checkpointer() { Stop(); }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Ends the thread after the checkpoint in progress. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

  void Collect(RunResult& r) const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    r.ckpt_full = full_.n;
    r.ckpt_incr = incr_.n;
    r.ckpt_full_bytes = full_.bytes;
    r.ckpt_incr_bytes = incr_.bytes;
    r.ckpt_incr_entries = incr_.entries;
    r.ckpt_full_ms_mean = full_.n ? full_.ns / 1e6 / static_cast<double>(full_.n) : 0;
    r.ckpt_incr_ms_mean = incr_.n ? incr_.ns / 1e6 / static_cast<double>(incr_.n) : 0;
    r.ckpt_full_ms_max = full_.max_ns / 1e6;
    r.ckpt_incr_ms_max = incr_.max_ns / 1e6;
  }

 private:
  struct Kind {
    uint64_t n = 0, bytes = 0, entries = 0;
    double ns = 0, max_ns = 0;
  };

  // Ticks at start + k * incr_every; tick k is full when k is a multiple
  // of full_every / incr_every (k = 0 included), incremental otherwise. A
  // checkpoint that overruns the next ticks skips them (a full one still
  // comes at its due tick or the first one after it), so the schedule stays
  // that of the flags whatever a checkpoint costs.
  void Loop() {
    if (absl::Status s = rcustate::AttachThread(); !s.ok()) Die(s.ToString());
    const int64_t per_full = std::max<int64_t>(1, full_every_ / incr_every_);
    const absl::Time start = absl::Now();
    int64_t tick = 0, last_full_tick = -per_full;
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        // Pacing, not synchronization: the wait ends early when Stop() is called.
        const absl::Duration wait = start + tick * incr_every_ - absl::Now();
        if (mu_.AwaitWithTimeout(absl::Condition(&stop_), std::max(wait, absl::ZeroDuration()))) {
          break;
        }
      }
      const bool full = tick - last_full_tick >= per_full;
      if (full) last_full_tick = tick - tick % per_full;
      for (uint32_t p = 0; p < partitions_; ++p) {
        const uint64_t t0 = NowNs();
        absl::StatusOr<rcustate::CheckpointInfo> info = store_->Checkpoint(
            p, absl::StrCat(dir_, "/p-", p),
            full ? rcustate::CheckpointKind::kFull : rcustate::CheckpointKind::kIncremental);
        const double ns = static_cast<double>(NowNs() - t0);
        if (!info.ok()) Die(info.status().ToString());
        absl::MutexLock lock(&mu_);
        Kind& k = info->incremental ? incr_ : full_;
        ++k.n;
        k.bytes += info->bytes;
        k.entries += info->entries;
        k.ns += ns;
        k.max_ns = std::max(k.max_ns, ns);
      }
      // The next tick that has not passed yet.
      tick = std::max(tick + 1, (absl::Now() - start) / incr_every_ + 1);
    }
    if (absl::Status s = rcustate::DetachThread(); !s.ok()) Die(s.ToString());
  }

  rcustate::Store* const store_;
  const uint32_t partitions_;
  const std::string dir_;
  const absl::Duration full_every_, incr_every_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  Kind full_ ABSL_GUARDED_BY(mu_), incr_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

class ChangelogFile {
 public:
  static constexpr size_t kBufferBytes = size_t{1} << 20;

  explicit ChangelogFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) Die(absl::StrCat("open ", path, ": ", std::strerror(errno)));
    buf_.reserve(kBufferBytes);
  }
  ~ChangelogFile() {
    absl::MutexLock lock(&mu_);
    if (!FlushLocked().ok()) Die("changelog flush failed");
    ::close(fd_);
  }
  ChangelogFile(const ChangelogFile&) = delete;
  ChangelogFile& operator=(const ChangelogFile&) = delete;

  // The listener: commits of different partitions may call it at once.
  absl::Status Append(std::string_view record) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    const uint32_t len = static_cast<uint32_t>(record.size());
    unsigned char hdr[4] = {static_cast<unsigned char>(len), static_cast<unsigned char>(len >> 8),
                            static_cast<unsigned char>(len >> 16),
                            static_cast<unsigned char>(len >> 24)};
    if (buf_.size() + sizeof hdr + record.size() > kBufferBytes) {
      if (absl::Status s = FlushLocked(); !s.ok()) return s;
    }
    buf_.insert(buf_.end(), hdr, hdr + sizeof hdr);
    buf_.insert(buf_.end(), record.begin(), record.end());  // may exceed the buffer once
    ++records_;
    bytes_ += sizeof hdr + record.size();
    return absl::OkStatus();
  }

  void Collect(RunResult& r) const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    r.changelog_records = records_;
    r.changelog_bytes = bytes_;
  }

 private:
  absl::Status FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    size_t off = 0;
    while (off < buf_.size()) {
      const ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::InternalError(absl::StrCat("write ", path_, ": ", std::strerror(errno)));
      off += static_cast<size_t>(n);
    }
    buf_.clear();
    return absl::OkStatus();
  }

  const std::string path_;
  int fd_ = -1;
  mutable absl::Mutex mu_;
  std::vector<char> buf_ ABSL_GUARDED_BY(mu_);
  uint64_t records_ ABSL_GUARDED_BY(mu_) = 0, bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_DURABLE_AUX_HPP_
