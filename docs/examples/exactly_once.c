/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File: docs/examples/exactly_once.c -- exactly-once processing with
 * checkpoints, a changelog and source offsets kept in the state
 * (docs/durability.md).
 *
 * A host consumes an input stream (here an in-memory array of records, each
 * with its offset, standing for a Kafka partition) and counts records per
 * key (GROUP BY key, COUNT(*)). The trick that makes recovery exactly-once:
 * the offset of the next record to consume is written into a table of the
 * same partition, in the same batch as the counts it accounts for. A batch is
 * atomic, so any version of the partition holds counts and offset that agree;
 * restoring a version tells the host where to resume the input.
 *
 * Durability: every commit's changelog record is appended to a log file
 * before the commit becomes visible (write-ahead), and the partition is
 * checkpointed every few batches. After a crash the host restores the newest
 * checkpoint chain, replays the log records past the checkpoint's version,
 * reads the offset, and resumes the input there: no record is counted twice
 * or lost. (The log only needs the records past the newest checkpoint: a real
 * host trims it after each checkpoint; this one keeps it whole for brevity.)
 * The example crashes on purpose in the middle of a batch, recovers,
 * finishes the input, and checks the counts against an uninterrupted run
 * (exit status 1 if they differ).
 *
 * Build: cc -std=c11 exactly_once.c $(pkg-config --cflags --libs rcustate) */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, nftw, truncate */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rcustate/rcustate.h>

enum { COUNTS, OFFSETS };                 /* table ids: their index in the specs */
enum { INPUT = 5000, KEYS = 1000, BATCH = 100, CHECKPOINT_EVERY = 7, FULL_EVERY = 3 };
enum { CRASH_AT = 4321 };                 /* input offset at which the host "crashes" */
static const uint32_t P = 0;              /* the one partition of this example */
static const char OFFSET_KEY[] = "input"; /* the source whose offset we keep */

/* ---- The input: record i has offset i and a key. */
static void input_key(uint64_t offset, char *key, size_t len) {
  snprintf(key, len, "user-%04u", (unsigned)((offset * 7919u) % KEYS));
}

#define CHECK(call)                                                        \
  do {                                                                     \
    int rc_ = (call);                                                      \
    if (rc_ != RCS_OK) {                                                   \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,        \
              rcs_last_error());                                           \
      exit(1);                                                             \
    }                                                                      \
  } while (0)

/* ---- The changelog file: frames of [version: 8 bytes][length: 4 bytes][record].
 * The callback runs inside rcs_commit, before the batch is visible; a
 * non-zero return fails the commit (nothing is published, the batch is kept).
 * fflush hands the bytes to the kernel, which survives a crash of the
 * process; a host that must survive a power loss also calls fdatasync (once
 * per batch of commits, typically, together with committing its input). */
struct changelog_file {
  FILE *file;
  uint64_t last_version; /* the newest version logged: committed, so never to be lost */
};

static int append_to_log(void *ctx, uint32_t partition, uint64_t version, const void *record,
                         size_t record_len) {
  struct changelog_file *log = ctx;
  uint32_t len = (uint32_t)record_len;
  (void)partition;
  if (fwrite(&version, sizeof version, 1, log->file) != 1 ||
      fwrite(&len, sizeof len, 1, log->file) != 1 ||
      fwrite(record, 1, record_len, log->file) != record_len || fflush(log->file) != 0) {
    return -1;
  }
  log->last_version = version;
  return 0;
}

static rcs_store *open_store(void) {
  static const rcs_table_spec tables[] = {
      {"counts", RCS_MERGE_ADD_I64, KEYS},
      {"offsets", RCS_MERGE_NONE, 1},
  };
  rcs_options opts;
  rcs_store *s;
  rcs_options_init(&opts);
  opts.tables = tables;
  opts.num_tables = 2;
  CHECK(rcs_store_open(&opts, &s));
  return s;
}

/* Consumes the input from `offset` until its end (or until `crash_at`,
 * leaving a half-written batch behind), one commit per BATCH records, each
 * commit carrying the offset of the next record to consume. Checkpoints
 * every CHECKPOINT_EVERY commits: every FULL_EVERY-th one full, the others
 * incremental (only the keys changed since the previous checkpoint). */
static void consume(rcs_store *s, const char *dir, uint64_t offset, uint64_t crash_at) {
  uint64_t commits = 0;
  while (offset < INPUT) {
    uint64_t end = offset + BATCH < INPUT ? offset + BATCH : INPUT;
    int64_t one = 1;
    char key[16];
    for (; offset < end; ++offset) {
      if (offset == crash_at) return; /* the crash: this batch is never committed */
      input_key(offset, key, sizeof key);
      CHECK(rcs_merge(s, P, COUNTS, key, strlen(key), &one, sizeof one));
    }
    /* The offset goes into the same batch as the counts it accounts for.
     * (8 bytes in host order: rcustate runs on little-endian hosts only.) */
    CHECK(rcs_put(s, P, OFFSETS, OFFSET_KEY, strlen(OFFSET_KEY), &offset, sizeof offset));
    CHECK(rcs_commit(s, P, NULL));
    if (++commits % CHECKPOINT_EVERY == 0) {
      int full = (commits / CHECKPOINT_EVERY) % FULL_EVERY == 1;
      CHECK(rcs_checkpoint(s, P, dir, full ? RCS_CHECKPOINT_FULL : RCS_CHECKPOINT_INCREMENTAL,
                           NULL));
    }
  }
}

/* Replays the log records newer than `version` (the restored checkpoint's)
 * and returns the log's length up to its last complete frame, where the
 * host goes on appending. rcs_changelog_apply would skip older records by
 * itself (it is idempotent); skipping them here saves decoding them. */
static long replay_log(rcs_store *s, const char *path, uint64_t version) {
  FILE *in = fopen(path, "rb");
  long good = 0;
  void *record = NULL;
  uint64_t v;
  uint32_t len;
  if (in == NULL) return 0; /* no log yet: nothing committed since the checkpoint */
  while (fread(&v, sizeof v, 1, in) == 1 && fread(&len, sizeof len, 1, in) == 1) {
    void *grown = realloc(record, len ? len : 1);
    if (grown == NULL) {
      fprintf(stderr, "out of memory\n");
      exit(1);
    }
    record = grown;
    if (fread(record, 1, len, in) != len) break; /* a frame cut by the crash */
    if (v > version) CHECK(rcs_changelog_apply(s, P, record, len, NULL));
    good = ftell(in);
  }
  free(record);
  fclose(in);
  return good;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

int main(void) {
  char dir[] = "/tmp/rcustate-exactly-once-XXXXXX";
  char ckpt_dir[64], log_path[64], ref_dir[64];
  rcs_store *ref, *s;
  rcs_checkpoint_info info;
  struct changelog_file log = {NULL, 0};
  uint64_t version, resume, committed;
  size_t value_len;
  long good;
  int i, mismatches = 0;

  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(ckpt_dir, sizeof ckpt_dir, "%s/p-0", dir); /* one directory per partition */
  snprintf(log_path, sizeof log_path, "%s/p-0.log", dir);
  snprintf(ref_dir, sizeof ref_dir, "%s/ref", dir);

  /* 1. The reference: one uninterrupted run. */
  ref = open_store();
  CHECK(rcs_partition_create(ref, P));
  consume(ref, ref_dir, 0, UINT64_MAX);

  /* 2. The host runs with a changelog and checkpoints, then crashes: the
   *    store is gone with everything not in the checkpoints or the log. */
  s = open_store();
  CHECK(rcs_partition_create(s, P));
  log.file = fopen(log_path, "wb");
  if (log.file == NULL) {
    perror(log_path);
    return 1;
  }
  CHECK(rcs_changelog_set(s, append_to_log, &log));
  consume(s, ckpt_dir, 0, CRASH_AT);
  committed = log.last_version;
  CHECK(rcs_store_close(s));
  fclose(log.file);

  /* 3. Recovery in a new store: the newest checkpoint chain, then the log
   *    records past its version (without a callback: they are in the log). */
  s = open_store();
  info.struct_size = sizeof info;
  CHECK(rcs_restore(s, P, ckpt_dir, &info));
  good = replay_log(s, log_path, info.version);
  CHECK(rcs_version(s, P, &version));
  printf("restored version %llu from the checkpoints, %llu after replaying the log\n",
         (unsigned long long)info.version, (unsigned long long)version);
  if (version != committed) { /* every commit made before the crash is back */
    fprintf(stderr, "recovered version %llu, but %llu was committed\n",
            (unsigned long long)version, (unsigned long long)committed);
    return 1;
  }
  /* Drop a frame a crash may have cut short, then log the new commits after
   * the good ones. */
  if (truncate(log_path, good) != 0 || (log.file = fopen(log_path, "ab")) == NULL) {
    perror(log_path);
    return 1;
  }
  CHECK(rcs_changelog_set(s, append_to_log, &log));

  /* 4. Where to resume: the offset committed with the state. */
  CHECK(rcs_get(s, P, OFFSETS, OFFSET_KEY, strlen(OFFSET_KEY), &resume, sizeof resume,
                &value_len));
  printf("crashed at input offset %d, resuming at %llu\n", CRASH_AT, (unsigned long long)resume);
  consume(s, ckpt_dir, resume, UINT64_MAX);

  /* 5. Exactly once: every count equals the uninterrupted run's. */
  for (i = 0; i < KEYS; ++i) {
    char key[16];
    int64_t want = 0, got = 0;
    snprintf(key, sizeof key, "user-%04d", i);
    CHECK(rcs_get(ref, P, COUNTS, key, strlen(key), &want, sizeof want, &value_len));
    CHECK(rcs_get(s, P, COUNTS, key, strlen(key), &got, sizeof got, &value_len));
    if (got != want) {
      fprintf(stderr, "%s: %lld, expected %lld\n", key, (long long)got, (long long)want);
      ++mismatches;
    }
  }
  CHECK(rcs_store_close(s));
  CHECK(rcs_store_close(ref));
  fclose(log.file);
  nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  if (mismatches != 0) return 1;
  printf("%d keys, counts equal to the uninterrupted run\n", KEYS);
  return 0;
}
