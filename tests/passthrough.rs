//! The request's pass (issue 10): a worker's first `fetch()` to its route's
//! origin is sent by the task serving the client, through Pingora's pool,
//! and an origin body the script hands back untouched is spliced to the
//! client natively. Everything else stays a subrequest. Which path a
//! request took shows in `isoproxy_passthrough_total{path}`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Origin, Proxy, client, drain_pattern, pattern_body, pattern_sum};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MIB: u64 = 1 << 20;

/// Starts a proxy with one worker `w` on `*/*` in front of `origin`.
async fn start(script: &str, origin: &str, extra: &str) -> Proxy {
    Proxy::builder()
        .script("w.js", script)
        .config(&format!(
            "{extra}[[workers]]\nname = \"w\"\nmain = \"w.js\"\n\n[[routes]]\npattern = \"*/*\"\nworker = \"w\"\norigin = \"{origin}\"\n"
        ))
        .start()
        .await
}

/// `isoproxy_passthrough_total{path=...}` (0 when absent).
async fn passthrough(proxy: &Proxy, path: &str) -> u64 {
    let needle = format!("isoproxy_passthrough_total{{path=\"{path}\"}} ");
    proxy
        .metrics()
        .await
        .lines()
        .find_map(|l| l.strip_prefix(&needle).and_then(|n| n.trim().parse().ok()))
        .unwrap_or(0)
}

/// What a raw origin does with a request, by its path.
#[derive(Clone, Copy)]
enum Behaviour {
    /// 200, `n` bytes of the `i % 251` pattern, chunked, in 64 KiB chunks.
    Chunked(u64),
    /// 200 with Content-Length `n`, then only `sent` bytes and a close.
    CutShort { n: u64, sent: u64 },
    /// 200, chunked, forever (until the connection breaks).
    Endless,
    /// Reads the request and never answers.
    Silent,
}

/// A minimal HTTP/1.1 origin on 127.0.0.1 for behaviours the shared origin
/// does not have: it records every request head, and whether a connection
/// it was writing to broke.
struct RawOrigin {
    addr: std::net::SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    broken: Arc<Mutex<u32>>,
    task: tokio::task::JoinHandle<()>,
}

impl RawOrigin {
    async fn start(behaviour: Behaviour) -> RawOrigin {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let broken: Arc<Mutex<u32>> = Arc::default();
        let (h, b) = (heads.clone(), broken.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (h, b) = (h.clone(), b.clone());
                tokio::spawn(async move {
                    if serve_raw(stream, behaviour, h).await.is_err() {
                        *b.lock().unwrap() += 1;
                    }
                });
            }
        });
        RawOrigin {
            addr,
            heads,
            broken,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    fn broken(&self) -> u32 {
        *self.broken.lock().unwrap()
    }
}

impl Drop for RawOrigin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn pattern(from: u64, n: usize) -> Vec<u8> {
    (0..n).map(|i| ((from as usize + i) % 251) as u8).collect()
}

/// Serves requests (without bodies) on one connection; Err when a write failed.
async fn serve_raw(mut stream: TcpStream, behaviour: Behaviour, heads: Arc<Mutex<Vec<String>>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let head: Vec<u8> = buf.drain(..end).collect();
        heads.lock().unwrap().push(String::from_utf8_lossy(&head).into_owned());
        match behaviour {
            Behaviour::Chunked(total) => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-origin: raw\r\n\r\n")
                    .await?;
                let mut sent = 0;
                while sent < total {
                    let n = (total - sent).min(64 * 1024);
                    stream.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                    stream.write_all(&pattern(sent, n as usize)).await?;
                    stream.write_all(b"\r\n").await?;
                    sent += n;
                }
                stream.write_all(b"0\r\n\r\n").await?;
            }
            Behaviour::CutShort { n, sent } => {
                stream
                    .write_all(format!("HTTP/1.1 200 OK\r\ncontent-length: {n}\r\n\r\n").as_bytes())
                    .await?;
                stream.write_all(&pattern(0, sent as usize)).await?;
                return Ok(());
            }
            Behaviour::Endless => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                    .await?;
                let mut sent = 0;
                loop {
                    stream.write_all(b"10000\r\n").await?;
                    stream.write_all(&pattern(sent, 65536)).await?;
                    stream.write_all(b"\r\n").await?;
                    sent += 65536;
                }
            }
            Behaviour::Silent => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        }
    }
}

const REWRITE: &str = r#"
export default {
  async fetch(request) {
    const url = new URL(request.url);
    url.searchParams.set("via", "worker");
    const req = new Request(url, request);
    req.headers.set("x-pass", "rewritten");
    const res = await fetch(req);
    const out = new Response(res.body, res);
    out.headers.set("x-edited", "1");
    out.headers.delete("x-origin");
    return out;
  },
};
"#;

#[tokio::test(flavor = "multi_thread")]
async fn an_untouched_chunked_body_is_spliced_from_the_origin_in_the_requests_task() {
    let origin = RawOrigin::start(Behaviour::Chunked(8 * MIB)).await;
    let proxy = start(REWRITE, &origin.url(), "").await;
    let r = client().get(proxy.url("/big?x=1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-edited"], "1");
    assert!(
        r.headers().get("x-origin").is_none(),
        "the script's header edit applies"
    );
    assert_eq!(r.headers()["transfer-encoding"], "chunked");
    let (len, ok) = drain_pattern(r).await;
    assert_eq!(len, 8 * MIB);
    assert!(ok, "the body arrives intact");
    let heads = origin.heads();
    assert_eq!(heads.len(), 1);
    let head = heads[0].to_ascii_lowercase();
    assert!(head.starts_with("get /big?x=1&via=worker http/1.1\r\n"), "{head}");
    assert!(head.contains("\r\nx-pass: rewritten\r\n"), "{head}");
    assert!(head.contains("\r\nx-isoproxy-loop: "), "loop protection: {head}");
    assert_eq!(passthrough(&proxy, "in_task").await, 1);
    assert_eq!(passthrough(&proxy, "subrequest").await, 0);
    // The connection went back to Pingora's pool: the next pass reuses it.
    let r = client().get(proxy.url("/again")).send().await.unwrap();
    assert_eq!(drain_pattern(r).await, (8 * MIB, true));
    assert_eq!(origin.heads().len(), 2);
    assert_eq!(passthrough(&proxy, "in_task").await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_script_that_reads_the_origin_body_gets_it_through_its_channel() {
    let origin = Origin::start("o").await;
    let script = r#"
export default {
  async fetch(request) {
    const res = await fetch(request);
    const path = new URL(request.url).pathname;
    if (path === "/text") {
      return new Response((await res.text()).toUpperCase(), { headers: { "x-len": String(res.headers.get("content-length")) } });
    }
    if (path.startsWith("/bytes/")) {
      // Flip every byte as it streams through.
      const flip = new TransformStream({ transform(chunk, c) { c.enqueue(chunk.map((b) => b ^ 0xff)); } });
      return new Response(res.body.pipeThrough(flip), { status: 201 });
    }
    if (path === "/tee") {
      const [a, b] = res.body.tee();
      const counted = new Response(a).arrayBuffer().then((buf) => buf.byteLength);
      const text = await new Response(b).text();
      return new Response(`${await counted} ${text.length}`);
    }
    return new Response("?");
  },
};
"#;
    let proxy = start(script, &origin.url(), "").await;
    let r = client().get(proxy.url("/text")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let len: usize = r.headers()["x-len"].to_str().unwrap().parse().unwrap();
    let text = r.text().await.unwrap();
    assert_eq!(text.len(), len);
    assert!(text.contains("\"PATH\":\"/TEXT\""), "{text}");

    let r = client().get(proxy.url("/bytes/3000000")).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let mut stream = r.bytes_stream();
    let (mut n, mut ok) = (0usize, true);
    while let Some(chunk) = stream.next().await {
        for b in chunk.unwrap() {
            ok &= b == ((n % 251) as u8 ^ 0xff);
            n += 1;
        }
    }
    assert_eq!(n, 3_000_000);
    assert!(ok, "every byte went through the script's transform");

    let r = client().get(proxy.url("/tee")).send().await.unwrap();
    let text = r.text().await.unwrap();
    let (a, b) = text.split_once(' ').unwrap();
    assert_eq!(a, b, "both branches of the tee saw the whole body");
    assert_eq!(passthrough(&proxy, "in_task").await, 3);
    assert_eq!(passthrough(&proxy, "subrequest").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_clients_untouched_request_body_streams_to_the_origin() {
    let origin = Origin::start("o").await;
    let script = r#"
export default {
  async fetch(request) {
    const req = new Request(request);
    req.headers.set("x-pass", "1");
    const res = await fetch(req);
    return new Response(res.body, res);
  },
};
"#;
    let proxy = start(script, &origin.url(), "").await;
    for total in [MIB, 3 * MIB + 17] {
        let r = client()
            .post(proxy.url("/upload"))
            .body(pattern_body(total))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["len"], total, "chunked upload of {total} bytes");
        assert_eq!(v["sum"], pattern_sum(total));
    }
    // With a Content-Length too.
    let body: Vec<u8> = pattern(0, MIB as usize);
    let r = client().post(proxy.url("/upload")).body(body).send().await.unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["len"], MIB);
    assert_eq!(v["sum"], pattern_sum(MIB));
    assert_eq!(passthrough(&proxy, "in_task").await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_origin_that_closes_mid_body_cuts_the_clients_response_short() {
    let origin = RawOrigin::start(Behaviour::CutShort { n: MIB, sent: 100_000 }).await;
    let proxy = start(REWRITE, &origin.url(), "").await;
    let r = client().get(proxy.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], MIB.to_string().as_str());
    let mut stream = r.bytes_stream();
    let mut got = 0;
    let mut failed = false;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => got += c.len(),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "the client sees the body end early ({got} bytes)");
    assert!(got <= 100_000, "{got}");
    // The proxy goes on serving.
    let r = client().get(proxy.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_gone_mid_body_ends_the_request_and_its_origin_connection() {
    let origin = RawOrigin::start(Behaviour::Endless).await;
    let proxy = start(REWRITE, &origin.url(), "").await;
    let r = client().get(proxy.url("/endless")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mut stream = r.bytes_stream();
    let mut got = 0;
    while got < 4 * MIB as usize {
        got += stream.next().await.unwrap().unwrap().len();
    }
    drop(stream);
    // The proxy notices, drops the origin's connection (its writes break)
    // and logs the request as finished.
    for _ in 0..200 {
        if origin.broken() > 0 && proxy.metrics().await.contains("outcome=\"passed\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(origin.broken(), 1, "the origin connection was closed");
    assert!(proxy.metrics().await.contains("outcome=\"passed\""));
    assert_eq!(passthrough(&proxy, "in_task").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_origin_rejects_the_scripts_fetch_as_a_subrequest_failure_does() {
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let script = r#"
export default {
  async fetch(request) {
    if (new URL(request.url).pathname === "/uncaught") return fetch(request);
    try {
      await fetch(request);
      return new Response("fetched?");
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 599 });
    }
  },
};
"#;
    let proxy = start(script, &dead, "").await;
    let r = client().get(proxy.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 599);
    let text = r.text().await.unwrap();
    assert!(
        text.starts_with("TypeError: Network connection lost: connect"),
        "{text}"
    );
    let r = client().get(proxy.url("/uncaught")).send().await.unwrap();
    assert_eq!(r.status(), 502, "an uncaught origin failure is a bad gateway");
    assert!(
        proxy
            .metrics()
            .await
            .contains("isoproxy_origin_errors_total{kind=\"connect\"} 2")
    );
    assert_eq!(passthrough(&proxy, "in_task").await, 2);

    // An origin that never answers: the worker's request_timeout_s.
    let silent = RawOrigin::start(Behaviour::Silent).await;
    let proxy = start(REWRITE, &silent.url(), "[runtime]\nrequest_timeout_s = 1\n\n").await;
    let r = client().get(proxy.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 504);
    proxy
        .wait_for_log(
            "worker w: request cancelled before the script responded",
            Duration::from_secs(5),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_first_route_origin_fetch_passes_the_rest_are_subrequests() {
    let origin = Origin::start("o").await;
    let script = r#"
export default {
  async fetch(request, env, ctx) {
    const base = new URL(request.url).origin;
    const path = new URL(request.url).pathname;
    if (path === "/two") {
      const [a, b] = await Promise.all([fetch(base + "/a"), fetch(base + "/b")]);
      const [ja, jb] = [await a.json(), await b.json()];
      return new Response(`${ja.path} ${jb.path}`);
    }
    if (path === "/redirect") {
      // The pass answers 302; the redirect is followed in JS, as a subrequest.
      const res = await fetch(base + "/redirect?to=" + encodeURIComponent(base + "/landed"));
      return new Response(`${res.redirected} ${(await res.json()).path}`);
    }
    if (path === "/after") {
      const res = await fetch(request);
      ctx.waitUntil(fetch(base + "/later").then((r) => r.text()));
      return new Response(res.body, res);
    }
    return new Response("?");
  },
};
"#;
    let proxy = start(script, &origin.url(), "").await;
    let r = client().get(proxy.url("/two")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "/a /b");
    assert_eq!(passthrough(&proxy, "in_task").await, 1);
    assert_eq!(passthrough(&proxy, "subrequest").await, 1);

    let r = client().get(proxy.url("/redirect")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "true /landed");
    assert_eq!(passthrough(&proxy, "in_task").await, 2);
    assert_eq!(passthrough(&proxy, "subrequest").await, 2);

    let r = client().get(proxy.url("/after")).send().await.unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["path"], "/after");
    for _ in 0..100 {
        if origin.seen().iter().any(|s| s == "GET /later") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(origin.seen().iter().any(|s| s == "GET /later"), "{:?}", origin.seen());
    assert_eq!(passthrough(&proxy, "in_task").await, 3);
    assert_eq!(passthrough(&proxy, "subrequest").await, 3);
}
