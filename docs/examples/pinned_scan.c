/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File: docs/examples/pinned_scan.c -- a long scan over one version while the
 * writer keeps committing (docs/c-api.md, "A pinned scan").
 *
 * A pinned snapshot holds one committed version of a partition, across all
 * its tables, for as long as the caller keeps it: a checkpoint or a report
 * can walk it slowly without holding a read section, so writers never wait
 * for it (they copy the pinned maps instead of reusing them).
 *
 * Build: cc pinned_scan.c $(pkg-config --cflags --libs rcustate) */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rcustate/rcustate.h>

enum { WINDOW_COUNTS = 0 };

struct scan {
  int64_t sum;
  size_t entries;
  rcs_store *store; /* to commit while the scan runs: allowed, no section is held */
};

/* Called for every entry; the pointers live as long as the snapshot. */
static int visit(const void *key, size_t key_len, const void *value, size_t value_len,
                 void *ctx) {
  struct scan *s = (struct scan *)ctx;
  int64_t v;
  (void)key;
  (void)key_len;
  if (value_len != sizeof v) return 1; /* non-zero stops the walk */
  memcpy(&v, value, sizeof v);
  s->sum += v;
  ++s->entries;
  /* The writer goes on meanwhile: clear the window and refill it. */
  if (s->entries % 100 == 0) {
    int64_t one = 1;
    rcs_clear(s->store, 0, WINDOW_COUNTS);
    rcs_merge(s->store, 0, WINDOW_COUNTS, "late", 4, &one, sizeof one);
    rcs_commit(s->store, 0, NULL);
  }
  return 0;
}

int main(void) {
  static const rcs_table_spec tables[] = {{"window_counts", RCS_MERGE_ADD_I64, 1000}};
  rcs_options opts;
  rcs_store *store;
  rcs_snapshot *snap;
  struct rcs_partition_stats stats;
  struct scan scan = {0, 0, NULL};
  size_t count = 0;
  uint64_t now;
  int i, rc;

  rcs_options_init(&opts);
  opts.tables = tables;
  opts.num_tables = 1;
  if (rcs_store_open(&opts, &store) != RCS_OK || rcs_partition_create(store, 0) != RCS_OK) {
    fprintf(stderr, "setup: %s\n", rcs_last_error());
    return 1;
  }
  for (i = 0; i < 1000; ++i) {
    char key[16];
    int64_t n = i;
    snprintf(key, sizeof key, "k%04d", i);
    rcs_merge(store, 0, WINDOW_COUNTS, key, strlen(key), &n, sizeof n);
  }
  rcs_commit(store, 0, NULL);

  /* Pin the current version: O(1), no copy. */
  if ((rc = rcs_snapshot_open(store, 0, &snap)) != RCS_OK) {
    fprintf(stderr, "pin: %s\n", rcs_strerror(rc));
    return 1;
  }
  rcs_snapshot_count(snap, WINDOW_COUNTS, &count);
  scan.store = store;
  rc = rcs_snapshot_foreach(snap, WINDOW_COUNTS, visit, &scan);
  rcs_version(store, 0, &now);
  stats.struct_size = sizeof stats;
  rcs_partition_stats(store, 0, &stats);
  printf("scanned version %llu: %zu of %zu entries, sum %lld; partition now at version %llu, "
         "%llu standby copies because of the pin\n",
         (unsigned long long)rcs_snapshot_version(snap), scan.entries, count,
         (long long)scan.sum, (unsigned long long)now,
         (unsigned long long)stats.standby_copies);
  rcs_snapshot_close(snap); /* the pinned maps are reclaimed after this */
  if (rcs_store_close(store) != RCS_OK) { /* outside any read section */
    fprintf(stderr, "close: %s\n", rcs_last_error());
    return 1;
  }
  /* The scan saw exactly the pinned version, whatever was committed since. */
  return rc == RCS_OK && scan.entries == 1000 && scan.sum == 999 * 1000 / 2 && now == 11 ? 0 : 1;
}
