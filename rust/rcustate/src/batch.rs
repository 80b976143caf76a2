// SPDX-License-Identifier: LGPL-2.1-or-later
//! Explicit batches and per-thread write handles.

use std::marker::PhantomData;
use std::ptr::NonNull;

use rcustate_sys as sys;

use crate::error::{check, Result};
use crate::{encode_f64, encode_i64, raw};

/// An explicit batch of changes bound to its store: invisible to everybody
/// (its maker included) until [`Batch::commit`], which applies it to any
/// partition of the store as one version and empties it; a failed commit
/// leaves it intact. On error every method leaves the batch unchanged.
/// It may outlive its store: its operations then return [`crate::Error::State`].
///
/// A batch may move to another thread, but not be shared by two:
///
/// ```compile_fail,E0277
/// # use rcustate::{MergeOp, Options, Store};
/// # let store = Store::open(&Options::new().table("t", MergeOp::None)).unwrap();
/// fn needs_sync<T: Sync>(_: &T) {}
/// needs_sync(&store.batch().unwrap()); // error: `NonNull<rcs_batch>` cannot be shared
/// ```
pub struct Batch {
    raw: NonNull<sys::rcs_batch>,
}

// SAFETY: a batch is used by one thread at a time, and may be used by any
// thread: it is not tied to the thread that created it. So it may be sent,
// but not shared (not Sync: even `len(&self)` may not run on two threads at
// once).
unsafe impl Send for Batch {}

impl Batch {
    pub(crate) fn from_raw(raw: *mut sys::rcs_batch) -> Batch {
        Batch {
            raw: NonNull::new(raw).expect("rcs_batch_create returned RCS_OK and NULL"),
        }
    }

    /// Sets `key` to `value` in `table`.
    pub fn put(&mut self, table: u32, key: &[u8], value: &[u8]) -> Result<()> {
        let ((k, kl), (v, vl)) = (raw(key), raw(value));
        // SAFETY: owned batch; key and value are copied.
        check(unsafe { sys::rcs_batch_put(self.raw.as_ptr(), table, k, kl, v, vl) })
    }

    /// Puts an `i64`.
    pub fn put_i64(&mut self, table: u32, key: &[u8], value: i64) -> Result<()> {
        self.put(table, key, &encode_i64(value))
    }

    /// Puts an `f64`.
    pub fn put_f64(&mut self, table: u32, key: &[u8], value: f64) -> Result<()> {
        self.put(table, key, &encode_f64(value))
    }

    /// Removes `key` from `table`.
    pub fn delete(&mut self, table: u32, key: &[u8]) -> Result<()> {
        let (k, kl) = raw(key);
        // SAFETY: owned batch; the key is copied.
        check(unsafe { sys::rcs_batch_delete(self.raw.as_ptr(), table, k, kl) })
    }

    /// Merges `operand` into `key` with the table's operator.
    pub fn merge(&mut self, table: u32, key: &[u8], operand: &[u8]) -> Result<()> {
        let ((k, kl), (o, ol)) = (raw(key), raw(operand));
        // SAFETY: owned batch; key and operand are copied.
        check(unsafe { sys::rcs_batch_merge(self.raw.as_ptr(), table, k, kl, o, ol) })
    }

    /// Merges an `i64` operand.
    pub fn merge_i64(&mut self, table: u32, key: &[u8], operand: i64) -> Result<()> {
        self.merge(table, key, &encode_i64(operand))
    }

    /// Merges an `f64` operand.
    pub fn merge_f64(&mut self, table: u32, key: &[u8], operand: f64) -> Result<()> {
        self.merge(table, key, &encode_f64(operand))
    }

    /// Empties `table` at commit; later changes of the batch apply on top.
    pub fn clear(&mut self, table: u32) -> Result<()> {
        // SAFETY: owned batch.
        check(unsafe { sys::rcs_batch_clear(self.raw.as_ptr(), table) })
    }

    /// Commits the batch to `partition` as its next version, returns that
    /// version and empties the batch. [`crate::Error::State`] inside a read
    /// section or after the store was closed (the batch is kept).
    pub fn commit(&mut self, partition: u32) -> Result<u64> {
        crate::store::refuse_in_changelog("Batch::commit")?;
        let mut v = 0u64;
        // SAFETY: owned batch, valid out pointer.
        check(unsafe { sys::rcs_batch_commit(self.raw.as_ptr(), partition, &mut v) })?;
        Ok(v)
    }

    /// Drops every change.
    pub fn reset(&mut self) {
        // SAFETY: owned batch.
        unsafe { sys::rcs_batch_reset(self.raw.as_ptr()) }
    }

    /// Distinct keys changed plus tables cleared.
    pub fn len(&self) -> usize {
        // SAFETY: valid batch; not shared between threads (Batch is !Sync).
        unsafe { sys::rcs_batch_size(self.raw.as_ptr()) }
    }

    /// Whether the batch has no change.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        // SAFETY: owned; allowed anywhere.
        unsafe { sys::rcs_batch_destroy(self.raw.as_ptr()) }
    }
}

/// A write handle on the calling thread's delta for one table of one
/// partition (what [`crate::Store::put`], `merge` and `delete` write to),
/// resolved once for a writer's hot loop. Commit with
/// [`crate::Store::commit`] on the same thread, as usual; the writer goes on
/// writing into the emptied delta. It belongs to the thread that opened it,
/// so it is neither `Send` nor `Sync`:
///
/// ```compile_fail,E0277
/// # use rcustate::{MergeOp, Options, Store};
/// # let store = Store::open(&Options::new().table("t", MergeOp::None)).unwrap();
/// # store.create_partition(0).unwrap();
/// let writer = store.writer(0, 0).unwrap();
/// std::thread::spawn(move || writer.put(b"k", b"v")); // error: not Send
/// ```
pub struct Writer {
    raw: NonNull<sys::rcs_writer>,
    // The library refuses (RCS_ESTATE) a writer used on another thread; the
    // type makes that a compile-time error instead.
    _thread: PhantomData<*mut ()>,
}

impl Writer {
    pub(crate) fn from_raw(raw: *mut sys::rcs_writer) -> Writer {
        Writer {
            raw: NonNull::new(raw).expect("rcs_writer_open returned RCS_OK and NULL"),
            _thread: PhantomData,
        }
    }

    /// Sets `key` to `value`.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let ((k, kl), (v, vl)) = (raw(key), raw(value));
        // SAFETY: valid writer on its own thread; key and value are copied.
        check(unsafe { sys::rcs_writer_put(self.raw.as_ptr(), k, kl, v, vl) })
    }

    /// Puts an `i64`.
    pub fn put_i64(&self, key: &[u8], value: i64) -> Result<()> {
        self.put(key, &encode_i64(value))
    }

    /// Merges `operand` into `key`.
    pub fn merge(&self, key: &[u8], operand: &[u8]) -> Result<()> {
        let ((k, kl), (o, ol)) = (raw(key), raw(operand));
        // SAFETY: valid writer on its own thread; key and operand are copied.
        check(unsafe { sys::rcs_writer_merge(self.raw.as_ptr(), k, kl, o, ol) })
    }

    /// Merges an `i64` operand.
    pub fn merge_i64(&self, key: &[u8], operand: i64) -> Result<()> {
        self.merge(key, &encode_i64(operand))
    }

    /// Merges an `f64` operand.
    pub fn merge_f64(&self, key: &[u8], operand: f64) -> Result<()> {
        self.merge(key, &encode_f64(operand))
    }

    /// Removes `key`.
    pub fn delete(&self, key: &[u8]) -> Result<()> {
        let (k, kl) = raw(key);
        // SAFETY: valid writer on its own thread; the key is copied.
        check(unsafe { sys::rcs_writer_delete(self.raw.as_ptr(), k, kl) })
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // SAFETY: owned; allowed anywhere. Its writes stay in the thread's delta.
        unsafe { sys::rcs_writer_close(self.raw.as_ptr()) }
    }
}
