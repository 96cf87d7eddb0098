//! Limits contain a misbehaving worker: CPU, memory, subrequests, stack.
//! The process and the other workers keep serving.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Origin, Proxy, client, get_host};

const BAD: &str = r#"
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/spin": { while (true) {} }
      case "/spin-later": { await null; let x = 0; for (;;) { x++; } }
      case "/arrays": { const keep = []; for (;;) keep.push(new Array(100000).fill(1.5)); }
      case "/buffers": { const keep = []; for (;;) keep.push(new Uint8Array(1 << 20).fill(7)); }
      case "/recurse": {
        const f = (n) => f(n + 1) + 1;
        try { f(0); } catch (e) { return new Response(`caught ${e.constructor.name}`); }
        return new Response("no overflow?");
      }
      case "/subrequests": {
        let ok = 0;
        for (let i = 1; i <= 51; i++) {
          try {
            await (await fetch(`${env.ORIGIN}/status/200`)).text();
            ok++;
          } catch (e) {
            return new Response(`failed at ${i} after ${ok}: ${e.constructor.name}: ${e.message}`);
          }
        }
        return new Response(`all ${ok} succeeded`);
      }
      case "/eval": {
        try { eval("1 + 1"); return new Response("eval allowed"); }
        catch (e) { return new Response(`eval refused: ${e.constructor.name}`); }
      }
      default:
        return new Response("fine");
    }
  },
};
"#;

const GOOD: &str = "export default { fetch() { return new Response('B ok'); } };";

async fn start(origin: &Origin) -> Proxy {
    start_with(origin, 50).await
}

async fn start_with(origin: &Origin, cpu_ms: u64) -> Proxy {
    Proxy::builder()
        .script("bad.js", BAD)
        .script("good.js", GOOD)
        .config(&format!(
            r#"
[runtime]
isolate_threads = 2
cpu_ms = {cpu_ms}
memory_mb = 64
subrequests = 50

[[workers]]
name = "a"
main = "bad.js"
vars = {{ ORIGIN = "{origin}" }}
egress_allow = ["local"]

[[workers]]
name = "b"
main = "good.js"

[[routes]]
pattern = "a.test/*"
worker = "a"

[[routes]]
pattern = "b.test/*"
worker = "b"
"#,
            origin = origin.url(),
        ))
        .start()
        .await
}

/// Steady load on worker B until stopped; answers (requests, failures).
fn load_b(proxy: &Proxy, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<(u64, Vec<String>)> {
    let url = proxy.url("/");
    tokio::spawn(async move {
        let done = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (url, stop, done) = (url.clone(), stop.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                let c = client();
                let mut failures = Vec::new();
                let start = Instant::now();
                while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(60) {
                    match c.get(&url).header("host", "b.test").send().await {
                        Ok(r) if r.status() == 200 => {
                            let t = r.text().await.unwrap_or_default();
                            if t != "B ok" {
                                failures.push(t);
                            }
                        }
                        Ok(r) => failures.push(format!("status {}", r.status())),
                        Err(e) => failures.push(e.to_string()),
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                failures
            }));
        }
        let mut failures = Vec::new();
        for t in tasks {
            failures.extend(t.await.unwrap());
        }
        (done.load(Ordering::Relaxed), failures)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn an_infinite_loop_gets_503_and_other_workers_keep_serving() {
    let origin = Origin::start("o").await;
    let proxy = start(&origin).await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = load_b(&proxy, stop.clone());
    tokio::time::sleep(Duration::from_millis(200)).await;
    for path in ["/spin", "/spin-later", "/spin"] {
        let started = Instant::now();
        let r = get_host(&proxy.url(path), "a.test").await;
        let elapsed = started.elapsed();
        eprintln!("{path}: {} after {elapsed:?}", r.status());
        assert_eq!(r.status(), 503, "{}", proxy.log());
        assert!(r.text().await.unwrap().contains("CPU time limit"));
        assert!(
            elapsed < Duration::from_secs(5),
            "terminated, not left running ({elapsed:?})"
        );
        // The next request to A gets a fresh isolate.
        assert_eq!(get_host(&proxy.url("/"), "a.test").await.text().await.unwrap(), "fine");
    }
    stop.store(true, Ordering::Relaxed);
    let (done, failures) = load.await.unwrap();
    assert!(done > 50, "B kept serving ({done} requests)");
    assert!(
        failures.is_empty(),
        "B's requests failed: {:?}",
        &failures[..failures.len().min(5)]
    );
    assert!(proxy.log().contains("worker a: exceeded its CPU time limit (50 ms)"));
    let workers: serde_json::Value = proxy.workers().await;
    let a = workers["workers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "a")
        .unwrap()
        .clone();
    assert_eq!(a["last_error"], "exceeded its CPU time limit", "{workers}");
    let metrics = proxy.metrics().await;
    assert!(
        metrics.contains("isoproxy_isolate_events_total{event=\"cpu_limit\",worker=\"a\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("isoproxy_isolate_events_total{event=\"created\",worker=\"a\"}"),
        "{metrics}"
    );
}

/// Voluntary context switches of the proxy's thread named `name` so far.
fn thread_wakeups(proxy: &Proxy, name: &str) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{}/task", proxy.pid())).unwrap();
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == name {
            let status = std::fs::read_to_string(task.path().join("status")).unwrap();
            let line = status
                .lines()
                .find(|l| l.starts_with("voluntary_ctxt_switches:"))
                .unwrap();
            return line.split_whitespace().nth(1).unwrap().parse().unwrap();
        }
    }
    panic!("no thread named {name}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cpu_watchdog_sleeps_while_no_js_runs_and_wakes_for_the_next_loop() {
    let origin = Origin::start("o").await;
    let proxy = start(&origin).await;
    for round in 0..3 {
        assert_eq!(get_host(&proxy.url("/"), "a.test").await.text().await.unwrap(), "fine");
        // Idle: the watchdog parks after about 100 ms without a slice of JS
        // (it used to poll every 2 ms: about 500 wake-ups a second).
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = thread_wakeups(&proxy, "cpu-watchdog");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let woke = thread_wakeups(&proxy, "cpu-watchdog") - before;
        assert!(
            woke < 50,
            "round {round}: the idle watchdog woke {woke} times in a second"
        );
        // The first slice after the idle spell is watched all the same.
        let path = ["/spin", "/spin-later", "/spin"][round];
        let started = Instant::now();
        let r = get_host(&proxy.url(path), "a.test").await;
        assert_eq!(r.status(), 503, "{path}: {}", proxy.log());
        assert!(r.text().await.unwrap().contains("CPU time limit"));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path}: {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allocation_bomb_gets_503_and_the_process_survives() {
    let origin = Origin::start("o").await;
    // A generous CPU limit, so the memory limit is what stops the script.
    let proxy = start_with(&origin, 10_000).await;
    assert_eq!(get_host(&proxy.url("/"), "a.test").await.status(), 200);
    let before = proxy.rss_bytes();
    for bomb in ["/arrays", "/buffers", "/arrays"] {
        let r = get_host(&proxy.url(bomb), "a.test").await;
        assert_eq!(r.status(), 503, "{bomb}: {}", proxy.log());
        assert!(
            r.text().await.unwrap().contains("memory limit"),
            "{bomb}: {}",
            proxy.log()
        );
    }
    // The process survived and A serves again on a fresh isolate; B is unaffected.
    assert_eq!(get_host(&proxy.url("/"), "a.test").await.text().await.unwrap(), "fine");
    assert_eq!(get_host(&proxy.url("/"), "b.test").await.text().await.unwrap(), "B ok");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = proxy.rss_bytes();
    eprintln!("RSS before {} MiB, after {} MiB", before >> 20, after >> 20);
    assert!(
        after < before + (64 << 20),
        "RSS returned near where it was ({} -> {} MiB)",
        before >> 20,
        after >> 20
    );
    metrics_eventually(&proxy, "outcome=\"memory_limit\"").await;
    metrics_eventually(
        &proxy,
        "isoproxy_isolate_events_total{event=\"memory_limit\",worker=\"a\"} 3",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_51st_subrequest_rejects_catchably() {
    let origin = Origin::start("o").await;
    let proxy = start(&origin).await;
    let text = get_host(&proxy.url("/subrequests"), "a.test")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(text, "failed at 51 after 50: TypeError: Too many subrequests.");
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_recursion_is_a_catchable_range_error_and_eval_is_refused() {
    let origin = Origin::start("o").await;
    let proxy = start(&origin).await;
    assert_eq!(
        get_host(&proxy.url("/recurse"), "a.test").await.text().await.unwrap(),
        "caught RangeError"
    );
    assert_eq!(
        get_host(&proxy.url("/eval"), "a.test").await.text().await.unwrap(),
        "eval refused: EvalError"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_response_that_never_starts_gets_504() {
    let proxy = Proxy::builder()
        .script("slow.js", "export default { async fetch() { await new Promise((r) => setTimeout(r, 5000)); return new Response('late'); } };")
        .config("[runtime]\nrequest_timeout_s = 1\n\n[[workers]]\nname = \"slow\"\nmain = \"slow.js\"\n\n[[routes]]\npattern = \"*/*\"\nworker = \"slow\"\n")
        .start()
        .await;
    let r = client().get(proxy.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 504);
    // Requests are counted in Pingora's logging phase, just after the response.
    metrics_eventually(&proxy, "outcome=\"timeout\"").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_runs_have_their_own_cpu_limit() {
    let proxy = Proxy::builder()
        .script(
            "spin.js",
            "export default { scheduled() { for (;;) {} }, fetch() { return new Response('ok'); } };",
        )
        .config("[runtime]\ncpu_ms = 10\nscheduled_cpu_ms = 300\n\n[[workers]]\nname = \"spin\"\nmain = \"spin.js\"\n")
        .start()
        .await;
    let r = client()
        .post(proxy.admin_url("/__scheduled?worker=spin&cron=*+*+*+*+*"))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["outcome"], "exception");
    assert!(v["error"].as_str().unwrap().contains("CPU time limit"), "{v}");
    assert!(proxy.log().contains("exceeded its CPU time limit (10 ms)") || proxy.log().contains("CPU time limit"));
}

#[test]
fn startup_limits_fail_validation() {
    let dir = common::TempDir::new("limits");
    dir.write("loop.js", "for (;;) {}\nexport default { fetch() {} };\n");
    dir.write(
        "big.js",
        &format!(
            "// {}\nexport default {{ fetch() {{ return new Response('x'); }} }};\n",
            "x".repeat(11 << 20)
        ),
    );
    for (script, needle) in [
        ("loop.js", "top level exceeded its CPU time"),
        ("big.js", "larger than the 10 MiB limit"),
    ] {
        let conf = dir.write(
            "isoproxy.toml",
            &format!("[server]\nlisten = [\"127.0.0.1:0\"]\n\n[[workers]]\nname = \"w\"\nmain = \"{script}\"\n"),
        );
        let (code, out) = common::check_config(&conf);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains(needle), "{out}");
    }
}

/// Waits (briefly) until /metrics contains `needle`.
async fn metrics_eventually(proxy: &Proxy, needle: &str) {
    let start = Instant::now();
    loop {
        let metrics = proxy.metrics().await;
        if metrics.contains(needle) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{needle} not in:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
