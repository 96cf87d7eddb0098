//! Overload and fairness: the queue in front of an isolate thread is
//! bounded (503 + Retry-After past it), a request whose client left while
//! it waited never reaches the script, a worker whose JS hogs its thread is
//! moved to the heavy lane, and `scheduled()` runs there too, so neither
//! holds up other requests.
//!
//! No timing assertions: waits below only set scenes up, and the checks are
//! on statuses, bodies, counters and log lines.

mod common;

use std::time::Duration;

use common::{Proxy, client, get_host};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

/// `/spin?ms=N` keeps its thread busy for N ms of wall time (synchronously);
/// `/hit` counts, `/count` tells the count; anything else answers at once.
const SPIN: &str = r#"
let hits = 0;
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/spin") {
      const end = Date.now() + Number(url.searchParams.get("ms"));
      while (Date.now() < end) {}
      return new Response("spun");
    }
    if (url.pathname === "/hit") { hits++; return new Response("hit"); }
    if (url.pathname === "/count") return new Response(String(hits));
    return new Response("fast");
  },
  async scheduled(controller) {
    const end = Date.now() + Number(controller.cron.split(" ")[0]) * 100;
    while (Date.now() < end) {}
  },
};
"#;

const GOOD: &str = "export default { fetch() { return new Response('good'); } };";

fn routes(workers: &[&str]) -> String {
    workers
        .iter()
        .map(|w| format!("[[routes]]\npattern = \"{w}.test/*\"\nworker = \"{w}\"\n\n"))
        .collect()
}

/// Starts a slow request in the background and gives it time to get into
/// the script (the scene, not a check).
async fn spin_in_background(proxy: &Proxy, host: &str, ms: u64) -> tokio::task::JoinHandle<(u16, String)> {
    let url = proxy.url(&format!("/spin?ms={ms}"));
    let host = host.to_string();
    let task = tokio::spawn(async move {
        let r = get_host(&url, &host).await;
        (r.status().as_u16(), r.text().await.unwrap())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    task
}

#[tokio::test(flavor = "multi_thread")]
async fn past_the_queue_bound_requests_get_503_with_retry_after() {
    let proxy = Proxy::builder()
        .script("spin.js", SPIN)
        .config(&format!(
            "[runtime]\nisolate_threads = 1\nqueue_limit = 2\ncpu_ms = 30000\n\n\
             [[workers]]\nname = \"spin\"\nmain = \"spin.js\"\n\n{}",
            routes(&["spin"])
        ))
        .start()
        .await;
    // The only isolate thread is busy for a while: what arrives meanwhile
    // waits in its queue, two at most.
    let spinning = spin_in_background(&proxy, "spin.test", 4000).await;
    let burst: Vec<_> = (0..8)
        .map(|_| {
            let url = proxy.url("/fast");
            tokio::spawn(async move { get_host(&url, "spin.test").await })
        })
        .collect();
    let mut refused = 0;
    let mut served = 0;
    for r in burst {
        let r = r.await.unwrap();
        match r.status().as_u16() {
            503 => {
                refused += 1;
                assert_eq!(r.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
                assert_eq!(
                    r.text().await.unwrap(),
                    "Service Unavailable: the worker is overloaded; retry later.\n"
                );
            }
            200 => {
                served += 1;
                assert_eq!(r.text().await.unwrap(), "fast");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(spinning.await.unwrap(), (200, "spun".to_string()));
    // Two fit in the queue; the other six were refused.
    assert_eq!((served, refused), (2, 6), "{}", proxy.log());
    let metrics = proxy.metrics().await;
    assert!(
        metrics.contains("isoproxy_overloaded_total{worker=\"spin\"} 6"),
        "{metrics}"
    );
    assert!(
        metrics.contains("outcome=\"unavailable\",route=\"spin.test/*\",status_class=\"5xx\",worker=\"spin\"} 6"),
        "{metrics}"
    );
    // At most one log line a second about it.
    let log = proxy.log();
    let lines = log.matches("refusing with 503").count();
    assert!((1..=2).contains(&lines), "{log}");
    // Once the thread is free again, requests are served.
    let r = get_host(&proxy.url("/fast"), "spin.test").await;
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_left_while_queued_is_never_dispatched() {
    let proxy = Proxy::builder()
        .script("spin.js", SPIN)
        .config(&format!(
            "[runtime]\nisolate_threads = 1\ncpu_ms = 30000\n\n\
             [[workers]]\nname = \"spin\"\nmain = \"spin.js\"\n\n{}",
            routes(&["spin"])
        ))
        .start()
        .await;
    let spinning = spin_in_background(&proxy, "spin.test", 3000).await;
    // A request queues behind the spin, then its client goes away.
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    tcp.write_all(b"GET /hit HTTP/1.1\r\nHost: spin.test\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(tcp);
    proxy
        .wait_for_log("the client went away before the response", Duration::from_secs(10))
        .await;
    assert_eq!(spinning.await.unwrap(), (200, "spun".to_string()));
    // The script never saw it.
    let r = get_host(&proxy.url("/count"), "spin.test").await;
    assert_eq!(r.text().await.unwrap(), "0", "{}", proxy.log());
    // A request that stays is counted (the counter works).
    assert_eq!(get_host(&proxy.url("/hit"), "spin.test").await.status(), 200);
    let r = get_host(&proxy.url("/count"), "spin.test").await;
    assert_eq!(r.text().await.unwrap(), "1");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_hogging_its_thread_moves_to_the_heavy_lane() {
    // `good` must answer within 1 s: behind one of `hog`'s 2 s slices it
    // could not (504), so every 200 below was served on another thread.
    let proxy = Proxy::builder()
        .script("spin.js", SPIN)
        .script("good.js", GOOD)
        .config(&format!(
            "[runtime]\nisolate_threads = 2\n\n\
             [[workers]]\nname = \"hog\"\nmain = \"spin.js\"\nlimits = {{ cpu_ms = 30000 }}\n\n\
             [[workers]]\nname = \"good\"\nmain = \"good.js\"\nlimits = {{ request_timeout_s = 1 }}\n\n{}",
            routes(&["hog", "good"])
        ))
        .start()
        .await;
    // One long slice makes `hog` heavy.
    let r = get_host(&proxy.url("/spin?ms=300"), "hog.test").await;
    assert_eq!(r.status(), 200);
    proxy
        .wait_for_log("worker hog: a slice of its JS used", Duration::from_secs(10))
        .await;
    // Many slow `hog` requests at once (on one thread they would spread
    // over both threads), and `good` keeps answering meanwhile.
    let hogs: Vec<_> = (0..6)
        .map(|_| {
            let url = proxy.url("/spin?ms=2000");
            tokio::spawn(async move { get_host(&url, "hog.test").await.status().as_u16() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..20 {
        let r = get_host(&proxy.url("/"), "good.test").await;
        assert_eq!(r.status(), 200, "{}", proxy.log());
        assert_eq!(r.text().await.unwrap(), "good");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for h in hogs {
        assert_eq!(h.await.unwrap(), 200);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_runs_do_not_hold_up_requests() {
    // The scheduled handler spins 3 s (the cron's minute field x 100 ms);
    // requests must answer within 1 s, so a 200 was not queued behind it.
    let proxy = Proxy::builder()
        .script("spin.js", SPIN)
        .config(&format!(
            "[runtime]\nisolate_threads = 2\nrequest_timeout_s = 1\n\n\
             [[workers]]\nname = \"spin\"\nmain = \"spin.js\"\n\n{}",
            routes(&["spin"])
        ))
        .start()
        .await;
    assert_eq!(get_host(&proxy.url("/"), "spin.test").await.status(), 200);
    let url = proxy.admin_url("/__scheduled?worker=spin&cron=30+*+*+*+*");
    let run = tokio::spawn(async move {
        let r = client().post(url).send().await.unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..20 {
        let r = get_host(&proxy.url("/hit"), "spin.test").await;
        assert_eq!(r.status(), 200, "{}", proxy.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, body) = run.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "ok", "{body}");
}
