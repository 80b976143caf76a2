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

void ControlDone(const Config& cfg) {
  if (cfg.progress && isatty(STDERR_FILENO) != 0) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

}  // namespace rcsbench
