/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File: test/c/c_api_test.c -- the C ABI from C: every function, every
 * documented error, NULL arguments, the thread rules, and a reader/writer
 * stress part with invariants checked on every read.
 *
 * Plain C11 + POSIX threads, no framework; it also compiles as C++
 * (c_api_test_cxx.cpp includes it), so it sticks to the common subset.
 * Usage: c_api_test [unit|stress]  (no argument: both).
 * RCUSTATE_STRESS_SCALE (default 1) scales the stress duration (~1 s). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#endif
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "rcustate/rcustate.h"

/* ------------------------------------------------------------------ helpers */

static void enc_i64(unsigned char out[8], int64_t v) {
  uint64_t u = (uint64_t)v;
  int i;
  for (i = 0; i < 8; ++i) out[i] = (unsigned char)(u >> (8 * i));
}
static int64_t dec_i64(const void *p) {
  const unsigned char *b = (const unsigned char *)p;
  uint64_t u = 0;
  int i;
  for (i = 0; i < 8; ++i) u |= (uint64_t)b[i] << (8 * i);
  return (int64_t)u;
}
static void enc_f64(unsigned char out[8], double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  enc_i64(out, (int64_t)u);
}
static double dec_f64(const void *p) {
  uint64_t u = (uint64_t)dec_i64(p);
  double v;
  memcpy(&v, &u, 8);
  return v;
}

/* Every failure must leave a non-empty message. */
#define CHECK_FAILS(call, expected)              \
  do {                                           \
    CHECK_RC(call, expected);                    \
    CHECK(rcs_last_error() != NULL);             \
    CHECK(rcs_last_error()[0] != '\0');          \
  } while (0)

static double stress_scale(void) {
  const char *s = getenv("RCUSTATE_STRESS_SCALE");
  double v = s != NULL && *s != '\0' ? atof(s) : 1.0;
  return v > 0 ? v : 1.0;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads an int64 through rcs_get; RCS_ENOTFOUND is returned as is. */
static int get_i64(rcs_store *s, uint32_t p, uint32_t t, const char *key, int64_t *out) {
  unsigned char buf[8];
  size_t len = 99;
  int rc = rcs_get(s, p, t, key, strlen(key), buf, sizeof buf, &len);
  if (rc == RCS_OK) {
    CHECK(len == 8);
    *out = dec_i64(buf);
  }
  return rc;
}

/* Reads a string value through rcs_get into buf (NUL-terminated). */
static int get_str(rcs_store *s, uint32_t p, uint32_t t, const char *key, char *buf, size_t cap) {
  size_t len = 0;
  int rc = rcs_get(s, p, t, key, strlen(key), buf, cap - 1, &len);
  if (rc == RCS_OK) buf[len] = '\0';
  return rc;
}

static int put_str(rcs_store *s, uint32_t p, uint32_t t, const char *key, const char *value) {
  return rcs_put(s, p, t, key, strlen(key), value, strlen(value));
}

static int merge_i64(rcs_store *s, uint32_t p, uint32_t t, const char *key, int64_t v) {
  unsigned char b[8];
  enc_i64(b, v);
  return rcs_merge(s, p, t, key, strlen(key), b, 8);
}

/* Runs rcs_get of (p, t, key) on another thread: what other threads see. */
struct other_get {
  rcs_store *store;
  uint32_t partition, table;
  const char *key;
  int rc;
  char value[64];
};
static void *other_get_main(void *arg) {
  struct other_get *g = (struct other_get *)arg;
  g->rc = get_str(g->store, g->partition, g->table, g->key, g->value, sizeof g->value);
  return NULL;
}
static int get_on_other_thread(rcs_store *s, uint32_t p, uint32_t t, const char *key,
                               char *value, size_t cap) {
  struct other_get g;
  pthread_t th;
  memset(&g, 0, sizeof g);
  g.store = s;
  g.partition = p;
  g.table = t;
  g.key = key;
  CHECK(pthread_create(&th, NULL, other_get_main, &g) == 0);
  CHECK(pthread_join(th, NULL) == 0);
  if (value != NULL && g.rc == RCS_OK) {
    snprintf(value, cap, "%s", g.value);
  }
  return g.rc;
}

/* The store most unit tests use. */
enum { T_COUNTS, T_MINS, T_MAXS, T_SUMS, T_LOG, T_NAMES, NUM_TABLES };
static const rcs_table_spec kTables[NUM_TABLES] = {
    {"counts", RCS_MERGE_ADD_I64, 16}, {"mins", RCS_MERGE_MIN_I64, 0},
    {"maxs", RCS_MERGE_MAX_I64, 0},    {"sums", RCS_MERGE_ADD_F64, 0},
    {"log", RCS_MERGE_APPEND, 0},      {"names", RCS_MERGE_NONE, 0},
};

static rcs_store *open_store_with(uint64_t max_publish_delay_ns) {
  rcs_options o;
  rcs_store *s = NULL;
  rcs_options_init(&o);
  o.tables = kTables;
  o.num_tables = NUM_TABLES;
  o.max_publish_delay_ns = max_publish_delay_ns;
  CHECK_OK(rcs_store_open(&o, &s));
  CHECK(s != NULL);
  return s;
}
static rcs_store *open_store(void) { return open_store_with(0); }

/* ------------------------------------------------------------------ unit tests */

static void test_version_and_errors(void) {
  static const int codes[] = {RCS_OK,       RCS_ENOTFOUND, RCS_EINVAL,   RCS_ENOMEM,
                              RCS_ENOPARTITION, RCS_EEXIST, RCS_ENOTABLE, RCS_ERANGE,
                              RCS_ESTATE,   RCS_EIO,       RCS_ECORRUPT, RCS_EINTERNAL};
  size_t i, j;
  char expect[32];
  /* The values are pinned: they are part of the ABI. */
  CHECK(RCS_OK == 0 && RCS_ENOTFOUND == -1 && RCS_EINVAL == -2 && RCS_ENOMEM == -3);
  CHECK(RCS_ENOPARTITION == -4 && RCS_EEXIST == -5 && RCS_ENOTABLE == -6 && RCS_ERANGE == -7);
  CHECK(RCS_ESTATE == -8 && RCS_EIO == -9 && RCS_ECORRUPT == -10 && RCS_EINTERNAL == -100);
  CHECK(RCS_MERGE_NONE == 0 && RCS_MERGE_ADD_I64 == 1 && RCS_MERGE_MIN_I64 == 2);
  CHECK(RCS_MERGE_MAX_I64 == 3 && RCS_MERGE_ADD_F64 == 4 && RCS_MERGE_APPEND == 5);

  CHECK(rcs_version_number() == RCS_VERSION_NUMBER);
  snprintf(expect, sizeof expect, "%d.%d.%d", RCS_VERSION_MAJOR, RCS_VERSION_MINOR,
           RCS_VERSION_PATCH);
  CHECK(strcmp(rcs_version_string(), expect) == 0);

  /* strerror: static, non-empty, distinct for every code; unknown codes too. */
  for (i = 0; i < sizeof codes / sizeof codes[0]; ++i) {
    const char *m = rcs_strerror(codes[i]);
    CHECK(m != NULL && m[0] != '\0');
    CHECK(strcmp(m, "unknown error") != 0);
    for (j = 0; j < i; ++j) CHECK(strcmp(m, rcs_strerror(codes[j])) != 0);
  }
  CHECK(strcmp(rcs_strerror(-11), "unknown error") == 0);
  CHECK(strcmp(rcs_strerror(1), "unknown error") == 0);
  CHECK(strcmp(rcs_strerror(-99), "unknown error") == 0);
  CHECK(rcs_last_error() != NULL);
}

/* The close rule: rcs_store_close inside a read section is refused with
 * RCS_ESTATE and changes nothing; the store stays open and usable and is
 * closed after the section. */
static void test_close_inside_read_section_refused(void) {
  rcs_store *s = open_store();
  uint64_t v = 0;
  char buf[8];
  CHECK_OK(rcs_partition_create(s, 0));
  CHECK_OK(put_str(s, 0, T_NAMES, "k", "v"));
  rcs_read_lock();
  rcs_read_lock();
  CHECK_FAILS(rcs_store_close(s), RCS_ESTATE);
  CHECK(strncmp(rcs_last_error(), "rcs_store_close: ", 17) == 0);
  CHECK_OK(rcs_read_unlock());
  CHECK_FAILS(rcs_store_close(s), RCS_ESTATE); /* still inside the outer one */
  /* Still open and usable inside the section: reads and writes work. */
  CHECK_OK(get_str(s, 0, T_NAMES, "k", buf, sizeof buf));
  CHECK(strcmp(buf, "v") == 0);
  CHECK_OK(put_str(s, 0, T_NAMES, "k2", "w"));
  CHECK_OK(rcs_read_unlock());
  /* And outside: commits and reads, then the close succeeds. */
  CHECK_OK(rcs_commit(s, 0, &v));
  CHECK(v == 1);
  CHECK_OK(get_on_other_thread(s, 0, T_NAMES, "k2", buf, sizeof buf));
  CHECK(strcmp(buf, "w") == 0);
  CHECK_OK(rcs_store_close(s));
  CHECK_OK(rcs_store_close(NULL));
}

static void *fresh_thread_last_error(void *arg) {
  const char **out = (const char **)arg;
  *out = rcs_last_error();
  return NULL;
}

static void test_last_error(void) {
  rcs_store *s = open_store();
  const char *m;
  const char *other = NULL;
  pthread_t th;
  CHECK_FAILS(rcs_partition_drop(s, 77), RCS_ENOPARTITION);
  m = rcs_last_error();
  CHECK(strstr(m, "rcs_partition_drop") != NULL); /* names the function */
  CHECK(strstr(m, "77") != NULL);                 /* and the partition */
  /* Thread-local: a fresh thread has its own (never NULL) message. */
  CHECK(pthread_create(&th, NULL, fresh_thread_last_error, &other) == 0);
  CHECK(pthread_join(th, NULL) == 0);
  CHECK(other != NULL);
  CHECK(strstr(rcs_last_error(), "rcs_partition_drop") != NULL);
  CHECK_FAILS(rcs_table_id(s, NULL, NULL), RCS_EINVAL);
  CHECK(strstr(rcs_last_error(), "rcs_table_id") != NULL);
  CHECK_OK(rcs_store_close(s));
}

static void test_options_and_open(void) {
  rcs_options o;
  rcs_store *s = NULL;
  rcs_table_spec bad[2];
  rcs_options_init(NULL); /* no-op */
  memset(&o, 0xab, sizeof o);
  rcs_options_init(&o);
  CHECK(o.struct_size == sizeof(rcs_options));
  CHECK(o.tables == NULL && o.num_tables == 0 && o.memory_budget_bytes == 0);
  CHECK(o.max_publish_delay_ns == 0);

  CHECK_FAILS(rcs_store_open(NULL, &s), RCS_EINVAL);
  CHECK_FAILS(rcs_store_open(&o, NULL), RCS_EINVAL);
  CHECK_FAILS(rcs_store_open(&o, &s), RCS_EINVAL); /* no tables */
  o.num_tables = 1;
  CHECK_FAILS(rcs_store_open(&o, &s), RCS_EINVAL); /* tables NULL */
  o.tables = kTables;
  o.struct_size = 0;
  CHECK_FAILS(rcs_store_open(&o, &s), RCS_EINVAL);
  o.struct_size = sizeof(rcs_options) + 8; /* a newer caller than the library */
  CHECK_FAILS(rcs_store_open(&o, &s), RCS_EINVAL);
  o.struct_size = sizeof(rcs_options);

  memcpy(bad, kTables, sizeof bad);
  o.tables = bad;
  o.num_tables = 2;
  bad[1].name = NULL;
  CHECK_FAILS(rcs_store_open(&o, &s), RCS_EINVAL);
  bad[1].name = "";
  CHECK_FAILS(rcs_store_open(&o, &s), RCS_EINVAL);
  bad[1].name = bad[0].name; /* duplicate */
  CHECK_FAILS(rcs_store_open(&o, &s), RCS_EINVAL);
  bad[1].name = "other";
  bad[1].merge_op = 99;
  CHECK_FAILS(rcs_store_open(&o, &s), RCS_EINVAL);
  bad[1].merge_op = -1;
  CHECK_FAILS(rcs_store_open(&o, &s), RCS_EINVAL);
  bad[1].merge_op = RCS_MERGE_APPEND;
  o.max_publish_delay_ns = UINT64_MAX;
  CHECK_FAILS(rcs_store_open(&o, &s), RCS_EINVAL);
  CHECK(s == NULL); /* outputs untouched on failure */

  o.max_publish_delay_ns = 0;
  o.memory_budget_bytes = 1 << 20;
  CHECK_OK(rcs_store_open(&o, &s));
  CHECK(s != NULL);
  CHECK_OK(rcs_store_close(s));
  CHECK_OK(rcs_store_close(NULL)); /* no-op */

  /* Group commit is a valid policy. */
  s = NULL;
  o.max_publish_delay_ns = 1000000;
  CHECK_OK(rcs_store_open(&o, &s));
  CHECK_OK(rcs_store_close(s));
}

static void test_tables(void) {
  rcs_store *s = open_store();
  uint32_t id = 99;
  size_t n = 0;
  size_t i;
  for (i = 0; i < NUM_TABLES; ++i) {
    CHECK_OK(rcs_table_id(s, kTables[i].name, &id));
    CHECK(id == i);
  }
  CHECK_FAILS(rcs_table_id(s, "nope", &id), RCS_ENOTABLE);
  CHECK_FAILS(rcs_table_id(NULL, "counts", &id), RCS_EINVAL);
  CHECK_FAILS(rcs_table_id(s, NULL, &id), RCS_EINVAL);
  CHECK_FAILS(rcs_table_id(s, "counts", NULL), RCS_EINVAL);
  CHECK_OK(rcs_table_count(s, &n));
  CHECK(n == NUM_TABLES);
  CHECK_FAILS(rcs_table_count(NULL, &n), RCS_EINVAL);
  CHECK_FAILS(rcs_table_count(s, NULL), RCS_EINVAL);
  CHECK_OK(rcs_store_close(s));
}

static void test_partitions(void) {
  rcs_store *s = open_store();
  uint64_t v = 99;
  uint32_t ids[4];
  size_t n = 0;
  CHECK_OK(rcs_partition_list(s, NULL, 0, &n));
  CHECK(n == 0);
  CHECK_OK(rcs_partition_create(s, 7));
  CHECK_OK(rcs_partition_create(s, 3));
  CHECK_OK(rcs_partition_create(s, UINT32_MAX));
  CHECK_FAILS(rcs_partition_create(s, 3), RCS_EEXIST);
  CHECK_FAILS(rcs_partition_create(NULL, 3), RCS_EINVAL);

  CHECK_FAILS(rcs_partition_list(s, ids, 2, &n), RCS_ERANGE);
  CHECK(n == 3);
  CHECK_FAILS(rcs_partition_list(s, NULL, 0, &n), RCS_ERANGE);
  CHECK(n == 3);
  CHECK_FAILS(rcs_partition_list(s, NULL, 4, &n), RCS_EINVAL);
  CHECK_FAILS(rcs_partition_list(NULL, ids, 4, &n), RCS_EINVAL);
  CHECK_FAILS(rcs_partition_list(s, ids, 4, NULL), RCS_EINVAL);
  CHECK_OK(rcs_partition_list(s, ids, 4, &n));
  CHECK(n == 3 && ids[0] == 3 && ids[1] == 7 && ids[2] == UINT32_MAX);

  CHECK_OK(rcs_version(s, 7, &v));
  CHECK(v == 0);
  CHECK_FAILS(rcs_version(s, 8, &v), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_version(NULL, 7, &v), RCS_EINVAL);
  CHECK_FAILS(rcs_version(s, 7, NULL), RCS_EINVAL);

  CHECK_OK(rcs_partition_drop(s, 7));
  CHECK_FAILS(rcs_partition_drop(s, 7), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_partition_drop(NULL, 3), RCS_EINVAL);
  CHECK_FAILS(rcs_version(s, 7, &v), RCS_ENOPARTITION);
  CHECK_OK(rcs_partition_list(s, ids, 4, &n));
  CHECK(n == 2 && ids[0] == 3 && ids[1] == UINT32_MAX);
  CHECK_OK(rcs_store_close(s)); /* drops the rest */
}

static void test_get_put_read_your_writes(void) {
  rcs_store *s = open_store();
  char buf[64];
  char other[64];
  size_t len = 0;
  uint64_t v = 0;
  CHECK_OK(rcs_partition_create(s, 1));

  CHECK_FAILS(get_str(s, 1, T_NAMES, "k", buf, sizeof buf), RCS_ENOTFOUND);
  CHECK_OK(put_str(s, 1, T_NAMES, "k", "hello"));
  /* This thread reads its own uncommitted write; other threads do not. */
  CHECK_OK(get_str(s, 1, T_NAMES, "k", buf, sizeof buf));
  CHECK(strcmp(buf, "hello") == 0);
  CHECK_RC(get_on_other_thread(s, 1, T_NAMES, "k", other, sizeof other), RCS_ENOTFOUND);
  CHECK_OK(rcs_version(s, 1, &v));
  CHECK(v == 0);
  CHECK_OK(rcs_commit(s, 1, &v));
  CHECK(v == 1);
  CHECK_OK(get_on_other_thread(s, 1, T_NAMES, "k", other, sizeof other));
  CHECK(strcmp(other, "hello") == 0);

  /* Buffer sizes: RCS_ERANGE reports the size needed and leaves buf alone. */
  memset(buf, 'x', sizeof buf);
  CHECK_FAILS(rcs_get(s, 1, T_NAMES, "k", 1, buf, 3, &len), RCS_ERANGE);
  CHECK(len == 5);
  CHECK(buf[0] == 'x');
  len = 0;
  CHECK_FAILS(rcs_get(s, 1, T_NAMES, "k", 1, NULL, 0, &len), RCS_ERANGE);
  CHECK(len == 5);
  CHECK_OK(rcs_get(s, 1, T_NAMES, "k", 1, buf, 5, &len));
  CHECK(len == 5 && memcmp(buf, "hello", 5) == 0);
  len = 7;
  CHECK_FAILS(rcs_get(s, 1, T_NAMES, "absent", 6, buf, sizeof buf, &len), RCS_ENOTFOUND);
  CHECK(len == 0);

  /* Empty values and the empty key (key NULL with length 0). */
  CHECK_OK(rcs_put(s, 1, T_NAMES, NULL, 0, NULL, 0));
  CHECK_OK(rcs_get(s, 1, T_NAMES, NULL, 0, NULL, 0, &len));
  CHECK(len == 0);
  CHECK_OK(rcs_put(s, 1, T_NAMES, "", 0, "e", 1));
  CHECK_OK(rcs_get(s, 1, T_NAMES, NULL, 0, buf, sizeof buf, &len));
  CHECK(len == 1 && buf[0] == 'e');
  /* Binary keys and values with NUL bytes. */
  CHECK_OK(rcs_put(s, 1, T_NAMES, "a\0b", 3, "x\0y", 3));
  CHECK_OK(rcs_get(s, 1, T_NAMES, "a\0b", 3, buf, sizeof buf, &len));
  CHECK(len == 3 && memcmp(buf, "x\0y", 3) == 0);
  CHECK_FAILS(rcs_get(s, 1, T_NAMES, "a", 1, buf, sizeof buf, &len), RCS_ENOTFOUND);
  CHECK_OK(rcs_commit(s, 1, NULL)); /* out_version may be NULL */

  /* Argument errors. */
  CHECK_FAILS(rcs_get(NULL, 1, T_NAMES, "k", 1, buf, sizeof buf, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_get(s, 1, T_NAMES, NULL, 1, buf, sizeof buf, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_get(s, 1, T_NAMES, "k", 1, NULL, 5, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_get(s, 1, T_NAMES, "k", 1, buf, sizeof buf, NULL), RCS_EINVAL);
  CHECK_FAILS(rcs_get(s, 2, T_NAMES, "k", 1, buf, sizeof buf, &len), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_get(s, 1, NUM_TABLES, "k", 1, buf, sizeof buf, &len), RCS_ENOTABLE);
  CHECK_FAILS(rcs_put(NULL, 1, T_NAMES, "k", 1, "v", 1), RCS_EINVAL);
  CHECK_FAILS(rcs_put(s, 1, T_NAMES, NULL, 1, "v", 1), RCS_EINVAL);
  CHECK_FAILS(rcs_put(s, 1, T_NAMES, "k", 1, NULL, 1), RCS_EINVAL);
  CHECK_FAILS(rcs_put(s, 2, T_NAMES, "k", 1, "v", 1), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_put(s, 1, NUM_TABLES, "k", 1, "v", 1), RCS_ENOTABLE);
  {
    /* Keys up to RCS_MAX_KEY_SIZE bytes; one more is refused. */
    char *big = (char *)calloc(RCS_MAX_KEY_SIZE + 1, 1);
    CHECK(big != NULL);
    CHECK_OK(rcs_put(s, 1, T_NAMES, big, RCS_MAX_KEY_SIZE, "v", 1));
    CHECK_FAILS(rcs_put(s, 1, T_NAMES, big, RCS_MAX_KEY_SIZE + 1, "v", 1), RCS_EINVAL);
    CHECK_FAILS(rcs_delete(s, 1, T_NAMES, big, RCS_MAX_KEY_SIZE + 1), RCS_EINVAL);
    CHECK_OK(rcs_get(s, 1, T_NAMES, big, RCS_MAX_KEY_SIZE, buf, sizeof buf, &len));
    free(big);
  }
  CHECK_OK(rcs_abort(s, 1));
  CHECK_OK(rcs_store_close(s));
}

struct read_ctx {
  int calls;
  char value[64];
  size_t len;
  rcs_store *store;
  int nested_rc;
};
static void read_cb(const void *value, size_t value_len, void *ctx) {
  struct read_ctx *c = (struct read_ctx *)ctx;
  ++c->calls;
  c->len = value_len;
  if (value_len < sizeof c->value) memcpy(c->value, value, value_len);
  /* fn runs inside a read section: grace-period calls are refused there. */
  CHECK(rcs_in_read_section() == 1);
  if (c->store != NULL) c->nested_rc = rcs_commit(c->store, 1, NULL);
}

static void test_read_callback(void) {
  rcs_store *s = open_store();
  struct read_ctx c;
  memset(&c, 0, sizeof c);
  CHECK_OK(rcs_partition_create(s, 1));
  CHECK_OK(put_str(s, 1, T_NAMES, "k", "value"));
  CHECK_OK(rcs_read(s, 1, T_NAMES, "k", 1, read_cb, &c));
  CHECK(c.calls == 1 && c.len == 5 && memcmp(c.value, "value", 5) == 0);
  CHECK_FAILS(rcs_read(s, 1, T_NAMES, "zz", 2, read_cb, &c), RCS_ENOTFOUND);
  CHECK(c.calls == 1); /* not called for an absent key */
  c.store = s;
  CHECK_OK(rcs_read(s, 1, T_NAMES, "k", 1, read_cb, &c));
  CHECK(c.nested_rc == RCS_ESTATE);
  CHECK(rcs_in_read_section() == 0);
  CHECK_FAILS(rcs_read(NULL, 1, T_NAMES, "k", 1, read_cb, &c), RCS_EINVAL);
  CHECK_FAILS(rcs_read(s, 1, T_NAMES, NULL, 1, read_cb, &c), RCS_EINVAL);
  CHECK_FAILS(rcs_read(s, 1, T_NAMES, "k", 1, NULL, &c), RCS_EINVAL);
  CHECK_FAILS(rcs_read(s, 9, T_NAMES, "k", 1, read_cb, &c), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_read(s, 1, 99, "k", 1, read_cb, &c), RCS_ENOTABLE);
  CHECK_OK(rcs_store_close(s));
}

static void test_read_sections_and_refs(void) {
  rcs_store *s = open_store();
  const void *ref = NULL;
  const void *ref2 = NULL;
  size_t len = 0;
  uint64_t v = 0;
  rcs_batch *b = NULL;
  const rcs_view *view = NULL;
  CHECK_OK(rcs_partition_create(s, 1));
  CHECK_OK(put_str(s, 1, T_NAMES, "k", "v1"));
  CHECK_OK(rcs_commit(s, 1, NULL));
  CHECK_OK(rcs_batch_create(s, &b));

  /* rcs_get_ref and rcs_view_current only inside a section. */
  CHECK(rcs_in_read_section() == 0);
  CHECK_FAILS(rcs_get_ref(s, 1, T_NAMES, "k", 1, &ref, &len), RCS_ESTATE);
  CHECK_FAILS(rcs_view_current(s, 1, &view), RCS_ESTATE);

  rcs_read_lock();
  CHECK(rcs_in_read_section() == 1);
  rcs_read_lock(); /* nests */
  CHECK_OK(rcs_get_ref(s, 1, T_NAMES, "k", 1, &ref, &len));
  CHECK(len == 2 && memcmp(ref, "v1", 2) == 0);
  CHECK_OK(rcs_read_unlock());
  CHECK(rcs_in_read_section() == 1);
  /* Still valid in the outer section. */
  CHECK(memcmp(ref, "v1", 2) == 0);
  CHECK_FAILS(rcs_get_ref(s, 1, T_NAMES, "zz", 2, &ref2, &len), RCS_ENOTFOUND);
  CHECK_FAILS(rcs_get_ref(NULL, 1, T_NAMES, "k", 1, &ref2, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_get_ref(s, 1, T_NAMES, NULL, 1, &ref2, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_get_ref(s, 1, T_NAMES, "k", 1, NULL, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_get_ref(s, 1, T_NAMES, "k", 1, &ref2, NULL), RCS_EINVAL);
  CHECK_FAILS(rcs_get_ref(s, 5, T_NAMES, "k", 1, &ref2, &len), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_get_ref(s, 1, 42, "k", 1, &ref2, &len), RCS_ENOTABLE);

  /* Read-your-writes through refs, including a pending merge. */
  CHECK_OK(merge_i64(s, 1, T_COUNTS, "c", 5));
  CHECK_OK(merge_i64(s, 1, T_COUNTS, "c", 6));
  CHECK_OK(rcs_get_ref(s, 1, T_COUNTS, "c", 1, &ref2, &len));
  CHECK(len == 8 && dec_i64(ref2) == 11);

  /* Views: one version, without this thread's uncommitted writes. */
  CHECK_OK(rcs_view_current(s, 1, &view));
  CHECK(rcs_view_version(view) == 1);
  CHECK_OK(rcs_view_get(view, T_NAMES, "k", 1, &ref2, &len));
  CHECK(len == 2 && memcmp(ref2, "v1", 2) == 0);
  CHECK_FAILS(rcs_view_get(view, T_COUNTS, "c", 1, &ref2, &len), RCS_ENOTFOUND);
  CHECK_OK(rcs_view_count(view, T_NAMES, &len));
  CHECK(len == 1);
  CHECK_FAILS(rcs_view_count(view, 99, &len), RCS_ENOTABLE);
  CHECK_FAILS(rcs_view_count(NULL, T_NAMES, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_view_count(view, T_NAMES, NULL), RCS_EINVAL);
  CHECK_FAILS(rcs_view_get(view, 99, "k", 1, &ref2, &len), RCS_ENOTABLE);
  CHECK_FAILS(rcs_view_get(NULL, T_NAMES, "k", 1, &ref2, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_view_get(view, T_NAMES, NULL, 1, &ref2, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_view_get(view, T_NAMES, "k", 1, NULL, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_view_get(view, T_NAMES, "k", 1, &ref2, NULL), RCS_EINVAL);
  CHECK_FAILS(rcs_view_current(s, 5, &view), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_view_current(NULL, 1, &view), RCS_EINVAL);
  CHECK_FAILS(rcs_view_current(s, 1, NULL), RCS_EINVAL);
  CHECK(rcs_view_version(NULL) == 0);

  /* Calls that may wait for a grace period are refused inside a section. */
  CHECK_FAILS(rcs_commit(s, 1, &v), RCS_ESTATE);
  CHECK_FAILS(rcs_flush(s, 1, &v), RCS_ESTATE);
  CHECK_FAILS(rcs_partition_drop(s, 1), RCS_ESTATE);
  CHECK_OK(rcs_batch_put(b, T_NAMES, "k", 1, "v2", 2)); /* filling a batch is fine */
  CHECK_FAILS(rcs_batch_commit(b, 1, &v), RCS_ESTATE);
  CHECK(rcs_batch_size(b) == 1); /* intact */
  CHECK_FAILS(rcs_thread_detach(), RCS_ESTATE); /* does nothing inside a section, says why */
  CHECK(strstr(rcs_last_error(), "rcs_thread_detach") != NULL);
  CHECK(rcs_in_read_section() == 1);
  /* Allowed inside: writes, aborts, partition create, stats, snapshots. */
  CHECK_OK(rcs_partition_create(s, 2));
  {
    rcs_snapshot *snap = NULL;
    struct rcs_partition_stats st;
    st.struct_size = sizeof st;
    CHECK_OK(rcs_partition_stats(s, 1, &st));
    CHECK_OK(rcs_snapshot_open(s, 1, &snap));
    rcs_snapshot_close(snap); /* never blocks: fine inside */
  }
  CHECK_OK(rcs_abort(s, 1));
  CHECK_OK(rcs_read_unlock());
  CHECK(rcs_in_read_section() == 0);

  /* An unbalanced unlock is refused and reported. */
  CHECK_FAILS(rcs_read_unlock(), RCS_ESTATE);
  CHECK(strstr(rcs_last_error(), "rcs_read_unlock") != NULL);
  CHECK(rcs_in_read_section() == 0);

  CHECK_OK(rcs_batch_commit(b, 1, &v));
  CHECK(v == 2);
  rcs_batch_destroy(b);
  CHECK_OK(rcs_store_close(s));
}

static void test_merges(void) {
  rcs_store *s = open_store();
  unsigned char b8[8];
  int64_t i64 = 0;
  char buf[64];
  size_t len = 0;
  const void *ref;
  CHECK_OK(rcs_partition_create(s, 0));

  /* add_i64: pending merges read back, resolve against the published value
   * at commit, and wrap on overflow. */
  CHECK_OK(merge_i64(s, 0, T_COUNTS, "a", 5));
  CHECK_OK(merge_i64(s, 0, T_COUNTS, "a", -2));
  CHECK_OK(get_i64(s, 0, T_COUNTS, "a", &i64));
  CHECK(i64 == 3);
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(merge_i64(s, 0, T_COUNTS, "a", 10));
  CHECK_OK(get_i64(s, 0, T_COUNTS, "a", &i64));
  CHECK(i64 == 13);
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(get_i64(s, 0, T_COUNTS, "a", &i64));
  CHECK(i64 == 13);
  enc_i64(b8, INT64_MAX);
  CHECK_OK(rcs_put(s, 0, T_COUNTS, "w", 1, b8, 8));
  CHECK_OK(merge_i64(s, 0, T_COUNTS, "w", 1));
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(get_i64(s, 0, T_COUNTS, "w", &i64));
  CHECK(i64 == INT64_MIN);

  /* min / max */
  CHECK_OK(merge_i64(s, 0, T_MINS, "m", 5));
  CHECK_OK(merge_i64(s, 0, T_MINS, "m", 3));
  CHECK_OK(merge_i64(s, 0, T_MAXS, "m", 5));
  CHECK_OK(merge_i64(s, 0, T_MAXS, "m", 3));
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(merge_i64(s, 0, T_MINS, "m", 7));
  CHECK_OK(merge_i64(s, 0, T_MINS, "m", -4));
  CHECK_OK(merge_i64(s, 0, T_MAXS, "m", 7));
  CHECK_OK(merge_i64(s, 0, T_MAXS, "m", -4));
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(get_i64(s, 0, T_MINS, "m", &i64));
  CHECK(i64 == -4);
  CHECK_OK(get_i64(s, 0, T_MAXS, "m", &i64));
  CHECK(i64 == 7);

  /* double add */
  enc_f64(b8, 1.5);
  CHECK_OK(rcs_merge(s, 0, T_SUMS, "d", 1, b8, 8));
  CHECK_OK(rcs_commit(s, 0, NULL));
  enc_f64(b8, 2.25);
  CHECK_OK(rcs_merge(s, 0, T_SUMS, "d", 1, b8, 8));
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(rcs_get(s, 0, T_SUMS, "d", 1, buf, sizeof buf, &len));
  CHECK(len == 8 && dec_f64(buf) == 3.75);

  /* append, including an empty operand and a merge after a put */
  CHECK_OK(rcs_merge(s, 0, T_LOG, "l", 1, "ab", 2));
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(rcs_merge(s, 0, T_LOG, "l", 1, "cd", 2));
  CHECK_OK(rcs_merge(s, 0, T_LOG, "l", 1, NULL, 0));
  CHECK_OK(get_str(s, 0, T_LOG, "l", buf, sizeof buf));
  CHECK(strcmp(buf, "abcd") == 0);
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(put_str(s, 0, T_LOG, "l", "x"));
  CHECK_OK(rcs_merge(s, 0, T_LOG, "l", 1, "y", 1));
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(get_str(s, 0, T_LOG, "l", buf, sizeof buf));
  CHECK(strcmp(buf, "xy") == 0);

  /* A merge after a delete starts from nothing. */
  CHECK_OK(rcs_delete(s, 0, T_COUNTS, "a", 1));
  CHECK_OK(merge_i64(s, 0, T_COUNTS, "a", 4));
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(get_i64(s, 0, T_COUNTS, "a", &i64));
  CHECK(i64 == 4);

  /* Wrong sizes are errors, never truncations, for merges and puts alike. */
  CHECK_FAILS(rcs_merge(s, 0, T_COUNTS, "a", 1, b8, 4), RCS_EINVAL);
  CHECK_FAILS(rcs_merge(s, 0, T_COUNTS, "a", 1, buf, 9), RCS_EINVAL);
  CHECK_FAILS(rcs_merge(s, 0, T_COUNTS, "a", 1, NULL, 0), RCS_EINVAL);
  CHECK_FAILS(rcs_merge(s, 0, T_MINS, "a", 1, b8, 7), RCS_EINVAL);
  CHECK_FAILS(rcs_merge(s, 0, T_MAXS, "a", 1, b8, 1), RCS_EINVAL);
  CHECK_FAILS(rcs_merge(s, 0, T_SUMS, "a", 1, b8, 4), RCS_EINVAL);
  CHECK_FAILS(rcs_put(s, 0, T_COUNTS, "a", 1, b8, 4), RCS_EINVAL);
  CHECK_FAILS(rcs_put(s, 0, T_SUMS, "a", 1, NULL, 0), RCS_EINVAL);
  /* No operator: merge refused. */
  CHECK_FAILS(rcs_merge(s, 0, T_NAMES, "a", 1, "x", 1), RCS_EINVAL);
  /* Bad arguments. */
  CHECK_FAILS(rcs_merge(NULL, 0, T_COUNTS, "a", 1, b8, 8), RCS_EINVAL);
  CHECK_FAILS(rcs_merge(s, 0, T_COUNTS, NULL, 1, b8, 8), RCS_EINVAL);
  CHECK_FAILS(rcs_merge(s, 0, T_COUNTS, "a", 1, NULL, 8), RCS_EINVAL);
  CHECK_FAILS(rcs_merge(s, 3, T_COUNTS, "a", 1, b8, 8), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_merge(s, 0, 77, "a", 1, b8, 8), RCS_ENOTABLE);
  /* Failures left the delta unchanged: nothing pending. */
  CHECK_OK(get_i64(s, 0, T_COUNTS, "a", &i64));
  CHECK(i64 == 4);

  /* Inside a read section the ref to a pending merge stays valid. */
  CHECK_OK(merge_i64(s, 0, T_COUNTS, "a", 1));
  rcs_read_lock();
  CHECK_OK(rcs_get_ref(s, 0, T_COUNTS, "a", 1, &ref, &len));
  CHECK_OK(merge_i64(s, 0, T_COUNTS, "a", 1));
  CHECK(len == 8 && dec_i64(ref) == 5);
  CHECK_OK(rcs_read_unlock());
  CHECK_OK(get_i64(s, 0, T_COUNTS, "a", &i64));
  CHECK(i64 == 6);
  CHECK_OK(rcs_abort(s, 0));
  CHECK_OK(get_i64(s, 0, T_COUNTS, "a", &i64));
  CHECK(i64 == 4);
  CHECK_OK(rcs_store_close(s));
}

static void test_delete_clear_abort(void) {
  rcs_store *s = open_store();
  char buf[64];
  size_t n = 0;
  uint64_t v = 0;
  CHECK_OK(rcs_partition_create(s, 0));
  CHECK_OK(put_str(s, 0, T_NAMES, "a", "1"));
  CHECK_OK(put_str(s, 0, T_NAMES, "b", "2"));
  CHECK_OK(put_str(s, 0, T_NAMES, "c", "3"));
  CHECK_OK(put_str(s, 0, T_LOG, "a", "keep"));
  CHECK_OK(rcs_commit(s, 0, &v));
  CHECK(v == 1);

  /* delete */
  CHECK_OK(rcs_delete(s, 0, T_NAMES, "a", 1));
  CHECK_OK(rcs_delete(s, 0, T_NAMES, "zz", 2)); /* absent: fine */
  CHECK_FAILS(get_str(s, 0, T_NAMES, "a", buf, sizeof buf), RCS_ENOTFOUND);
  CHECK_OK(get_on_other_thread(s, 0, T_NAMES, "a", buf, sizeof buf));
  CHECK_OK(rcs_commit(s, 0, &v));
  CHECK_RC(get_on_other_thread(s, 0, T_NAMES, "a", buf, sizeof buf), RCS_ENOTFOUND);
  CHECK_FAILS(rcs_delete(NULL, 0, T_NAMES, "a", 1), RCS_EINVAL);
  CHECK_FAILS(rcs_delete(s, 0, T_NAMES, NULL, 1), RCS_EINVAL);
  CHECK_FAILS(rcs_delete(s, 4, T_NAMES, "a", 1), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_delete(s, 0, 40, "a", 1), RCS_ENOTABLE);

  /* clear: the table is empty for this thread at once, writes after it
   * apply on top, other tables are untouched. */
  CHECK_OK(rcs_clear(s, 0, T_NAMES));
  CHECK_FAILS(get_str(s, 0, T_NAMES, "b", buf, sizeof buf), RCS_ENOTFOUND);
  CHECK_OK(put_str(s, 0, T_NAMES, "d", "4"));
  CHECK_OK(rcs_commit(s, 0, &v));
  CHECK(v == 3);
  CHECK_OK(rcs_partition_table_entries(s, 0, T_NAMES, &n));
  CHECK(n == 1);
  CHECK_OK(rcs_partition_table_entries(s, 0, T_LOG, &n));
  CHECK(n == 1);
  CHECK_OK(get_on_other_thread(s, 0, T_NAMES, "d", buf, sizeof buf));
  CHECK(strcmp(buf, "4") == 0);
  CHECK_FAILS(rcs_clear(NULL, 0, T_NAMES), RCS_EINVAL);
  CHECK_FAILS(rcs_clear(s, 4, T_NAMES), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_clear(s, 0, 40), RCS_ENOTABLE);

  /* abort */
  CHECK_OK(put_str(s, 0, T_NAMES, "e", "5"));
  CHECK_OK(rcs_clear(s, 0, T_LOG));
  CHECK_OK(rcs_abort(s, 0));
  CHECK_FAILS(get_str(s, 0, T_NAMES, "e", buf, sizeof buf), RCS_ENOTFOUND);
  CHECK_OK(get_str(s, 0, T_LOG, "a", buf, sizeof buf));
  CHECK_OK(rcs_abort(s, 0)); /* nothing pending: fine */
  CHECK_FAILS(rcs_abort(s, 4), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_abort(NULL, 0), RCS_EINVAL);

  /* Every commit creates a version, an empty one too. */
  CHECK_OK(rcs_commit(s, 0, &v));
  CHECK(v == 4);
  CHECK_FAILS(rcs_commit(s, 4, &v), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_commit(NULL, 0, &v), RCS_EINVAL);
  CHECK_OK(rcs_flush(s, 0, &v));
  CHECK(v == 4);
  CHECK_OK(rcs_flush(s, 0, NULL));
  CHECK_FAILS(rcs_flush(s, 4, &v), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_flush(NULL, 0, &v), RCS_EINVAL);

  CHECK_FAILS(rcs_partition_table_entries(s, 4, T_NAMES, &n), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_partition_table_entries(s, 0, 40, &n), RCS_ENOTABLE);
  CHECK_FAILS(rcs_partition_table_entries(NULL, 0, T_NAMES, &n), RCS_EINVAL);
  CHECK_FAILS(rcs_partition_table_entries(s, 0, T_NAMES, NULL), RCS_EINVAL);
  CHECK_OK(rcs_store_close(s));
}

static void test_drop_discards_uncommitted(void) {
  rcs_store *s = open_store();
  char buf[16];
  uint64_t v = 9;
  CHECK_OK(rcs_partition_create(s, 5));
  CHECK_OK(put_str(s, 5, T_NAMES, "k", "old"));
  CHECK_OK(rcs_partition_drop(s, 5));
  CHECK_FAILS(put_str(s, 5, T_NAMES, "k", "x"), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_commit(s, 5, &v), RCS_ENOPARTITION);
  /* A new partition with the same id starts empty, without the old delta. */
  CHECK_OK(rcs_partition_create(s, 5));
  CHECK_FAILS(get_str(s, 5, T_NAMES, "k", buf, sizeof buf), RCS_ENOTFOUND);
  CHECK_OK(rcs_commit(s, 5, &v));
  CHECK(v == 1);
  CHECK_FAILS(get_str(s, 5, T_NAMES, "k", buf, sizeof buf), RCS_ENOTFOUND);
  CHECK_OK(rcs_store_close(s));
}

/* Write handles: a round trip through rcs_writer_*, mixed with the
 * store-level calls of the same thread; a writer stays bound to its thread;
 * drop and re-create; a closed store. */
struct writer_on_other_thread {
  rcs_writer *w;
  int rc_put, rc_merge, rc_delete;
};
static void *writer_other_main(void *arg) {
  struct writer_on_other_thread *o = (struct writer_on_other_thread *)arg;
  unsigned char one[8];
  enc_i64(one, 1);
  o->rc_put = rcs_writer_put(o->w, "x", 1, "v", 1);
  o->rc_merge = rcs_writer_merge(o->w, "x", 1, one, 8);
  o->rc_delete = rcs_writer_delete(o->w, "x", 1);
  rcs_writer_close(NULL);
  return NULL;
}

static void test_writers(void) {
  rcs_store *s = open_store();
  rcs_writer *names = NULL, *counts = NULL, *log = NULL;
  unsigned char b8[8];
  char buf[16];
  int64_t n = 0;
  uint64_t v = 0;
  struct writer_on_other_thread other;
  pthread_t th;
  CHECK_OK(rcs_partition_create(s, 3));
  CHECK_OK(rcs_writer_open(s, 3, T_NAMES, &names));
  CHECK_OK(rcs_writer_open(s, 3, T_COUNTS, &counts));
  CHECK_OK(rcs_writer_open(s, 3, T_LOG, &log));
  CHECK(names != NULL && counts != NULL && log != NULL);

  CHECK_OK(rcs_writer_put(names, "a", 1, "1", 1));
  CHECK_OK(rcs_writer_put(names, "b", 1, "2", 1));
  CHECK_OK(rcs_writer_delete(names, "b", 1));
  CHECK_OK(rcs_writer_put(names, "", 0, NULL, 0)); /* empty key and value */
  enc_i64(b8, 5);
  CHECK_OK(rcs_writer_merge(counts, "c", 1, b8, 8));
  CHECK_OK(rcs_writer_merge(counts, "c", 1, b8, 8));
  CHECK_OK(merge_i64(s, 3, T_COUNTS, "c", 1)); /* the store's call writes the same delta */
  CHECK_OK(rcs_writer_merge(log, "l", 1, "ab", 2));
  CHECK_OK(rcs_writer_merge(log, "l", 1, "c", 1));
  /* Read-your-writes, invisible to other threads. */
  CHECK_OK(get_str(s, 3, T_NAMES, "a", buf, sizeof buf));
  CHECK(strcmp(buf, "1") == 0);
  CHECK_FAILS(get_str(s, 3, T_NAMES, "b", buf, sizeof buf), RCS_ENOTFOUND);
  CHECK_OK(get_i64(s, 3, T_COUNTS, "c", &n));
  CHECK(n == 11);
  CHECK_FAILS(get_on_other_thread(s, 3, T_NAMES, "a", NULL, 0), RCS_ENOTFOUND);

  /* Another thread may not use the writer (it writes this thread's delta). */
  memset(&other, 0, sizeof other);
  other.w = names;
  CHECK(pthread_create(&th, NULL, writer_other_main, &other) == 0);
  CHECK(pthread_join(th, NULL) == 0);
  CHECK(other.rc_put == RCS_ESTATE && other.rc_merge == RCS_ESTATE &&
        other.rc_delete == RCS_ESTATE);

  CHECK_OK(rcs_commit(s, 3, &v));
  CHECK(v == 1);
  CHECK_OK(get_on_other_thread(s, 3, T_NAMES, "a", buf, sizeof buf));
  CHECK(strcmp(buf, "1") == 0);
  CHECK_OK(get_str(s, 3, T_LOG, "l", buf, sizeof buf));
  CHECK(strcmp(buf, "abc") == 0);

  /* After a commit and after an abort the writers go on. */
  CHECK_OK(rcs_writer_merge(counts, "c", 1, b8, 8));
  CHECK_OK(rcs_abort(s, 3));
  CHECK_OK(rcs_writer_merge(counts, "c", 1, b8, 8));
  CHECK_OK(rcs_commit(s, 3, &v));
  CHECK(v == 2);
  CHECK_OK(get_i64(s, 3, T_COUNTS, "c", &n));
  CHECK(n == 16);

  /* Drop: the uncommitted write is gone; re-created: the writer writes it. */
  CHECK_OK(rcs_writer_put(names, "lost", 4, "x", 1));
  CHECK_OK(rcs_partition_drop(s, 3));
  CHECK_FAILS(rcs_writer_put(names, "z", 1, "z", 1), RCS_ENOPARTITION);
  CHECK(strstr(rcs_last_error(), "discarded") != NULL);
  CHECK_FAILS(rcs_writer_put(names, "z", 1, "z", 1), RCS_ENOPARTITION);
  CHECK_OK(rcs_partition_create(s, 3));
  CHECK_OK(rcs_writer_put(names, "z", 1, "z", 1));
  CHECK_OK(rcs_commit(s, 3, &v));
  CHECK(v == 1);
  CHECK_OK(get_str(s, 3, T_NAMES, "z", buf, sizeof buf));
  CHECK_FAILS(get_str(s, 3, T_NAMES, "lost", buf, sizeof buf), RCS_ENOTFOUND);

  /* A closed store: writers fail, and are still closed normally. */
  CHECK_OK(rcs_store_close(s));
  CHECK_FAILS(rcs_writer_put(names, "a", 1, "1", 1), RCS_ESTATE);
  CHECK_FAILS(rcs_writer_merge(counts, "c", 1, b8, 8), RCS_ESTATE);
  CHECK_FAILS(rcs_writer_delete(names, "a", 1), RCS_ESTATE);
  rcs_writer_close(names);
  rcs_writer_close(counts);
  rcs_writer_close(log);
  rcs_writer_close(NULL);
}

static void test_batches(void) {
  rcs_store *s = open_store();
  rcs_batch *b = NULL;
  char buf[64];
  int64_t i64 = 0;
  uint64_t v = 0;
  unsigned char b8[8];
  CHECK_OK(rcs_partition_create(s, 0));
  CHECK_OK(rcs_partition_create(s, 1));
  CHECK_FAILS(rcs_batch_create(NULL, &b), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_create(s, NULL), RCS_EINVAL);
  CHECK_OK(rcs_batch_create(s, &b));
  CHECK(rcs_batch_size(b) == 0);
  CHECK(rcs_batch_size(NULL) == 0);

  enc_i64(b8, 3);
  CHECK_OK(rcs_batch_put(b, T_NAMES, "a", 1, "A", 1));
  CHECK_OK(rcs_batch_put(b, T_NAMES, "b", 1, "B", 1));
  CHECK_OK(rcs_batch_delete(b, T_NAMES, "b", 1));
  CHECK_OK(rcs_batch_merge(b, T_COUNTS, "n", 1, b8, 8));
  CHECK_OK(rcs_batch_merge(b, T_COUNTS, "n", 1, b8, 8));
  CHECK_OK(rcs_batch_clear(b, T_LOG));
  CHECK(rcs_batch_size(b) == 4); /* a, b, n, cleared log */
  /* Invisible to everybody, its maker included, until committed. */
  CHECK_FAILS(get_str(s, 0, T_NAMES, "a", buf, sizeof buf), RCS_ENOTFOUND);

  /* Errors leave the batch unchanged. */
  CHECK_FAILS(rcs_batch_put(NULL, T_NAMES, "a", 1, "A", 1), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_put(b, T_NAMES, NULL, 1, "A", 1), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_put(b, T_NAMES, "a", 1, NULL, 1), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_put(b, 50, "a", 1, "A", 1), RCS_ENOTABLE);
  CHECK_FAILS(rcs_batch_put(b, T_COUNTS, "a", 1, "A", 1), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_delete(NULL, T_NAMES, "a", 1), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_delete(b, T_NAMES, NULL, 1), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_delete(b, 50, "a", 1), RCS_ENOTABLE);
  CHECK_FAILS(rcs_batch_merge(NULL, T_COUNTS, "n", 1, b8, 8), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_merge(b, T_COUNTS, NULL, 1, b8, 8), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_merge(b, T_COUNTS, "n", 1, NULL, 8), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_merge(b, T_COUNTS, "n", 1, b8, 3), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_merge(b, T_NAMES, "n", 1, "x", 1), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_merge(b, 50, "n", 1, b8, 8), RCS_ENOTABLE);
  CHECK_FAILS(rcs_batch_clear(NULL, T_LOG), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_clear(b, 50), RCS_ENOTABLE);
  CHECK_FAILS(rcs_batch_commit(NULL, 0, &v), RCS_EINVAL);
  CHECK_FAILS(rcs_batch_commit(b, 9, &v), RCS_ENOPARTITION);
  CHECK(rcs_batch_size(b) == 4);

  CHECK_OK(rcs_batch_commit(b, 0, &v));
  CHECK(v == 1);
  CHECK(rcs_batch_size(b) == 0); /* emptied */
  CHECK_OK(get_on_other_thread(s, 0, T_NAMES, "a", buf, sizeof buf));
  CHECK(strcmp(buf, "A") == 0);
  CHECK_RC(get_on_other_thread(s, 0, T_NAMES, "b", buf, sizeof buf), RCS_ENOTFOUND);
  CHECK_OK(get_i64(s, 0, T_COUNTS, "n", &i64));
  CHECK(i64 == 6);

  /* The same batch object may be committed to any partition. */
  CHECK_OK(rcs_batch_merge(b, T_COUNTS, "n", 1, b8, 8));
  CHECK_OK(rcs_batch_commit(b, 1, NULL));
  CHECK_OK(get_i64(s, 1, T_COUNTS, "n", &i64));
  CHECK(i64 == 3);
  CHECK_OK(get_i64(s, 0, T_COUNTS, "n", &i64));
  CHECK(i64 == 6);

  /* reset */
  CHECK_OK(rcs_batch_put(b, T_NAMES, "z", 1, "Z", 1));
  rcs_batch_reset(b);
  rcs_batch_reset(NULL);
  CHECK(rcs_batch_size(b) == 0);
  CHECK_OK(rcs_batch_commit(b, 0, &v)); /* empty commit: a version */
  CHECK(v == 2);
  CHECK_FAILS(get_str(s, 0, T_NAMES, "z", buf, sizeof buf), RCS_ENOTFOUND);

  /* A batch and the thread-local delta are independent. */
  CHECK_OK(put_str(s, 0, T_NAMES, "t", "local"));
  CHECK_OK(rcs_batch_put(b, T_NAMES, "t", 1, "batch", 5));
  CHECK_OK(rcs_batch_commit(b, 0, NULL));
  CHECK_OK(get_str(s, 0, T_NAMES, "t", buf, sizeof buf));
  CHECK(strcmp(buf, "local") == 0); /* own uncommitted write first */
  CHECK_OK(rcs_commit(s, 0, &v));
  CHECK(v == 4);
  CHECK_OK(get_on_other_thread(s, 0, T_NAMES, "t", buf, sizeof buf));
  CHECK(strcmp(buf, "local") == 0); /* last committer wins */

  rcs_batch_destroy(b);
  rcs_batch_destroy(NULL);
  CHECK_OK(rcs_store_close(s));
}

struct collect {
  int entries;
  int64_t sum;
  int stop_after;
};
static int collect_cb(const void *key, size_t key_len, const void *value, size_t value_len,
                      void *ctx) {
  struct collect *c = (struct collect *)ctx;
  CHECK(key != NULL || key_len == 0);
  CHECK(value_len == 8);
  c->sum += dec_i64(value);
  ++c->entries;
  return c->stop_after != 0 && c->entries >= c->stop_after ? 42 : 0;
}

static void test_snapshots(void) {
  rcs_store *s = open_store();
  rcs_snapshot *snap = NULL;
  rcs_snapshot *old = NULL;
  const void *val = NULL;
  size_t len = 0, n = 0;
  struct collect c;
  struct rcs_partition_stats st;
  char key[16];
  int i;
  CHECK_OK(rcs_partition_create(s, 0));
  for (i = 0; i < 10; ++i) {
    snprintf(key, sizeof key, "k%d", i);
    CHECK_OK(merge_i64(s, 0, T_COUNTS, key, i));
  }
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(rcs_snapshot_open(s, 0, &old));
  CHECK(rcs_snapshot_version(old) == 1);
  CHECK(rcs_snapshot_version(NULL) == 0);

  /* The pin outlives commits that overwrite, delete and clear. */
  CHECK_OK(merge_i64(s, 0, T_COUNTS, "k1", 100));
  CHECK_OK(rcs_delete(s, 0, T_COUNTS, "k2", 2));
  CHECK_OK(rcs_commit(s, 0, NULL));
  for (i = 0; i < 5; ++i) CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(rcs_clear(s, 0, T_COUNTS));
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(rcs_snapshot_get(old, T_COUNTS, "k1", 2, &val, &len));
  CHECK(len == 8 && dec_i64(val) == 1);
  CHECK_OK(rcs_snapshot_get(old, T_COUNTS, "k2", 2, &val, &len));
  CHECK(dec_i64(val) == 2);
  CHECK_OK(rcs_snapshot_count(old, T_COUNTS, &n));
  CHECK(n == 10);
  CHECK(rcs_snapshot_version(old) == 1);
  /* Pinned sets cannot be reused: the writer copied instead. */
  st.struct_size = sizeof st;
  CHECK_OK(rcs_partition_stats(s, 0, &st));
  CHECK(st.version == 8 && st.commits == 8);
  CHECK(st.standby_copies >= 1);

  /* A new pin sees the cleared table. */
  CHECK_OK(rcs_snapshot_open(s, 0, &snap));
  CHECK(rcs_snapshot_version(snap) == 8);
  CHECK_OK(rcs_snapshot_count(snap, T_COUNTS, &n));
  CHECK(n == 0);
  CHECK_FAILS(rcs_snapshot_get(snap, T_COUNTS, "k1", 2, &val, &len), RCS_ENOTFOUND);
  rcs_snapshot_close(snap);

  /* foreach: every entry, early stop returns fn's value. */
  memset(&c, 0, sizeof c);
  CHECK_OK(rcs_snapshot_foreach(old, T_COUNTS, collect_cb, &c));
  CHECK(c.entries == 10 && c.sum == 45);
  memset(&c, 0, sizeof c);
  c.stop_after = 3;
  CHECK_RC(rcs_snapshot_foreach(old, T_COUNTS, collect_cb, &c), 42);
  CHECK(c.entries == 3);
  memset(&c, 0, sizeof c);
  CHECK_OK(rcs_snapshot_foreach(old, T_NAMES, collect_cb, &c)); /* empty table */
  CHECK(c.entries == 0);

  /* Errors. */
  CHECK_FAILS(rcs_snapshot_open(NULL, 0, &snap), RCS_EINVAL);
  CHECK_FAILS(rcs_snapshot_open(s, 0, NULL), RCS_EINVAL);
  CHECK_FAILS(rcs_snapshot_open(s, 1, &snap), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_snapshot_get(NULL, T_COUNTS, "k1", 2, &val, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_snapshot_get(old, T_COUNTS, NULL, 2, &val, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_snapshot_get(old, T_COUNTS, "k1", 2, NULL, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_snapshot_get(old, T_COUNTS, "k1", 2, &val, NULL), RCS_EINVAL);
  CHECK_FAILS(rcs_snapshot_get(old, 60, "k1", 2, &val, &len), RCS_ENOTABLE);
  CHECK_FAILS(rcs_snapshot_get(old, T_COUNTS, "zz", 2, &val, &len), RCS_ENOTFOUND);
  CHECK_FAILS(rcs_snapshot_foreach(NULL, T_COUNTS, collect_cb, &c), RCS_EINVAL);
  CHECK_FAILS(rcs_snapshot_foreach(old, T_COUNTS, NULL, &c), RCS_EINVAL);
  CHECK_FAILS(rcs_snapshot_foreach(old, 60, collect_cb, &c), RCS_ENOTABLE);
  CHECK_FAILS(rcs_snapshot_count(NULL, T_COUNTS, &n), RCS_EINVAL);
  CHECK_FAILS(rcs_snapshot_count(old, T_COUNTS, NULL), RCS_EINVAL);
  CHECK_FAILS(rcs_snapshot_count(old, 60, &n), RCS_ENOTABLE);
  rcs_snapshot_close(NULL);

  /* The pin outlives the partition and the store. */
  CHECK_OK(rcs_partition_drop(s, 0));
  CHECK_OK(rcs_snapshot_get(old, T_COUNTS, "k9", 2, &val, &len));
  CHECK(dec_i64(val) == 9);
  CHECK_OK(rcs_store_close(s));
  CHECK_OK(rcs_snapshot_get(old, T_COUNTS, "k3", 2, &val, &len));
  CHECK(dec_i64(val) == 3);
  memset(&c, 0, sizeof c);
  CHECK_OK(rcs_snapshot_foreach(old, T_COUNTS, collect_cb, &c));
  CHECK(c.sum == 45);
  rcs_snapshot_close(old);
}

static void test_stats(void) {
  rcs_store *s = open_store();
  struct rcs_partition_stats st;
  rcs_snapshot *snap = NULL;
  int i;
  CHECK_OK(rcs_partition_create(s, 2));
  memset(&st, 0, sizeof st);
  /* The first 0.1 layout ends at num_tables: one byte less is too small;
   * exactly that size is filled up to num_tables, the newer field left. */
  st.struct_size = offsetof(struct rcs_partition_stats, num_tables) + sizeof(uint32_t) - 1;
  CHECK_FAILS(rcs_partition_stats(s, 2, &st), RCS_EINVAL);
  st.struct_size = offsetof(struct rcs_partition_stats, num_tables) + sizeof(uint32_t);
  st.backlog_publications = 12345;
  CHECK_OK(rcs_partition_stats(s, 2, &st));
  CHECK(st.num_tables == NUM_TABLES && st.backlog_publications == 12345);
  CHECK(st.struct_size == offsetof(struct rcs_partition_stats, num_tables) + sizeof(uint32_t));
  st.struct_size = 0;
  CHECK_FAILS(rcs_partition_stats(s, 2, &st), RCS_EINVAL);
  st.struct_size = sizeof st;
  CHECK_FAILS(rcs_partition_stats(NULL, 2, &st), RCS_EINVAL);
  CHECK_FAILS(rcs_partition_stats(s, 2, NULL), RCS_EINVAL);
  CHECK_FAILS(rcs_partition_stats(s, 3, &st), RCS_ENOPARTITION);
  CHECK_OK(rcs_partition_stats(s, 2, &st));
  CHECK(st.struct_size == sizeof st);
  CHECK(st.version == 0 && st.commits == 0 && st.committed_version == 0);
  CHECK(st.num_tables == NUM_TABLES && st.pins_alive == 0);
  CHECK(st.backlog_publications == 0);

  for (i = 0; i < 3; ++i) {
    CHECK_OK(put_str(s, 2, T_NAMES, "k", "v"));
    CHECK_OK(rcs_commit(s, 2, NULL));
  }
  CHECK_OK(rcs_snapshot_open(s, 2, &snap));
  CHECK_OK(rcs_partition_stats(s, 2, &st));
  CHECK(st.version == 3 && st.committed_version == 3 && st.commits == 3);
  CHECK(st.publications == 3);
  CHECK(st.pins_alive == 1);
  CHECK(st.approx_bytes > 0);
  rcs_snapshot_close(snap);
  CHECK_OK(rcs_partition_stats(s, 2, &st));
  CHECK(st.pins_alive == 0);
  /* The 0.1 layout with its later fields, without 0.2's catch_ups: left. */
  st.struct_size = offsetof(struct rcs_partition_stats, catch_ups);
  st.catch_ups = 777;
  CHECK_OK(rcs_partition_stats(s, 2, &st));
  CHECK(st.catch_ups == 777 && st.version == 3);
  st.struct_size = sizeof st;
  CHECK_OK(rcs_partition_stats(s, 2, &st));
  CHECK(st.catch_ups != 777);

  /* The whole store. */
  {
    struct rcs_store_stats ss;
    char small[8];
    char *text;
    size_t needed = 0, got = 0;
    memset(&ss, 0, sizeof ss);
    ss.struct_size = sizeof ss - 1;
    CHECK_FAILS(rcs_store_stats(s, &ss), RCS_EINVAL);
    ss.struct_size = sizeof ss;
    CHECK_FAILS(rcs_store_stats(NULL, &ss), RCS_EINVAL);
    CHECK_FAILS(rcs_store_stats(s, NULL), RCS_EINVAL);
    CHECK_OK(rcs_partition_create(s, 5));
    CHECK_OK(rcs_store_stats(s, &ss));
    CHECK(ss.struct_size == sizeof ss);
    CHECK(ss.partitions == 2 && ss.commits == 3 && ss.entries == 1);
    CHECK(ss.commit_latency_count == 3 && ss.publications == 3 && ss.pins_alive == 0);
    CHECK_OK(rcs_partition_drop(s, 2));
    CHECK_OK(rcs_store_stats(s, &ss));
    CHECK(ss.partitions == 1 && ss.commits == 3 && ss.entries == 0);

    CHECK_FAILS(rcs_metrics_text(NULL, NULL, 0, &needed), RCS_EINVAL);
    CHECK_FAILS(rcs_metrics_text(s, NULL, 1, &needed), RCS_EINVAL);
    CHECK_FAILS(rcs_metrics_text(s, small, sizeof small, NULL), RCS_EINVAL);
    memset(small, 'x', sizeof small);
    CHECK_FAILS(rcs_metrics_text(s, small, sizeof small, &needed), RCS_ERANGE);
    CHECK(needed > sizeof small && small[0] == 'x');
    text = (char *)malloc(needed);
    CHECK(text != NULL);
    CHECK_OK(rcs_metrics_text(s, text, needed, &got));
    CHECK(got == needed && strlen(text) == needed - 1);
    CHECK(strstr(text, "# TYPE rcustate_commits_total counter\nrcustate_commits_total 3\n"));
    CHECK(strstr(text, "rcustate_partition_version{partition=\"5\"} 0\n"));
    CHECK(!strstr(text, "partition=\"2\""));
    free(text);
  }
  /* Setting and resetting the log handler (what reaches it is tested in C++:
   * the library's only messages are fatal). */
  rcs_set_log_handler(NULL, NULL);
  CHECK_OK(rcs_store_close(s));
}

static void test_store_close_with_handles_alive(void) {
  rcs_store *s = open_store();
  rcs_batch *b = NULL;
  rcs_snapshot *snap = NULL;
  const void *val;
  size_t len;
  CHECK_OK(rcs_partition_create(s, 0));
  CHECK_OK(put_str(s, 0, T_NAMES, "k", "v"));
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK_OK(put_str(s, 0, T_NAMES, "pending", "p")); /* discarded by the close */
  CHECK_OK(rcs_batch_create(s, &b));
  CHECK_OK(rcs_batch_put(b, T_NAMES, "b", 1, "B", 1));
  CHECK_OK(rcs_snapshot_open(s, 0, &snap));
  CHECK_OK(rcs_store_close(s));
  /* The batch survives but refuses work; the snapshot still reads. */
  CHECK_FAILS(rcs_batch_put(b, T_NAMES, "c", 1, "C", 1), RCS_ESTATE);
  CHECK_FAILS(rcs_batch_delete(b, T_NAMES, "c", 1), RCS_ESTATE);
  CHECK_FAILS(rcs_batch_merge(b, T_LOG, "c", 1, "C", 1), RCS_ESTATE);
  CHECK_FAILS(rcs_batch_clear(b, T_NAMES), RCS_ESTATE);
  CHECK_FAILS(rcs_batch_commit(b, 0, NULL), RCS_ESTATE);
  CHECK_OK(rcs_snapshot_get(snap, T_NAMES, "k", 1, &val, &len));
  CHECK(len == 1 && memcmp(val, "v", 1) == 0);
  rcs_batch_destroy(b);
  rcs_snapshot_close(snap);
}

static void test_threads_attach_detach(void) {
  rcs_store *s = open_store();
  char buf[8];
  CHECK_OK(rcs_thread_attach());
  CHECK_OK(rcs_thread_attach()); /* idempotent */
  CHECK_OK(rcs_thread_detach());
  CHECK_OK(rcs_partition_create(s, 0));
  CHECK_OK(put_str(s, 0, T_NAMES, "k", "v"));
  CHECK_OK(rcs_commit(s, 0, NULL)); /* re-registers on use */
  CHECK_OK(get_str(s, 0, T_NAMES, "k", buf, sizeof buf));
  CHECK_OK(rcs_thread_detach());
  rcs_read_lock(); /* registers again */
  CHECK_OK(rcs_read_unlock());
  CHECK_OK(rcs_store_close(s));
}

/* Table readers: resolved once, one call per lookup, checked like the rest. */
static void test_table_readers(void) {
  rcs_store *s = open_store();
  rcs_reader *r = NULL, *missing = NULL;
  const void *val = NULL;
  size_t len = 0;
  CHECK_OK(rcs_partition_create(s, 0));
  CHECK_FAILS(rcs_reader_open(NULL, 0, T_NAMES, &r), RCS_EINVAL);
  CHECK_FAILS(rcs_reader_open(s, 0, T_NAMES, NULL), RCS_EINVAL);
  CHECK_FAILS(rcs_reader_open(s, 9, T_NAMES, &missing), RCS_ENOPARTITION);
  CHECK_FAILS(rcs_reader_open(s, 0, 99, &missing), RCS_ENOTABLE);
  CHECK(missing == NULL);
  CHECK_OK(rcs_reader_open(s, 0, T_NAMES, &r));
  CHECK_OK(put_str(s, 0, T_NAMES, "k", "v1"));
  CHECK_OK(rcs_commit(s, 0, NULL));
  /* Outside a section: refused, nothing read. */
  CHECK_FAILS(rcs_reader_get(r, "k", 1, &val, &len), RCS_ESTATE);
  rcs_read_lock();
  CHECK_FAILS(rcs_reader_get(NULL, "k", 1, &val, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_reader_get(r, NULL, 1, &val, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_reader_get(r, "k", 1, NULL, &len), RCS_EINVAL);
  CHECK_FAILS(rcs_reader_get(r, "k", 1, &val, NULL), RCS_EINVAL);
  CHECK_OK(rcs_reader_get(r, "k", 1, &val, &len));
  CHECK(len == 2 && memcmp(val, "v1", 2) == 0);
  CHECK_FAILS(rcs_reader_get(r, "nope", 4, &val, &len), RCS_ENOTFOUND);
  CHECK_OK(rcs_read_unlock());
  /* Own uncommitted writes are not shown; the next commit is. */
  CHECK_OK(put_str(s, 0, T_NAMES, "k", "v2"));
  rcs_read_lock();
  CHECK_OK(rcs_reader_get(r, "k", 1, &val, &len));
  CHECK(len == 2 && memcmp(val, "v1", 2) == 0);
  CHECK_OK(rcs_read_unlock());
  CHECK_OK(rcs_commit(s, 0, NULL));
  /* After the drop and the close it reads the partition's last snapshot. */
  CHECK_OK(rcs_partition_drop(s, 0));
  CHECK_OK(rcs_store_close(s));
  rcs_read_lock();
  CHECK_OK(rcs_reader_get(r, "k", 1, &val, &len));
  CHECK(len == 2 && memcmp(val, "v2", 2) == 0);
  CHECK_OK(rcs_read_unlock());
  rcs_reader_close(r);
  rcs_reader_close(NULL);
}

/* QSBR stores: who may read them, what the options and stats say. */
static void test_qsbr(void) {
  rcs_options o;
  rcs_store *s = NULL;
  const void *val;
  size_t len;
  char buf[8];
  uint64_t stalled = 99, oldest = 99, v = 0;
  struct rcs_partition_stats st;
  const rcs_view *view = NULL;
  rcs_options_init(&o);
  CHECK(o.read_flavor == RCS_READ_MEMB && o.stall_threshold_ns == 0);
  o.tables = kTables;
  o.num_tables = NUM_TABLES;
  o.read_flavor = 2;
  CHECK_FAILS(rcs_store_open(&o, &s), RCS_EINVAL);
  o.read_flavor = RCS_READ_QSBR;
  o.stall_threshold_ns = UINT64_MAX;
  CHECK_FAILS(rcs_store_open(&o, &s), RCS_EINVAL);
  o.stall_threshold_ns = 0;
  /* A caller built against the first 0.1 layout gets the defaults. */
  o.struct_size = offsetof(rcs_options, max_publish_delay_ns) + sizeof(uint64_t);
  CHECK_OK(rcs_store_open(&o, &s));
  rcs_read_lock();
  CHECK_OK(rcs_partition_create(s, 0));
  CHECK_OK(rcs_view_current(s, 0, &view)); /* a memb store */
  CHECK_OK(rcs_read_unlock());
  CHECK_OK(rcs_store_close(s));
  o.struct_size = sizeof o;

  CHECK_OK(rcs_store_open(&o, &s));
  CHECK_OK(rcs_partition_create(s, 0));
  CHECK_OK(put_str(s, 0, T_NAMES, "k", "v"));
  CHECK_OK(rcs_commit(s, 0, NULL));
  CHECK(rcs_thread_is_online() == 0);
  /* Offline, zero-copy reads are refused, even inside a memb section. */
  rcs_read_lock();
  CHECK_FAILS(rcs_get_ref(s, 0, T_NAMES, "k", 1, &val, &len), RCS_ESTATE);
  CHECK(strstr(rcs_last_error(), "rcs_thread_online") != NULL);
  CHECK_FAILS(rcs_view_current(s, 0, &view), RCS_ESTATE);
  CHECK_OK(rcs_read_unlock());
  /* Copying reads work anywhere. */
  CHECK_OK(get_str(s, 0, T_NAMES, "k", buf, sizeof buf));
  CHECK(strcmp(buf, "v") == 0);
  CHECK(rcs_thread_is_online() == 0);
  rcs_thread_online();
  CHECK(rcs_thread_is_online() == 1);
  CHECK_OK(rcs_get_ref(s, 0, T_NAMES, "k", 1, &val, &len));
  CHECK(len == 1 && memcmp(val, "v", 1) == 0);
  {
    rcs_reader *r = NULL;
    CHECK_OK(rcs_reader_open(s, 0, T_NAMES, &r));
    CHECK_OK(rcs_reader_get(r, "k", 1, &val, &len));
    CHECK(len == 1 && memcmp(val, "v", 1) == 0);
    rcs_thread_offline();
    rcs_read_lock(); /* a memb section does not protect a QSBR store */
    CHECK_FAILS(rcs_reader_get(r, "k", 1, &val, &len), RCS_ESTATE);
    CHECK(strstr(rcs_last_error(), "rcs_thread_online") != NULL);
    CHECK_OK(rcs_read_unlock());
    rcs_thread_online();
    rcs_reader_close(r);
  }
  rcs_quiescent_state();
  /* Commits are allowed online (a quiescent state for the thread). */
  CHECK_OK(put_str(s, 0, T_NAMES, "k", "w"));
  CHECK_OK(rcs_commit(s, 0, &v));
  CHECK_OK(put_str(s, 0, T_NAMES, "k", "x"));
  CHECK_OK(rcs_commit(s, 0, &v));
  CHECK(v == 3 && rcs_thread_is_online() == 1);
  CHECK_OK(rcs_get_ref(s, 0, T_NAMES, "k", 1, &val, &len));
  CHECK(len == 1 && memcmp(val, "x", 1) == 0);
  rcs_thread_offline();
  rcs_thread_offline(); /* idempotent */
  rcs_quiescent_state(); /* offline: a no-op */
  CHECK(rcs_thread_is_online() == 0);

  CHECK_FAILS(rcs_grace_stalls(NULL, &stalled, &oldest), RCS_EINVAL);
  CHECK_FAILS(rcs_grace_stalls(s, NULL, &oldest), RCS_EINVAL);
  CHECK_FAILS(rcs_grace_stalls(s, &stalled, NULL), RCS_EINVAL);
  CHECK_OK(rcs_grace_stalls(s, &stalled, &oldest));
  CHECK(stalled == 0 && oldest == 0);
  memset(&st, 0xab, sizeof st);
  st.struct_size = sizeof st;
  CHECK_OK(rcs_partition_stats(s, 0, &st));
  CHECK(st.stalled_grace_periods == 0 && st.grace_wait_age_ns == 0 && st.version == 3);
  CHECK_OK(rcs_store_close(s));
}

static void test_group_commit(void) {
  /* A long delay: batches may stay sealed, yet the committing thread reads
   * them and rcs_flush publishes them. */
  rcs_store *s = open_store_with((uint64_t)10 * 1000 * 1000 * 1000);
  char buf[16];
  char key[16];
  uint64_t v = 0, committed = 0;
  struct rcs_partition_stats st;
  int i;
  CHECK_OK(rcs_partition_create(s, 0));
  for (i = 1; i <= 20; ++i) {
    snprintf(key, sizeof key, "k%d", i);
    CHECK_OK(put_str(s, 0, T_NAMES, key, "v"));
    CHECK_OK(rcs_commit(s, 0, &committed));
    CHECK(committed == (uint64_t)i);
    CHECK_OK(get_str(s, 0, T_NAMES, key, buf, sizeof buf)); /* read-your-writes */
    CHECK_OK(rcs_version(s, 0, &v));
    CHECK(v <= committed);
  }
  st.struct_size = sizeof st;
  CHECK_OK(rcs_partition_stats(s, 0, &st));
  CHECK(st.committed_version == 20 && st.commits == 20 && st.version <= 20);
  CHECK(st.publications <= st.commits);
  CHECK_OK(rcs_flush(s, 0, &v));
  CHECK(v == 20);
  CHECK_OK(rcs_version(s, 0, &v));
  CHECK(v == 20);
  CHECK_OK(get_on_other_thread(s, 0, T_NAMES, "k20", buf, sizeof buf));
  CHECK_OK(rcs_store_close(s));
}

/* ------------------------------------------------------------------ stress
 *
 * One writer commits batches that set K keys of two tables to the same
 * counter, alternating an explicit batch and the thread-local delta; the
 * counter is the version the commit creates. Invariants checked on every read
 * by every reader:
 *  - through a view (one read section) and through a pinned snapshot: all 2K
 *    values equal the version of that view or snapshot (0: all absent), so a
 *    reader never sees part of a batch;
 *  - versions seen by a reader never decrease (views, pins, rcs_version);
 *  - rcs_get_ref inside one section: every value is >= the previous one
 *    (each call may see a newer version, never an older one), and a value
 *    obtained earlier in the section is unchanged at the end of it (no map
 *    is reused while a reader can see it);
 *  - rcs_get (copying): never decreases either. */

enum { STRESS_K = 32, STRESS_READERS = 3 };

struct stress {
  rcs_store *store;
  int stop;                 /* __atomic */
  uint64_t last_version;    /* __atomic: the writer's last committed version */
  double seconds;
  int qsbr;                 /* RCS_READ_QSBR store: readers stay online */
};

struct reader_result {
  struct stress *st;
  int index;
  long violations;
  long rounds;
  char first[256];
};

static void violation(struct reader_result *r, const char *what, uint64_t a, uint64_t b) {
  if (r->violations++ == 0) {
    snprintf(r->first, sizeof r->first, "reader %d: %s (%llu vs %llu)", r->index, what,
             (unsigned long long)a, (unsigned long long)b);
  }
}

static void stress_key(char *key, size_t cap, int i) { snprintf(key, cap, "key-%03d", i); }

static void *stress_writer(void *arg) {
  struct stress *st = (struct stress *)arg;
  rcs_batch *b = NULL;
  unsigned char val[8];
  char key[16];
  uint64_t version = 0, next;
  double end = now_seconds() + st->seconds;
  int i, round = 0;
  CHECK_OK(rcs_batch_create(st->store, &b));
  while (now_seconds() < end || round < 50) {
    next = version + 1;
    enc_i64(val, (int64_t)next);
    if (round % 2 == 0) {
      for (i = 0; i < STRESS_K; ++i) {
        stress_key(key, sizeof key, i);
        CHECK_OK(rcs_batch_put(b, 0, key, strlen(key), val, 8));
        CHECK_OK(rcs_batch_put(b, 1, key, strlen(key), val, 8));
      }
      CHECK_OK(rcs_batch_commit(b, 0, &version));
    } else {
      for (i = 0; i < STRESS_K; ++i) {
        stress_key(key, sizeof key, i);
        CHECK_OK(rcs_put(st->store, 0, 0, key, strlen(key), val, 8));
        CHECK_OK(rcs_put(st->store, 0, 1, key, strlen(key), val, 8));
      }
      CHECK_OK(rcs_commit(st->store, 0, &version));
    }
    CHECK(version == next);
    __atomic_store_n(&st->last_version, version, __ATOMIC_RELEASE);
    ++round;
  }
  CHECK_OK(rcs_flush(st->store, 0, NULL));
  rcs_batch_destroy(b);
  __atomic_store_n(&st->stop, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void *stress_reader(void *arg) {
  struct reader_result *r = (struct reader_result *)arg;
  struct stress *st = r->st;
  rcs_store *s = st->store;
  char key[16];
  uint64_t last_view = 0, last_pin = 0, last_published = 0, last_copy = 0;
  int i, t;
  /* QSBR: online for the whole run, a quiescent state where a memb reader
   * ends its section. */
  if (st->qsbr) rcs_thread_online();
  while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
    const rcs_view *view = NULL;
    const void *first_ref = NULL;
    size_t len;
    int64_t first_value = 0, prev = 0;
    uint64_t v, published;
    rcs_snapshot *snap = NULL;

    /* One read section: a view and a pass of rcs_get_ref. */
    if (!st->qsbr) rcs_read_lock();
    CHECK_OK(rcs_version(s, 0, &published));
    if (published < last_published) violation(r, "rcs_version went back", published, last_published);
    last_published = published;
    CHECK_OK(rcs_view_current(s, 0, &view));
    v = rcs_view_version(view);
    if (v < last_view) violation(r, "view version went back", v, last_view);
    last_view = v;
    for (t = 0; t < 2; ++t) {
      for (i = 0; i < STRESS_K; ++i) {
        const void *val = NULL;
        int rc;
        stress_key(key, sizeof key, i);
        rc = rcs_view_get(view, (uint32_t)t, key, strlen(key), &val, &len);
        if (v == 0) {
          if (rc != RCS_ENOTFOUND) violation(r, "key present at version 0", 0, 0);
        } else if (rc != RCS_OK || len != 8 || (uint64_t)dec_i64(val) != v) {
          violation(r, "torn view", rc == RCS_OK ? (uint64_t)dec_i64(val) : 0, v);
        }
      }
    }
    for (t = 0; t < 2; ++t) {
      for (i = 0; i < STRESS_K; ++i) {
        const void *val = NULL;
        int rc;
        stress_key(key, sizeof key, i);
        rc = rcs_get_ref(s, 0, (uint32_t)t, key, strlen(key), &val, &len);
        if (rc == RCS_ENOTFOUND) {
          if (prev != 0) violation(r, "get_ref: key vanished", 0, (uint64_t)prev);
          continue;
        }
        CHECK_OK(rc);
        CHECK(len == 8);
        if (dec_i64(val) < prev) violation(r, "get_ref went back", (uint64_t)dec_i64(val), (uint64_t)prev);
        prev = dec_i64(val);
        if (first_ref == NULL) {
          first_ref = val;
          first_value = prev;
        }
      }
    }
    if (first_ref != NULL && dec_i64(first_ref) != first_value) {
      violation(r, "a value changed under an open read section", (uint64_t)dec_i64(first_ref),
                (uint64_t)first_value);
    }
    if (st->qsbr) {
      rcs_quiescent_state();
    } else {
      CHECK_OK(rcs_read_unlock());
    }

    /* Copying reads, outside any section. */
    {
      int64_t x = 0;
      stress_key(key, sizeof key, (int)(r->rounds % STRESS_K));
      if (get_i64(s, 0, (uint32_t)(r->rounds & 1), key, &x) == RCS_OK) {
        if ((uint64_t)x < last_copy) violation(r, "rcs_get went back", (uint64_t)x, last_copy);
        last_copy = (uint64_t)x;
      }
    }

    /* A pinned snapshot every few rounds (pins cost the writer copies). */
    if (r->rounds % 8 == 0) {
      CHECK_OK(rcs_snapshot_open(s, 0, &snap));
      v = rcs_snapshot_version(snap);
      if (v < last_pin) violation(r, "pinned version went back", v, last_pin);
      last_pin = v;
      for (t = 0; t < 2; ++t) {
        size_t n = 0;
        CHECK_OK(rcs_snapshot_count(snap, (uint32_t)t, &n));
        if (n != (v == 0 ? 0 : (size_t)STRESS_K)) violation(r, "pinned count", n, STRESS_K);
        for (i = 0; i < STRESS_K && v != 0; ++i) {
          const void *val = NULL;
          stress_key(key, sizeof key, i);
          if (rcs_snapshot_get(snap, (uint32_t)t, key, strlen(key), &val, &len) != RCS_OK ||
              len != 8 || (uint64_t)dec_i64(val) != v) {
            violation(r, "torn pinned snapshot", 0, v);
          }
        }
      }
      rcs_snapshot_close(snap);
    }
    ++r->rounds;
  }
  if (st->qsbr) rcs_thread_offline();
  return NULL;
}

static void run_stress(uint64_t max_publish_delay_ns, int read_flavor, const char *name) {
  static const rcs_table_spec tables[2] = {{"a", RCS_MERGE_NONE, STRESS_K},
                                           {"b", RCS_MERGE_NONE, STRESS_K}};
  rcs_options o;
  struct stress st;
  struct reader_result results[STRESS_READERS];
  pthread_t writer, readers[STRESS_READERS];
  long total = 0, rounds = 0;
  int i;
  uint64_t v = 0;
  memset(&st, 0, sizeof st);
  rcs_options_init(&o);
  o.tables = tables;
  o.num_tables = 2;
  o.max_publish_delay_ns = max_publish_delay_ns;
  o.read_flavor = read_flavor;
  CHECK_OK(rcs_store_open(&o, &st.store));
  CHECK_OK(rcs_partition_create(st.store, 0));
  st.seconds = 0.5 * stress_scale();
  st.qsbr = read_flavor == RCS_READ_QSBR;
  for (i = 0; i < STRESS_READERS; ++i) {
    memset(&results[i], 0, sizeof results[i]);
    results[i].st = &st;
    results[i].index = i;
    CHECK(pthread_create(&readers[i], NULL, stress_reader, &results[i]) == 0);
  }
  CHECK(pthread_create(&writer, NULL, stress_writer, &st) == 0);
  CHECK(pthread_join(writer, NULL) == 0);
  for (i = 0; i < STRESS_READERS; ++i) {
    CHECK(pthread_join(readers[i], NULL) == 0);
    if (results[i].violations != 0) fprintf(stderr, "%s\n", results[i].first);
    total += results[i].violations;
    rounds += results[i].rounds;
  }
  CHECK_OK(rcs_version(st.store, 0, &v));
  printf("stress %s: %llu commits, %ld reader rounds, %ld violations\n", name,
         (unsigned long long)v, rounds, total);
  CHECK(v == __atomic_load_n(&st.last_version, __ATOMIC_ACQUIRE));
  CHECK(total == 0);
  CHECK(rounds > 0);
  CHECK_OK(rcs_store_close(st.store));
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
  int unit = argc < 2 || strcmp(argv[1], "unit") == 0;
  int stress = argc < 2 || strcmp(argv[1], "stress") == 0;
  if (unit) {
    test_close_inside_read_section_refused();
    test_version_and_errors();
    test_last_error();
    test_options_and_open();
    test_tables();
    test_partitions();
    test_get_put_read_your_writes();
    test_read_callback();
    test_read_sections_and_refs();
    test_merges();
    test_delete_clear_abort();
    test_drop_discards_uncommitted();
    test_batches();
    test_writers();
    test_snapshots();
    test_stats();
    test_store_close_with_handles_alive();
    test_threads_attach_detach();
    test_group_commit();
    test_table_readers();
    test_qsbr();
    printf("unit tests passed\n");
  }
  if (stress) {
    run_stress(0, RCS_READ_MEMB, "immediate");
    run_stress(5 * 1000 * 1000, RCS_READ_MEMB, "group_5ms");
    run_stress(50 * 1000, RCS_READ_MEMB, "group_50us");
    run_stress(0, RCS_READ_QSBR, "qsbr_immediate");
    run_stress(50 * 1000, RCS_READ_QSBR, "qsbr_group_50us");
  }
  return 0;
}
