//! The runtime on its own: real V8 isolates on real isolate threads, a
//! worker script from disk, requests dispatched through the public API.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use plugin_runtime::{
    Body, BoxFuture, FetchError, FetchRequest, Fetcher, RequestHead, ResponseHead, Runtime, RuntimeOptions,
    WorkerResponse, WorkerSpec, body_channel,
};

/// Answers every subrequest itself with a JSON description of it: the
/// runtime's side of `fetch()` without any network.
struct EchoFetcher;

impl Fetcher for EchoFetcher {
    fn fetch(&self, request: FetchRequest) -> BoxFuture<Result<WorkerResponse, FetchError>> {
        Box::pin(async move {
            let mut body = Vec::new();
            match request.body {
                Body::Empty => {}
                Body::Bytes(b) => body.extend_from_slice(&b),
                Body::Stream(mut s) => {
                    while let Some(c) = s.next().await {
                        body.extend_from_slice(&c.unwrap());
                    }
                }
            }
            let text = format!(
                "{} {} {}",
                request.head.method,
                request.head.url,
                String::from_utf8_lossy(&body)
            );
            let mut headers = http::HeaderMap::new();
            headers.insert("x-echo", "1".parse().unwrap());
            let (w, s) = body_channel(Some(text.len() as u64));
            tokio::spawn(async move { w.send(Bytes::from(text)).await });
            Ok(WorkerResponse {
                head: ResponseHead {
                    status: 200,
                    status_text: "OK".into(),
                    headers,
                },
                body: Body::Stream(s),
                cpu_time: std::time::Duration::ZERO,
                web_socket: None,
            })
        })
    }
}

fn script(name: &str, src: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("isoproxy-rt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.js"));
    std::fs::write(&p, src).unwrap();
    p
}

fn spec(name: &str, main: PathBuf) -> WorkerSpec {
    let mut env = serde_json::Map::new();
    env.insert("GREETING".into(), "hi".into());
    WorkerSpec {
        name: name.into(),
        main,
        env,
        secrets: Default::default(),
        root: None,
        compatibility_date: None,
        compatibility_flags: vec![],
        memory_mb: 128,
        cpu_ms: 50,
        scheduled_cpu_ms: 30_000,
        request_timeout_s: 60,
        subrequests: 50,
        kv_namespaces: Vec::new(),
    }
}

fn head(url: &str) -> RequestHead {
    RequestHead {
        method: http::Method::GET,
        url: url.into(),
        headers: http::HeaderMap::new(),
        client: Default::default(),
    }
}

async fn body_text(body: Body) -> String {
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

#[tokio::test(flavor = "multi_thread")]
async fn answers_from_the_script() {
    let main = script(
        "answer",
        r#"export default { async fetch(request, env) {
            return new Response(`${env.GREETING} ${request.method} ${request.url}`, { status: 201, headers: { "x-a": "b" } });
        } };"#,
    );
    let code = Runtime::load_worker(spec("answer", main)).unwrap();
    let rt = Runtime::start(RuntimeOptions {
        isolate_threads: 2,
        events: None,
    })
    .unwrap();
    for _ in 0..3 {
        let resp = rt
            .dispatch(&code, head("http://example.com/x"), Body::Empty, Arc::new(EchoFetcher))
            .await
            .unwrap();
        assert_eq!(resp.head.status, 201);
        assert_eq!(resp.head.headers.get("x-a").unwrap(), "b");
        assert_eq!(body_text(resp.body).await, "hi GET http://example.com/x");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn passes_the_origin_body_through_natively() {
    let main = script(
        "pass",
        r#"export default { async fetch(request) {
            const res = await fetch(request.url + "?via=worker", { method: "POST", body: "payload" });
            const out = new Response(res.body, res);
            out.headers.set("x-worker", "yes");
            return out;
        } };"#,
    );
    let code = Runtime::load_worker(spec("pass", main)).unwrap();
    let rt = Runtime::start(RuntimeOptions {
        isolate_threads: 1,
        events: None,
    })
    .unwrap();
    let resp = rt
        .dispatch(&code, head("http://example.com/p"), Body::Empty, Arc::new(EchoFetcher))
        .await
        .unwrap();
    assert_eq!(resp.head.status, 200);
    assert_eq!(resp.head.headers.get("x-worker").unwrap(), "yes");
    assert_eq!(resp.head.headers.get("x-echo").unwrap(), "1");
    assert!(
        matches!(resp.body, Body::Stream(_)),
        "an untouched origin body stays native"
    );
    assert_eq!(
        body_text(resp.body).await,
        "POST http://example.com/p?via=worker payload"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn exceptions_are_reported_with_the_stack() {
    let main = script(
        "throws",
        "export default { async fetch() {\n  throw new Error('boom');\n} };",
    );
    let code = Runtime::load_worker(spec("throws", main)).unwrap();
    let rt = Runtime::start(RuntimeOptions {
        isolate_threads: 1,
        events: None,
    })
    .unwrap();
    let err = rt
        .dispatch(&code, head("http://example.com/"), Body::Empty, Arc::new(EchoFetcher))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("boom"), "{err}");
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let main = script(
        "syntax",
        "export default {\n  fetch() { return new Response('x' }\n};\n",
    );
    let err = Runtime::load_worker(spec("syntax", main.clone()))
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("{}:2:", main.display())), "{err}");
}

/// Isolates start from the startup snapshot; a version's isolates after
/// its first compile its modules from the version's code cache, and files
/// loaded after the restore (a lazy global) from the bootstrap code cache
/// (build.rs made it after running the file, so the process makes none of
/// its own for this one); V8 accepts both (a rejected cache would silently
/// cost a parse each time).
#[test]
fn isolates_start_from_the_snapshot_and_the_code_caches() {
    assert!(plugin_runtime::snapshot::size().is_some_and(|n| n > 0));
    let main = script(
        "cache",
        "const P = URLPattern;\nexport default { fetch() { return new Response(typeof P); } };",
    );
    // Loading runs the validation isolate: the version's first.
    let code = Runtime::load_worker(spec("cache", main)).unwrap();
    let before = plugin_runtime::code_cache::stats();
    assert!(before.modules_produced > 0, "{before:?}");
    let times = Runtime::time_isolate_startup(&code, 3).unwrap();
    assert_eq!(times.len(), 3);
    let stats = plugin_runtime::code_cache::stats();
    assert!(stats.modules_consumed >= before.modules_consumed + 3, "{stats:?}");
    assert_eq!(stats.modules_rejected, 0, "{stats:?}");
    assert!(stats.consumed >= before.consumed + 3, "{stats:?}");
    assert_eq!(stats.rejected, 0, "{stats:?}");
}

/// Header maps stay in Rust behind tokens, and the table that holds them
/// sweeps out those whose token V8 collected: headers a script keeps across
/// requests (unread until the end) must come back intact, each its own,
/// however many tokens died and were swept meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn kept_headers_survive_the_sweeps_of_dead_ones() {
    let main = script(
        "sweep",
        r#"const kept = [];
        export default { async fetch(request) {
            const path = new URL(request.url).pathname;
            if (path === "/keep") {
                const res = await fetch("http://origin.test/kept");
                kept.push([request.headers, res.headers, new Response(null, res).headers]);
                return new Response("kept");
            }
            if (path === "/churn") {
                // Dead tokens: 40 fetches' responses dropped unread, and
                // garbage enough for scavenges to collect them.
                for (let i = 0; i < 40; i++) await fetch("http://origin.test/churn");
                let junk = [];
                for (let i = 0; i < 20000; i++) junk.push({ i, s: "x" + i });
                junk = null;
                return new Response("churned");
            }
            return new Response(kept.map(([a, b, c]) => `${a.get("x-n")}:${b.get("x-echo")}:${c.get("x-echo")}`).join(","));
        } };"#,
    );
    let code = Runtime::load_worker(spec("sweep", main)).unwrap();
    let rt = Runtime::start(RuntimeOptions {
        isolate_threads: 1,
        events: None,
    })
    .unwrap();
    let mut want = Vec::new();
    for n in 0..12 {
        let mut h = head("http://example.com/keep");
        h.headers.insert("x-n", n.to_string().parse().unwrap());
        let resp = rt.dispatch(&code, h, Body::Empty, Arc::new(EchoFetcher)).await.unwrap();
        assert_eq!(body_text(resp.body).await, "kept");
        want.push(format!("{n}:1:1"));
        for _ in 0..3 {
            let resp = rt
                .dispatch(
                    &code,
                    head("http://example.com/churn"),
                    Body::Empty,
                    Arc::new(EchoFetcher),
                )
                .await
                .unwrap();
            assert_eq!(body_text(resp.body).await, "churned");
        }
    }
    let resp = rt
        .dispatch(
            &code,
            head("http://example.com/read"),
            Body::Empty,
            Arc::new(EchoFetcher),
        )
        .await
        .unwrap();
    assert_eq!(body_text(resp.body).await, want.join(","));
}
