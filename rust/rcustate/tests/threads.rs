// SPDX-License-Identifier: LGPL-2.1-or-later
//! The store used from several threads: readers checking an invariant on
//! every read while a writer commits, writers sharing an `Arc<Store>`, and
//! handles moved or shared across threads. Durations scale with
//! RCUSTATE_STRESS_SCALE (default 1: a fraction of a second).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use rcustate::{MergeOp, Options, Store};

const VALS: u32 = 0;
const COUNT: u32 = 1;
const KEYS: usize = 8;

fn scale() -> u64 {
    std::env::var("RCUSTATE_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1)
}

fn key(i: usize) -> [u8; 2] {
    [b'k', i as u8]
}

fn open() -> Store {
    Store::open(
        &Options::new()
            .table("vals", MergeOp::None)
            .table("count", MergeOp::AddI64),
    )
    .unwrap()
}

/// Invariant: commit n (version n) of partition 0 sets every key of "vals"
/// to n and adds 1 to "count"/"n", in one batch. So any one version shows
/// every key equal to its version and the count equal to it too (absent at
/// version 0), and versions never go back on a thread.
fn check_version(version: u64, vals: &[Option<i64>], count: Option<i64>, what: &str) {
    let want = if version == 0 {
        None
    } else {
        Some(version as i64)
    };
    for (i, v) in vals.iter().enumerate() {
        assert_eq!(*v, want, "{}: key {} at version {}", what, i, version);
    }
    assert_eq!(count, want, "{}: count at version {}", what, version);
}

#[test]
fn readers_check_every_read_while_one_thread_commits() {
    let store = Arc::new(open());
    store.create_partition(0).unwrap();
    let commits = 5000 * scale();
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let reader = Arc::new(store.reader(0, VALS).unwrap());

    let mut readers = Vec::new();
    for r in 0..3 {
        let (store, done, reads, reader) =
            (store.clone(), done.clone(), reads.clone(), reader.clone());
        readers.push(thread::spawn(move || {
            let (mut last_view, mut last_get, mut last_copy) = (0u64, 0i64, 0i64);
            loop {
                // Checked after the reads, so at least one round runs after
                // the writer has finished.
                let finished = done.load(Ordering::Acquire);
                {
                    let section = store.read();
                    // A view: one version, whole.
                    let view = section.view(0).unwrap();
                    let v = view.version();
                    assert!(
                        v >= last_view,
                        "view version went back: {} after {}",
                        v,
                        last_view
                    );
                    last_view = v;
                    let vals: Vec<Option<i64>> = (0..KEYS)
                        .map(|i| view.get_i64(VALS, &key(i)).unwrap())
                        .collect();
                    check_version(v, &vals, view.get_i64(COUNT, b"n").unwrap(), "view");
                    // Latest-at-each-call lookups: never going back, never
                    // past what a later view shows.
                    for i in 0..KEYS {
                        let g = section.get_i64(0, VALS, &key(i)).unwrap().unwrap_or(0);
                        assert!(g >= last_get, "get went back: {} after {}", g, last_get);
                        last_get = g;
                        let t = reader.get_i64(&section, &key(i)).unwrap().unwrap_or(0);
                        assert!(
                            t >= last_get,
                            "table reader behind get: {} < {}",
                            t,
                            last_get
                        );
                        last_get = t;
                    }
                    let later = section.view(0).unwrap().version() as i64;
                    assert!(
                        last_get <= later,
                        "get saw {} past version {}",
                        last_get,
                        later
                    );
                }
                // A pinned snapshot: one version, whole, for as long as kept.
                let snap = store.snapshot(0).unwrap();
                let vals: Vec<Option<i64>> = (0..KEYS)
                    .map(|i| snap.get_i64(VALS, &key(i)).unwrap())
                    .collect();
                check_version(
                    snap.version(),
                    &vals,
                    snap.get_i64(COUNT, b"n").unwrap(),
                    "snapshot",
                );
                // Copying reads, with a thread sharing nothing but the Arc.
                let c = store.get_i64(0, COUNT, b"n").unwrap().unwrap_or(0);
                assert!(
                    c >= last_copy,
                    "copied count went back: {} after {}",
                    c,
                    last_copy
                );
                last_copy = c;
                reads.fetch_add(1, Ordering::Relaxed);
                if finished {
                    break;
                }
            }
            r
        }));
    }

    let writer = {
        let store = store.clone();
        thread::spawn(move || {
            for n in 1..=commits {
                for i in 0..KEYS {
                    store.put_i64(0, VALS, &key(i), n as i64).unwrap();
                }
                store.merge_i64(0, COUNT, b"n", 1).unwrap();
                assert_eq!(store.commit(0).unwrap(), n);
            }
        })
    };
    writer.join().unwrap();
    done.store(true, Ordering::Release);
    for r in readers {
        r.join().unwrap();
    }
    let reads = reads.load(Ordering::Relaxed);
    eprintln!("{} commits, {} reader rounds", commits, reads);
    assert!(reads >= 3);
    assert_eq!(store.version(0).unwrap(), commits);
    assert_eq!(store.get_i64(0, COUNT, b"n").unwrap(), Some(commits as i64));
}

#[test]
fn many_threads_write_through_one_arc_store() {
    let store = Arc::new(open());
    store.create_partition(0).unwrap();
    let threads = 4u32;
    let rounds = 300 * scale();
    let mut handles = Vec::new();
    for t in 0..threads {
        let store = store.clone();
        handles.push(thread::spawn(move || {
            // Each thread writes its own delta: merges into a shared key
            // commute, and its own partition sees only its commits.
            store.create_partition(1 + t).unwrap();
            for n in 1..=rounds {
                store.merge_i64(0, COUNT, b"shared", 1).unwrap();
                store.put_i64(1 + t, VALS, b"own", n as i64).unwrap();
                store.commit(0).unwrap();
                assert_eq!(store.commit(1 + t).unwrap(), n);
                // Read-your-writes is per thread: another thread's puts are
                // not in this thread's delta, so its partition reads back n.
                assert_eq!(store.get_i64(1 + t, VALS, b"own").unwrap(), Some(n as i64));
            }
            // Uncommitted writes stay this thread's own.
            store.put_i64(1 + t, VALS, b"pending", 1).unwrap();
            thread::spawn({
                let store = store.clone();
                move || assert_eq!(store.get_i64(1 + t, VALS, b"pending").unwrap(), None)
            })
            .join()
            .unwrap();
            store.abort(1 + t).unwrap();
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    let total = threads as u64 * rounds;
    assert_eq!(
        store.get_i64(0, COUNT, b"shared").unwrap(),
        Some(total as i64)
    );
    assert_eq!(store.version(0).unwrap(), total);
    for t in 0..threads {
        assert_eq!(store.version(1 + t).unwrap(), rounds);
        assert_eq!(store.get_i64(1 + t, VALS, b"pending").unwrap(), None);
    }
    assert_eq!(store.partitions().unwrap().len(), threads as usize + 1);
    // The last Arc dropped closes the store.
    let store = Arc::try_unwrap(store).unwrap();
    store.close().unwrap();
}

#[test]
fn handles_cross_threads() {
    let store = open();
    store.create_partition(0).unwrap();
    store.put_i64(0, VALS, b"a", 1).unwrap();
    store.commit(0).unwrap();
    let snap = Arc::new(store.snapshot(0).unwrap());
    let rounds = 200 * scale();
    thread::scope(|sc| {
        // A batch made here, filled and committed on another thread (Send).
        let mut batch = store.batch().unwrap();
        batch.put_i64(VALS, b"b", 2).unwrap();
        let committer = sc.spawn(move || {
            batch.merge_i64(COUNT, b"n", 5).unwrap();
            batch.commit(0).unwrap()
        });
        assert_eq!(committer.join().unwrap(), 2);
        // One snapshot read by several threads at once while a writer commits.
        for _ in 0..3 {
            let snap = snap.clone();
            sc.spawn(move || {
                for _ in 0..rounds {
                    assert_eq!(snap.version(), 1);
                    assert_eq!(snap.get_i64(VALS, b"a").unwrap(), Some(1));
                    assert_eq!(snap.get_i64(VALS, b"b").unwrap(), None);
                    assert_eq!(snap.count(VALS).unwrap(), 1);
                }
            });
        }
        let store = &store;
        sc.spawn(move || {
            for n in 0..rounds {
                store.put_i64(0, VALS, b"a", n as i64 + 10).unwrap();
                store.commit(0).unwrap();
            }
        });
    });
    assert_eq!(store.get_i64(0, COUNT, b"n").unwrap(), Some(5));
    assert_eq!(store.version(0).unwrap(), 2 + rounds);
    drop(store);
    assert_eq!(snap.get_i64(VALS, b"a").unwrap(), Some(1));
}
