//! SIGHUP reloads the config and scripts without dropping a request: real
//! signals to the real binary under steady load.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Origin, Proxy, client};
use serde_json::Value;

fn script(version: &str) -> String {
    format!(
        r#"
const VERSION = "{version}";
export default {{
  async fetch(request, env) {{
    const url = new URL(request.url);
    if (url.pathname.startsWith("/pass")) {{
      const res = await fetch(request);
      const body = await res.text();
      return new Response(`${{VERSION}}|${{body.length > 0}}`, {{ headers: {{ "x-version": VERSION }} }});
    }}
    return new Response(`${{VERSION}}|${{env.COLOR}}`, {{ headers: {{ "x-version": VERSION }} }});
  }},
}};
"#
    )
}

fn config(origin: &str, color: &str) -> String {
    format!(
        r#"
[[workers]]
name = "w"
main = "w.js"
vars = {{ COLOR = "{color}" }}

[[routes]]
pattern = "*/*"
worker = "w"
origin = "{origin}"
"#
    )
}

async fn reload_counts(proxy: &Proxy) -> (u64, u64) {
    let v: Value = proxy.workers().await;
    (
        v["reloads"]["ok"].as_u64().unwrap(),
        v["reloads"]["failed"].as_u64().unwrap(),
    )
}

async fn wait_counts(proxy: &Proxy, want: (u64, u64)) {
    let start = Instant::now();
    loop {
        let got = reload_counts(proxy).await;
        if got == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "reload counts {got:?}, want {want:?}; log:\n{}",
            proxy.log()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_reloads_under_load_drop_nothing() {
    let origin = Origin::start("o").await;
    let builder = Proxy::builder().script("w.js", &script("v0"));
    let dir = builder.dir().to_path_buf();
    let proxy = builder.config(&config(&origin.url(), "red")).start().await;

    // Steady load: 32 connections, each checking that every response comes
    // wholly from one version (header and body agree).
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut load = Vec::new();
    for i in 0..32 {
        let (stop, done) = (stop.clone(), done.clone());
        let url = proxy.url(if i % 2 == 0 { "/hello" } else { "/pass/x" });
        load.push(tokio::spawn(async move {
            let c = client();
            let mut errors = Vec::new();
            let mut versions = std::collections::BTreeSet::new();
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(120) {
                match c.get(&url).send().await {
                    Ok(r) => {
                        let status = r.status();
                        let header = r.headers().get("x-version").map(|v| v.to_str().unwrap().to_string());
                        let body = r.text().await;
                        match (status.as_u16(), header, body) {
                            (200, Some(h), Ok(b)) if b.starts_with(&format!("{h}|")) => {
                                versions.insert(h);
                            }
                            (s, h, b) => errors.push(format!("{s} {h:?} {b:?}")),
                        }
                    }
                    Err(e) => errors.push(format!("request failed: {e}")),
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            (errors, versions)
        }));
    }

    let mut want = (0u64, 0u64);
    let mut expected = "v0".to_string();
    for i in 1..=50u32 {
        let broken = i % 10 == 5;
        if broken {
            std::fs::write(dir.join("w.js"), "export default { fetch( { broken\n").unwrap();
            want.1 += 1;
        } else {
            expected = if i % 2 == 0 { "v2".into() } else { "v1".into() };
            let color = if i % 4 == 0 { "blue" } else { "red" };
            std::fs::write(dir.join("w.js"), script(&expected)).unwrap();
            std::fs::write(
                dir.join("isoproxy.toml"),
                std::fs::read_to_string(dir.join("isoproxy.toml"))
                    .unwrap()
                    .replace("COLOR = \"red\"", &format!("COLOR = \"{color}\""))
                    .replace("COLOR = \"blue\"", &format!("COLOR = \"{color}\"")),
            )
            .unwrap();
            want.0 += 1;
        }
        proxy.hup();
        wait_counts(&proxy, want).await;
        // New requests see the new version at once (old one after a failure).
        let r = client().get(proxy.url("/hello")).send().await.unwrap();
        let body = r.text().await.unwrap();
        assert!(body.starts_with(&format!("{expected}|")), "after reload {i}: {body}");
        if !broken {
            let color = if i % 4 == 0 { "blue" } else { "red" };
            assert_eq!(body, format!("{expected}|{color}"), "vars reload live");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut all_versions = std::collections::BTreeSet::new();
    for t in load {
        let (errors, versions) = t.await.unwrap();
        assert!(
            errors.is_empty(),
            "failed requests during reloads: {:?}",
            &errors[..errors.len().min(5)]
        );
        all_versions.extend(versions);
    }
    assert!(done.load(Ordering::Relaxed) > 500, "the load kept running");
    assert!(
        all_versions.contains("v1") && all_versions.contains("v2"),
        "{all_versions:?}"
    );
    let log = proxy.log();
    assert!(log.contains("reload failed"), "{log}");
    assert!(
        log.contains("w.js:2:1: SyntaxError"),
        "failed reloads name file:line:column"
    );
    assert!(log.contains("reload ok: w "), "good reloads name the new version");
    // Retired isolates are released once drained.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let v: Value = proxy.workers().await;
    assert!(v["workers"][0]["isolates"].as_u64().unwrap() <= 2, "{v}");
}

#[tokio::test(flavor = "multi_thread")]
async fn reload_changes_routes_and_reports_restart_only_keys() {
    let origin = Origin::start("o").await;
    let builder = Proxy::builder().script("w.js", &script("v1"));
    let dir = builder.dir().to_path_buf();
    let proxy = builder.config(&config(&origin.url(), "red")).start().await;
    let before: Value = proxy.workers().await;
    let version = before["workers"][0]["version"].as_str().unwrap().to_string();

    // Add a plain route for one host and change the thread count.
    let conf = std::fs::read_to_string(dir.join("isoproxy.toml")).unwrap();
    let conf = conf.replace("isolate_threads = 2", "isolate_threads = 1")
        + &format!(
            "\n[[routes]]\npattern = \"plain.test/*\"\norigin = \"{}\"\n",
            origin.url()
        );
    std::fs::write(dir.join("isoproxy.toml"), conf).unwrap();
    proxy.hup();
    wait_counts(&proxy, (1, 0)).await;
    let r = client()
        .get(proxy.url("/x"))
        .header("host", "plain.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-origin"], "o", "the new route serves at once");
    let log = proxy.log();
    assert!(
        log.contains("runtime.isolate_threads changed; it takes effect only after a restart"),
        "{log}"
    );
    assert!(log.contains("reload ok: no worker changed"), "{log}");
    let after: Value = proxy.workers().await;
    assert_eq!(after["workers"][0]["version"].as_str().unwrap(), version);
    assert_eq!(
        after["workers"][0]["loaded_at"], before["workers"][0]["loaded_at"],
        "an unchanged worker keeps its loaded version (and warm isolates)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_drains_and_stops() {
    let origin = Origin::start("o").await;
    let mut proxy = Proxy::builder()
        .script("w.js", &script("v1"))
        .config(&config(&origin.url(), "red"))
        .start()
        .await;
    // A request in flight when SIGTERM arrives still completes.
    let slow = tokio::spawn({
        let url = proxy.url("/pass/sleep/500");
        async move { client().get(url).send().await.unwrap().status() }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    std::process::Command::new("kill")
        .args(["-TERM", &proxy.pid().to_string()])
        .status()
        .unwrap();
    assert_eq!(slow.await.unwrap(), 200);
    let status = proxy.wait_exit(Duration::from_secs(15));
    assert!(
        status.is_some(),
        "isoproxy stopped after SIGTERM; log:\n{}",
        proxy.log()
    );
}
