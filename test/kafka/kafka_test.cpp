// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/kafka/kafka_test.cpp
//
// librcustate-kafka against librdkafka's in-process mock cluster (brokers on
// 127.0.0.1, one cluster per test):
//  - round trip: commits -> topic -> a second store restores from the topic
//    alone, and from a checkpoint plus the topic (with and without the
//    recorded offset): equal contents at the same version;
//  - the broker away: commits go on until the bounded queue is full, then
//    fail with RCS_EIO; once it is back, flush acknowledges everything and
//    nothing is missing from the topic;
//  - records that fail for good (delivery timeout): flush and status report
//    RCS_EIO, later commits are refused, and the topic holds exactly the
//    acknowledged prefix;
//  - injected produce errors are retried: nothing lost;
//  - bad records in the topic (truncated, another partition's, a gap in
//    versions): restore fails with RCS_ECORRUPT naming the offset, and the
//    partition is absent;
//  - bad arguments.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "rcustate/kafka.h"
#include "rcustate/rcustate.h"

namespace {

constexpr char kTopic[] = "state";
constexpr int kPartitions = 2;
constexpr int kProduceApiKey = 0;  // Kafka's Produce request

// One mock cluster (and the handle that owns it) per test.
class MockCluster {
 public:
  explicit MockCluster(int brokers = 1) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[256];
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk_ == nullptr) ADD_FAILURE() << err;
    mc_ = rd_kafka_mock_cluster_new(rk_, brokers);
    if (mc_ == nullptr) ADD_FAILURE() << "rd_kafka_mock_cluster_new failed";
    rd_kafka_mock_topic_create(mc_, kTopic, kPartitions, 1);
    brokers_ = rd_kafka_mock_cluster_bootstraps(mc_);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(mc_);
    rd_kafka_destroy(rk_);
  }
  const std::string& brokers() const { return brokers_; }
  rd_kafka_mock_cluster_t* get() { return mc_; }
  void SetDown(bool down) {
    if (down) {
      rd_kafka_mock_broker_set_down(mc_, 1);
    } else {
      rd_kafka_mock_broker_set_up(mc_, 1);
    }
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* mc_ = nullptr;
  std::string brokers_;
};

const rcs_table_spec kTables[] = {{"plain", RCS_MERGE_NONE, 0}, {"sum", RCS_MERGE_ADD_I64, 0}};

rcs_store* OpenStore() {
  rcs_options o;
  rcs_options_init(&o);
  o.tables = kTables;
  o.num_tables = 2;
  rcs_store* s = nullptr;
  EXPECT_EQ(rcs_store_open(&o, &s), RCS_OK) << rcs_last_error();
  return s;
}

const char* const kQuiet[] = {"log_level", "0", nullptr};

rcs_kafka* OpenKafka(rcs_store* s, const MockCluster& mc, size_t max_pending = 0,
                     int delivery_timeout_ms = 0) {
  rcs_kafka_options o;
  rcs_kafka_options_init(&o);
  o.brokers = mc.brokers().c_str();
  o.topic = kTopic;
  o.max_pending = max_pending;
  o.delivery_timeout_ms = delivery_timeout_ms;
  o.config = kQuiet;
  rcs_kafka* k = nullptr;
  EXPECT_EQ(rcs_kafka_open(s, &o, &k), RCS_OK) << rcs_kafka_last_error();
  return k;
}

std::string Key(int i) { return "key-" + std::to_string(i); }

// Commit `step` of a deterministic scenario: puts, merges, a delete.
int CommitStep(rcs_store* s, uint32_t p, int step) {
  for (int i = 0; i < 5; ++i) {
    const std::string k = Key((step * 7 + i) % 40);
    const std::string v = "v" + std::to_string(step) + "-" + std::to_string(i);
    EXPECT_EQ(rcs_put(s, p, 0, k.data(), k.size(), v.data(), v.size()), RCS_OK);
    const int64_t one = step + i;
    EXPECT_EQ(rcs_merge(s, p, 1, k.data(), k.size(), &one, sizeof one), RCS_OK);
  }
  if (step % 3 == 2) {
    const std::string k = Key((step * 5) % 40);
    rcs_delete(s, p, 0, k.data(), k.size());
  }
  uint64_t v = 0;
  return rcs_commit(s, p, &v);
}

using Contents = std::vector<std::map<std::string, std::string>>;

Contents Dump(rcs_store* s, uint32_t p, uint64_t* version) {
  Contents c(2);
  rcs_snapshot* snap = nullptr;
  EXPECT_EQ(rcs_snapshot_open(s, p, &snap), RCS_OK) << rcs_last_error();
  if (snap == nullptr) return c;
  *version = rcs_snapshot_version(snap);
  for (uint32_t t = 0; t < 2; ++t) {
    rcs_snapshot_foreach(
        snap, t,
        [](const void* k, size_t kl, const void* v, size_t vl, void* ctx) {
          static_cast<std::map<std::string, std::string>*>(ctx)->emplace(
              std::string(static_cast<const char*>(k), kl),
              std::string(static_cast<const char*>(v), vl));
          return 0;
        },
        &c[t]);
  }
  rcs_snapshot_close(snap);
  return c;
}

// A temporary directory removed at the end of the test.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/rcs-kafka-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

// Restores `p` into a fresh store from the topic alone and checks it holds
// `expected` at `version`; returns what the restore reported.
rcs_kafka_restore_info RestoreFreshAndCompare(const MockCluster& mc, uint32_t p,
                                              const Contents& expected, uint64_t version) {
  rcs_store* b = OpenStore();
  rcs_kafka* kb = OpenKafka(b, mc);
  rcs_kafka_restore_info info{};
  info.struct_size = sizeof info;
  EXPECT_EQ(rcs_kafka_restore(kb, p, nullptr, nullptr, nullptr, &info), RCS_OK)
      << rcs_kafka_last_error();
  uint64_t vb = 0;
  EXPECT_EQ(Dump(b, p, &vb), expected);
  EXPECT_EQ(vb, version);
  EXPECT_EQ(rcs_kafka_close(kb, 10000), RCS_OK);
  EXPECT_EQ(rcs_store_close(b), RCS_OK);
  return info;
}

TEST(Kafka, RoundTripFromTheTopicAlone) {
  MockCluster mc;
  rcs_store* a = OpenStore();
  rcs_kafka* ka = OpenKafka(a, mc);
  for (uint32_t p = 0; p < kPartitions; ++p) ASSERT_EQ(rcs_partition_create(a, p), RCS_OK);
  for (int step = 0; step < 60; ++step) {
    for (uint32_t p = 0; p < kPartitions; ++p) ASSERT_EQ(CommitStep(a, p, step + p), RCS_OK);
  }
  uint64_t acked[kPartitions + 1] = {99, 99, 99};
  ASSERT_EQ(rcs_kafka_flush(ka, 10000, acked, kPartitions + 1), RCS_OK) << rcs_kafka_last_error();
  EXPECT_EQ(acked[0], 60u);
  EXPECT_EQ(acked[1], 60u);
  EXPECT_EQ(acked[2], 0u) << "a partition never produced";
  rcs_kafka_status st{};
  st.struct_size = sizeof st;
  ASSERT_EQ(rcs_kafka_partition_status(ka, 1, &st), RCS_OK);
  EXPECT_EQ(st.acked_version, 60u);
  EXPECT_EQ(st.pending, 0u);
  EXPECT_EQ(st.broken, 0);
  EXPECT_GE(st.acked_offset, 59);

  rcs_store* b = OpenStore();
  rcs_kafka* kb = OpenKafka(b, mc);
  for (uint32_t p = 0; p < kPartitions; ++p) {
    rcs_kafka_restore_info info{};
    info.struct_size = sizeof info;
    ASSERT_EQ(rcs_kafka_restore(kb, p, nullptr, nullptr, nullptr, &info), RCS_OK)
        << rcs_kafka_last_error();
    EXPECT_EQ(info.version, 60u);
    EXPECT_EQ(info.records, 60u);
    EXPECT_EQ(info.applied, 60u);
    EXPECT_EQ(info.checkpoint_version, 0u);
    uint64_t va = 0, vb = 0;
    EXPECT_EQ(Dump(a, p, &va), Dump(b, p, &vb)) << "partition " << p;
    EXPECT_EQ(va, vb);
  }
  // The restored store's own commits go on from there, and are produced
  // (the replayed ones were not produced a second time).
  ASSERT_EQ(CommitStep(b, 0, 1000), RCS_OK);
  ASSERT_EQ(rcs_kafka_flush(kb, 10000, nullptr, 0), RCS_OK) << rcs_kafka_last_error();
  ASSERT_EQ(rcs_kafka_partition_status(kb, 0, &st), RCS_OK);
  EXPECT_EQ(st.acked_version, 61u);
  EXPECT_EQ(st.acked_offset, 60) << "the restore produced the records it replayed again";

  EXPECT_EQ(rcs_kafka_close(kb, 10000), RCS_OK);
  EXPECT_EQ(rcs_kafka_close(ka, 10000), RCS_OK);
  EXPECT_EQ(rcs_store_close(b), RCS_OK);
  EXPECT_EQ(rcs_store_close(a), RCS_OK);
}

TEST(Kafka, RestoreFromACheckpointReadsOnlyWhatCameAfter) {
  MockCluster mc;
  TempDir dir;
  rcs_store* a = OpenStore();
  rcs_kafka* ka = OpenKafka(a, mc);
  ASSERT_EQ(rcs_partition_create(a, 0), RCS_OK);
  for (int step = 0; step < 40; ++step) ASSERT_EQ(CommitStep(a, 0, step), RCS_OK);
  rcs_checkpoint_info ci{};
  ci.struct_size = sizeof ci;
  ASSERT_EQ(rcs_kafka_checkpoint(ka, 0, dir.path.c_str(), RCS_CHECKPOINT_FULL, &ci), RCS_OK)
      << rcs_kafka_last_error();
  EXPECT_EQ(ci.version, 40u);
  for (int step = 40; step < 70; ++step) ASSERT_EQ(CommitStep(a, 0, step), RCS_OK);
  ASSERT_EQ(rcs_kafka_flush(ka, 10000, nullptr, 0), RCS_OK) << rcs_kafka_last_error();
  uint64_t va = 0;
  const Contents expected = Dump(a, 0, &va);

  for (bool with_offset : {true, false}) {
    if (!with_offset) std::filesystem::remove(dir.path + "/rcs-kafka.offset");
    rcs_store* b = OpenStore();
    rcs_kafka* kb = OpenKafka(b, mc);
    rcs_kafka_restore_info info{};
    info.struct_size = sizeof info;
    ASSERT_EQ(rcs_kafka_restore(kb, 0, dir.path.c_str(), nullptr, nullptr, &info), RCS_OK)
        << rcs_kafka_last_error();
    // With the offset file naming the chain's version, only the 30 later
    // records are read. Without it the chain is not trusted (it could hold
    // versions the topic does not): the topic alone gives all 70.
    EXPECT_EQ(info.checkpoint_version, with_offset ? 40u : 0u);
    EXPECT_EQ(info.version, 70u);
    EXPECT_EQ(info.applied, with_offset ? 30u : 70u);
    EXPECT_EQ(info.records, with_offset ? 30u : 70u);
    EXPECT_EQ(info.start_offset, with_offset ? 40 : 0);
    uint64_t vb = 0;
    EXPECT_EQ(Dump(b, 0, &vb), expected);
    EXPECT_EQ(vb, va);
    EXPECT_EQ(rcs_kafka_close(kb, 10000), RCS_OK);
    EXPECT_EQ(rcs_store_close(b), RCS_OK);
  }
  EXPECT_EQ(rcs_kafka_close(ka, 10000), RCS_OK);
  EXPECT_EQ(rcs_store_close(a), RCS_OK);
}

// Progress is reported, and a callback that says stop leaves no partition.
TEST(Kafka, RestoreReportsProgressAndCanBeStopped) {
  MockCluster mc;
  rcs_store* a = OpenStore();
  rcs_kafka* ka = OpenKafka(a, mc);
  ASSERT_EQ(rcs_partition_create(a, 0), RCS_OK);
  for (int step = 0; step < 50; ++step) ASSERT_EQ(CommitStep(a, 0, step), RCS_OK);
  ASSERT_EQ(rcs_kafka_flush(ka, 10000, nullptr, 0), RCS_OK);
  rcs_store* b = OpenStore();
  rcs_kafka* kb = OpenKafka(b, mc);
  struct Seen {
    uint64_t calls = 0, records = 0, bytes = 0;
    int stop = 0;
  } seen;
  auto cb = [](void* ctx, uint32_t, uint64_t records, uint64_t bytes, int64_t, int64_t) {
    auto* s = static_cast<Seen*>(ctx);
    ++s->calls;
    s->records = records;
    s->bytes = bytes;
    return s->stop;
  };
  seen.stop = 1;
  EXPECT_EQ(rcs_kafka_restore(kb, 0, nullptr, cb, &seen, nullptr), RCS_ESTATE);
  uint64_t v;
  EXPECT_EQ(rcs_version(b, 0, &v), RCS_ENOPARTITION) << "a stopped restore left the partition";
  seen = Seen{};
  EXPECT_EQ(rcs_kafka_restore(kb, 0, nullptr, cb, &seen, nullptr), RCS_OK);
  EXPECT_GE(seen.calls, 1u);
  EXPECT_EQ(seen.records, 50u);
  EXPECT_GT(seen.bytes, 50u);
  EXPECT_EQ(rcs_kafka_close(kb, 10000), RCS_OK);
  EXPECT_EQ(rcs_kafka_close(ka, 10000), RCS_OK);
  EXPECT_EQ(rcs_store_close(b), RCS_OK);
  EXPECT_EQ(rcs_store_close(a), RCS_OK);
}

// The broker away: commits never wait for it; past max_pending unacknowledged
// records they fail with RCS_EIO (and keep their delta); once it is back,
// flush acknowledges every commit, and the topic holds them all.
TEST(Kafka, BrokerAwayFillsTheBoundedQueueThenCommitsFailUntilItIsBack) {
  MockCluster mc;
  rcs_store* a = OpenStore();
  rcs_kafka* ka = OpenKafka(a, mc, /*max_pending=*/20, /*delivery_timeout_ms=*/60000);
  ASSERT_EQ(rcs_partition_create(a, 0), RCS_OK);
  ASSERT_EQ(CommitStep(a, 0, 0), RCS_OK);
  ASSERT_EQ(rcs_kafka_flush(ka, 10000, nullptr, 0), RCS_OK);  // connected
  mc.SetDown(true);
  int committed = 1, refused = 0;
  for (int step = 1; step < 40; ++step) {
    const int rc = CommitStep(a, 0, step);
    if (rc == RCS_OK) {
      ++committed;
    } else {
      ASSERT_EQ(rc, RCS_EIO) << rcs_last_error();
      EXPECT_NE(std::string(rcs_kafka_last_error()).find("queue full"), std::string::npos)
          << rcs_kafka_last_error();
      ++refused;
    }
  }
  EXPECT_EQ(committed, 21) << "the queue bound did not hold";
  EXPECT_EQ(refused, 19);
  EXPECT_EQ(rcs_kafka_flush(ka, 200, nullptr, 0), RCS_EIO) << "flush returned with records outstanding";
  mc.SetDown(false);
  ASSERT_EQ(rcs_kafka_flush(ka, 30000, nullptr, 0), RCS_OK) << rcs_kafka_last_error();
  // The refused commits kept their changes in the thread's delta: this
  // commit carries them.
  uint64_t v = 0;
  ASSERT_EQ(rcs_commit(a, 0, &v), RCS_OK) << rcs_last_error();
  ASSERT_EQ(rcs_kafka_flush(ka, 30000, nullptr, 0), RCS_OK) << rcs_kafka_last_error();
  uint64_t va = 0;
  const Contents expected = Dump(a, 0, &va);
  EXPECT_EQ(va, 22u);
  RestoreFreshAndCompare(mc, 0, expected, va);
  EXPECT_EQ(rcs_kafka_close(ka, 10000), RCS_OK);
  EXPECT_EQ(rcs_store_close(a), RCS_OK);
}

// Records that fail for good: the partition's changelog is broken, flush and
// status say so, later commits are refused, and what the topic holds is
// exactly the acknowledged prefix (a restore gives that version's contents).
TEST(Kafka, ADeliveryFailureBreaksThePartitionAndIsNeverSilent) {
  MockCluster mc;
  rcs_store* a = OpenStore();
  rcs_kafka* ka = OpenKafka(a, mc, 0, /*delivery_timeout_ms=*/1000);
  ASSERT_EQ(rcs_partition_create(a, 0), RCS_OK);
  std::map<uint64_t, Contents> at;  // contents at each version
  for (int step = 0; step < 10; ++step) {
    ASSERT_EQ(CommitStep(a, 0, step), RCS_OK);
    uint64_t v = 0;
    Contents c = Dump(a, 0, &v);
    at[v] = std::move(c);
  }
  ASSERT_EQ(rcs_kafka_flush(ka, 10000, nullptr, 0), RCS_OK);
  mc.SetDown(true);
  for (int step = 10; step < 15; ++step) ASSERT_EQ(CommitStep(a, 0, step), RCS_OK);
  uint64_t acked = 0;
  EXPECT_EQ(rcs_kafka_flush(ka, 30000, &acked, 1), RCS_EIO);
  EXPECT_EQ(acked, 10u) << "the acknowledged version of a broken partition";
  const std::string why = rcs_kafka_last_error();
  EXPECT_NE(why.find("version 11"), std::string::npos) << why;
  rcs_kafka_status st{};
  st.struct_size = sizeof st;
  EXPECT_EQ(rcs_kafka_partition_status(ka, 0, &st), RCS_EIO);
  EXPECT_EQ(st.broken, 1);
  EXPECT_EQ(st.acked_version, 10u) << "acknowledged past the gap";
  mc.SetDown(false);
  EXPECT_EQ(CommitStep(a, 0, 99), RCS_EIO) << "a broken changelog accepted a commit";
  EXPECT_EQ(RestoreFreshAndCompare(mc, 0, at[10], 10).version, 10u);
  EXPECT_EQ(rcs_kafka_close(ka, 1000), RCS_EIO);
  EXPECT_EQ(rcs_store_close(a), RCS_OK);
}

// Retriable produce errors injected by the broker are retried by the
// idempotent producer: nothing lost, nothing duplicated.
TEST(Kafka, InjectedProduceErrorsAreRetried) {
  MockCluster mc;
  rcs_store* a = OpenStore();
  rcs_kafka* ka = OpenKafka(a, mc);
  ASSERT_EQ(rcs_partition_create(a, 0), RCS_OK);
  ASSERT_EQ(CommitStep(a, 0, 0), RCS_OK);
  ASSERT_EQ(rcs_kafka_flush(ka, 10000, nullptr, 0), RCS_OK);
  rd_kafka_mock_push_request_errors(mc.get(), kProduceApiKey, 4,
                                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
  for (int step = 1; step < 30; ++step) ASSERT_EQ(CommitStep(a, 0, step), RCS_OK);
  ASSERT_EQ(rcs_kafka_flush(ka, 30000, nullptr, 0), RCS_OK) << rcs_kafka_last_error();
  uint64_t va = 0;
  const Contents expected = Dump(a, 0, &va);
  EXPECT_EQ(va, 30u);
  EXPECT_EQ(RestoreFreshAndCompare(mc, 0, expected, va).records, 30u)
      << "records lost or duplicated in the topic";
  EXPECT_EQ(rcs_kafka_close(ka, 10000), RCS_OK);
  EXPECT_EQ(rcs_store_close(a), RCS_OK);
}

// Writes raw messages into the topic.
void ProduceRaw(const MockCluster& mc, int32_t partition, const std::vector<std::string>& values) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[256];
  rd_kafka_conf_set(conf, "bootstrap.servers", mc.brokers().c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  ASSERT_NE(rk, nullptr) << err;
  for (const std::string& v : values) {
    ASSERT_EQ(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(kTopic), RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()),
                                RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_EQ(rd_kafka_flush(rk, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

// The changelog records of `n` commits of partition `p` (from a store with
// no Kafka: a plain callback collects them).
std::vector<std::string> Records(uint32_t p, int n) {
  rcs_store* s = OpenStore();
  std::vector<std::string> out;
  rcs_changelog_set(
      s,
      [](void* ctx, uint32_t, uint64_t, const void* rec, size_t len) {
        static_cast<std::vector<std::string>*>(ctx)->emplace_back(static_cast<const char*>(rec),
                                                                   len);
        return 0;
      },
      &out);
  EXPECT_EQ(rcs_partition_create(s, p), RCS_OK);
  for (int step = 0; step < n; ++step) EXPECT_EQ(CommitStep(s, p, step), RCS_OK);
  rcs_changelog_set(s, nullptr, nullptr);
  EXPECT_EQ(rcs_store_close(s), RCS_OK);
  return out;
}

struct BadCase {
  const char* name;
  // The values of partition 0's messages, and the offset restore must name.
  std::vector<std::string> (*make)();
  int64_t bad_offset;
};

std::vector<std::string> Truncated() {
  std::vector<std::string> r = Records(0, 4);
  r[2].resize(r[2].size() / 2);
  return r;
}
std::vector<std::string> OtherPartition() {
  std::vector<std::string> r = Records(0, 4);
  r[3] = Records(1, 4)[3];
  return r;
}
std::vector<std::string> Gap() {
  std::vector<std::string> r = Records(0, 5);
  r.erase(r.begin() + 2);  // versions 1, 2, 4, 5
  return r;
}

class KafkaBadRecords : public ::testing::TestWithParam<BadCase> {};

TEST_P(KafkaBadRecords, RestoreNamesTheOffsetAndLeavesThePartitionAbsent) {
  const BadCase& c = GetParam();
  MockCluster mc;
  ProduceRaw(mc, 0, c.make());
  rcs_store* b = OpenStore();
  rcs_kafka* kb = OpenKafka(b, mc);
  EXPECT_EQ(rcs_kafka_restore(kb, 0, nullptr, nullptr, nullptr, nullptr), RCS_ECORRUPT);
  const std::string why = rcs_kafka_last_error();
  EXPECT_NE(why.find("offset " + std::to_string(c.bad_offset)), std::string::npos) << why;
  uint64_t v;
  EXPECT_EQ(rcs_version(b, 0, &v), RCS_ENOPARTITION) << "a failed restore left the partition";
  // The store is fine otherwise.
  EXPECT_EQ(rcs_partition_create(b, 0), RCS_OK);
  EXPECT_EQ(rcs_kafka_close(kb, 10000), RCS_OK);
  EXPECT_EQ(rcs_store_close(b), RCS_OK);
}

INSTANTIATE_TEST_SUITE_P(Cases, KafkaBadRecords,
                         ::testing::Values(BadCase{"truncated", Truncated, 2},
                                           BadCase{"other_partition", OtherPartition, 3},
                                           BadCase{"gap", Gap, 2}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Kafka, BadArguments) {
  MockCluster mc;
  rcs_store* s = OpenStore();
  rcs_kafka_options o;
  rcs_kafka_options_init(&o);
  rcs_kafka* k = nullptr;
  EXPECT_EQ(rcs_kafka_open(s, &o, &k), RCS_EINVAL);  // no brokers, no topic
  EXPECT_NE(std::string(rcs_kafka_last_error()).find("rcs_kafka_open"), std::string::npos);
  o.brokers = mc.brokers().c_str();
  o.topic = kTopic;
  const char* const bad[] = {"no.such.setting", "1", nullptr};
  o.config = bad;
  EXPECT_EQ(rcs_kafka_open(s, &o, &k), RCS_EINVAL);
  EXPECT_NE(std::string(rcs_kafka_last_error()).find("no.such.setting"), std::string::npos);
  const char* const odd[] = {"log_level", nullptr};
  o.config = odd;
  EXPECT_EQ(rcs_kafka_open(s, &o, &k), RCS_EINVAL);
  // No broker answers: open fails (after librdkafka's metadata timeout)
  // instead of every later record failing.
  o.config = kQuiet;
  o.brokers = "127.0.0.1:1";
  EXPECT_EQ(rcs_kafka_open(s, &o, &k), RCS_EIO);
  EXPECT_NE(std::string(rcs_kafka_last_error()).find("127.0.0.1:1"), std::string::npos)
      << rcs_kafka_last_error();
  o.brokers = mc.brokers().c_str();
  EXPECT_EQ(rcs_kafka_open(nullptr, &o, &k), RCS_EINVAL);
  EXPECT_EQ(rcs_kafka_open(s, &o, nullptr), RCS_EINVAL);
  o.struct_size = 8;
  EXPECT_EQ(rcs_kafka_open(s, &o, &k), RCS_EINVAL);
  EXPECT_EQ(rcs_kafka_flush(nullptr, 0, nullptr, 0), RCS_EINVAL);
  EXPECT_EQ(rcs_kafka_close(nullptr, 0), RCS_OK);
  k = OpenKafka(s, mc);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(rcs_kafka_flush(k, 0, nullptr, 1), RCS_EINVAL);
  rcs_kafka_status st{};
  st.struct_size = 4;
  EXPECT_EQ(rcs_kafka_partition_status(k, 0, &st), RCS_EINVAL);
  EXPECT_EQ(rcs_kafka_checkpoint(k, 0, nullptr, 0, nullptr), RCS_EINVAL);
  ASSERT_EQ(rcs_partition_create(s, 0), RCS_OK);
  EXPECT_EQ(rcs_kafka_restore(k, 0, nullptr, nullptr, nullptr, nullptr), RCS_EEXIST);
  uint64_t v;
  EXPECT_EQ(rcs_version(s, 0, &v), RCS_OK) << "a refused restore dropped an existing partition";
  EXPECT_EQ(rcs_kafka_close(k, 10000), RCS_OK);
  EXPECT_EQ(rcs_store_close(s), RCS_OK);
}


rcs_kafka* OpenKafkaWith(rcs_store* s, const MockCluster& mc, int delivery_timeout_ms,
                         const char* const* config) {
  rcs_kafka_options o;
  rcs_kafka_options_init(&o);
  o.brokers = mc.brokers().c_str();
  o.topic = kTopic;
  o.delivery_timeout_ms = delivery_timeout_ms;
  o.config = config;
  rcs_kafka* k = nullptr;
  EXPECT_EQ(rcs_kafka_open(s, &o, &k), RCS_OK) << rcs_kafka_last_error();
  return k;
}

// Polls `done` every 10 ms for at most 30 s ("did not hang", not a timing
// claim).
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 3000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// A record that times out while queued stops the changelog: records queued
// behind it are never written, so the topic has no gap and the partition
// stays restorable at its acknowledged version. The stopped handle refuses
// to restore; a new one restores.
TEST(Kafka, ATimedOutRecordLeavesNoGapBehindIt) {
  MockCluster mc;
  const char* const cfg[] = {"log_level", "0", "reconnect.backoff.max.ms", "100", nullptr};
  rcs_store* a = OpenStore();
  rcs_kafka* ka = OpenKafkaWith(a, mc, 2000, cfg);
  ASSERT_EQ(rcs_partition_create(a, 0), RCS_OK);
  std::map<uint64_t, Contents> at;
  for (int step = 0; step < 10; ++step) {
    ASSERT_EQ(CommitStep(a, 0, step), RCS_OK);
    uint64_t v = 0;
    Contents c = Dump(a, 0, &v);
    at[v] = std::move(c);
  }
  ASSERT_EQ(rcs_kafka_flush(ka, 10000, nullptr, 0), RCS_OK);
  mc.SetDown(true);
  ASSERT_EQ(CommitStep(a, 0, 10), RCS_OK);  // v11: times out first
  // v12..v14 are queued later, so they would time out later: they must not
  // be written once the broker is back.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  for (int step = 11; step < 14; ++step) ASSERT_EQ(CommitStep(a, 0, step), RCS_OK);
  rcs_kafka_status st{};
  st.struct_size = sizeof st;
  ASSERT_TRUE(Eventually([&] { return rcs_kafka_partition_status(ka, 0, &st) == RCS_EIO; }));
  EXPECT_EQ(st.acked_version, 10u);
  mc.SetDown(false);
  // Let whatever librdkafka still had go out (nothing, if the queue was
  // purged), then look at the topic.
  EXPECT_EQ(rcs_kafka_flush(ka, 3000, nullptr, 0), RCS_EIO);
  EXPECT_EQ(RestoreFreshAndCompare(mc, 0, at[10], 10).records, 10u)
      << "a record behind the failed one reached the topic";
  // The stopped handle cannot restore; a new handle can.
  ASSERT_EQ(rcs_partition_drop(a, 0), RCS_OK);
  EXPECT_EQ(rcs_kafka_restore(ka, 0, nullptr, nullptr, nullptr, nullptr), RCS_ESTATE);
  EXPECT_NE(std::string(rcs_kafka_last_error()).find("stopped"), std::string::npos)
      << rcs_kafka_last_error();
  EXPECT_EQ(rcs_kafka_close(ka, 1000), RCS_EIO);
  ka = OpenKafka(a, mc);
  ASSERT_EQ(rcs_kafka_restore(ka, 0, nullptr, nullptr, nullptr, nullptr), RCS_OK)
      << rcs_kafka_last_error();
  ASSERT_EQ(CommitStep(a, 0, 50), RCS_OK);  // v11 of the new history
  uint64_t acked = 0;
  ASSERT_EQ(rcs_kafka_flush(ka, 10000, &acked, 1), RCS_OK) << rcs_kafka_last_error();
  EXPECT_EQ(acked, 11u);
  uint64_t va = 0;
  const Contents now = Dump(a, 0, &va);
  RestoreFreshAndCompare(mc, 0, now, 11);
  EXPECT_EQ(rcs_kafka_close(ka, 10000), RCS_OK);
  EXPECT_EQ(rcs_store_close(a), RCS_OK);
}

// A failed record stops the changelog of every partition: a healthy
// partition's later commits are refused too (its acknowledged prefix stays).
TEST(Kafka, AFailedRecordStopsEveryPartition) {
  MockCluster mc;
  rcs_store* a = OpenStore();
  rcs_kafka* ka = OpenKafka(a, mc, 0, /*delivery_timeout_ms=*/1000);
  ASSERT_EQ(rcs_partition_create(a, 0), RCS_OK);
  ASSERT_EQ(rcs_partition_create(a, 1), RCS_OK);
  ASSERT_EQ(CommitStep(a, 0, 0), RCS_OK);
  ASSERT_EQ(CommitStep(a, 1, 0), RCS_OK);
  ASSERT_EQ(rcs_kafka_flush(ka, 10000, nullptr, 0), RCS_OK);
  mc.SetDown(true);
  ASSERT_EQ(CommitStep(a, 1, 1), RCS_OK);  // partition 1's v2 fails
  rcs_kafka_status st{};
  st.struct_size = sizeof st;
  ASSERT_TRUE(Eventually([&] { return rcs_kafka_partition_status(ka, 1, &st) == RCS_EIO; }));
  mc.SetDown(false);
  EXPECT_EQ(CommitStep(a, 0, 1), RCS_EIO) << "a partition committed past a stopped changelog";
  EXPECT_EQ(rcs_kafka_partition_status(ka, 0, &st), RCS_EIO);
  EXPECT_EQ(st.acked_version, 1u);
  uint64_t acked[2] = {0, 0};
  EXPECT_EQ(rcs_kafka_flush(ka, 1000, acked, 2), RCS_EIO);
  EXPECT_EQ(acked[0], 1u);
  EXPECT_EQ(acked[1], 1u);
  EXPECT_EQ(rcs_kafka_close(ka, 1000), RCS_EIO);
  EXPECT_EQ(rcs_store_close(a), RCS_OK);
}

// A checkpoint that holds versions the topic never got (here: taken while
// the broker is away, as a checkpoint racing commits can) must not be
// trusted: the restore ignores it and reads the topic, which another owner
// moved on meanwhile.
TEST(Kafka, ACheckpointAheadOfTheTopicIsNotTrusted) {
  MockCluster mc;
  TempDir dir;
  rcs_store* a = OpenStore();
  rcs_kafka* ka = OpenKafka(a, mc, 0, 1000);
  ASSERT_EQ(rcs_partition_create(a, 0), RCS_OK);
  for (int step = 0; step < 10; ++step) ASSERT_EQ(CommitStep(a, 0, step), RCS_OK);
  ASSERT_EQ(rcs_kafka_checkpoint(ka, 0, dir.path.c_str(), RCS_CHECKPOINT_INCREMENTAL, nullptr),
            RCS_OK);
  mc.SetDown(true);
  ASSERT_EQ(CommitStep(a, 0, 100), RCS_OK);  // v11, never acknowledged
  ASSERT_EQ(CommitStep(a, 0, 101), RCS_OK);  // v12
  // The module's own checkpoint refuses to vouch for v12...
  EXPECT_EQ(rcs_kafka_checkpoint(ka, 0, dir.path.c_str(), RCS_CHECKPOINT_INCREMENTAL, nullptr),
            RCS_EIO);
  // ...and a checkpoint written behind its back holds v12 all the same.
  ASSERT_EQ(rcs_checkpoint(a, 0, dir.path.c_str(), RCS_CHECKPOINT_INCREMENTAL, nullptr), RCS_OK);
  EXPECT_EQ(rcs_kafka_close(ka, 100), RCS_EIO);
  EXPECT_EQ(rcs_store_close(a), RCS_OK);
  mc.SetDown(false);
  // B restores from the topic alone and goes on: v11'..v15'.
  rcs_store* b = OpenStore();
  rcs_kafka* kb = OpenKafka(b, mc);
  ASSERT_EQ(rcs_kafka_restore(kb, 0, nullptr, nullptr, nullptr, nullptr), RCS_OK);
  for (int step = 200; step < 205; ++step) ASSERT_EQ(CommitStep(b, 0, step), RCS_OK);
  ASSERT_EQ(rcs_kafka_flush(kb, 10000, nullptr, 0), RCS_OK);
  uint64_t vb = 0;
  const Contents truth = Dump(b, 0, &vb);
  // C restores from A's directory plus the topic: B's history, not a mix.
  rcs_store* c = OpenStore();
  rcs_kafka* kc = OpenKafka(c, mc);
  rcs_kafka_restore_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(rcs_kafka_restore(kc, 0, dir.path.c_str(), nullptr, nullptr, &info), RCS_OK)
      << rcs_kafka_last_error();
  EXPECT_EQ(info.checkpoint_version, 0u) << "a chain ahead of the topic was used";
  uint64_t vc = 0;
  EXPECT_EQ(Dump(c, 0, &vc), truth);
  EXPECT_EQ(vc, vb);
  EXPECT_EQ(rcs_kafka_close(kc, 1000), RCS_OK);
  EXPECT_EQ(rcs_store_close(c), RCS_OK);
  EXPECT_EQ(rcs_kafka_close(kb, 1000), RCS_OK);
  EXPECT_EQ(rcs_store_close(b), RCS_OK);
}

// A fetch whose offset went out of range (retention deleting what a restore
// reads) is an error, not a restore that silently stops short.
TEST(Kafka, AnOffsetOutOfRangeFailsTheRestore) {
  MockCluster mc;
  rcs_store* a = OpenStore();
  rcs_kafka* ka = OpenKafka(a, mc);
  ASSERT_EQ(rcs_partition_create(a, 0), RCS_OK);
  for (int step = 0; step < 10; ++step) ASSERT_EQ(CommitStep(a, 0, step), RCS_OK);
  ASSERT_EQ(rcs_kafka_flush(ka, 10000, nullptr, 0), RCS_OK);
  rcs_store* b = OpenStore();
  rcs_kafka* kb = OpenKafka(b, mc);
  constexpr int kFetchApiKey = 1;
  rd_kafka_mock_push_request_errors(mc.get(), kFetchApiKey, 1,
                                    RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE);
  const int rc = rcs_kafka_restore(kb, 0, nullptr, nullptr, nullptr, nullptr);
  uint64_t vb = 0;
  if (rc == RCS_OK) {
    // librdkafka may retry the fetch itself; then the restore must be whole.
    ASSERT_EQ(rcs_version(b, 0, &vb), RCS_OK);
    EXPECT_EQ(vb, 10u) << "a restore went live short of the topic's end";
  } else {
    EXPECT_EQ(rcs_version(b, 0, &vb), RCS_ENOPARTITION);
  }
  EXPECT_EQ(rcs_kafka_close(kb, 1000), RCS_OK);
  EXPECT_EQ(rcs_store_close(b), RCS_OK);
  EXPECT_EQ(rcs_kafka_close(ka, 1000), RCS_OK);
  EXPECT_EQ(rcs_store_close(a), RCS_OK);
}

// Only the replayed records are kept from the topic: a commit the restoring
// thread makes meanwhile (here from the progress callback, to another
// partition) is produced like any other.
TEST(Kafka, CommitsOfTheRestoringThreadAreProduced) {
  MockCluster mc;
  rcs_store* a = OpenStore();
  rcs_kafka* ka = OpenKafka(a, mc);
  ASSERT_EQ(rcs_partition_create(a, 0), RCS_OK);
  ASSERT_EQ(CommitStep(a, 0, 0), RCS_OK);
  ASSERT_EQ(rcs_kafka_flush(ka, 10000, nullptr, 0), RCS_OK);
  ASSERT_EQ(rcs_partition_create(a, 1), RCS_OK);
  ASSERT_EQ(rcs_partition_drop(a, 0), RCS_OK);
  struct Ctx {
    rcs_store* s;
    int rc;
  } ctx{a, -1};
  ASSERT_EQ(rcs_kafka_restore(
                ka, 0, nullptr,
                [](void* c, uint32_t, uint64_t, uint64_t, int64_t, int64_t) {
                  auto* x = static_cast<Ctx*>(c);
                  x->rc = CommitStep(x->s, 1, 5);
                  return 0;
                },
                &ctx, nullptr),
            RCS_OK)
      << rcs_kafka_last_error();
  ASSERT_EQ(ctx.rc, RCS_OK);
  uint64_t acked[2] = {0, 0};
  EXPECT_EQ(rcs_kafka_flush(ka, 10000, acked, 2), RCS_OK) << rcs_kafka_last_error();
  EXPECT_EQ(acked[0], 1u);
  EXPECT_EQ(acked[1], 1u) << "the progress callback's commit was never produced";
  EXPECT_EQ(rcs_kafka_close(ka, 1000), RCS_OK);
  EXPECT_EQ(rcs_store_close(a), RCS_OK);
}

// Dropped with records in flight, then restored on the same handle (a lost
// assignment that comes back): the restore waits for them, so the topic
// and the partition agree afterwards.
TEST(Kafka, RestoreOnTheSameHandleWaitsForRecordsInFlight) {
  MockCluster mc;
  const char* const cfg[] = {"log_level", "0", "linger.ms", "300", nullptr};
  rcs_store* a = OpenStore();
  rcs_kafka* ka = OpenKafkaWith(a, mc, 60000, cfg);
  ASSERT_EQ(rcs_partition_create(a, 0), RCS_OK);
  for (int step = 0; step < 10; ++step) ASSERT_EQ(CommitStep(a, 0, step), RCS_OK);
  ASSERT_EQ(rcs_kafka_flush(ka, 10000, nullptr, 0), RCS_OK);
  for (int step = 10; step < 13; ++step) ASSERT_EQ(CommitStep(a, 0, step), RCS_OK);  // lingering
  ASSERT_EQ(rcs_partition_drop(a, 0), RCS_OK);
  rcs_kafka_restore_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(rcs_kafka_restore(ka, 0, nullptr, nullptr, nullptr, &info), RCS_OK)
      << rcs_kafka_last_error();
  EXPECT_EQ(info.version, 13u) << "the restore did not wait for the records in flight";
  ASSERT_EQ(CommitStep(a, 0, 50), RCS_OK);
  uint64_t acked = 0;
  ASSERT_EQ(rcs_kafka_flush(ka, 10000, &acked, 1), RCS_OK);
  uint64_t va = 0;
  const Contents now = Dump(a, 0, &va);
  EXPECT_EQ(acked, va);
  RestoreFreshAndCompare(mc, 0, now, va);
  EXPECT_EQ(rcs_kafka_close(ka, 1000), RCS_OK);
  EXPECT_EQ(rcs_store_close(a), RCS_OK);
}

// Settings the guarantees rest on cannot be overridden through `config`.
TEST(Kafka, ReservedSettingsAreRefused) {
  MockCluster mc;
  rcs_store* a = OpenStore();
  for (const char* name : {"acks", "enable.idempotence", "enable.gapless.guarantee",
                           "message.timeout.ms", "auto.offset.reset"}) {
    const char* const cfg[] = {name, "1", nullptr};
    rcs_kafka_options o;
    rcs_kafka_options_init(&o);
    o.brokers = mc.brokers().c_str();
    o.topic = kTopic;
    o.config = cfg;
    rcs_kafka* k = nullptr;
    EXPECT_EQ(rcs_kafka_open(a, &o, &k), RCS_EINVAL) << name;
    EXPECT_NE(std::string(rcs_kafka_last_error()).find(name), std::string::npos);
    if (k != nullptr) rcs_kafka_close(k, 1000);
  }
  rcs_kafka_options o;
  rcs_kafka_options_init(&o);
  o.brokers = mc.brokers().c_str();
  o.topic = kTopic;
  o.delivery_timeout_ms = 1 << 30;
  rcs_kafka* k = nullptr;
  EXPECT_EQ(rcs_kafka_open(a, &o, &k), RCS_EINVAL);
  EXPECT_EQ(rcs_store_close(a), RCS_OK);
}

}  // namespace
