//! A light worker's isolates on the proxy threads (`runtime.js_on_proxy_threads`,
//! on by default): one per proxy thread, made before the listeners accept
//! and, for a reload's new version, before it serves; the old version's are
//! retired on every thread; a worker that turns heavy leaves the proxy
//! threads (their isolates are dropped once idle) and keeps serving from
//! the isolate threads.
//!
//! No timing assertions: the checks are counts from `/workers` and
//! `/metrics`, waited for with a generous deadline.

mod common;

use std::time::{Duration, Instant};

use common::{KeepAlive, Proxy, get_host};

const HELLO: &str = r#"
let served = 0;
export default {
  async fetch(request) {
    served += 1;
    return new Response(`VERSION ${served}`);
  },
};
"#;

/// `/spin?ms=N` spins N ms of wall time (so of CPU) in one slice.
const SPIN: &str = r#"
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const end = Date.now() + Number(url.searchParams.get("ms") ?? "0");
    while (Date.now() < end) {}
    return new Response("spun");
  },
};
"#;

const THREADS: u64 = 3;

async fn start(script: &str) -> Proxy {
    start_with(script, "", "", THREADS, "info").await
}

/// `[runtime]` key: proxy-thread isolates idle for 2 s are dropped.
const IDLE_2S: &str = "idle_isolate_timeout_s = 2\n";

/// Worker `w` running `script` on `threads` proxy threads and 2 isolate
/// threads, with `runtime` and `worker` keys added to its `[runtime]` and
/// `[[workers]]` tables, logging at `RUST_LOG=log`.
async fn start_with(script: &str, runtime: &str, worker: &str, threads: u64, log: &str) -> Proxy {
    Proxy::builder()
        .script("w.js", script)
        .config(&format!(
            "[runtime]\nisolate_threads = 2\n{runtime}\n[[workers]]\nname = \"w\"\nmain = \"w.js\"\n{worker}\n\
             [[routes]]\npattern = \"w.test/*\"\nworker = \"w\"\n"
        ))
        .proxy_threads(threads as usize)
        .env("RUST_LOG", log)
        .start()
        .await
}

async fn isolates(proxy: &Proxy) -> u64 {
    proxy.workers().await["workers"][0]["isolates"].as_u64().unwrap()
}

async fn events(proxy: &Proxy, event: &str) -> u64 {
    proxy
        .metric("isoproxy_isolate_events_total", &[("worker", "w"), ("event", event)])
        .await as u64
}

/// Waits until `check` holds (or panics with the log after 10 s).
async fn wait_until<F, Fut>(proxy: &Proxy, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what} never happened; log:\n{}",
            proxy.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_proxy_thread_has_the_worker_warm_before_the_first_request_and_after_a_reload() {
    let proxy = start(&HELLO.replace("VERSION", "v1")).await;
    // Listening, and no request served yet: one isolate per proxy thread.
    assert_eq!(isolates(&proxy).await, THREADS, "{}", proxy.log());
    assert_eq!(events(&proxy, "created").await, THREADS);
    assert_eq!(proxy.workers().await["workers"][0]["requests"], 0);

    // Each connection is served by one of them: state is per isolate.
    let mut conn = KeepAlive::open(&proxy).await;
    assert_eq!(conn.get("/", "w.test").await, (200, "v1 1".to_string()));
    assert_eq!(conn.get("/", "w.test").await, (200, "v1 2".to_string()));
    assert_eq!(
        events(&proxy, "created").await,
        THREADS,
        "no isolate made on the request path"
    );

    // A new version: warmed on every thread before it serves; every old
    // isolate retired once drained (the idle connection holds none).
    proxy.dir.write("w.js", &HELLO.replace("VERSION", "v2"));
    proxy.hup();
    proxy.wait_for_log("reload ok", Duration::from_secs(10)).await;
    assert_eq!(isolates(&proxy).await, THREADS, "{}", proxy.log());
    wait_until(&proxy, "every old isolate retired", || async {
        events(&proxy, "retired").await == THREADS
    })
    .await;
    assert_eq!(events(&proxy, "created").await, 2 * THREADS);
    // The same connection (same thread) now reaches the new version's
    // isolate, fresh; new connections too.
    assert_eq!(conn.get("/", "w.test").await, (200, "v2 1".to_string()));
    for _ in 0..6 {
        let text = get_host(&proxy.url("/"), "w.test").await.text().await.unwrap();
        assert!(text.starts_with("v2 "), "{text}");
    }
    assert_eq!(events(&proxy, "created").await, 2 * THREADS, "{}", proxy.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_that_turns_heavy_leaves_the_proxy_threads_and_keeps_serving() {
    let proxy = start(SPIN).await;
    assert_eq!(isolates(&proxy).await, THREADS, "{}", proxy.log());
    // One slice over 10 ms of CPU: the version turns heavy. (A 40 ms spin
    // of wall time may get less CPU on a busy machine: spin again until.)
    for _ in 0..50 {
        let r = get_host(&proxy.url("/spin?ms=40"), "w.test").await;
        assert_eq!(r.status(), 200, "{}", proxy.log());
        if proxy.log().contains("worker w: a slice of its JS used") {
            break;
        }
    }
    proxy
        .wait_for_log("worker w: a slice of its JS used", Duration::from_secs(5))
        .await;
    // Its proxy-thread isolates, idle, are dropped (none would serve again).
    wait_until(&proxy, "every proxy-thread isolate dropped", || async {
        events(&proxy, "heavy").await == THREADS
    })
    .await;
    // Its requests run on the isolate threads' lane now: one isolate.
    for _ in 0..4 {
        let r = get_host(&proxy.url("/"), "w.test").await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "spun");
    }
    assert_eq!(isolates(&proxy).await, 1, "{}", proxy.log());
    assert_eq!(events(&proxy, "heavy").await, THREADS, "{}", proxy.log());
}

/// No single slice over 10 ms, but every request holding its thread for
/// several: after its first requests, once most of its recent ones did,
/// the version turns heavy as one long slice would make it. A worker with
/// the odd long request stays light.
#[tokio::test(flavor = "multi_thread")]
async fn a_worker_whose_requests_keep_holding_the_thread_turns_heavy() {
    let proxy = start(SPIN).await;
    let mut conn = KeepAlive::open(&proxy).await;
    // One long request in ten (6 ms of wall time, so at most that of CPU),
    // the rest short: light, however many.
    for i in 0..120 {
        let path = if i % 10 == 0 { "/spin?ms=6" } else { "/" };
        assert_eq!(conn.get(path, "w.test").await, (200, "spun".to_string()));
    }
    assert!(!proxy.log().contains("of its recent requests"), "{}", proxy.log());
    assert_eq!(events(&proxy, "heavy").await, 0);
    // Every request 6 ms: heavy within a few (the share needs 6 long ones
    // in a row; a spin that got less CPU on a busy machine counts short).
    for _ in 0..200 {
        assert_eq!(conn.get("/spin?ms=6", "w.test").await, (200, "spun".to_string()));
        if proxy.log().contains("of its recent requests") {
            break;
        }
    }
    proxy
        .wait_for_log(
            "of its recent requests ran a slice of JS over 3 ms",
            Duration::from_secs(5),
        )
        .await;
    assert!(!proxy.log().contains("a slice of its JS used"), "{}", proxy.log());
    // As for a long slice: the proxy threads drop their isolates, and the
    // worker serves from the isolate threads' lane, one isolate.
    wait_until(&proxy, "every proxy-thread isolate dropped", || async {
        events(&proxy, "heavy").await == THREADS
    })
    .await;
    for _ in 0..4 {
        assert_eq!(conn.get("/", "w.test").await, (200, "spun".to_string()));
        let r = get_host(&proxy.url("/"), "w.test").await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(isolates(&proxy).await, 1, "{}", proxy.log());
}

/// Recursion until the stack runs out, with a call into Rust (URL parsing)
/// at every level, so the overflow can come while native code runs at the
/// deepest frame.
const RECURSE: &str = r#"
export default {
  async fetch(request) {
    const native = (n) => {
      new URL(`https://h${n}.example/`);
      return native(n + 1) + 1;
    };
    const plain = (n) => plain(n + 1) + 1;
    const out = [];
    for (const f of [plain, native]) {
      try { f(0); out.push("no overflow?"); } catch (e) { out.push(e.constructor.name); }
    }
    return new Response(out.join(" "));
  },
};
"#;

#[tokio::test(flavor = "multi_thread")]
async fn deep_recursion_on_a_proxy_thread_is_a_range_error_and_the_thread_serves_on() {
    let proxy = start(RECURSE).await;
    // The worker is light: its first request runs on a proxy thread (it is
    // warmed there, none on an isolate thread). The recursion may take over
    // 10 ms of CPU and turn it heavy: the later requests then run on the
    // isolate threads; either way the process lives and answers.
    assert_eq!(isolates(&proxy).await, THREADS, "{}", proxy.log());
    for _ in 0..4 {
        let r = get_host(&proxy.url("/"), "w.test").await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(
            (status.as_u16(), text.as_str()),
            (200, "RangeError RangeError"),
            "{}",
            proxy.log()
        );
    }
    let mut conn = KeepAlive::open(&proxy).await;
    for _ in 0..3 {
        assert_eq!(
            conn.get("/", "w.test").await,
            (200, "RangeError RangeError".to_string())
        );
    }
}

/// A top level that spins 60 ms of wall time (so well over 5 ms of CPU)
/// before it exports a handler.
const SLOW_TOP_LEVEL: &str = r#"
const end = Date.now() + 60;
let turns = 0;
while (Date.now() < end) { turns++; }
export default {
  async fetch(request) {
    return new Response(`VERSION ${turns > 0}`);
  },
};
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_with_a_slow_top_level_never_makes_an_isolate_on_a_proxy_thread() {
    // Every new isolate runs the top level on the thread that makes it: on
    // a proxy thread, every other worker's requests there would wait for
    // it at each reload or idle eviction. Its check isolate finds the top
    // level slow: the version is heavy before any proxy thread sees it.
    let proxy = start(&SLOW_TOP_LEVEL.replace("VERSION", "v1")).await;
    assert!(proxy.log().contains("worker w: its top level used"), "{}", proxy.log());
    // Its one isolate is on an isolate thread, made before the listeners
    // accepted; no proxy thread made one.
    assert_eq!(isolates(&proxy).await, 1, "{}", proxy.log());
    assert_eq!(events(&proxy, "created").await, 1, "{}", proxy.log());
    for _ in 0..6 {
        let r = get_host(&proxy.url("/"), "w.test").await;
        assert_eq!(r.status(), 200, "{}", proxy.log());
        assert_eq!(r.text().await.unwrap(), "v1 true");
    }
    let mut conn = KeepAlive::open(&proxy).await;
    assert_eq!(conn.get("/", "w.test").await, (200, "v1 true".to_string()));
    assert_eq!(events(&proxy, "created").await, 1, "{}", proxy.log());
    assert_eq!(events(&proxy, "heavy").await, 0, "{}", proxy.log());

    // A new version is judged the same way: warmed on the isolate thread
    // only, and serves from there.
    proxy.dir.write("w.js", &SLOW_TOP_LEVEL.replace("VERSION", "v2"));
    proxy.hup();
    proxy.wait_for_log("reload ok", Duration::from_secs(10)).await;
    assert_eq!(conn.get("/", "w.test").await, (200, "v2 true".to_string()));
    for _ in 0..4 {
        let r = get_host(&proxy.url("/"), "w.test").await;
        assert_eq!(r.text().await.unwrap(), "v2 true");
    }
    assert_eq!(events(&proxy, "created").await, 2, "{}", proxy.log());
    assert_eq!(events(&proxy, "heavy").await, 0, "{}", proxy.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_proxy_thread_isolates_are_dropped_and_made_again_on_demand() {
    let proxy = start_with(
        &HELLO.replace("VERSION", "v1"),
        IDLE_2S,
        "",
        THREADS,
        "info,plugin_runtime::io::thread=debug",
    )
    .await;
    assert_eq!(events(&proxy, "created").await, THREADS, "{}", proxy.log());
    // Nobody asks: every thread's warm isolate goes, the worker costs nothing.
    wait_until(&proxy, "every idle isolate dropped", || async {
        events(&proxy, "idle").await == THREADS
    })
    .await;
    assert_eq!(isolates(&proxy).await, 0, "{}", proxy.log());

    // The next request makes one where it lands; one kept busy stays
    // (its global counts on), well past the idle timeout.
    let mut conn = KeepAlive::open(&proxy).await;
    for n in 1..=40 {
        assert_eq!(conn.get("/", "w.test").await, (200, format!("v1 {n}")));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(events(&proxy, "created").await, THREADS + 1, "{}", proxy.log());
    assert_eq!(events(&proxy, "idle").await, THREADS, "{}", proxy.log());
    // Made in the blank isolate its thread kept standing (the worker's
    // heap limit): only the worker's part was made on the request path;
    // then the thread made the next blank between requests.
    let log = proxy.log();
    let made = log
        .lines()
        .filter(|l| l.contains("new isolate for worker w"))
        .nth(THREADS as usize)
        .unwrap_or_else(|| panic!("no on-demand isolate in the log:\n{log}"));
    assert!(made.contains("from a blank made ahead"), "{made}\n{log}");
    let after = &log[log.find(made).unwrap()..];
    assert!(after.contains("blank isolate (128 MiB) made ahead"), "{log}");
    // Then idle again: dropped too.
    wait_until(&proxy, "the used isolate dropped once idle", || async {
        events(&proxy, "idle").await == THREADS + 1
    })
    .await;
    assert_eq!(isolates(&proxy).await, 0, "{}", proxy.log());
}

/// The blank each proxy thread keeps standing for isolates made on demand
/// has the light workers' heap limit; a reload that changes it makes the
/// threads stand blanks of the new one, so an isolate made on demand after
/// an idle eviction still takes one.
#[tokio::test(flavor = "multi_thread")]
async fn the_standing_blank_follows_a_reload_of_the_workers_heap_limit() {
    let proxy = start_with(
        &HELLO.replace("VERSION", "v1"),
        IDLE_2S,
        "limits = { memory_mb = 64 }\n",
        THREADS,
        "info,plugin_runtime::io::thread=debug",
    )
    .await;
    assert_eq!(events(&proxy, "created").await, THREADS, "{}", proxy.log());
    let conf = proxy.dir.path().join("isoproxy.toml");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, text.replace("memory_mb = 64", "memory_mb = 32")).unwrap();
    proxy.hup();
    proxy.wait_for_log("reload ok", Duration::from_secs(10)).await;
    wait_until(&proxy, "blanks of the new limit", || async {
        proxy.log().matches("blank isolate (32 MiB) made ahead").count() >= THREADS as usize
    })
    .await;
    // The new version's isolates (one per thread, warmed by the reload)
    // go once idle; the next request makes one on demand, in the blank.
    wait_until(&proxy, "every idle isolate dropped", || async {
        events(&proxy, "idle").await == THREADS
    })
    .await;
    assert_eq!(events(&proxy, "created").await, 2 * THREADS, "{}", proxy.log());
    let mut conn = KeepAlive::open(&proxy).await;
    assert_eq!(conn.get("/", "w.test").await, (200, "v1 1".to_string()));
    assert_eq!(events(&proxy, "created").await, 2 * THREADS + 1, "{}", proxy.log());
    let log = proxy.log();
    let made = log
        .lines()
        .filter(|l| l.contains("new isolate for worker w"))
        .nth(2 * THREADS as usize)
        .unwrap_or_else(|| panic!("no on-demand isolate in the log:\n{log}"));
    assert!(made.contains("from a blank made ahead"), "{made}\n{log}");
}

/// A handler that calls a big function: V8 compiles it lazily, on an
/// isolate's first request.
fn lazy_handler(version: &str) -> String {
    format!(
        "function big(x) {{\n{}  return x;\n}}\nexport default {{ async fetch() {{ return new Response(`{version} ${{big(0)}}`); }} }};\n",
        "  x = (x * 31 + 7) % 1000003;\n".repeat(4000)
    )
}

/// `code caches remade ... (A -> B KiB)` lines of the log, as (A, B).
fn remade(log: &str) -> Vec<(u64, u64)> {
    log.lines()
        .filter_map(|l| l.split("code caches remade after a served request (").nth(1))
        .filter_map(|rest| {
            let (sizes, _) = rest.split_once(" KiB)")?;
            let (a, b) = sizes.split_once(" -> ")?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .collect()
}

/// Once a version's first isolate has served a client request, the
/// version's code caches are made again from it, between requests: they
/// then hold what a request compiles (the handler and what it calls), so
/// later isolates (made on demand after an idle eviction, here) take it
/// from the cache instead of compiling it on their first request. Once per
/// version, whichever thread's isolate gets there first; a new version
/// starts over.
#[tokio::test(flavor = "multi_thread")]
async fn a_served_request_fills_the_versions_code_cache_once() {
    let proxy = start_with(&lazy_handler("v1"), IDLE_2S, "", THREADS, "info,plugin_runtime=debug").await;
    let expected = {
        let mut x: u64 = 0;
        for _ in 0..4000 {
            x = (x * 31 + 7) % 1_000_003;
        }
        x
    };
    // Requests on new connections: several threads' isolates serve one.
    for _ in 0..8 {
        let r = get_host(&proxy.url("/"), "w.test").await;
        assert_eq!(r.text().await.unwrap(), format!("v1 {expected}"));
    }
    wait_until(&proxy, "the version's code caches remade", || async {
        !remade(&proxy.log()).is_empty()
    })
    .await;
    let log = proxy.log();
    let caches = remade(&log);
    assert_eq!(caches.len(), 1, "once per version:\n{log}");
    let (before, after) = caches[0];
    // The big function's bytecode (4,000 statements) is in it now.
    assert!(after >= before + 16, "{before} -> {after} KiB\n{log}");

    // Every isolate goes once idle; the next ones take the fuller cache.
    wait_until(&proxy, "every idle isolate dropped", || async {
        events(&proxy, "idle").await == THREADS
    })
    .await;
    for _ in 0..4 {
        let r = get_host(&proxy.url("/"), "w.test").await;
        assert_eq!(r.text().await.unwrap(), format!("v1 {expected}"));
    }
    assert!(events(&proxy, "created").await > THREADS, "{}", proxy.log());
    let log = proxy.log();
    assert!(!log.contains("rejected by V8"), "{log}");
    assert_eq!(remade(&log).len(), 1, "{log}");

    // A new version: its own caches, remade after its own first request.
    proxy.dir.write("w.js", &lazy_handler("v2"));
    proxy.hup();
    proxy.wait_for_log("reload ok", Duration::from_secs(10)).await;
    let r = get_host(&proxy.url("/"), "w.test").await;
    assert_eq!(r.text().await.unwrap(), format!("v2 {expected}"));
    wait_until(&proxy, "the new version's code caches remade", || async {
        remade(&proxy.log()).len() == 2
    })
    .await;
}

/// A worker over 512 KiB of source: a proxy thread does not make its
/// caches again (V8 would hold the thread about 1 ms per 100 KB); it
/// serves all the same.
#[tokio::test(flavor = "multi_thread")]
async fn a_big_workers_code_cache_is_not_remade_on_a_proxy_thread() {
    let big = format!(
        "function unused(x) {{\n{}  return x;\n}}\n{}",
        "  x = x + 1;\n".repeat(60_000),
        lazy_handler("big")
    );
    assert!(big.len() > 512 << 10);
    let proxy = start_with(&big, "", "", 1, "info,plugin_runtime=debug").await;
    for _ in 0..3 {
        let r = get_host(&proxy.url("/"), "w.test").await;
        assert_eq!(r.status(), 200, "{}", proxy.log());
        assert!(r.text().await.unwrap().starts_with("big "));
    }
    proxy
        .wait_for_log("code caches not remade on this thread", Duration::from_secs(5))
        .await;
    assert!(remade(&proxy.log()).is_empty(), "{}", proxy.log());
}

/// `/?mb=N` holds N MiB of arrays until it answers (made 2 MiB per slice),
/// so the worker's heap limit decides. Loading it takes a while (its check
/// isolate parses a 2.2 MB function no request calls; later isolates take
/// its code from the code cache), so the proxy threads wait for each
/// worker to load and make a blank isolate ahead meanwhile. Its top level
/// takes no time: a slow one would make the worker heavy.
fn hold() -> String {
    format!(
        "function unused(x) {{\n{}  return x;\n}}\n{HOLD}",
        "  x = x + 1;\n".repeat(160_000)
    )
}

const HOLD: &str = r#"
export default {
  async fetch(request, env) {
    const mb = Number(new URL(request.url).searchParams.get("mb") ?? "0");
    const keep = [];
    for (let i = 0; i < mb; i++) {
      keep.push(new Array(131072).fill(1.5));
      // Short slices: a long one would move the worker off the proxy threads.
      if (i % 2 === 1) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return new Response(`${env.NAME} held ${keep.length} MiB`);
  },
};
"#;

/// Start-up makes blank isolates ahead on the proxy threads while the
/// workers load (the heap limit of the next expected one). Each worker's
/// isolates still have its own limit, env and top level, whichever blank
/// was ready, and none is made on the request path.
#[tokio::test(flavor = "multi_thread")]
async fn isolates_made_from_blanks_keep_each_workers_heap_limit() {
    let mut config = String::from("[runtime]\nisolate_threads = 1\n");
    for (name, mb) in [("small", 16), ("big", 128), ("big2", 128)] {
        config.push_str(&format!(
            "\n[[workers]]\nname = \"{name}\"\nmain = \"hold.js\"\nvars = {{ NAME = \"{name}\" }}\nlimits = {{ memory_mb = {mb} }}\n\n[[routes]]\npattern = \"{name}.test/*\"\nworker = \"{name}\"\n"
        ));
    }
    let proxy = Proxy::builder()
        .script("hold.js", &hold())
        .config(&config)
        .proxy_threads(2)
        .env("RUST_LOG", "info,plugin_runtime::io::thread=debug")
        .start()
        .await;
    let log = proxy.log();
    assert!(log.contains("MiB) made ahead"), "{log}");
    let created = |worker: &'static str| {
        let proxy = &proxy;
        async move {
            proxy
                .metric(
                    "isoproxy_isolate_events_total",
                    &[("worker", worker), ("event", "created")],
                )
                .await
        }
    };
    // One isolate per worker per proxy thread, before the first request.
    for name in ["small", "big", "big2"] {
        assert_eq!(created(name).await, 2.0, "{name}: {}", proxy.log());
    }
    // Every request on a new connection: both proxy threads serve some.
    for _ in 0..6 {
        for name in ["big", "big2"] {
            let r = get_host(&proxy.url("/?mb=24"), &format!("{name}.test")).await;
            assert_eq!(r.status(), 200, "{}", proxy.log());
            assert_eq!(r.text().await.unwrap(), format!("{name} held 24 MiB"));
        }
        let r = get_host(&proxy.url("/?mb=2"), "small.test").await;
        assert_eq!(r.text().await.unwrap(), "small held 2 MiB");
        let r = get_host(&proxy.url("/?mb=24"), "small.test").await;
        assert_eq!(r.status(), 503, "{}", proxy.log());
        assert!(r.text().await.unwrap().contains("memory limit"));
    }
    // The 128 MiB workers' isolates all held; none was made since.
    assert_eq!(created("big").await + created("big2").await, 4.0, "{}", proxy.log());
    let broken = proxy
        .metric(
            "isoproxy_isolate_events_total",
            &[("worker", "small"), ("event", "memory_limit")],
        )
        .await;
    assert_eq!(broken, 6.0, "{}", proxy.log());
}
