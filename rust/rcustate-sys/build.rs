// SPDX-License-Identifier: LGPL-2.1-or-later
//! Finds librcustate for the linker, and its header for the layout test.
//!
//! The library directory comes from `RCUSTATE_LIB_DIR` if set, else from
//! `pkg-config --libs-only-L rcustate` (run as a command: no crate needed; an
//! uninstalled meson build is found by putting its `meson-uninstalled/`
//! directory into `PKG_CONFIG_PATH`). The include directory (the one holding
//! `rcustate/rcustate.h`) comes from `RCUSTATE_INCLUDE_DIR`, else from
//! pkg-config; it is handed to the crate's tests as the compile-time variable
//! `RCUSTATE_SYS_INCLUDE_DIR` (empty when unknown: the layout test then fails
//! and says how to set it).
//!
//! Only the link is set up here, not the run-time search: run programs and
//! tests with `LD_LIBRARY_PATH` naming the library's directory when it is not
//! in the system's search path (docs/rust.md).

use std::env;
use std::path::Path;
use std::process::Command;

fn pkg_config(args: &[&str]) -> Result<String, String> {
    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let out = Command::new(&program)
        .args(args)
        .arg("rcustate")
        .output()
        .map_err(|e| format!("cannot run `{}`: {}", program, e))?;
    if !out.status.success() {
        return Err(format!(
            "`{} {} rcustate` failed: {}",
            program,
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn has_header(dir: &str) -> bool {
    Path::new(dir).join("rcustate").join("rcustate.h").is_file()
}

fn main() {
    for var in [
        "RCUSTATE_LIB_DIR",
        "RCUSTATE_INCLUDE_DIR",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG",
    ] {
        println!("cargo:rerun-if-env-changed={}", var);
    }
    println!("cargo:rerun-if-changed=build.rs");

    let lib_dirs: Vec<String> = match env::var("RCUSTATE_LIB_DIR") {
        Ok(dir) if !dir.is_empty() => vec![dir],
        _ => match pkg_config(&["--libs-only-L"]) {
            Ok(out) => out
                .split_whitespace()
                .filter_map(|t| t.strip_prefix("-L"))
                .map(str::to_string)
                .collect(),
            Err(e) => panic!(
                "rcustate-sys cannot find librcustate: {}. Set RCUSTATE_LIB_DIR to the \
                 directory holding librcustate.so, or make `pkg-config rcustate` work \
                 (PKG_CONFIG_PATH; a meson build directory has one in meson-uninstalled/).",
                e
            ),
        },
    };
    for dir in &lib_dirs {
        println!("cargo:rustc-link-search=native={}", dir);
    }
    println!("cargo:rustc-link-lib=dylib=rcustate");

    let include_dir = match env::var("RCUSTATE_INCLUDE_DIR") {
        Ok(dir) if !dir.is_empty() => Some(dir),
        _ => pkg_config(&["--cflags-only-I"])
            .ok()
            .and_then(|out| {
                out.split_whitespace()
                    .filter_map(|t| t.strip_prefix("-I"))
                    .find(|d| has_header(d))
                    .map(str::to_string)
            })
            .or_else(|| {
                // pkg-config leaves out system directories such as /usr/include.
                pkg_config(&["--variable=includedir"])
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|d| has_header(d))
            }),
    };
    if let Some(dir) = &include_dir {
        println!("cargo:include={}", dir);
    }
    println!(
        "cargo:rustc-env=RCUSTATE_SYS_INCLUDE_DIR={}",
        include_dir.unwrap_or_default()
    );
}
