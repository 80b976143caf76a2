// SPDX-License-Identifier: LGPL-2.1-or-later
//! Zero-copy reads: read sections, views and table readers.

use std::marker::PhantomData;
use std::os::raw::c_void;
use std::ptr::{self, NonNull};

use rcustate_sys as sys;

use crate::error::{check, check_found, Result};
use crate::{bytes, opt_f64, opt_i64, raw, Store};

/// An RCU read section on the calling thread, open while this value lives
/// (`rcs_read_lock` when made by [`Store::read`], `rcs_read_unlock` when
/// dropped). Every value a lookup through it returns is borrowed from the
/// library without copying and stays valid and unchanged, whatever writers
/// commit, for as long as the section: the borrow checker makes sure no value
/// outlives it.
///
/// ```compile_fail,E0597
/// # use rcustate::{MergeOp, Options, Store};
/// # let store = Store::open(&Options::new().table("t", MergeOp::None)).unwrap();
/// let value;
/// {
///     let section = store.read();
///     value = section.get(0, 0, b"key").unwrap();
/// } // error: `section` does not live long enough
/// println!("{:?}", value);
/// ```
///
/// A section belongs to its thread (RCU's read lock is per thread), so it is
/// neither `Send` nor `Sync`:
///
/// ```compile_fail,E0277
/// # use rcustate::{MergeOp, Options, Store};
/// # let store = Store::open(&Options::new().table("t", MergeOp::None)).unwrap();
/// fn needs_send<T: Send>(_: T) {}
/// needs_send(store.read()); // error: `*mut ()` cannot be sent between threads
/// ```
///
/// Nor can the store be dropped while one of its sections is open:
///
/// ```compile_fail,E0505
/// # use rcustate::{MergeOp, Options, Store};
/// # let store = Store::open(&Options::new().table("t", MergeOp::None)).unwrap();
/// let section = store.read();
/// drop(store); // error: cannot move out of `store` because it is borrowed
/// drop(section);
/// ```
///
/// Keep sections short: a commit that needs a grace period waits for every
/// section open when it asked. Sections nest (only the outermost one's end
/// releases the values). Inside one, [`Store::commit`], [`Store::flush`],
/// [`crate::Batch::commit`], [`Store::drop_partition`] and closing a store
/// are refused with [`crate::Error::State`].
pub struct ReadSection<'a> {
    store: &'a Store,
    // The section is the calling thread's: not Send, not Sync.
    _thread: PhantomData<*mut ()>,
}

impl<'a> ReadSection<'a> {
    pub(crate) fn new(store: &'a Store) -> ReadSection<'a> {
        // SAFETY: no arguments; never fails. Dropping the section unlocks.
        unsafe { sys::rcs_read_lock() };
        ReadSection {
            store,
            _thread: PhantomData,
        }
    }

    /// The store the section was opened on.
    pub fn store(&self) -> &'a Store {
        self.store
    }

    /// The value of `key` as this thread sees it (its own uncommitted writes
    /// first, then the latest published version), without copying; `None` if
    /// absent. Two lookups may see two versions: use [`ReadSection::view`]
    /// for one version across keys.
    pub fn get(&self, partition: u32, table: u32, key: &[u8]) -> Result<Option<&[u8]>> {
        let (k, kl) = raw(key);
        let (mut v, mut vl): (*const c_void, usize) = (ptr::null(), 0);
        // SAFETY: the section is open on this thread (it is !Send and alive);
        // the value stays valid until the outermost unlock, which cannot
        // happen before `self` is dropped, so borrowing it from `self` is sound.
        let found = check_found(unsafe {
            sys::rcs_get_ref(
                self.store.as_raw(),
                partition,
                table,
                k,
                kl,
                &mut v,
                &mut vl,
            )
        })?;
        Ok(if found {
            Some(unsafe { bytes(v, vl) })
        } else {
            None
        })
    }

    /// The value of `key` in a numeric table.
    pub fn get_i64(&self, partition: u32, table: u32, key: &[u8]) -> Result<Option<i64>> {
        opt_i64(self.get(partition, table, key)?)
    }

    /// The value of `key` in an [`crate::MergeOp::AddF64`] table.
    pub fn get_f64(&self, partition: u32, table: u32, key: &[u8]) -> Result<Option<f64>> {
        opt_f64(self.get(partition, table, key)?)
    }

    /// The published version of a partition as one consistent state across
    /// keys and tables (a commit is seen whole or not at all), without this
    /// thread's uncommitted writes. Costs nothing to take.
    pub fn view(&self, partition: u32) -> Result<View<'_>> {
        let mut view: *const sys::rcs_view = ptr::null();
        // SAFETY: section open on this thread; the view lives until the
        // outermost unlock, so it borrows `self`.
        check(unsafe { sys::rcs_view_current(self.store.as_raw(), partition, &mut view) })?;
        Ok(View {
            raw: view,
            _section: PhantomData,
        })
    }
}

impl Drop for ReadSection<'_> {
    fn drop(&mut self) {
        // SAFETY: this section's rcs_read_lock is still open on this thread
        // (the value never left it). Sections nest by count, so dropping
        // sections in any order is fine.
        let rc = unsafe { sys::rcs_read_unlock() };
        debug_assert_eq!(rc, sys::RCS_OK);
    }
}

/// One published version of a partition, seen inside a read section; values
/// are borrowed from the section. Neither `Send` nor `Sync`, like the section.
///
/// ```compile_fail,E0597
/// # use rcustate::{MergeOp, Options, Store};
/// # let store = Store::open(&Options::new().table("t", MergeOp::None)).unwrap();
/// let value;
/// {
///     let section = store.read();
///     let view = section.view(0).unwrap();
///     value = view.get(0, b"key").unwrap();
/// } // error: `section` does not live long enough
/// println!("{:?}", value);
/// ```
#[derive(Clone, Copy)]
pub struct View<'s> {
    raw: *const sys::rcs_view,
    _section: PhantomData<&'s ReadSection<'s>>,
}

impl<'s> View<'s> {
    /// The version of the partition this view shows.
    pub fn version(&self) -> u64 {
        // SAFETY: the view is valid while the section lives ('s).
        unsafe { sys::rcs_view_version(self.raw) }
    }

    /// The value of `key` in `table`, `None` if absent.
    pub fn get(&self, table: u32, key: &[u8]) -> Result<Option<&'s [u8]>> {
        let (k, kl) = raw(key);
        let (mut v, mut vl): (*const c_void, usize) = (ptr::null(), 0);
        // SAFETY: the view and its values are valid while the section lives.
        let found =
            check_found(unsafe { sys::rcs_view_get(self.raw, table, k, kl, &mut v, &mut vl) })?;
        Ok(if found {
            Some(unsafe { bytes(v, vl) })
        } else {
            None
        })
    }

    /// The value of `key` in a numeric table.
    pub fn get_i64(&self, table: u32, key: &[u8]) -> Result<Option<i64>> {
        opt_i64(self.get(table, key)?)
    }

    /// The value of `key` in an [`crate::MergeOp::AddF64`] table.
    pub fn get_f64(&self, table: u32, key: &[u8]) -> Result<Option<f64>> {
        opt_f64(self.get(table, key)?)
    }

    /// The number of entries of `table`.
    pub fn count(&self, table: u32) -> Result<usize> {
        let mut n = 0usize;
        // SAFETY: valid view and out pointer.
        check(unsafe { sys::rcs_view_count(self.raw, table, &mut n) })?;
        Ok(n)
    }
}

/// A handle on one table of one partition, resolved once, for hot read
/// paths: each lookup is one probe of the latest published version (without
/// the calling thread's uncommitted writes), inside a read section.
/// It keeps reading the partition's last version after the partition is
/// dropped or the store closed. A value lives no longer than the section:
///
/// ```compile_fail,E0597
/// # use rcustate::{MergeOp, Options, Store};
/// # let store = Store::open(&Options::new().table("t", MergeOp::None)).unwrap();
/// let reader = store.reader(0, 0).unwrap();
/// let value;
/// {
///     let section = store.read();
///     value = reader.get(&section, b"key").unwrap();
/// } // error: `section` does not live long enough
/// println!("{:?}", value);
/// ```
pub struct TableReader {
    raw: NonNull<sys::rcs_reader>,
}

// SAFETY: "any number of threads may use one reader at once"
// (rcs_reader_get); only rcs_reader_close must not overlap another use, and
// only Drop, which owns the reader, calls it. The reader is not tied to the
// thread that opened it.
unsafe impl Send for TableReader {}
unsafe impl Sync for TableReader {}

impl TableReader {
    pub(crate) fn from_raw(raw: *mut sys::rcs_reader) -> TableReader {
        TableReader {
            raw: NonNull::new(raw).expect("rcs_reader_open returned RCS_OK and NULL"),
        }
    }

    /// The value of `key`, `None` if absent. `section` is any read section
    /// open on this thread (sections are per thread, not per store); the
    /// value lives as long as both the section and the reader (closing the
    /// reader may free the last version of a dropped partition).
    pub fn get<'a>(&'a self, section: &'a ReadSection<'_>, key: &[u8]) -> Result<Option<&'a [u8]>> {
        let _ = section; // only its borrow matters: a section is open on this thread
        let (k, kl) = raw(key);
        let (mut v, mut vl): (*const c_void, usize) = (ptr::null(), 0);
        // SAFETY: a section is open on this thread (`section` is !Send and
        // alive), and the value lives until its outermost unlock or the
        // reader's close, both after 'a.
        let found =
            check_found(unsafe { sys::rcs_reader_get(self.raw.as_ptr(), k, kl, &mut v, &mut vl) })?;
        Ok(if found {
            Some(unsafe { bytes(v, vl) })
        } else {
            None
        })
    }

    /// The value of `key` in a numeric table.
    pub fn get_i64(&self, section: &ReadSection<'_>, key: &[u8]) -> Result<Option<i64>> {
        opt_i64(self.get(section, key)?)
    }
}

impl Drop for TableReader {
    fn drop(&mut self) {
        // SAFETY: owned; never blocks; allowed inside a read section.
        unsafe { sys::rcs_reader_close(self.raw.as_ptr()) };
    }
}
