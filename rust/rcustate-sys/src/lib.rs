// SPDX-License-Identifier: LGPL-2.1-or-later
//! Raw declarations of rcustate's C ABI, written by hand from
//! `include/rcustate/rcustate.h`: every function, struct and constant of the
//! header, with the header's names, so its comments (and docs/c-api.md) are
//! the documentation. Everything here is `unsafe` to call; the `rcustate`
//! crate is the safe API.
//!
//! C `size_t` is `usize` (the same size and alignment on every target the
//! library supports), `int` is `c_int`, the fixed-width integers are Rust's,
//! and a C function pointer type, which may be NULL, is an
//! `Option<unsafe extern "C" fn ...>`. The `layout` test compiles a C probe
//! against the header and compares every struct's size, alignment and field
//! offsets, every constant's value, and every function's name and signature
//! with these declarations, both ways.
//!
//! Linking: the build script finds the library through `RCUSTATE_LIB_DIR` or
//! `pkg-config rcustate` (docs/rust.md).

#![allow(non_camel_case_types)]

use std::marker::{PhantomData, PhantomPinned};
// std::os::raw rather than core::ffi: the latter's c_int and c_char need Rust 1.64.
pub use std::os::raw::{c_char, c_int, c_void};

// ---- Version of the header these declarations follow.
pub const RCS_VERSION_MAJOR: c_int = 0;
pub const RCS_VERSION_MINOR: c_int = 2;
pub const RCS_VERSION_PATCH: c_int = 0;
pub const RCS_VERSION_NUMBER: c_int =
    RCS_VERSION_MAJOR * 10000 + RCS_VERSION_MINOR * 100 + RCS_VERSION_PATCH;

// ---- Status codes (enum rcs_status).
pub const RCS_OK: c_int = 0;
pub const RCS_ENOTFOUND: c_int = -1;
pub const RCS_EINVAL: c_int = -2;
pub const RCS_ENOMEM: c_int = -3;
pub const RCS_ENOPARTITION: c_int = -4;
pub const RCS_EEXIST: c_int = -5;
pub const RCS_ENOTABLE: c_int = -6;
pub const RCS_ERANGE: c_int = -7;
pub const RCS_ESTATE: c_int = -8;
pub const RCS_EIO: c_int = -9;
pub const RCS_ECORRUPT: c_int = -10;
pub const RCS_EINTERNAL: c_int = -100;

/// Longest key accepted, in bytes.
pub const RCS_MAX_KEY_SIZE: usize = 64 * 1024;

// ---- Merge operators (enum rcs_merge_op), the values of rcs_table_spec::merge_op.
pub const RCS_MERGE_NONE: c_int = 0;
pub const RCS_MERGE_ADD_I64: c_int = 1;
pub const RCS_MERGE_MIN_I64: c_int = 2;
pub const RCS_MERGE_MAX_I64: c_int = 3;
pub const RCS_MERGE_ADD_F64: c_int = 4;
pub const RCS_MERGE_APPEND: c_int = 5;

// ---- Read flavors (rcs_options::read_flavor).
pub const RCS_READ_MEMB: c_int = 0;
pub const RCS_READ_QSBR: c_int = 1;

// ---- Checkpoint flags.
pub const RCS_CHECKPOINT_FULL: c_int = 0;
pub const RCS_CHECKPOINT_INCREMENTAL: c_int = 1;

// ---- Log levels (rcs_log_fn).
pub const RCS_LOG_WARNING: c_int = 1;
pub const RCS_LOG_ERROR: c_int = 2;
pub const RCS_LOG_FATAL: c_int = 3;

// ---- Opaque handles: only ever behind a pointer. Neither Send, Sync nor
// Unpin: what may cross threads is decided by the safe wrappers.
macro_rules! opaque {
    ($($name:ident),* $(,)?) => {$(
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
    )*};
}
opaque!(
    rcs_store,
    rcs_batch,
    rcs_snapshot,
    rcs_view,
    rcs_reader,
    rcs_writer
);

// ---- Structs.

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rcs_table_spec {
    pub name: *const c_char,
    pub merge_op: c_int,
    pub expected_entries: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rcs_options {
    pub struct_size: usize,
    pub tables: *const rcs_table_spec,
    pub num_tables: usize,
    pub memory_budget_bytes: usize,
    pub max_publish_delay_ns: u64,
    pub read_flavor: c_int,
    pub stall_threshold_ns: u64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct rcs_partition_stats {
    pub struct_size: usize,
    pub version: u64,
    pub committed_version: u64,
    pub commits: u64,
    pub publications: u64,
    pub commit_wait_ns: u64,
    pub grace_waits: u64,
    pub standby_copies: u64,
    pub approx_bytes: u64,
    pub pins_alive: u32,
    pub num_tables: u32,
    pub backlog_publications: u64,
    pub stalled_grace_periods: u64,
    pub grace_wait_age_ns: u64,
    pub catch_ups: u64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct rcs_store_stats {
    pub struct_size: usize,
    pub partitions: u64,
    pub entries: u64,
    pub approx_bytes: u64,
    pub pins_alive: u64,
    pub oldest_grace_wait_ns: u64,
    pub reclamation_callbacks: u64,
    pub reclamation_bytes: u64,
    pub commits: u64,
    pub publications: u64,
    pub grace_waits: u64,
    pub commit_wait_ns: u64,
    pub standby_copies: u64,
    pub catch_ups: u64,
    pub backlog_publications: u64,
    pub stalled_grace_periods: u64,
    pub commit_latency_count: u64,
    pub commit_latency_sum_ns: u64,
    pub grace_wait_count: u64,
    pub grace_wait_sum_ns: u64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct rcs_checkpoint_info {
    pub struct_size: usize,
    pub partition: u32,
    pub version: u64,
    pub base_version: u64,
    pub bytes: u64,
    pub entries: u64,
}

// ---- Callback types.

pub type rcs_value_fn =
    Option<unsafe extern "C" fn(value: *const c_void, value_len: usize, ctx: *mut c_void)>;
pub type rcs_entry_fn = Option<
    unsafe extern "C" fn(
        key: *const c_void,
        key_len: usize,
        value: *const c_void,
        value_len: usize,
        ctx: *mut c_void,
    ) -> c_int,
>;
pub type rcs_changelog_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        partition: u32,
        version: u64,
        record: *const c_void,
        record_len: usize,
    ) -> c_int,
>;
pub type rcs_log_fn =
    Option<unsafe extern "C" fn(arg: *mut c_void, level: c_int, message: *const c_char)>;

// ---- Functions, in the header's order.
extern "C" {
    // Options and store.
    pub fn rcs_options_init(opts: *mut rcs_options);
    pub fn rcs_store_open(opts: *const rcs_options, out: *mut *mut rcs_store) -> c_int;
    pub fn rcs_store_close(store: *mut rcs_store) -> c_int;
    pub fn rcs_table_id(store: *const rcs_store, name: *const c_char, out_table: *mut u32)
        -> c_int;
    pub fn rcs_table_count(store: *const rcs_store, out_count: *mut usize) -> c_int;

    // Partitions.
    pub fn rcs_partition_create(store: *mut rcs_store, partition: u32) -> c_int;
    pub fn rcs_partition_drop(store: *mut rcs_store, partition: u32) -> c_int;
    pub fn rcs_partition_list(
        store: *const rcs_store,
        ids: *mut u32,
        capacity: usize,
        out_count: *mut usize,
    ) -> c_int;
    pub fn rcs_version(store: *mut rcs_store, partition: u32, out_version: *mut u64) -> c_int;
    pub fn rcs_partition_stats(
        store: *mut rcs_store,
        partition: u32,
        out: *mut rcs_partition_stats,
    ) -> c_int;
    pub fn rcs_partition_table_entries(
        store: *mut rcs_store,
        partition: u32,
        table: u32,
        out_entries: *mut usize,
    ) -> c_int;

    // Reads.
    pub fn rcs_get(
        store: *mut rcs_store,
        partition: u32,
        table: u32,
        key: *const c_void,
        key_len: usize,
        buf: *mut c_void,
        buf_len: usize,
        out_value_len: *mut usize,
    ) -> c_int;
    pub fn rcs_read(
        store: *mut rcs_store,
        partition: u32,
        table: u32,
        key: *const c_void,
        key_len: usize,
        fn_: rcs_value_fn,
        ctx: *mut c_void,
    ) -> c_int;
    pub fn rcs_read_lock();
    pub fn rcs_read_unlock() -> c_int;
    pub fn rcs_in_read_section() -> c_int;
    pub fn rcs_get_ref(
        store: *mut rcs_store,
        partition: u32,
        table: u32,
        key: *const c_void,
        key_len: usize,
        out_value: *mut *const c_void,
        out_value_len: *mut usize,
    ) -> c_int;

    // Views.
    pub fn rcs_view_current(
        store: *mut rcs_store,
        partition: u32,
        out_view: *mut *const rcs_view,
    ) -> c_int;
    pub fn rcs_view_version(view: *const rcs_view) -> u64;
    pub fn rcs_view_get(
        view: *const rcs_view,
        table: u32,
        key: *const c_void,
        key_len: usize,
        out_value: *mut *const c_void,
        out_value_len: *mut usize,
    ) -> c_int;
    pub fn rcs_view_count(view: *const rcs_view, table: u32, out_count: *mut usize) -> c_int;

    // Table readers.
    pub fn rcs_reader_open(
        store: *mut rcs_store,
        partition: u32,
        table: u32,
        out: *mut *mut rcs_reader,
    ) -> c_int;
    pub fn rcs_reader_get(
        reader: *const rcs_reader,
        key: *const c_void,
        key_len: usize,
        out_value: *mut *const c_void,
        out_value_len: *mut usize,
    ) -> c_int;
    pub fn rcs_reader_close(reader: *mut rcs_reader);

    // Pinned snapshots.
    pub fn rcs_snapshot_open(
        store: *mut rcs_store,
        partition: u32,
        out: *mut *mut rcs_snapshot,
    ) -> c_int;
    pub fn rcs_snapshot_version(snap: *const rcs_snapshot) -> u64;
    pub fn rcs_snapshot_get(
        snap: *const rcs_snapshot,
        table: u32,
        key: *const c_void,
        key_len: usize,
        out_value: *mut *const c_void,
        out_value_len: *mut usize,
    ) -> c_int;
    pub fn rcs_snapshot_foreach(
        snap: *const rcs_snapshot,
        table: u32,
        fn_: rcs_entry_fn,
        ctx: *mut c_void,
    ) -> c_int;
    pub fn rcs_snapshot_count(
        snap: *const rcs_snapshot,
        table: u32,
        out_count: *mut usize,
    ) -> c_int;
    pub fn rcs_snapshot_close(snap: *mut rcs_snapshot);

    // Writes through the calling thread's delta.
    pub fn rcs_put(
        store: *mut rcs_store,
        partition: u32,
        table: u32,
        key: *const c_void,
        key_len: usize,
        value: *const c_void,
        value_len: usize,
    ) -> c_int;
    pub fn rcs_delete(
        store: *mut rcs_store,
        partition: u32,
        table: u32,
        key: *const c_void,
        key_len: usize,
    ) -> c_int;
    pub fn rcs_merge(
        store: *mut rcs_store,
        partition: u32,
        table: u32,
        key: *const c_void,
        key_len: usize,
        operand: *const c_void,
        operand_len: usize,
    ) -> c_int;
    pub fn rcs_clear(store: *mut rcs_store, partition: u32, table: u32) -> c_int;
    pub fn rcs_commit(store: *mut rcs_store, partition: u32, out_version: *mut u64) -> c_int;
    pub fn rcs_flush(store: *mut rcs_store, partition: u32, out_version: *mut u64) -> c_int;
    pub fn rcs_abort(store: *mut rcs_store, partition: u32) -> c_int;

    // Explicit batches.
    pub fn rcs_batch_create(store: *mut rcs_store, out: *mut *mut rcs_batch) -> c_int;
    pub fn rcs_batch_put(
        b: *mut rcs_batch,
        table: u32,
        key: *const c_void,
        key_len: usize,
        value: *const c_void,
        value_len: usize,
    ) -> c_int;
    pub fn rcs_batch_delete(
        b: *mut rcs_batch,
        table: u32,
        key: *const c_void,
        key_len: usize,
    ) -> c_int;
    pub fn rcs_batch_merge(
        b: *mut rcs_batch,
        table: u32,
        key: *const c_void,
        key_len: usize,
        operand: *const c_void,
        operand_len: usize,
    ) -> c_int;
    pub fn rcs_batch_clear(b: *mut rcs_batch, table: u32) -> c_int;
    pub fn rcs_batch_commit(b: *mut rcs_batch, partition: u32, out_version: *mut u64) -> c_int;
    pub fn rcs_batch_reset(b: *mut rcs_batch);
    pub fn rcs_batch_size(b: *const rcs_batch) -> usize;
    pub fn rcs_batch_destroy(b: *mut rcs_batch);

    // Durability.
    pub fn rcs_checkpoint(
        s: *mut rcs_store,
        partition: u32,
        dir: *const c_char,
        flags: c_int,
        info: *mut rcs_checkpoint_info,
    ) -> c_int;
    pub fn rcs_restore(
        s: *mut rcs_store,
        partition: u32,
        dir: *const c_char,
        info: *mut rcs_checkpoint_info,
    ) -> c_int;
    pub fn rcs_changelog_set(s: *mut rcs_store, fn_: rcs_changelog_fn, ctx: *mut c_void) -> c_int;
    pub fn rcs_changelog_apply(
        s: *mut rcs_store,
        partition: u32,
        record: *const c_void,
        record_len: usize,
        out_version: *mut u64,
    ) -> c_int;

    // Threads.
    pub fn rcs_thread_attach() -> c_int;
    pub fn rcs_thread_detach() -> c_int;

    // QSBR.
    pub fn rcs_thread_online();
    pub fn rcs_thread_offline();
    pub fn rcs_thread_is_online() -> c_int;
    pub fn rcs_quiescent_state();
    pub fn rcs_grace_stalls(
        store: *mut rcs_store,
        out_stalled: *mut u64,
        out_oldest_wait_ns: *mut u64,
    ) -> c_int;

    // Observability.
    pub fn rcs_store_stats(store: *mut rcs_store, out: *mut rcs_store_stats) -> c_int;
    pub fn rcs_metrics_text(
        store: *mut rcs_store,
        buf: *mut c_char,
        buf_len: usize,
        out_needed: *mut usize,
    ) -> c_int;
    pub fn rcs_set_log_handler(fn_: rcs_log_fn, arg: *mut c_void);

    // Errors and version.
    pub fn rcs_strerror(code: c_int) -> *const c_char;
    pub fn rcs_last_error() -> *const c_char;
    pub fn rcs_version_number() -> u32;
    pub fn rcs_version_string() -> *const c_char;

    // Write handles.
    pub fn rcs_writer_open(
        store: *mut rcs_store,
        partition: u32,
        table: u32,
        out: *mut *mut rcs_writer,
    ) -> c_int;
    pub fn rcs_writer_put(
        w: *mut rcs_writer,
        key: *const c_void,
        key_len: usize,
        value: *const c_void,
        value_len: usize,
    ) -> c_int;
    pub fn rcs_writer_merge(
        w: *mut rcs_writer,
        key: *const c_void,
        key_len: usize,
        operand: *const c_void,
        operand_len: usize,
    ) -> c_int;
    pub fn rcs_writer_delete(w: *mut rcs_writer, key: *const c_void, key_len: usize) -> c_int;
    pub fn rcs_writer_close(w: *mut rcs_writer);
}
