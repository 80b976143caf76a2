/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The README's C program: one table of counters, one batch, one lookup.
 * Build: cc hello.c $(pkg-config --cflags --libs rcustate) -o hello */
#include <stdio.h>
#include <rcustate/rcustate.h>

int main(void) {
  rcs_table_spec tables[] = {{"clicks", RCS_MERGE_ADD_I64, 0}};
  rcs_options opts;
  rcs_store *store;
  int64_t one = 1, clicks = 0;
  size_t len;
  rcs_options_init(&opts);
  opts.tables = tables;
  opts.num_tables = 1;
  if (rcs_store_open(&opts, &store) != RCS_OK || rcs_partition_create(store, 0) != RCS_OK) return 1;
  for (int i = 0; i < 3; ++i) rcs_merge(store, 0, 0, "ada", 3, &one, sizeof one); /* a batch */
  if (rcs_commit(store, 0, NULL) != RCS_OK) return 1; /* now visible to all readers, atomically */
  if (rcs_get(store, 0, 0, "ada", 3, &clicks, sizeof clicks, &len) != RCS_OK) return 1;
  printf("ada clicked %lld times\n", (long long)clicks);
  return rcs_store_close(store) != RCS_OK || clicks != 3;
}
