// SPDX-License-Identifier: LGPL-2.1-or-later
//! Every function of the safe API, on one thread (threads.rs: several), and
//! the errors it reports.

use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;

use rcustate::{
    decode_f64, decode_i64, encode_i64, in_read_section, Error, MergeOp, Options, Store,
};

const P: u32 = 0;

/// Tables: 0 "bytes" (no operator), 1 "sum" (add), 2 "min", 3 "max", 4 "real"
/// (f64 add), 5 "log" (append).
fn store() -> Store {
    let s = Store::open(
        &Options::new()
            .table("bytes", MergeOp::None)
            .table_with_capacity("sum", MergeOp::AddI64, 16)
            .table("min", MergeOp::MinI64)
            .table("max", MergeOp::MaxI64)
            .table("real", MergeOp::AddF64)
            .table("log", MergeOp::Append),
    )
    .unwrap();
    s.create_partition(P).unwrap();
    s
}
const BYTES: u32 = 0;
const SUM: u32 = 1;
const MIN: u32 = 2;
const MAX: u32 = 3;
const REAL: u32 = 4;
const LOG: u32 = 5;

fn tmp_dir(name: &str) -> PathBuf {
    let d =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn open_tables_and_its_errors() {
    let s = store();
    assert_eq!(s.table_count(), 6);
    assert_eq!(s.table_id("bytes").unwrap(), BYTES);
    assert_eq!(s.table_id("log").unwrap(), LOG);
    let e = s.table_id("nope").unwrap_err();
    assert!(matches!(e, Error::NoTable(_)), "{:?}", e);
    assert!(e.message().starts_with("rcs_table_id"), "{}", e);
    assert!(matches!(s.table_id("a\0b"), Err(Error::InvalidArgument(_))));

    let e = Store::open(&Options::new()).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{:?}", e);
    assert!(e.message().starts_with("rcs_store_open"), "{}", e);
    assert_eq!(e.code(), rcustate::sys::RCS_EINVAL);
    assert_eq!(e.to_string(), e.message());
    assert!(!e.description().is_empty());
    let dup = Options::new()
        .table("t", MergeOp::None)
        .table("t", MergeOp::AddI64);
    assert!(matches!(Store::open(&dup), Err(Error::InvalidArgument(_))));
    assert!(matches!(
        Store::open(&Options::new().table("", MergeOp::None)),
        Err(Error::InvalidArgument(_))
    ));
    let e = Store::open(&Options::new().table("a\0b", MergeOp::None)).unwrap_err();
    assert!(
        matches!(e, Error::InvalidArgument(_)) && e.message().contains("NUL"),
        "{:?}",
        e
    );
    let bad_delay = Options {
        max_publish_delay_ns: u64::MAX,
        ..Options::new().table("t", MergeOp::None)
    };
    assert!(matches!(
        Store::open(&bad_delay),
        Err(Error::InvalidArgument(_))
    ));
    // Policies are accepted.
    let group = Options {
        memory_budget_bytes: 1 << 20,
        max_publish_delay_ns: 1_000_000,
        stall_threshold_ns: 5_000_000_000,
        ..Options::new().table("t", MergeOp::None)
    };
    let g = Store::open(&group).unwrap();
    g.create_partition(1).unwrap();
    g.put(1, 0, b"k", b"v").unwrap();
    assert_eq!(g.commit(1).unwrap(), 1);
    assert_eq!(g.flush(1).unwrap(), 1);
    assert_eq!(g.get(1, 0, b"k").unwrap().as_deref(), Some(&b"v"[..]));
    // Stalls depend on timing: only check the call works.
    let (_stalled, _oldest_wait_ns) = g.grace_stalls();
}

#[test]
fn error_codes_map_both_ways() {
    use rcustate::sys;
    for code in [
        sys::RCS_ENOTFOUND,
        sys::RCS_EINVAL,
        sys::RCS_ENOMEM,
        sys::RCS_ENOPARTITION,
        sys::RCS_EEXIST,
        sys::RCS_ENOTABLE,
        sys::RCS_ERANGE,
        sys::RCS_ESTATE,
        sys::RCS_EIO,
        sys::RCS_ECORRUPT,
        sys::RCS_EINTERNAL,
        -55,
    ] {
        let e = Error::new(code, "m".to_string());
        assert_eq!(e.code(), code);
        assert_eq!(e.message(), "m");
    }
    assert!(matches!(
        Error::new(-55, String::new()),
        Error::Other { code: -55, .. }
    ));
    assert!(matches!(
        Error::new(sys::RCS_ESTATE, String::new()),
        Error::State(_)
    ));
}

#[test]
fn partitions() {
    let s = store();
    assert!(matches!(s.create_partition(P), Err(Error::Exists(_))));
    for p in [9, 3, 7] {
        s.create_partition(p).unwrap();
    }
    assert_eq!(s.partitions().unwrap(), vec![0, 3, 7, 9]);
    assert_eq!(s.version(7).unwrap(), 0);
    s.put(7, BYTES, b"k", b"v").unwrap();
    assert_eq!(s.commit(7).unwrap(), 1);
    assert_eq!(s.version(7).unwrap(), 1);
    assert_eq!(s.table_entries(7, BYTES).unwrap(), 1);
    assert_eq!(s.table_entries(7, SUM).unwrap(), 0);
    assert!(matches!(s.table_entries(7, 99), Err(Error::NoTable(_))));
    let st = s.stats(7).unwrap();
    assert_eq!(
        (st.version, st.committed_version, st.commits, st.num_tables),
        (1, 1, 1, 6)
    );
    assert!(st.approx_bytes > 0);
    let text = s.metrics_text().unwrap();
    assert!(text.contains("# TYPE rcustate_commits_total counter\n"), "{}", text);
    assert!(text.contains("rcustate_partition_version{partition=\"7\"} 1\n"), "{}", text);
    assert!(text.ends_with('\n'));
    s.drop_partition(7).unwrap();
    assert_eq!(s.partitions().unwrap(), vec![0, 3, 9]);
    let e = s.version(7).unwrap_err();
    assert!(
        matches!(e, Error::NoPartition(_)) && e.message().starts_with("rcs_version"),
        "{:?}",
        e
    );
    assert!(matches!(s.drop_partition(7), Err(Error::NoPartition(_))));
    assert!(matches!(s.stats(7), Err(Error::NoPartition(_))));
    assert!(matches!(
        s.put(7, BYTES, b"k", b"v"),
        Err(Error::NoPartition(_))
    ));
    assert!(matches!(s.get(7, BYTES, b"k"), Err(Error::NoPartition(_))));
    // Many partitions: the list grows past its first guess.
    for p in 100..400 {
        s.create_partition(p).unwrap();
    }
    assert_eq!(s.partitions().unwrap().len(), 303);
}

#[test]
fn writes_commit_and_read_your_writes() {
    let s = store();
    s.put(P, BYTES, b"a", b"1").unwrap();
    s.put(P, BYTES, b"b", b"").unwrap(); // the empty value is a value
    s.put(P, BYTES, b"", b"empty key").unwrap();
    // This thread sees its writes at once; another thread does not.
    assert_eq!(s.get(P, BYTES, b"a").unwrap(), Some(b"1".to_vec()));
    std::thread::scope(|sc| {
        sc.spawn(|| assert_eq!(s.get(P, BYTES, b"a").unwrap(), None));
    });
    assert_eq!(s.commit(P).unwrap(), 1);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            assert_eq!(s.get(P, BYTES, b"a").unwrap(), Some(b"1".to_vec()));
            assert_eq!(s.get(P, BYTES, b"b").unwrap(), Some(Vec::new()));
            assert_eq!(s.get(P, BYTES, b"").unwrap(), Some(b"empty key".to_vec()));
        });
    });
    s.delete(P, BYTES, b"a").unwrap();
    s.delete(P, BYTES, b"never there").unwrap();
    assert_eq!(s.get(P, BYTES, b"a").unwrap(), None);
    s.abort(P).unwrap(); // the delete is discarded
    assert_eq!(s.get(P, BYTES, b"a").unwrap(), Some(b"1".to_vec()));
    s.delete(P, BYTES, b"a").unwrap();
    assert_eq!(s.commit(P).unwrap(), 2);
    assert_eq!(s.get(P, BYTES, b"a").unwrap(), None);
    // Every commit creates a version, even an empty one.
    assert_eq!(s.commit(P).unwrap(), 3);
    // Clear empties the table at commit; later writes apply on top.
    s.clear(P, BYTES).unwrap();
    s.put(P, BYTES, b"after", b"x").unwrap();
    s.commit(P).unwrap();
    assert_eq!(s.table_entries(P, BYTES).unwrap(), 1);
    assert_eq!(s.get(P, BYTES, b"b").unwrap(), None);
    // A value longer than get's first buffer.
    let big = vec![7u8; 100_000];
    s.put(P, BYTES, b"big", &big).unwrap();
    s.commit(P).unwrap();
    assert_eq!(s.get(P, BYTES, b"big").unwrap(), Some(big));
    // Keys up to MAX_KEY_SIZE.
    let long = vec![b'k'; rcustate::MAX_KEY_SIZE];
    s.put(P, BYTES, &long, b"v").unwrap();
    let e = s
        .put(P, BYTES, &vec![b'k'; rcustate::MAX_KEY_SIZE + 1], b"v")
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidArgument(_)) && e.message().starts_with("rcs_put"),
        "{:?}",
        e
    );
    // Errors of the write calls.
    assert!(matches!(s.put(P, 99, b"k", b"v"), Err(Error::NoTable(_))));
    assert!(matches!(s.delete(P, 99, b"k"), Err(Error::NoTable(_))));
    assert!(matches!(s.clear(P, 99), Err(Error::NoTable(_))));
    assert!(matches!(s.commit(42), Err(Error::NoPartition(_))));
    assert!(matches!(s.flush(42), Err(Error::NoPartition(_))));
    assert!(matches!(s.abort(42), Err(Error::NoPartition(_))));
    assert!(matches!(s.get(P, 99, b"k"), Err(Error::NoTable(_))));
}

#[test]
fn merge_operators_and_numeric_helpers() {
    let s = store();
    s.merge_i64(P, SUM, b"n", 5).unwrap();
    s.merge_i64(P, SUM, b"n", -2).unwrap();
    s.merge_i64(P, SUM, b"wrap", i64::MAX).unwrap();
    s.merge_i64(P, SUM, b"wrap", 1).unwrap();
    s.merge_i64(P, MIN, b"m", 4).unwrap();
    s.merge_i64(P, MIN, b"m", -3).unwrap();
    s.merge_i64(P, MAX, b"m", 4).unwrap();
    s.merge_i64(P, MAX, b"m", -3).unwrap();
    s.merge_f64(P, REAL, b"x", 0.5).unwrap();
    s.merge_f64(P, REAL, b"x", 0.25).unwrap();
    s.merge(P, LOG, b"l", b"ab").unwrap();
    s.merge(P, LOG, b"l", b"cd").unwrap();
    s.commit(P).unwrap();
    assert_eq!(s.get_i64(P, SUM, b"n").unwrap(), Some(3));
    assert_eq!(s.get_i64(P, SUM, b"wrap").unwrap(), Some(i64::MIN));
    assert_eq!(s.get_i64(P, SUM, b"absent").unwrap(), None);
    assert_eq!(s.get_i64(P, MIN, b"m").unwrap(), Some(-3));
    assert_eq!(s.get_i64(P, MAX, b"m").unwrap(), Some(4));
    assert_eq!(s.get_f64(P, REAL, b"x").unwrap(), Some(0.75));
    assert_eq!(s.get(P, LOG, b"l").unwrap(), Some(b"abcd".to_vec()));
    s.put_i64(P, SUM, b"n", 100).unwrap();
    s.put_f64(P, REAL, b"x", 2.5).unwrap();
    s.commit(P).unwrap();
    assert_eq!(s.get_i64(P, SUM, b"n").unwrap(), Some(100));
    assert_eq!(s.get_f64(P, REAL, b"x").unwrap(), Some(2.5));

    // Refused: a merge without operator, numeric operands and values of the wrong size.
    let e = s.merge(P, BYTES, b"k", b"x").unwrap_err();
    assert!(
        matches!(e, Error::InvalidArgument(_)) && e.message().starts_with("rcs_merge"),
        "{:?}",
        e
    );
    assert!(matches!(
        s.merge(P, SUM, b"n", b"1234"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        s.put(P, SUM, b"n", b"1234"),
        Err(Error::InvalidArgument(_))
    ));
    // The helpers refuse values that are not 8 bytes.
    s.put(P, BYTES, b"short", b"123").unwrap();
    let e = s.get_i64(P, BYTES, b"short").unwrap_err();
    assert!(
        matches!(e, Error::InvalidArgument(_)) && e.message().contains("3 bytes"),
        "{:?}",
        e
    );
    assert!(s.get_f64(P, BYTES, b"short").is_err());
    assert_eq!(decode_i64(&encode_i64(-7)).unwrap(), -7);
    assert_eq!(decode_f64(&rcustate::encode_f64(1.5)).unwrap(), 1.5);
    assert!(decode_i64(b"123456789").is_err());
}

#[test]
fn read_with_a_callback() {
    let s = store();
    s.put(P, BYTES, b"k", b"value").unwrap();
    s.commit(P).unwrap();
    assert_eq!(s.read_with(P, BYTES, b"k", |v| v.len()).unwrap(), Some(5));
    assert_eq!(s.read_with(P, BYTES, b"absent", |v| v.len()).unwrap(), None);
    assert!(matches!(
        s.read_with(9, BYTES, b"k", |v| v.len()),
        Err(Error::NoPartition(_))
    ));
    // The callback runs inside a read section: committing there is refused.
    let inside = s
        .read_with(P, BYTES, b"k", |_| (in_read_section(), s.commit(P)))
        .unwrap()
        .unwrap();
    assert!(inside.0);
    assert!(matches!(inside.1, Err(Error::State(_))));
    // A panic in the callback comes out here, with the section closed.
    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = s.read_with(P, BYTES, b"k", |_| -> () { panic!("boom") });
    }));
    assert!(r.is_err());
    assert!(!in_read_section());
    assert_eq!(s.commit(P).unwrap(), 2);
}

#[test]
fn read_sections_views_and_their_rules() {
    let s = store();
    s.put(P, BYTES, b"a", b"1").unwrap();
    s.put(P, BYTES, b"b", b"2").unwrap();
    s.merge_i64(P, SUM, b"n", 9).unwrap();
    s.merge_f64(P, REAL, b"x", 1.5).unwrap();
    s.commit(P).unwrap();
    assert!(!in_read_section());
    {
        let section = s.read();
        assert!(in_read_section());
        assert!(std::ptr::eq(section.store(), &s));
        let a = section.get(P, BYTES, b"a").unwrap().unwrap();
        assert_eq!(section.get(P, BYTES, b"zz").unwrap(), None);
        assert_eq!(section.get_i64(P, SUM, b"n").unwrap(), Some(9));
        assert_eq!(section.get_f64(P, REAL, b"x").unwrap(), Some(1.5));
        assert!(matches!(
            section.get(5, BYTES, b"a"),
            Err(Error::NoPartition(_))
        ));
        assert!(matches!(section.get(P, 77, b"a"), Err(Error::NoTable(_))));
        // Calls that wait for a grace period are refused, and change nothing.
        s.put(P, BYTES, b"a", b"changed").unwrap();
        // Own uncommitted writes are seen; the earlier value stays valid.
        assert_eq!(section.get(P, BYTES, b"a").unwrap().unwrap(), b"changed");
        assert_eq!(a, b"1");
        let e = s.commit(P).unwrap_err();
        assert!(
            matches!(e, Error::State(_)) && e.message().starts_with("rcs_commit"),
            "{:?}",
            e
        );
        assert!(matches!(s.flush(P), Err(Error::State(_))));
        assert!(matches!(s.drop_partition(P), Err(Error::State(_))));
        assert!(matches!(rcustate::thread_detach(), Err(Error::State(_))));
        // A view: one version, without this thread's uncommitted writes.
        let view = section.view(P).unwrap();
        assert_eq!(view.version(), 1);
        assert_eq!(view.get(BYTES, b"a").unwrap(), Some(&b"1"[..]));
        assert_eq!(view.get(BYTES, b"zz").unwrap(), None);
        assert_eq!(view.get_i64(SUM, b"n").unwrap(), Some(9));
        assert_eq!(view.get_f64(REAL, b"x").unwrap(), Some(1.5));
        assert_eq!(view.count(BYTES).unwrap(), 2);
        assert!(matches!(view.count(99), Err(Error::NoTable(_))));
        assert!(matches!(view.get(99, b"a"), Err(Error::NoTable(_))));
        assert!(matches!(section.view(5), Err(Error::NoPartition(_))));
        // Sections nest; the values live until the outermost one ends.
        let inner = s.read();
        drop(inner);
        assert!(in_read_section());
        assert_eq!(a, b"1");
    }
    assert!(!in_read_section());
    // The refused commit kept the delta.
    assert_eq!(s.commit(P).unwrap(), 2);
    assert_eq!(s.get(P, BYTES, b"a").unwrap(), Some(b"changed".to_vec()));
    rcustate::thread_detach().unwrap();
    rcustate::thread_attach();
    // Sections dropped out of order: the thread leaves when both are gone.
    let first = s.read();
    let second = s.read();
    drop(first);
    assert!(in_read_section());
    drop(second);
    assert!(!in_read_section());
}

#[test]
fn closing_inside_a_read_section_is_refused() {
    let s = store();
    let other = store();
    other.put(P, BYTES, b"k", b"v").unwrap();
    let section = s.read();
    let (other, e) = other.close().unwrap_err();
    assert!(
        matches!(e, Error::State(_)) && e.message().starts_with("rcs_store_close"),
        "{:?}",
        e
    );
    // Still open and usable.
    assert_eq!(other.get(P, BYTES, b"k").unwrap(), Some(b"v".to_vec()));
    // Dropped here it cannot close: it is leaked, nothing else happens.
    let leaked = store();
    drop(leaked);
    drop(section);
    other.close().unwrap();
    s.close().unwrap();
}

#[test]
fn snapshots() {
    let s = store();
    for i in 0..10u8 {
        s.put(P, BYTES, &[b'k', i], &[i]).unwrap();
    }
    s.merge_i64(P, SUM, b"n", 3).unwrap();
    s.merge_f64(P, REAL, b"x", 0.5).unwrap();
    s.commit(P).unwrap();
    let snap = s.snapshot(P).unwrap();
    assert_eq!(snap.version(), 1);
    assert!(!snap.as_raw().is_null());
    assert_eq!(s.stats(P).unwrap().pins_alive, 1);
    // Later commits, a drop and a close do not change what it shows.
    s.clear(P, BYTES).unwrap();
    s.commit(P).unwrap();
    assert_eq!(s.table_entries(P, BYTES).unwrap(), 0);
    assert_eq!(snap.count(BYTES).unwrap(), 10);
    assert_eq!(snap.get(BYTES, b"k\x03").unwrap(), Some(&[3u8][..]));
    assert_eq!(snap.get(BYTES, b"zz").unwrap(), None);
    assert_eq!(snap.get_i64(SUM, b"n").unwrap(), Some(3));
    assert_eq!(snap.get_f64(REAL, b"x").unwrap(), Some(0.5));
    assert!(matches!(snap.get(99, b"k"), Err(Error::NoTable(_))));
    assert!(matches!(snap.count(99), Err(Error::NoTable(_))));
    assert!(matches!(s.snapshot(42), Err(Error::NoPartition(_))));
    let mut entries = snap.entries(BYTES).unwrap();
    entries.sort();
    assert_eq!(entries.len(), 10);
    assert_eq!(entries[4], (&b"k\x04"[..], &[4u8][..]));
    // for_each stops when the callback says so.
    let mut seen = 0;
    snap.for_each(BYTES, |_, _| {
        seen += 1;
        seen < 3
    })
    .unwrap();
    assert_eq!(seen, 3);
    assert!(matches!(
        snap.for_each(99, |_, _| true),
        Err(Error::NoTable(_))
    ));
    // The walk holds no read section: committing from the callback works.
    snap.for_each(SUM, |_, _| {
        assert!(!in_read_section());
        s.merge_i64(P, SUM, b"n", 1).unwrap();
        s.commit(P).unwrap();
        true
    })
    .unwrap();
    // A panic in the callback stops the walk and comes out here.
    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = snap.for_each(BYTES, |_, _| panic!("boom"));
    }));
    assert!(r.is_err());
    let v = snap.get(BYTES, b"k\x01").unwrap().unwrap();
    s.drop_partition(P).unwrap();
    drop(s);
    assert_eq!(v, &[1u8]);
    assert_eq!(snap.count(BYTES).unwrap(), 10);
}

#[test]
fn batches() {
    let s = store();
    s.create_partition(1).unwrap();
    let mut b = s.batch().unwrap();
    assert!(b.is_empty());
    b.put(BYTES, b"a", b"1").unwrap();
    b.put(BYTES, b"gone", b"x").unwrap();
    b.delete(BYTES, b"gone").unwrap();
    b.merge_i64(SUM, b"n", 2).unwrap();
    b.merge(LOG, b"l", b"xy").unwrap();
    b.put_i64(MAX, b"m", 8).unwrap();
    b.merge_f64(REAL, b"x", 0.5).unwrap();
    b.put_f64(REAL, b"y", 1.5).unwrap();
    assert_eq!(b.len(), 7);
    // Invisible to everybody, its maker included, until committed.
    assert_eq!(s.get(P, BYTES, b"a").unwrap(), None);
    assert_eq!(b.commit(1).unwrap(), 1);
    assert!(b.is_empty());
    assert_eq!(s.get(1, BYTES, b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(s.get(1, BYTES, b"gone").unwrap(), None);
    assert_eq!(s.get_i64(1, SUM, b"n").unwrap(), Some(2));
    assert_eq!(s.get(1, LOG, b"l").unwrap(), Some(b"xy".to_vec()));
    assert_eq!(s.get_i64(1, MAX, b"m").unwrap(), Some(8));
    assert_eq!(s.get_f64(1, REAL, b"x").unwrap(), Some(0.5));
    assert_eq!(s.get_f64(1, REAL, b"y").unwrap(), Some(1.5));
    // Errors leave the batch unchanged.
    b.put(BYTES, b"k", b"v").unwrap();
    assert!(matches!(b.put(99, b"k", b"v"), Err(Error::NoTable(_))));
    assert!(matches!(
        b.merge(BYTES, b"k", b"v"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        b.merge(SUM, b"k", b"v"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(b.clear(99), Err(Error::NoTable(_))));
    assert!(matches!(b.delete(99, b"k"), Err(Error::NoTable(_))));
    assert!(matches!(b.commit(42), Err(Error::NoPartition(_))));
    {
        let _section = s.read();
        let e = b.commit(1).unwrap_err();
        assert!(
            matches!(e, Error::State(_)) && e.message().starts_with("rcs_batch_commit"),
            "{:?}",
            e
        );
    }
    assert_eq!(b.len(), 1);
    b.clear(BYTES).unwrap();
    assert_eq!(b.commit(1).unwrap(), 2);
    assert_eq!(s.table_entries(1, BYTES).unwrap(), 0);
    b.put(BYTES, b"k", b"v").unwrap();
    b.reset();
    assert!(b.is_empty());
    // A batch may outlive its store: its operations then say so.
    b.put(BYTES, b"k", b"v").unwrap();
    drop(s);
    assert!(matches!(b.commit(1), Err(Error::State(_))));
    assert!(matches!(b.put(BYTES, b"k", b"v"), Err(Error::State(_))));
}

#[test]
fn table_readers_and_writers() {
    let s = store();
    let w = s.writer(P, SUM).unwrap();
    w.merge_i64(b"n", 4).unwrap();
    w.put_i64(b"p", 10).unwrap();
    w.put_i64(b"gone", 1).unwrap();
    w.delete(b"gone").unwrap();
    assert!(matches!(
        w.put(b"n", b"short"),
        Err(Error::InvalidArgument(_))
    ));
    // The writer writes this thread's delta: read it back, commit as usual.
    assert_eq!(s.get_i64(P, SUM, b"n").unwrap(), Some(4));
    assert_eq!(s.commit(P).unwrap(), 1);
    w.merge_i64(b"n", 1).unwrap();
    s.commit(P).unwrap();
    let wb = s.writer(P, BYTES).unwrap();
    wb.put(b"k", b"v").unwrap();
    assert!(matches!(
        wb.merge(b"k", b"v"),
        Err(Error::InvalidArgument(_))
    ));
    let wf = s.writer(P, REAL).unwrap();
    wf.merge_f64(b"x", 0.5).unwrap();
    s.commit(P).unwrap();
    assert!(matches!(s.writer(P, 99), Err(Error::NoTable(_))));
    assert!(matches!(s.writer(42, SUM), Err(Error::NoPartition(_))));

    let r = s.reader(P, SUM).unwrap();
    assert!(matches!(s.reader(42, SUM), Err(Error::NoPartition(_))));
    assert!(matches!(s.reader(P, 99), Err(Error::NoTable(_))));
    {
        let section = s.read();
        assert_eq!(r.get_i64(&section, b"n").unwrap(), Some(5));
        assert_eq!(r.get(&section, b"absent").unwrap(), None);
        assert_eq!(r.get_i64(&section, b"p").unwrap(), Some(10));
    }
    // A reader keeps reading the partition's last version after a drop.
    s.drop_partition(P).unwrap();
    drop(w);
    drop(wb);
    drop(wf);
    let section = s.read();
    assert_eq!(r.get_i64(&section, b"n").unwrap(), Some(5));
    drop(section);
    drop(s);
    let other = store();
    let section = other.read(); // sections are per thread, not per store
    assert_eq!(r.get_i64(&section, b"p").unwrap(), Some(10));
}

#[test]
fn checkpoint_and_restore() {
    let dir = tmp_dir("checkpoint");
    let s = store();
    s.put(P, BYTES, b"a", b"1").unwrap();
    s.merge_i64(P, SUM, b"n", 7).unwrap();
    s.commit(P).unwrap();
    let full = s.checkpoint(P, &dir, false).unwrap();
    assert_eq!(
        (
            full.partition,
            full.version,
            full.base_version,
            full.entries
        ),
        (P, 1, 0, 2)
    );
    assert!(full.bytes > 0);
    s.put(P, BYTES, b"b", b"2").unwrap();
    s.commit(P).unwrap();
    let inc = s.checkpoint(P, &dir, true).unwrap();
    assert_eq!((inc.version, inc.base_version), (2, 1));
    {
        let _section = s.read();
        assert!(matches!(s.checkpoint(P, &dir, true), Err(Error::State(_))));
    }
    assert!(matches!(
        s.checkpoint(42, &dir, false),
        Err(Error::NoPartition(_))
    ));

    let t = store(); // partition 0 exists there
    assert!(matches!(t.restore(P, &dir), Err(Error::Exists(_))));
    let info = t.restore(5, &dir).unwrap_err();
    assert!(
        matches!(info, Error::InvalidArgument(_) | Error::Corrupt(_)),
        "{:?}",
        info
    );
    drop(t);
    let t = Store::open(
        &Options::new()
            .table("bytes", MergeOp::None)
            .table("sum", MergeOp::AddI64)
            .table("min", MergeOp::MinI64)
            .table("max", MergeOp::MaxI64)
            .table("real", MergeOp::AddF64)
            .table("log", MergeOp::Append),
    )
    .unwrap();
    let info = t.restore(P, &dir).unwrap();
    assert_eq!(info.version, 2);
    assert_eq!(t.version(P).unwrap(), 2);
    assert_eq!(t.get(P, BYTES, b"b").unwrap(), Some(b"2".to_vec()));
    assert_eq!(t.get_i64(P, SUM, b"n").unwrap(), Some(7));
    let empty = tmp_dir("no-checkpoint");
    std::fs::create_dir_all(&empty).unwrap();
    let e = t.restore(3, &empty).unwrap_err();
    assert!(
        matches!(e, Error::Io(_)) && e.message().starts_with("rcs_restore"),
        "{:?}",
        e
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn library_version_is_the_headers() {
    let (n, s) = rcustate::library_version();
    assert_eq!(n as i32, rcustate::sys::RCS_VERSION_NUMBER);
    assert_eq!(
        s,
        format!(
            "{}.{}.{}",
            rcustate::sys::RCS_VERSION_MAJOR,
            rcustate::sys::RCS_VERSION_MINOR,
            rcustate::sys::RCS_VERSION_PATCH
        )
    );
}

#[test]
fn changelog_callbacks_and_replay() {
    use std::sync::{Arc, Mutex};
    let s = store();
    type Log = Vec<(u32, u64, Vec<u8>)>;
    let log: Arc<Mutex<Log>> = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    s.set_changelog(move |p, v, record| {
        sink.lock().unwrap().push((p, v, record.to_vec()));
        true
    })
    .unwrap();
    s.put(P, BYTES, b"a", b"1").unwrap();
    s.merge_i64(P, SUM, b"n", 2).unwrap();
    s.commit(P).unwrap();
    let mut b = s.batch().unwrap();
    b.merge(LOG, b"l", b"xy").unwrap();
    b.delete(BYTES, b"a").unwrap();
    b.commit(P).unwrap();
    let records = log.lock().unwrap().clone();
    assert_eq!(
        records.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(),
        vec![(P, 1), (P, 2)]
    );

    // A callback that refuses (or panics) fails the commit with Io; the delta is kept.
    s.set_changelog(|_, _, _| false).unwrap();
    s.put(P, BYTES, b"refused", b"x").unwrap();
    let e = s.commit(P).unwrap_err();
    assert!(
        matches!(e, Error::Io(_)) && e.message().starts_with("rcs_commit"),
        "{:?}",
        e
    );
    assert_eq!(s.version(P).unwrap(), 2);
    s.set_changelog(|_, _, _| panic!("a panicking changelog"))
        .unwrap();
    assert!(matches!(s.commit(P), Err(Error::Io(_))));
    assert!(matches!(b.commit(P), Err(Error::Io(_))));
    s.clear_changelog().unwrap();
    assert_eq!(s.commit(P).unwrap(), 3);
    assert_eq!(s.get(P, BYTES, b"refused").unwrap(), Some(b"x".to_vec()));
    assert_eq!(log.lock().unwrap().len(), 2);

    // Replay into another store with the same tables.
    let t = store();
    assert_eq!(t.apply_changelog(P, &records[0].2).unwrap(), 1);
    assert_eq!(t.apply_changelog(P, &records[0].2).unwrap(), 1); // a duplicate: skipped
    assert_eq!(t.apply_changelog(P, &records[1].2).unwrap(), 2);
    assert_eq!(t.get(P, BYTES, b"a").unwrap(), None);
    assert_eq!(t.get_i64(P, SUM, b"n").unwrap(), Some(2));
    assert_eq!(t.get(P, LOG, b"l").unwrap(), Some(b"xy".to_vec()));
    let u = store();
    let e = u.apply_changelog(P, &records[1].2).unwrap_err(); // version 2 before 1
    assert!(
        matches!(e, Error::State(_)) && e.message().starts_with("rcs_changelog_apply"),
        "{:?}",
        e
    );
    assert!(matches!(
        u.apply_changelog(P, b"not a record"),
        Err(Error::Corrupt(_))
    ));
    assert!(u.apply_changelog(42, &records[0].2).is_err()); // another partition's record
}

// Inside a changelog callback the calls that take the committing partition's
// locks are refused with State (they would deadlock), on that thread only.
#[test]
fn calls_that_would_deadlock_are_refused_inside_a_changelog_callback() {
    use std::sync::{Arc, Mutex, Weak};
    let s = Arc::new(store());
    let weak: Weak<Store> = Arc::downgrade(&s);
    let seen: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    s.set_changelog(move |p, _, _| {
        let s = weak.upgrade().unwrap();
        let mut out = sink.lock().unwrap();
        let refused = |r: rcustate::Result<()>| match r {
            Err(Error::State(m)) => m.contains("changelog callback"),
            _ => false,
        };
        out.push(format!("commit {}", refused(s.commit(p).map(|_| ()))));
        out.push(format!("flush {}", refused(s.flush(p).map(|_| ()))));
        out.push(format!("stats {}", refused(s.stats(p).map(|_| ()))));
        out.push(format!("drop {}", refused(s.drop_partition(p))));
        out.push(format!("apply {}", refused(s.apply_changelog(p, b"").map(|_| ()))));
        let mut b = s.batch().unwrap();
        out.push(format!("batch {}", refused(b.commit(p).map(|_| ()))));
        // Reads and other stores' calls are fine.
        out.push(format!("version {}", s.version(p).is_ok()));
        true
    })
    .unwrap();
    s.put(P, BYTES, b"k", b"v").unwrap();
    assert_eq!(s.commit(P).unwrap(), 1);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            "commit true", "flush true", "stats true", "drop true", "apply true", "batch true",
            "version true"
        ]
    );
    // Outside the callback, on the same thread, they work again.
    s.clear_changelog().unwrap();
    assert_eq!(s.commit(P).unwrap(), 2);
    assert_eq!(s.stats(P).unwrap().version, 2);
}
