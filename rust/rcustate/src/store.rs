// SPDX-License-Identifier: LGPL-2.1-or-later
//! The store: opening, partitions, the calling thread's writes and commits,
//! copying reads, statistics, checkpoints.

use std::cell::Cell;
use std::ffi::CString;
use std::fmt;
use std::os::raw::{c_int, c_void};
use std::os::unix::ffi::OsStrExt;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Mutex;

use rcustate_sys as sys;

use crate::error::{check, check_found, Error, Result};
use crate::{
    bytes, encode_f64, encode_i64, opt_f64, opt_i64, raw, Batch, Options, ReadSection, Snapshot,
    TableReader, Writer,
};

/// A store: its tables, its partitions and their published versions.
///
/// Dropping it closes it: every partition is dropped and its memory freed
/// once no reader can see it; every thread's uncommitted writes are
/// discarded. [`Snapshot`]s, [`Batch`]es, [`TableReader`]s and [`Writer`]s
/// may outlive it (a snapshot or a reader stays readable; batch and writer
/// operations return [`Error::State`]).
///
/// A store cannot be closed by a thread that is inside a read section (the
/// close would wait for that very section): a `Store` dropped there, while a
/// [`ReadSection`] of *another* store is open on the thread, stays open and
/// is leaked (its memory is never freed, nothing else happens) with a
/// message on stderr. Use [`Store::close`] to be told instead.
pub struct Store {
    raw: NonNull<sys::rcs_store>,
    // Every changelog callback ever set: a commit that started before a
    // replacement may still be running the previous one, so they are all
    // kept until the store is closed. Boxed twice: the C side holds a thin
    // pointer to the inner (fat) Box, which must not move when the Vec grows.
    #[allow(clippy::vec_box)]
    changelogs: Mutex<Vec<Box<Box<ChangelogFn>>>>,
    // Set by `close` once rcs_store_close succeeded: Drop has nothing to do.
    closed: bool,
}

/// A changelog callback (see [`Store::set_changelog`]).
type ChangelogFn = dyn Fn(u32, u64, &[u8]) -> bool + Send + Sync;

thread_local! {
    // Changelog callbacks running on this thread: they hold the committing
    // partition's locks, so the calls that take them are refused meanwhile.
    static IN_CHANGELOG: Cell<u32> = const { Cell::new(0) };
}

/// [`Error::State`] if this thread is inside a changelog callback, where
/// `what` would deadlock on the locks the callback's commit holds.
pub(crate) fn refuse_in_changelog(what: &str) -> Result<()> {
    if IN_CHANGELOG.with(|d| d.get()) > 0 {
        return Err(Error::State(format!(
            "{what} is not allowed inside a changelog callback (it holds the commit's locks)"
        )));
    }
    Ok(())
}

unsafe extern "C" fn changelog_trampoline(
    ctx: *mut c_void,
    partition: u32,
    version: u64,
    record: *const c_void,
    record_len: usize,
) -> c_int {
    // SAFETY: ctx is a Box<ChangelogFn> the store keeps until it is closed;
    // the record is valid during this call.
    let f = &*(ctx as *const Box<ChangelogFn>);
    let record = bytes(record, record_len);
    // No unwinding may cross the C frames: a panic refuses the commit.
    IN_CHANGELOG.with(|d| d.set(d.get() + 1));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| f(partition, version, record)));
    IN_CHANGELOG.with(|d| d.set(d.get() - 1));
    match outcome {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(_) => 2,
    }
}

// SAFETY: the C API allows every function on a store from any thread,
// concurrently with any other, except rcs_store_close, which only `Drop` and
// `close(self)` call: both own the store, so no other thread holds a
// reference to it then. Nothing of the store is tied to the thread that
// opened it (writes are tied to the thread that makes them, inside the
// library, which is what the documentation of the write functions says).
unsafe impl Send for Store {}
unsafe impl Sync for Store {}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("raw", &self.raw).finish()
    }
}

/// Statistics of one partition (see `rcs_partition_stats` in rcustate.h).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartitionStats {
    /// The published version (what readers see).
    pub version: u64,
    /// Commits accepted: the version plus the sealed, unpublished ones.
    pub committed_version: u64,
    /// Commits accepted.
    pub commits: u64,
    /// Snapshots published (fewer than commits under group commit).
    pub publications: u64,
    /// Time commits spent waiting for grace periods, in ns.
    pub commit_wait_ns: u64,
    /// Commits that had to wait for a grace period.
    pub grace_waits: u64,
    /// Standby map sets rebuilt by copying because they were pinned.
    pub standby_copies: u64,
    /// Both map sets, keys and values included, approximately.
    pub approx_bytes: u64,
    /// Snapshots pinning the partition's current map sets.
    pub pins_alive: u32,
    /// Tables in the store.
    pub num_tables: u32,
    /// Group commits that found the sealed backlog past its bound and published it themselves.
    pub backlog_publications: u64,
    /// Waits for a grace period longer than the store's stall threshold.
    pub stalled_grace_periods: u64,
    /// How long the wait in progress for a grace period has lasted, in ns (0: none).
    pub grace_wait_age_ns: u64,
    /// Replays onto the standby done off the commit path.
    pub catch_ups: u64,
}

/// What a checkpoint wrote or a restore read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckpointInfo {
    /// The partition.
    pub partition: u32,
    /// The partition version the checkpoint (or chain) holds.
    pub version: u64,
    /// 0 for a full checkpoint, else the version it extends.
    pub base_version: u64,
    /// Bytes written (checkpoint) or read (restore); 0 if nothing was written.
    pub bytes: u64,
    /// Entries written or restored.
    pub entries: u64,
}

impl CheckpointInfo {
    fn from_raw(i: &sys::rcs_checkpoint_info) -> CheckpointInfo {
        CheckpointInfo {
            partition: i.partition,
            version: i.version,
            base_version: i.base_version,
            bytes: i.bytes,
            entries: i.entries,
        }
    }
}

fn c_string(what: &str, s: &[u8]) -> Result<CString> {
    CString::new(s).map_err(|_| Error::InvalidArgument(format!("{}: contains a NUL byte", what)))
}

impl Store {
    /// Opens a store with the tables and policies of `options`.
    /// Errors: [`Error::InvalidArgument`] (no tables; an empty, duplicate or
    /// NUL-containing name; `max_publish_delay_ns` over `i64::MAX`),
    /// [`Error::NoMemory`].
    pub fn open(options: &Options) -> Result<Store> {
        let names = options
            .tables
            .iter()
            .map(|t| c_string("Store::open: a table name", t.name.as_bytes()))
            .collect::<Result<Vec<CString>>>()?;
        let specs: Vec<sys::rcs_table_spec> = options
            .tables
            .iter()
            .zip(&names)
            .map(|(t, n)| sys::rcs_table_spec {
                name: n.as_ptr(),
                merge_op: t.merge.raw(),
                expected_entries: t.expected_entries,
            })
            .collect();
        // Filled here rather than by rcs_options_init, which writes the
        // loaded library's sizeof(rcs_options): a newer library's struct may
        // be larger than this crate's. The library accepts the size of any
        // earlier layout and gives the fields it lacks their defaults.
        let opts = sys::rcs_options {
            struct_size: std::mem::size_of::<sys::rcs_options>(),
            tables: if specs.is_empty() {
                ptr::null()
            } else {
                specs.as_ptr()
            },
            num_tables: specs.len(),
            memory_budget_bytes: options.memory_budget_bytes,
            max_publish_delay_ns: options.max_publish_delay_ns,
            // Read sections: the values a ReadSection lends are protected by
            // its section, which a QSBR store does not use.
            read_flavor: sys::RCS_READ_MEMB,
            stall_threshold_ns: options.stall_threshold_ns,
        };
        let mut out: *mut sys::rcs_store = ptr::null_mut();
        // SAFETY: `specs` and `names` outlive the call, which copies them.
        let rc = unsafe { sys::rcs_store_open(&opts, &mut out) };
        check(rc)?;
        Ok(Store {
            raw: NonNull::new(out).expect("rcs_store_open returned RCS_OK and NULL"),
            changelogs: Mutex::new(Vec::new()),
            closed: false,
        })
    }

    /// The C handle, for calls of [`crate::sys`] (valid while `self` lives).
    pub fn as_raw(&self) -> *mut sys::rcs_store {
        self.raw.as_ptr()
    }

    /// Closes the store now. Inside a read section (of any store) this thread
    /// cannot close it: then the store is handed back, still open and usable,
    /// with the [`Error::State`] that says so.
    pub fn close(mut self) -> std::result::Result<(), (Store, Error)> {
        if let Err(e) = refuse_in_changelog("Store::close") {
            return Err((self, e));
        }
        // SAFETY: `self` is owned: no other reference to the store exists.
        let rc = unsafe { sys::rcs_store_close(self.raw.as_ptr()) };
        if rc == sys::RCS_OK {
            self.closed = true; // drop frees the rest
            Ok(())
        } else {
            Err((self, Error::last(rc)))
        }
    }

    /// The id of the table called `name`. [`Error::NoTable`].
    pub fn table_id(&self, name: &str) -> Result<u32> {
        let name = c_string("Store::table_id: the name", name.as_bytes())?;
        let mut id = 0u32;
        // SAFETY: valid handle, NUL-terminated name, valid out pointer.
        check(unsafe { sys::rcs_table_id(self.raw.as_ptr(), name.as_ptr(), &mut id) })?;
        Ok(id)
    }

    /// The number of tables (ids are `0..count`).
    pub fn table_count(&self) -> usize {
        let mut n = 0usize;
        // SAFETY: valid handle and out pointer; fails only for NULL arguments.
        let rc = unsafe { sys::rcs_table_count(self.raw.as_ptr(), &mut n) };
        debug_assert_eq!(rc, sys::RCS_OK);
        n
    }

    // ---- partitions

    /// Creates an empty partition (version 0). [`Error::Exists`].
    pub fn create_partition(&self, partition: u32) -> Result<()> {
        // SAFETY: valid handle.
        check(unsafe { sys::rcs_partition_create(self.raw.as_ptr(), partition) })
    }

    /// Drops a partition: readers inside it finish undisturbed, snapshots of
    /// it stay valid, every thread's uncommitted writes to it are discarded.
    /// [`Error::NoPartition`]; [`Error::State`] inside a read section.
    pub fn drop_partition(&self, partition: u32) -> Result<()> {
        refuse_in_changelog("Store::drop_partition")?;
        // SAFETY: valid handle.
        check(unsafe { sys::rcs_partition_drop(self.raw.as_ptr(), partition) })
    }

    /// The partition ids, ascending.
    pub fn partitions(&self) -> Result<Vec<u32>> {
        let mut ids: Vec<u32> = Vec::new();
        loop {
            let mut n = 0usize;
            // SAFETY: `ids` has room for `capacity` ids.
            let rc = unsafe {
                sys::rcs_partition_list(self.raw.as_ptr(), ids.as_mut_ptr(), ids.capacity(), &mut n)
            };
            match rc {
                sys::RCS_OK => {
                    // SAFETY: the library wrote n <= capacity ids.
                    unsafe { ids.set_len(n) };
                    return Ok(ids);
                }
                // Partitions were created meanwhile: n is the number needed now.
                sys::RCS_ERANGE => ids.reserve_exact(n),
                _ => return Err(Error::last(rc)),
            }
        }
    }

    /// The published version of a partition (its number of commits).
    /// [`Error::NoPartition`].
    pub fn version(&self, partition: u32) -> Result<u64> {
        let mut v = 0u64;
        // SAFETY: valid handle and out pointer.
        check(unsafe { sys::rcs_version(self.raw.as_ptr(), partition, &mut v) })?;
        Ok(v)
    }

    /// Statistics of a partition. [`Error::NoPartition`].
    pub fn stats(&self, partition: u32) -> Result<PartitionStats> {
        refuse_in_changelog("Store::stats")?;
        let mut s = sys::rcs_partition_stats {
            struct_size: std::mem::size_of::<sys::rcs_partition_stats>(),
            ..Default::default()
        };
        // SAFETY: valid handle; `s` is the size its struct_size says.
        check(unsafe { sys::rcs_partition_stats(self.raw.as_ptr(), partition, &mut s) })?;
        Ok(PartitionStats {
            version: s.version,
            committed_version: s.committed_version,
            commits: s.commits,
            publications: s.publications,
            commit_wait_ns: s.commit_wait_ns,
            grace_waits: s.grace_waits,
            standby_copies: s.standby_copies,
            approx_bytes: s.approx_bytes,
            pins_alive: s.pins_alive,
            num_tables: s.num_tables,
            backlog_publications: s.backlog_publications,
            stalled_grace_periods: s.stalled_grace_periods,
            grace_wait_age_ns: s.grace_wait_age_ns,
            catch_ups: s.catch_ups,
        })
    }

    /// The store's statistics and every partition's in the Prometheus text
    /// exposition format, for a `/metrics` endpoint. Never waits for a commit.
    pub fn metrics_text(&self) -> Result<String> {
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let mut needed = 0usize;
            // SAFETY: valid handle; `buf` has room for `buf.capacity()` bytes
            // (a null pointer only with length 0).
            let rc = unsafe {
                sys::rcs_metrics_text(
                    self.raw.as_ptr(),
                    if buf.capacity() == 0 { ptr::null_mut() } else { buf.as_mut_ptr().cast() },
                    buf.capacity(),
                    &mut needed,
                )
            };
            match rc {
                sys::RCS_OK => {
                    // SAFETY: the library wrote `needed` bytes, the NUL last.
                    unsafe { buf.set_len(needed - 1) };
                    return String::from_utf8(buf).map_err(|_| {
                        Error::Internal("rcs_metrics_text: the text is not UTF-8".into())
                    });
                }
                // The text grows with new partitions: ask again with its size.
                sys::RCS_ERANGE => buf.reserve_exact(needed),
                _ => return Err(Error::last(rc)),
            }
        }
    }

    /// The number of entries of `table` in the published version of `partition`.
    pub fn table_entries(&self, partition: u32, table: u32) -> Result<usize> {
        let mut n = 0usize;
        // SAFETY: valid handle and out pointer.
        check(unsafe {
            sys::rcs_partition_table_entries(self.raw.as_ptr(), partition, table, &mut n)
        })?;
        Ok(n)
    }

    // ---- copying reads (any thread, no section needed; they see the
    //      calling thread's own uncommitted writes)

    /// A copy of the value of `key`, `None` if absent.
    pub fn get(&self, partition: u32, table: u32, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let (k, klen) = raw(key);
        let mut buf: Vec<u8> = Vec::with_capacity(64);
        loop {
            let mut len = 0usize;
            // SAFETY: `buf` has room for `capacity` bytes; the library writes
            // only on success, at most that many.
            let rc = unsafe {
                sys::rcs_get(
                    self.raw.as_ptr(),
                    partition,
                    table,
                    k,
                    klen,
                    buf.as_mut_ptr() as *mut c_void,
                    buf.capacity(),
                    &mut len,
                )
            };
            match rc {
                sys::RCS_OK => {
                    // SAFETY: the library wrote `len` <= capacity bytes.
                    unsafe { buf.set_len(len) };
                    return Ok(Some(buf));
                }
                sys::RCS_ENOTFOUND => return Ok(None),
                // The value is longer (it may change again before the retry).
                sys::RCS_ERANGE => buf.reserve_exact(len),
                _ => return Err(Error::last(rc)),
            }
        }
    }

    /// The value of `key` in a numeric table.
    pub fn get_i64(&self, partition: u32, table: u32, key: &[u8]) -> Result<Option<i64>> {
        opt_i64(self.get(partition, table, key)?.as_deref())
    }

    /// The value of `key` in an [`crate::MergeOp::AddF64`] table.
    pub fn get_f64(&self, partition: u32, table: u32, key: &[u8]) -> Result<Option<f64>> {
        opt_f64(self.get(partition, table, key)?.as_deref())
    }

    /// Calls `f` with the value of `key` without copying it (inside a read
    /// section the library opens around the call): `Some(f(value))`, or
    /// `None` if the key is absent. `f` must not commit (that would return
    /// [`Error::State`]). A panic in `f` is carried across the C call and
    /// resumed here.
    pub fn read_with<R, F: FnOnce(&[u8]) -> R>(
        &self,
        partition: u32,
        table: u32,
        key: &[u8],
        f: F,
    ) -> Result<Option<R>> {
        struct Ctx<F, R> {
            f: Option<F>,
            out: Option<std::thread::Result<R>>,
        }
        unsafe extern "C" fn call<R, F: FnOnce(&[u8]) -> R>(
            value: *const c_void,
            len: usize,
            ctx: *mut c_void,
        ) {
            // SAFETY: ctx is the Ctx below, alive during rcs_read; the value
            // is valid during this call.
            let ctx = &mut *(ctx as *mut Ctx<F, R>);
            let v = bytes(value, len);
            if let Some(f) = ctx.f.take() {
                // No unwinding may cross the C frames: catch, resume later.
                ctx.out = Some(panic::catch_unwind(AssertUnwindSafe(|| f(v))));
            }
        }
        let (k, klen) = raw(key);
        let mut ctx: Ctx<F, R> = Ctx {
            f: Some(f),
            out: None,
        };
        // SAFETY: `call` matches rcs_value_fn and gets `ctx` back.
        let rc = unsafe {
            sys::rcs_read(
                self.raw.as_ptr(),
                partition,
                table,
                k,
                klen,
                Some(call::<R, F>),
                &mut ctx as *mut Ctx<F, R> as *mut c_void,
            )
        };
        if !check_found(rc)? {
            return Ok(None);
        }
        match ctx.out {
            Some(Ok(r)) => Ok(Some(r)),
            Some(Err(p)) => panic::resume_unwind(p),
            None => Err(Error::Internal(
                "rcs_read: RCS_OK without calling back".to_string(),
            )),
        }
    }

    /// Opens a read section on the calling thread (see [`ReadSection`]).
    pub fn read(&self) -> ReadSection<'_> {
        ReadSection::new(self)
    }

    // ---- writes through the calling thread's delta for the partition

    /// Sets `key` to `value` in this thread's delta (last committer wins).
    /// Numeric tables take 8-byte values only.
    pub fn put(&self, partition: u32, table: u32, key: &[u8], value: &[u8]) -> Result<()> {
        let ((k, kl), (v, vl)) = (raw(key), raw(value));
        // SAFETY: valid handle; the library copies key and value.
        check(unsafe { sys::rcs_put(self.raw.as_ptr(), partition, table, k, kl, v, vl) })
    }

    /// Puts an `i64` (8 bytes, little-endian).
    pub fn put_i64(&self, partition: u32, table: u32, key: &[u8], value: i64) -> Result<()> {
        self.put(partition, table, key, &encode_i64(value))
    }

    /// Puts an `f64`.
    pub fn put_f64(&self, partition: u32, table: u32, key: &[u8], value: f64) -> Result<()> {
        self.put(partition, table, key, &encode_f64(value))
    }

    /// Removes `key` (absent keys are fine).
    pub fn delete(&self, partition: u32, table: u32, key: &[u8]) -> Result<()> {
        let (k, kl) = raw(key);
        // SAFETY: valid handle; the key is copied.
        check(unsafe { sys::rcs_delete(self.raw.as_ptr(), partition, table, k, kl) })
    }

    /// Merges `operand` into `key` with the table's operator (at commit;
    /// merges of several threads commute). [`Error::InvalidArgument`] for a
    /// table without operator or a numeric operand that is not 8 bytes.
    pub fn merge(&self, partition: u32, table: u32, key: &[u8], operand: &[u8]) -> Result<()> {
        let ((k, kl), (o, ol)) = (raw(key), raw(operand));
        // SAFETY: valid handle; key and operand are copied.
        check(unsafe { sys::rcs_merge(self.raw.as_ptr(), partition, table, k, kl, o, ol) })
    }

    /// Merges an `i64` operand (add, min or max tables).
    pub fn merge_i64(&self, partition: u32, table: u32, key: &[u8], operand: i64) -> Result<()> {
        self.merge(partition, table, key, &encode_i64(operand))
    }

    /// Merges an `f64` operand (an [`crate::MergeOp::AddF64`] table).
    pub fn merge_f64(&self, partition: u32, table: u32, key: &[u8], operand: f64) -> Result<()> {
        self.merge(partition, table, key, &encode_f64(operand))
    }

    /// Empties the table at commit; later writes of this delta apply on top.
    pub fn clear(&self, partition: u32, table: u32) -> Result<()> {
        // SAFETY: valid handle.
        check(unsafe { sys::rcs_clear(self.raw.as_ptr(), partition, table) })
    }

    /// Commits this thread's delta for the partition atomically as the next
    /// version and returns it. Visible to every thread when this returns
    /// (under the default policy; it may wait for a grace period).
    /// [`Error::State`] inside a read section (the delta is kept).
    pub fn commit(&self, partition: u32) -> Result<u64> {
        refuse_in_changelog("Store::commit")?;
        let mut v = 0u64;
        // SAFETY: valid handle and out pointer.
        check(unsafe { sys::rcs_commit(self.raw.as_ptr(), partition, &mut v) })?;
        Ok(v)
    }

    /// Publishes every committed batch of the partition now (group commit)
    /// and returns the published version. [`Error::State`] inside a read section.
    pub fn flush(&self, partition: u32) -> Result<u64> {
        refuse_in_changelog("Store::flush")?;
        let mut v = 0u64;
        // SAFETY: valid handle and out pointer.
        check(unsafe { sys::rcs_flush(self.raw.as_ptr(), partition, &mut v) })?;
        Ok(v)
    }

    /// Discards this thread's uncommitted delta for the partition.
    pub fn abort(&self, partition: u32) -> Result<()> {
        // SAFETY: valid handle.
        check(unsafe { sys::rcs_abort(self.raw.as_ptr(), partition) })
    }

    // ---- handles

    /// An empty explicit batch for this store.
    pub fn batch(&self) -> Result<Batch> {
        let mut out: *mut sys::rcs_batch = ptr::null_mut();
        // SAFETY: valid handle and out pointer.
        check(unsafe { sys::rcs_batch_create(self.raw.as_ptr(), &mut out) })?;
        Ok(Batch::from_raw(out))
    }

    /// Pins the published version of a partition. O(1).
    pub fn snapshot(&self, partition: u32) -> Result<Snapshot> {
        let mut out: *mut sys::rcs_snapshot = ptr::null_mut();
        // SAFETY: valid handle and out pointer.
        check(unsafe { sys::rcs_snapshot_open(self.raw.as_ptr(), partition, &mut out) })?;
        Ok(Snapshot::from_raw(out))
    }

    /// A reader of one table of one partition, for hot read paths.
    pub fn reader(&self, partition: u32, table: u32) -> Result<TableReader> {
        let mut out: *mut sys::rcs_reader = ptr::null_mut();
        // SAFETY: valid handle and out pointer.
        check(unsafe { sys::rcs_reader_open(self.raw.as_ptr(), partition, table, &mut out) })?;
        Ok(TableReader::from_raw(out))
    }

    /// A write handle on this thread's delta for one table of one partition.
    pub fn writer(&self, partition: u32, table: u32) -> Result<Writer> {
        let mut out: *mut sys::rcs_writer = ptr::null_mut();
        // SAFETY: valid handle and out pointer.
        check(unsafe { sys::rcs_writer_open(self.raw.as_ptr(), partition, table, &mut out) })?;
        Ok(Writer::from_raw(out))
    }

    // ---- durability (docs/durability.md)

    /// Writes a checkpoint of the partition's published version into `dir`
    /// (created if missing): full, or with `incremental` what changed since
    /// the newest checkpoint there. [`Error::Io`], [`Error::State`] inside a
    /// read section.
    pub fn checkpoint(
        &self,
        partition: u32,
        dir: &Path,
        incremental: bool,
    ) -> Result<CheckpointInfo> {
        refuse_in_changelog("Store::checkpoint")?;
        let dir = c_string(
            "Store::checkpoint: the directory",
            dir.as_os_str().as_bytes(),
        )?;
        let flags = if incremental {
            sys::RCS_CHECKPOINT_INCREMENTAL
        } else {
            sys::RCS_CHECKPOINT_FULL
        };
        let mut info = sys::rcs_checkpoint_info {
            struct_size: std::mem::size_of::<sys::rcs_checkpoint_info>(),
            ..Default::default()
        };
        // SAFETY: valid handle, NUL-terminated path, info of its struct_size.
        check(unsafe {
            sys::rcs_checkpoint(self.raw.as_ptr(), partition, dir.as_ptr(), flags, &mut info)
        })?;
        Ok(CheckpointInfo::from_raw(&info))
    }

    /// Creates `partition` from the newest complete checkpoint chain in `dir`,
    /// at the chain's version. [`Error::Exists`], [`Error::Io`],
    /// [`Error::Corrupt`], [`Error::State`] inside a read section.
    pub fn restore(&self, partition: u32, dir: &Path) -> Result<CheckpointInfo> {
        refuse_in_changelog("Store::restore")?;
        let dir = c_string("Store::restore: the directory", dir.as_os_str().as_bytes())?;
        let mut info = sys::rcs_checkpoint_info {
            struct_size: std::mem::size_of::<sys::rcs_checkpoint_info>(),
            ..Default::default()
        };
        // SAFETY: valid handle, NUL-terminated path, info of its struct_size.
        check(unsafe { sys::rcs_restore(self.raw.as_ptr(), partition, dir.as_ptr(), &mut info) })?;
        Ok(CheckpointInfo::from_raw(&info))
    }

    /// Sets the changelog callback, called once per commit of every
    /// partition (in version order per partition, on the committing thread,
    /// before the commit becomes visible to other threads) with the
    /// partition, the version and the commit's changelog record (valid during
    /// the call). Return `true` to accept; `false` fails the commit with
    /// [`Error::Io`], nothing published and the delta or batch kept (a panic
    /// in the callback does the same). It runs with the partition's commit
    /// locks held: inside it, commit, flush, checkpoint, restore,
    /// apply_changelog, drop_partition, stats, `Batch::commit` and close
    /// return [`Error::State`] (they would deadlock; a store dropped there is
    /// leaked), and it should return quickly (appending to a log is the
    /// intended use). Applies
    /// to commits that start after this returns.
    pub fn set_changelog<F>(&self, f: F) -> Result<()>
    where
        F: Fn(u32, u64, &[u8]) -> bool + Send + Sync + 'static,
    {
        let boxed: Box<Box<ChangelogFn>> = Box::new(Box::new(f));
        let ctx = &*boxed as *const Box<ChangelogFn> as *mut c_void;
        let mut kept = self.changelogs.lock().unwrap_or_else(|e| e.into_inner());
        kept.reserve(1); // so that keeping it cannot fail once it is set
                         // SAFETY: the callback matches rcs_changelog_fn; ctx stays valid
                         // until the store is closed (it is kept in `changelogs`).
        check(unsafe {
            sys::rcs_changelog_set(self.raw.as_ptr(), Some(changelog_trampoline), ctx)
        })?;
        kept.push(boxed);
        Ok(())
    }

    /// Removes the changelog callback (for commits that start after this returns).
    pub fn clear_changelog(&self) -> Result<()> {
        // SAFETY: valid handle; NULL means none.
        check(unsafe { sys::rcs_changelog_set(self.raw.as_ptr(), None, ptr::null_mut()) })
    }

    /// Applies one changelog record (from this store or another with the same
    /// tables) as one atomic commit of `partition` and returns the
    /// partition's committed version afterwards. A record whose version is not
    /// above that is skipped; one past the next version is [`Error::State`];
    /// a malformed one [`Error::Corrupt`]; a record of another partition or
    /// other tables [`Error::InvalidArgument`].
    pub fn apply_changelog(&self, partition: u32, record: &[u8]) -> Result<u64> {
        refuse_in_changelog("Store::apply_changelog")?;
        let (r, rl) = raw(record);
        let mut v = 0u64;
        // SAFETY: valid handle, record and out pointer.
        check(unsafe { sys::rcs_changelog_apply(self.raw.as_ptr(), partition, r, rl, &mut v) })?;
        Ok(v)
    }

    /// Grace-period stalls over every partition: the number of waits longer
    /// than the stall threshold, and the age in ns of the oldest wait in
    /// progress (0: none).
    pub fn grace_stalls(&self) -> (u64, u64) {
        let (mut stalled, mut oldest) = (0u64, 0u64);
        // SAFETY: valid handle and out pointers; fails only for NULL.
        let rc = unsafe { sys::rcs_grace_stalls(self.raw.as_ptr(), &mut stalled, &mut oldest) };
        debug_assert_eq!(rc, sys::RCS_OK);
        (stalled, oldest)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        // Inside a changelog callback (its last Arc dropped there) a close
        // would wait for the commit that calls the callback: leak instead.
        let rc = if refuse_in_changelog("Store::drop").is_err() {
            sys::RCS_ESTATE
        } else {
            // SAFETY: `self` is being dropped: no other reference exists.
            unsafe { sys::rcs_store_close(self.raw.as_ptr()) }
        };
        if rc != sys::RCS_OK {
            // The open store may still call its changelog callbacks.
            let callbacks =
                std::mem::take(&mut *self.changelogs.lock().unwrap_or_else(|e| e.into_inner()));
            std::mem::forget(callbacks);
            // Only inside a read section of this thread (ReadSection borrows
            // its store, so it is another store's section) or a changelog
            // callback: the store stays open. Leaking it is safe; aborting or
            // panicking in drop is not what a caller expects.
            eprintln!(
                "rcustate: a Store dropped inside a read section or a changelog callback \
                 stays open (leaked)"
            );
        }
    }
}
