// SPDX-License-Identifier: LGPL-2.1-or-later
//! The example of docs/rust.md: a counting table, a commit, a zero-copy read
//! inside a read section, a pinned snapshot, and a reader thread.
//!
//!     cargo run --example quickstart

use std::sync::Arc;

use rcustate::{MergeOp, Options, Store};

fn main() -> rcustate::Result<()> {
    let store = Store::open(
        &Options::new()
            .table("counts", MergeOp::AddI64)
            .table("names", MergeOp::None),
    )?;
    let counts = store.table_id("counts")?;
    let names = store.table_id("names")?;
    store.create_partition(0)?;

    store.merge_i64(0, counts, b"clicks", 1)?; // this thread's delta
    store.put(0, names, b"user:1", b"ada")?;
    let version = store.commit(0)?; // 1: visible to every thread
    println!("committed version {}", version);

    {
        let section = store.read(); // RCU read section: no lock, no copy
        let view = section.view(0)?; // one version across keys and tables
        let n = view.get_i64(counts, b"clicks")?;
        let name = view.get(names, b"user:1")?;
        println!(
            "clicks = {:?}, user:1 = {:?}",
            n,
            name.map(String::from_utf8_lossy)
        );
    } // values borrowed from the section end here

    let snap = store.snapshot(0)?; // pinned: keep it as long as you like
    store.merge_i64(0, counts, b"clicks", 1)?;
    store.commit(0)?;
    for (key, value) in snap.entries(counts)? {
        println!(
            "pinned version {}: {} = {}",
            snap.version(),
            String::from_utf8_lossy(key),
            rcustate::decode_i64(value)?
        );
    }

    // The store is Send + Sync: share it; each thread writes its own delta.
    let store = Arc::new(store);
    let reader = {
        let store = store.clone();
        std::thread::spawn(move || store.get_i64(0, counts, b"clicks"))
    };
    println!(
        "another thread reads clicks = {:?}",
        reader.join().unwrap()?
    );
    Ok(())
}
