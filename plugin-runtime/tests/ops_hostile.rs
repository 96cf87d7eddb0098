//! The op layer under hostile calls, inside the real runtime: a worker gets
//! the raw ops object (`expose_raw_ops_for_tests`, which no config or
//! script can turn on) and calls every op it finds on it (so new ops are
//! covered without editing this file) with wrong types, no arguments, huge
//! lengths, negative / NaN / infinite / 2^53 numbers, lone surrogates,
//! proxies and getters that throw, detached / resizable / shared buffers and
//! huge arrays. Pass: every call returns or throws a JS exception, and the
//! process (this test binary) and the isolate survive.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};

use bytes::Bytes;
use plugin_runtime::{
    Body, BoxFuture, DispatchError, FetchError, FetchRequest, Fetcher, IsolateEvent, RequestHead, ResponseHead,
    Runtime, RuntimeOptions, WorkerResponse, WorkerSpec,
};

/// Answers every subrequest itself (no network): 200 with a short body.
struct LocalFetcher;

impl Fetcher for LocalFetcher {
    fn fetch(&self, _request: FetchRequest) -> BoxFuture<Result<WorkerResponse, FetchError>> {
        Box::pin(async move {
            Ok(WorkerResponse {
                head: ResponseHead {
                    status: 200,
                    status_text: "OK".into(),
                    headers: http::HeaderMap::new(),
                },
                body: Body::Bytes(Bytes::from_static(b"local")),
                cpu_time: std::time::Duration::ZERO,
                web_socket: None,
            })
        })
    }
}

fn spec() -> WorkerSpec {
    WorkerSpec {
        name: "hostile".into(),
        main: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/ops_hostile/worker.js"),
        env: serde_json::Map::new(),
        secrets: Default::default(),
        root: None,
        compatibility_date: None,
        compatibility_flags: vec![],
        memory_mb: 1024,
        // The whole matrix runs in one request: no CPU limit in the way.
        cpu_ms: 600_000,
        scheduled_cpu_ms: 600_000,
        request_timeout_s: 600,
        subrequests: u32::MAX,
        kv_namespaces: Vec::new(),
    }
}

fn head(path: &str) -> RequestHead {
    RequestHead {
        method: http::Method::GET,
        url: format!("http://hostile.test{path}"),
        headers: http::HeaderMap::new(),
        client: Default::default(),
    }
}

async fn text(body: Body) -> String {
    match body {
        Body::Empty => String::new(),
        Body::Bytes(b) => String::from_utf8_lossy(&b).into(),
        Body::Stream(mut s) => {
            let mut out = Vec::new();
            while let Some(c) = s.next().await {
                out.extend_from_slice(&c.unwrap());
            }
            String::from_utf8_lossy(&out).into()
        }
    }
}

struct World {
    rt: Runtime,
    code: Arc<plugin_runtime::WorkerCode>,
    created: Arc<AtomicUsize>,
    internal: Arc<AtomicUsize>,
}

/// The panic count is process-wide: these tests take turns.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn world() -> World {
    static EXPOSE: Once = Once::new();
    EXPOSE.call_once(plugin_runtime::expose_raw_ops_for_tests);
    let created = Arc::new(AtomicUsize::new(0));
    let internal = Arc::new(AtomicUsize::new(0));
    let (c, i) = (created.clone(), internal.clone());
    let rt = Runtime::start(RuntimeOptions {
        isolate_threads: 1,
        events: Some(Arc::new(move |_worker: &str, e: IsolateEvent| match e {
            IsolateEvent::Created => {
                c.fetch_add(1, Ordering::Relaxed);
            }
            IsolateEvent::InternalError => {
                i.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        })),
    })
    .unwrap();
    let code = Runtime::load_worker(spec()).unwrap();
    World {
        rt,
        code,
        created,
        internal,
    }
}

impl World {
    async fn get(&self, path: &str) -> Result<(u16, String), DispatchError> {
        let resp = self
            .rt
            .dispatch(&self.code, head(path), Body::Empty, Arc::new(LocalFetcher))
            .await?;
        Ok((resp.head.status, text(resp.body).await))
    }
}

const ACCOUNTING_OPS: [&str; 2] = ["memoryCharge", "memoryRelease"];

#[tokio::test(flavor = "multi_thread")]
async fn accounting_ops_end_the_isolate_at_most() {
    let _turn = TURN.lock().await;
    let w = world();
    let panics_before = plugin_runtime::op_panics();
    for name in ACCOUNTING_OPS {
        match w.get(&format!("/hostile?op={name}")).await {
            Ok((status, body)) => assert_eq!(status, 200, "{name}: {body}"),
            Err(plugin_runtime::DispatchError::MemoryLimit) => {}
            Err(e) => panic!("op {name}: the hostile run failed: {e}"),
        }
        // Contained either way: the worker still answers.
        let (status, _) = w.get("/ops").await.unwrap();
        assert_eq!(status, 200);
    }
    assert_eq!(
        plugin_runtime::op_panics(),
        panics_before,
        "no panic in the accounting ops"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_op_survives_hostile_arguments() {
    let _turn = TURN.lock().await;
    let w = world();
    let panics_before = plugin_runtime::op_panics();
    let (_, names) = w.get("/ops").await.unwrap();
    let names: Vec<String> = serde_json::from_str(&names).unwrap();
    assert!(names.len() >= 50, "the ops object lists every op: {names:?}");
    for must in [
        "respond",
        "fetch",
        "cachePut",
        "urlParse",
        "decoderDecode",
        "htmlRewriterOp",
        "log",
    ] {
        assert!(names.iter().any(|n| n == must), "{must} is enumerated");
    }
    let (mut calls, mut threw) = (0, 0);
    let started = std::time::Instant::now();
    for name in &names {
        // The bootstrap's accounting of buffers V8 reserves: their job is to
        // end an isolate that goes over its budget, which a hostile size
        // does (contained: the next request gets a fresh isolate). This run
        // needs one isolate throughout; the second test below calls them.
        if ACCOUNTING_OPS.contains(&name.as_str()) {
            continue;
        }
        let t = std::time::Instant::now();
        let (status, body) = w
            .get(&format!("/hostile?op={name}"))
            .await
            .unwrap_or_else(|e| panic!("op {name}: the hostile run failed: {e}"));
        assert_eq!(status, 200, "{name}: {body}");
        let report: serde_json::Value = serde_json::from_str(&body).unwrap();
        let (c, r, t2) = (
            report["calls"].as_u64().unwrap(),
            report["returned"].as_u64().unwrap(),
            report["threw"].as_u64().unwrap(),
        );
        println!(
            "  {name}: {c} calls, {t2} threw {}, {} excluded, {:?}",
            report["classes"],
            report["excluded"],
            t.elapsed()
        );
        assert_eq!(c, r + t2, "{name}: every call returned or threw");
        assert!(c >= 100, "op {name} was called {c} times");
        assert_eq!(
            report["nonErrors"].as_array().unwrap().len(),
            0,
            "{name} throws Error objects: {}",
            report["nonErrors"]
        );
        calls += c;
        threw += t2;
    }
    println!(
        "hostile op calls: {calls} over {} ops ({threw} threw, the rest returned) in {:?}",
        names.len(),
        started.elapsed()
    );
    assert!(calls > 20_000, "{calls} calls");
    assert_eq!(
        plugin_runtime::op_panics(),
        panics_before,
        "no op panicked on any of them"
    );
    // The isolate that took all that still serves.
    assert_eq!(w.get("/").await.unwrap(), (200, "ok".to_string()));
    assert_eq!(w.created.load(Ordering::Relaxed), 1, "same isolate, not a replacement");
}

/// The reported bug: 25,000 headers used to overflow `HeaderMap::with_capacity`
/// in `op_respond` and abort the process.
#[tokio::test(flavor = "multi_thread")]
async fn too_many_headers_is_an_exception_not_an_abort() {
    let _turn = TURN.lock().await;
    let w = world();
    let err = w.get("/headers-25000").await.unwrap_err();
    assert!(matches!(err, DispatchError::Exception(_)), "{err:?}");
    assert!(err.to_string().contains("RangeError: Too many headers"), "{err}");
    assert_eq!(w.get("/").await.unwrap(), (200, "ok".to_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_respond_is_checked_in_rust() {
    let _turn = TURN.lock().await;
    let w = world();
    assert_eq!(
        w.get("/raw-respond-crlf").await.unwrap(),
        (200, "TypeError: Invalid statusText".to_string())
    );
    let (status, body) = w.get("/raw-respond-101").await.unwrap();
    assert_eq!(status, 200);
    assert!(
        body.starts_with("RangeError: Responses may only be constructed with status codes in the range 200 to 599"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn strings_past_v8s_limit_are_range_errors() {
    let _turn = TURN.lock().await;
    let w = world();
    assert_eq!(
        w.get("/url-limit").await.unwrap(),
        (200, "RangeError: Invalid string length".to_string())
    );
}

/// The guard itself, with an op that panics on purpose: a TypeError naming
/// the op, a count, and the isolate carries on. A panic while settling a
/// promise (on the isolate thread, outside any op) fails that request and
/// replaces the isolate; the thread keeps serving.
#[tokio::test(flavor = "multi_thread")]
async fn panics_become_exceptions_and_are_counted() {
    let _turn = TURN.lock().await;
    let w = world();
    let before = plugin_runtime::op_panics();
    assert_eq!(
        w.get("/panic-op").await.unwrap(),
        (200, "TypeError: internal error in op testPanic".to_string())
    );
    assert_eq!(plugin_runtime::op_panics(), before + 1);
    assert_eq!(w.get("/").await.unwrap(), (200, "ok".to_string()));
    assert_eq!(w.created.load(Ordering::Relaxed), 1, "an op panic keeps the isolate");

    let err = w.get("/panic-settle").await.unwrap_err();
    assert!(matches!(err, DispatchError::Internal(_)), "{err:?}");
    assert_eq!(plugin_runtime::op_panics(), before + 2);
    // (The thread discards it right after the turn that failed the request.)
    assert_eq!(w.get("/").await.unwrap(), (200, "ok".to_string()));
    assert_eq!(w.internal.load(Ordering::Relaxed), 1, "the isolate was discarded");
    assert_eq!(w.created.load(Ordering::Relaxed), 2, "a fresh isolate serves");
}
