/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File: test/c/c_durable_test.c -- checkpoints, restore and the changelog
 * through the C ABI, from C (C11).
 *
 *  - round trips through rcs_checkpoint/rcs_restore (full, then an
 *    increment) of every merge operator, an empty and a cleared table, a
 *    value of more than 1 MiB and keys with NUL bytes, compared as sorted
 *    digests; rcs_checkpoint_info filled in;
 *  - the argument checks: NULL arguments, unknown flags and an
 *    info->struct_size too small are RCS_EINVAL, messages starting with the
 *    function's name;
 *  - the changelog: every record of store A applied to store B through
 *    rcs_changelog_apply, with duplicates and a record one too early
 *    (RCS_ESTATE, then the right order), gives equal digests at every
 *    version; a callback returning non-zero fails the commit with RCS_EIO,
 *    publishes nothing and keeps the delta. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "rcustate/rcustate.h"

enum { T_PLAIN, T_SUM, T_MIN, T_MAX, T_FSUM, T_LOG, T_EMPTY, NUM_TABLES };

static rcs_store *open_store(void) {
  static const rcs_table_spec t[NUM_TABLES] = {
      {"plain", RCS_MERGE_NONE, 0},    {"sum", RCS_MERGE_ADD_I64, 0},
      {"min", RCS_MERGE_MIN_I64, 0},   {"max", RCS_MERGE_MAX_I64, 0},
      {"fsum", RCS_MERGE_ADD_F64, 0},  {"log", RCS_MERGE_APPEND, 0},
      {"empty", RCS_MERGE_NONE, 0}};
  rcs_options o;
  rcs_store *s = NULL;
  rcs_options_init(&o);
  o.tables = t;
  o.num_tables = NUM_TABLES;
  CHECK_OK(rcs_store_open(&o, &s));
  return s;
}

/* ---- digests: every entry of every table, sorted, length-prefixed */

typedef struct {
  char *key, *value;
  size_t key_len, value_len;
} entry;

typedef struct {
  entry *e;
  size_t n, cap;
} entries;

static int collect(const void *k, size_t kl, const void *v, size_t vl, void *ctx) {
  entries *es = (entries *)ctx;
  if (es->n == es->cap) {
    es->cap = es->cap ? es->cap * 2 : 64;
    es->e = (entry *)realloc(es->e, es->cap * sizeof(entry));
    CHECK(es->e != NULL);
  }
  entry *x = &es->e[es->n++];
  x->key = (char *)malloc(kl + 1);
  x->value = (char *)malloc(vl + 1);
  CHECK(x->key != NULL && x->value != NULL);
  if (kl) memcpy(x->key, k, kl);
  if (vl) memcpy(x->value, v, vl);
  x->key_len = kl;
  x->value_len = vl;
  return 0;
}

static int cmp_entry(const void *a, const void *b) {
  const entry *x = (const entry *)a, *y = (const entry *)b;
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int c = n ? memcmp(x->key, y->key, n) : 0;
  if (c != 0) return c;
  return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* FNV-1a over the sorted entries of every table, with their lengths. */
static uint64_t digest(rcs_store *s, uint32_t p, uint64_t *version) {
  rcs_snapshot *snap = NULL;
  uint64_t h = 1469598103934665603ull;
  CHECK_OK(rcs_snapshot_open(s, p, &snap));
  if (version) *version = rcs_snapshot_version(snap);
  for (uint32_t t = 0; t < NUM_TABLES; ++t) {
    entries es = {NULL, 0, 0};
    CHECK_OK(rcs_snapshot_foreach(snap, t, collect, &es));
    if (es.n) qsort(es.e, es.n, sizeof(entry), cmp_entry);
#define MIX(p_, n_)                                                       \
  do {                                                                    \
    const unsigned char *q_ = (const unsigned char *)(p_);               \
    for (size_t i_ = 0; i_ < (n_); ++i_) h = (h ^ q_[i_]) * 1099511628211ull; \
  } while (0)
    MIX(&t, sizeof t);
    MIX(&es.n, sizeof es.n);
    for (size_t i = 0; i < es.n; ++i) {
      MIX(&es.e[i].key_len, sizeof(size_t));
      MIX(es.e[i].key, es.e[i].key_len);
      MIX(&es.e[i].value_len, sizeof(size_t));
      MIX(es.e[i].value, es.e[i].value_len);
      free(es.e[i].key);
      free(es.e[i].value);
    }
#undef MIX
    free(es.e);
  }
  rcs_snapshot_close(snap);
  return h;
}

static void tmpdir(char *out, size_t n) {
  const char *base = getenv("TMPDIR");
  snprintf(out, n, "%s/rcs-cdur-XXXXXX", base && *base ? base : "/tmp");
  CHECK(mkdtemp(out) != NULL);
}

static void rm_rf(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void put_i64(rcs_store *s, uint32_t p, uint32_t t, const char *k, int64_t v, int merge) {
  if (merge) {
    CHECK_OK(rcs_merge(s, p, t, k, strlen(k), &v, sizeof v));
  } else {
    CHECK_OK(rcs_put(s, p, t, k, strlen(k), &v, sizeof v));
  }
}

/* ---------------------------------------------------------------- round trips */

static void round_trips(void) {
  char dir[512], sub[600];
  tmpdir(dir, sizeof dir);
  snprintf(sub, sizeof sub, "%s/p5", dir);
  rcs_store *a = open_store();
  const uint32_t p = 5;
  CHECK_OK(rcs_partition_create(a, p));
  /* Every operator, a key with NUL bytes, an empty key and an empty value. */
  const char nul_key[] = {'a', '\0', 'b', '\0'};
  CHECK_OK(rcs_put(a, p, T_PLAIN, nul_key, sizeof nul_key, "nul", 3));
  CHECK_OK(rcs_put(a, p, T_PLAIN, "", 0, "empty key", 9));
  CHECK_OK(rcs_put(a, p, T_PLAIN, "ev", 2, "", 0));
  size_t big_len = ((size_t)1 << 20) + 33;
  char *big = (char *)malloc(big_len);
  CHECK(big != NULL);
  for (size_t i = 0; i < big_len; ++i) big[i] = (char)(i * 131 + 7);
  CHECK_OK(rcs_put(a, p, T_PLAIN, "big", 3, big, big_len));
  put_i64(a, p, T_SUM, "s", -5, 1);
  put_i64(a, p, T_MIN, "m", 3, 1);
  put_i64(a, p, T_MAX, "M", 9, 1);
  double d = 0.1;
  CHECK_OK(rcs_merge(a, p, T_FSUM, "f", 1, &d, sizeof d));
  CHECK_OK(rcs_merge(a, p, T_LOG, nul_key, sizeof nul_key, "\0\1", 2));
  CHECK_OK(rcs_put(a, p, T_EMPTY, "gone", 4, "x", 1));
  uint64_t v = 0;
  CHECK_OK(rcs_commit(a, p, &v));
  CHECK(v == 1);
  d = 0.2;
  CHECK_OK(rcs_merge(a, p, T_FSUM, "f", 1, &d, sizeof d)); /* 0.1 + 0.2: rounding kept */
  put_i64(a, p, T_MIN, "m", -4, 1);
  CHECK_OK(rcs_clear(a, p, T_EMPTY)); /* a cleared table, empty */
  CHECK_OK(rcs_commit(a, p, &v));
  CHECK(v == 2);

  rcs_checkpoint_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  CHECK_OK(rcs_checkpoint(a, p, sub, RCS_CHECKPOINT_FULL, &info));
  CHECK(info.struct_size == sizeof info);
  CHECK(info.partition == p && info.version == 2 && info.base_version == 0);
  CHECK(info.entries == 9 && info.bytes > big_len);

  rcs_store *b = open_store();
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  CHECK_OK(rcs_restore(b, p, sub, &info));
  CHECK(info.partition == p && info.version == 2 && info.entries == 9 && info.bytes > big_len);
  uint64_t vb = 0, va = 0;
  CHECK_OK(rcs_version(b, p, &vb));
  CHECK(vb == 2);
  CHECK(digest(a, p, &va) == digest(b, p, &vb) && va == vb);
  size_t n = 0;
  CHECK_OK(rcs_partition_table_entries(b, p, T_EMPTY, &n));
  CHECK(n == 0);
  char got[4];
  size_t got_len = 0;
  CHECK_OK(rcs_get(b, p, T_PLAIN, nul_key, sizeof nul_key, got, sizeof got, &got_len));
  CHECK(got_len == 3 && memcmp(got, "nul", 3) == 0);
  CHECK_OK(rcs_store_close(b));

  /* An increment: erases, a clear, a changed big value; restored: the same. */
  CHECK_OK(rcs_delete(a, p, T_PLAIN, "ev", 2));
  big[0] ^= 1;
  CHECK_OK(rcs_put(a, p, T_PLAIN, "big", 3, big, big_len));
  CHECK_OK(rcs_clear(a, p, T_MAX));
  put_i64(a, p, T_SUM, "s", 10, 1);
  CHECK_OK(rcs_commit(a, p, &v));
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  CHECK_OK(rcs_checkpoint(a, p, sub, RCS_CHECKPOINT_INCREMENTAL, &info));
  CHECK(info.version == 3 && info.base_version == 2);
  b = open_store();
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  CHECK_OK(rcs_restore(b, p, sub, &info));
  CHECK(info.version == 3);
  CHECK(digest(a, p, NULL) == digest(b, p, NULL));
  /* The restored partition goes on at version + 1. */
  CHECK_OK(rcs_commit(b, p, &v));
  CHECK(v == 4);
  CHECK_OK(rcs_store_close(b));

  /* An empty partition. */
  snprintf(sub, sizeof sub, "%s/p6", dir);
  CHECK_OK(rcs_partition_create(a, 6));
  CHECK_OK(rcs_checkpoint(a, 6, sub, RCS_CHECKPOINT_FULL, NULL));
  b = open_store();
  CHECK_OK(rcs_restore(b, 6, sub, NULL));
  CHECK_OK(rcs_version(b, 6, &vb));
  CHECK(vb == 0 && digest(a, 6, NULL) == digest(b, 6, NULL));
  CHECK_OK(rcs_store_close(b));
  CHECK_OK(rcs_store_close(a));
  free(big);
  rm_rf(dir);
}

/* ---------------------------------------------------------------- arguments */

static void arguments(void) {
  char dir[512];
  tmpdir(dir, sizeof dir);
  rcs_store *s = open_store();
  CHECK_OK(rcs_partition_create(s, 1));
  rcs_checkpoint_info info;
  memset(&info, 0x5a, sizeof info);
  info.struct_size = sizeof info - 1;
  const rcs_checkpoint_info before = info;
  CHECK_RC(rcs_checkpoint(s, 1, dir, RCS_CHECKPOINT_FULL, &info), RCS_EINVAL);
  CHECK(starts_with(rcs_last_error(), "rcs_checkpoint"));
  CHECK(strstr(rcs_last_error(), "struct_size") != NULL);
  CHECK(memcmp(&info, &before, sizeof info) == 0);
  info.struct_size = 0;
  CHECK_RC(rcs_checkpoint(s, 1, dir, RCS_CHECKPOINT_FULL, &info), RCS_EINVAL);
  CHECK_RC(rcs_checkpoint(NULL, 1, dir, RCS_CHECKPOINT_FULL, NULL), RCS_EINVAL);
  CHECK(starts_with(rcs_last_error(), "rcs_checkpoint"));
  CHECK_RC(rcs_checkpoint(s, 1, NULL, RCS_CHECKPOINT_FULL, NULL), RCS_EINVAL);
  CHECK(starts_with(rcs_last_error(), "rcs_checkpoint"));
  CHECK_RC(rcs_checkpoint(s, 1, dir, 2, NULL), RCS_EINVAL);
  CHECK_RC(rcs_checkpoint(s, 1, dir, -1, NULL), RCS_EINVAL);
  CHECK_RC(rcs_checkpoint(s, 99, dir, RCS_CHECKPOINT_FULL, NULL), RCS_ENOPARTITION);
  CHECK(starts_with(rcs_last_error(), "rcs_checkpoint"));
  CHECK_OK(rcs_checkpoint(s, 1, dir, RCS_CHECKPOINT_FULL, NULL));

  rcs_store *b = open_store();
  info.struct_size = sizeof info - 1;
  CHECK_RC(rcs_restore(b, 1, dir, &info), RCS_EINVAL);
  CHECK(starts_with(rcs_last_error(), "rcs_restore"));
  CHECK_RC(rcs_restore(NULL, 1, dir, NULL), RCS_EINVAL);
  CHECK_RC(rcs_restore(b, 1, NULL, NULL), RCS_EINVAL);
  CHECK(starts_with(rcs_last_error(), "rcs_restore"));
  size_t count = 1;
  CHECK_OK(rcs_partition_list(b, NULL, 0, &count));
  CHECK(count == 0); /* nothing was restored by the refused calls */
  CHECK_RC(rcs_restore(s, 1, dir, NULL), RCS_EEXIST);
  CHECK(starts_with(rcs_last_error(), "rcs_restore"));
  char missing[600];
  snprintf(missing, sizeof missing, "%s/missing", dir);
  CHECK_RC(rcs_restore(b, 1, missing, NULL), RCS_EIO);
  CHECK(starts_with(rcs_last_error(), "rcs_restore"));
  CHECK_RC(rcs_restore(b, 2, dir, NULL), RCS_ECORRUPT); /* another partition's */
  CHECK(starts_with(rcs_last_error(), "rcs_restore"));
  CHECK_OK(rcs_partition_list(b, NULL, 0, &count));
  CHECK(count == 0);

  CHECK_RC(rcs_changelog_set(NULL, NULL, NULL), RCS_EINVAL);
  CHECK(starts_with(rcs_last_error(), "rcs_changelog_set"));
  uint64_t v = 7;
  CHECK_RC(rcs_changelog_apply(NULL, 1, "x", 1, &v), RCS_EINVAL);
  CHECK(starts_with(rcs_last_error(), "rcs_changelog_apply"));
  CHECK_RC(rcs_changelog_apply(s, 1, NULL, 5, &v), RCS_EINVAL);
  CHECK(starts_with(rcs_last_error(), "rcs_changelog_apply"));
  CHECK_RC(rcs_changelog_apply(s, 1, "garbage", 7, &v), RCS_ECORRUPT);
  CHECK(starts_with(rcs_last_error(), "rcs_changelog_apply"));
  CHECK(v == 7); /* out parameter untouched on failure */
  CHECK_OK(rcs_store_close(b));
  CHECK_OK(rcs_store_close(s));
  rm_rf(dir);
}

/* ---------------------------------------------------------------- changelog */

#define MAX_RECORDS 128

typedef struct {
  void *rec[MAX_RECORDS];
  size_t len[MAX_RECORDS];
  uint64_t version[MAX_RECORDS];
  size_t n;
  int refuse;
  int calls;
} log_t;

static int on_record(void *ctx, uint32_t partition, uint64_t version, const void *record,
                     size_t record_len) {
  log_t *l = (log_t *)ctx;
  ++l->calls;
  CHECK(partition == 4);
  if (l->refuse) return 42;
  CHECK(l->n < MAX_RECORDS);
  l->rec[l->n] = malloc(record_len ? record_len : 1);
  CHECK(l->rec[l->n] != NULL);
  memcpy(l->rec[l->n], record, record_len);
  l->len[l->n] = record_len;
  l->version[l->n] = version;
  ++l->n;
  return 0;
}

static void changelog(void) {
  static log_t log;
  uint64_t digest_at[MAX_RECORDS + 1];
  rcs_store *a = open_store();
  rcs_store *b = open_store();
  const uint32_t p = 4;
  CHECK_OK(rcs_changelog_set(a, on_record, &log));
  CHECK_OK(rcs_partition_create(a, p));
  CHECK_OK(rcs_partition_create(b, p));
  digest_at[0] = digest(a, p, NULL);
  uint32_t seed = 12345;
  const int commits = 40;
  for (int c = 1; c <= commits; ++c) {
    for (int i = 0; i < 6; ++i) {
      seed = seed * 1103515245u + 12345u;
      char key[16];
      snprintf(key, sizeof key, "k%u", (seed >> 8) % 13);
      const uint32_t t = (seed >> 16) % 6;
      const unsigned what = (seed >> 4) % 20;
      int64_t iv = (int64_t)((seed >> 3) % 1000) - 500;
      double dv = (double)((seed >> 5) % 1000) / 7.0;
      if (what == 0) {
        CHECK_OK(rcs_clear(a, p, t));
      } else if (what < 4) {
        CHECK_OK(rcs_delete(a, p, t, key, strlen(key)));
      } else if (t == T_PLAIN || t == T_LOG) {
        if (t == T_LOG && what > 10) {
          CHECK_OK(rcs_merge(a, p, t, key, strlen(key), key, strlen(key)));
        } else {
          CHECK_OK(rcs_put(a, p, t, key, strlen(key), "v\0v", 3));
        }
      } else if (t == T_FSUM) {
        CHECK_OK(rcs_merge(a, p, t, key, strlen(key), &dv, sizeof dv));
      } else {
        put_i64(a, p, t, key, iv, what > 8);
      }
    }
    uint64_t v = 0;
    CHECK_OK(rcs_commit(a, p, &v));
    CHECK(v == (uint64_t)c);
    digest_at[c] = digest(a, p, NULL);
  }
  CHECK(log.n == (size_t)commits);
  for (size_t i = 0; i < log.n; ++i) CHECK(log.version[i] == i + 1);

  /* Every record into B: one too early first (refused, nothing applied),
   * then in order, each twice, and an older one again. */
  for (size_t i = 0; i < log.n; ++i) {
    uint64_t v = 0;
    if (i + 1 < log.n && i % 7 == 2) {
      CHECK_RC(rcs_changelog_apply(b, p, log.rec[i + 1], log.len[i + 1], &v), RCS_ESTATE);
      CHECK(starts_with(rcs_last_error(), "rcs_changelog_apply"));
      CHECK_OK(rcs_version(b, p, &v));
      CHECK(v == i);
    }
    CHECK_OK(rcs_changelog_apply(b, p, log.rec[i], log.len[i], &v));
    CHECK(v == i + 1);
    CHECK(digest(b, p, &v) == digest_at[i + 1] && v == i + 1);
    CHECK_OK(rcs_changelog_apply(b, p, log.rec[i], log.len[i], &v)); /* duplicate */
    CHECK(v == i + 1);
    CHECK_OK(rcs_changelog_apply(b, p, log.rec[i / 2], log.len[i / 2], &v));
    CHECK(v == i + 1);
    CHECK(digest(b, p, NULL) == digest_at[i + 1]);
  }
  /* Another partition's record. */
  CHECK_OK(rcs_partition_create(b, 9));
  CHECK_RC(rcs_changelog_apply(b, 9, log.rec[0], log.len[0], NULL), RCS_EINVAL);

  /* A refusing callback: RCS_EIO, nothing published, the delta kept. */
  log.refuse = 1;
  const int calls = log.calls;
  CHECK_OK(rcs_put(a, p, T_PLAIN, "refused", 7, "yes", 3));
  uint64_t v = 0;
  CHECK_RC(rcs_commit(a, p, &v), RCS_EIO);
  CHECK(starts_with(rcs_last_error(), "rcs_commit"));
  CHECK(log.calls == calls + 1);
  CHECK_OK(rcs_version(a, p, &v));
  CHECK(v == (uint64_t)commits);
  CHECK(digest(a, p, NULL) == digest_at[commits]); /* nothing published */
  char got[8];
  size_t got_len = 0;
  CHECK_OK(rcs_get(a, p, T_PLAIN, "refused", 7, got, sizeof got, &got_len)); /* own delta kept */
  CHECK(got_len == 3);
  /* Applying through a refusing callback: RCS_EIO, nothing applied. */
  CHECK_OK(rcs_changelog_set(b, on_record, &log));
  log.refuse = 0;
  CHECK_OK(rcs_commit(a, p, &v)); /* the retry commits the kept delta */
  CHECK(v == (uint64_t)commits + 1 && log.n == (size_t)commits + 1);
  log.refuse = 1;
  uint64_t vb = 0;
  CHECK_RC(rcs_changelog_apply(b, p, log.rec[commits], log.len[commits], &vb), RCS_EIO);
  CHECK(starts_with(rcs_last_error(), "rcs_changelog_apply"));
  CHECK_OK(rcs_version(b, p, &vb));
  CHECK(vb == (uint64_t)commits);
  log.refuse = 0;
  CHECK_OK(rcs_changelog_set(b, NULL, NULL));
  CHECK_OK(rcs_changelog_apply(b, p, log.rec[commits], log.len[commits], &vb));
  CHECK(vb == (uint64_t)commits + 1 && digest(a, p, NULL) == digest(b, p, NULL));

  CHECK_OK(rcs_store_close(a));
  CHECK_OK(rcs_store_close(b));
  for (size_t i = 0; i < log.n; ++i) free(log.rec[i]);
}

int main(void) {
  round_trips();
  arguments();
  changelog();
  printf("c_durable: all checks passed\n");
  return 0;
}
