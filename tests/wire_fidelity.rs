//! Bytes on the wire as workerd puts them there (issue 11): header values
//! and `statusText` past ASCII, in both directions, seen as raw bytes by a
//! raw client and a raw origin; and `ctx.passThroughOnException()` after the
//! script touched the request body (the origin gets what is left of it).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Origin, Proxy, client, pattern_body};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One worker `w` (script `w.js`) on `*/*` in front of `origin`.
async fn worker_proxy(origin: &str, script: &str) -> Proxy {
    Proxy::builder()
        .script("w.js", script)
        .config(&format!(
            "[[workers]]\nname = \"w\"\nmain = \"w.js\"\n\n[[routes]]\npattern = \"*/*\"\nworker = \"w\"\norigin = \"{origin}\"\n"
        ))
        .start()
        .await
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Reads one request head (to the empty line) from `stream`.
async fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            break;
        }
        head.push(byte[0]);
    }
    head
}

/// An origin that records each request head as bytes and answers with
/// header values in UTF-8 and in Latin-1 (obs-text).
async fn raw_origin() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let head = read_head(&mut stream).await;
                // A reason phrase past ASCII for /reason*, else plain.
                let reason: &[u8] = if head.starts_with(b"GET /reason") {
                    "Très ✓".as_bytes()
                } else {
                    b"OK"
                };
                seen.lock().unwrap().push(head);
                let mut answer = b"HTTP/1.1 200 ".to_vec();
                answer.extend_from_slice(reason);
                answer.extend_from_slice(b"\r\ncontent-length: 2\r\nconnection: close\r\n");
                answer.extend_from_slice(b"x-from-origin: Zo\xc3\xab \xe2\x9c\x93\r\nx-obs: caf\xe9\r\n\r\nok");
                let _ = stream.write_all(&answer).await;
            });
        }
    });
    (format!("http://{addr}"), heads)
}

/// The whole answer to one raw request.
async fn raw_exchange(proxy: &Proxy, request: &[u8]) -> Vec<u8> {
    let addr = proxy
        .url("/")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    out
}

const BYTES: &str = r#"export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/pass" || path === "/reason-pass") return fetch(request);
    if (path === "/reason") return new Response(JSON.stringify((await fetch(request)).statusText));
    if (path === "/read") {
      const res = await fetch(request);
      return Response.json({
        fromOrigin: res.headers.get("x-from-origin"),
        obs: res.headers.get("x-obs"),
        in: request.headers.get("x-in"),
        obsIn: request.headers.get("x-obs-in"),
      });
    }
    if (path === "/edited") {
      const headers = new Headers(request.headers);
      headers.set("x-added", "\u00fc \u2713");
      return fetch(request, { headers });
    }
    return new Response("set", {
      status: 299,
      statusText: "Tr\u00e8s \u65e5\u672c \u{1F600}",
      headers: { "x-set": "Zo\u00eb \u2713", "x-e9": "\u00e9" },
    });
  },
};"#;

#[tokio::test(flavor = "multi_thread")]
async fn header_values_and_status_text_go_out_as_utf8_and_untouched_bytes_stay_untouched() {
    let (origin, heads) = raw_origin().await;
    let proxy = worker_proxy(&origin, BYTES).await;
    let request = |path: &str| {
        let mut r = format!("GET {path} HTTP/1.1\r\nHost: w.test\r\nConnection: close\r\n").into_bytes();
        r.extend_from_slice(b"X-In: Zo\xc3\xab\r\nX-Obs-In: caf\xe9\r\n\r\n");
        r
    };

    // Handed on untouched: the client's bytes reach the origin, the origin's the client.
    let out = raw_exchange(&proxy, &request("/pass")).await;
    assert!(out.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&out));
    assert!(
        contains(&out, b"Zo\xc3\xab \xe2\x9c\x93\r\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert!(contains(&out, b"caf\xe9\r\n"), "obs-text passed on as is");
    let head = heads.lock().unwrap().last().unwrap().to_ascii_lowercase();
    assert!(
        contains(&head, b"x-in: zo\xc3\xab\r\n"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    assert!(
        contains(&head, b"x-obs-in: caf\xe9\r\n"),
        "{}",
        String::from_utf8_lossy(&head)
    );

    // Read by the script: decoded as UTF-8, invalid bytes as U+FFFD (both directions).
    let out = raw_exchange(&proxy, &request("/read")).await;
    let body = &out[out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    let body = String::from_utf8_lossy(body);
    let json: Value = serde_json::from_str(
        body.trim_start_matches(|c: char| c.is_ascii_hexdigit() || c.is_whitespace())
            .split("\r\n")
            .next()
            .unwrap(),
    )
    .unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(json["fromOrigin"], "Zoë ✓");
    assert_eq!(json["obs"], "caf\u{fffd}");
    assert_eq!(json["in"], "Zoë");
    assert_eq!(json["obsIn"], "caf\u{fffd}");

    // An edit on top of the client's headers: the new value as UTF-8, the rest untouched.
    raw_exchange(&proxy, &request("/edited")).await;
    let head = heads.lock().unwrap().last().unwrap().to_ascii_lowercase();
    assert!(
        contains(&head, b"x-added: \xc3\xbc \xe2\x9c\x93\r\n"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    assert!(
        contains(&head, b"x-obs-in: caf\xe9\r\n"),
        "{}",
        String::from_utf8_lossy(&head)
    );

    // An origin's reason phrase past ASCII: the script sees "", as on
    // workerd (both parsers drop a reason with obs-text).
    let out = raw_exchange(&proxy, &request("/reason")).await;
    assert!(out.ends_with(b"\r\n\r\n\"\""), "{}", String::from_utf8_lossy(&out));
    let out = raw_exchange(&proxy, &request("/reason-pass")).await;
    eprintln!(
        "reason passed on: {:?}",
        String::from_utf8_lossy(&out[..out.iter().position(|b| *b == b'\r').unwrap()])
    );
    assert!(out.starts_with(b"HTTP/1.1 200 "), "{}", String::from_utf8_lossy(&out));

    // Set by the script: UTF-8 bytes, in the status line too.
    let out = raw_exchange(&proxy, &request("/set")).await;
    assert!(
        out.starts_with("HTTP/1.1 299 Très 日本 😀\r\n".as_bytes()),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert!(
        contains(&out, "x-set: Zoë ✓\r\n".as_bytes()),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert!(contains(&out, "x-e9: é\r\n".as_bytes()), "U+00E9 as UTF-8, not Latin-1");
}

const PASS_THROUGH: &str = r#"export default {
  async fetch(request, env, ctx) {
    ctx.passThroughOnException();
    const path = new URL(request.url).pathname;
    if (path === "/consumed") await request.text();
    if (path === "/locked") request.body.getReader();
    if (path === "/cloned") await request.clone().text();
    if (request.headers.has("x-partial")) {
      const reader = request.body.getReader();
      const first = await reader.read();
      if (first.done || first.value.byteLength === 0) return new Response("no first chunk");
    }
    throw new Error("boom after touching the body");
  },
};"#;

#[tokio::test(flavor = "multi_thread")]
async fn pass_through_on_exception_sends_what_is_left_of_a_touched_body() {
    let origin = Origin::start("fallback").await;
    let proxy = worker_proxy(&origin.url(), PASS_THROUGH).await;
    let post = |path: &str, body: &'static str| client().post(proxy.url(path)).header("x-client", "kept").body(body);

    // Read in full: the origin gets the request, body empty. Read through a
    // clone: the request's own tee branch still holds all of it (workerd
    // sends nothing there: KNOWN_DIFFERENCES.md).
    for (path, body) in [("/consumed", ""), ("/cloned", "eaten")] {
        let r = post(path, "eaten").send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}: {}", proxy.log());
        assert_eq!(r.headers()["x-origin"], "fallback");
        let echo: Value = r.json().await.unwrap();
        assert_eq!(echo["method"], "POST", "{path}");
        assert_eq!(echo["path"], path);
        assert_eq!(echo["headers"]["x-client"], "kept");
        assert_eq!(echo["body"], body, "{path}");
    }

    // Locked but never read: all of it.
    let r = post("/locked", "all of it").send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", proxy.log());
    let echo: Value = r.json().await.unwrap();
    assert_eq!(echo["body"], "all of it");

    // Partly read: the rest, fewer bytes than were sent.
    let total: u64 = 4 << 20;
    let r = client()
        .post(proxy.url("/upload"))
        .header("x-partial", "1")
        .body(pattern_body(total))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", proxy.log());
    // (/upload is the origin's counting endpoint.)
    let seen: Value = r.json().await.unwrap();
    let len = seen["len"].as_u64().unwrap();
    assert!(
        len > 0 && len < total,
        "the rest after the first chunk: {len} of {total}"
    );
    proxy
        .wait_for_log("boom after touching the body", Duration::from_secs(5))
        .await;
}
