/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File: rcustate/rcustate.h -- the rcustate C ABI.
 *
 * rcustate keeps partitioned keyed state in memory so that any number of
 * threads read it without locks while writers publish a new version of a
 * partition at every batch boundary. This header is the whole C interface; the
 * guide, with examples, is docs/c-api.md. Link with `pkg-config rcustate`.
 *
 *   rcs_table_spec t[] = {{"counts", RCS_MERGE_ADD_I64, 0}};
 *   rcs_options o;  rcs_store *s;  int64_t one = 1;  uint64_t version;
 *   rcs_options_init(&o);  o.tables = t;  o.num_tables = 1;
 *   rcs_store_open(&o, &s);
 *   rcs_partition_create(s, 0);
 *   rcs_merge(s, 0, 0, "clicks", 6, &one, sizeof one);   (little-endian host)
 *   rcs_commit(s, 0, &version);                            version 1, visible to all
 *   rcs_store_close(s);                                    outside any read section
 *
 * ---- Conventions
 *  - Every function returning int returns RCS_OK (0) or a negative RCS_E*
 *    code; on failure rcs_last_error() describes it: the message starts with
 *    the function's name ("rcs_commit: ...") and says what was wrong in terms
 *    of this interface. Out parameters come last and are written only on
 *    success unless a function says otherwise.
 *  - A NULL handle, NULL out parameter or NULL callback is RCS_EINVAL. A
 *    key, value or operand pointer may be NULL only when its length is 0.
 *    Keys are byte strings of at most RCS_MAX_KEY_SIZE bytes; values are byte
 *    strings of any length (the empty string is a value, distinct from absent).
 *  - Numeric values and operands (RCS_MERGE_*_I64, RCS_MERGE_ADD_F64 tables)
 *    are exactly 8 bytes, little-endian (int64_t / IEEE-754 double); any other
 *    size is RCS_EINVAL, for a merge operand and for a put alike.
 *  - The library never keeps a pointer the caller passed in after the call
 *    returns (names, keys and values are copied). Pointers it hands out say in
 *    their function's comment how long they stay valid.
 *  - No C++ exception crosses this interface: an allocation failure is
 *    RCS_ENOMEM, anything unexpected RCS_EINTERNAL.
 *
 * ---- Threads
 *  - Every function may be called from any thread, concurrently with any
 *    other, on the same store, except: rcs_store_close (once, when no other
 *    thread uses the store); one rcs_batch handle is used by one thread at a
 *    time; and rcs_snapshot_close of a snapshot must not run concurrently
 *    with any other use of that snapshot. The snapshot read functions
 *    (rcs_snapshot_get, _foreach, _count, _version) may be called on one
 *    snapshot from any number of threads at once. Different handles are
 *    independent.
 *  - Threads register with RCU automatically on first use and unregister when
 *    they exit; rcs_thread_attach/rcs_thread_detach do it explicitly.
 *  - Read sections (rcs_read_lock/rcs_read_unlock) are RCU read-side critical
 *    sections: short, nestable, per thread, never blocking writers' progress
 *    beyond delaying their grace periods. Calls that may wait for a grace
 *    period are refused inside one with RCS_ESTATE and change nothing:
 *    rcs_commit, rcs_batch_commit, rcs_flush, rcs_partition_drop,
 *    rcs_thread_detach and rcs_store_close (the store stays open and usable;
 *    close it after the outermost rcs_read_unlock). Everything else may be
 *    called inside a read section. (For C++ callers: Store::Close() returns
 *    kState there likewise, and destroying a Store inside a read section,
 *    which cannot report an error, aborts the process with a message.)
 *  - A thread sees its own uncommitted writes (rcs_put/rcs_delete/rcs_merge/
 *    rcs_clear) in rcs_get/rcs_read/rcs_get_ref; other threads see them only
 *    after rcs_commit. Snapshots never show uncommitted writes.
 *  - fork(): the child may go on using every store it inherited (the
 *    library's background threads are recreated there), provided fork() was
 *    not called inside a read section nor while another thread was inside a
 *    call of the library.
 */
#ifndef RCUSTATE_RCUSTATE_H_
#define RCUSTATE_RCUSTATE_H_

#include <stddef.h>
#include <stdint.h>

#define RCS_VERSION_MAJOR 0
#define RCS_VERSION_MINOR 2
#define RCS_VERSION_PATCH 0
#define RCS_VERSION_NUMBER (RCS_VERSION_MAJOR * 10000 + RCS_VERSION_MINOR * 100 + RCS_VERSION_PATCH)

/* Marks the exported functions: the library is built with hidden visibility
 * and a version script (src/version.map). */
#if defined(__GNUC__) || defined(__clang__)
#define RCS_API __attribute__((visibility("default")))
#else
#define RCS_API
#endif

/* Every entry point is noexcept for C++ callers: no exception crosses the ABI. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define RCS_NOEXCEPT noexcept
#else
#define RCS_NOEXCEPT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes. Values are pinned; new ones are only ever added. */
enum rcs_status {
  RCS_OK = 0,
  RCS_ENOTFOUND = -1,     /* the key is absent */
  RCS_EINVAL = -2,        /* invalid argument: NULL, size, name, operand, option */
  RCS_ENOMEM = -3,        /* allocation failed */
  RCS_ENOPARTITION = -4,  /* unknown or dropped partition */
  RCS_EEXIST = -5,        /* the partition already exists */
  RCS_ENOTABLE = -6,      /* unknown table id or name */
  RCS_ERANGE = -7,        /* the caller's buffer is too small */
  RCS_ESTATE = -8,        /* not allowed now: inside/outside a read section, store closed */
  RCS_EIO = -9,           /* I/O failure; a changelog callback refused a commit */
  RCS_ECORRUPT = -10,     /* corrupt checkpoint file or changelog record */
  RCS_EINTERNAL = -100    /* a bug of ours; rcs_last_error() says more */
};

/* Longest key accepted, in bytes (longer: RCS_EINVAL). */
#define RCS_MAX_KEY_SIZE ((size_t)64 * 1024)

/* ---- Handles (opaque). */
typedef struct rcs_store rcs_store;
typedef struct rcs_batch rcs_batch;
typedef struct rcs_snapshot rcs_snapshot;
typedef struct rcs_view rcs_view;

/* ---- Options */

/* Merge operators of a table. A table with one accepts rcs_merge; the merge
 * resolves at commit as value = existing (or nothing) (op) operand. */
enum rcs_merge_op {
  RCS_MERGE_NONE = 0, /* rcs_merge on this table is RCS_EINVAL */
  RCS_MERGE_ADD_I64,  /* signed 64-bit add, wrapping (two's complement) */
  RCS_MERGE_MIN_I64,  /* signed 64-bit min */
  RCS_MERGE_MAX_I64,  /* signed 64-bit max */
  RCS_MERGE_ADD_F64,  /* IEEE-754 double add */
  RCS_MERGE_APPEND    /* byte append: operand appended to the existing value */
};

typedef struct rcs_table_spec {
  const char *name;        /* non-empty, NUL-terminated, unique in the store; copied */
  int merge_op;            /* one of enum rcs_merge_op */
  size_t expected_entries; /* slots to reserve per partition (a hint; 0 = none) */
} rcs_table_spec;

typedef struct rcs_options {
  size_t struct_size;                /* sizeof(rcs_options); set by rcs_options_init */
  const rcs_table_spec *tables;      /* num_tables specs; table ids are their indexes */
  size_t num_tables;                 /* at least 1 */
  size_t memory_budget_bytes;        /* bound on dropped partitions awaiting reclamation; 0 = 256 MiB */
  /* Publication policy (docs/c-api.md). 0 (the default): every commit is
   * visible to all threads when it returns, waiting for a grace period if it
   * must. Positive: group commit -- a commit never waits for a grace period
   * (nor for another thread's publication to wait for one); its batch may
   * stay sealed (still atomic, already visible to the committing thread).
   * A sealed batch becomes visible to all threads at most this many ns after
   * the oldest unpublished batch of its partition was sealed, plus the end of
   * the read sections open at that moment (one grace period), plus the
   * publication itself -- whether or not anybody commits again (the
   * library's publisher thread sees to it); usually sooner, and at once
   * with rcs_flush. One exception bounds memory: a commit that finds more
   * sealed changes in its partition than max(65536, published entries / 64)
   * publishes them itself, waiting for a grace period as the default policy
   * does. */
  uint64_t max_publish_delay_ns;
  /* Added after the first 0.1 layout (a struct_size without them gets the
   * defaults): how readers are protected, RCS_READ_MEMB (0, the default:
   * rcs_read_lock sections) or RCS_READ_QSBR (threads online with
   * rcs_thread_online read with no section and announce quiescent states
   * with rcs_quiescent_state; see "QSBR stores" below). */
  int read_flavor;
  /* A wait for a grace period longer than this counts as stalled
   * (rcs_grace_stalls, rcs_partition_stats). 0: 1 s. */
  uint64_t stall_threshold_ns;
} rcs_options;

#define RCS_READ_MEMB 0
#define RCS_READ_QSBR 1

/* Sets opts->struct_size = sizeof(rcs_options) and every other field to its
 * default (no tables, budget 0, delay 0). Call it first, then fill in the
 * tables: fields added in later versions then get their defaults. NULL is a
 * no-op. Any thread; allowed inside a read section. */
RCS_API void rcs_options_init(rcs_options *opts) RCS_NOEXCEPT;

/* ---- Store */

/* Creates a store with the tables of `opts` and no partitions; *out receives
 * the handle, owned by the caller until rcs_store_close. The specs and names
 * are copied: `opts` may be freed when this returns. Any thread; allowed
 * inside a read section.
 * Errors: RCS_EINVAL (NULL argument; struct_size not one this library knows;
 * no tables; a NULL, empty or duplicate name; an unknown merge_op;
 * max_publish_delay_ns over INT64_MAX), RCS_ENOMEM. */
RCS_API int rcs_store_open(const rcs_options *opts, rcs_store **out) RCS_NOEXCEPT;

/* Drops every partition, waits until everything retired has been freed, and
 * frees the handle. Call it once, when no other thread uses the handle.
 * Snapshots and batches still open stay valid and must still be closed or
 * destroyed; batch operations on them return RCS_ESTATE from now on. Each
 * thread's uncommitted writes are discarded. NULL is a no-op (RCS_OK).
 * NOT inside a read section: there it returns RCS_ESTATE and changes nothing
 * (the close would wait for the caller's own section); the handle stays open
 * and usable, and must be closed after the outermost rcs_read_unlock.
 * Errors: RCS_ESTATE (inside a read section). */
RCS_API int rcs_store_close(rcs_store *store) RCS_NOEXCEPT;

/* The id of the table called `name` (NUL-terminated) in *out_table. Any
 * thread; allowed inside a read section; lock-free.
 * Errors: RCS_EINVAL (NULL argument), RCS_ENOTABLE. */
RCS_API int rcs_table_id(const rcs_store *store, const char *name,
                         uint32_t *out_table) RCS_NOEXCEPT;

/* The number of tables in *out_count (table ids are 0 .. count-1).
 * Any thread; allowed inside a read section. Errors: RCS_EINVAL. */
RCS_API int rcs_table_count(const rcs_store *store, size_t *out_count) RCS_NOEXCEPT;

/* ---- Partitions */

/* Creates an empty partition (version 0). Never waits for a grace period.
 * Any thread; allowed inside a read section.
 * Errors: RCS_EINVAL, RCS_EEXIST, RCS_ENOMEM. */
RCS_API int rcs_partition_create(rcs_store *store, uint32_t partition) RCS_NOEXCEPT;

/* Removes a partition. Readers already inside it finish undisturbed; its
 * memory is freed after a grace period; snapshots of it stay valid; every
 * thread's uncommitted writes to it are discarded. Any thread; NOT inside a
 * read section.
 * Errors: RCS_EINVAL, RCS_ENOPARTITION, RCS_ESTATE (inside a read section),
 * RCS_ENOMEM. */
RCS_API int rcs_partition_drop(rcs_store *store, uint32_t partition) RCS_NOEXCEPT;

/* Lists the partition ids in ascending order. On RCS_OK ids[0 .. *out_count)
 * hold them; if `capacity` is too small the result is RCS_ERANGE and
 * *out_count is the number needed (ids may be NULL when capacity is 0). Any
 * thread; allowed inside a read section. Errors: RCS_EINVAL, RCS_ERANGE,
 * RCS_ENOMEM. */
RCS_API int rcs_partition_list(const rcs_store *store, uint32_t *ids, size_t capacity,
                               size_t *out_count) RCS_NOEXCEPT;

/* The published version of a partition (the number of commits it contains;
 * 0 for a new one). Lock-free. Any thread; allowed inside a read section.
 * Errors: RCS_EINVAL, RCS_ENOPARTITION. */
RCS_API int rcs_version(rcs_store *store, uint32_t partition, uint64_t *out_version) RCS_NOEXCEPT;

/* Statistics of one partition. Like `struct stat` and stat(), the struct
 * shares its name with the function that fills it, so it has no typedef:
 * write `struct rcs_partition_stats`. The caller sets struct_size to the size
 * of its struct (sizeof(struct rcs_partition_stats) of its header); the
 * library fills the fields that fit and leaves struct_size as it is. */
struct rcs_partition_stats {
  size_t struct_size;
  uint64_t version;           /* the published version (what readers see) */
  uint64_t committed_version; /* commits accepted: version + sealed, unpublished ones */
  uint64_t commits;           /* commits accepted */
  uint64_t publications;      /* snapshots published (fewer than commits under group commit) */
  uint64_t commit_wait_ns;    /* time commits spent waiting for grace periods */
  uint64_t grace_waits;       /* commits that had to wait for a grace period */
  uint64_t standby_copies;    /* standby map sets rebuilt by copying because pinned */
  uint64_t approx_bytes;      /* both map sets, keys and values included */
  uint32_t pins_alive;        /* snapshots pinning the partition's current map sets */
  uint32_t num_tables;        /* tables in the store */
  /* Added after the first 0.1 layout (filled only when struct_size has room
   * for it, so that programs built against that layout keep working):
   * group commit's commits that found the sealed backlog past its bound and
   * published it themselves, waiting like the default policy. */
  uint64_t backlog_publications;
  /* Waits for a grace period on behalf of this partition longer than the
   * store's stall threshold (the one in progress counted once past it). */
  uint64_t stalled_grace_periods;
  /* How long the wait in progress for a grace period has lasted (0: none). */
  uint64_t grace_wait_age_ns;
  /* Added in 0.2: replays onto the standby done off the commit path. */
  uint64_t catch_ups;
};

/* Fills *out with the statistics of `partition`. Takes the partition's writer
 * mutex, so it waits for a commit in progress, also while that commit waits
 * for a grace period (rcs_store_stats never waits). Any thread; allowed
 * inside a read section.
 * Errors: RCS_EINVAL (NULL; out->struct_size smaller than this version's
 * struct), RCS_ENOPARTITION, RCS_ENOMEM. */
RCS_API int rcs_partition_stats(rcs_store *store, uint32_t partition,
                                struct rcs_partition_stats *out) RCS_NOEXCEPT;

/* The number of entries of one table in the published snapshot of a
 * partition (kept out of rcs_partition_stats because it is per table).
 * Lock-free. Any thread; allowed inside a read section.
 * Errors: RCS_EINVAL, RCS_ENOPARTITION, RCS_ENOTABLE. */
RCS_API int rcs_partition_table_entries(rcs_store *store, uint32_t partition, uint32_t table,
                                        size_t *out_entries) RCS_NOEXCEPT;

/* ---- Reads (lock-free, never blocking; a thread also sees its own
 *      uncommitted thread-local writes to the partition) */

/* Copies the value of `key` into buf. On RCS_OK *out_value_len is its length.
 * If buf_len is smaller the result is RCS_ERANGE, buf is untouched and
 * *out_value_len is the length needed (buf may be NULL when buf_len is 0: a
 * way to ask for the size). On RCS_ENOTFOUND *out_value_len is 0. Opens its own
 * read section. Any thread; allowed inside a read section.
 * Errors: RCS_ENOTFOUND, RCS_ERANGE, RCS_EINVAL, RCS_ENOPARTITION,
 * RCS_ENOTABLE. */
RCS_API int rcs_get(rcs_store *store, uint32_t partition, uint32_t table, const void *key,
                    size_t key_len, void *buf, size_t buf_len, size_t *out_value_len) RCS_NOEXCEPT;

/* Receives a value without copying it: valid only during the call. */
typedef void (*rcs_value_fn)(const void *value, size_t value_len, void *ctx);

/* Calls fn(value, value_len, ctx) once, inside a read section, if `key` is
 * present (the value pointer is valid only during the call and may be NULL
 * when value_len is 0); not at all if it is absent. fn must not call the
 * functions refused inside a read section (they return RCS_ESTATE; on a
 * QSBR store they are allowed and end the value's life: do not call them
 * from fn either), nor rcs_quiescent_state or rcs_thread_offline. Any
 * thread; allowed inside a read section. `ctx` is passed through untouched.
 * Errors: RCS_ENOTFOUND, RCS_EINVAL, RCS_ENOPARTITION, RCS_ENOTABLE. */
RCS_API int rcs_read(rcs_store *store, uint32_t partition, uint32_t table, const void *key,
                     size_t key_len, rcs_value_fn fn, void *ctx) RCS_NOEXCEPT;

/* Opens a read section on the calling thread. Sections nest: only the
 * outermost rcs_read_unlock ends it. While a section is open every pointer
 * from rcs_get_ref and rcs_view_* stays valid and unchanged, whatever writers
 * commit. Keep sections short: a commit that needs a grace period waits for
 * every section open when it asked. Cost: no lock, no atomic RMW, no
 * allocation; an outermost rcs_read_lock + rcs_read_unlock pair measured
 * 15-17 ns in the default build, ~9 ns in a build configured with
 * -Dinitial_exec_tls=true (such a library cannot be dlopen()ed). The first
 * call on a thread registers it with RCU. Any thread. */
RCS_API void rcs_read_lock(void) RCS_NOEXCEPT;
/* Closes the innermost section rcs_read_lock opened on this thread.
 * Errors: RCS_ESTATE (no section opened by rcs_read_lock is open on this
 * thread: a programming error; nothing is changed, and sections opened
 * otherwise, e.g. by rcs_read around its callback, are never closed by it). */
RCS_API int rcs_read_unlock(void) RCS_NOEXCEPT;
/* 1 if the calling thread is inside a read section (opened through this API
 * or the C++ one), else 0. */
RCS_API int rcs_in_read_section(void) RCS_NOEXCEPT;

/* Points *out_value at the value of `key` (*out_value_len bytes; the pointer
 * may be NULL when the length is 0) without copying. Only inside
 * rcs_read_lock: the value stays valid and unchanged until the outermost
 * rcs_read_unlock; it is owned by the library, do not free or write it.
 * Lock-free.
 * Errors: RCS_ESTATE (no read section open), RCS_ENOTFOUND,
 * RCS_EINVAL, RCS_ENOPARTITION, RCS_ENOTABLE. */
RCS_API int rcs_get_ref(rcs_store *store, uint32_t partition, uint32_t table, const void *key,
                        size_t key_len, const void **out_value, size_t *out_value_len) RCS_NOEXCEPT;

/* ---- Views: the published snapshot of a partition as seen inside one read
 *      section. rcs_get_ref looks up the latest published version at every
 *      call, so two calls may see two versions; a view is one version,
 *      consistent across keys and tables (a commit is seen whole or not at
 *      all), and costs nothing to take or drop: no allocation, no atomic RMW,
 *      nothing to free. Without the calling thread's uncommitted writes. */

/* Points *out_view at the published snapshot of `partition`. Only inside
 * rcs_read_lock; the view and every value obtained through it stay valid and
 * unchanged until the outermost rcs_read_unlock. Owned by the library.
 * Errors: RCS_ESTATE (no read section open), RCS_EINVAL, RCS_ENOPARTITION. */
RCS_API int rcs_view_current(rcs_store *store, uint32_t partition,
                             const rcs_view **out_view) RCS_NOEXCEPT;
/* The version of the view (0 for NULL). */
RCS_API uint64_t rcs_view_version(const rcs_view *view) RCS_NOEXCEPT;
/* Points *out_value at the value of `key` in the view, without copying;
 * valid as long as the view. The pointer may be NULL when *out_value_len is 0.
 * Errors: RCS_ENOTFOUND, RCS_EINVAL, RCS_ENOTABLE. */
RCS_API int rcs_view_get(const rcs_view *view, uint32_t table, const void *key, size_t key_len,
                         const void **out_value, size_t *out_value_len) RCS_NOEXCEPT;
/* The number of entries of `table` in the view. Errors: RCS_EINVAL, RCS_ENOTABLE. */
RCS_API int rcs_view_count(const rcs_view *view, uint32_t table,
                           size_t *out_count) RCS_NOEXCEPT;

/* ---- Table readers: a handle on one table of one partition, resolved once,
 *      for hot read paths. Each lookup is one call: a check that the thread
 *      may read, one acquire load of the published snapshot, one probe --
 *      no partition or table lookup. Two lookups may see two versions (each
 *      whole); use a view for several lookups that must see one. Without the
 *      calling thread's uncommitted writes. A reader keeps its partition's
 *      last snapshot readable after rcs_partition_drop or rcs_store_close
 *      (that memory is freed with the last reader of the partition); it
 *      may outlive its store. */
typedef struct rcs_reader rcs_reader;

/* Opens a reader; *out is the caller's until rcs_reader_close. Any thread,
 * inside or outside a read section.
 * Errors: RCS_EINVAL, RCS_ENOPARTITION, RCS_ENOTABLE, RCS_ESTATE (store
 * closed), RCS_ENOMEM. */
RCS_API int rcs_reader_open(rcs_store *store, uint32_t partition, uint32_t table,
                            rcs_reader **out) RCS_NOEXCEPT;
/* Points *out_value at the value of `key` in the published snapshot, without
 * copying: valid until the outermost rcs_read_unlock (QSBR store: until the
 * thread's next rcs_quiescent_state or rcs_thread_offline). Any number of
 * threads may use one reader at once.
 * Errors: RCS_ESTATE (the thread may not read: no read section open, or for
 * a QSBR store not online), RCS_ENOTFOUND, RCS_EINVAL. */
RCS_API int rcs_reader_get(const rcs_reader *reader, const void *key, size_t key_len,
                           const void **out_value, size_t *out_value_len) RCS_NOEXCEPT;
/* Closes a reader (NULL is fine). Never blocks; allowed inside a read
 * section, where values it returned die with it if it held the last
 * reference to a dropped partition. Must not run concurrently with a use of
 * the same reader. */
RCS_API void rcs_reader_close(rcs_reader *reader) RCS_NOEXCEPT;

/* ---- Pinned snapshots: one committed version of a partition, consistent
 *      across its tables, long-lived, holding no read section (writers never
 *      wait for it; they copy instead of reusing pinned memory). Without the
 *      calling thread's uncommitted writes. */

/* Pins the published version of `partition`; *out is owned by the caller
 * until rcs_snapshot_close. O(1). It stays valid after later commits, after
 * the partition is dropped and after rcs_store_close. Any thread; allowed
 * inside a read section.
 * Errors: RCS_EINVAL, RCS_ENOPARTITION, RCS_ENOMEM. */
RCS_API int rcs_snapshot_open(rcs_store *store, uint32_t partition,
                              rcs_snapshot **out) RCS_NOEXCEPT;

/* The version pinned (0 for a NULL snapshot). */
RCS_API uint64_t rcs_snapshot_version(const rcs_snapshot *snap) RCS_NOEXCEPT;

/* Points *out_value at the value of `key` in the snapshot, without copying; it
 * stays valid until rcs_snapshot_close (owned by the snapshot). The pointer
 * may be NULL when *out_value_len is 0.
 * Errors: RCS_ENOTFOUND, RCS_EINVAL, RCS_ENOTABLE. */
RCS_API int rcs_snapshot_get(const rcs_snapshot *snap, uint32_t table, const void *key,
                             size_t key_len, const void **out_value,
                             size_t *out_value_len) RCS_NOEXCEPT;

/* Receives one entry (pointers valid until the snapshot is closed); a
 * non-zero return stops the walk. */
typedef int (*rcs_entry_fn)(const void *key, size_t key_len, const void *value,
                            size_t value_len, void *ctx);

/* Calls fn for every entry of `table`, in unspecified order. Returns RCS_OK
 * after the last entry, or the non-zero value fn returned to stop (return
 * positive values to tell them from errors), or before the walk:
 * RCS_EINVAL, RCS_ENOTABLE. fn may call any function (the walk holds no read
 * section) except rcs_snapshot_close on this snapshot. */
RCS_API int rcs_snapshot_foreach(const rcs_snapshot *snap, uint32_t table, rcs_entry_fn fn,
                                 void *ctx) RCS_NOEXCEPT;

/* The number of entries of `table` in the snapshot.
 * Errors: RCS_EINVAL, RCS_ENOTABLE. */
RCS_API int rcs_snapshot_count(const rcs_snapshot *snap, uint32_t table,
                               size_t *out_count) RCS_NOEXCEPT;

/* Releases the pin; every pointer obtained from the snapshot dies. Never
 * blocks, so it is allowed anywhere, including inside a read section (for
 * the threads that may use a snapshot, see Threads at the top). NULL is a
 * no-op. */
RCS_API void rcs_snapshot_close(rcs_snapshot *snap) RCS_NOEXCEPT;

/* ---- Writes through the calling thread's delta for a partition: visible to
 *      this thread at once, to others after rcs_commit, discarded by
 *      rcs_abort. Repeated writes to one key compact. Any thread; allowed
 *      inside a read section. On error the delta is unchanged. */

/* Sets key -> value (last committer wins).
 * Errors: RCS_EINVAL (NULL, key too long, value not 8 bytes in a numeric
 * table), RCS_ENOPARTITION, RCS_ENOTABLE, RCS_ENOMEM. */
RCS_API int rcs_put(rcs_store *store, uint32_t partition, uint32_t table, const void *key,
                    size_t key_len, const void *value, size_t value_len) RCS_NOEXCEPT;
/* Removes key (absent keys are fine). Errors: as rcs_put. */
RCS_API int rcs_delete(rcs_store *store, uint32_t partition, uint32_t table, const void *key,
                       size_t key_len) RCS_NOEXCEPT;
/* Merges operand into key with the table's operator; merges of several
 * threads commute (append: in commit order).
 * Errors: as rcs_put, plus RCS_EINVAL for a table without operator or an
 * operand that is not 8 bytes for a numeric operator. */
RCS_API int rcs_merge(rcs_store *store, uint32_t partition, uint32_t table, const void *key,
                      size_t key_len, const void *operand, size_t operand_len) RCS_NOEXCEPT;
/* Empties the table at commit; later writes of this delta apply on top.
 * Errors: RCS_EINVAL, RCS_ENOPARTITION, RCS_ENOTABLE, RCS_ENOMEM. */
RCS_API int rcs_clear(rcs_store *store, uint32_t partition, uint32_t table) RCS_NOEXCEPT;

/* Commits the calling thread's delta for the partition atomically (all
 * tables at once) as the next version; *out_version receives it (out_version
 * may be NULL). Every commit, even an empty one, creates a version. Under the
 * default policy the version is published when this returns (it may wait for
 * a grace period); under group commit it may be published later (see
 * rcs_options, rcs_flush), and this thread reads it meanwhile. Commits to one
 * partition serialize; several threads may commit to it. Any thread; NOT
 * inside a read section. On error the delta is
 * kept, except for a dropped partition (then it is discarded).
 * Errors: RCS_EINVAL, RCS_ENOPARTITION, RCS_ESTATE (inside a read section),
 * RCS_ENOMEM. */
RCS_API int rcs_commit(rcs_store *store, uint32_t partition, uint64_t *out_version) RCS_NOEXCEPT;

/* Makes every committed batch of the partition visible to all threads now
 * and puts the published version in *out_version (may be NULL). Under group
 * commit some may be sealed and unpublished; under the default policy this is
 * a no-op. May wait for a grace period. Any thread; NOT inside a read section.
 * Errors: RCS_EINVAL, RCS_ENOPARTITION, RCS_ESTATE (inside a read section),
 * RCS_ENOMEM. */
RCS_API int rcs_flush(rcs_store *store, uint32_t partition, uint64_t *out_version) RCS_NOEXCEPT;

/* Discards the calling thread's uncommitted delta for the partition. Any
 * thread; allowed inside a read section.
 * Errors: RCS_EINVAL, RCS_ENOPARTITION. */
RCS_API int rcs_abort(rcs_store *store, uint32_t partition) RCS_NOEXCEPT;

/* ---- Explicit batches: bound to a store, invisible to everybody (their
 *      maker included) until committed, emptied by a successful commit and
 *      left intact by a failed one. One thread at a time per batch. The
 *      batch functions are allowed inside a read section, except
 *      rcs_batch_commit. On error the batch is unchanged. */

/* Creates an empty batch for `store`; *out is owned by the caller until
 * rcs_batch_destroy. It may outlive the store (then its operations return
 * RCS_ESTATE). Errors: RCS_EINVAL, RCS_ENOMEM. */
RCS_API int rcs_batch_create(rcs_store *store, rcs_batch **out) RCS_NOEXCEPT;
/* Errors of the four: RCS_EINVAL (NULL, key too long, bad value or operand
 * size, merge on a table without operator), RCS_ENOTABLE, RCS_ESTATE (store
 * closed), RCS_ENOMEM. */
RCS_API int rcs_batch_put(rcs_batch *b, uint32_t table, const void *key, size_t key_len,
                          const void *value, size_t value_len) RCS_NOEXCEPT;
RCS_API int rcs_batch_delete(rcs_batch *b, uint32_t table, const void *key,
                             size_t key_len) RCS_NOEXCEPT;
RCS_API int rcs_batch_merge(rcs_batch *b, uint32_t table, const void *key, size_t key_len,
                            const void *operand, size_t operand_len) RCS_NOEXCEPT;
RCS_API int rcs_batch_clear(rcs_batch *b, uint32_t table) RCS_NOEXCEPT;
/* Commits the batch to `partition` (any partition of its store) as the
 * next version, *out_version receives it (may be NULL), and empties the
 * batch. Published as rcs_commit's are. NOT inside a read section; may wait
 * for a grace period.
 * Errors: RCS_EINVAL, RCS_ENOPARTITION, RCS_ESTATE (inside a read section,
 * store closed), RCS_ENOMEM. */
RCS_API int rcs_batch_commit(rcs_batch *b, uint32_t partition, uint64_t *out_version) RCS_NOEXCEPT;
/* Drops every change of the batch. NULL is a no-op. */
RCS_API void rcs_batch_reset(rcs_batch *b) RCS_NOEXCEPT;
/* Distinct keys changed plus tables cleared (0 for NULL). */
RCS_API size_t rcs_batch_size(const rcs_batch *b) RCS_NOEXCEPT;
/* Frees the batch and its uncommitted changes. Allowed anywhere. NULL is a
 * no-op. */
RCS_API void rcs_batch_destroy(rcs_batch *b) RCS_NOEXCEPT;

/* ---- Durability: checkpoints, restore, changelog, replay
 * (docs/durability.md: the formats, the guarantees, the recovery procedure). */

#define RCS_CHECKPOINT_FULL 0
#define RCS_CHECKPOINT_INCREMENTAL 1 /* changes since the newest checkpoint in dir; full if none */

typedef struct rcs_checkpoint_info {
  size_t struct_size;    /* set by the caller to sizeof(rcs_checkpoint_info) */
  uint32_t partition;
  uint64_t version;      /* partition version the checkpoint (or chain) holds */
  uint64_t base_version; /* 0 for a full checkpoint, else the version it extends */
  uint64_t bytes;        /* bytes written (checkpoint) or read (restore) */
  uint64_t entries;      /* entries written (incremental: changed or deleted keys) or restored */
} rcs_checkpoint_info;

/* Writes a checkpoint of the partition's newest published version into
 * `dir`, a directory holding this partition's checkpoints (created if
 * missing), while writers and readers go on; never a thread's uncommitted
 * writes. RCS_CHECKPOINT_INCREMENTAL writes only what changed since the
 * newest checkpoint in `dir` if this store wrote that checkpoint (or
 * restored from it) and tracked the partition since, else a full one; if
 * nothing was committed since, nothing is written (info->bytes is 0).
 * Written to a temporary name, fsynced, renamed, the directory fsynced: a
 * crash at any instant leaves the newest complete chain restorable. A full
 * checkpoint deletes the older chains once it is durable. Checkpoints of
 * one partition serialize. `info` may be NULL. NOT inside a read section.
 * Errors: RCS_EINVAL (NULL store or dir, unknown flags, info->struct_size
 * too small), RCS_ENOPARTITION, RCS_EIO (nothing written: the previous
 * chain intact, the store unchanged; the message names the file and the
 * system's error), RCS_ECORRUPT (the newest file of `dir` is damaged),
 * RCS_ESTATE (inside a read section, store closed), RCS_ENOMEM. */
RCS_API int rcs_checkpoint(rcs_store *s, uint32_t partition, const char *dir, int flags,
                           rcs_checkpoint_info *info) RCS_NOEXCEPT;
/* Creates `partition` from the newest complete chain in `dir`, built
 * off-line and published atomically at the chain's version: rcs_version
 * returns exactly that version and the next commit makes version + 1. On any
 * error the partition does not exist afterwards. `info` may be NULL. NOT
 * inside a read section.
 * Errors: RCS_EINVAL (NULL argument, info->struct_size too small, the
 * checkpoint's tables or merge operators differ from the store's: the
 * message names the difference), RCS_EEXIST, RCS_ECORRUPT (a truncated or
 * damaged file, another format version, another partition's file: the
 * message names the file), RCS_EIO (no checkpoint in `dir`, a read error),
 * RCS_ESTATE, RCS_ENOMEM. */
RCS_API int rcs_restore(rcs_store *s, uint32_t partition, const char *dir,
                        rcs_checkpoint_info *info) RCS_NOEXCEPT;

/* Called once per commit of every partition, in version order per
 * partition, before the batch becomes visible to other threads, with the
 * commit's changelog record (record_len bytes, valid during the call only).
 * Return 0 to accept; any other value fails the commit with RCS_EIO:
 * nothing is published and the thread's delta (or the batch) is kept, so
 * the caller may retry or abort. Runs on the committing thread (inside the
 * publication, or under group commit when the batch is sealed) with the
 * partition's commit locks held:
 * it must not call rcs_commit, rcs_batch_commit, rcs_flush, rcs_checkpoint,
 * rcs_restore, rcs_changelog_apply, rcs_partition_drop, rcs_partition_stats
 * or rcs_store_close on this store (rcs_store_stats is fine); it should
 * return quickly (appending to a log is the
 * intended use). */
typedef int (*rcs_changelog_fn)(void *ctx, uint32_t partition, uint64_t version,
                                const void *record, size_t record_len);
/* Sets the changelog callback (NULL: none) for commits that start after it
 * returns. Under group commit the first commits after it may wait for a
 * publication in progress (once). Errors: RCS_EINVAL (NULL store),
 * RCS_ESTATE (store closed), RCS_ENOMEM. */
RCS_API int rcs_changelog_set(rcs_store *s, rcs_changelog_fn fn, void *ctx) RCS_NOEXCEPT;
/* Applies one changelog record (from this store or another with the same
 * tables) as one atomic commit of `partition`: a record whose version is
 * not above the partition's committed version is skipped (RCS_OK); the
 * next version is applied; a later one is RCS_ESTATE naming the expected
 * and the given version. *out_version receives the partition's committed
 * version afterwards (may be NULL). The changelog callback, if set, is
 * called for it like for any commit. NOT inside a read section.
 * Errors: RCS_EINVAL (NULL argument, a record of another partition or of
 * other tables), RCS_ECORRUPT (malformed record), RCS_ENOPARTITION,
 * RCS_ESTATE, RCS_EIO (the callback refused), RCS_ENOMEM. */
RCS_API int rcs_changelog_apply(rcs_store *s, uint32_t partition, const void *record,
                                size_t record_len, uint64_t *out_version) RCS_NOEXCEPT;

/* ---- Threads */

/* Registers the calling thread with RCU now rather than on first use.
 * Idempotent. Allowed inside a read section. Errors: none today (RCS_OK);
 * RCS_EINTERNAL is reserved. */
RCS_API int rcs_thread_attach(void) RCS_NOEXCEPT;
/* Unregisters the calling thread (it re-registers on its next use). A
 * thread that exits is unregistered automatically. NOT inside a read
 * section.
 * Errors: RCS_ESTATE (inside a read section; nothing is changed). */
RCS_API int rcs_thread_detach(void) RCS_NOEXCEPT;

/* ---- QSBR stores (opts.read_flavor = RCS_READ_QSBR)
 * A thread that is online reads QSBR stores with no read section: every
 * pointer it obtains stays valid until it calls rcs_quiescent_state or
 * rcs_thread_offline. A thread online must do one of them regularly (a
 * stream worker: between records) and go offline before it blocks: until
 * it does, no grace period of a QSBR store ends, commits that wait for one
 * wait, and memory is not reclaimed (rcs_grace_stalls shows it). Calls that
 * may wait for a grace period or block (rcs_commit, rcs_flush,
 * rcs_partition_drop, rcs_partition_stats, ...) are allowed on an online
 * thread, whatever the store they are called on, and are a quiescent state
 * for it. Do not fork() on an online thread: go offline first. After a
 * thread's first rcs_thread_online (which registers it), the four functions
 * below are allocation-free, never block, and are idempotent where that
 * applies. */

/* Puts the calling thread online (registering it on first use). */
RCS_API void rcs_thread_online(void) RCS_NOEXCEPT;
/* Puts it offline: a quiescent state that lasts until rcs_thread_online. */
RCS_API void rcs_thread_offline(void) RCS_NOEXCEPT;
/* 1 if the calling thread is online, else 0. */
RCS_API int rcs_thread_is_online(void) RCS_NOEXCEPT;
/* Announces that the calling thread holds no pointer into a QSBR store. A
 * no-op on an offline thread. */
RCS_API void rcs_quiescent_state(void) RCS_NOEXCEPT;

/* Grace-period stalls over every partition of the store: *out_stalled, the
 * sum of the partitions' stalled_grace_periods; *out_oldest_wait_ns, the age
 * of the oldest wait in progress (0: none). Never blocks: a monitor sees a
 * stall while commits wait in it. Any thread.
 * Errors: RCS_EINVAL (NULL). */
RCS_API int rcs_grace_stalls(rcs_store *store, uint64_t *out_stalled,
                             uint64_t *out_oldest_wait_ns) RCS_NOEXCEPT;

/* ---- Observability (added in 0.2) */

/* Statistics of a whole store. Counters run from the store's opening and
 * never decrease (a dropped partition's counts stay in them); gauges describe
 * the partitions that exist now. Like rcs_partition_stats, the struct shares
 * its name with its function and has no typedef; the caller sets struct_size
 * to sizeof(struct rcs_store_stats) of its header. */
struct rcs_store_stats {
  size_t struct_size;
  /* gauges */
  uint64_t partitions;
  uint64_t entries;               /* over the published snapshots' tables */
  uint64_t approx_bytes;          /* the partitions' map sets, keys and values included */
  uint64_t pins_alive;            /* snapshots pinned on the partitions */
  uint64_t oldest_grace_wait_ns;  /* age of the oldest wait for a grace period (0: none) */
  uint64_t reclamation_callbacks; /* reclamation callbacks queued, not yet run */
  uint64_t reclamation_bytes;     /* bytes dropped partitions hold until their grace period */
  /* counters since the store opened (rcs_partition_stats' meanings, over
   * every partition the store has had) */
  uint64_t commits;               /* commits accepted (all timed: = commit_latency_count) */
  uint64_t publications;
  uint64_t grace_waits;
  uint64_t commit_wait_ns;
  uint64_t standby_copies;
  uint64_t catch_ups;
  uint64_t backlog_publications;
  uint64_t stalled_grace_periods; /* ended ones; one in progress: oldest_grace_wait_ns */
  /* the histograms' totals (their buckets are in rcs_metrics_text) */
  uint64_t commit_latency_count;  /* commits timed: every accepted commit */
  uint64_t commit_latency_sum_ns; /* their latencies, call to return, summed */
  uint64_t grace_wait_count;      /* waits for a grace period on behalf of a partition */
  uint64_t grace_wait_sum_ns;     /* their durations summed */
};

/* Fills *out with the store's statistics. Never waits for a commit or a
 * grace period. O(partitions). Any thread; allowed inside a read section.
 * Errors: RCS_EINVAL (NULL; out->struct_size smaller than the 0.2 struct),
 * RCS_ESTATE (store closed), RCS_ENOMEM. */
RCS_API int rcs_store_stats(rcs_store *store, struct rcs_store_stats *out) RCS_NOEXCEPT;

/* Writes the store's statistics and every partition's in the Prometheus text
 * exposition format (version 0.0.4: HELP and TYPE lines, counters ending in
 * _total, gauges, the commit-latency and grace-wait histograms, per-partition
 * series labelled partition="<id>"), NUL-terminated, into buf. *out_needed
 * always receives the bytes the text needs, its NUL included; if buf_len is
 * smaller the result is RCS_ERANGE and buf is untouched (buf may be NULL when
 * buf_len is 0: a way to ask for the size). The text may grow between two
 * calls (new partitions): ask again on RCS_ERANGE. Same rules as
 * rcs_store_stats. Errors: RCS_ERANGE, RCS_EINVAL, RCS_ESTATE, RCS_ENOMEM. */
RCS_API int rcs_metrics_text(rcs_store *store, char *buf, size_t buf_len,
                             size_t *out_needed) RCS_NOEXCEPT;

/* Diagnostics the library emits outside a returned status (today only the
 * fatal conditions that end the process with abort(): a fork handler that
 * cannot be installed for want of memory) go to one handler per process; by
 * default they are written to stderr as "rcustate: <level>: <message>". */
#define RCS_LOG_WARNING 1
#define RCS_LOG_ERROR 2
#define RCS_LOG_FATAL 3 /* abort() follows the handler's return */
/* `message` is NUL-terminated and valid during the call only. The handler is
 * called from any thread, perhaps where memory ran out or a lock of the
 * library is held: it must not call rcustate (rcs_set_log_handler aside) and
 * should only hand the message to the host's logger. */
typedef void (*rcs_log_fn)(void *arg, int level, const char *message);
/* Sets the process' handler and its argument (fn NULL: back to stderr). Any
 * thread, any time; a message being delivered when it returns may still
 * reach the previous handler. */
RCS_API void rcs_set_log_handler(rcs_log_fn fn, void *arg) RCS_NOEXCEPT;

/* ---- Errors and version */

/* A static description of a status code ("unknown error" for a code this
 * version does not know); never NULL, never to be freed. Any thread. */
RCS_API const char *rcs_strerror(int code) RCS_NOEXCEPT;
/* The message of the calling thread's last failure, owned by the library,
 * valid until its next failing call on this thread; never NULL. Meaningful only
 * right after a call failed (successful calls do not clear it). */
RCS_API const char *rcs_last_error(void) RCS_NOEXCEPT;
/* The version of the library loaded at run time: RCS_VERSION_NUMBER of the
 * header it was built with, and the same as "MAJOR.MINOR.PATCH" (static). */
RCS_API uint32_t rcs_version_number(void) RCS_NOEXCEPT;
RCS_API const char *rcs_version_string(void) RCS_NOEXCEPT;

/* ---- Write handles: the calling thread's delta for one table of one
 *      partition, resolved once (rcs_writer_open). Each rcs_writer_put,
 *      rcs_writer_merge and rcs_writer_delete then does what rcs_put,
 *      rcs_merge and rcs_delete do on (partition, table), without looking up
 *      the partition, the table or the thread's delta again: use them in a
 *      writer's hot loop. Their success path formats no message and
 *      allocates nothing but the delta's own room.
 *
 *      A writer belongs to the thread that opened it: it writes into that
 *      thread's delta (the one rcs_put, rcs_commit, rcs_abort and rcs_get of
 *      that thread use), so commit with rcs_commit(store, partition, ...)
 *      on that thread, as usual; after a commit or an abort the writer goes
 *      on writing into the now empty delta. Using a writer on another thread
 *      is RCS_ESTATE. Several writers of one thread on one partition (one
 *      per table, say) share its delta. The writer functions are allowed
 *      inside a read section. On error the delta is unchanged. */
typedef struct rcs_writer rcs_writer;

/* Opens a writer on `table` of `partition` for the calling thread; *out is
 * owned by the caller until rcs_writer_close. It may outlive the store (its
 * writes then return RCS_ESTATE).
 * Errors: RCS_EINVAL (NULL store or out), RCS_ENOTABLE, RCS_ENOPARTITION
 * (also once, as for rcs_put, when this thread's uncommitted changes to a
 * dropped partition were discarded), RCS_ESTATE (store closed), RCS_ENOMEM. */
RCS_API int rcs_writer_open(rcs_store *store, uint32_t partition, uint32_t table,
                            rcs_writer **out) RCS_NOEXCEPT;
/* As rcs_put, rcs_merge and rcs_delete on the writer's partition and table.
 * Errors: RCS_EINVAL (NULL writer, key too long, value or operand not 8
 * bytes in a numeric table, merge on a table without operator),
 * RCS_ENOPARTITION (the partition was dropped since the writer was opened
 * or last used: the first call that notices says that this thread's
 * uncommitted changes were discarded, if there were any; if the partition
 * was re-created, the next call writes to the new one), RCS_ESTATE (store
 * closed, or not the thread that opened the writer), RCS_ENOMEM. */
RCS_API int rcs_writer_put(rcs_writer *w, const void *key, size_t key_len, const void *value,
                           size_t value_len) RCS_NOEXCEPT;
RCS_API int rcs_writer_merge(rcs_writer *w, const void *key, size_t key_len, const void *operand,
                             size_t operand_len) RCS_NOEXCEPT;
RCS_API int rcs_writer_delete(rcs_writer *w, const void *key, size_t key_len) RCS_NOEXCEPT;
/* Frees the writer; its uncommitted writes stay in the thread's delta (they
 * are the thread's, not the writer's). Any thread, anywhere. NULL is a
 * no-op. */
RCS_API void rcs_writer_close(rcs_writer *w) RCS_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RCUSTATE_RCUSTATE_H_ */
