//! HTTP/2 with prior knowledge (h2c) on the plain listener, `[server] h2c`:
//! a real HTTP/2 client (the `h2` crate) over plain TCP through the real
//! binary to a worker route and a plain route, streaming bodies, HTTP/1
//! clients on the same listener unaffected (a request shorter than the
//! preface included), the key off by default and turned on by a reload;
//! and hostile h2c clients (a stalled preface, garbage after it, floods)
//! that must not hurt anyone else.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::h2raw::*;
use common::{Origin, Proxy, client};
use h2::client::SendRequest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WORKER: &str = r#"
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/echo") return new Response(request.body);
    return Response.json({
      url: request.url,
      httpProtocol: request.cf.httpProtocol,
      tlsVersion: request.cf.tlsVersion ?? null,
      proto: request.headers.get("x-forwarded-proto"),
    });
  },
};
"#;

async fn start(origin: &Origin, server: &str) -> Proxy {
    Proxy::builder()
        .script("w.js", WORKER)
        .server(server)
        .config(&format!(
            "[[workers]]\nname = \"w\"\nmain = \"w.js\"\n\n\
             [[routes]]\npattern = \"a.test/*\"\nworker = \"w\"\n\n\
             [[routes]]\npattern = \"plain.test/*\"\norigin = \"{}\"\n",
            origin.url()
        ))
        .start()
        .await
}

/// An h2c connection (prior knowledge) to the plain listener.
async fn h2c_connect(port: u16) -> Result<SendRequest<Bytes>, h2::Error> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (client, conn) = h2::client::handshake(tcp).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client.ready().await
}

/// Sends `req` with `body` (none when empty); the status and whole answer.
async fn send(client: &SendRequest<Bytes>, req: http::Request<()>, body: &[u8]) -> (u16, Vec<u8>) {
    let mut client = client.clone().ready().await.unwrap();
    let (resp, mut stream) = client.send_request(req, body.is_empty()).unwrap();
    if !body.is_empty() {
        let body = Bytes::copy_from_slice(body);
        tokio::spawn(async move {
            let mut at = 0;
            while at < body.len() {
                stream.reserve_capacity(body.len() - at);
                let Some(Ok(cap)) = std::future::poll_fn(|cx| stream.poll_capacity(cx)).await else {
                    return;
                };
                let n = cap.min(body.len() - at);
                if stream.send_data(body.slice(at..at + n), false).is_err() {
                    return;
                }
                at += n;
            }
            let _ = stream.send_data(Bytes::new(), true);
        });
    }
    let resp = resp.await.unwrap();
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        body.flow_control().release_capacity(chunk.len()).unwrap();
        out.extend_from_slice(&chunk);
    }
    (status, out)
}

fn get(url: &str) -> http::Request<()> {
    http::Request::builder().uri(url).body(()).unwrap()
}

/// HTTP/1.1 through reqwest still works on the listener, both routes.
async fn http1_still_serves(proxy: &Proxy) {
    let r = client()
        .get(proxy.url("/h1"))
        .header("host", "a.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["httpProtocol"], "HTTP/1.1");
    let r = client()
        .get(proxy.url("/bytes/10"))
        .header("host", "plain.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_serves_worker_and_plain_routes_beside_http1() {
    let origin = Origin::start("o").await;
    let proxy = start(&origin, "h2c = true\n").await;
    let h2 = h2c_connect(proxy.port).await.expect("h2c handshake");

    let (status, body) = send(&h2, get("http://a.test/w?x=1"), b"").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["httpProtocol"], "HTTP/2", "{v}");
    assert_eq!(v["url"], "http://a.test/w?x=1", "{v}");
    assert_eq!(v["tlsVersion"], serde_json::Value::Null, "{v}");

    // A streamed body both ways through the worker, on the same connection.
    let big: Vec<u8> = (0..(3 << 20)).map(|i| (i % 251) as u8).collect();
    let (status, back) = send(
        &h2,
        http::Request::builder()
            .method("POST")
            .uri("http://a.test/echo")
            .body(())
            .unwrap(),
        &big,
    )
    .await;
    assert_eq!(status, 200);
    assert!(back == big, "echoed {} bytes of {}", back.len(), big.len());

    // The plain route: the origin gets the request (over HTTP/1.1).
    let (status, body) = send(&h2, get("http://plain.test/bytes/100000"), b"").await;
    assert_eq!(status, 200);
    assert_eq!(body.len(), 100_000);

    // HTTP/1 on the same listener, including a request shorter than the
    // h2c preface the proxy looks for.
    http1_still_serves(&proxy).await;
    let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut got))
        .await
        .expect("no answer to a short HTTP/1.0 request")
        .unwrap();
    assert!(got.starts_with(b"HTTP/1."), "{}", String::from_utf8_lossy(&got));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_is_off_by_default_and_a_reload_turns_it_on() {
    let origin = Origin::start("o").await;
    let proxy = start(&origin, "").await;
    // The preface is no HTTP/1 request: refused.
    let refused = match h2c_connect(proxy.port).await {
        Err(_) => true,
        Ok(h2) => {
            let mut h2 = h2;
            match h2.send_request(get("http://a.test/"), true) {
                Err(_) => true,
                Ok((resp, _)) => resp.await.is_err(),
            }
        }
    };
    assert!(refused, "h2c answered with h2c off");
    http1_still_serves(&proxy).await;

    let conf = proxy.dir.path().join("isoproxy.toml");
    let text = std::fs::read_to_string(&conf).unwrap();
    let text = text.replacen("[server]\n", "[server]\nh2c = true\n", 1);
    std::fs::write(&conf, text).unwrap();
    proxy.hup();
    let start = Instant::now();
    loop {
        if let Ok(h2) = h2c_connect(proxy.port).await
            && let Ok(mut h2) = h2.ready().await
            && let Ok((resp, _)) = h2.send_request(get("http://a.test/after"), true)
            && let Ok(resp) = resp.await
        {
            assert_eq!(resp.status(), 200);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "h2c still off after the reload; log:\n{}",
            proxy.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    http1_still_serves(&proxy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_h2c_clients_hurt_nobody_else() {
    let origin = Origin::start("o").await;
    let proxy = start(&origin, "h2c = true\nheader_read_timeout_s = 2\n").await;

    // Half a preface, then silence, on many connections: each is closed
    // by the header timeout; others are served meanwhile.
    let mut stalled = Vec::new();
    for _ in 0..50 {
        let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        s.write_all(&PREFACE[..10]).await.unwrap();
        stalled.push(s);
    }
    http1_still_serves(&proxy).await;
    let h2 = h2c_connect(proxy.port).await.expect("h2c beside stalled prefaces");
    assert_eq!(send(&h2, get("http://a.test/ok"), b"").await.0, 200);
    for mut s in stalled {
        closed_by_server(&mut s).await;
    }

    // Garbage after the preface: a GOAWAY (or a close), nothing else.
    let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    s.write_all(PREFACE).await.unwrap();
    s.write_all(&[0xff; 4096]).await.unwrap();
    let got = closed_by_server(&mut s).await;
    assert!(got.is_empty() || has_goaway(&got), "{got:?}");

    // Rapid reset over h2c, 20 000 streams: cut off with a GOAWAY.
    let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    s.write_all(PREFACE).await.unwrap();
    s.write_all(&frame(4, 0, 0, &[])).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let reader = tokio::spawn(async move { closed_by_server(&mut rd).await });
    let block = get_block_with_scheme(false, "a.test", "/reset");
    let resets = rapid_resets(&block, 20_000);
    write_until_closed(&mut wr, resets).await;
    drop(wr);
    let got = reader.await.unwrap();
    assert!(has_goaway(&got), "no GOAWAY after 20 000 reset streams over h2c");

    // A PING flood from a client that never reads the answers.
    let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    s.write_all(PREFACE).await.unwrap();
    let flood = std::iter::repeat_n(frame(6, 0, 0, &[0u8; 8]), 2_000_000);
    let _ = tokio::time::timeout(Duration::from_secs(10), write_until_closed(&mut s, flood)).await;
    drop(s);

    http1_still_serves(&proxy).await;
    let h2 = h2c_connect(proxy.port).await.expect("h2c after the floods");
    assert_eq!(send(&h2, get("http://a.test/ok"), b"").await.0, 200);
}
