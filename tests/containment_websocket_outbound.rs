//! Hostile cases for a worker's outbound WebSockets (`new WebSocket(url)`,
//! `fetch()` with `Upgrade: websocket` then `accept()`): the egress policy
//! applies exactly as for fetch() (loopback, private and unnamed addresses
//! refused before any connection), an origin's message over 1 MiB closes
//! the socket with 1009, a handshake that never completes fails in bounded
//! time, garbage after a 101 fails the socket, an extension the origin
//! forces on the socket is refused, and the sockets a request opens count
//! against its subrequest limit.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::ws::*;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// An origin that misbehaves by path: `/silent` never answers,
/// `/garbage` answers a valid 101 then bytes that are no WebSocket frame,
/// `/deflate` answers a valid 101 that forces `permessage-deflate`,
/// `/wrongkey` answers a 101 for another key.
struct RawOrigin {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawOrigin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawOrigin {
    async fn start() -> RawOrigin {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    let key = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .starts_with("sec-websocket-key:")
                                .then(|| l[18..].trim().to_string())
                        })
                        .unwrap_or_default();
                    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
                    let ok = format!(
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
                    );
                    let answer = if head.starts_with("GET /silent") {
                        // Holds the connection, says nothing.
                        tokio::time::sleep(std::time::Duration::from_secs(120)).await;
                        return;
                    } else if head.starts_with("GET /garbage") {
                        // A frame header with the reserved bits set.
                        let mut bytes = format!("{ok}\r\n").into_bytes();
                        bytes.extend_from_slice(b"\xF1\x00not a frame");
                        bytes
                    } else if head.starts_with("GET /deflate") {
                        format!("{ok}Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n").into_bytes()
                    } else {
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                         Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"
                            .as_bytes()
                            .to_vec()
                    };
                    let _ = s.write_all(&answer).await;
                    let _ = s.read(&mut buf).await;
                });
            }
        });
        RawOrigin { url, task }
    }
}

/// Opens `new WebSocket(url)` for each `?to=` and reports, per URL, the
/// events up to its end (`open`, `message:SIZE`, `error:MESSAGE`,
/// `close:CODE`), or the exception its constructor threw. `?send=TEXT`
/// is sent on open; the first message closes the socket. `?fetch=1` uses `fetch()` and `accept()` instead.
const PROBE_WORKER: &str = r#"
export default {
  async fetch(request) {
    const params = new URL(request.url).searchParams;
    const send = params.get("send");
    const results = await Promise.all(params.getAll("to").map(async (to) => {
      const events = [];
      let ws;
      try {
        if (params.get("fetch")) {
          const res = await fetch(to.replace(/^ws/, "http"), { headers: { Upgrade: "websocket" } });
          if (res.webSocket === null) return ["status:" + res.status];
          ws = res.webSocket;
          ws.accept();
          events.push("open");
          if (send !== null) ws.send(send);
        } else {
          ws = new WebSocket(to);
        }
      } catch (e) {
        return ["threw:" + e.name + ":" + e.message];
      }
      await new Promise((resolve) => {
        ws.addEventListener("open", () => { events.push("open"); if (send !== null) ws.send(send); });
        ws.addEventListener("message", (e) => {
          events.push("message:" + (typeof e.data === "string" ? e.data.length : e.data.byteLength));
          ws.close(1000);
        });
        ws.addEventListener("error", (e) => events.push("error:" + e.message));
        ws.addEventListener("close", (e) => { events.push("close:" + e.code); resolve(); });
      });
      return events;
    }));
    return Response.json(results);
  },
};
"#;

/// A proxy whose worker `w` (route `ws.test`, origin `origin`, at most
/// `subrequests` per request) runs PROBE_WORKER; `raw` is also a route's
/// origin (so the egress policy lets the worker reach it).
async fn probe_proxy(origin: &WsOrigin, raw: &RawOrigin, subrequests: u32) -> Proxy {
    Proxy::builder()
        .script("w.js", PROBE_WORKER)
        .config(&format!(
            "[[workers]]\nname = \"w\"\nmain = \"w.js\"\ncompatibility_date = \"2025-01-01\"\n\
             limits = {{ subrequests = {subrequests} }}\n\n\
             [[routes]]\npattern = \"ws.test/*\"\nworker = \"w\"\norigin = \"{}\"\n\n\
             [[routes]]\npattern = \"raw.test/*\"\norigin = \"{}\"\n",
            origin.url, raw.url,
        ))
        .start()
        .await
}

async fn probe(proxy: &Proxy, query: &str) -> Vec<Vec<String>> {
    let r = client()
        .get(proxy.url(&format!("/?{query}")))
        .header("host", "ws.test")
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "{query}: {text}\nproxy log:\n{}", proxy.log());
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{query}: {e}: {text}"))
}

fn to(url: &str) -> String {
    format!("to={}", url.replace('&', "%26"))
}

#[tokio::test]
async fn outbound_sockets_obey_the_egress_policy() {
    let origin = WsOrigin::start().await;
    let raw = RawOrigin::start().await;
    let proxy = probe_proxy(&origin, &raw, 50).await;
    // A loopback listener no route names: nothing may reach it.
    let bystander = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = bystander.local_addr().unwrap().port();
    let reached = Arc::new(AtomicUsize::new(0));
    let count = reached.clone();
    let _watch = tokio::spawn(async move {
        while bystander.accept().await.is_ok() {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    let forbidden = [
        format!("ws://127.0.0.1:{port}/"),
        format!("ws://localhost:{port}/"),
        format!("ws://[::1]:{port}/"),
        format!("ws://0x7f000001:{port}/"),
        format!("wss://127.0.0.2:{port}/"),
        "ws://10.0.0.1/".to_string(),
        "ws://192.168.1.1:8080/".to_string(),
        "ws://169.254.169.254/latest/meta-data".to_string(),
    ];
    for fetch in ["", "&fetch=1"] {
        let query = forbidden.iter().map(|u| to(u)).collect::<Vec<_>>().join("&") + fetch;
        let got = probe(&proxy, &query).await;
        for (url, events) in forbidden.iter().zip(&got) {
            let all = events.join(" | ");
            assert!(all.contains("egress policy"), "{url} ({fetch}): {all}");
            assert!(!events.iter().any(|e| e == "open"), "{url} ({fetch}): {all}");
        }
    }
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "a refused socket reached the listener"
    );
    // The control: the route's origin is reachable by address.
    let ok = format!("ws://{}/", origin.addr);
    let got = probe(&proxy, &format!("{}&send=hi", to(&ok))).await;
    assert_eq!(got[0][..2], ["open".to_string(), "message:2".to_string()], "{got:?}");
}

#[tokio::test]
async fn an_origin_message_over_1_mib_closes_the_socket_with_1009() {
    let origin = WsOrigin::start().await;
    let raw = RawOrigin::start().await;
    let proxy = probe_proxy(&origin, &raw, 50).await;
    let url = format!("ws://{}/", origin.addr);
    for fetch in ["", "&fetch=1"] {
        // Exactly 1 MiB arrives; one byte more closes the socket with 1009.
        let got = probe(&proxy, &format!("{}&send=big%201048576{fetch}", to(&url))).await;
        assert_eq!(got[0][1], "message:1048576", "{got:?}");
        let got = probe(&proxy, &format!("{}&send=big%201048577{fetch}", to(&url))).await;
        assert_eq!(got[0], ["open", "close:1009"], "{got:?}");
        // The proxy survives 64 MiB announced in one frame.
        let got = probe(&proxy, &format!("{}&send=big%2067108864{fetch}", to(&url))).await;
        assert_eq!(got[0], ["open", "close:1009"], "{got:?}");
    }
}

#[tokio::test]
async fn broken_origin_handshakes_fail_the_socket_and_nothing_else() {
    let origin = WsOrigin::start().await;
    let raw = RawOrigin::start().await;
    let proxy = probe_proxy(&origin, &raw, 50).await;
    let base = raw.url.replace("http://", "ws://");
    let query = ["/silent", "/garbage", "/deflate", "/wrongkey"]
        .iter()
        .map(|p| to(&format!("{base}{p}")))
        .collect::<Vec<_>>()
        .join("&");
    // The silent origin fails after the handshake's time limit, not never.
    let got = probe(&proxy, &query).await;
    let [silent, garbage, deflate, wrong] = &got[..] else {
        panic!("{got:?}")
    };
    assert!(silent[0].contains("WebSocket handshake"), "{silent:?}");
    assert_eq!(silent.last().unwrap(), "close:1006", "{silent:?}");
    assert_eq!(garbage[0], "open", "{garbage:?}");
    assert!(garbage[1].starts_with("error:"), "{garbage:?}");
    assert_eq!(garbage.last().unwrap(), "close:1006", "{garbage:?}");
    assert!(deflate[0].contains("permessage-deflate"), "{deflate:?}");
    assert!(wrong[0].contains("Sec-WebSocket-Accept"), "{wrong:?}");
    // With fetch() and accept(): the extension is refused at accept().
    let got = probe(&proxy, &format!("{}&fetch=1", to(&format!("{base}/deflate")))).await;
    assert!(got[0][0].starts_with("threw:TypeError:"), "{got:?}");
    // The proxy still serves.
    let url = format!("ws://{}/", origin.addr);
    let got = probe(&proxy, &format!("{}&send=hi", to(&url))).await;
    assert_eq!(got[0][1], "message:2", "{got:?}");
}

#[tokio::test]
async fn a_request_opens_no_more_sockets_than_its_subrequest_limit() {
    let origin = WsOrigin::start().await;
    let raw = RawOrigin::start().await;
    let proxy = probe_proxy(&origin, &raw, 5).await;
    let url = format!("ws://{}/", origin.addr);
    let query = (0..8).map(|_| to(&url)).collect::<Vec<_>>().join("&") + "&send=hi";
    let got = probe(&proxy, &query).await;
    let opened = got.iter().filter(|e| e.first().is_some_and(|e| e == "open")).count();
    let refused = got
        .iter()
        .filter(|e| e.iter().any(|e| e.contains("Too many subrequests")))
        .count();
    assert_eq!((opened, refused), (5, 3), "{got:?}");
    // Each request has its own budget.
    let got = probe(&proxy, &format!("{}&send=hi", to(&url))).await;
    assert_eq!(got[0][..2], ["open".to_string(), "message:2".to_string()], "{got:?}");
}
