//! Configuration and script validation through the real binary:
//! `isoproxy --test` and start-up both stop on bad input with exit 1 and a
//! message naming the file, the line and the key.

mod common;

use std::process::{Command, Stdio};

use common::{BIN, TempDir, check_config};

const SERVER: &str = "[server]\nlisten = [\"127.0.0.1:0\"]\n\n";

fn conf(dir: &TempDir, body: &str) -> std::path::PathBuf {
    dir.write("isoproxy.toml", &format!("{SERVER}{body}"))
}

fn expect_error(body: &str, scripts: &[(&str, &str)], needles: &[&str]) -> String {
    let dir = TempDir::new("conf");
    for (name, src) in scripts {
        dir.write(name, src);
    }
    let path = conf(&dir, body);
    let (code, out) = check_config(&path);
    assert_eq!(code, 1, "expected exit 1, got {code}: {out}");
    assert!(out.contains(&path.display().to_string()), "names the file: {out}");
    for n in needles {
        assert!(out.contains(n), "expected {n:?} in: {out}");
    }
    assert!(!out.contains("panicked"), "{out}");
    out
}

const HELLO: &str = "export default { fetch() { return new Response('hi'); } };\n";

#[test]
fn a_valid_config_passes() {
    let dir = TempDir::new("conf");
    dir.write("w.js", HELLO);
    let path = conf(
        &dir,
        "[[workers]]\nname = \"w\"\nmain = \"w.js\"\n\n[[routes]]\npattern = \"*/*\"\nworker = \"w\"\n",
    );
    let (code, out) = check_config(&path);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok"), "{out}");
}

#[test]
fn the_shipped_example_config_passes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/isoproxy.toml");
    let (code, out) = check_config(&path);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn unknown_keys_are_errors_with_line_and_column() {
    let out = expect_error(
        "[[workers]]\nname = \"w\"\nmian = \"w.js\"\n",
        &[("w.js", HELLO)],
        &["mian", ":6:"],
    );
    assert!(out.contains("unknown"), "{out}");
    expect_error("[server2]\nx = 1\n", &[], &["server2"]);
}

#[test]
fn a_missing_script_is_an_error() {
    expect_error(
        "[[workers]]\nname = \"w\"\nmain = \"nope.js\"\n",
        &[],
        &["nope.js", "main"],
    );
}

#[test]
fn an_unknown_worker_in_a_route_is_an_error() {
    expect_error(
        "[[workers]]\nname = \"w\"\nmain = \"w.js\"\n\n[[routes]]\npattern = \"*/*\"\nworker = \"rewrte\"\n",
        &[("w.js", HELLO)],
        &["rewrte", "worker", ":10:"],
    );
}

#[test]
fn a_bad_route_pattern_is_an_error() {
    expect_error(
        "[[routes]]\npattern = \"exa*mple.com/*\"\norigin = \"http://127.0.0.1:1\"\n",
        &[],
        &["routes[0].pattern", ":5:15:", "*"],
    );
}

#[test]
fn a_script_syntax_error_names_file_line_and_column() {
    let out = expect_error(
        "[[workers]]\nname = \"w\"\nmain = \"w.js\"\n",
        &[(
            "w.js",
            "export default {\n  fetch() {\n    return new Response('x';\n  }\n};\n",
        )],
        &["w.js:3:"],
    );
    assert!(out.contains("SyntaxError"), "{out}");
}

#[test]
fn a_broken_import_is_an_error() {
    expect_error(
        "[[workers]]\nname = \"w\"\nmain = \"w.js\"\n",
        &[(
            "w.js",
            "import { x } from './missing.js';\nexport default { fetch() { return new Response(x); } };\n",
        )],
        &["missing.js"],
    );
}

#[test]
fn a_script_without_a_fetch_handler_is_an_error() {
    expect_error(
        "[[workers]]\nname = \"w\"\nmain = \"w.js\"\n",
        &[("w.js", "export const x = 1;\n")],
        &["default export"],
    );
}

#[test]
fn a_top_level_exception_is_an_error() {
    expect_error(
        "[[workers]]\nname = \"w\"\nmain = \"w.js\"\n",
        &[("w.js", "const a = 1;\nnull.boom;\nexport default { fetch() {} };\n")],
        &["w.js:2:", "TypeError"],
    );
}

#[test]
fn serving_a_bad_config_exits_1() {
    let dir = TempDir::new("conf");
    let path = conf(&dir, "[[routes]]\npattern = \"*/*\"\nworker = \"ghost\"\n");
    let out = Command::new(BIN)
        .arg("--conf")
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("ghost") && text.contains(&path.display().to_string()),
        "{text}"
    );
}

#[test]
fn an_unknown_compatibility_flag_is_an_error() {
    expect_error(
        "[[workers]]\nname = \"w\"\nmain = \"w.js\"\ncompatibility_flags = [\"nodejs_compt\"]\n",
        &[("w.js", HELLO)],
        &[
            "workers[0].compatibility_flags[0]",
            ":7:24:",
            "No such compatibility flag: nodejs_compt",
        ],
    );
}

#[test]
fn a_node_import_needs_nodejs_compat() {
    let import = "import { Buffer } from 'node:buffer';\nexport default { fetch() { return new Response(Buffer.from('x')); } };\n";
    let out = expect_error(
        // Before 2026-08-04, when workerd turned nodejs_compat on by default.
        "[[workers]]\nname = \"w\"\nmain = \"w.js\"\ncompatibility_date = \"2026-08-03\"\n",
        &[("w.js", import)],
        &["w.js:1:24", "No such module \"node:buffer\"."],
    );
    assert!(!out.contains("panicked"), "{out}");
    // With the flag it loads; the bare name needs nodejs_compat_v2 (implied from 2024-09-23).
    let dir = TempDir::new("conf");
    dir.write("w.js", import);
    let path = conf(
        &dir,
        "[[workers]]\nname = \"w\"\nmain = \"w.js\"\ncompatibility_flags = [\"nodejs_compat\"]\n",
    );
    let (code, out) = check_config(&path);
    assert_eq!(code, 0, "{out}");
    expect_error(
        "[[workers]]\nname = \"w\"\nmain = \"w.js\"\ncompatibility_date = \"2024-09-01\"\ncompatibility_flags = [\"nodejs_compat\"]\n",
        &[(
            "w.js",
            "import { Buffer } from 'buffer';\nexport default { fetch() { return new Response(''); } };\n",
        )],
        &["w.js:1:24", "cannot import \"buffer\"", "needs nodejs_compat_v2"],
    );
}

/// workerd turns `nodejs_compat` on by default from 2026-08-04: a worker
/// with that date (or none: the newest behaviour) imports `node:*` without
/// the flag, and `no_nodejs_compat` opts out again.
#[test]
fn nodejs_compat_is_the_default_from_2026_08_04() {
    let import = "import { Buffer } from 'node:buffer';\nexport default { fetch() { return new Response(Buffer.from('x')); } };\n";
    for extra in ["compatibility_date = \"2026-08-04\"\n", ""] {
        let dir = TempDir::new("conf");
        dir.write("w.js", import);
        let path = conf(&dir, &format!("[[workers]]\nname = \"w\"\nmain = \"w.js\"\n{extra}"));
        let (code, out) = check_config(&path);
        assert_eq!(code, 0, "{extra}: {out}");
    }
    expect_error(
        "[[workers]]\nname = \"w\"\nmain = \"w.js\"\ncompatibility_flags = [\"no_nodejs_compat\"]\n",
        &[("w.js", import)],
        &["w.js:1:24", "No such module \"node:buffer\"."],
    );
}
