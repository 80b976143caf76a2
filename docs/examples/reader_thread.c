/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File: docs/examples/reader_thread.c -- lock-free readers next to a writer
 * (docs/c-api.md, "A reader thread").
 *
 * A writer moves money between accounts, one transfer per batch: it takes
 * from one account and gives to another in the same commit. Reader threads
 * sum all accounts. Because a commit is published with one pointer store, a
 * reader that looks at one version (an rcs_view inside a read section) always
 * finds the same total: it sees a transfer whole or not at all.
 *
 * Build: cc reader_thread.c $(pkg-config --cflags --libs rcustate) -pthread */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rcustate/rcustate.h>

enum { ACCOUNTS = 16, TRANSFERS = 3000, READERS = 2 };
enum { BALANCES = 0 }; /* table id: its index in the spec array */
static const int64_t kInitial = 1000;

static rcs_store *store;
static atomic_int done;

static void account_key(char *key, size_t cap, int i) { snprintf(key, cap, "acct-%02d", i); }

static int put_balance(int account, int64_t balance) {
  char key[16];
  account_key(key, sizeof key, account);
  return rcs_put(store, 0, BALANCES, key, strlen(key), &balance, sizeof balance);
}

static void *writer(void *unused) {
  int64_t balance[ACCOUNTS];
  int i;
  (void)unused;
  for (i = 0; i < ACCOUNTS; ++i) balance[i] = kInitial;
  for (i = 0; i < TRANSFERS; ++i) {
    int from = (i * 5) % ACCOUNTS, to = (i * 11 + 3) % ACCOUNTS;
    int64_t amount = i % 37;
    if (from == to) continue;
    balance[from] -= amount;
    balance[to] += amount;
    /* Both puts go to this thread's delta; the commit publishes them together. */
    if (put_balance(from, balance[from]) != RCS_OK || put_balance(to, balance[to]) != RCS_OK ||
        rcs_commit(store, 0, NULL) != RCS_OK) {
      fprintf(stderr, "writer: %s\n", rcs_last_error());
      break;
    }
  }
  atomic_store(&done, 1);
  return NULL;
}

static void *reader(void *unused) {
  long checks = 0, torn = 0;
  uint64_t last_version = 0;
  (void)unused;
  while (!atomic_load(&done)) {
    const rcs_view *view;
    int64_t total = 0;
    int i;
    /* A read section: no lock, no allocation; keep it short. Everything the
     * view points to stays valid until rcs_read_unlock. */
    rcs_read_lock();
    if (rcs_view_current(store, 0, &view) == RCS_OK) {
      for (i = 0; i < ACCOUNTS; ++i) {
        char key[16];
        const void *value;
        size_t len;
        int64_t balance;
        account_key(key, sizeof key, i);
        if (rcs_view_get(view, BALANCES, key, strlen(key), &value, &len) != RCS_OK) continue;
        memcpy(&balance, value, sizeof balance); /* values are not aligned */
        total += balance;
      }
      if (rcs_view_version(view) < last_version) ++torn; /* never: versions only grow */
      last_version = rcs_view_version(view);
      if (total != ACCOUNTS * kInitial) ++torn;
      ++checks;
    }
    if (rcs_read_unlock() != RCS_OK) ++torn; /* never: every lock has its unlock */
  }
  printf("reader: %ld consistent totals checked, last version %llu, %ld torn\n", checks,
         (unsigned long long)last_version, torn);
  return (void *)(intptr_t)(torn != 0);
}

int main(void) {
  static const rcs_table_spec tables[] = {{"balances", RCS_MERGE_NONE, ACCOUNTS}};
  rcs_options opts;
  pthread_t w, r[READERS];
  void *torn;
  int i, failed = 0;

  rcs_options_init(&opts);
  opts.tables = tables;
  opts.num_tables = 1;
  if (rcs_store_open(&opts, &store) != RCS_OK || rcs_partition_create(store, 0) != RCS_OK) {
    fprintf(stderr, "setup: %s\n", rcs_last_error());
    return 1;
  }
  for (i = 0; i < ACCOUNTS; ++i) put_balance(i, kInitial);
  rcs_commit(store, 0, NULL); /* version 1: every account opened */

  for (i = 0; i < READERS; ++i) pthread_create(&r[i], NULL, reader, NULL);
  pthread_create(&w, NULL, writer, NULL);
  pthread_join(w, NULL);
  for (i = 0; i < READERS; ++i) {
    pthread_join(r[i], &torn);
    failed |= torn != NULL;
  }
  /* After every thread is done with it, outside any read section. */
  if (rcs_store_close(store) != RCS_OK) {
    fprintf(stderr, "close: %s\n", rcs_last_error());
    return 1;
  }
  return failed;
}
