// SPDX-License-Identifier: LGPL-2.1-or-later
//! Checks the hand-written declarations of rcustate-sys against
//! `rcustate/rcustate.h`, so that the two cannot drift apart:
//!
//! - names, both ways: every function, struct, struct field, opaque handle,
//!   callback type and constant of the header is declared in `src/lib.rs`, and
//!   nothing is declared there that the header lacks; functions also with
//!   their number of parameters;
//! - signatures: a C probe compiled against the header asserts that the type of
//!   every function and callback, as translated from its Rust declaration, is
//!   compatible with the header's (`__builtin_types_compatible_p`);
//! - layout: the probe prints every struct's size, alignment and field
//!   offsets and every constant's value and size, compared with what the Rust
//!   compiler gives (offsets through `MaybeUninit` and `addr_of!`).
//!
//! The header's directory comes from the build script (`RCUSTATE_INCLUDE_DIR`
//! or pkg-config); the C compiler is `$CC`, else `cc`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::mem::{align_of, size_of, size_of_val, MaybeUninit};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::ptr::addr_of;

use rcustate_sys as sys;

// ---------------------------------------------------------------- the Rust side

/// Every constant of the sys crate, with its value and size as compiled.
macro_rules! constants {
    ($($name:ident),* $(,)?) => {
        vec![$((stringify!($name), sys::$name as i128, size_of_val(&sys::$name))),*]
    };
}

struct StructLayout {
    name: &'static str,
    size: usize,
    align: usize,
    fields: Vec<(&'static str, usize)>,
}

/// Size, alignment and field offsets of the listed structs. The list must
/// name every field: a destructuring pattern without `..` makes a missing one
/// a compile error.
macro_rules! structs {
    ($($name:ident { $($field:ident),* $(,)? })*) => {{
        let mut v: Vec<StructLayout> = Vec::new();
        $({
            #[allow(dead_code)]
            fn every_field_listed(s: sys::$name) {
                let sys::$name { $($field: _),* } = s;
            }
            let u = MaybeUninit::<sys::$name>::uninit();
            let base = u.as_ptr();
            // SAFETY: addr_of! computes field addresses without reading the
            // uninitialized memory or making references to it.
            let fields = vec![$((
                stringify!($field),
                unsafe { (addr_of!((*base).$field) as *const u8).offset_from(base as *const u8) }
                    as usize,
            )),*];
            v.push(StructLayout {
                name: stringify!($name),
                size: size_of::<sys::$name>(),
                align: align_of::<sys::$name>(),
                fields,
            });
        })*
        v
    }};
}

fn rust_constants() -> Vec<(&'static str, i128, usize)> {
    constants![
        RCS_VERSION_MAJOR,
        RCS_VERSION_MINOR,
        RCS_VERSION_PATCH,
        RCS_VERSION_NUMBER,
        RCS_OK,
        RCS_ENOTFOUND,
        RCS_EINVAL,
        RCS_ENOMEM,
        RCS_ENOPARTITION,
        RCS_EEXIST,
        RCS_ENOTABLE,
        RCS_ERANGE,
        RCS_ESTATE,
        RCS_EIO,
        RCS_ECORRUPT,
        RCS_EINTERNAL,
        RCS_MAX_KEY_SIZE,
        RCS_MERGE_NONE,
        RCS_MERGE_ADD_I64,
        RCS_MERGE_MIN_I64,
        RCS_MERGE_MAX_I64,
        RCS_MERGE_ADD_F64,
        RCS_MERGE_APPEND,
        RCS_READ_MEMB,
        RCS_READ_QSBR,
        RCS_CHECKPOINT_FULL,
        RCS_CHECKPOINT_INCREMENTAL,
        RCS_LOG_WARNING,
        RCS_LOG_ERROR,
        RCS_LOG_FATAL,
    ]
}

fn rust_structs() -> Vec<StructLayout> {
    structs! {
        rcs_table_spec { name, merge_op, expected_entries }
        rcs_options {
            struct_size, tables, num_tables, memory_budget_bytes, max_publish_delay_ns,
            read_flavor, stall_threshold_ns,
        }
        rcs_partition_stats {
            struct_size, version, committed_version, commits, publications, commit_wait_ns,
            grace_waits, standby_copies, approx_bytes, pins_alive, num_tables,
            backlog_publications, stalled_grace_periods, grace_wait_age_ns, catch_ups,
        }
        rcs_store_stats {
            struct_size, partitions, entries, approx_bytes, pins_alive, oldest_grace_wait_ns,
            reclamation_callbacks, reclamation_bytes, commits, publications, grace_waits,
            commit_wait_ns, standby_copies, catch_ups, backlog_publications,
            stalled_grace_periods, commit_latency_count, commit_latency_sum_ns,
            grace_wait_count, grace_wait_sum_ns,
        }
        rcs_checkpoint_info { struct_size, partition, version, base_version, bytes, entries }
    }
}

// ---------------------------------------------------------------- small parsing helpers

/// `text` without C comments (`/* */` and `//`), string literals kept.
fn strip_c_comments(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str(&text[start..i.min(b.len())]);
        } else if text[i..].starts_with("/*") {
            let end = text[i + 2..]
                .find("*/")
                .map(|e| i + 2 + e + 2)
                .unwrap_or(b.len());
            out.push(' ');
            i = end;
        } else if text[i..].starts_with("//") {
            i = text[i..].find('\n').map(|e| i + e).unwrap_or(b.len());
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The text inside the bracket that opens at `open` (an index of `(` or `{`),
/// and the index just past its closing bracket.
fn bracketed(text: &str, open: usize) -> (&str, usize) {
    let b = text.as_bytes();
    let (o, c) = (b[open], if b[open] == b'(' { b')' } else { b'}' });
    let mut depth = 0;
    for (i, &ch) in b.iter().enumerate().skip(open) {
        if ch == o {
            depth += 1;
        } else if ch == c {
            depth -= 1;
            if depth == 0 {
                return (&text[open + 1..i], i + 1);
            }
        }
    }
    panic!("unbalanced bracket at byte {}", open);
}

/// Splits at the commas (or `sep`) that are not nested in brackets.
fn split_top(text: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    let mut prev = ' ';
    for ch in text.chars() {
        match ch {
            '(' | '<' | '[' | '{' => depth += 1,
            '>' if prev == '-' => {} // Rust's `->`
            ')' | '>' | ']' | '}' => depth -= 1,
            _ => {}
        }
        prev = ch;
        if ch == sep && depth == 0 {
            parts.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(ch);
        }
    }
    if !cur.trim().is_empty() {
        parts.push(cur.trim().to_string());
    }
    parts
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifiers of `text`, in order.
fn identifiers(text: &str) -> Vec<&str> {
    text.split(|c: char| !is_ident_char(c))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Byte offsets of `word` as a whole identifier in `text`.
fn find_word(text: &str, word: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = text[from..].find(word) {
        let at = from + p;
        let before = text[..at].chars().next_back().map_or(false, is_ident_char);
        let after = text[at + word.len()..]
            .chars()
            .next()
            .map_or(false, is_ident_char);
        if !before && !after {
            out.push(at);
        }
        from = at + word.len();
    }
    out
}

/// Number of parameters of a C parameter list (`void` alone: 0).
fn c_param_count(params: &str) -> usize {
    let p = params.trim();
    if p.is_empty() || p == "void" {
        0
    } else {
        split_top(p, ',').len()
    }
}

// ---------------------------------------------------------------- the header

#[derive(Default, Debug)]
struct Header {
    functions: BTreeMap<String, usize>,     // name -> parameter count
    called: BTreeSet<String>,               // every rcs_x( in the text, declared RCS_API or not
    constants: BTreeSet<String>,            // #define RCS_* constants and enumerators
    structs: BTreeMap<String, Vec<String>>, // name -> field names
    opaque: BTreeSet<String>,               // typedef struct x x; without a definition
    callbacks: BTreeMap<String, usize>,     // function pointer typedefs -> parameter count
}

fn parse_header(text: &str) -> Header {
    let text = strip_c_comments(text);
    let mut h = Header::default();
    // Preprocessor lines: object-like #defines of RCS_ constants; then drop them.
    let mut body = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix('#') {
            let rest = rest.trim_start();
            if let Some(def) = rest.strip_prefix("define") {
                let def = def.trim_start();
                let name: String = def.chars().take_while(|&c| is_ident_char(c)).collect();
                let function_like = def[name.len()..].starts_with('(');
                let value = def[name.len()..].trim();
                // RCS_API and RCS_NOEXCEPT are attributes, not constants.
                if name.starts_with("RCS_")
                    && !function_like
                    && !value.is_empty()
                    && name != "RCS_API"
                    && name != "RCS_NOEXCEPT"
                {
                    h.constants.insert(name);
                }
            }
            body.push('\n');
        } else {
            body.push_str(line);
            body.push('\n');
        }
    }
    // Functions: RCS_API <return type> name(params) RCS_NOEXCEPT;
    for at in find_word(&body, "RCS_API") {
        let decl_end = body[at..]
            .find(';')
            .map(|e| at + e)
            .expect("declaration without ;");
        let decl = &body[at..decl_end];
        let open = decl.find('(').expect("RCS_API without a parameter list");
        let name = identifiers(&decl[..open]).last().unwrap().to_string();
        let (params, _) = bracketed(decl, open);
        h.functions.insert(name, c_param_count(params));
    }
    // Every rcs_ identifier followed by '(' (a declaration that forgot RCS_API).
    for (i, _) in body.match_indices("rcs_") {
        if body[..i].chars().next_back().map_or(false, is_ident_char) {
            continue;
        }
        let name: String = body[i..]
            .chars()
            .take_while(|&c| is_ident_char(c))
            .collect();
        if body[i + name.len()..].trim_start().starts_with('(') {
            h.called.insert(name);
        }
    }
    // Enumerators.
    for at in find_word(&body, "enum") {
        let rest = &body[at..];
        if let Some(open) = rest.find('{') {
            if rest[..open].contains(';') {
                continue;
            }
            let (members, _) = bracketed(rest, open);
            for m in split_top(members, ',') {
                let name = m.split('=').next().unwrap().trim().to_string();
                if !name.is_empty() {
                    h.constants.insert(name);
                }
            }
        }
    }
    // Structs: "struct name {" definitions, and "typedef struct name name;" handles.
    for at in find_word(&body, "struct") {
        let rest = &body[at + "struct".len()..];
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|&c| is_ident_char(c))
            .collect();
        let after = rest.trim_start()[name.len()..].trim_start();
        if after.starts_with('{') {
            let open = body.len() - after.len();
            let (fields, _) = bracketed(&body, open);
            let names = split_top(fields, ';')
                .iter()
                .map(|f| identifiers(f).last().unwrap().to_string())
                .collect();
            h.structs.insert(name, names);
        }
    }
    for at in find_word(&body, "typedef") {
        let end = at + body[at..].find(';').unwrap();
        let decl = &body[at..end];
        let ids = identifiers(decl);
        if ids.len() == 4 && ids[1] == "struct" && ids[2] == ids[3] && !decl.contains('{') {
            h.opaque.insert(ids[2].to_string());
        } else if let Some(star) = decl.find("(*") {
            let name_end = star + decl[star..].find(')').unwrap();
            let name = decl[star + 2..name_end].trim().to_string();
            let open = name_end + decl[name_end..].find('(').unwrap();
            let (params, _) = bracketed(decl, open);
            h.callbacks.insert(name, c_param_count(params));
        }
    }
    for s in h.structs.keys() {
        h.opaque.remove(s);
    }
    h
}

// ---------------------------------------------------------------- the sys crate's source

struct RustFn {
    params: Vec<String>, // Rust types
    ret: Option<String>,
}

#[derive(Default)]
struct SysSource {
    functions: BTreeMap<String, RustFn>,
    callbacks: BTreeMap<String, RustFn>,
    constants: BTreeSet<String>,
    structs: BTreeMap<String, Vec<String>>,
    opaque: BTreeSet<String>,
}

/// `(params) -> ret` of a Rust function signature starting at its `(`.
fn rust_signature(text: &str) -> (RustFn, usize) {
    let (params, end) = bracketed(text, 0);
    let params = split_top(params, ',')
        .iter()
        .map(|p| {
            p.split_once(':')
                .expect("parameter without a type")
                .1
                .trim()
                .to_string()
        })
        .collect();
    let rest = text[end..].trim_start();
    let ret = rest.strip_prefix("->").map(|r| {
        r.chars()
            .take_while(|&c| c != ',' && c != ';' && c != '>')
            .collect::<String>()
            .trim()
            .to_string()
    });
    (RustFn { params, ret }, end)
}

fn parse_sys_source(text: &str) -> SysSource {
    let text = strip_c_comments(text); // Rust's comments have C's syntax
    let mut s = SysSource::default();
    let block = text.find("extern \"C\" {").expect("no extern \"C\" block");
    let open = block + text[block..].find('{').unwrap();
    let (externs, _) = bracketed(&text, open);
    for item in split_top(externs, ';') {
        if let Some(at) = item.find("fn ") {
            let rest = &item[at + 3..];
            let open = rest.find('(').unwrap();
            let name = rest[..open].trim().to_string();
            let (sig, _) = rust_signature(&rest[open..]);
            s.functions.insert(name, sig);
        }
    }
    for at in find_word(&text, "const") {
        if text[..at].trim_end().ends_with("pub") {
            s.constants
                .insert(identifiers(&text[at..]).get(1).unwrap().to_string());
        }
    }
    for at in find_word(&text, "type") {
        if !text[..at].trim_end().ends_with("pub") {
            continue;
        }
        let stmt = &text[at..at + text[at..].find(';').unwrap()];
        let name = identifiers(stmt)[1].to_string();
        let marker = "extern \"C\" fn";
        if let Some(fn_at) = stmt.find(marker) {
            let (sig, _) = rust_signature(stmt[fn_at + marker.len()..].trim_start());
            s.callbacks.insert(name, sig);
        }
    }
    if let Some(at) = text.find("opaque!(") {
        let (names, _) = bracketed(&text, at + "opaque!".len());
        s.opaque
            .extend(split_top(names, ',').into_iter().filter(|n| !n.is_empty()));
    }
    // Structs: "pub struct name {" definitions with "pub field: Type," members.
    for at in find_word(&text, "struct") {
        let rest = &text[at + "struct".len()..];
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|&c| is_ident_char(c))
            .collect();
        let after = rest.trim_start()[name.len()..].trim_start();
        if after.starts_with('{') && name.starts_with("rcs_") {
            let open = text.len() - after.len();
            let (fields, _) = bracketed(&text, open);
            let names = split_top(fields, ',')
                .iter()
                .map(|f| {
                    identifiers(f.split(':').next().unwrap())
                        .last()
                        .unwrap()
                        .to_string()
                })
                .collect();
            s.structs.insert(name, names);
        }
    }
    s
}

/// The C spelling of a Rust type of the sys crate (pointers with postfix const).
fn c_type(rust: &str, s: &SysSource) -> String {
    let t = rust.trim();
    if let Some(inner) = t.strip_prefix("*mut ") {
        return format!("{} *", c_type(inner, s));
    }
    if let Some(inner) = t.strip_prefix("*const ") {
        return format!("{} const *", c_type(inner, s));
    }
    match t {
        "u8" => "uint8_t".into(),
        "u32" => "uint32_t".into(),
        "u64" => "uint64_t".into(),
        "i32" => "int32_t".into(),
        "i64" => "int64_t".into(),
        "f64" => "double".into(),
        "usize" => "size_t".into(),
        "c_int" => "int".into(),
        "c_char" => "char".into(),
        "c_void" => "void".into(),
        _ if s.callbacks.contains_key(t) => t.to_string(),
        _ if s.structs.contains_key(t) || s.opaque.contains(t) => format!("struct {}", t),
        _ => panic!(
            "the layout test cannot translate the Rust type `{}` to C",
            t
        ),
    }
}

/// `ret (*)(params)` for a Rust signature.
fn c_fn_pointer(f: &RustFn, s: &SysSource) -> String {
    let ret = f
        .ret
        .as_deref()
        .map(|r| c_type(r, s))
        .unwrap_or_else(|| "void".into());
    let params = if f.params.is_empty() {
        "void".to_string()
    } else {
        f.params
            .iter()
            .map(|p| c_type(p, s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("{} (*)({})", ret, params)
}

// ---------------------------------------------------------------- the test

fn include_dir() -> PathBuf {
    let dir = env!("RCUSTATE_SYS_INCLUDE_DIR");
    assert!(
        !dir.is_empty() && Path::new(dir).join("rcustate/rcustate.h").is_file(),
        "the layout test needs rcustate/rcustate.h: set RCUSTATE_INCLUDE_DIR to the directory \
         holding it (or make `pkg-config --cflags rcustate` name it) and rebuild; got {:?}",
        dir
    );
    PathBuf::from(dir)
}

/// Compares two name sets; returns the problems.
fn both_ways(what: &str, header: &BTreeSet<String>, rust: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    for n in header.difference(rust) {
        out.push(format!(
            "{} `{}` is in rcustate.h but not declared in rcustate-sys",
            what, n
        ));
    }
    for n in rust.difference(header) {
        out.push(format!(
            "{} `{}` is declared in rcustate-sys but not in rcustate.h",
            what, n
        ));
    }
    out
}

fn keys<V>(m: &BTreeMap<String, V>) -> BTreeSet<String> {
    m.keys().cloned().collect()
}

#[test]
fn declarations_match_the_header() {
    let inc = include_dir();
    let header_text = std::fs::read_to_string(inc.join("rcustate/rcustate.h")).unwrap();
    let header = parse_header(&header_text);
    let src_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs");
    let sys_src = parse_sys_source(&std::fs::read_to_string(&src_path).unwrap());
    let constants = rust_constants();
    let structs = rust_structs();

    // The parsers found something (a parser broken by a format change must
    // not make every comparison vacuous).
    assert!(
        header.functions.len() >= 60,
        "header parse: {:?}",
        header.functions.keys()
    );
    assert!(sys_src.functions.len() >= 60);
    assert!(header.constants.len() >= 20 && header.structs.len() >= 4);

    let mut problems = Vec::new();
    // Names, both ways.
    problems.extend(both_ways(
        "function",
        &keys(&header.functions),
        &keys(&sys_src.functions),
    ));
    for n in header.called.difference(&keys(&header.functions)) {
        problems.push(format!("rcustate.h declares `{}` without RCS_API", n));
    }
    for (name, &count) in &header.functions {
        if let Some(f) = sys_src.functions.get(name) {
            if f.params.len() != count {
                problems.push(format!(
                    "function `{}` takes {} parameters in rcustate.h, {} in rcustate-sys",
                    name,
                    count,
                    f.params.len()
                ));
            }
        }
    }
    problems.extend(both_ways(
        "callback type",
        &keys(&header.callbacks),
        &keys(&sys_src.callbacks),
    ));
    for (name, &count) in &header.callbacks {
        if let Some(f) = sys_src.callbacks.get(name) {
            if f.params.len() != count {
                problems.push(format!(
                    "callback `{}` takes {} parameters in rcustate.h, {} in rcustate-sys",
                    name,
                    count,
                    f.params.len()
                ));
            }
        }
    }
    problems.extend(both_ways("opaque handle", &header.opaque, &sys_src.opaque));
    problems.extend(both_ways("constant", &header.constants, &sys_src.constants));
    let listed: BTreeSet<String> = constants.iter().map(|c| c.0.to_string()).collect();
    for n in sys_src.constants.difference(&listed) {
        problems.push(format!("constant `{}` is missing from this test's list", n));
    }
    problems.extend(both_ways(
        "struct",
        &keys(&header.structs),
        &keys(&sys_src.structs),
    ));
    let checked: BTreeSet<String> = structs.iter().map(|s| s.name.to_string()).collect();
    for n in keys(&sys_src.structs).difference(&checked) {
        problems.push(format!("struct `{}` is missing from this test's list", n));
    }
    for (name, fields) in &header.structs {
        if let Some(rust_fields) = sys_src.structs.get(name) {
            let h: BTreeSet<String> = fields.iter().cloned().collect();
            let r: BTreeSet<String> = rust_fields.iter().cloned().collect();
            problems.extend(both_ways(&format!("field of {}", name), &h, &r));
        }
    }
    assert!(
        problems.is_empty(),
        "rcustate-sys and rcustate.h differ:\n  {}",
        problems.join("\n  ")
    );

    // The C probe: signatures as static assertions, layout and values printed.
    let mut c = String::new();
    c.push_str("#include <stddef.h>\n#include <stdio.h>\n#include <rcustate/rcustate.h>\n\n");
    for (name, f) in &sys_src.functions {
        writeln!(
            c,
            "_Static_assert(__builtin_types_compatible_p(__typeof__(&{n}), {t}),\n  \
             \"{n}: the Rust declaration's signature is not the header's: {t}\");",
            n = name,
            t = c_fn_pointer(f, &sys_src)
        )
        .unwrap();
    }
    for (name, f) in &sys_src.callbacks {
        writeln!(
            c,
            "_Static_assert(__builtin_types_compatible_p({n}, {t}),\n  \
             \"{n}: the Rust callback type is not the header's: {t}\");",
            n = name,
            t = c_fn_pointer(f, &sys_src)
        )
        .unwrap();
    }
    c.push_str("\nint main(void) {\n");
    for s in &structs {
        writeln!(
            c,
            "  printf(\"size {n} %zu\\n\", sizeof(struct {n}));",
            n = s.name
        )
        .unwrap();
        writeln!(
            c,
            "  printf(\"align {n} %zu\\n\", _Alignof(struct {n}));",
            n = s.name
        )
        .unwrap();
        for (f, _) in &s.fields {
            writeln!(
                c,
                "  printf(\"offset {n}.{f} %zu\\n\", offsetof(struct {n}, {f}));",
                n = s.name,
                f = f
            )
            .unwrap();
        }
    }
    for (name, _, _) in &constants {
        writeln!(
            c,
            "  printf(\"const {n} %lld %zu\\n\", (long long)({n}), sizeof({n}));",
            n = name
        )
        .unwrap();
    }
    c.push_str("  return 0;\n}\n");

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (probe_c, probe) = (dir.join("probe.c"), dir.join("probe"));
    std::fs::write(&probe_c, &c).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let out = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Werror", "-o"])
        .arg(&probe)
        .arg(&probe_c)
        .arg("-I")
        .arg(&inc)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{}`: {}", cc, e));
    assert!(
        out.status.success(),
        "the C probe ({}) does not compile against {}:\n{}",
        probe_c.display(),
        inc.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&probe).output().unwrap();
    assert!(run.status.success());
    let c_facts: BTreeMap<String, String> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut it = l.splitn(3, ' ');
            let (kind, name, value) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            (format!("{} {}", kind, name), value.to_string())
        })
        .collect();

    let mut expect = |key: String, rust: String| {
        let c = c_facts
            .get(&key)
            .cloned()
            .unwrap_or_else(|| "<missing>".to_string());
        if c != rust {
            problems.push(format!("{}: C says {}, Rust says {}", key, c, rust));
        }
    };
    for s in &structs {
        expect(format!("size {}", s.name), s.size.to_string());
        expect(format!("align {}", s.name), s.align.to_string());
        for (f, off) in &s.fields {
            expect(format!("offset {}.{}", s.name, f), off.to_string());
        }
    }
    for (name, value, size) in &constants {
        expect(format!("const {}", name), format!("{} {}", value, size));
    }
    assert!(
        problems.is_empty(),
        "rcustate-sys's layout differs from rcustate.h's:\n  {}",
        problems.join("\n  ")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The library loaded at run time is the one these declarations follow.
#[test]
fn runtime_version_matches() {
    // SAFETY: no arguments; a static string.
    let (n, s) = unsafe {
        (
            sys::rcs_version_number(),
            std::ffi::CStr::from_ptr(sys::rcs_version_string()),
        )
    };
    assert_eq!(n as i32, sys::RCS_VERSION_NUMBER);
    assert_eq!(
        s.to_str().unwrap(),
        format!(
            "{}.{}.{}",
            sys::RCS_VERSION_MAJOR,
            sys::RCS_VERSION_MINOR,
            sys::RCS_VERSION_PATCH
        )
    );
}
