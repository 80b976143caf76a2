// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_metrics_test.cpp
//
// Store-wide statistics (Store::Stats()), the Prometheus text of
// Store::MetricsText() (parsed here by a checker of the text format), and
// the log handler. Part of unit_store; helpers in unit_util.hpp.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "rcustate/rcustate.h"
#include "rcustate/rcustate.hpp"
#include "src/core/metrics_text.hpp"
#include "unit/unit_util.hpp"

namespace rcustate {
namespace {

using namespace testing;  // unit_util.hpp: the fixture, tables and helpers

// ================================================================ the text format

// One sample line: name{labels} value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string labels_text;  // as written, for duplicate detection
  double value = 0;
};

// A checker of the Prometheus text exposition format (0.0.4) as rcustate
// writes it: every line is a HELP, a TYPE or a sample; a family's HELP and
// TYPE come before its samples, which are contiguous; counters end in
// _total; histograms have ascending le buckets, cumulative counts, a +Inf
// bucket equal to _count, and _sum; label values are escaped; no series
// appears twice. Records failures with ADD_FAILURE and returns the samples.
class TextChecker {
 public:
  explicit TextChecker(std::string_view text) { Parse(text); }
  const std::vector<Sample>& samples() const { return samples_; }
  const std::map<std::string, std::string>& types() const { return types_; }

  // The value of the one sample with this name and these labels.
  double Value(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    const Sample* found = nullptr;
    for (const Sample& s : samples_) {
      if (s.name == name && s.labels == labels) {
        EXPECT_EQ(found, nullptr) << "two samples " << name;
        found = &s;
      }
    }
    EXPECT_NE(found, nullptr) << "no sample " << name;
    return found != nullptr ? found->value : -1;
  }

 private:
  static bool NameChar(char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
  }
  static bool ValidName(std::string_view n) {
    if (n.empty()) return false;
    for (size_t i = 0; i < n.size(); ++i) {
      if (!NameChar(n[i], i == 0)) return false;
    }
    return true;
  }

  // The family a sample name belongs to (histogram suffixes removed).
  std::string FamilyOf(const std::string& name) const {
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (name.size() > suffix.size() && name.ends_with(suffix)) {
        std::string base = name.substr(0, name.size() - suffix.size());
        auto t = types_.find(base);
        if (t != types_.end() && t->second == "histogram") return base;
      }
    }
    return name;
  }

  void Parse(std::string_view text) {
    ASSERT_FALSE(text.empty());
    ASSERT_EQ(text.back(), '\n') << "the text ends with a line feed";
    std::string current;  // the family whose samples are being read
    std::set<std::string> finished;
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t eol = text.find('\n', pos);
      std::string_view line = text.substr(pos, eol - pos);
      pos = eol + 1;
      ASSERT_FALSE(line.empty()) << "an empty line";
      if (line.starts_with("# HELP ")) {
        std::string_view rest = line.substr(7);
        std::string name(rest.substr(0, rest.find(' ')));
        ASSERT_TRUE(ValidName(name)) << line;
        ASSERT_GT(rest.size(), name.size() + 1) << "HELP without text: " << line;
        ASSERT_EQ(help_.count(name), 0u) << "HELP twice: " << line;
        help_.insert(name);
        continue;
      }
      if (line.starts_with("# TYPE ")) {
        std::string_view rest = line.substr(7);
        const size_t sp = rest.find(' ');
        ASSERT_NE(sp, std::string_view::npos) << line;
        std::string name(rest.substr(0, sp));
        std::string type(rest.substr(sp + 1));
        ASSERT_TRUE(ValidName(name)) << line;
        ASSERT_TRUE(type == "counter" || type == "gauge" || type == "histogram") << line;
        ASSERT_EQ(types_.count(name), 0u) << "TYPE twice: " << line;
        ASSERT_EQ(help_.count(name), 1u) << "TYPE before HELP: " << line;
        EXPECT_EQ(type == "counter", name.ends_with("_total")) << "counters end in _total: " << line;
        types_[name] = type;
        if (!current.empty()) finished.insert(current);
        current = name;
        continue;
      }
      ASSERT_NE(line[0], '#') << "an unknown comment: " << line;
      Sample s;
      size_t i = 0;
      while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
      s.name = std::string(line.substr(0, i));
      ASSERT_TRUE(ValidName(s.name)) << line;
      if (i < line.size() && line[i] == '{') {
        const size_t open = i++;
        while (true) {
          ASSERT_LT(i, line.size()) << "unterminated labels: " << line;
          if (line[i] == '}') break;
          size_t eq = line.find('=', i);
          ASSERT_NE(eq, std::string_view::npos) << line;
          std::string label(line.substr(i, eq - i));
          ASSERT_TRUE(ValidName(label)) << line;
          ASSERT_LT(eq + 1, line.size());
          ASSERT_EQ(line[eq + 1], '"') << line;
          std::string value;
          size_t j = eq + 2;
          for (;; ++j) {
            ASSERT_LT(j, line.size()) << "unterminated label value: " << line;
            if (line[j] == '"') break;
            if (line[j] == '\\') {
              ++j;
              ASSERT_LT(j, line.size());
              ASSERT_TRUE(line[j] == '\\' || line[j] == '"' || line[j] == 'n')
                  << "a bad escape: " << line;
              value += line[j] == 'n' ? '\n' : line[j];
            } else {
              value += line[j];
            }
          }
          ASSERT_EQ(s.labels.count(label), 0u) << line;
          s.labels[label] = value;
          i = j + 1;
          if (line[i] == ',') ++i;
        }
        s.labels_text = std::string(line.substr(open, i + 1 - open));
        ++i;
      }
      ASSERT_LT(i, line.size()) << line;
      ASSERT_EQ(line[i], ' ') << line;
      std::string value(line.substr(i + 1));
      ASSERT_FALSE(value.empty()) << line;
      char* end = nullptr;
      s.value = std::strtod(value.c_str(), &end);
      ASSERT_EQ(*end, '\0') << "not a number: " << line;
      const std::string family = FamilyOf(s.name);
      ASSERT_EQ(types_.count(family), 1u) << "a sample before its TYPE: " << line;
      ASSERT_EQ(family, current) << "the samples of a family are not together: " << line;
      ASSERT_EQ(finished.count(family), 0u) << line;
      ASSERT_TRUE(series_.insert(s.name + s.labels_text).second) << "a series twice: " << line;
      samples_.push_back(std::move(s));
    }
    CheckHistograms();
  }

  void CheckHistograms() {
    for (const auto& [family, type] : types_) {
      if (type != "histogram") continue;
      double last_le = -1, last_count = 0, inf = -1, count = -1;
      bool sum = false;
      for (const Sample& s : samples_) {
        if (s.name == family + "_bucket") {
          ASSERT_EQ(s.labels.count("le"), 1u) << family;
          const std::string& le = s.labels.at("le");
          ASSERT_LT(inf, 0) << family << ": a bucket after +Inf";
          if (le == "+Inf") {
            inf = s.value;
          } else {
            const double bound = std::strtod(le.c_str(), nullptr);
            EXPECT_GT(bound, last_le) << family << ": le not ascending";
            last_le = bound;
          }
          EXPECT_GE(s.value, last_count) << family << ": buckets not cumulative";
          last_count = s.value;
        } else if (s.name == family + "_count") {
          count = s.value;
        } else if (s.name == family + "_sum") {
          sum = true;
        }
      }
      EXPECT_GE(inf, 0) << family << ": no +Inf bucket";
      EXPECT_EQ(inf, count) << family << ": +Inf bucket and _count differ";
      EXPECT_TRUE(sum) << family << ": no _sum";
    }
  }

  std::set<std::string> help_;
  std::map<std::string, std::string> types_;
  std::set<std::string> series_;
  std::vector<Sample> samples_;
};

// The checker rejects what it must (a checker that accepts anything would
// make the tests below pass for any text).
TEST(MetricsTextChecker, RejectsMalformedText) {
  auto fails = [](const std::string& text) {
    ::testing::TestPartResultArray results;
    {
      ::testing::ScopedFakeTestPartResultReporter reporter(
          ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
      TextChecker c(text);
    }
    return results.size() > 0;
  };
  const std::string ok = "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n";
  EXPECT_FALSE(fails(ok));
  EXPECT_TRUE(fails("a_total 1\n"));                                          // no TYPE
  EXPECT_TRUE(fails("# HELP a A.\n# TYPE a counter\na 1\n"));                 // counter without _total
  EXPECT_TRUE(fails(ok + "a_total 2\n"));                                     // a series twice
  EXPECT_TRUE(fails("# HELP a A.\n# TYPE a gauge\na{x=\"\\q\"} 1\n"));        // a bad escape
  EXPECT_TRUE(fails("# HELP a A.\n# TYPE a gauge\na one\n"));                 // not a number
  EXPECT_TRUE(fails("# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                    "h_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n"));        // not cumulative
  EXPECT_TRUE(fails("# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\n"
                    "h_sum 0\nh_count 1\n"));                                 // +Inf != count
  EXPECT_TRUE(fails("# HELP a A.\n# TYPE a gauge\n# HELP b B.\n# TYPE b gauge\nb 1\na 1\n"));
}

// ================================================================ Store::Stats()

// Counters taken before (a), from the store (s) and after (b): a <= s <= b
// holds whatever the background threads (publisher, catch-ups) do between
// the reads, and fails if the store misses a partition or counts one twice.
void ExpectBetween(uint64_t before, uint64_t store, uint64_t after, const char* what) {
  EXPECT_LE(before, store) << what;
  EXPECT_LE(store, after) << what;
}

TEST_P(StoreTest, StoreStatsSumThePartitions) {
  EXPECT_EQ(s().Stats().value().partitions, 0u);
  for (uint32_t p : {1u, 2u, 3u}) ASSERT_TRUE(s().CreatePartition(p).ok());
  for (int round = 1; round <= 3; ++round) {
    for (uint32_t p : {1u, 2u}) {
      for (int i = 0; i < 50 * static_cast<int>(p); ++i) {
        ASSERT_TRUE(s().Put(p, kPlain, "k" + std::to_string(i), "v").ok());
      }
      ASSERT_TRUE(s().Merge(p, kSum, "n", I(1)).ok());
      CommitExpect(p, static_cast<uint64_t>(round));
    }
  }
  PinnedSnapshot pin = s().Pin(2).value();
  std::vector<PartitionStats> before, after;
  for (uint32_t p : {1u, 2u, 3u}) before.push_back(s().Stats(p).value());
  const StoreStats st = s().Stats().value();
  for (uint32_t p : {1u, 2u, 3u}) after.push_back(s().Stats(p).value());
  auto sum = [](const std::vector<PartitionStats>& v, uint64_t PartitionStats::*f) {
    uint64_t n = 0;
    for (const PartitionStats& x : v) n += x.*f;
    return n;
  };
  EXPECT_EQ(st.partitions, 3u);
  EXPECT_EQ(st.commits, 6u);
  EXPECT_EQ(st.entries, 50u + 1 + 100 + 1);
  EXPECT_EQ(st.pins_alive, 1u);
  EXPECT_GT(st.approx_bytes, 0u);
#define RCS_BETWEEN(field) \
  ExpectBetween(sum(before, &PartitionStats::field), st.field, sum(after, &PartitionStats::field), #field)
  RCS_BETWEEN(publications);
  RCS_BETWEEN(grace_waits);
  RCS_BETWEEN(commit_wait_ns);
  RCS_BETWEEN(standby_copies);
  RCS_BETWEEN(catch_ups);
  RCS_BETWEEN(backlog_publications);
  RCS_BETWEEN(stalled_grace_periods);
#undef RCS_BETWEEN
  // Every accepted commit is timed; the histogram is well formed.
  EXPECT_EQ(st.commit_latency.count, 6u);
  ASSERT_EQ(st.commit_latency.counts.size(), st.commit_latency.upper_bounds_ns.size() + 1);
  uint64_t n = 0;
  for (uint64_t c : st.commit_latency.counts) n += c;
  EXPECT_EQ(n, st.commit_latency.count);
  EXPECT_GT(st.commit_latency.sum_ns, 0u);
  for (size_t i = 1; i < st.commit_latency.upper_bounds_ns.size(); ++i) {
    EXPECT_LT(st.commit_latency.upper_bounds_ns[i - 1], st.commit_latency.upper_bounds_ns[i]);
  }
  // Under the default policy every grace wait is a commit's.
  if (!IsGroupCommit(GetParam())) {
    EXPECT_EQ(st.grace_wait.count, st.grace_waits);
  }

  // A dropped partition leaves the gauges, not the counters.
  pin = PinnedSnapshot();
  ASSERT_TRUE(s().DropPartition(2).ok());
  const StoreStats dropped = s().Stats().value();
  EXPECT_EQ(dropped.partitions, 2u);
  EXPECT_EQ(dropped.entries, 50u + 1);
  EXPECT_EQ(dropped.pins_alive, 0u);
  EXPECT_EQ(dropped.commits, 6u);
  EXPECT_GE(dropped.publications, st.publications);
  EXPECT_GE(dropped.grace_waits, st.grace_waits);
  EXPECT_GE(dropped.commit_wait_ns, st.commit_wait_ns);
  EXPECT_GE(dropped.catch_ups, st.catch_ups);
  // Re-created: counted from zero, the store's counters go on.
  ASSERT_TRUE(s().CreatePartition(2).ok());
  CommitExpect(2, 1);
  EXPECT_EQ(s().Stats().value().commits, 7u);
  EXPECT_EQ(s().Stats().value().commit_latency.count, 7u);
}

TEST_P(StoreTest, StoreStatsOfAClosedStoreIsAStateError) {
  ASSERT_TRUE(s().Close().ok());
  EXPECT_EQ(CodeOf(s().Stats()), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().MetricsText()), ErrorCode::kState);
}

// Counters never decrease while partitions are dropped, re-created and
// committed to: every read of a polling thread is checked against the one
// before (a partition counted twice or missed while it leaves shows up as a
// step down after a step up).
TEST_P(StoreTest, StoreCountersNeverDecreaseUnderDrops) {
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    for (int i = 0; i < 3000; ++i) {
      const uint32_t p = static_cast<uint32_t>(i % 3);
      (void)s().CreatePartition(p);
      for (int c = 0; c < 3; ++c) {
        ASSERT_TRUE(s().Put(p, kPlain, "k", "v").ok());
        ASSERT_TRUE(s().Commit(p).ok());
      }
      if (i % 2 == 0) {
        ASSERT_TRUE(s().DropPartition(p).ok());
      }
    }
    stop.store(true, std::memory_order_release);
  });
  StoreStats last;
  uint64_t reads = 0;
  while (!stop.load(std::memory_order_acquire) || reads < 10) {
    const StoreStats st = s().Stats().value();
    ++reads;
    const bool ok = st.commits >= last.commits && st.publications >= last.publications &&
                    st.grace_waits >= last.grace_waits &&
                    st.commit_wait_ns >= last.commit_wait_ns &&
                    st.standby_copies >= last.standby_copies && st.catch_ups >= last.catch_ups &&
                    st.backlog_publications >= last.backlog_publications &&
                    st.commit_latency.count >= last.commit_latency.count &&
                    st.stalled_grace_periods >= last.stalled_grace_periods && st.partitions <= 3;
    EXPECT_TRUE(ok) << "read " << reads << ": commits " << last.commits << " -> " << st.commits
                    << ", publications " << last.publications << " -> " << st.publications
                    << ", partitions " << st.partitions;
    if (!ok) break;  // the churn thread is joined below
    last = st;
  }
  churn.join();
  const StoreStats end = s().Stats().value();
  EXPECT_EQ(end.commits, 9000u);
  EXPECT_EQ(end.commit_latency.count, 9000u);
}

// Stats() and MetricsText() never wait behind a commit that waits for a
// grace period: they return while it waits and show its age.
TEST(StoreStatsWait, StatsShowAGraceWaitInProgress) {
  auto store = OpenOrDie(AllKindsOfTables());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePartition(0).ok());
  ASSERT_TRUE(store->Commit(0).ok());
  std::atomic<bool> reading{false}, release{false}, committed{false};
  std::thread reader([&] {
    ReadSection rs;
    reading.store(true, std::memory_order_release);
    // Held until released (or a liveness bound: the test then fails below).
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!release.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
  });
  while (!reading.load(std::memory_order_acquire)) std::this_thread::yield();
  std::thread writer([&] {
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(store->Commit(0).ok());  // the second waits
    committed.store(true, std::memory_order_release);
  });
  StoreStats st;
  do {
    std::this_thread::yield();
    st = store->Stats().value();
  } while (st.oldest_grace_wait_ns == 0 && !committed.load(std::memory_order_acquire));
  const std::string text = store->MetricsText().value();
  EXPECT_FALSE(committed.load(std::memory_order_acquire))
      << "Stats() returned only after the commit's grace period";
  EXPECT_GT(st.oldest_grace_wait_ns, 0u);
  EXPECT_NE(text.find("rcustate_partition_grace_wait_age_seconds{partition=\"0\"} "),
            std::string::npos);
  release.store(true, std::memory_order_release);
  writer.join();
  reader.join();
  const StoreStats done = store->Stats().value();
  EXPECT_EQ(done.oldest_grace_wait_ns, 0u);
  EXPECT_GE(done.grace_wait.count, 1u);
  EXPECT_GE(done.grace_wait.sum_ns, 1u);
  ASSERT_TRUE(store->Close().ok());
}

// ================================================================ MetricsText()

TEST_P(StoreTest, MetricsTextIsValidAndMatchesTheStats) {
  // An empty store: the store-wide families only.
  {
    const std::string text = s().MetricsText().value();
    TextChecker c(text);
    EXPECT_EQ(c.Value("rcustate_partitions"), 0);
    EXPECT_EQ(c.types().count("rcustate_partition_version"), 0u);
    EXPECT_EQ(c.Value("rcustate_commit_latency_seconds_bucket", {{"le", "+Inf"}}), 0);
  }
  for (uint32_t p : {4u, 70000u}) ASSERT_TRUE(s().CreatePartition(p).ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(s().Put(4, kPlain, "k" + std::to_string(i), "v").ok());
  ASSERT_TRUE(s().Merge(4, kSum, "n", I(5)).ok());
  CommitExpect(4, 1);
  ASSERT_TRUE(s().Put(70000, kLog, "x", "y").ok());
  CommitExpect(70000, 1);
  CommitExpect(70000, 2);
  PinnedSnapshot pin = s().Pin(4).value();
  const std::string text = s().MetricsText().value();
  TextChecker c(text);
  const StoreStats st = s().Stats().value();
  EXPECT_EQ(c.types().at("rcustate_commits_total"), "counter");
  EXPECT_EQ(c.types().at("rcustate_partitions"), "gauge");
  EXPECT_EQ(c.types().at("rcustate_commit_latency_seconds"), "histogram");
  EXPECT_EQ(c.types().at("rcustate_grace_wait_seconds"), "histogram");
  EXPECT_EQ(c.Value("rcustate_partitions"), 2);
  EXPECT_EQ(c.Value("rcustate_commits_total"), 3);
  EXPECT_EQ(c.Value("rcustate_entries"), 22);
  EXPECT_EQ(c.Value("rcustate_pins"), 1);
  EXPECT_EQ(c.Value("rcustate_commit_latency_seconds_count"), 3);
  EXPECT_EQ(c.Value("rcustate_commit_latency_seconds_bucket", {{"le", "+Inf"}}), 3);
  EXPECT_GT(c.Value("rcustate_commit_latency_seconds_sum"), 0);
  EXPECT_EQ(c.Value("rcustate_commit_latency_seconds_bucket", {{"le", "0.000001"}}) >= 0, true);
  EXPECT_EQ(c.Value("rcustate_commit_latency_seconds_bucket", {{"le", "10"}}), 3);
  EXPECT_GE(c.Value("rcustate_publications_total"), 1);
  EXPECT_LE(c.Value("rcustate_publications_total"), static_cast<double>(st.publications));
  // Per partition, labelled; entries per table, labelled with its name.
  EXPECT_EQ(c.Value("rcustate_partition_version", {{"partition", "4"}}), 1);
  EXPECT_EQ(c.Value("rcustate_partition_version", {{"partition", "70000"}}), 2);
  EXPECT_EQ(c.Value("rcustate_partition_commits_total", {{"partition", "70000"}}), 2);
  EXPECT_EQ(c.Value("rcustate_partition_entries", {{"partition", "4"}, {"table", "plain"}}), 20);
  EXPECT_EQ(c.Value("rcustate_partition_entries", {{"partition", "4"}, {"table", "sum"}}), 1);
  EXPECT_EQ(c.Value("rcustate_partition_entries", {{"partition", "70000"}, {"table", "log"}}), 1);
  EXPECT_EQ(c.Value("rcustate_partition_pins", {{"partition", "4"}}), 1);
  EXPECT_EQ(c.Value("rcustate_partition_pins", {{"partition", "70000"}}), 0);
  EXPECT_GT(c.Value("rcustate_partition_memory_bytes", {{"partition", "4"}}), 0);
  // Every per-partition family has one sample per partition (entries: per table).
  std::map<std::string, int> per_family;
  for (const Sample& x : c.samples()) {
    if (x.name.starts_with("rcustate_partition_")) ++per_family[x.name];
  }
  for (const auto& [name, n] : per_family) {
    EXPECT_EQ(n, name == "rcustate_partition_entries" ? 2 * static_cast<int>(kNumTables) : 2)
        << name;
  }
  EXPECT_GE(per_family.size(), 12u);
}

TEST(MetricsText, TableNamesAreEscaped) {
  auto store = OpenOrDie({{"quote\"back\\slash\nline", nullptr, 0}, {"plain", nullptr, 0}});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePartition(0).ok());
  ASSERT_TRUE(store->Put(0, 0, "k", "v").ok());
  ASSERT_TRUE(store->Commit(0).ok());
  const std::string text = store->MetricsText().value();
  EXPECT_NE(text.find("table=\"quote\\\"back\\\\slash\\nline\""), std::string::npos) << text;
  TextChecker c(text);
  EXPECT_EQ(c.Value("rcustate_partition_entries",
                    {{"partition", "0"}, {"table", "quote\"back\\slash\nline"}}),
            1);
  ASSERT_TRUE(store->Close().ok());
}

// Table names are the user's bytes; the text is UTF-8 and must stay so, and a
// C reader must see all of it (no NUL).
TEST(MetricsText, LabelValuesAreValidUtf8) {
  using detail::EscapeLabelValue;
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(EscapeLabelValue("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");  // 2, 3 and 4 bytes kept
  EXPECT_EQ(EscapeLabelValue("caf\xE9"), "caf" + fffd);              // Latin-1
  EXPECT_EQ(EscapeLabelValue("\xC0\xAF"), fffd + fffd);             // overlong
  EXPECT_EQ(EscapeLabelValue("\xED\xA0\x80"), fffd + fffd + fffd);  // a surrogate
  EXPECT_EQ(EscapeLabelValue("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // > U+10FFFF
  EXPECT_EQ(EscapeLabelValue("\xE2\x82"), fffd + fffd);             // cut short
  EXPECT_EQ(EscapeLabelValue(std::string("a\0b", 3)), "a" + fffd + "b");
  EXPECT_EQ(EscapeLabelValue("q\"b\\n\n"), "q\\\"b\\\\n\\n");

  auto store = OpenOrDie({{"caf\xE9", nullptr, 0}, {std::string("x\0y", 3), nullptr, 0}});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePartition(0).ok());
  const std::string text = store->MetricsText().value();
  EXPECT_EQ(text.find('\0'), std::string::npos);
  EXPECT_NE(text.find("table=\"caf" + fffd + "\""), std::string::npos);
  EXPECT_NE(text.find("table=\"x" + fffd + "y\""), std::string::npos);
  TextChecker c(text);
  ASSERT_TRUE(store->Close().ok());
}

// The directory is walked a few partitions per read section: every
// partition is seen once, across leaf and mid pages and at the last id.
TEST(MetricsText, EveryPartitionOnceAcrossTheWalk) {
  auto store = OpenOrDie(AllKindsOfTables());
  ASSERT_NE(store, nullptr);
  std::set<uint32_t> ids;
  for (uint32_t p = 0; p < 150; ++p) ids.insert(p);
  for (uint32_t p = 1000; p < 1100; ++p) ids.insert(p);               // a leaf boundary (1024)
  for (uint32_t p = (1u << 21) - 70; p < (1u << 21) + 70; ++p) ids.insert(p);  // a mid boundary
  ids.insert(0xFFFFFFFFu);
  for (uint32_t p : ids) ASSERT_TRUE(store->CreatePartition(p).ok());
  const StoreStats st = store->Stats().value();
  EXPECT_EQ(st.partitions, ids.size());
  TextChecker c(store->MetricsText().value());
  std::set<uint32_t> seen;
  for (const Sample& x : c.samples()) {
    if (x.name != "rcustate_partition_version") continue;
    const uint32_t id = static_cast<uint32_t>(std::stoul(x.labels.at("partition")));
    EXPECT_TRUE(seen.insert(id).second) << id;
  }
  EXPECT_EQ(seen, ids);
  ASSERT_TRUE(store->Close().ok());
}

// The C functions: the same figures, the size protocol of rcs_metrics_text.
TEST(MetricsText, CApi) {
  rcs_table_spec spec{"t", RCS_MERGE_ADD_I64, 0};
  rcs_options o;
  rcs_options_init(&o);
  o.tables = &spec;
  o.num_tables = 1;
  rcs_store* store = nullptr;
  ASSERT_EQ(rcs_store_open(&o, &store), RCS_OK);
  ASSERT_EQ(rcs_partition_create(store, 9), RCS_OK);
  int64_t one = 1;
  ASSERT_EQ(rcs_merge(store, 9, 0, "k", 1, &one, sizeof one), RCS_OK);
  uint64_t v = 0;
  ASSERT_EQ(rcs_commit(store, 9, &v), RCS_OK);
  struct rcs_store_stats st = {};
  st.struct_size = sizeof st - 1;
  EXPECT_EQ(rcs_store_stats(store, &st), RCS_EINVAL);
  st.struct_size = sizeof st;
  ASSERT_EQ(rcs_store_stats(store, &st), RCS_OK);
  EXPECT_EQ(st.struct_size, sizeof st);
  EXPECT_EQ(st.partitions, 1u);
  EXPECT_EQ(st.entries, 1u);
  EXPECT_EQ(st.commits, 1u);
  EXPECT_EQ(st.commit_latency_count, 1u);
  EXPECT_GT(st.commit_latency_sum_ns, 0u);
  EXPECT_GE(st.publications, 1u);
  EXPECT_EQ(rcs_store_stats(store, nullptr), RCS_EINVAL);
  struct rcs_partition_stats ps = {};
  ps.struct_size = sizeof ps;
  ps.catch_ups = UINT64_MAX;  // filled since 0.2
  ASSERT_EQ(rcs_partition_stats(store, 9, &ps), RCS_OK);
  EXPECT_NE(ps.catch_ups, UINT64_MAX);

  size_t needed = 0;
  EXPECT_EQ(rcs_metrics_text(store, nullptr, 0, &needed), RCS_ERANGE);
  ASSERT_GT(needed, 1u);
  std::string buf(needed, '\x7f');
  EXPECT_EQ(rcs_metrics_text(store, buf.data(), needed - 1, &needed), RCS_ERANGE);
  EXPECT_EQ(buf[0], '\x7f') << "buf touched on RCS_ERANGE";
  size_t got = 0;
  ASSERT_EQ(rcs_metrics_text(store, buf.data(), buf.size(), &got), RCS_OK);
  EXPECT_EQ(got, needed);
  EXPECT_EQ(buf[needed - 1], '\0');
  const std::string text(buf.data(), needed - 1);
  EXPECT_EQ(text.size(), std::string(buf.c_str()).size());
  TextChecker c(text);
  EXPECT_EQ(c.Value("rcustate_commits_total"), 1);
  EXPECT_EQ(c.Value("rcustate_partition_entries", {{"partition", "9"}, {"table", "t"}}), 1);
  EXPECT_EQ(rcs_metrics_text(store, nullptr, 5, &got), RCS_EINVAL);
  EXPECT_EQ(rcs_metrics_text(store, buf.data(), buf.size(), nullptr), RCS_EINVAL);
  EXPECT_EQ(rcs_metrics_text(nullptr, buf.data(), buf.size(), &got), RCS_EINVAL);
  EXPECT_EQ(rcs_store_close(store), RCS_OK);
}

// ================================================================ the log handler

// A handler a host would install: it tags what it receives and writes it
// to stderr, where the death tests look for it.
void HostLogger(void* arg, LogLevel level, const char* message) {
  std::fprintf(stderr, "host-logger[%s,level %d]: %s\n", static_cast<const char*>(arg),
               static_cast<int>(level), message);
}
void CHostLogger(void* arg, int level, const char* message) {
  std::fprintf(stderr, "c-host-logger[%s,level %d]: %s\n", static_cast<const char*>(arg), level,
               message);
}

// Destroying a store inside a read section is fatal (its views would
// dangle): the message goes to the handler, then the process aborts.
void DestroyInsideASection() {
  std::unique_ptr<Store> store = OpenOrDie(AllKindsOfTables());
  ReadSection rs;
  store.reset();
}

TEST(LogHandlerDeathTest, DefaultWritesToStderr) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(DestroyInsideASection(),
               "rcustate: fatal: Store destroyed inside a read section: .*read section");
}

TEST(LogHandlerDeathTest, FatalGoesToTheHandlerThenAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        SetLogHandler(&HostLogger, const_cast<char*>("tag"));
        DestroyInsideASection();
      },
      "host-logger\\[tag,level 3\\]: Store destroyed inside a read section");
  // Reset, the default is back.
  EXPECT_DEATH(
      {
        SetLogHandler(&HostLogger, const_cast<char*>("tag"));
        SetLogHandler(nullptr, nullptr);
        DestroyInsideASection();
      },
      "rcustate: fatal: Store destroyed");
}

// A handler that throws loses neither the message nor the abort.
TEST(LogHandlerDeathTest, AThrowingHandlerStillAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        SetLogHandler([](void*, LogLevel, const char*) { throw std::runtime_error("oops"); },
                      nullptr);
        DestroyInsideASection();
      },
      "rcustate: fatal: Store destroyed inside a read section.*the log handler threw");
}

TEST(LogHandlerDeathTest, TheCHandler) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        rcs_set_log_handler(&CHostLogger, const_cast<char*>("ctag"));
        DestroyInsideASection();
      },
      "c-host-logger\\[ctag,level 3\\]: Store destroyed inside a read section");
  EXPECT_DEATH(
      {
        rcs_set_log_handler(&CHostLogger, const_cast<char*>("ctag"));
        rcs_set_log_handler(nullptr, nullptr);
        DestroyInsideASection();
      },
      "rcustate: fatal: Store destroyed");
}

}  // namespace
}  // namespace rcustate
