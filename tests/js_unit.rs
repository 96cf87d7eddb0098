//! The unit tests of the runtime's JavaScript (`plugin-runtime/js/test/*.test.mjs`),
//! which load the bootstrap files into Node's `vm` with stubbed ops. They
//! need Node.js (`./dev test` installs it when the machine lacks it).

use std::process::Command;

#[test]
fn bootstrap_javascript_unit_tests_pass_under_node() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("plugin-runtime/js/test");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no tests in {}", dir.display());
    let out = Command::new("node")
        .arg("--test")
        .args(&files)
        .output()
        .expect("Node.js (`node`) must be installed to run the JavaScript unit tests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "node --test failed:\n{stdout}\n{stderr}");
    let summary: Vec<&str> = stdout
        .lines()
        .filter(|l| ["# tests", "# pass", "# fail"].iter().any(|p| l.starts_with(p)))
        .collect();
    eprintln!("{}", summary.join("\n"));
}
