//! HTTP/2 to clients through ALPN on the TLS listener, with a real HTTP/2
//! client (the `h2` crate) through the real binary: worker and plain
//! routes, streaming bodies both ways, many streams on one connection, and
//! the limits (header list size, header count, concurrent streams).

mod common;
mod tls_support;

use bytes::Bytes;
use common::{Origin, Proxy, pattern_sum};
use h2::client::SendRequest;
use tls_support::{TestCert, cert, connect, start_tls};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WORKER: &str = r#"
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/echo") {
      // Streams the request body back as it arrives.
      return new Response(request.body, { headers: { "x-echo": "1" } });
    }
    if (url.pathname === "/upload") {
      return fetch(request);
    }
    return Response.json({
      url: request.url,
      method: request.method,
      httpProtocol: request.cf.httpProtocol,
      tlsVersion: request.cf.tlsVersion ?? null,
      header: request.headers.get("x-test"),
    });
  },
};
"#;

async fn start(origin: &Origin, extra: &str) -> (Proxy, u16, TestCert) {
    let a = cert(&["a.test", "plain.test"]);
    let builder = Proxy::builder().script("w.js", WORKER).server(extra).config(&format!(
        r#"
[[workers]]
name = "w"
main = "w.js"

[[routes]]
pattern = "a.test/*"
worker = "w"
origin = "{0}"

[[routes]]
pattern = "plain.test/*"
origin = "{0}"
"#,
        origin.url()
    ));
    let (proxy, port) = start_tls(builder, &[&a]).await;
    (proxy, port, a)
}

/// An HTTP/2 connection (ALPN h2) to the TLS listener; its driver runs in a task.
async fn h2_connect(port: u16, a: &TestCert) -> SendRequest<Bytes> {
    let tls = connect(port, "a.test", &[a], &[b"h2", b"http/1.1"]).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (client, conn) = h2::client::handshake(tls).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

fn request(method: &str, url: &str) -> http::request::Builder {
    http::Request::builder().method(method).uri(url)
}

/// Sends a request with no body; returns the status, headers and whole body.
async fn get(
    client: &SendRequest<Bytes>,
    req: http::Request<()>,
) -> Result<(u16, http::HeaderMap, Vec<u8>), h2::Error> {
    let mut client = client.clone().ready().await?;
    let (resp, _) = client.send_request(req, true)?;
    let resp = resp.await?;
    let (parts, mut body) = resp.into_parts();
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        body.flow_control().release_capacity(chunk.len()).unwrap();
        out.extend_from_slice(&chunk);
    }
    Ok((parts.status.as_u16(), parts.headers, out))
}

/// Sends `total` pattern bytes as the body (in 16 KiB chunks, concurrently
/// with reading the answer); returns the status and the answer's body.
async fn send_pattern(client: &SendRequest<Bytes>, url: &str, total: usize) -> (u16, Vec<u8>) {
    let mut client = client.clone().ready().await.unwrap();
    let (resp, mut stream) = client
        .send_request(request("POST", url).body(()).unwrap(), false)
        .unwrap();
    let sender = tokio::spawn(async move {
        let mut sent = 0;
        while sent < total {
            let n = (total - sent).min(16 * 1024);
            stream.reserve_capacity(n);
            let Some(cap) = std::future::poll_fn(|cx| stream.poll_capacity(cx)).await else {
                panic!("the stream closed after {sent} bytes of the request body")
            };
            let cap = cap.unwrap();
            let n = cap.min(n);
            let chunk: Vec<u8> = (sent..sent + n).map(|i| (i % 251) as u8).collect();
            stream.send_data(Bytes::from(chunk), false).unwrap();
            sent += n;
        }
        stream.send_data(Bytes::new(), true).unwrap();
    });
    let resp = resp.await.unwrap();
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        body.flow_control().release_capacity(chunk.len()).unwrap();
        out.extend_from_slice(&chunk);
    }
    if let Err(e) = sender.await {
        panic!(
            "sending the body failed ({e}); the answer was {status}: {}",
            String::from_utf8_lossy(&out)
        );
    }
    (status, out)
}

fn is_pattern(b: &[u8]) -> bool {
    b.iter().enumerate().all(|(i, x)| *x == (i % 251) as u8)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_and_plain_routes_over_http2() {
    let origin = Origin::start("o").await;
    let (_proxy, port, a) = start(&origin, "").await;
    let client = h2_connect(port, &a).await;

    // A worker route: request.cf says HTTP/2, the URL is https:.
    let url = format!("https://a.test:{port}/info?q=1");
    let (status, _, body) = get(&client, request("GET", &url).header("x-test", "v").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["httpProtocol"], "HTTP/2");
    assert_eq!(v["url"], url.as_str());
    assert_eq!(v["tlsVersion"], "TLSv1.3");
    assert_eq!(v["header"], "v");

    // Many streams at once on the one connection.
    let mut all = Vec::new();
    for i in 0..40 {
        let client = client.clone();
        let url = format!("https://a.test:{port}/n{i}");
        all.push(tokio::spawn(async move {
            get(&client, request("GET", &url).body(()).unwrap()).await.unwrap()
        }));
    }
    for (i, t) in all.into_iter().enumerate() {
        let (status, _, body) = t.await.unwrap();
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["url"], format!("https://a.test:{port}/n{i}").as_str());
    }

    // A streamed request body echoed back by the worker, 1 MiB.
    let (status, body) = send_pattern(&client, &format!("https://a.test:{port}/echo"), 1 << 20).await;
    assert_eq!(status, 200);
    assert_eq!(body.len(), 1 << 20);
    assert!(is_pattern(&body));

    // A worker that passes the request to its origin: body up, body down.
    let (status, body) = send_pattern(&client, &format!("https://a.test:{port}/upload"), 300_000).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["len"], 300_000);
    assert_eq!(v["sum"], pattern_sum(300_000));

    // A plain route: a streamed download and a streamed upload.
    let (status, headers, body) = get(
        &client,
        request("GET", &format!("https://plain.test:{port}/bytes/500000"))
            .body(())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(headers["x-origin"], "o");
    assert_eq!(body.len(), 500_000);
    assert!(is_pattern(&body));
    let (status, body) = send_pattern(&client, &format!("https://plain.test:{port}/upload"), 200_000).await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["len"], 200_000);
    assert_eq!(v["sum"], pattern_sum(200_000));
    assert!(origin.seen().contains(&"GET /bytes/500000".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_limits() {
    let origin = Origin::start("o").await;
    let (proxy, port, a) = start(
        &origin,
        "max_header_bytes = 4096\nmax_header_count = 20\nheader_read_timeout_s = 1",
    )
    .await;

    // The proxy announces its stream limit.
    let tls = connect(port, "a.test", &[&a], &[b"h2"]).await.unwrap();
    let (client, mut conn) = h2::client::handshake(tls).await.unwrap();
    let url = format!("https://a.test:{port}/x");
    let first = tokio::select! {
        r = get(&client, request("GET", &url).body(()).unwrap()) => r.unwrap(),
        _ = &mut conn => panic!("connection ended"),
    };
    assert_eq!(first.0, 200);
    assert_eq!(conn.max_concurrent_send_streams(), 100);
    tokio::spawn(async move {
        let _ = conn.await;
    });

    // A header list over max_header_bytes: 431 from the HTTP/2 layer.
    let big = request("GET", &url).header("x-big", "x".repeat(6000)).body(()).unwrap();
    let refused = get(&client, big).await;
    assert_eq!(refused.unwrap().0, 431);
    // More fields than max_header_count: 431 from the proxy.
    let mut many = request("GET", &url);
    for i in 0..30 {
        many = many.header(format!("x-h{i}"), "v");
    }
    let (status, _, _) = get(&client, many.body(()).unwrap()).await.unwrap();
    assert_eq!(status, 431);

    // A client that negotiates h2 and never sends the HTTP/2 preface is
    // closed (header_read_timeout_s from the accept); one that stops in
    // the middle of it too, and that is counted.
    for sent in [&b""[..], &b"PRI * HTTP/2.0\r\n"[..]] {
        let mut mute = connect(port, "a.test", &[&a], &[b"h2"]).await.unwrap();
        mute.write_all(sent).await.unwrap();
        let closed = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            let mut buf = [0u8; 1024];
            loop {
                match mute.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "a silent HTTP/2 client was never closed");
    }
    let start = std::time::Instant::now();
    while proxy
        .metric("isoproxy_client_errors_total", &[("kind", "header_timeout")])
        .await
        < 1.0
    {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "{}", proxy.log());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Still serving, on a new connection as on this one.
    let again = h2_connect(port, &a).await;
    assert_eq!(
        get(&again, request("GET", &url).body(()).unwrap()).await.unwrap().0,
        200
    );
}
