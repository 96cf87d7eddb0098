//! Protocol switches on plain routes, through the real binary, against a
//! raw origin that says `101` to any `Upgrade` it is sent and then echoes
//! (or floods). Only `Upgrade: websocket` may become a tunnel: `h2c` or any
//! other protocol would hand the client a raw connection to the origin past
//! the route's path and the forwarding headers (h2c smuggling). The
//! vendored pingora-proxy's upstream request policy (`WebSocketOnly`)
//! removes such an `Upgrade` (and `HTTP2-Settings`), so the request goes on
//! as a plain one; these tests hold that in place.
//! A tunnel whose client never reads while the origin floods keeps the
//! proxy's memory bounded; an idle tunnel is closed at
//! `websocket_idle_timeout_s`.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::ws::raw_upgrade;
use common::{Proxy, client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An origin that answers `101` to a request with an `Upgrade` field
/// (then echoes, or floods on `/flood`), and `200 plain` to anything else.
struct RawOrigin {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
    flooded: Arc<AtomicU64>,
}

impl RawOrigin {
    async fn start() -> RawOrigin {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let flooded = Arc::new(AtomicU64::new(0));
        let (h, f) = (heads.clone(), flooded.clone());
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                tokio::spawn(serve(s, h.clone(), f.clone()));
            }
        });
        RawOrigin { port, heads, flooded }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

async fn serve(mut s: TcpStream, heads: Arc<Mutex<Vec<String>>>, flooded: Arc<AtomicU64>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).to_string();
    heads.lock().unwrap().push(text.clone());
    let lower = text.to_ascii_lowercase();
    let Some(upgrade) = lower.lines().find_map(|l| l.strip_prefix("upgrade:")).map(str::trim) else {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nplain")
            .await;
        return;
    };
    let answer = format!("HTTP/1.1 101 Switching Protocols\r\nupgrade: {upgrade}\r\nconnection: upgrade\r\n\r\n");
    if s.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    if lower.starts_with("get /public/flood ") {
        let chunk = vec![b'f'; 64 * 1024];
        while s.write_all(&chunk).await.is_ok() {
            flooded.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        return;
    }
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if s.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn start(origin: &RawOrigin) -> Proxy {
    Proxy::builder()
        .server("websocket_idle_timeout_s = 2\nsend_timeout_s = 5\n")
        .config(&format!(
            "[[routes]]\npattern = \"up.test/public/*\"\norigin = \"http://127.0.0.1:{}\"\n",
            origin.port
        ))
        .start()
        .await
}

fn upgrade_request(upgrade: &[&str], extra: &str) -> String {
    let mut h = "GET /public/x HTTP/1.1\r\nHost: up.test\r\nConnection: Upgrade, HTTP2-Settings\r\n".to_string();
    for u in upgrade {
        h.push_str(&format!("Upgrade: {u}\r\n"));
    }
    h.push_str("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
    h.push_str(extra);
    h.push_str("\r\n");
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_websocket_upgrades_become_tunnels() {
    let origin = RawOrigin::start().await;
    let proxy = start(&origin).await;

    // The control: a WebSocket upgrade is tunnelled (the origin echoes).
    for spelling in ["websocket", "WebSocket"] {
        let (mut s, head) = raw_upgrade(&proxy, &upgrade_request(&[spelling], "")).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{spelling}: {head}");
        s.write_all(b"ping").await.unwrap();
        let mut back = [0u8; 4];
        s.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"ping");
    }

    // h2c (with its HTTP2-Settings), an unknown protocol, a list that
    // names websocket among others, and two Upgrade fields: the origin is
    // asked without an Upgrade, answers 200, and no tunnel opens.
    let cases: [(&[&str], &str); 4] = [
        (&["h2c"], "HTTP2-Settings: AAMAAABkAAQAAP__\r\n"),
        (&["foo"], ""),
        (&["websocket, h2c"], ""),
        (&["h2c, websocket"], ""),
    ];
    for (upgrade, extra) in cases {
        let before = origin.heads().len();
        let (mut s, head) = raw_upgrade(&proxy, &upgrade_request(upgrade, extra)).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{upgrade:?}: {head}");
        let mut body = [0u8; 5];
        s.read_exact(&mut body).await.unwrap();
        assert_eq!(&body, b"plain", "{upgrade:?}");
        let heads = origin.heads();
        let asked = heads[before..].join("\n").to_ascii_lowercase();
        assert!(!asked.contains("\nupgrade:"), "{upgrade:?} reached the origin: {asked}");
        assert!(!asked.contains("http2-settings:"), "{upgrade:?}: {asked}");
    }

    // Two Upgrade fields, websocket first: the origin is asked for
    // websocket only (the h2c one never reaches it).
    let before = origin.heads().len();
    let (_, head) = raw_upgrade(&proxy, &upgrade_request(&["websocket", "h2c"], "")).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let asked = origin.heads()[before..].join("\n").to_ascii_lowercase();
    assert!(
        asked.contains("\nupgrade: websocket\r\n") && !asked.contains("h2c"),
        "{asked}"
    );

    // A path outside the route is still refused, upgrade or not.
    let mut h = upgrade_request(&["h2c"], "");
    h = h.replace("/public/x", "/admin");
    let (_, head) = raw_upgrade(&proxy, &h).await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");

    let r = client()
        .get(proxy.url("/public/ok"))
        .header("host", "up.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tunnels_stay_bounded_and_idle_ones_close() {
    let origin = RawOrigin::start().await;
    let proxy = start(&origin).await;

    // The origin floods a tunnel whose client never reads: the proxy
    // stops reading from the origin instead of buffering, and cuts the
    // client off (send_timeout_s); the origin's writes then fail.
    let head = upgrade_request(&["websocket"], "");
    let (s, got) = raw_upgrade(&proxy, &head.replace("GET /public/x", "GET /public/flood")).await;
    assert!(got.starts_with("HTTP/1.1 101"), "{got}");
    let start = Instant::now();
    let mut last = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = origin.flooded.load(Ordering::Relaxed);
        if now == last && now > 0 {
            break;
        }
        last = now;
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the origin's flood never stalled: {now} bytes"
        );
    }
    let peak = proxy.peak_rss_bytes();
    eprintln!(
        "flooded tunnel: the origin wrote {} KiB before it stalled; proxy peak RSS {} MiB",
        last >> 10,
        peak >> 20
    );
    assert!(
        last < 256 << 20,
        "the proxy took {} MiB of a flood nobody read",
        last >> 20
    );
    assert!(peak < 1 << 30, "peak RSS {} MiB", peak >> 20);
    drop(s);

    // An idle tunnel is closed at websocket_idle_timeout_s (2 s here).
    let (mut s, got) = raw_upgrade(&proxy, &upgrade_request(&["websocket"], "")).await;
    assert!(got.starts_with("HTTP/1.1 101"), "{got}");
    let closed = tokio::time::timeout(Duration::from_secs(60), async {
        let mut buf = [0u8; 64];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "an idle tunnel was never closed");

    let r = client()
        .get(proxy.url("/public/ok"))
        .header("host", "up.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_upgrade_handshakes_do_not_break_the_proxy() {
    let origin = RawOrigin::start().await;
    let proxy = start(&origin).await;

    // The origin's 101 has no (so no valid) Sec-WebSocket-Accept: the proxy
    // passes the handshake through as the origin wrote it, as nginx does;
    // checking it is the WebSocket client's job.
    let (mut s, head) = raw_upgrade(&proxy, &upgrade_request(&["websocket"], "")).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(!head.to_ascii_lowercase().contains("sec-websocket-accept"), "{head}");
    s.write_all(b"echo").await.unwrap();
    let mut back = [0u8; 4];
    s.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"echo");
    drop(s);

    // An upgrade request with a body: whatever the answer, the proxy
    // answers it (or closes) and keeps serving.
    let req = upgrade_request(&["websocket"], "Content-Length: 5\r\n") + "hello";
    let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut got = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut got))
        .await
        .expect("no answer to an upgrade request with a body")
        .unwrap_or(0);
    let got = String::from_utf8_lossy(&got[..n]).to_string();
    assert!(got.is_empty() || got.starts_with("HTTP/1.1 "), "{got:?}");
    drop(s);

    // An upgrade over HTTP/1.0 is not an upgrade.
    let req = upgrade_request(&["websocket"], "").replace("HTTP/1.1\r\n", "HTTP/1.0\r\n");
    let (_, head) = raw_upgrade(&proxy, &req).await;
    assert!(!head.contains(" 101 "), "{head}");

    let r = client()
        .get(proxy.url("/public/ok"))
        .header("host", "up.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
