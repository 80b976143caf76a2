// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/driver.cpp
#include "bench/driver.hpp"

#include <chrono>

namespace rcsbench {
namespace {

std::string Rate(double per_s) {
  if (per_s >= 1e9) return absl::StrFormat("%.2fG", per_s / 1e9);
  if (per_s >= 1e6) return absl::StrFormat("%.2fM", per_s / 1e6);
  if (per_s >= 1e3) return absl::StrFormat("%.1fk", per_s / 1e3);
  return absl::StrFormat("%.0f", per_s);
}

}  // namespace

void ControlWait(Shared& sh, const std::string& label, uint64_t t_begin, uint64_t deadline_ns,
                 uint64_t rss_base, std::vector<std::pair<uint64_t, uint64_t>>* samples) {
  constexpr uint64_t kTick = 1'000'000'000;     // progress line
  constexpr uint64_t kSample = 250'000'000;     // RSS
  const bool tty = isatty(STDERR_FILENO) != 0;
  uint64_t last_t = NowNs(), next_tick = last_t + kTick, next_sample = last_t;
  auto totals = [&](uint64_t* rec, uint64_t* rd) {
    *rec = *rd = 0;
    for (auto& c : sh.writers) *rec += c.records.load(std::memory_order_relaxed);
    for (auto& c : sh.readers) {
      *rd += c.reads[0].load(std::memory_order_relaxed) + c.reads[1].load(std::memory_order_relaxed);
    }
  };
  uint64_t last_rec, last_rd;
  totals(&last_rec, &last_rd);
  for (;;) {
    uint64_t now = NowNs();
    if (now >= deadline_ns) break;
    if (sh.cfg.max_records != 0 &&
        sh.writers_done.load(std::memory_order_acquire) == sh.writers.size()) {
      break;
    }
    if (samples != nullptr && now >= next_sample) {
      const uint64_t rss = CurrentRss();
      samples->emplace_back(now - t_begin, rss > rss_base ? rss - rss_base : 0);
      next_sample += kSample;
    }
    if (now >= next_tick) {
      uint64_t rec, rd;
      totals(&rec, &rd);
      const double dt = static_cast<double>(now - last_t) / 1e9;
      if (sh.cfg.progress) {
        const uint64_t rss = CurrentRss();
        std::fprintf(stderr, "%s  %-24s %5.1fs  %9s rec/s  %9s reads/s  rss %6.0f MB%s",
                     tty ? "\r\033[K" : "", label.c_str(),
                     static_cast<double>(now - t_begin) / 1e9,
                     Rate(static_cast<double>(rec - last_rec) / dt).c_str(),
                     Rate(static_cast<double>(rd - last_rd) / dt).c_str(),
                     static_cast<double>(rss > rss_base ? rss - rss_base : 0) / 1048576.0,
                     tty ? "" : "\n");
        std::fflush(stderr);
      }
      last_t = now;
      last_rec = rec;
      last_rd = rd;
      next_tick = now + kTick;
    }
    uint64_t wake = std::min({deadline_ns, next_tick, samples != nullptr ? next_sample : next_tick});
    if (sh.cfg.max_records != 0) wake = std::min(wake, now + 2'000'000);
    if (wake > now) std::this_thread::sleep_for(std::chrono::nanoseconds(wake - now));
  }
}

uint64_t SummarizeThreads(const std::vector<WriterOut>& writers,
                          const std::vector<const ReaderOut*>& readers, uint32_t reader_threads,
                          const PhaseTimes& times, RunResult& r) {
  // Throughput: writers over their own timed windows, readers over phase 1.
  const uint32_t nw = static_cast<uint32_t>(writers.size());
  uint64_t wall = 0, writer_cpu = 0;
  Histogram commits;
  for (const WriterOut& o : writers) {
    writer_cpu += o.cpu_ns;
    r.records += o.records;
    r.commits += o.commits;
    r.windows_closed += o.windows_closed;
    commits.Merge(o.commit);
    if (o.t_end > o.t_start) wall = std::max(wall, o.t_end - o.t_start);
  }
  r.seconds = static_cast<double>(wall != 0 ? wall : times.t_stop - times.t1) / 1e9;
  r.records_per_s = static_cast<double>(r.records) / r.seconds;
  r.commits_per_s = static_cast<double>(r.commits) / r.seconds;
  Histogram reads;
  uint64_t reads0 = 0, reader_cpu0 = 0, reader_cpu1 = 0;
  for (const ReaderOut* o : readers) {
    reads.Merge(o->read);
    r.reads += o->reads[1];
    r.sections += o->sections[1];
    reads0 += o->reads[0];
    reader_cpu0 += o->cpu_ns[0];
    reader_cpu1 += o->cpu_ns[1];
  }
  const double phase1_s = static_cast<double>(times.t_stop - times.t1) / 1e9;
  r.reads_per_s = static_cast<double>(r.reads) / phase1_s;
  const uint32_t nreaders = reader_threads;
  if (reader_cpu1 > 0 && nreaders > 0) {
    r.reads_per_cpu_s = static_cast<double>(r.reads) / (static_cast<double>(reader_cpu1) / 1e9);
    r.reader_cpu_share = static_cast<double>(reader_cpu1) / 1e9 / phase1_s / nreaders;
  }
  const uint64_t d0_ns = times.d0_ns;
  if (d0_ns > 0) {
    r.reads_alone_per_s = static_cast<double>(reads0) / (static_cast<double>(d0_ns) / 1e9);
    if (r.reads_alone_per_s > 0) r.isolation = r.reads_per_s / r.reads_alone_per_s;
    if (reader_cpu0 > 0 && r.reads_per_cpu_s > 0) {
      const double alone_per_cpu = static_cast<double>(reads0) / (static_cast<double>(reader_cpu0) / 1e9);
      r.isolation_per_cpu = r.reads_per_cpu_s / alone_per_cpu;
      r.reader_cpu_share_alone =
          static_cast<double>(reader_cpu0) / static_cast<double>(d0_ns) / nreaders;
    }
  }
  if (writer_cpu > 0) {
    r.records_per_cpu_s = static_cast<double>(r.records) / (static_cast<double>(writer_cpu) / 1e9);
    if (wall > 0) r.writer_cpu_share = static_cast<double>(writer_cpu) / static_cast<double>(wall) / nw;
  }
  r.read_samples = reads.count();
  r.read_p50_ns = reads.Quantile(0.5);
  r.read_p99_ns = reads.Quantile(0.99);
  r.read_p999_ns = reads.Quantile(0.999);
  r.commit_p50_ns = commits.Quantile(0.5);
  r.commit_p99_ns = commits.Quantile(0.99);
  r.commit_p999_ns = commits.Quantile(0.999);
  r.commit_max_ns = static_cast<double>(commits.max());
  r.commit_mean_ns = commits.mean();
  return wall;
}

void SummarizeRun(const Shared& sh, uint64_t wall, uint32_t writer_threads,
                  const MemorySamples& mem, RunResult& r) {
  if (wall > 0) {
    r.commit_wait_frac =
        static_cast<double>(r.commit_wait_ns) / static_cast<double>(wall * writer_threads);
  }
  r.rss_peak = mem.peak > mem.rss_base ? mem.peak - mem.rss_base : 0;
  const auto& samples = *mem.samples;
  if (!samples.empty()) {
    const uint64_t half = (samples.back().first) / 2;
    for (const auto& [t, rss] : samples) {
      if (t <= half || r.rss_mid == 0) r.rss_mid = rss;
    }
    r.rss_end = samples.back().second;
  }
  const uint64_t pinned = sh.rss_pinned.load();
  r.rss_pinned = pinned > mem.rss_base ? pinned - mem.rss_base : 0;
  r.live_bytes = sh.live_bytes.load();
  r.entries = sh.entries.load();
  r.violations = sh.violations.load();
  r.torn_reads = sh.torn.load();
  r.violation_examples = sh.examples;
  r.pins = sh.pins.load();
  if (r.pins > 0) r.scan_ms = static_cast<double>(sh.scan_ns.load()) / 1e6 / r.pins;
}

void ControlDone(const Config& cfg) {
  if (cfg.progress && isatty(STDERR_FILENO) != 0) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

}  // namespace rcsbench
