// SPDX-License-Identifier: LGPL-2.1-or-later
//! rcustate: in-memory partitioned keyed state that any number of threads read
//! without locks while writers publish a new version of a partition at every
//! commit. This crate is a safe API over the library's C ABI (`rcustate-sys`).
//!
//! ```
//! use rcustate::{MergeOp, Options, Store};
//!
//! let store = Store::open(&Options::new().table("counts", MergeOp::AddI64))?;
//! let counts = store.table_id("counts")?;
//! store.create_partition(0)?;
//! store.merge_i64(0, counts, b"clicks", 1)?;
//! let version = store.commit(0)?; // 1: visible to every thread
//! assert_eq!(version, 1);
//! {
//!     let section = store.read(); // an RCU read section on this thread
//!     let value: &[u8] = section.get(0, counts, b"clicks")?.unwrap(); // no copy
//!     assert_eq!(rcustate::decode_i64(value)?, 1);
//! } // the section ends: `value` cannot be used past this point
//! # Ok::<(), rcustate::Error>(())
//! ```
//!
//! # Model
//!
//! A [`Store`] has tables, fixed when it is opened (each with an optional
//! [`MergeOp`]), and partitions (`u32` ids) created and dropped at run time.
//! Keys and values are byte strings. Writes go into the **calling thread's**
//! uncommitted delta for a partition ([`Store::put`], [`Store::merge`], ...):
//! the thread sees them at once, other threads after it calls
//! [`Store::commit`] on that partition, which publishes all its tables
//! together. An explicit [`Batch`] is committed as a whole instead, from any
//! thread.
//!
//! Readers never lock or wait: [`Store::get`] copies a value;
//! [`Store::read`] opens a [`ReadSection`] whose lookups borrow values from
//! the library without copying, for as long as the section lives; a [`View`]
//! is one version of a partition across keys and tables; a [`Snapshot`] pins
//! one version for as long as you keep it, with no section held.
//!
//! # Threads
//!
//! - [`Store`] is `Send` and `Sync`: every function of the C API may be called
//!   from any thread concurrently on one store, except closing it, which only
//!   `Drop` does (it owns the store, so no other thread can be using it).
//!   Share it with `Arc<Store>` or scoped threads. Remember that the writes
//!   are per thread: a thread commits its own delta.
//! - [`ReadSection`] and [`View`] are neither `Send` nor `Sync`: an RCU read
//!   section belongs to the thread that opened it, and so do the values read in
//!   it.
//! - [`Snapshot`] and [`TableReader`] are `Send` and `Sync`: their lookups may
//!   run on any number of threads at once; only closing one must not overlap
//!   other uses, and only `Drop` closes it.
//! - [`Batch`] is `Send` but not `Sync`: one thread at a time uses a batch.
//! - [`Writer`] is neither: it writes into the delta of the thread that
//!   opened it.
//!
//! Inside a read section the calls that may wait for a grace period
//! ([`Store::commit`], [`Store::flush`], [`Batch::commit`],
//! [`Store::drop_partition`], [`Store::checkpoint`], [`Store::restore`])
//! return [`Error::State`] and change nothing. Leaking a section with
//! `std::mem::forget` keeps the thread inside it for good: every commit that
//! needs a grace period then waits forever.
//!
//! # Linking
//!
//! See `docs/rust.md`: the build finds the library through `RCUSTATE_LIB_DIR`
//! or `pkg-config rcustate`; at run time the system's loader must find it
//! (`LD_LIBRARY_PATH` for a library that is not installed).

#![warn(missing_docs)]

mod batch;
mod error;
mod read;
mod snapshot;
mod store;

pub use batch::{Batch, Writer};
pub use error::{Error, Result};
pub use read::{ReadSection, TableReader, View};
pub use snapshot::Snapshot;
pub use store::{CheckpointInfo, PartitionStats, Store};

/// The raw declarations, for what this crate does not wrap.
pub use rcustate_sys as sys;

use std::ffi::CStr;
use std::os::raw::{c_int, c_void};

/// The longest key the library accepts, in bytes (longer: [`Error::InvalidArgument`]).
pub const MAX_KEY_SIZE: usize = sys::RCS_MAX_KEY_SIZE;

/// The merge operator of a table: what [`Store::merge`] does with an operand
/// at commit (`value = existing (op) operand`; an absent key takes the
/// operand). Numeric tables hold 8-byte little-endian values only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MergeOp {
    /// No operator: merging into the table is [`Error::InvalidArgument`].
    None,
    /// Signed 64-bit add, wrapping.
    AddI64,
    /// Signed 64-bit minimum.
    MinI64,
    /// Signed 64-bit maximum.
    MaxI64,
    /// IEEE-754 double add.
    AddF64,
    /// Byte append.
    Append,
}

impl MergeOp {
    fn raw(self) -> c_int {
        match self {
            MergeOp::None => sys::RCS_MERGE_NONE,
            MergeOp::AddI64 => sys::RCS_MERGE_ADD_I64,
            MergeOp::MinI64 => sys::RCS_MERGE_MIN_I64,
            MergeOp::MaxI64 => sys::RCS_MERGE_MAX_I64,
            MergeOp::AddF64 => sys::RCS_MERGE_ADD_F64,
            MergeOp::Append => sys::RCS_MERGE_APPEND,
        }
    }
}

/// One table of a store: its name (unique, non-empty), merge operator and a
/// hint of the entries to reserve per partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    /// The table's name ([`Store::table_id`] finds its id, the index of the spec).
    pub name: String,
    /// Its merge operator.
    pub merge: MergeOp,
    /// Slots to reserve per partition (0: none).
    pub expected_entries: usize,
}

/// What [`Store::open`] creates: the tables and the store's policies. The
/// zero values are the library's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The tables; table ids are their indexes here. At least one.
    pub tables: Vec<TableSpec>,
    /// Bound on the memory of dropped partitions awaiting reclamation (0: 256 MiB).
    pub memory_budget_bytes: usize,
    /// 0: every commit is visible to all threads when it returns. Positive:
    /// group commit, where a commit never waits for a grace period and its
    /// batch becomes visible to all threads within about this many
    /// nanoseconds (docs/c-api.md, "Publication policy").
    pub max_publish_delay_ns: u64,
    /// A wait for a grace period longer than this counts as stalled (0: 1 s).
    pub stall_threshold_ns: u64,
}

impl Options {
    /// No tables, every policy at its default.
    pub fn new() -> Options {
        Options::default()
    }

    /// Adds a table (id: the number of tables before it).
    pub fn table(self, name: &str, merge: MergeOp) -> Options {
        self.table_with_capacity(name, merge, 0)
    }

    /// Adds a table with room reserved for `expected_entries` per partition.
    pub fn table_with_capacity(
        mut self,
        name: &str,
        merge: MergeOp,
        expected_entries: usize,
    ) -> Options {
        self.tables.push(TableSpec {
            name: name.to_string(),
            merge,
            expected_entries,
        });
        self
    }
}

/// The 8-byte encoding of an `i64` in a numeric table (little-endian).
pub fn encode_i64(v: i64) -> [u8; 8] {
    v.to_le_bytes()
}

/// The 8-byte encoding of an `f64` in an [`MergeOp::AddF64`] table.
pub fn encode_f64(v: f64) -> [u8; 8] {
    v.to_le_bytes()
}

fn eight(value: &[u8], what: &str) -> Result<[u8; 8]> {
    let mut b = [0u8; 8];
    if value.len() != 8 {
        return Err(Error::InvalidArgument(format!(
            "{}: the value is {} bytes, not 8",
            what,
            value.len()
        )));
    }
    b.copy_from_slice(value);
    Ok(b)
}

/// Decodes a value of a numeric table; [`Error::InvalidArgument`] if it is
/// not 8 bytes.
pub fn decode_i64(value: &[u8]) -> Result<i64> {
    eight(value, "rcustate::decode_i64").map(i64::from_le_bytes)
}

/// Decodes a value of an [`MergeOp::AddF64`] table; [`Error::InvalidArgument`]
/// if it is not 8 bytes.
pub fn decode_f64(value: &[u8]) -> Result<f64> {
    eight(value, "rcustate::decode_f64").map(f64::from_le_bytes)
}

/// `Option<&[u8]>` to `Option<i64>`.
pub(crate) fn opt_i64(v: Option<&[u8]>) -> Result<Option<i64>> {
    v.map(decode_i64).transpose()
}

/// `Option<&[u8]>` to `Option<f64>`.
pub(crate) fn opt_f64(v: Option<&[u8]>) -> Result<Option<f64>> {
    v.map(decode_f64).transpose()
}

/// A byte slice from a pointer and length handed out by the library (the
/// pointer may be NULL when the length is 0).
///
/// SAFETY: `ptr` must point at `len` readable bytes that stay valid and
/// unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const c_void, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(ptr as *const u8, len)
    }
}

/// A key or value as the C API takes it.
pub(crate) fn raw(b: &[u8]) -> (*const c_void, usize) {
    (b.as_ptr() as *const c_void, b.len())
}

/// Registers the calling thread with RCU now rather than at its first use of
/// the library (to keep that cost off a latency-sensitive path). Idempotent.
pub fn thread_attach() {
    // SAFETY: no arguments; returns RCS_OK (RCS_EINTERNAL is reserved).
    let rc = unsafe { sys::rcs_thread_attach() };
    debug_assert_eq!(rc, sys::RCS_OK);
}

/// Unregisters the calling thread (it re-registers at its next use; a thread
/// that exits is unregistered anyway). [`Error::State`] inside a read section.
pub fn thread_detach() -> Result<()> {
    // SAFETY: no arguments.
    error::check(unsafe { sys::rcs_thread_detach() })
}

/// Whether the calling thread is inside a read section (opened by this crate,
/// the C API or the C++ one).
pub fn in_read_section() -> bool {
    // SAFETY: no arguments.
    unsafe { sys::rcs_in_read_section() != 0 }
}

/// The version of the library loaded at run time, as `major*10000 +
/// minor*100 + patch` and as `"major.minor.patch"`.
pub fn library_version() -> (u32, &'static str) {
    // SAFETY: rcs_version_string returns a static NUL-terminated string.
    let s = unsafe { CStr::from_ptr(sys::rcs_version_string()) };
    (
        unsafe { sys::rcs_version_number() },
        s.to_str().unwrap_or("?"),
    )
}
