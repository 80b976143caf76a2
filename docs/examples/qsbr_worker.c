/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File: docs/examples/qsbr_worker.c -- stream workers reading a QSBR store
 * (docs/c-api.md, "QSBR stores").
 *
 * A writer keeps a price per product, all prices moving together in each
 * batch (every commit sets every product to the same new price). Worker
 * threads process a stream of records: for each record they look two
 * products up through table readers and check that both prices agree, then
 * announce a quiescent state -- the natural point between records where a
 * worker holds no pointer into the store. They never open a read section;
 * before they block (here: before they exit) they go offline.
 *
 * Build: cc qsbr_worker.c $(pkg-config --cflags --libs rcustate) -pthread */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rcustate/rcustate.h>

enum { PRODUCTS = 32, BATCHES = 2000, WORKERS = 2 };
enum { PRICES = 0 };

static rcs_store *store;
static atomic_int done;

static void product_key(char *key, size_t cap, int i) { snprintf(key, cap, "sku-%02d", i); }

static void *writer(void *unused) {
  int64_t price;
  char key[16];
  int i;
  (void)unused;
  for (price = 2; price < 2 + BATCHES; ++price) {
    for (i = 0; i < PRODUCTS; ++i) {
      product_key(key, sizeof key, i);
      if (rcs_put(store, 0, PRICES, key, strlen(key), &price, sizeof price) != RCS_OK) break;
    }
    /* Waits for a grace period now and then: for every online worker's next
     * quiescent state, never for a worker that is offline. */
    if (rcs_commit(store, 0, NULL) != RCS_OK) {
      fprintf(stderr, "writer: %s\n", rcs_last_error());
      break;
    }
  }
  atomic_store(&done, 1);
  return NULL;
}

static void *worker(void *unused) {
  rcs_reader *prices = NULL;
  long records = 0, mismatched = 0;
  int64_t last = 0;
  (void)unused;
  if (rcs_reader_open(store, 0, PRICES, &prices) != RCS_OK) {
    fprintf(stderr, "worker: %s\n", rcs_last_error());
    return (void *)1;
  }
  rcs_thread_online(); /* from here on, reads need no section */
  while (!atomic_load(&done)) {
    char a[16], b[16];
    const void *pa, *pb;
    size_t la, lb;
    int64_t x, y;
    /* One record: two lookups. Each loads the published version afresh, so
     * the two may come from two commits -- then the later one is newer. */
    product_key(a, sizeof a, (int)(records % PRODUCTS));
    product_key(b, sizeof b, (int)((records * 7 + 3) % PRODUCTS));
    if (rcs_reader_get(prices, a, strlen(a), &pa, &la) == RCS_OK &&
        rcs_reader_get(prices, b, strlen(b), &pb, &lb) == RCS_OK) {
      memcpy(&x, pa, sizeof x); /* values are not aligned */
      memcpy(&y, pb, sizeof y);
      if (x < last || y < x) ++mismatched; /* never: versions only move forward */
      last = y;
    }
    ++records;
    /* Between records: pa and pb are not used any more. */
    rcs_quiescent_state();
  }
  rcs_thread_offline(); /* before blocking or exiting */
  rcs_reader_close(prices);
  printf("worker: %ld records, last price %lld, %ld out of order\n", records, (long long)last,
         mismatched);
  return (void *)(intptr_t)(mismatched != 0);
}

int main(void) {
  static const rcs_table_spec tables[] = {{"prices", RCS_MERGE_NONE, PRODUCTS}};
  rcs_options opts;
  pthread_t w, r[WORKERS];
  uint64_t stalled = 0, oldest = 0;
  void *bad;
  int i, failed = 0;
  int64_t one = 1;
  char key[16];

  rcs_options_init(&opts);
  opts.tables = tables;
  opts.num_tables = 1;
  opts.read_flavor = RCS_READ_QSBR;
  if (rcs_store_open(&opts, &store) != RCS_OK || rcs_partition_create(store, 0) != RCS_OK) {
    fprintf(stderr, "setup: %s\n", rcs_last_error());
    return 1;
  }
  for (i = 0; i < PRODUCTS; ++i) {
    product_key(key, sizeof key, i);
    rcs_put(store, 0, PRICES, key, strlen(key), &one, sizeof one);
  }
  rcs_commit(store, 0, NULL);

  for (i = 0; i < WORKERS; ++i) pthread_create(&r[i], NULL, worker, NULL);
  pthread_create(&w, NULL, writer, NULL);
  pthread_join(w, NULL);
  for (i = 0; i < WORKERS; ++i) {
    pthread_join(r[i], &bad);
    failed |= bad != NULL;
  }
  /* A monitor would poll this: waits for a grace period longer than the
   * stall threshold (1 s by default) -- a worker online that stopped
   * reporting. */
  rcs_grace_stalls(store, &stalled, &oldest);
  printf("stalled grace periods: %llu\n", (unsigned long long)stalled);
  if (rcs_store_close(store) != RCS_OK) {
    fprintf(stderr, "close: %s\n", rcs_last_error());
    return 1;
  }
  return failed;
}
