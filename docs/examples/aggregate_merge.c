/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File: docs/examples/aggregate_merge.c -- group-by aggregates with merge
 * operators (docs/c-api.md, "Aggregate updates with merge").
 *
 * Two writer threads each own one partition and fold a stream of click
 * events into three tables: a count (add), a maximum latency (max) and a
 * latency sum (double add). A merge saves the read-modify-write, and every
 * batch of events becomes visible atomically with one rcs_commit.
 *
 * Build: cc aggregate_merge.c $(pkg-config --cflags --libs rcustate) -pthread */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rcustate/rcustate.h>

enum { CLICKS, MAX_LATENCY, SUM_LATENCY };
enum { USERS = 5, EVENTS = 10000, BATCH = 500 };

static rcs_store *store;

/* Numeric operands are 8 bytes little-endian; rcustate only runs on
 * little-endian hosts, so memcpy is the encoding. */
static int merge_i64(uint32_t partition, uint32_t table, const char *key, int64_t v) {
  return rcs_merge(store, partition, table, key, strlen(key), &v, sizeof v);
}
static int merge_f64(uint32_t partition, uint32_t table, const char *key, double v) {
  return rcs_merge(store, partition, table, key, strlen(key), &v, sizeof v);
}

static void *writer(void *arg) {
  uint32_t partition = (uint32_t)(uintptr_t)arg;
  char user[16];
  int i;
  for (i = 0; i < EVENTS; ++i) {
    int64_t latency_ms = (i * 7919 + (int)partition) % 250;
    snprintf(user, sizeof user, "user-%d", i % USERS);
    if (merge_i64(partition, CLICKS, user, 1) != RCS_OK ||
        merge_i64(partition, MAX_LATENCY, user, latency_ms) != RCS_OK ||
        merge_f64(partition, SUM_LATENCY, user, (double)latency_ms) != RCS_OK) {
      fprintf(stderr, "merge: %s\n", rcs_last_error());
      return (void *)1;
    }
    /* Batch boundary: publish everything merged since the last commit. */
    if ((i + 1) % BATCH == 0 && rcs_commit(store, partition, NULL) != RCS_OK) {
      fprintf(stderr, "commit: %s\n", rcs_last_error());
      return (void *)1;
    }
  }
  return NULL;
}

int main(void) {
  static const rcs_table_spec tables[] = {
      {"clicks", RCS_MERGE_ADD_I64, USERS},
      {"max_latency", RCS_MERGE_MAX_I64, USERS},
      {"sum_latency", RCS_MERGE_ADD_F64, USERS},
  };
  rcs_options opts;
  pthread_t threads[2];
  void *failed[2];
  int64_t total = 0;
  uint32_t p;
  int u, rc;

  rcs_options_init(&opts);
  opts.tables = tables;
  opts.num_tables = sizeof tables / sizeof tables[0];
  if ((rc = rcs_store_open(&opts, &store)) != RCS_OK) {
    fprintf(stderr, "open: %s (%s)\n", rcs_strerror(rc), rcs_last_error());
    return 1;
  }
  for (p = 0; p < 2; ++p) {
    if (rcs_partition_create(store, p) != RCS_OK) return 1;
    if (pthread_create(&threads[p], NULL, writer, (void *)(uintptr_t)p) != 0) return 1;
  }
  for (p = 0; p < 2; ++p) {
    if (pthread_join(threads[p], &failed[p]) != 0 || failed[p] != NULL) return 1;
  }

  for (p = 0; p < 2; ++p) {
    uint64_t version;
    rcs_version(store, p, &version);
    printf("partition %u, version %llu\n", (unsigned)p, (unsigned long long)version);
    for (u = 0; u < USERS; ++u) {
      char user[16];
      int64_t clicks, max_ms;
      double sum_ms;
      size_t len;
      snprintf(user, sizeof user, "user-%d", u);
      if (rcs_get(store, p, CLICKS, user, strlen(user), &clicks, sizeof clicks, &len) != RCS_OK ||
          rcs_get(store, p, MAX_LATENCY, user, strlen(user), &max_ms, sizeof max_ms, &len) !=
              RCS_OK ||
          rcs_get(store, p, SUM_LATENCY, user, strlen(user), &sum_ms, sizeof sum_ms, &len) !=
              RCS_OK) {
        fprintf(stderr, "get: %s\n", rcs_last_error());
        return 1;
      }
      printf("  %s: %lld clicks, max %lld ms, mean %.1f ms\n", user, (long long)clicks,
             (long long)max_ms, sum_ms / (double)clicks);
      total += clicks;
    }
  }
  if (rcs_store_close(store) != RCS_OK) { /* outside any read section */
    fprintf(stderr, "close: %s\n", rcs_last_error());
    return 1;
  }
  if (total != 2 * EVENTS) {
    fprintf(stderr, "expected %d clicks, counted %lld\n", 2 * EVENTS, (long long)total);
    return 1;
  }
  return 0;
}
