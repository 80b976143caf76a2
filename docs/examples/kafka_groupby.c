/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File: docs/examples/kafka_groupby.c -- a GROUP BY count over a Kafka topic,
 * run by any number of processes in one consumer group, exactly-once without
 * Kafka transactions (docs/kafka.md).
 *
 * Input partition N is rcustate partition N. Each partition holds two tables:
 *   counts   key = the input record's key, value = int64 count (RCS_MERGE_ADD_I64)
 *   offsets  key "next", value = the next input offset to read (8 bytes LE)
 * Both are written in the same batch (the calling thread's delta), so every
 * version of a partition holds counts and an input offset that agree. Every
 * commit goes to the changelog topic (librcustate-kafka). Whoever owns a
 * partition next restores it (checkpoint + changelog topic), reads "next" and
 * resumes the input exactly there: nothing is lost, nothing counted twice.
 * The consumer group's offsets are never committed: the state holds them.
 *
 * Ownership follows the consumer group's assignment (eager protocol):
 *   revoked:  commit the open batch, checkpoint (which waits until the
 *             changelog holds every commit), flush, drop the partition;
 *   lost:     (our membership expired) drop it, writing nothing more;
 *   assigned: restore the partition, read "next", start consuming there.
 * librdkafka calls the rebalance callback from inside rd_kafka_consumer_poll
 * on this thread, the thread whose delta holds the open batches.
 *
 * Usage: kafka_groupby BROKERS INPUT_TOPIC CHANGELOG_TOPIC STATE_DIR [options]
 *   -g GROUP        consumer group id (default "kafka-groupby")
 *   -X name=value   extra librdkafka setting for the input consumer
 *   -b N            records per batch (default 50)
 *   -c N            checkpoint a partition every N of its commits (default 20)
 *   -p US           pause US microseconds after each record (to watch it work)
 *   -e              exit once this process owns every input partition and has
 *                   consumed each to the end it had when the process started
 * Checkpoints of partition N go to STATE_DIR/p-N. SIGINT/SIGTERM: leave the
 * group cleanly (the revocation path above), then exit. Exit status 0 on a
 * clean exit, 1 on an error (the message is on stderr).
 *
 * Build: cc -std=c11 kafka_groupby.c $(pkg-config --cflags --libs rcustate-kafka rdkafka) */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <rcustate/kafka.h>
#include <rcustate/rcustate.h>

enum { COUNTS, OFFSETS }; /* table ids: their index in the specs */
enum { MAX_PARTITIONS = 1024 };
static const char NEXT_KEY[] = "next";

struct partition_state {
  int owned;            /* assigned to us and restored */
  int64_t next;         /* the next input offset (what "next" says, committed or not) */
  int64_t end;          /* -e: the input's end when we started */
  uint32_t uncommitted; /* records in the open batch */
  uint32_t commits;     /* since the last checkpoint */
};

struct job {
  rcs_store *store;
  rcs_kafka *changelog;
  rd_kafka_t *consumer;
  const char *state_dir;
  uint32_t batch_size;
  uint32_t checkpoint_every;
  int32_t num_partitions;
  struct partition_state p[MAX_PARTITIONS];
};

static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static void die(const char *what, const char *why) {
  fprintf(stderr, "kafka_groupby: %s: %s\n", what, why);
  exit(1);
}

static void put_le64(unsigned char out[8], int64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = (unsigned char)((uint64_t)v >> (8 * i));
}
static int64_t get_le64(const unsigned char in[8]) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= (uint64_t)in[i] << (8 * i);
  return (int64_t)v;
}

static void partition_dir(const struct job *job, int32_t partition, char *out, size_t size) {
  snprintf(out, size, "%s/p-%d", job->state_dir, (int)partition);
}

/* Writes a checkpoint of the partition and records next to it where in the
 * changelog topic it stands (it first waits until the topic holds every
 * commit of the partition), so that a restore reads only what came after. */
static void checkpoint(struct job *job, int32_t partition) {
  char dir[4096];
  partition_dir(job, partition, dir, sizeof dir);
  if (rcs_kafka_checkpoint(job->changelog, (uint32_t)partition, dir, RCS_CHECKPOINT_INCREMENTAL,
                           NULL) != RCS_OK) {
    die("rcs_kafka_checkpoint", rcs_kafka_last_error());
  }
  job->p[partition].commits = 0;
}

/* Publishes the open batch of one partition: counts and "next" in one version. */
static void commit_batch(struct job *job, int32_t partition) {
  struct partition_state *ps = &job->p[partition];
  if (ps->uncommitted == 0) return;
  if (rcs_commit(job->store, (uint32_t)partition, NULL) != RCS_OK) {
    /* RCS_EIO: the changelog refused the commit (broker away too long: the
     * queue is full, or a record failed for good). Stopping is the simple,
     * safe answer: the next owner restores what reached the topic. */
    die("rcs_commit", rcs_last_error());
  }
  ps->uncommitted = 0;
  if (++ps->commits >= job->checkpoint_every) checkpoint(job, partition);
}

/* One input record: count it and move "next" past it, in the same delta. */
static void process(struct job *job, const rd_kafka_message_t *m) {
  const int32_t partition = m->partition;
  struct partition_state *ps = &job->p[partition];
  if (!ps->owned || m->offset < ps->next) return; /* not ours, or already counted */
  const int64_t one = 1;
  unsigned char next[8];
  put_le64(next, m->offset + 1);
  if (rcs_merge(job->store, (uint32_t)partition, COUNTS, m->key, m->key_len, &one,
                sizeof one) != RCS_OK ||
      rcs_put(job->store, (uint32_t)partition, OFFSETS, NEXT_KEY, sizeof NEXT_KEY - 1, next,
              sizeof next) != RCS_OK) {
    die("rcs_merge/rcs_put", rcs_last_error());
  }
  ps->next = m->offset + 1;
  if (++ps->uncommitted >= job->batch_size) commit_batch(job, partition);
}

/* Assigned: restore each partition (newest checkpoint + the changelog topic
 * after it), then consume its input from the offset the state holds. */
static void on_assign(struct job *job, rd_kafka_topic_partition_list_t *parts) {
  for (int i = 0; i < parts->cnt; ++i) {
    rd_kafka_topic_partition_t *tp = &parts->elems[i];
    if (tp->partition < 0 || tp->partition >= MAX_PARTITIONS) die("assign", "partition id too large");
    struct partition_state *ps = &job->p[tp->partition];
    char dir[4096];
    partition_dir(job, tp->partition, dir, sizeof dir);
    rcs_kafka_restore_info info = {.struct_size = sizeof info};
    if (rcs_kafka_restore(job->changelog, (uint32_t)tp->partition, dir, NULL, NULL, &info) !=
        RCS_OK) {
      die("rcs_kafka_restore", rcs_kafka_last_error());
    }
    unsigned char buf[8];
    size_t len = 0;
    const int rc = rcs_get(job->store, (uint32_t)tp->partition, OFFSETS, NEXT_KEY,
                           sizeof NEXT_KEY - 1, buf, sizeof buf, &len);
    if (rc == RCS_OK && len == 8) {
      ps->next = get_le64(buf);
      tp->offset = ps->next;
    } else if (rc == RCS_ENOTFOUND) {
      ps->next = 0;
      tp->offset = RD_KAFKA_OFFSET_BEGINNING; /* a partition never processed */
    } else {
      die("rcs_get(offsets)", rc == RCS_OK ? "\"next\" is not 8 bytes" : rcs_last_error());
    }
    ps->owned = 1;
    ps->uncommitted = 0;
    ps->commits = 0;
    fprintf(stderr, "kafka_groupby: assigned partition %d: version %llu, input from %lld\n",
            (int)tp->partition, (unsigned long long)info.version, (long long)ps->next);
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(job->consumer, parts);
  if (err) die("rd_kafka_assign", rd_kafka_err2str(err));
}

/* Revoked: make the partition's state durable and give it up. Until this
 * returns the group does not hand the partition to anybody else (eager
 * protocol), so the next owner restores everything we counted. */
static void on_revoke(struct job *job, const rd_kafka_topic_partition_list_t *parts) {
  /* Lost (our session expired, e.g. the process was paused): the partitions
   * may already be somebody else's. Write nothing more for them -- no
   * commit, no checkpoint -- and drop them with their open batches. */
  const int lost = rd_kafka_assignment_lost(job->consumer);
  for (int i = 0; i < parts->cnt && !lost; ++i) {
    const int32_t partition = parts->elems[i].partition;
    if (partition < 0 || partition >= MAX_PARTITIONS || !job->p[partition].owned) continue;
    commit_batch(job, partition);
    checkpoint(job, partition); /* a restore elsewhere then reads little of the topic */
  }
  /* Everything committed is in the topic before anybody else may restore. If
   * it is not (broker away past the timeout), stop writing for good: a
   * record still in flight could land after the next owner has restored. */
  if (!lost && rcs_kafka_flush(job->changelog, 30000, NULL, 0) != RCS_OK) {
    die("rcs_kafka_flush", rcs_kafka_last_error());
  }
  for (int i = 0; i < parts->cnt; ++i) {
    const int32_t partition = parts->elems[i].partition;
    if (partition < 0 || partition >= MAX_PARTITIONS || !job->p[partition].owned) continue;
    if (rcs_partition_drop(job->store, (uint32_t)partition) != RCS_OK) {
      die("rcs_partition_drop", rcs_last_error());
    }
    job->p[partition].owned = 0;
    fprintf(stderr, "kafka_groupby: %s partition %d at input offset %lld\n",
            lost ? "lost" : "revoked", (int)partition, (long long)job->p[partition].next);
  }
  rd_kafka_assign(job->consumer, NULL);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
  (void)rk;
  struct job *job = opaque;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    on_assign(job, parts);
  } else {
    on_revoke(job, parts);
  }
}

/* -e: do we own every input partition, each consumed to its end? */
static int done(const struct job *job) {
  for (int32_t i = 0; i < job->num_partitions; ++i) {
    if (!job->p[i].owned || job->p[i].next < job->p[i].end) return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr,
            "usage: %s BROKERS INPUT_TOPIC CHANGELOG_TOPIC STATE_DIR [-g GROUP] [-X name=value]"
            " [-b BATCH] [-c CHECKPOINT_EVERY] [-p PAUSE_US] [-e]\n",
            argv[0]);
    return 2;
  }
  const char *brokers = argv[1], *input = argv[2], *changelog_topic = argv[3];
  static struct job job; /* static: the partition array is large */
  job.state_dir = argv[4];
  job.batch_size = 50;
  job.checkpoint_every = 20;
  const char *group = "kafka-groupby";
  long pause_us = 0;
  int exit_at_end = 0;
  char errstr[512];

  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr) ||
      /* The state holds the input offsets; the group's offsets are unused. */
      rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr) ||
      rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, sizeof errstr) ||
      /* Eager rebalancing: a partition is revoked everywhere before it is
       * assigned anywhere (the cooperative protocol would need
       * rd_kafka_incremental_assign; the recipe is the same). */
      rd_kafka_conf_set(conf, "partition.assignment.strategy", "range", errstr, sizeof errstr)) {
    die("librdkafka", errstr);
  }
  for (int i = 5; i < argc; ++i) {
    const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(arg, "-e") == 0) { exit_at_end = 1; continue; }
    if (val == NULL) die(arg, "needs a value");
    ++i;
    if (strcmp(arg, "-g") == 0) {
      group = val;
    } else if (strcmp(arg, "-b") == 0) {
      job.batch_size = (uint32_t)strtoul(val, NULL, 10);
    } else if (strcmp(arg, "-c") == 0) {
      job.checkpoint_every = (uint32_t)strtoul(val, NULL, 10);
    } else if (strcmp(arg, "-p") == 0) {
      pause_us = strtol(val, NULL, 10);
    } else if (strcmp(arg, "-X") == 0) {
      char setting[512];
      snprintf(setting, sizeof setting, "%s", val);
      char *eq = strchr(setting, '=');
      if (eq == NULL) die("-X", "expects name=value");
      *eq = '\0';
      if (rd_kafka_conf_set(conf, setting, eq + 1, errstr, sizeof errstr)) die("-X", errstr);
    } else {
      die(arg, "unknown option");
    }
  }
  if (job.batch_size == 0) job.batch_size = 1;
  if (job.checkpoint_every == 0) job.checkpoint_every = 1;
  if (rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof errstr)) die("group.id", errstr);
  rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
  rd_kafka_conf_set_opaque(conf, &job);

  /* The store: two tables, partitions created by restore as they come. */
  rcs_table_spec tables[] = {{"counts", RCS_MERGE_ADD_I64, 0}, {"offsets", RCS_MERGE_NONE, 0}};
  rcs_options opts;
  rcs_options_init(&opts);
  opts.tables = tables;
  opts.num_tables = 2;
  if (rcs_store_open(&opts, &job.store) != RCS_OK) die("rcs_store_open", rcs_last_error());
  rcs_kafka_options kopts;
  rcs_kafka_options_init(&kopts);
  kopts.brokers = brokers;
  kopts.topic = changelog_topic;
  if (rcs_kafka_open(job.store, &kopts, &job.changelog) != RCS_OK) {
    die("rcs_kafka_open", rcs_kafka_last_error());
  }
  mkdir(job.state_dir, 0755); /* checkpoints create p-N themselves */

  job.consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (job.consumer == NULL) die("rd_kafka_new", errstr);
  rd_kafka_poll_set_consumer(job.consumer);

  /* The input's partitions and, for -e, their ends now. */
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(job.consumer, input, NULL);
  rd_kafka_resp_err_t err = rd_kafka_metadata(job.consumer, 0, rkt, &md, 10000);
  if (err || md->topic_cnt != 1 || md->topics[0].err) {
    die("metadata of the input topic",
        rd_kafka_err2str(err ? err : md->topic_cnt == 1 ? md->topics[0].err
                                                        : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
  }
  job.num_partitions = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  if (job.num_partitions > MAX_PARTITIONS) die("input topic", "too many partitions");
  for (int32_t i = 0; exit_at_end && i < job.num_partitions; ++i) {
    int64_t low, high;
    err = rd_kafka_query_watermark_offsets(job.consumer, input, i, &low, &high, 10000);
    if (err) die("input watermarks", rd_kafka_err2str(err));
    job.p[i].end = high;
  }

  rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, input, RD_KAFKA_PARTITION_UA);
  err = rd_kafka_subscribe(job.consumer, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err) die("rd_kafka_subscribe", rd_kafka_err2str(err));

  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (!stop_requested && !(exit_at_end && done(&job))) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(job.consumer, 100);
    if (m == NULL) {
      /* Idle: publish what we have, so readers and the changelog catch up. */
      for (int32_t i = 0; i < job.num_partitions; ++i) {
        if (job.p[i].owned) commit_batch(&job, i);
      }
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      process(&job, m);
      if (pause_us > 0) {
        struct timespec ts = {pause_us / 1000000, (pause_us % 1000000) * 1000};
        nanosleep(&ts, NULL);
      }
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      fprintf(stderr, "kafka_groupby: input: %s\n", rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
  }

  /* Leaving the group revokes everything we own through on_revoke. */
  rd_kafka_consumer_close(job.consumer);
  rd_kafka_destroy(job.consumer);
  int rc = rcs_kafka_close(job.changelog, 30000);
  if (rc != RCS_OK) fprintf(stderr, "kafka_groupby: %s\n", rcs_kafka_last_error());
  rcs_store_close(job.store);
  return rc == RCS_OK ? 0 : 1;
}
