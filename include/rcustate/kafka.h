/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rcustate/kafka.h -- changelog topics, restore from Kafka, partitions that
 * move between processes (librcustate-kafka, built on librdkafka's C API;
 * pkg-config: rcustate-kafka).
 *
 * One changelog topic per store; Kafka partition N of it is rcustate
 * partition N. Every commit of the store becomes one message of that
 * partition (the value is the commit's changelog record, docs/durability.md;
 * the header "rcs-version" holds the version as 8 bytes little-endian),
 * produced asynchronously by an idempotent producer: a commit never waits
 * for the broker. rcs_kafka_flush waits until everything committed so far is
 * acknowledged. See docs/kafka.md for the guarantees, the failure behaviour
 * and the rebalance recipe.
 *
 *   rcs_kafka_options o;
 *   rcs_kafka_options_init(&o);
 *   o.brokers = "127.0.0.1:9092";
 *   o.topic = "orders-state";
 *   rcs_kafka *k;
 *   rcs_kafka_open(store, &o, &k);          installs the store's changelog callback
 *   rcs_kafka_restore(k, 7, "state/p-7", NULL, NULL, NULL);   checkpoint + topic
 *   ... rcs_put / rcs_merge / rcs_commit on partition 7 ...
 *   rcs_kafka_checkpoint(k, 7, "state/p-7", RCS_CHECKPOINT_INCREMENTAL, NULL);
 *   rcs_kafka_flush(k, 10000, NULL, 0);
 *   rcs_kafka_close(k);                     before rcs_store_close
 *
 * Conventions are rcustate.h's: RCS_OK or a negative RCS_E* code; on
 * failure rcs_kafka_last_error() (this thread's) says what went wrong,
 * starting with the function's name. */
#ifndef RCUSTATE_KAFKA_H_
#define RCUSTATE_KAFKA_H_

#include <stddef.h>
#include <stdint.h>

#include "rcustate/rcustate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcs_kafka rcs_kafka;

typedef struct rcs_kafka_options {
  size_t struct_size;  /* set by rcs_kafka_options_init */
  const char *brokers; /* bootstrap servers, "host:port[,host:port...]" (required) */
  const char *topic;   /* the store's changelog topic (required; must exist) */
  /* Records produced but not yet acknowledged, per partition, beyond which a
   * commit fails with RCS_EIO ("changelog queue full") instead of growing
   * memory while the broker is away. 0 = 100000. */
  size_t max_pending;
  /* How long librdkafka retries a record before it reports it failed
   * (message.timeout.ms); after that the changelog stops (see
   * rcs_kafka_partition_status). 0 = 30000; at most 86400000. */
  int delivery_timeout_ms;
  /* Extra librdkafka configuration for the producer and the restore
   * consumer: pairs of "name", "value", ending with NULL (may be NULL).
   * Settings the guarantees rest on (enable.idempotence,
   * enable.gapless.guarantee, message.timeout.ms, acks, auto.offset.reset,
   * ...) are refused with RCS_EINVAL. */
  const char *const *config;
} rcs_kafka_options;

RCS_API void rcs_kafka_options_init(rcs_kafka_options *opts) RCS_NOEXCEPT;

/* Connects a producer and installs the store's changelog callback
 * (rcs_changelog_set): from now on every commit of every partition is
 * produced to the topic. One handle per store (a second one would replace
 * the first's callback); the store must outlive the handle.
 * Errors: RCS_EINVAL (NULL argument, missing brokers or topic, a bad
 * librdkafka setting: the message names it; the topic does not exist and
 * the brokers do not create topics on demand),
 * RCS_ESTATE (store closed), RCS_ENOMEM, RCS_EIO (librdkafka could not
 * start, no broker answered within 10 s). */
RCS_API int rcs_kafka_open(rcs_store *store, const rcs_kafka_options *opts,
                           rcs_kafka **out) RCS_NOEXCEPT;

/* Removes the changelog callback, flushes (waiting up to timeout_ms), and
 * frees the handle. No commit may be running on the store meanwhile (a
 * commit that started before may still call the callback). Records not acknowledged by then are reported by the
 * return value: RCS_OK if every record was acknowledged, RCS_EIO otherwise
 * (the handle is freed either way). NULL: RCS_OK. */
RCS_API int rcs_kafka_close(rcs_kafka *k, int timeout_ms) RCS_NOEXCEPT;

/* Waits until every record produced so far (every commit that returned
 * before this call) is acknowledged by the broker, or timeout_ms passed,
 * then writes the acknowledged version of partitions 0 .. n-1 into
 * acked_versions[] (every version up to it is in the topic; 0: none;
 * acked_versions may be NULL when n is 0), also when it fails.
 * RCS_OK: all acknowledged. RCS_EIO: a partition's changelog is broken (a
 * record failed for good: the message names the partition, the version and
 * the broker's error), or the timeout passed with records outstanding.
 * Errors also: RCS_EINVAL (NULL handle; NULL acked_versions with n > 0). */
RCS_API int rcs_kafka_flush(rcs_kafka *k, int timeout_ms, uint64_t *acked_versions,
                            size_t n) RCS_NOEXCEPT;

typedef struct rcs_kafka_status {
  size_t struct_size;      /* set by the caller to sizeof(rcs_kafka_status) */
  uint64_t acked_version;  /* every version up to this one is in the topic */
  int64_t acked_offset;    /* the topic offset of acked_version's record; -1 if none */
  uint64_t pending;        /* records produced and not acknowledged yet */
  int broken;              /* 1: a record failed; nothing is acknowledged past it */
} rcs_kafka_status;

/* The changelog's state for one partition. RCS_EIO if it is broken (*out is
 * still filled; rcs_kafka_last_error() has the broker's error). The first
 * record that fails for good stops the changelog of every partition: what
 * is still queued is never written (no partition's topic gets a record
 * behind a missing one), every partition is broken and refuses commits with
 * RCS_EIO, and this handle cannot restore (RCS_ESTATE): close it, open a new
 * one, drop and restore the partitions.
 * Errors also: RCS_EINVAL (NULL, struct_size too small). */
RCS_API int rcs_kafka_partition_status(rcs_kafka *k, uint32_t partition,
                                       rcs_kafka_status *out) RCS_NOEXCEPT;

/* Writes a checkpoint (rcs_flush, then rcs_checkpoint), waits until its
 * version is acknowledged, then records next to it that version and the
 * topic offset of its record, so that rcs_kafka_restore reads only what came
 * after. A checkpoint whose version is not acknowledged gets no such record
 * (RCS_EIO) and is never used by a restore. `info` may be NULL.
 * Errors: those of rcs_kafka_flush and rcs_checkpoint, RCS_EINVAL. */
RCS_API int rcs_kafka_checkpoint(rcs_kafka *k, uint32_t partition, const char *dir, int flags,
                                 rcs_checkpoint_info *info) RCS_NOEXCEPT;

typedef struct rcs_kafka_restore_info {
  size_t struct_size;       /* set by the caller to sizeof(rcs_kafka_restore_info) */
  uint64_t checkpoint_version; /* the chain's version; 0 if none was used */
  uint64_t version;         /* the partition's version once live */
  int64_t start_offset;     /* the first topic offset read */
  int64_t end_offset;       /* the topic's end when restore began (exclusive) */
  uint64_t records;         /* records read from the topic */
  uint64_t applied;         /* of which applied (the others were already in the chain) */
  uint64_t bytes;           /* record bytes read from the topic */
} rcs_kafka_restore_info;

/* Progress: called every few thousand records and at the end. Return 0 to
 * go on; anything else stops the restore (RCS_ESTATE, partition absent). */
typedef int (*rcs_kafka_progress_fn)(void *ctx, uint32_t partition, uint64_t records,
                                     uint64_t bytes, int64_t offset, int64_t end_offset);

/* Creates `partition` (it must not exist) from the newest checkpoint chain
 * in `dir` -- used only if rcs_kafka_checkpoint recorded exactly its version
 * (else, or with NULL or no checkpoint there: from empty) -- then reads the
 * partition's changelog from after the recorded offset (or from the
 * beginning) to the end the topic had when the restore began, and applies
 * every record in version order (records the chain already holds are
 * skipped), then the partition is live. It first waits for records of the
 * partition still in flight from before it was dropped. On any error the
 * partition does not exist afterwards.
 * Errors: RCS_EINVAL, RCS_EEXIST, RCS_ECORRUPT (a malformed record, a
 * record of another partition, a gap in versions: the message names the
 * offset; a recorded offset past the topic's end), RCS_EIO (the broker:
 * the message has its error; the topic ended short of where it ended when
 * the restore began), the errors of rcs_restore, RCS_ESTATE (the progress
 * callback stopped it; the changelog stopped; records in flight did not
 * settle), RCS_ENOMEM. */
RCS_API int rcs_kafka_restore(rcs_kafka *k, uint32_t partition, const char *dir,
                              rcs_kafka_progress_fn progress, void *ctx,
                              rcs_kafka_restore_info *info) RCS_NOEXCEPT;

/* This thread's message for the last failed call of this header. */
RCS_API const char *rcs_kafka_last_error(void) RCS_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* RCUSTATE_KAFKA_H_ */
