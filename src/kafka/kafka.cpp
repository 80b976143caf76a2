// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/kafka/kafka.cpp
//
// librcustate-kafka: the store's changelog produced to a topic (one message
// per commit, Kafka partition = rcustate partition), restore from a
// checkpoint plus the topic, and checkpoints that record where in the topic
// they are. Written on librdkafka's C API and rcustate's public C API only.
//
// Threads: commits call OnCommit (the store's changelog callback) on the
// committing thread, in version order per partition, with the partition's
// commit locks held: it only hands the record to librdkafka (a copy) and
// counts it. A poll thread serves librdkafka's delivery reports, which
// advance each partition's acknowledged version; the first failed record
// stops the changelog (every partition broken) and the poll thread purges
// librdkafka's queue so nothing behind it is written. Flush, checkpoint and
// restore wait on a condition variable for the reports they need.
#include "rcustate/kafka.h"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace {

thread_local std::string last_error;
// Set on this thread while rcs_kafka_restore applies one record of
// `restoring_partition` through `restoring_handle`: that commit is already
// in the topic and must not be produced again (other commits of the thread,
// e.g. from the progress callback, are produced as usual).
thread_local const rcs_kafka* restoring_handle = nullptr;
thread_local uint32_t restoring_partition = 0;

constexpr const char kVersionHeader[] = "rcs-version";
constexpr const char kOffsetFile[] = "rcs-kafka.offset";
constexpr size_t kDefaultMaxPending = 100000;
constexpr int kDefaultDeliveryTimeoutMs = 30000;
constexpr int kBrokerTimeoutMs = 10000;  // metadata and watermark queries
constexpr int kMaxDeliveryTimeoutMs = 24 * 3600 * 1000;
constexpr uint32_t kMaxPartition = 0x7fffffff;  // Kafka partitions are int32

// librdkafka settings the module's guarantees rest on: a caller's `config`
// may not change them.
constexpr const char* kReservedSettings[] = {
    "enable.idempotence", "enable.gapless.guarantee", "message.timeout.ms",
    "delivery.timeout.ms", "acks", "request.required.acks", "auto.offset.reset",
    "enable.auto.commit", "enable.partition.eof", "bootstrap.servers", "metadata.broker.list"};

int Fail(int code, const std::string& message) {
  try {
    last_error = message;
  } catch (...) {
  }
  return code;
}

// The changelog of one partition, guarded by rcs_kafka::mu.
struct PartitionLog {
  uint64_t produced = 0;       // the last version handed to librdkafka
  uint64_t acked = 0;          // every version up to it is in the topic
  int64_t acked_offset = -1;   // the topic offset of `acked`'s record
  uint64_t pending = 0;        // handed over, no report yet
  bool broken = false;
  uint64_t failed = 0;         // the first version reported failed (0: none yet)
  std::string error;           // why it broke
  // While a checkpoint waits for its version: the (version, offset) of every
  // record acknowledged meanwhile, to find the checkpoint's own.
  bool recording = false;
  std::vector<std::pair<uint64_t, int64_t>> recent;
};

void PutLe64(uint64_t v, unsigned char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>(v >> (8 * i));
}

}  // namespace

struct rcs_kafka {
  rcs_store* store = nullptr;
  std::string topic;
  size_t max_pending = kDefaultMaxPending;
  int delivery_timeout_ms = kDefaultDeliveryTimeoutMs;
  std::string brokers;
  std::vector<std::pair<std::string, std::string>> extra;
  rd_kafka_t* producer = nullptr;
  rd_kafka_topic_t* producer_topic = nullptr;

  absl::Mutex mu;
  absl::CondVar acked_cv;  // a delivery report arrived
  std::map<uint32_t, PartitionLog> logs ABSL_GUARDED_BY(mu);
  // Why the changelog stopped ("": it did not): the first record that
  // failed for good, or the producer's fatal error. From then on every
  // partition is broken and nothing still queued is sent, so that no
  // partition's topic gets a record after a missing one.
  std::string stopped ABSL_GUARDED_BY(mu);

  std::atomic<bool> stop{false};
  std::atomic<bool> purge{false};  // the poll thread purges librdkafka's queue
  std::thread poller;

  PartitionLog& Log(uint32_t partition) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return logs[partition];
  }
  // Stops the changelog (once) for `why`: every partition breaks.
  void StopLocked(const std::string& why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (stopped.empty()) {
      stopped = why;
      purge.store(true, std::memory_order_release);
    }
    for (auto& [p, log] : logs) {
      if (!log.broken) {
        log.broken = true;
        log.error = "the changelog stopped: " + stopped;
      }
    }
  }
};

namespace {

// librdkafka configuration with the caller's extra settings applied last.
rd_kafka_conf_t* MakeConf(const rcs_kafka* k, bool producer, int delivery_timeout_ms,
                          std::string* error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& name, const std::string& value) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
      *error = name + "=" + value + ": " + err;
      return false;
    }
    return true;
  };
  bool ok = set("bootstrap.servers", k->brokers);
  if (producer) {
    // Gap-less: an error that could leave a hole in a partition (a record
    // lost, later ones written) is a fatal producer error instead, so the
    // topic always holds a prefix of every partition's versions.
    ok = ok && set("enable.idempotence", "true") && set("enable.gapless.guarantee", "true") &&
         set("message.timeout.ms", std::to_string(delivery_timeout_ms));
  } else {
    // An offset out of range (retention deleted what a restore reads) is an
    // error, not a silent jump to the end.
    ok = ok && set("enable.partition.eof", "true") && set("enable.auto.commit", "false") &&
         set("auto.offset.reset", "error") && set("group.id", "rcustate-restore");
  }
  for (const auto& [name, value] : k->extra) ok = ok && set(name, value);
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  return conf;
}

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* k = static_cast<rcs_kafka*>(opaque);
  const uint64_t version = reinterpret_cast<uintptr_t>(m->_private);
  absl::MutexLock lock(&k->mu);
  PartitionLog& log = k->Log(static_cast<uint32_t>(m->partition));
  if (log.pending > 0) --log.pending;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // The first failed record of the partition names the gap (also when the
    // changelog stopped for another reason first); the first of all stops
    // the changelog: records queued behind it must never be written.
    if (log.failed == 0) {
      log.failed = version;
      log.error = "partition " + std::to_string(m->partition) + ": the record of version " +
                  std::to_string(version) + " failed: " + rd_kafka_err2str(m->err) +
                  (log.broken ? " (" + log.error + ")" : "");
    }
    log.broken = true;
    k->StopLocked(log.error);
  } else if (!log.broken && version > log.acked) {
    log.acked = version;
    log.acked_offset = m->offset;
    if (log.recording) {
      try {
        log.recent.emplace_back(version, m->offset);
      } catch (const std::bad_alloc&) {
        log.recording = false;  // the checkpoint then finds no offset: it says so
        log.recent.clear();
      }
    }
  }
  k->acked_cv.SignalAll();
}

void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* k = static_cast<rcs_kafka*>(opaque);
  if (err != RD_KAFKA_RESP_ERR__FATAL) return;  // transient: librdkafka retries
  char buf[512];
  rd_kafka_fatal_error(rk, buf, sizeof buf);
  absl::MutexLock lock(&k->mu);
  k->StopLocked(std::string("the producer failed for good: ") + buf + " (" + reason + ")");
  k->acked_cv.SignalAll();
}

// The store's changelog callback.
int OnCommit(void* ctx, uint32_t partition, uint64_t version, const void* record,
             size_t record_len) {
  auto* k = static_cast<rcs_kafka*>(ctx);
  if (restoring_handle == k && restoring_partition == partition) return 0;
  if (partition > kMaxPartition) {
    return Fail(RCS_EIO, "changelog: partition " + std::to_string(partition) +
                             " has no Kafka partition (Kafka's are below 2^31)");
  }
  try {
    absl::MutexLock lock(&k->mu);
    PartitionLog& log = k->Log(partition);
    if (!k->stopped.empty() && !log.broken) {
      log.broken = true;
      log.error = "the changelog stopped: " + k->stopped;
    }
    if (log.broken) {
      return Fail(RCS_EIO, "changelog of partition " + std::to_string(partition) +
                               " is broken (" + log.error + "): commit refused");
    }
    if (log.pending >= k->max_pending) {
      return Fail(RCS_EIO, "changelog queue full: " + std::to_string(log.pending) +
                               " records of partition " + std::to_string(partition) +
                               " not acknowledged yet (is the broker reachable?)");
    }
    unsigned char header[8];
    PutLe64(version, header);
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        k->producer, RD_KAFKA_V_RKT(k->producer_topic),
        RD_KAFKA_V_PARTITION(static_cast<int32_t>(partition)),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<void*>(record), record_len),
        RD_KAFKA_V_HEADER(kVersionHeader, header, sizeof header),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(version))),
        RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Fail(RCS_EIO, std::string("changelog: librdkafka refused the record: ") +
                               rd_kafka_err2str(err));
    }
    ++log.pending;
    log.produced = version;
    return 0;
  } catch (const std::bad_alloc&) {
    return Fail(RCS_ENOMEM, "changelog: out of memory");
  }
}

// While it lives, a thread online for QSBR reads (rcs_thread_online) is
// offline: the calls below block on the broker, and an online thread that
// blocks holds back every QSBR grace period of the process.
class OfflineWhileBlocking {
 public:
  OfflineWhileBlocking() : was_online_(rcs_thread_is_online() != 0) {
    if (was_online_) rcs_thread_offline();
  }
  ~OfflineWhileBlocking() {
    if (was_online_) rcs_thread_online();
  }
  OfflineWhileBlocking(const OfflineWhileBlocking&) = delete;
  OfflineWhileBlocking& operator=(const OfflineWhileBlocking&) = delete;

 private:
  const bool was_online_;
};

// Waits until each partition in `targets` that is not broken has its
// version acknowledged, or the deadline passed; RCS_EIO if a partition is
// broken (once the others are done) or time ran out.
int WaitAcked(rcs_kafka* k, const std::map<uint32_t, uint64_t>& targets, int timeout_ms,
              const char* fn) ABSL_LOCKS_EXCLUDED(k->mu) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
  absl::MutexLock lock(&k->mu);
  for (;;) {
    uint64_t missing = 0;
    const PartitionLog* broken = nullptr;
    for (const auto& [p, target] : targets) {
      PartitionLog& log = k->Log(p);
      if (log.broken) {
        if (broken == nullptr) broken = &log;
      } else if (log.acked < target) {
        missing += target - log.acked;
      }
    }
    if (missing == 0) {
      return broken == nullptr ? RCS_OK : Fail(RCS_EIO, std::string(fn) + ": " + broken->error);
    }
    if (k->acked_cv.WaitWithDeadline(&k->mu, deadline) && absl::Now() >= deadline) {
      return Fail(RCS_EIO, std::string(fn) + ": timed out after " + std::to_string(timeout_ms) +
                               " ms with " + std::to_string(missing) +
                               " records not acknowledged");
    }
  }
}

std::string JoinPath(const std::string& dir, const char* name) {
  return dir.empty() || dir.back() == '/' ? dir + name : dir + "/" + name;
}

// Writes "version offset topic" atomically next to the checkpoints.
int WriteOffsetFile(const std::string& dir, uint64_t version, int64_t offset,
                    const std::string& topic) {
  const std::string path = JoinPath(dir, kOffsetFile);
  const std::string tmp = path + ".tmp";
  const std::string text =
      std::to_string(version) + " " + std::to_string(offset) + " " + topic + "\n";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(RCS_EIO, "rcs_kafka_checkpoint: " + tmp + ": " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = ok ? errno : saved;
    ::unlink(tmp.c_str());
    return Fail(RCS_EIO, "rcs_kafka_checkpoint: " + path + ": " + std::strerror(e));
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return RCS_OK;
}

// The topic offset of the record of `chain_version` if the offset file
// recorded exactly that version of this topic (the checkpoint then holds
// only acknowledged versions), else -1: the chain is not to be trusted.
int64_t ReadOffsetFile(const std::string& dir, uint64_t chain_version, const std::string& topic) {
  FILE* f = std::fopen(JoinPath(dir, kOffsetFile).c_str(), "re");
  if (f == nullptr) return -1;
  unsigned long long version = 0;
  long long offset = -1;
  char name[256] = {0};
  const int n = std::fscanf(f, "%llu %lld %255s", &version, &offset, name);
  std::fclose(f);
  if (n != 3 || topic != name || version != chain_version || offset < 0) return -1;
  return offset;
}

}  // namespace

extern "C" {

void rcs_kafka_options_init(rcs_kafka_options* opts) noexcept {
  if (opts == nullptr) return;
  std::memset(opts, 0, sizeof *opts);
  opts->struct_size = sizeof *opts;
}

int rcs_kafka_open(rcs_store* store, const rcs_kafka_options* opts, rcs_kafka** out) noexcept {
  if (store == nullptr || opts == nullptr || out == nullptr) {
    return Fail(RCS_EINVAL, "rcs_kafka_open: store, opts and out must not be NULL");
  }
  if (opts->struct_size < sizeof(rcs_kafka_options)) {
    return Fail(RCS_EINVAL, "rcs_kafka_open: opts->struct_size is too small "
                            "(call rcs_kafka_options_init first)");
  }
  if (opts->brokers == nullptr || opts->brokers[0] == '\0' || opts->topic == nullptr ||
      opts->topic[0] == '\0') {
    return Fail(RCS_EINVAL, "rcs_kafka_open: brokers and topic are required");
  }
  if (opts->delivery_timeout_ms < 0 || opts->delivery_timeout_ms > kMaxDeliveryTimeoutMs) {
    return Fail(RCS_EINVAL, "rcs_kafka_open: delivery_timeout_ms must be in [0, 86400000]");
  }
  std::unique_ptr<rcs_kafka> k;
  try {
    k = std::make_unique<rcs_kafka>();
    k->store = store;
    k->topic = opts->topic;
    k->brokers = opts->brokers;
    k->max_pending = opts->max_pending != 0 ? opts->max_pending : kDefaultMaxPending;
    if (opts->delivery_timeout_ms != 0) k->delivery_timeout_ms = opts->delivery_timeout_ms;
    if (opts->config != nullptr) {
      for (const char* const* c = opts->config; *c != nullptr; c += 2) {
        if (c[1] == nullptr) {
          return Fail(RCS_EINVAL, std::string("rcs_kafka_open: config setting \"") + c[0] +
                                      "\" has no value");
        }
        for (const char* reserved : kReservedSettings) {
          if (std::strcmp(c[0], reserved) == 0) {
            return Fail(RCS_EINVAL, std::string("rcs_kafka_open: config may not set \"") + c[0] +
                                        "\": the module's guarantees depend on it");
          }
        }
        k->extra.emplace_back(c[0], c[1]);
      }
    }
  } catch (const std::bad_alloc&) {
    return Fail(RCS_ENOMEM, "rcs_kafka_open: out of memory");
  }
  std::string error;
  rd_kafka_conf_t* conf = MakeConf(k.get(), /*producer=*/true, k->delivery_timeout_ms, &error);
  if (conf == nullptr) return Fail(RCS_EINVAL, "rcs_kafka_open: " + error);
  rd_kafka_conf_set_opaque(conf, k.get());
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_conf_set_error_cb(conf, OnError);
  char err[512];
  k->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (k->producer == nullptr) {
    // rd_kafka_new fails on settings that contradict each other.
    rd_kafka_conf_destroy(conf);
    return Fail(RCS_EINVAL, std::string("rcs_kafka_open: librdkafka: ") + err);
  }
  k->producer_topic = rd_kafka_topic_new(k->producer, k->topic.c_str(), nullptr);
  if (k->producer_topic == nullptr) {
    rd_kafka_destroy(k->producer);
    return Fail(RCS_EIO, "rcs_kafka_open: topic " + k->topic + ": " +
                             rd_kafka_err2str(rd_kafka_last_error()));
  }
  // The topic must exist (a missing one would only show up as every
  // record failing after delivery_timeout_ms).
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t merr =
      rd_kafka_metadata(k->producer, 0, k->producer_topic, &md, kBrokerTimeoutMs);
  if (merr == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1) merr = md->topics[0].err;
  if (md != nullptr) rd_kafka_metadata_destroy(md);
  if (merr != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_topic_destroy(k->producer_topic);
    rd_kafka_destroy(k->producer);
    const int code = merr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? RCS_EINVAL : RCS_EIO;
    return Fail(code, "rcs_kafka_open: topic " + k->topic + " at " + k->brokers + ": " +
                          rd_kafka_err2str(merr));
  }
  try {
    rcs_kafka* raw = k.get();
    k->poller = std::thread([raw] {
      while (!raw->stop.load(std::memory_order_acquire)) {
        rd_kafka_poll(raw->producer, 100);
        // The changelog stopped: drop what is still queued (its records
        // fail with a purge error) so that nothing is written after the
        // record that failed. Records already sent complete as they will.
        if (raw->purge.exchange(false, std::memory_order_acq_rel)) {
          rd_kafka_purge(raw->producer, RD_KAFKA_PURGE_F_QUEUE);
        }
      }
    });
  } catch (...) {
    rd_kafka_topic_destroy(k->producer_topic);
    rd_kafka_destroy(k->producer);
    return Fail(RCS_ENOMEM, "rcs_kafka_open: cannot start the poll thread");
  }
  if (int rc = rcs_changelog_set(store, OnCommit, k.get()); rc != RCS_OK) {
    const std::string why = rcs_last_error();
    k->stop = true;
    k->poller.join();
    rd_kafka_topic_destroy(k->producer_topic);
    rd_kafka_destroy(k->producer);
    return Fail(rc, "rcs_kafka_open: " + why);
  }
  *out = k.release();
  return RCS_OK;
}

int rcs_kafka_flush(rcs_kafka* k, int timeout_ms, uint64_t* acked_versions, size_t n) noexcept {
  if (k == nullptr) return Fail(RCS_EINVAL, "rcs_kafka_flush: NULL handle");
  OfflineWhileBlocking offline;
  if (acked_versions == nullptr && n > 0) {
    return Fail(RCS_EINVAL, "rcs_kafka_flush: acked_versions is NULL and n is not 0");
  }
  try {
    std::map<uint32_t, uint64_t> targets;
    {
      absl::MutexLock lock(&k->mu);
      for (const auto& [p, log] : k->logs) targets.emplace(p, log.produced);
    }
    const int rc = WaitAcked(k, targets, timeout_ms < 0 ? 0 : timeout_ms, "rcs_kafka_flush");
    absl::MutexLock lock(&k->mu);
    for (size_t p = 0; p < n; ++p) {
      auto it = k->logs.find(static_cast<uint32_t>(p));
      acked_versions[p] = it == k->logs.end() ? 0 : it->second.acked;
    }
    return rc;
  } catch (const std::bad_alloc&) {
    return Fail(RCS_ENOMEM, "rcs_kafka_flush: out of memory");
  }
}

int rcs_kafka_close(rcs_kafka* k, int timeout_ms) noexcept {
  if (k == nullptr) return RCS_OK;
  OfflineWhileBlocking offline;
  rcs_changelog_set(k->store, nullptr, nullptr);  // no more records from here on
  int rc = rcs_kafka_flush(k, timeout_ms, nullptr, 0);
  std::string why = rc == RCS_OK ? std::string() : last_error;
  k->stop = true;
  k->poller.join();
  rd_kafka_topic_destroy(k->producer_topic);
  rd_kafka_destroy(k->producer);  // unacknowledged records are dropped here
  delete k;
  if (rc != RCS_OK) return Fail(rc, "rcs_kafka_close: " + why);
  return RCS_OK;
}

int rcs_kafka_partition_status(rcs_kafka* k, uint32_t partition, rcs_kafka_status* out) noexcept {
  if (k == nullptr || out == nullptr) {
    return Fail(RCS_EINVAL, "rcs_kafka_partition_status: NULL argument");
  }
  if (out->struct_size < sizeof(rcs_kafka_status)) {
    return Fail(RCS_EINVAL, "rcs_kafka_partition_status: out->struct_size is too small");
  }
  try {
    absl::MutexLock lock(&k->mu);
    const PartitionLog& log = k->Log(partition);
    out->acked_version = log.acked;
    out->acked_offset = log.acked_offset;
    out->pending = log.pending;
    out->broken = log.broken ? 1 : 0;
    if (log.broken) return Fail(RCS_EIO, "rcs_kafka_partition_status: " + log.error);
    return RCS_OK;
  } catch (const std::bad_alloc&) {
    return Fail(RCS_ENOMEM, "rcs_kafka_partition_status: out of memory");
  }
}

int rcs_kafka_checkpoint(rcs_kafka* k, uint32_t partition, const char* dir, int flags,
                         rcs_checkpoint_info* info) noexcept {
  OfflineWhileBlocking offline;
  if (k == nullptr || dir == nullptr) {
    return Fail(RCS_EINVAL, "rcs_kafka_checkpoint: NULL argument");
  }
  if (info != nullptr && info->struct_size < sizeof(rcs_checkpoint_info)) {
    return Fail(RCS_EINVAL, "rcs_kafka_checkpoint: info->struct_size is too small");
  }
  try {
    // The checkpoint holds the newest published version; a restore needs
    // the topic offset of exactly that version's record, and may trust the
    // chain only if the topic holds that version (else it would mix two
    // histories). So: record every acknowledgement from here on (each
    // version the checkpoint can hold is acknowledged now or later), publish
    // what group commit sealed (so the checkpoint's version is at least
    // every version produced so far), take the checkpoint, wait until its
    // version is acknowledged, and only then write the offset file naming
    // exactly that version.
    {
      absl::MutexLock lock(&k->mu);
      PartitionLog& log = k->Log(partition);
      log.recording = true;
      log.recent.clear();
      log.recent.emplace_back(log.acked, log.acked_offset);
    }
    auto stop_recording = [&] {
      absl::MutexLock lock(&k->mu);
      PartitionLog& log = k->Log(partition);
      log.recording = false;
      log.recent.clear();
    };
    if (int rc = rcs_flush(k->store, partition, nullptr); rc != RCS_OK) {
      stop_recording();
      return Fail(rc, std::string("rcs_kafka_checkpoint: ") + rcs_last_error());
    }
    // Every record is acknowledged or failed within the delivery timeout.
    const int wait_ms = k->delivery_timeout_ms + kBrokerTimeoutMs;
    rcs_checkpoint_info ci{};
    ci.struct_size = sizeof ci;
    if (int rc = rcs_checkpoint(k->store, partition, dir, flags, &ci); rc != RCS_OK) {
      stop_recording();
      return Fail(rc, std::string("rcs_kafka_checkpoint: ") + rcs_last_error());
    }
    if (info != nullptr) {
      const size_t size = info->struct_size;
      std::memcpy(info, &ci, std::min(size, sizeof ci));
      info->struct_size = size;
    }
    const int rc = WaitAcked(k, {{partition, ci.version}}, wait_ms, "rcs_kafka_checkpoint");
    int64_t offset = -1;
    {
      absl::MutexLock lock(&k->mu);
      for (const auto& [v, o] : k->Log(partition).recent) {
        if (v == ci.version) offset = o;
      }
    }
    stop_recording();
    if (rc != RCS_OK) return rc;  // the chain has no offset file: restores ignore it
    if (ci.version == 0) return RCS_OK;  // nothing committed: nothing to point at
    if (offset < 0) {
      return Fail(RCS_EIO, "rcs_kafka_checkpoint: the topic offset of version " +
                               std::to_string(ci.version) + " is unknown (out of memory)");
    }
    return WriteOffsetFile(dir, ci.version, offset, k->topic);
  } catch (const std::bad_alloc&) {
    return Fail(RCS_ENOMEM, "rcs_kafka_checkpoint: out of memory");
  }
}

}  // extern "C"

namespace {

// One restore's consumer, destroyed on every path.
struct Consumer {
  rd_kafka_t* rk = nullptr;
  ~Consumer() {
    if (rk != nullptr) {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
    }
  }
};

// Marks the commit of one replayed record as already in the topic.
struct ReplayingRecord {
  ReplayingRecord(const rcs_kafka* k, uint32_t partition) {
    restoring_handle = k;
    restoring_partition = partition;
  }
  ~ReplayingRecord() { restoring_handle = nullptr; }
};

int RestoreFromTopic(rcs_kafka* k, uint32_t partition, int64_t start,
                     rcs_kafka_progress_fn progress, void* ctx, rcs_kafka_restore_info* info) {
  std::string error;
  rd_kafka_conf_t* conf = MakeConf(k, /*producer=*/false, 0, &error);
  if (conf == nullptr) return Fail(RCS_EINVAL, "rcs_kafka_restore: " + error);
  Consumer c;
  char err[512];
  c.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (c.rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Fail(RCS_EIO, std::string("rcs_kafka_restore: librdkafka: ") + err);
  }
  int64_t low = 0, high = 0;
  rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
      c.rk, k->topic.c_str(), static_cast<int32_t>(partition), &low, &high, kBrokerTimeoutMs);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Fail(RCS_EIO, "rcs_kafka_restore: cannot read the end of " + k->topic + "[" +
                             std::to_string(partition) + "]: " + rd_kafka_err2str(e));
  }
  if (start > high) {
    // The checkpoint's record lies past the topic's end: the topic was
    // recreated or truncated since.
    return Fail(RCS_ECORRUPT, "rcs_kafka_restore: the checkpoint's topic offset " +
                                  std::to_string(start - 1) + " is past the end of " + k->topic +
                                  "[" + std::to_string(partition) + "] (" +
                                  std::to_string(high) + "): was the topic recreated?");
  }
  if (start < low) start = low;
  info->start_offset = start;
  info->end_offset = high;
  if (start >= high) return RCS_OK;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, k->topic.c_str(), static_cast<int32_t>(partition))
      ->offset = start;
  e = rd_kafka_assign(c.rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Fail(RCS_EIO, std::string("rcs_kafka_restore: assign: ") + rd_kafka_err2str(e));
  }
  int64_t next = start;
  uint64_t since_progress = 0;
  while (next < high) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c.rk, kBrokerTimeoutMs);
    if (m == nullptr) {
      return Fail(RCS_EIO, "rcs_kafka_restore: no record from " + k->topic + "[" +
                               std::to_string(partition) + "] at offset " + std::to_string(next) +
                               " for " + std::to_string(kBrokerTimeoutMs) + " ms");
    }
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> hold(
        m, rd_kafka_message_destroy);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // Short of the end the partition had when the restore began: records
      // went missing under us (retention, a recreated topic).
      return Fail(RCS_EIO, "rcs_kafka_restore: " + k->topic + "[" + std::to_string(partition) +
                               "] ended at offset " + std::to_string(next) + ", before " +
                               std::to_string(high) + " where it ended when the restore began");
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Fail(RCS_EIO, "rcs_kafka_restore: " + k->topic + "[" + std::to_string(partition) +
                               "] at offset " + std::to_string(next) + ": " +
                               rd_kafka_message_errstr(m));
    }
    uint64_t before = 0, after = 0;
    rcs_version(k->store, partition, &before);
    int rc;
    {
      ReplayingRecord replaying(k, partition);
      rc = rcs_changelog_apply(k->store, partition, m->payload, m->len, &after);
    }
    if (rc != RCS_OK) {
      const int code = rc == RCS_ESTATE || rc == RCS_EINVAL ? RCS_ECORRUPT : rc;
      return Fail(code, "rcs_kafka_restore: " + k->topic + "[" + std::to_string(partition) +
                            "] offset " + std::to_string(m->offset) + ": " + rcs_last_error());
    }
    ++info->records;
    info->bytes += m->len;
    if (after > before) ++info->applied;
    next = m->offset + 1;
    {
      absl::MutexLock lock(&k->mu);
      PartitionLog& log = k->Log(partition);
      log.acked_offset = m->offset;
    }
    if (progress != nullptr && ++since_progress >= 4096) {
      since_progress = 0;
      if (progress(ctx, partition, info->records, info->bytes, m->offset, high) != 0) {
        return Fail(RCS_ESTATE, "rcs_kafka_restore: stopped by the progress callback");
      }
    }
  }
  if (progress != nullptr &&
      progress(ctx, partition, info->records, info->bytes, next - 1, high) != 0) {
    return Fail(RCS_ESTATE, "rcs_kafka_restore: stopped by the progress callback");
  }
  return RCS_OK;
}

}  // namespace

extern "C" {

int rcs_kafka_restore(rcs_kafka* k, uint32_t partition, const char* dir,
                      rcs_kafka_progress_fn progress, void* ctx,
                      rcs_kafka_restore_info* out) noexcept {
  if (k == nullptr) return Fail(RCS_EINVAL, "rcs_kafka_restore: NULL handle");
  OfflineWhileBlocking offline;
  if (out != nullptr && out->struct_size < sizeof(rcs_kafka_restore_info)) {
    return Fail(RCS_EINVAL, "rcs_kafka_restore: out->struct_size is too small");
  }
  if (partition > kMaxPartition) {
    return Fail(RCS_EINVAL, "rcs_kafka_restore: partition " + std::to_string(partition) +
                                " has no Kafka partition (Kafka's are below 2^31)");
  }
  uint64_t exists;
  if (rcs_version(k->store, partition, &exists) == RCS_OK) {
    return Fail(RCS_EEXIST, "rcs_kafka_restore: partition " + std::to_string(partition) +
                                " exists (drop it first)");
  }
  try {
    {
      // Records of the partition's previous life still in flight would
      // land after what this restore reads (and their reports would count
      // on the new log): wait until they are acknowledged or failed.
      absl::MutexLock lock(&k->mu);
      if (!k->stopped.empty()) {
        return Fail(RCS_ESTATE, "rcs_kafka_restore: the changelog stopped (" + k->stopped +
                                    "): close this handle and open a new one");
      }
      const absl::Time deadline =
          absl::Now() + absl::Milliseconds(k->delivery_timeout_ms + kBrokerTimeoutMs);
      while (k->Log(partition).pending > 0) {
        if (k->acked_cv.WaitWithDeadline(&k->mu, deadline) && absl::Now() >= deadline) {
          return Fail(RCS_ESTATE, "rcs_kafka_restore: records of partition " +
                                      std::to_string(partition) +
                                      " produced before it was dropped are still in flight");
        }
      }
    }
    rcs_kafka_restore_info info{};
    info.struct_size = sizeof info;
    info.start_offset = 0;
    int64_t start = 0;
    bool restored = false;
    if (dir != nullptr && ::access(dir, F_OK) == 0) {
      // A chain is used only with the offset file naming exactly its
      // version (rcs_kafka_checkpoint writes it once that version is in the
      // topic); otherwise it may hold versions the topic does not, and the
      // restore reads the topic alone.
      const bool has_offset_file = ::access(JoinPath(dir, kOffsetFile).c_str(), F_OK) == 0;
      rcs_checkpoint_info ci{};
      ci.struct_size = sizeof ci;
      const int rc = rcs_restore(k->store, partition, dir, &ci);
      if (rc == RCS_OK) {
        const int64_t recorded = ReadOffsetFile(dir, ci.version, k->topic);
        if (recorded >= 0) {
          restored = true;
          info.checkpoint_version = ci.version;
          start = recorded + 1;
        } else {
          rcs_partition_drop(k->store, partition);
        }
      } else if (rc != RCS_EIO || has_offset_file) {
        // A directory this module checkpointed into that cannot be read is
        // the caller's to see; without the module's file (no checkpoint, or
        // none of ours) the topic alone will do.
        return Fail(rc, std::string("rcs_kafka_restore: ") + rcs_last_error());
      }
    }
    if (!restored) {
      if (int rc = rcs_partition_create(k->store, partition); rc != RCS_OK) {
        return Fail(rc, std::string("rcs_kafka_restore: ") + rcs_last_error());
      }
    }
    const int rc = RestoreFromTopic(k, partition, start, progress, ctx, &info);
    if (rc != RCS_OK) {
      const std::string why = last_error;
      rcs_partition_drop(k->store, partition);  // "absent" on any error
      return Fail(rc, why);
    }
    rcs_version(k->store, partition, &info.version);
    {
      absl::MutexLock lock(&k->mu);
      PartitionLog& log = k->Log(partition);
      log.produced = log.acked = info.version;
      log.broken = false;
      log.failed = 0;
      log.error.clear();
      if (info.records == 0) log.acked_offset = start > 0 ? start - 1 : -1;
    }
    if (out != nullptr) {
      const size_t size = out->struct_size;
      *out = info;
      out->struct_size = size;
    }
    return RCS_OK;
  } catch (const std::bad_alloc&) {
    rcs_partition_drop(k->store, partition);
    return Fail(RCS_ENOMEM, "rcs_kafka_restore: out of memory");
  }
}

const char* rcs_kafka_last_error(void) noexcept { return last_error.c_str(); }

}  // extern "C"
