// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/kafka_benchmark.cpp
//
// rcustate-kafka-bench: what a changelog topic costs, against librdkafka's
// in-process mock cluster (the local broker; it runs on the same cores):
//  - writers: the groupby shape (uniform keys, four aggregates per record:
//    count, sum, min, max, a commit every --batch records, one reader thread
//    doing rcs_get), run without a changelog and with the changelog produced
//    to the topic, interleaved, --repeat times each; records/s, reads/s and
//    commit latency p50/p99, and the ratio of the medians;
//  - restore: --restore_keys keys of a one-table store (a count per key),
//    spread over --restore_partitions partitions and written in
//    --batch-record commits, then restored into a fresh store from the topic
//    alone (rcs_kafka_restore, partition after partition) and from full
//    checkpoints of the same state (rcs_restore): records/s and MB/s of the
//    topic restore, keys/s of both. (librdkafka's mock cluster keeps at most
//    5 MiB per partition and drops older messages, so the keys are spread
//    over enough partitions to stay below that: 1e6 keys in 8 partitions is
//    about 3.3 MB of records each.)
// Everything goes through the C ABI, as a C user of the two libraries would.
//
//   rcustate-kafka-bench [--keys=1e5] [--batch=1000] [--seconds=5] [--repeat=3]
//                        [--restore_keys=1e6] [--restore_partitions=8] [--quick]
// --quick: 2e4 keys, 1 s, one repetition, 2e4 restore keys (the smoke test).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "rcustate/kafka.h"
#include "rcustate/rcustate.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  uint64_t keys = 100000;
  uint64_t batch = 1000;
  double seconds = 5;
  int repeat = 3;
  uint64_t restore_keys = 1000000;
  uint32_t restore_partitions = 8;
};

[[noreturn]] void Die(const char* what, int rc, const char* msg) {
  std::fprintf(stderr, "rcustate-kafka-bench: %s: %d: %s\n", what, rc, msg);
  std::exit(1);
}
void Check(int rc, const char* what) {
  if (rc != RCS_OK) Die(what, rc, rcs_last_error());
}
void CheckK(int rc, const char* what) {
  if (rc != RCS_OK) Die(what, rc, rcs_kafka_last_error());
}

const rcs_table_spec kTables[] = {{"count", RCS_MERGE_ADD_I64, 0},
                                  {"sum", RCS_MERGE_ADD_I64, 0},
                                  {"min", RCS_MERGE_MIN_I64, 0},
                                  {"max", RCS_MERGE_MAX_I64, 0}};

rcs_store* OpenStore(size_t tables = 4) {
  rcs_options o;
  rcs_options_init(&o);
  o.tables = kTables;
  o.num_tables = tables;
  rcs_store* s = nullptr;
  Check(rcs_store_open(&o, &s), "rcs_store_open");
  return s;
}

class Broker {
 public:
  explicit Broker(const char* topic, int partitions = 1) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[256];
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk_ == nullptr) Die("rd_kafka_new", -1, err);
    mc_ = rd_kafka_mock_cluster_new(rk_, 1);
    if (mc_ == nullptr) Die("rd_kafka_mock_cluster_new", -1, "failed");
    rd_kafka_mock_topic_create(mc_, topic, partitions, 1);
    brokers_ = rd_kafka_mock_cluster_bootstraps(mc_);
  }
  ~Broker() {
    rd_kafka_mock_cluster_destroy(mc_);
    rd_kafka_destroy(rk_);
  }
  const char* brokers() const { return brokers_.c_str(); }

 private:
  rd_kafka_t* rk_;
  rd_kafka_mock_cluster_t* mc_;
  std::string brokers_;
};

const char* const kQuiet[] = {"log_level", "0", nullptr};

rcs_kafka* OpenKafka(rcs_store* s, const Broker& b, const char* topic) {
  rcs_kafka_options o;
  rcs_kafka_options_init(&o);
  o.brokers = b.brokers();
  o.topic = topic;
  o.config = kQuiet;
  rcs_kafka* k = nullptr;
  CheckK(rcs_kafka_open(s, &o, &k), "rcs_kafka_open");
  return k;
}

void Record(rcs_store* s, uint64_t key, int64_t v) {
  char k[24];
  const int n = std::snprintf(k, sizeof k, "key-%012llu", static_cast<unsigned long long>(key));
  const int64_t one = 1;
  Check(rcs_merge(s, 0, 0, k, n, &one, 8), "rcs_merge");
  Check(rcs_merge(s, 0, 1, k, n, &v, 8), "rcs_merge");
  Check(rcs_merge(s, 0, 2, k, n, &v, 8), "rcs_merge");
  Check(rcs_merge(s, 0, 3, k, n, &v, 8), "rcs_merge");
}

struct Run {
  double records_per_s = 0;
  double reads_per_s = 0;
  double commit_p50_us = 0;
  double commit_p99_us = 0;
};

Run WriterRun(const Config& c, bool kafka, int round) {
  const std::string topic = "changelog-" + std::to_string(round);
  Broker broker(topic.c_str());
  rcs_store* s = OpenStore();
  rcs_kafka* k = kafka ? OpenKafka(s, broker, topic.c_str()) : nullptr;
  Check(rcs_partition_create(s, 0), "rcs_partition_create");
  std::mt19937_64 rng(42);
  // Prefill every key once, so both runs measure the same steady state.
  for (uint64_t i = 0; i < c.keys; ++i) {
    Record(s, i, static_cast<int64_t>(i));
    if ((i + 1) % c.batch == 0) Check(rcs_commit(s, 0, nullptr), "rcs_commit");
  }
  Check(rcs_commit(s, 0, nullptr), "rcs_commit");
  if (k != nullptr) CheckK(rcs_kafka_flush(k, 60000, nullptr, 0), "rcs_kafka_flush");

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0};
  std::thread reader([&] {
    std::mt19937_64 r(7);
    char key[24], value[8];
    uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const int len = std::snprintf(key, sizeof key, "key-%012llu",
                                    static_cast<unsigned long long>(r() % c.keys));
      size_t vl = 0;
      rcs_get(s, 0, 0, key, len, value, sizeof value, &vl);
      ++n;
    }
    reads = n;
  });
  std::vector<double> commits;
  uint64_t records = 0;
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::duration<double>(c.seconds);
  while (Clock::now() < end) {
    for (uint64_t i = 0; i < c.batch; ++i) {
      Record(s, rng() % c.keys, static_cast<int64_t>(rng() % 1000000));
    }
    const auto c0 = Clock::now();
    Check(rcs_commit(s, 0, nullptr), "rcs_commit");
    commits.push_back(std::chrono::duration<double, std::micro>(Clock::now() - c0).count());
    records += c.batch;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  stop = true;
  reader.join();
  if (k != nullptr) {
    CheckK(rcs_kafka_flush(k, 60000, nullptr, 0), "rcs_kafka_flush");
    rcs_kafka_status st{};
    st.struct_size = sizeof st;
    CheckK(rcs_kafka_partition_status(k, 0, &st), "rcs_kafka_partition_status");
    uint64_t v = 0;
    Check(rcs_version(s, 0, &v), "rcs_version");
    if (st.acked_version != v) Die("acknowledged version", -1, "differs from the committed one");
    CheckK(rcs_kafka_close(k, 60000), "rcs_kafka_close");
  }
  Check(rcs_store_close(s), "rcs_store_close");
  std::sort(commits.begin(), commits.end());
  Run r;
  r.records_per_s = records / elapsed;
  r.reads_per_s = reads.load() / elapsed;
  r.commit_p50_us = commits[commits.size() / 2];
  r.commit_p99_us = commits[commits.size() * 99 / 100];
  return r;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void RestoreFigures(const Config& c) {
  const char* topic = "restore";
  const uint32_t parts = c.restore_partitions;
  Broker broker(topic, static_cast<int>(parts));
  rcs_store* a = OpenStore(1);
  rcs_kafka* ka = OpenKafka(a, broker, topic);
  for (uint32_t p = 0; p < parts; ++p) Check(rcs_partition_create(a, p), "rcs_partition_create");
  const int64_t one = 1;
  for (uint64_t i = 0; i < c.restore_keys; ++i) {
    const uint32_t p = static_cast<uint32_t>(i % parts);
    char k[24];
    const int n = std::snprintf(k, sizeof k, "key-%012llu", static_cast<unsigned long long>(i));
    Check(rcs_merge(a, p, 0, k, n, &one, 8), "rcs_merge");
    if ((i / parts + 1) % c.batch == 0 || i + parts >= c.restore_keys) {
      Check(rcs_commit(a, p, nullptr), "rcs_commit");
    }
  }
  CheckK(rcs_kafka_flush(ka, 120000, nullptr, 0), "rcs_kafka_flush");
  char tmpl[] = "/tmp/rcs-kafka-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  auto ckpt_dir = [&](uint32_t p) { return dir + "/p-" + std::to_string(p); };
  for (uint32_t p = 0; p < parts; ++p) {
    Check(rcs_checkpoint(a, p, ckpt_dir(p).c_str(), RCS_CHECKPOINT_FULL, nullptr),
          "rcs_checkpoint");
  }
  CheckK(rcs_kafka_close(ka, 60000), "rcs_kafka_close");
  Check(rcs_store_close(a), "rcs_store_close");

  for (int r = 0; r < c.repeat; ++r) {
    rcs_store* b = OpenStore(1);
    rcs_kafka* kb = OpenKafka(b, broker, topic);
    uint64_t records = 0, bytes = 0;
    auto t0 = Clock::now();
    for (uint32_t p = 0; p < parts; ++p) {
      rcs_kafka_restore_info info{};
      info.struct_size = sizeof info;
      CheckK(rcs_kafka_restore(kb, p, nullptr, nullptr, nullptr, &info), "rcs_kafka_restore");
      records += info.records;
      bytes += info.bytes;
    }
    const double topic_s = std::chrono::duration<double>(Clock::now() - t0).count();
    CheckK(rcs_kafka_close(kb, 60000), "rcs_kafka_close");
    Check(rcs_store_close(b), "rcs_store_close");

    rcs_store* d = OpenStore(1);
    uint64_t ckpt_bytes = 0;
    t0 = Clock::now();
    for (uint32_t p = 0; p < parts; ++p) {
      rcs_checkpoint_info ci{};
      ci.struct_size = sizeof ci;
      Check(rcs_restore(d, p, ckpt_dir(p).c_str(), &ci), "rcs_restore");
      ckpt_bytes += ci.bytes;
    }
    const double ckpt_s = std::chrono::duration<double>(Clock::now() - t0).count();
    Check(rcs_store_close(d), "rcs_store_close");
    std::printf(
        "restore %llu keys in %u partitions: from the topic %.3f s (%llu records, %.0f "
        "records/s, %.1f MB/s, %.0f keys/s); from checkpoints %.3f s (%.1f MB/s, %.0f keys/s); "
        "topic / checkpoint time %.2fx\n",
        static_cast<unsigned long long>(c.restore_keys), parts, topic_s,
        static_cast<unsigned long long>(records), records / topic_s, bytes / topic_s / 1e6,
        c.restore_keys / topic_s, ckpt_s, ckpt_bytes / ckpt_s / 1e6, c.restore_keys / ckpt_s,
        topic_s / ckpt_s);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(dir);
}

double ParseNumber(const char* s) { return std::strtod(s, nullptr); }

}  // namespace

int main(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      const std::string prefix = std::string("--") + name + "=";
      return a.rfind(prefix, 0) == 0 ? argv[i] + prefix.size() : nullptr;
    };
    if (const char* v = value("keys")) {
      c.keys = static_cast<uint64_t>(ParseNumber(v));
    } else if (const char* v = value("batch")) {
      c.batch = static_cast<uint64_t>(ParseNumber(v));
    } else if (const char* v = value("seconds")) {
      c.seconds = ParseNumber(v);
    } else if (const char* v = value("repeat")) {
      c.repeat = static_cast<int>(ParseNumber(v));
    } else if (const char* v = value("restore_keys")) {
      c.restore_keys = static_cast<uint64_t>(ParseNumber(v));
    } else if (const char* v = value("restore_partitions")) {
      c.restore_partitions = static_cast<uint32_t>(ParseNumber(v));
    } else if (a == "--quick") {
      c.keys = 20000;
      c.seconds = 1;
      c.repeat = 1;
      c.restore_keys = 20000;
    } else {
      std::fprintf(stderr,
                   "usage: rcustate-kafka-bench [--keys=N] [--batch=N] [--seconds=S] "
                   "[--repeat=N] [--restore_keys=N] [--restore_partitions=N] [--quick]\n");
      return 2;
    }
  }
  if (c.keys == 0 || c.batch == 0 || c.seconds <= 0 || c.repeat < 1 ||
      c.restore_partitions == 0) {
    std::fprintf(stderr, "rcustate-kafka-bench: keys, batch, seconds, repeat and "
                         "restore_partitions must be positive\n");
    return 2;
  }
  std::vector<double> w0, w1, r0, r1, p0, p1;
  for (int r = 0; r < c.repeat; ++r) {
    for (bool kafka : {false, true}) {
      const Run run = WriterRun(c, kafka, r);
      std::printf("round %d %-9s writer %.0f records/s, reader %.0f reads/s, commit p50 %.0f us "
                  "p99 %.0f us\n",
                  r + 1, kafka ? "changelog" : "none", run.records_per_s, run.reads_per_s,
                  run.commit_p50_us, run.commit_p99_us);
      std::fflush(stdout);
      (kafka ? w1 : w0).push_back(run.records_per_s);
      (kafka ? r1 : r0).push_back(run.reads_per_s);
      (kafka ? p1 : p0).push_back(run.commit_p99_us);
    }
  }
  std::printf("medians: writer %.2fx with the changelog (%.0f vs %.0f records/s), reader %.2fx, "
              "commit p99 %.2fx (%.0f vs %.0f us)\n",
              Median(w1) / Median(w0), Median(w1), Median(w0), Median(r1) / Median(r0),
              Median(p1) / Median(p0), Median(p1), Median(p0));
  RestoreFigures(c);
  return 0;
}
