// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/durability_benchmark.cpp
//
// rcustate-durability: the one-shot durability figures, each paired with its
// baseline measured in the same process right before and after it:
//  - write: a full checkpoint's bytes per second against a dd-style
//    sequential write of the same number of bytes to the same directory
//    (1 MiB write() calls, then fsync), one before and one after;
//  - incremental: the bytes of an incremental checkpoint after changing a
//    fraction of the keys, divided by changed keys x entry size (key bytes +
//    value bytes);
//  - restore: Store::Restore of the full checkpoint into a new store against
//    inserting the same entries, already in memory, into a fresh
//    absl::flat_hash_map (the map the library keeps its tables in).
// These are single operations timed once per repetition, not throughput under
// concurrent threads, so they live here rather than in rcustate-bench's
// timed-threads driver; the writer-throughput figures (checkpoints running
// beside the groupby writers, the changelog hook) are rcustate-bench's
// rcustate-ckpt and rcustate-log implementations, paired with rcustate.
//
//   rcustate-durability [--keys=1e6] [--repeat=3] [--changed=0.01]
//                       [--dir=DIR] [--json=FILE] [--quick]
// --quick: 20000 keys, one repetition (the bench test suite's smoke run).
// The repetitions are interleaved (dd, checkpoint, dd, incremental, restore,
// maps, then again) and the report gives each figure's median.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rcustate/rcustate.hpp"

namespace {

[[noreturn]] void Die(std::string_view what) {
  std::fprintf(stderr, "rcustate-durability: %.*s\n", static_cast<int>(what.size()), what.data());
  std::exit(1);
}
void Check(const absl::Status& s) {
  if (!s.ok()) Die(s.ToString());
}
template <typename T>
T Value(absl::StatusOr<T> v) {
  if (!v.ok()) Die(v.status().ToString());
  return *std::move(v);
}

uint64_t ClockNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}
uint64_t NowNs() { return ClockNs(CLOCK_MONOTONIC); }
// CPU time of the calling thread: on a shared machine, wall time minus this
// is time the thread waited (I/O, or other processes holding the cores).
uint64_t CpuNs() { return ClockNs(CLOCK_THREAD_CPUTIME_ID); }

struct Args {
  uint64_t keys = 1000000;
  uint32_t repeat = 3;
  double changed = 0.01;
  std::string dir;
  std::string json;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto val = [&](std::string_view name) -> const char* {
      if (arg.substr(0, name.size()) == name) return argv[i] + name.size();
      return nullptr;
    };
    if (arg == "--quick") {
      a.keys = 20000;
      a.repeat = 1;
    } else if (const char* v = val("--keys=")) {
      a.keys = static_cast<uint64_t>(std::strtod(v, nullptr));
    } else if (const char* v = val("--repeat=")) {
      a.repeat = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    } else if (const char* v = val("--changed=")) {
      a.changed = std::strtod(v, nullptr);
    } else if (const char* v = val("--dir=")) {
      a.dir = v;
    } else if (const char* v = val("--json=")) {
      a.json = v;
    } else {
      Die(absl::StrCat("unknown argument ", std::string(arg),
                       " (--keys=N --repeat=R --changed=F --dir=DIR --json=FILE --quick)"));
    }
  }
  if (a.keys < 100 || a.repeat == 0 || !(a.changed > 0 && a.changed <= 1)) Die("bad arguments");
  return a;
}

// A groupby-like table: 16-byte keys, 8-byte int64 counts.
constexpr size_t kKeyBytes = 16, kValueBytes = 8;
std::string Key(uint64_t i) { return absl::StrFormat("key:%012d", i); }

// dd-style: `bytes` bytes in 1 MiB write() calls to a new file of `dir`, then
// fsync; returns bytes/s. The file is removed afterwards.
double DdWrite(const std::string& dir, uint64_t bytes) {
  static std::vector<char> block = [] {
    std::vector<char> b(size_t{1} << 20);
    uint64_t x = 88172645463325252u;  // xorshift: incompressible, not zero pages
    for (char& c : b) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      c = static_cast<char>(x);
    }
    return b;
  }();
  const std::string path = dir + "/dd.tmp";
  const uint64_t t0 = NowNs();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Die(absl::StrCat("open ", path, ": ", std::strerror(errno)));
  uint64_t left = bytes;
  while (left > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, block.size()));
    const ssize_t w = ::write(fd, block.data(), n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) Die(absl::StrCat("write ", path, ": ", std::strerror(errno)));
    left -= static_cast<uint64_t>(w);
  }
  if (::fsync(fd) != 0) Die(absl::StrCat("fsync ", path, ": ", std::strerror(errno)));
  ::close(fd);
  const uint64_t ns = NowNs() - t0;
  ::unlink(path.c_str());
  return static_cast<double>(bytes) / (static_cast<double>(ns) / 1e9);
}

std::unique_ptr<rcustate::Store> OpenStore() {
  rcustate::StoreOptions o;
  o.tables = {{"counts", rcustate::AddInt64(), 0}};
  return Value(rcustate::Store::Open(std::move(o)));
}

struct Rep {
  double ckpt_bps = 0, dd_bps = 0, write_ratio = 0;
  double full_ms = 0, full_cpu_ms = 0, incr_ms = 0;
  uint64_t full_bytes = 0, incr_bytes = 0, incr_entries = 0;
  double incr_ratio = 0;
  double scan_ms = 0;  // walking the pinned table once, summing sizes
  double restore_ms = 0, maps_ms = 0, maps_reserved_ms = 0, restore_ratio = 0;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  std::string base = args.dir;
  bool owned = false;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/rcustate-durability-XXXXXX");
    if (mkdtemp(base.data()) == nullptr) Die(absl::StrCat("mkdtemp: ", std::strerror(errno)));
    owned = true;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(base, ec);
    if (ec) Die(absl::StrCat("cannot create ", base, ": ", ec.message()));
  }

  // The live store: every key counted once, in batches of 10000.
  std::unique_ptr<rcustate::Store> store = OpenStore();
  Check(store->CreatePartition(0));
  for (uint64_t i = 0; i < args.keys; ++i) {
    Check(store->Put(0, 0, Key(i), rcustate::EncodeInt64(static_cast<int64_t>(i))));
    if ((i + 1) % 10000 == 0 || i + 1 == args.keys) Value(store->Commit(0));
  }
  // The same entries in memory, for the maps baseline.
  std::vector<std::pair<std::string, std::string>> entries;
  {
    rcustate::PinnedSnapshot pin = Value(store->Pin(0));
    rcustate::TableView t = Value(pin.Table(0));
    entries.reserve(t.size());
    t.ForEach([&](std::string_view k, std::string_view v) { entries.emplace_back(k, v); });
    Check(pin.Release());
  }
  // A warm-up checkpoint: learns the size the dd runs write.
  const uint64_t full_size =
      Value(store->Checkpoint(0, base + "/warmup", rcustate::CheckpointKind::kFull)).bytes;
  std::filesystem::remove_all(base + "/warmup");

  const uint64_t changed = std::max<uint64_t>(1, static_cast<uint64_t>(args.changed * args.keys));
  std::vector<Rep> reps;
  for (uint32_t r = 0; r < args.repeat; ++r) {
    Rep rep;
    const std::string dir = absl::StrCat(base, "/rep-", r);
    // write: dd, full checkpoint, dd.
    const double dd1 = DdWrite(base, full_size);
    uint64_t t0 = NowNs();
    const uint64_t c0 = CpuNs();
    rcustate::CheckpointInfo full = Value(store->Checkpoint(0, dir, rcustate::CheckpointKind::kFull));
    const uint64_t full_ns = NowNs() - t0;
    rep.full_cpu_ms = static_cast<double>(CpuNs() - c0) / 1e6;
    const double dd2 = DdWrite(base, full.bytes);
    // What the checkpoint cannot go below in CPU: one walk over the maps it
    // serializes (a cache miss per entry for keys longer than std::string's
    // inline buffer).
    {
      rcustate::PinnedSnapshot pin = Value(store->Pin(0));
      rcustate::TableView t = Value(pin.Table(0));
      uint64_t sum = 0;
      t0 = NowNs();
      t.ForEach([&](std::string_view k, std::string_view v) {
        sum += k.size() + static_cast<unsigned char>(k.back()) + v.size();
      });
      rep.scan_ms = static_cast<double>(NowNs() - t0) / 1e6;
      if (sum == 0) Die("empty scan");
      Check(pin.Release());
    }
    rep.full_bytes = full.bytes;
    rep.full_ms = static_cast<double>(full_ns) / 1e6;
    rep.ckpt_bps = static_cast<double>(full.bytes) / (static_cast<double>(full_ns) / 1e9);
    rep.dd_bps = (dd1 + dd2) / 2;
    rep.write_ratio = rep.ckpt_bps / rep.dd_bps;

    // incremental: `changed` keys get a new value (a prime stride through
    // the key space; the checkpoint reports the distinct keys it wrote).
    const uint64_t stride = 1000003;
    uint64_t k = uint64_t{r} * 12345;
    for (uint64_t i = 0; i < changed; ++i) {
      Check(store->Merge(0, 0, Key(k % args.keys), rcustate::EncodeInt64(1)));
      k += stride;
      if ((i + 1) % 10000 == 0 || i + 1 == changed) Value(store->Commit(0));
    }
    t0 = NowNs();
    rcustate::CheckpointInfo incr =
        Value(store->Checkpoint(0, dir, rcustate::CheckpointKind::kIncremental));
    rep.incr_ms = static_cast<double>(NowNs() - t0) / 1e6;
    if (!incr.incremental) Die("the incremental checkpoint was written as a full one");
    rep.incr_bytes = incr.bytes;
    rep.incr_entries = incr.entries;
    rep.incr_ratio = static_cast<double>(incr.bytes) /
                     static_cast<double>(incr.entries * (kKeyBytes + kValueBytes));

    // restore: the chain (full + one increment) into a new store.
    {
      std::unique_ptr<rcustate::Store> fresh = OpenStore();
      t0 = NowNs();
      rcustate::CheckpointInfo info = Value(fresh->Restore(0, dir));
      rep.restore_ms = static_cast<double>(NowNs() - t0) / 1e6;
      if (info.entries < args.keys) Die("restore: fewer entries than written");
      Check(fresh->Close());
    }
    // maps: the same number of entries into a fresh map, then into a
    // reserved one.
    for (int reserved = 0; reserved < 2; ++reserved) {
      absl::flat_hash_map<std::string, std::string> m;
      t0 = NowNs();
      if (reserved) m.reserve(entries.size());
      for (const auto& [key, value] : entries) m.emplace(key, value);
      const double ms = static_cast<double>(NowNs() - t0) / 1e6;
      (reserved ? rep.maps_reserved_ms : rep.maps_ms) = ms;
      if (m.size() != entries.size()) Die("maps baseline lost entries");
    }
    rep.restore_ratio = rep.restore_ms / rep.maps_ms;
    std::filesystem::remove_all(dir);
    reps.push_back(rep);
    std::fprintf(stderr,
                 "rep %u: checkpoint %.0f MB/s (%.0f ms, %.0f ms CPU; a bare scan %.0f ms) vs dd %.0f MB/s (%.2fx); "
                 "incremental %.2f; "
                 "restore %.0f ms vs maps %.0f ms (%.2fx)\n",
                 r, rep.ckpt_bps / 1e6, rep.full_ms, rep.full_cpu_ms, rep.scan_ms, rep.dd_bps / 1e6, rep.write_ratio, rep.incr_ratio,
                 rep.restore_ms, rep.maps_ms, rep.restore_ratio);
  }
  Check(store->Close());
  if (owned) std::filesystem::remove_all(base);

  auto med = [&](double Rep::*f) {
    std::vector<double> v;
    for (const Rep& r : reps) v.push_back(r.*f);
    return Median(v);
  };
  std::string out = absl::StrFormat(
      "{\n  \"keys\": %d, \"repeat\": %d, \"changed_keys\": %d, \"entry_bytes\": %d,\n"
      "  \"full_checkpoint_bytes\": %d, \"incremental_checkpoint_bytes\": %d,\n"
      "  \"checkpoint_bytes_per_s\": %.0f, \"dd_bytes_per_s\": %.0f, \"write_ratio\": %.3f,\n"
      "  \"full_checkpoint_ms\": %.1f, \"full_checkpoint_cpu_ms\": %.1f, \"scan_ms\": %.1f, \"incremental_checkpoint_ms\": %.1f,\n"
      "  \"incremental_bytes_ratio\": %.3f,\n"
      "  \"restore_ms\": %.1f, \"maps_insert_ms\": %.1f, \"maps_insert_reserved_ms\": %.1f,\n"
      "  \"restore_ratio\": %.3f\n}\n",
      args.keys, args.repeat, changed, kKeyBytes + kValueBytes, reps[0].full_bytes,
      reps[0].incr_bytes, med(&Rep::ckpt_bps), med(&Rep::dd_bps), med(&Rep::write_ratio),
      med(&Rep::full_ms), med(&Rep::full_cpu_ms), med(&Rep::scan_ms), med(&Rep::incr_ms), med(&Rep::incr_ratio), med(&Rep::restore_ms),
      med(&Rep::maps_ms), med(&Rep::maps_reserved_ms), med(&Rep::restore_ratio));
  std::fputs(out.c_str(), stdout);
  if (!args.json.empty()) {
    FILE* f = std::fopen(args.json.c_str(), "w");
    if (f == nullptr || std::fputs(out.c_str(), f) < 0 || std::fclose(f) != 0) {
      Die(absl::StrCat("cannot write ", args.json));
    }
  }
  return 0;
}
