// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/metrics_text.cpp
#include "rcustate/abi.hpp"
#include "src/core/metrics_text.hpp"

#include <cstdint>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace RCUSTATE_NAMESPACE::detail {
namespace {

using Metrics = StoreState::PartitionMetrics;

// Nanoseconds as seconds, exactly (no float rounding of large sums).
std::string Seconds(uint64_t ns) {
  return absl::StrFormat("%d.%09d", ns / 1'000'000'000, ns % 1'000'000'000);
}

// A bucket bound without trailing zeros: "0.0025", "1", "10".
std::string Bound(uint64_t ns) {
  std::string s = Seconds(ns);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

void Family(std::string& out, absl::string_view name, absl::string_view type,
            absl::string_view help) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void Sample(std::string& out, absl::string_view name, uint64_t value) {
  absl::StrAppend(&out, name, " ", value, "\n");
}

void SampleSeconds(std::string& out, absl::string_view name, uint64_t ns) {
  absl::StrAppend(&out, name, " ", Seconds(ns), "\n");
}

void Histogram(std::string& out, absl::string_view name, absl::string_view help,
               const LatencyHistogram& h) {
  Family(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    cumulative += h.counts[i];
    const std::string le = i < h.upper_bounds_ns.size() ? Bound(h.upper_bounds_ns[i]) : "+Inf";
    absl::StrAppend(&out, name, "_bucket{le=\"", le, "\"} ", cumulative, "\n");
  }
  absl::StrAppend(&out, name, "_sum ", Seconds(h.sum_ns), "\n");
  absl::StrAppend(&out, name, "_count ", h.count, "\n");
}

// A per-partition family: one sample per partition.
template <typename Get>
void PerPartition(std::string& out, absl::string_view name, absl::string_view type,
                  absl::string_view help, const std::vector<Metrics>& partitions, bool seconds,
                  Get get) {
  if (partitions.empty()) return;
  Family(out, name, type, help);
  for (const Metrics& m : partitions) {
    const uint64_t v = get(m.sample);
    absl::StrAppend(&out, name, "{partition=\"", m.id, "\"} ",
                    seconds ? Seconds(v) : absl::StrCat(v), "\n");
  }
}

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF), 0 if there is none.
size_t Utf8Sequence(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size();) {
    const char c = value[i];
    const size_t len = Utf8Sequence(value, i);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else if (len == 0 || c == '\0') {
      // The format is UTF-8, and a C reader stops at a NUL: a byte that is
      // neither becomes U+FFFD, the replacement character.
      out += "\xEF\xBF\xBD";
      i += 1;
      continue;
    } else {
      out.append(value.substr(i, len));
      i += len;
      continue;
    }
    i += 1;
  }
  return out;
}

std::string FormatMetrics(const StoreStats& s, const std::vector<Metrics>& partitions,
                          const Schema& schema) {
  std::string out;
  out.reserve(4096 + partitions.size() * (700 + 60 * schema.tables.size()));
  // ---- store-wide gauges
  Family(out, "rcustate_partitions", "gauge", "Partitions in the store.");
  Sample(out, "rcustate_partitions", s.partitions);
  Family(out, "rcustate_entries", "gauge", "Entries in the published snapshots of all partitions.");
  Sample(out, "rcustate_entries", s.entries);
  Family(out, "rcustate_memory_bytes", "gauge",
         "Approximate heap bytes of the partitions' map sets (both copies, keys and values).");
  Sample(out, "rcustate_memory_bytes", s.approx_bytes);
  Family(out, "rcustate_pins", "gauge", "Pins held on the partitions' snapshots.");
  Sample(out, "rcustate_pins", s.pins_alive);
  Family(out, "rcustate_oldest_grace_wait_seconds", "gauge",
         "Age of the oldest wait for a grace period in progress (0: none).");
  SampleSeconds(out, "rcustate_oldest_grace_wait_seconds", s.oldest_grace_wait_ns);
  Family(out, "rcustate_reclamation_callbacks", "gauge",
         "Reclamation callbacks queued and not yet run (retired snapshots, dropped partitions).");
  Sample(out, "rcustate_reclamation_callbacks", s.reclamation_callbacks);
  Family(out, "rcustate_reclamation_bytes", "gauge",
         "Bytes dropped partitions hold until their grace period ends.");
  Sample(out, "rcustate_reclamation_bytes", s.reclamation_bytes);
  // ---- store-wide counters
  Family(out, "rcustate_commits_total", "counter", "Commits accepted since the store opened.");
  Sample(out, "rcustate_commits_total", s.commits);
  Family(out, "rcustate_publications_total", "counter",
         "Snapshots published (fewer than commits under group commit).");
  Sample(out, "rcustate_publications_total", s.publications);
  Family(out, "rcustate_grace_waits_total", "counter",
         "Commits that had to wait for a grace period.");
  Sample(out, "rcustate_grace_waits_total", s.grace_waits);
  Family(out, "rcustate_commit_grace_wait_seconds_total", "counter",
         "Time commits spent waiting for grace periods.");
  SampleSeconds(out, "rcustate_commit_grace_wait_seconds_total", s.commit_wait_ns);
  Family(out, "rcustate_standby_copies_total", "counter",
         "Standby map sets rebuilt by copying because they were pinned.");
  Sample(out, "rcustate_standby_copies_total", s.standby_copies);
  Family(out, "rcustate_catch_ups_total", "counter",
         "Replays onto the standby done off the commit path.");
  Sample(out, "rcustate_catch_ups_total", s.catch_ups);
  Family(out, "rcustate_backlog_publications_total", "counter",
         "Group commits that found the sealed backlog past its bound and published it.");
  Sample(out, "rcustate_backlog_publications_total", s.backlog_publications);
  Family(out, "rcustate_stalled_grace_periods_total", "counter",
         "Waits for a grace period longer than the store's stall threshold.");
  Sample(out, "rcustate_stalled_grace_periods_total", s.stalled_grace_periods);
  // ---- histograms
  Histogram(out, "rcustate_commit_latency_seconds",
            "Latency of accepted commits, from the call to its return.", s.commit_latency);
  Histogram(out, "rcustate_grace_wait_seconds",
            "Waits for a grace period on behalf of a partition.", s.grace_wait);
  // ---- per partition
  using S = Partition::Sampled;
  PerPartition(out, "rcustate_partition_version", "gauge", "The published version.", partitions,
               false, [](const S& x) { return x.version; });
  if (!partitions.empty()) {
    Family(out, "rcustate_partition_entries", "gauge",
           "Entries of a table in the partition's published snapshot.");
    std::vector<std::string> names;
    names.reserve(schema.tables.size());
    for (const TableSpec& t : schema.tables) names.push_back(EscapeLabelValue(t.name));
    for (const Metrics& m : partitions) {
      for (size_t t = 0; t < m.entries.size() && t < names.size(); ++t) {
        absl::StrAppend(&out, "rcustate_partition_entries{partition=\"", m.id, "\",table=\"",
                        names[t], "\"} ", m.entries[t], "\n");
      }
    }
  }
  PerPartition(out, "rcustate_partition_memory_bytes", "gauge",
               "Approximate heap bytes of the partition's map sets.", partitions, false,
               [](const S& x) { return x.approx_bytes; });
  PerPartition(out, "rcustate_partition_pins", "gauge", "Pins held on the partition's snapshots.",
               partitions, false, [](const S& x) { return x.pins_alive; });
  PerPartition(out, "rcustate_partition_grace_wait_age_seconds", "gauge",
               "How long the wait for a grace period in progress has lasted (0: none).",
               partitions, true, [](const S& x) { return x.grace_wait_age_ns; });
  PerPartition(out, "rcustate_partition_commits_total", "counter",
               "Commits accepted since the partition was created or restored.", partitions,
               false, [](const S& x) { return x.commits; });
  PerPartition(out, "rcustate_partition_publications_total", "counter", "Snapshots published.",
               partitions, false, [](const S& x) { return x.publications; });
  PerPartition(out, "rcustate_partition_grace_waits_total", "counter",
               "Commits that had to wait for a grace period.", partitions, false,
               [](const S& x) { return x.grace_waits; });
  PerPartition(out, "rcustate_partition_commit_grace_wait_seconds_total", "counter",
               "Time commits spent waiting for grace periods.", partitions, true,
               [](const S& x) { return x.commit_wait_ns; });
  PerPartition(out, "rcustate_partition_standby_copies_total", "counter",
               "Standby map sets rebuilt by copying because they were pinned.", partitions, false,
               [](const S& x) { return x.standby_copies; });
  PerPartition(out, "rcustate_partition_catch_ups_total", "counter",
               "Replays onto the standby done off the commit path.", partitions, false,
               [](const S& x) { return x.catch_ups; });
  PerPartition(out, "rcustate_partition_backlog_publications_total", "counter",
               "Group commits that published the sealed backlog themselves.", partitions, false,
               [](const S& x) { return x.backlog_publications; });
  PerPartition(out, "rcustate_partition_stalled_grace_periods_total", "counter",
               "Waits for a grace period longer than the stall threshold.", partitions, false,
               [](const S& x) { return x.stalled_grace_periods; });
  return out;
}

}  // namespace rcustate::detail
