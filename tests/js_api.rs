//! The Web API conformance tests in tests/js/*.test.js, each run as a
//! worker inside the real binary: the worker runs its tests and answers
//! with `{passed, failed}`.

mod common;

use common::{Origin, Proxy, get_host};

#[tokio::test(flavor = "multi_thread")]
async fn web_apis_behave_as_specified() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".test.js"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    // A real origin the tests can fetch(): env.ORIGIN (see tests/common's Origin for its paths).
    let origin = Origin::start("js").await;
    let mut config = String::new();
    for (i, f) in files.iter().enumerate() {
        let compat = compat_settings(&std::fs::read_to_string(dir.join(f)).unwrap());
        // Each file runs all its tests in one request: far more CPU than the
        // default 50 ms a request gets (RSA key generation, MiB-sized bodies).
        // The CPU limit itself is tested in tests/limits.rs; fetch_origin
        // makes more than the default 50 subrequests in its one request.
        let limits = "limits = { cpu_ms = 30000, subrequests = 1000 }\n";
        config.push_str(&format!(
            "[[workers]]\nname = \"t{i}\"\nmain = \"{}\"\n{compat}{limits}vars = {{ NAME = \"value\", ORIGIN = \"{}\", NUM = 3 }}\negress_allow = [\"local\"]\n\n[[routes]]\npattern = \"t{i}.test/*\"\nworker = \"t{i}\"\n\n",
            dir.join(f).display(),
            origin.url()
        ));
    }
    let proxy = Proxy::builder().config(&config).start().await;
    let mut report = String::new();
    let mut total = 0;
    for (i, f) in files.iter().enumerate() {
        let r = get_host(&proxy.url("/"), &format!("t{i}.test")).await;
        assert_eq!(r.status(), 200, "{f}: {}", proxy.log());
        let v: serde_json::Value = r.json().await.unwrap();
        total += v["passed"].as_u64().unwrap();
        for fail in v["failed"].as_array().unwrap() {
            report.push_str(&format!(
                "{f}: {}\n  {}\n",
                fail["name"],
                fail["error"].as_str().unwrap_or("")
            ));
        }
    }
    assert!(report.is_empty(), "failing Web API tests:\n{report}");
    eprintln!("{total} Web API tests passed in {} files", files.len());
}

/// A test file's compatibility settings, from its leading comments:
/// `// flags: nodejs_compat, nodejs_als` and `// compatibility_date: 2024-09-23`.
fn compat_settings(src: &str) -> String {
    let mut out = String::new();
    for line in src.lines().take_while(|l| l.starts_with("//")) {
        let line = line.trim_start_matches('/').trim();
        if let Some(flags) = line.strip_prefix("flags:") {
            let flags: Vec<String> = flags.split(',').map(|f| format!("{:?}", f.trim())).collect();
            out.push_str(&format!("compatibility_flags = [{}]\n", flags.join(", ")));
        } else if let Some(date) = line.strip_prefix("compatibility_date:") {
            out.push_str(&format!("compatibility_date = {:?}\n", date.trim()));
        }
    }
    out
}
