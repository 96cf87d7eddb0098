//! Containment of crypto.subtle, module loading and secrets (issue 9):
//! hostile scripts from `tests/containment/` run in the real binary, each
//! attack gets its documented error, and a normal worker on the same proxy
//! still answers afterwards.
//!
//! - crypto: iteration counts and key sizes that would pin an isolate
//!   thread in one native call are refused (fast, catchable), malformed
//!   keys are errors, never a crash;
//! - module root: a worker can only import modules under its root, refused
//!   at `--test`, at reload and for `import()` at run time;
//! - secrets: never in isoproxy's log, `/workers` or error answers.

mod common;

use std::time::{Duration, Instant};

use common::{Proxy, TempDir, check_config, client, get_host};

const GOOD: &str = "export default { fetch() { return new Response('good ok'); } };";

fn hostile(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/containment")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn text(proxy: &Proxy, host: &str, path: &str) -> (u16, String) {
    let resp = get_host(&proxy.url(path), host).await;
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn good_still_answers(proxy: &Proxy) {
    assert_eq!(text(proxy, "good.test", "/").await, (200, "good ok".to_string()));
}

async fn workers_json(proxy: &Proxy) -> String {
    client()
        .get(proxy.admin_url("/workers"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Milliseconds the script measured, from "... in Nms".
fn took_ms(answer: &str) -> u64 {
    answer
        .rsplit_once(" in ")
        .and_then(|(_, t)| t.strip_suffix("ms"))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no timing in {answer:?}"))
}

const TWO_WORKERS: &str = r#"
[[workers]]
name = "attack"
main = "attack.js"
limits = { cpu_ms = 2000 }

[[workers]]
name = "good"
main = "good.js"

[[routes]]
pattern = "attack.test/*"
worker = "attack"

[[routes]]
pattern = "good.test/*"
worker = "good"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crypto_sizes_and_counts_are_refused_before_work() {
    let proxy = Proxy::builder()
        .script("attack.js", &hostile("crypto_hostile.js"))
        .script("good.js", GOOD)
        .config(TWO_WORKERS)
        .start()
        .await;

    // (route, expected start of the answer, fast: refused before any work)
    let cases = [
        (
            "/pbkdf2-huge",
            "NotSupportedError: Pbkdf2 failed: iteration counts above 100000 are not supported (requested 1000000000).",
        ),
        (
            "/pbkdf2-wrap",
            "NotSupportedError: Pbkdf2 failed: iteration counts above 100000 are not supported (requested 4294967297).",
        ),
        ("/rsa-gen-huge", "OperationError: The modulus length must be"),
        ("/rsa-gen-wrap", "OperationError: The modulus length must be"),
        (
            "/rsa-gen-odd",
            "OperationError: The modulus length must be a multiple of 128",
        ),
        (
            "/rsa-gen-exponent",
            "OperationError: The \"publicExponent\" must be either 3 or 65537",
        ),
        (
            "/rsa-import-16392",
            "DataError: RSA keys must have a modulus of 256 to 16384 bits",
        ),
        ("/hkdf-long", "OperationError: HKDF cannot derive more than"),
    ];
    for (path, want) in cases {
        let (status, body) = text(&proxy, "attack.test", path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.starts_with(want), "{path}: {body}");
        assert!(took_ms(&body) < 200, "{path} took too long: {body}");
        good_still_answers(&proxy).await;
    }

    // The largest importable key works, and a public operation with it is quick.
    let (status, body) = text(&proxy, "attack.test", "/rsa-import-16384").await;
    assert_eq!(status, 200);
    assert!(body.starts_with("ok 16384 bits, verify false"), "{body}");

    // The limit itself is allowed.
    let (status, body) = text(&proxy, "attack.test", "/pbkdf2-max").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("ok 32"), "{body}");

    // Malformed keys and JWKs: every one refused, each with a DOMException
    // or TypeError the script can catch.
    let (status, body) = text(&proxy, "attack.test", "/malformed").await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body
        .trim_start_matches("ok ")
        .split(" in ")
        .next()
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(names.len(), 22, "{body}");
    for name in &names {
        assert!(
            [
                "DataError",
                "TypeError",
                "NotSupportedError",
                "SyntaxError",
                "OperationError"
            ]
            .contains(name),
            "{body}"
        );
    }
    good_still_answers(&proxy).await;
    let log = proxy.log();
    assert!(!log.contains("panicked"), "{log}");
}

/// A main module under `w/` with `import` of `spec` on line 2.
fn escaping_main(spec: &str) -> String {
    format!(
        "// hostile: tries to leave its root\nimport x from {spec:?};\nexport default {{ fetch() {{ return new Response(String(x)); }} }};\n"
    )
}

fn layout() -> TempDir {
    let dir = TempDir::new("module-root");
    std::fs::create_dir_all(dir.path().join("w")).unwrap();
    dir.write("outside.js", "export default 'OUTSIDE-CONTENT';\n");
    dir.write("w/inside.js", "export default 'inside';\n");
    std::os::unix::fs::symlink(dir.path().join("outside.js"), dir.path().join("w/link.js")).unwrap();
    dir
}

fn config_for(dir: &TempDir, extra: &str) -> std::path::PathBuf {
    dir.write(
        "isoproxy.toml",
        &format!(
            "[server]\nlisten = [\"127.0.0.1:1\"]\n\n[[workers]]\nname = \"w\"\nmain = \"w/main.js\"\n{extra}\n[[routes]]\npattern = \"*/*\"\nworker = \"w\"\n"
        ),
    )
}

#[test]
fn imports_outside_the_root_fail_the_config_test() {
    let dir = layout();
    let main = dir.path().canonicalize().unwrap().join("w/main.js");
    let cases = [
        ("../outside.js", "outside the worker's root"),
        ("./../outside.js", "outside the worker's root"),
        ("./inside/../../outside.js", "outside the worker's root"),
        ("/etc/passwd", "outside the worker's root"),
        ("file:///etc/passwd", "outside the worker's root"),
        ("./link.js", "resolves through a symlink"),
    ];
    for (spec, why) in cases {
        dir.write("w/main.js", &escaping_main(spec));
        let (code, out) = check_config(&config_for(&dir, ""));
        assert_eq!(code, 1, "{spec}: {out}");
        let at = format!("{}:2:", main.display());
        assert!(out.contains(&at), "{spec}: no {at} in {out}");
        assert!(out.contains(why), "{spec}: {out}");
        assert!(!out.contains("OUTSIDE-CONTENT"), "{out}");
    }
    // Percent-encoding is not decoded: the name stays inside (and is missing).
    dir.write("w/main.js", &escaping_main("./%2e%2e/outside.js"));
    let (code, out) = check_config(&config_for(&dir, ""));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("%2e%2e/outside.js") && !out.contains("outside the worker's root"),
        "{out}"
    );
    // Inside imports are fine; `root` widens the limit to the whole tree.
    dir.write("w/main.js", &escaping_main("./inside.js"));
    assert_eq!(check_config(&config_for(&dir, "")).0, 0);
    for spec in ["../outside.js", "./link.js"] {
        dir.write("w/main.js", &escaping_main(spec));
        let (code, out) = check_config(&config_for(&dir, "root = \".\"\n"));
        assert_eq!(code, 0, "{spec}: {out}");
    }
    // A root that does not hold main is a config error at the key.
    dir.write("w/main.js", &escaping_main("./inside.js"));
    std::fs::create_dir_all(dir.path().join("other")).unwrap();
    let (code, out) = check_config(&config_for(&dir, "root = \"other\"\n"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("workers[0].root: `main` is not inside other"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_outside_the_root_fail_at_reload_and_at_run_time() {
    let builder = Proxy::builder()
        .script("attack.js", &hostile("module_dynamic_import.js"))
        .script("good.js", GOOD)
        .script("outside.js", "export default 'OUTSIDE-CONTENT';\n")
        .config(
            &TWO_WORKERS
                .replace("main = \"attack.js\"", "main = \"w/attack.js\"")
                .replace("main = \"good.js\"", "main = \"w/good.js\""),
        );
    std::fs::create_dir_all(builder.dir().join("w")).unwrap();
    std::fs::write(builder.dir().join("w/attack.js"), hostile("module_dynamic_import.js")).unwrap();
    std::fs::write(builder.dir().join("w/good.js"), GOOD).unwrap();
    let proxy = builder.start().await;

    // import() at run time never loads a module outside the root.
    let (status, body) = text(&proxy, "attack.test", "/").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.lines().count(), 6, "{body}");
    assert!(!body.contains("OUTSIDE") && !body.contains("loaded"), "{body}");
    good_still_answers(&proxy).await;

    // A reload whose script escapes its root fails and changes nothing.
    std::fs::write(proxy.dir.path().join("w/attack.js"), escaping_main("../outside.js")).unwrap();
    proxy.hup();
    let log = proxy
        .wait_for_log("outside the worker's root", Duration::from_secs(20))
        .await;
    assert!(log.contains("attack.js:2:"), "{log}");
    assert!(workers_json(&proxy).await.contains("\"failed\":1"));
    let (status, body) = text(&proxy, "attack.test", "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("../outside.js"), "old version still serves: {body}");
    good_still_answers(&proxy).await;
}

const SECRET: &str = "hunter2-s3cret-VALUE-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_logs_workers_or_answers() {
    let proxy = Proxy::builder()
        .script("attack.js", &hostile("secrets_leak.js"))
        .script("good.js", GOOD)
        .script("top.js", &hostile("secrets_top_level.js"))
        .env("API_TOKEN", SECRET)
        .config(&TWO_WORKERS.replace(
            "main = \"attack.js\"\n",
            "main = \"attack.js\"\nsecrets = { API_TOKEN = { env = \"API_TOKEN\" } }\n",
        ))
        .start()
        .await;

    for path in ["/json", "/throw", "/nested"] {
        let (status, body) = text(&proxy, "attack.test", path).await;
        assert_eq!(status, 500, "{path}: {body}");
        assert!(!body.contains(&SECRET[..8]), "{path}: {body}");
    }
    let (status, _) = text(&proxy, "attack.test", "/reject").await;
    assert_eq!(status, 200);
    proxy
        .wait_for_log("Uncaught (in promise)", Duration::from_secs(10))
        .await;
    let workers = workers_json(&proxy).await;
    assert!(
        workers.contains("<redacted>"),
        "last_error is shown, redacted: {workers}"
    );

    // A reload whose new worker throws the secret at its top level fails
    // with a redacted message; so does `--test` of that config.
    let conf_path = proxy.dir.path().join("isoproxy.toml");
    let conf = std::fs::read_to_string(&conf_path).unwrap();
    let with_top = format!(
        "{conf}\n[[workers]]\nname = \"top\"\nmain = \"top.js\"\ncompatibility_date = \"2026-11-01\"\nsecrets = {{ API_TOKEN = {{ env = \"API_TOKEN\" }} }}\n"
    );
    std::fs::write(&conf_path, &with_top).unwrap();
    proxy.hup();
    proxy.wait_for_log("top.js", Duration::from_secs(20)).await;
    good_still_answers(&proxy).await;

    let log = proxy.log();
    assert!(log.contains("uncaught exception"), "{log}");
    assert!(log.contains("<redacted>"), "{log}");
    for needle in [SECRET, &SECRET[..8], &SECRET[SECRET.len() - 8..]] {
        assert!(!log.contains(needle), "log shows {needle:?}:\n{log}");
        assert!(!workers.contains(needle), "/workers shows {needle:?}: {workers}");
        assert!(!workers_json(&proxy).await.contains(needle));
    }
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_isoproxy"))
        .args(["--test", "--conf"])
        .arg(&conf_path)
        .env("API_TOKEN", SECRET)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("top.js") && all.contains("<redacted>"), "{all}");
    assert!(!all.contains(&SECRET[..8]), "{all}");
    assert!(started.elapsed() < Duration::from_secs(30));
}
