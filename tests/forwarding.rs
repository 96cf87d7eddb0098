//! Forwarding headers: what origins and scripts are told about the client.
//! Every request that reaches a route's origin — a plain route's, a
//! worker's pass, a worker's later subrequest to its route's origin —
//! carries X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host and
//! CF-Connecting-IP set by the proxy; a script sees CF-Connecting-IP (and
//! a client's own X-Forwarded-* only from a trusted peer). `[server] trusted_proxies`
//! (live on reload) decides whether a client's own copies are believed.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WORKER: &str = r#"
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const h = request.headers;
    if (url.pathname === "/see") {
      return Response.json({
        cf: h.get("cf-connecting-ip"),
        xff: h.get("x-forwarded-for"),
        xfp: h.get("x-forwarded-proto"),
        xfh: h.get("x-forwarded-host"),
        forwarded: h.get("forwarded"),
      });
    }
    if (url.pathname === "/pass") return fetch(request);
    if (url.pathname === "/strip") {
      // A script cannot take the proxy's headers off a request to its origin.
      const headers = new Headers(h);
      headers.delete("x-forwarded-for");
      headers.delete("cf-connecting-ip");
      headers.set("x-forwarded-proto", "gopher");
      headers.set("x-forwarded-host", "spoofed.example");
      return fetch(new Request(url.toString(), { headers }));
    }
    if (url.pathname === "/twice") {
      // The first fetch is the pass; the second a subrequest to the route's origin.
      await (await fetch(url.origin + "/first")).text();
      return fetch(url.origin + "/second");
    }
    return new Response("?", { status: 404 });
  },
};
"#;

async fn start(origin: &Origin, server: &str) -> Proxy {
    Proxy::builder()
        .server(server)
        .script("fwd.js", WORKER)
        .config(&format!(
            r#"
[[workers]]
name = "fwd"
main = "fwd.js"

[[routes]]
pattern = "worker.test/*"
worker = "fwd"
origin = "{origin}"

[[routes]]
pattern = "plain.test/*"
origin = "{origin}"
"#,
            origin = origin.url()
        ))
        .start()
        .await
}

/// Sends `head` (request line and fields, without the final empty line)
/// on a new connection and returns the status and the body as JSON (or
/// `Null` when it is not JSON).
async fn raw(proxy: &Proxy, head: &str) -> (u16, Value) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    // One Connection field (Pingora reads keep-alive from the first only).
    let close = if head.contains("Connection: ") {
        ""
    } else {
        "\r\nConnection: close"
    };
    s.write_all(format!("{head}{close}\r\n\r\n").as_bytes()).await.unwrap();
    let mut out = Vec::new();
    // A refusal may end in a reset after the answer: keep what arrived.
    let read = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out))
        .await
        .unwrap_or_else(|_| panic!("{head}: no answer within 30 s; got {:?}", String::from_utf8_lossy(&out)));
    if let Err(e) = read {
        assert!(!out.is_empty(), "{head}: no answer: {e}");
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// The client's spoofing attempt: its own copies of every forwarding header.
const SPOOF: &str = "X-Forwarded-For: 198.51.100.7\r\nX-Forwarded-Proto: https\r\n\
                     X-Forwarded-Host: public.example\r\nCF-Connecting-IP: 6.6.6.6\r\nForwarded: for=6.6.6.6";

fn header<'a>(echo: &'a Value, name: &str) -> Option<&'a str> {
    echo["headers"][name].as_str()
}

#[tokio::test]
async fn untrusted_clients_cannot_spoof_and_connection_cannot_remove() {
    let origin = Origin::start("o").await;
    let proxy = start(&origin, "").await;

    // Plain route: the proxy's values replace the client's.
    let (status, echo) = raw(&proxy, &format!("GET /p HTTP/1.1\r\nHost: plain.test:8080\r\n{SPOOF}")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&echo, "x-forwarded-for"), Some("127.0.0.1"));
    assert_eq!(header(&echo, "x-forwarded-proto"), Some("http"));
    assert_eq!(header(&echo, "x-forwarded-host"), Some("plain.test:8080"));
    assert_eq!(header(&echo, "cf-connecting-ip"), Some("127.0.0.1"));
    assert_eq!(header(&echo, "forwarded"), None);

    // A worker sees CF-Connecting-IP, and none of the client's copies.
    let (status, seen) = raw(&proxy, &format!("GET /see HTTP/1.1\r\nHost: worker.test\r\n{SPOOF}")).await;
    assert_eq!(status, 200);
    assert_eq!(seen["cf"], "127.0.0.1");
    assert_eq!(seen["xff"], Value::Null);
    assert_eq!(seen["xfp"], Value::Null);
    assert_eq!(seen["xfh"], Value::Null);
    assert_eq!(seen["forwarded"], Value::Null);

    // Its pass, a rewritten request with the headers deleted, and a later
    // subrequest to the route's origin all carry the proxy's values.
    for path in ["/pass", "/strip", "/twice"] {
        let (status, echo) = raw(&proxy, &format!("GET {path} HTTP/1.1\r\nHost: worker.test\r\n{SPOOF}")).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&echo, "x-forwarded-for"), Some("127.0.0.1"), "{path}: {echo}");
        assert_eq!(header(&echo, "x-forwarded-proto"), Some("http"), "{path}");
        assert_eq!(header(&echo, "x-forwarded-host"), Some("worker.test"), "{path}");
        assert_eq!(header(&echo, "cf-connecting-ip"), Some("127.0.0.1"), "{path}");
    }
    assert!(origin.seen().contains(&"GET /second".to_string()));

    // `Connection` naming the proxy's own fields: a worker route strips the
    // client's copies and sets its own; a plain route refuses the request
    // (Pingora will not forward one whose Connection names X-Forwarded-*).
    let (status, seen) = raw(
        &proxy,
        "GET /see HTTP/1.1\r\nHost: worker.test\r\nConnection: close, x-forwarded-for, cf-connecting-ip",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(seen["cf"], "127.0.0.1");
    let (status, echo) = raw(
        &proxy,
        "GET /pass HTTP/1.1\r\nHost: worker.test\r\nConnection: close, x-forwarded-for, x-forwarded-host, cf-connecting-ip",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(header(&echo, "x-forwarded-for"), Some("127.0.0.1"));
    assert_eq!(header(&echo, "x-forwarded-host"), Some("worker.test"));
    assert_eq!(header(&echo, "cf-connecting-ip"), Some("127.0.0.1"));
    let (status, echo) = raw(
        &proxy,
        "GET /p HTTP/1.1\r\nHost: plain.test\r\nCF-Connecting-IP: 6.6.6.6\r\nConnection: close, cf-connecting-ip",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(header(&echo, "cf-connecting-ip"), Some("127.0.0.1"));
    let (status, _) = raw(
        &proxy,
        "GET /p HTTP/1.1\r\nHost: plain.test\r\nConnection: close, x-forwarded-for",
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn trusted_proxies_extend_the_chain_and_reload_live() {
    let origin = Origin::start("o").await;
    let proxy = start(&origin, "").await;
    let (_, before) = raw(&proxy, &format!("GET /p HTTP/1.1\r\nHost: plain.test\r\n{SPOOF}")).await;
    assert_eq!(header(&before, "x-forwarded-for"), Some("127.0.0.1"));

    // Trust loopback (where the test's client connects from): live on reload.
    let conf = proxy.dir.path().join("isoproxy.toml");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        text.replacen(
            "[server]\n",
            "[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"127.0.0.0/8\"]\n",
            1,
        ),
    )
    .unwrap();
    proxy.hup();
    proxy.wait_for_log("reload ok", Duration::from_secs(30)).await;

    let (status, echo) = raw(&proxy, &format!("GET /p HTTP/1.1\r\nHost: plain.test\r\n{SPOOF}")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&echo, "x-forwarded-for"), Some("198.51.100.7, 127.0.0.1"));
    assert_eq!(header(&echo, "x-forwarded-proto"), Some("https"));
    assert_eq!(header(&echo, "x-forwarded-host"), Some("public.example"));
    assert_eq!(header(&echo, "cf-connecting-ip"), Some("198.51.100.7"));
    assert_eq!(header(&echo, "forwarded"), Some("for=6.6.6.6"));

    // The client is the right-most address that is not a trusted proxy.
    let (_, seen) = raw(
        &proxy,
        "GET /see HTTP/1.1\r\nHost: worker.test\r\nX-Forwarded-For: 6.6.6.6, 198.51.100.7, 10.1.2.3",
    )
    .await;
    assert_eq!(seen["cf"], "198.51.100.7");
    // A trusted peer's chain reaches the script as it came.
    assert_eq!(seen["xff"], "6.6.6.6, 198.51.100.7, 10.1.2.3");
    let (_, echo) = raw(
        &proxy,
        "GET /pass HTTP/1.1\r\nHost: worker.test\r\nX-Forwarded-For: 6.6.6.6, 198.51.100.7, 10.1.2.3",
    )
    .await;
    // Extended once on the way out.
    assert_eq!(
        header(&echo, "x-forwarded-for"),
        Some("6.6.6.6, 198.51.100.7, 10.1.2.3, 127.0.0.1")
    );
    assert_eq!(header(&echo, "cf-connecting-ip"), Some("198.51.100.7"));
}

#[tokio::test]
async fn a_bad_trusted_proxies_entry_fails_the_config_check() {
    let dir = TempDir::new("fwd-bad");
    let conf = dir.write(
        "isoproxy.toml",
        "[server]\nlisten = [\"127.0.0.1:1\"]\ntrusted_proxies = [\"10.0.0.0/8\", \"proxy.internal\"]\n",
    );
    let (code, out) = check_config(&conf);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("server.trusted_proxies[1]"), "{out}");
    assert!(out.contains("proxy.internal"), "{out}");
}
