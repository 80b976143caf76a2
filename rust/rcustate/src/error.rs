// SPDX-License-Identifier: LGPL-2.1-or-later
//! Errors: one variant per `RCS_E*` code, each with the library's message.

use std::ffi::CStr;
use std::fmt;
use std::os::raw::c_int;

use rcustate_sys as sys;

/// An error of the library: the variant is its `RCS_E*` code, the string the
/// message the library wrote for it (it starts with the C function's name and
/// says what was wrong, e.g. `"rcs_put: no partition 7"`). Errors detected on
/// the Rust side before any call (a table name with a NUL byte, a numeric
/// value that is not 8 bytes) use the same variants, with a message naming the
/// Rust function.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `RCS_ENOTFOUND`: the key is absent. The lookups of this crate return
    /// `Ok(None)` for an absent key rather than this.
    NotFound(String),
    /// `RCS_EINVAL`: an invalid argument (key too long, a numeric value or
    /// operand that is not 8 bytes, a merge on a table without operator, bad
    /// options).
    InvalidArgument(String),
    /// `RCS_ENOMEM`: an allocation failed; the call changed nothing.
    NoMemory(String),
    /// `RCS_ENOPARTITION`: unknown or dropped partition.
    NoPartition(String),
    /// `RCS_EEXIST`: the partition already exists.
    Exists(String),
    /// `RCS_ENOTABLE`: unknown table id or name.
    NoTable(String),
    /// `RCS_ERANGE`: a buffer was too small (handled inside this crate; not
    /// returned by its functions today).
    Range(String),
    /// `RCS_ESTATE`: not allowed now, e.g. a commit inside a read section, or
    /// a batch whose store was closed.
    State(String),
    /// `RCS_EIO`: an I/O failure (checkpoints).
    Io(String),
    /// `RCS_ECORRUPT`: a damaged checkpoint file or changelog record.
    Corrupt(String),
    /// `RCS_EINTERNAL`: a bug of the library.
    Internal(String),
    /// A code this crate does not know (from a newer library).
    Other {
        /// The code.
        code: i32,
        /// The library's message.
        message: String,
    },
}

/// The result of every fallible call of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The error for `code` with `message`.
    pub fn new(code: i32, message: String) -> Error {
        match code {
            sys::RCS_ENOTFOUND => Error::NotFound(message),
            sys::RCS_EINVAL => Error::InvalidArgument(message),
            sys::RCS_ENOMEM => Error::NoMemory(message),
            sys::RCS_ENOPARTITION => Error::NoPartition(message),
            sys::RCS_EEXIST => Error::Exists(message),
            sys::RCS_ENOTABLE => Error::NoTable(message),
            sys::RCS_ERANGE => Error::Range(message),
            sys::RCS_ESTATE => Error::State(message),
            sys::RCS_EIO => Error::Io(message),
            sys::RCS_ECORRUPT => Error::Corrupt(message),
            sys::RCS_EINTERNAL => Error::Internal(message),
            _ => Error::Other { code, message },
        }
    }

    /// The error a library call just returned: `code` with the calling
    /// thread's `rcs_last_error()` (which is the message of that call, as
    /// long as no other call failed on this thread in between).
    pub(crate) fn last(code: c_int) -> Error {
        // SAFETY: rcs_last_error never returns NULL; the string stays valid
        // until this thread's next failing call, and is copied here first.
        let message = unsafe { CStr::from_ptr(sys::rcs_last_error()) }
            .to_string_lossy()
            .into_owned();
        Error::new(code, message)
    }

    /// The `RCS_E*` code (negative).
    pub fn code(&self) -> i32 {
        match self {
            Error::NotFound(_) => sys::RCS_ENOTFOUND,
            Error::InvalidArgument(_) => sys::RCS_EINVAL,
            Error::NoMemory(_) => sys::RCS_ENOMEM,
            Error::NoPartition(_) => sys::RCS_ENOPARTITION,
            Error::Exists(_) => sys::RCS_EEXIST,
            Error::NoTable(_) => sys::RCS_ENOTABLE,
            Error::Range(_) => sys::RCS_ERANGE,
            Error::State(_) => sys::RCS_ESTATE,
            Error::Io(_) => sys::RCS_EIO,
            Error::Corrupt(_) => sys::RCS_ECORRUPT,
            Error::Internal(_) => sys::RCS_EINTERNAL,
            Error::Other { code, .. } => *code,
        }
    }

    /// The library's message (or this crate's, for errors found before a call).
    pub fn message(&self) -> &str {
        match self {
            Error::NotFound(m)
            | Error::InvalidArgument(m)
            | Error::NoMemory(m)
            | Error::NoPartition(m)
            | Error::Exists(m)
            | Error::NoTable(m)
            | Error::Range(m)
            | Error::State(m)
            | Error::Io(m)
            | Error::Corrupt(m)
            | Error::Internal(m) => m,
            Error::Other { message, .. } => message,
        }
    }

    /// The library's static description of the code (`rcs_strerror`).
    pub fn description(&self) -> &'static str {
        // SAFETY: rcs_strerror returns a static NUL-terminated string, never NULL.
        unsafe { CStr::from_ptr(sys::rcs_strerror(self.code())) }
            .to_str()
            .unwrap_or("unknown error")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

/// `Ok(())` for `RCS_OK`, else the error with the thread's last message.
pub(crate) fn check(rc: c_int) -> Result<()> {
    if rc == sys::RCS_OK {
        Ok(())
    } else {
        Err(Error::last(rc))
    }
}

/// Like `check`, but an absent key is `Ok(false)`.
pub(crate) fn check_found(rc: c_int) -> Result<bool> {
    match rc {
        sys::RCS_OK => Ok(true),
        sys::RCS_ENOTFOUND => Ok(false),
        _ => Err(Error::last(rc)),
    }
}
