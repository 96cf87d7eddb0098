//! Bodies a script does not touch stream through without being buffered and
//! without entering V8: 1 GiB each way through a header-rewriting worker
//! while the proxy's resident memory stays under 200 MiB.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{Origin, Proxy, client, drain_pattern, pattern_body, pattern_sum};

const GIB: u64 = 1 << 30;
const RSS_LIMIT: u64 = 200 << 20;

const REWRITE: &str = r#"
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    url.searchParams.set("via", "worker");
    const res = await fetch(new Request(url, request));
    const out = new Response(res.body, res);
    out.headers.set("x-rewritten", "1");
    return out;
  },
};
"#;

async fn start(origin: &Origin) -> Proxy {
    Proxy::builder()
        .script("rewrite.js", REWRITE)
        .config(&format!(
            "[[workers]]\nname = \"rewrite\"\nmain = \"rewrite.js\"\n\n[[routes]]\npattern = \"*/*\"\nworker = \"rewrite\"\norigin = \"{}\"\n",
            origin.url()
        ))
        .start()
        .await
}

/// Samples the proxy's RSS every 20 ms until dropped; keeps the maximum.
struct RssWatch {
    max: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssWatch {
    fn start(pid: u32) -> RssWatch {
        let max = Arc::new(AtomicU64::new(0));
        let m = max.clone();
        let task = tokio::spawn(async move {
            loop {
                let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                if let Some(kb) = status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                {
                    m.fetch_max(kb * 1024, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        RssWatch { max, task }
    }
    fn max(&self) -> u64 {
        self.max.load(Ordering::Relaxed)
    }
}

impl Drop for RssWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_gib_download_streams_through_a_worker() {
    let origin = Origin::start("big").await;
    let proxy = start(&origin).await;
    let watch = RssWatch::start(proxy.pid());
    let resp = client().get(proxy.url(&format!("/bytes/{GIB}"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-rewritten"], "1");
    assert_eq!(resp.headers()["content-length"], GIB.to_string().as_str());
    let (len, pattern_ok) = drain_pattern(resp).await;
    assert_eq!(len, GIB);
    assert!(pattern_ok, "every byte arrived intact and in order");
    let max = watch.max();
    eprintln!("download: max RSS {} MiB", max >> 20);
    assert!(max > 0 && max < RSS_LIMIT, "proxy RSS peaked at {} MiB", max >> 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_gib_upload_streams_through_a_worker() {
    let origin = Origin::start("big").await;
    let proxy = start(&origin).await;
    let watch = RssWatch::start(proxy.pid());
    let resp = client()
        .post(proxy.url("/upload"))
        .header("content-length", GIB.to_string())
        .body(pattern_body(GIB))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", proxy.log());
    assert_eq!(resp.headers()["x-rewritten"], "1");
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["len"], GIB);
    assert_eq!(v["sum"], pattern_sum(GIB));
    let max = watch.max();
    eprintln!("upload: max RSS {} MiB", max >> 20);
    assert!(max > 0 && max < RSS_LIMIT, "proxy RSS peaked at {} MiB", max >> 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn chunked_upload_without_length_streams_through_a_worker() {
    let origin = Origin::start("big").await;
    let proxy = start(&origin).await;
    let total = 64 << 20;
    let resp = client()
        .post(proxy.url("/upload"))
        .body(pattern_body(total))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", proxy.log());
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["len"], total);
    assert_eq!(v["sum"], pattern_sum(total));
}
