// SPDX-License-Identifier: LGPL-2.1-or-later
//! Pinned snapshots.

use std::os::raw::{c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};

use rcustate_sys as sys;

use crate::error::{check, check_found, Error, Result};
use crate::{bytes, opt_f64, opt_i64, raw};

/// One committed version of a partition, consistent across its tables, for
/// as long as you keep it: it holds no read section (writers never wait for
/// it; they copy instead of reusing pinned memory). Values are borrowed from
/// the snapshot. It stays readable after later commits, after the partition
/// is dropped and after the store is closed. Without the uncommitted writes
/// of any thread. A value lives no longer than its snapshot:
///
/// ```compile_fail,E0597
/// # use rcustate::{MergeOp, Options, Store};
/// # let store = Store::open(&Options::new().table("t", MergeOp::None)).unwrap();
/// let value;
/// {
///     let snapshot = store.snapshot(0).unwrap();
///     value = snapshot.get(0, b"key").unwrap();
/// } // error: `snapshot` does not live long enough
/// println!("{:?}", value);
/// ```
pub struct Snapshot {
    raw: NonNull<sys::rcs_snapshot>,
}

// SAFETY: the snapshot read functions (get, foreach, count, version) may run
// on one snapshot from any number of threads at once; only rcs_snapshot_close
// must not overlap another use, and only Drop, which owns the snapshot, calls
// it. A snapshot is not tied to the thread that opened it.
unsafe impl Send for Snapshot {}
unsafe impl Sync for Snapshot {}

impl Snapshot {
    pub(crate) fn from_raw(raw: *mut sys::rcs_snapshot) -> Snapshot {
        Snapshot {
            raw: NonNull::new(raw).expect("rcs_snapshot_open returned RCS_OK and NULL"),
        }
    }

    /// The version pinned.
    pub fn version(&self) -> u64 {
        // SAFETY: valid snapshot.
        unsafe { sys::rcs_snapshot_version(self.raw.as_ptr()) }
    }

    /// The value of `key` in `table`, `None` if absent.
    pub fn get(&self, table: u32, key: &[u8]) -> Result<Option<&[u8]>> {
        let (k, kl) = raw(key);
        let (mut v, mut vl): (*const c_void, usize) = (ptr::null(), 0);
        // SAFETY: the value is owned by the snapshot until it is closed,
        // which needs `self` by value: borrowing it from `&self` is sound.
        let found = check_found(unsafe {
            sys::rcs_snapshot_get(self.raw.as_ptr(), table, k, kl, &mut v, &mut vl)
        })?;
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
        // SAFETY: valid snapshot and out pointer.
        check(unsafe { sys::rcs_snapshot_count(self.raw.as_ptr(), table, &mut n) })?;
        Ok(n)
    }

    /// Calls `f(key, value)` for every entry of `table`, in unspecified
    /// order, until it returns `false`. `f` may call anything (the walk holds
    /// no read section). A panic in `f` stops the walk and is resumed here.
    pub fn for_each<'a, F: FnMut(&'a [u8], &'a [u8]) -> bool>(
        &'a self,
        table: u32,
        f: F,
    ) -> Result<()> {
        struct Ctx<'a, F> {
            f: F,
            panic: Option<Box<dyn std::any::Any + Send + 'static>>,
            _values: std::marker::PhantomData<&'a ()>,
        }
        unsafe extern "C" fn call<'a, F: FnMut(&'a [u8], &'a [u8]) -> bool>(
            key: *const c_void,
            key_len: usize,
            value: *const c_void,
            value_len: usize,
            ctx: *mut c_void,
        ) -> c_int {
            // SAFETY: ctx is the Ctx below, alive during the walk; key and
            // value live until the snapshot is closed, after 'a.
            let ctx = &mut *(ctx as *mut Ctx<'a, F>);
            let (k, v) = (bytes(key, key_len), bytes(value, value_len));
            let f = &mut ctx.f;
            match panic::catch_unwind(AssertUnwindSafe(|| f(k, v))) {
                Ok(true) => 0,
                Ok(false) => 1,
                Err(p) => {
                    ctx.panic = Some(p);
                    2
                }
            }
        }
        let mut ctx = Ctx {
            f,
            panic: None,
            _values: std::marker::PhantomData,
        };
        // SAFETY: `call` matches rcs_entry_fn and gets `ctx` back.
        let rc = unsafe {
            sys::rcs_snapshot_foreach(
                self.raw.as_ptr(),
                table,
                Some(call::<'a, F>),
                &mut ctx as *mut Ctx<'a, F> as *mut c_void,
            )
        };
        if let Some(p) = ctx.panic {
            panic::resume_unwind(p);
        }
        match rc {
            0 | 1 => Ok(()),
            rc if rc < 0 => Err(Error::last(rc)),
            rc => Err(Error::Internal(format!(
                "rcs_snapshot_foreach: returned {}",
                rc
            ))),
        }
    }

    /// Every entry of `table` as `(key, value)` pairs, in unspecified order.
    pub fn entries(&self, table: u32) -> Result<Vec<(&[u8], &[u8])>> {
        let mut out = Vec::with_capacity(self.count(table)?);
        self.for_each(table, |k, v| {
            out.push((k, v));
            true
        })?;
        Ok(out)
    }

    /// The C handle, for calls of [`crate::sys`] (valid while `self` lives).
    pub fn as_raw(&self) -> *mut sys::rcs_snapshot {
        self.raw.as_ptr()
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        // SAFETY: owned; never blocks; allowed anywhere.
        unsafe { sys::rcs_snapshot_close(self.raw.as_ptr()) };
    }
}
