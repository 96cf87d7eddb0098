//! WebSocket helpers shared by the WebSocket tests: a real echo origin
//! (tokio-tungstenite) on loopback and a real client through the proxy.
// tungstenite's handshake callback returns its `Result<Response, ErrorResponse>`
// (an HTTP response as the error): not ours to shrink.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::Proxy;

/// A WebSocket client connection through the proxy.
pub type WsClient = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The handshake requests' headers an origin saw, as (name, value) pairs.
pub type Seen = Arc<Mutex<Vec<Vec<(String, String)>>>>;

/// Largest message the test origin and client accept (over the proxy's
/// 1 MiB, so the proxy's limit is the one tested).
const TEST_MAX_MESSAGE: usize = 4 << 20;

/// A WebSocket echo origin: every text or binary message comes back as it
/// was sent; the text `close CODE REASON` makes it close with that code and
/// reason; `big N` makes it send a binary message of N bytes; a close from
/// the client is answered with the same code. It picks the first
/// subprotocol a client offers.
pub struct WsOrigin {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub addr: std::net::SocketAddr,
    seen: Seen,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WsOrigin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WsOrigin {
    pub async fn start() -> WsOrigin {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Seen::default();
        let log = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(echo(stream, log.clone()));
            }
        });
        WsOrigin {
            url: format!("http://{addr}"),
            addr,
            seen,
            task,
        }
    }

    /// Each handshake's request headers, in order.
    pub fn seen(&self) -> Vec<Vec<(String, String)>> {
        self.seen.lock().unwrap().clone()
    }

    /// The shared record of handshakes (for tests that keep their own copy).
    pub fn seen_handle(&self) -> Seen {
        self.seen.clone()
    }
}

async fn echo(stream: TcpStream, log: Seen) {
    let callback = |req: &Request, mut resp: Response| {
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        log.lock().unwrap().push(headers);
        let first = req
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|p| p.trim().to_string());
        if let Some(p) = first
            && let Ok(v) = p.parse()
        {
            resp.headers_mut().insert("sec-websocket-protocol", v);
        }
        Ok(resp)
    };
    let config = WebSocketConfig::default().max_message_size(Some(TEST_MAX_MESSAGE));
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config)).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        match msg {
            Message::Text(t) if t.starts_with("close ") => {
                let mut parts = t.splitn(3, ' ').skip(1);
                let code: u16 = parts.next().and_then(|c| c.parse().ok()).unwrap_or(1000);
                let reason = parts.next().unwrap_or("").to_string();
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                };
                let _ = ws.close(Some(frame)).await;
            }
            Message::Text(t) if t.starts_with("big ") => {
                let n: usize = t[4..].parse().unwrap_or(0);
                if ws.send(Message::binary(vec![7u8; n])).await.is_err() {
                    return;
                }
            }
            Message::Text(_) | Message::Binary(_) => {
                let sent = ws.send(msg).await;
                if sent.is_err() {
                    return;
                }
            }
            // tungstenite answers pings and echoes the close itself.
            _ => {}
        }
    }
}

/// Opens `url` (`ws://HOST/PATH`) through the proxy; the handshake's
/// response, or the proxy's refusal as `STATUS BODY`.
pub async fn ws_open(proxy: &Proxy, url: &str) -> Result<(WsClient, http::Response<Option<Vec<u8>>>), String> {
    let req = url.into_client_request().unwrap();
    ws_open_request(proxy, req).await
}

/// [`ws_open`] with a request the test built (extra headers).
pub async fn ws_open_request(
    proxy: &Proxy,
    req: http::Request<()>,
) -> Result<(WsClient, http::Response<Option<Vec<u8>>>), String> {
    let tcp = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    let config = WebSocketConfig::default().max_message_size(Some(TEST_MAX_MESSAGE));
    match tokio_tungstenite::client_async_with_config(req, MaybeTlsStream::Plain(tcp), Some(config)).await {
        Ok(ok) => Ok(ok),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let body = resp.body().clone().map(|b| String::from_utf8_lossy(&b).into_owned());
            Err(format!("{} {}", resp.status().as_u16(), body.unwrap_or_default()))
        }
        Err(e) => Err(format!("handshake failed: {e}")),
    }
}

/// [`ws_open`] that must succeed with a 101.
pub async fn ws_connect(proxy: &Proxy, url: &str) -> WsClient {
    match ws_open(proxy, url).await {
        Ok((ws, resp)) => {
            assert_eq!(resp.status(), 101);
            ws
        }
        Err(e) => panic!(
            "WebSocket handshake through the proxy: {e}\nproxy log:\n{}",
            proxy.log()
        ),
    }
}

/// The next data or close message (pings and pongs skipped).
pub async fn ws_next(ws: &mut WsClient, proxy: &Proxy, what: &str) -> Message {
    loop {
        let msg = match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Ok(Some(Ok(msg))) => msg,
            other => panic!("{what}: no message: {other:?}\nproxy log:\n{}", proxy.log()),
        };
        if !matches!(msg, Message::Ping(_) | Message::Pong(_)) {
            return msg;
        }
    }
}

/// The next message is a close with `code` (and `reason`, if given).
pub async fn ws_expect_close(ws: &mut WsClient, proxy: &Proxy, code: u16, reason: Option<&str>) {
    match ws_next(ws, proxy, &format!("close {code}")).await {
        Message::Close(Some(frame)) => {
            assert_eq!(u16::from(frame.code), code, "close code; proxy log:\n{}", proxy.log());
            if let Some(reason) = reason {
                assert_eq!(frame.reason.as_str(), reason);
            }
        }
        other => panic!("expected close {code}, got {other:?}\nproxy log:\n{}", proxy.log()),
    }
}

/// Sends `text` and expects `want` back as text.
pub async fn ws_round_trip(ws: &mut WsClient, proxy: &Proxy, text: &str, want: &str) {
    ws.send(Message::text(text)).await.unwrap();
    match ws_next(ws, proxy, &format!("answer to {text:?}")).await {
        Message::Text(got) => assert_eq!(got.as_str(), want, "answer to {text:?}"),
        other => panic!("answer to {text:?}: expected text {want:?}, got {other:?}"),
    }
}

/// Sends the raw request `head` (an upgrade, usually) to the proxy and
/// reads the response head, up to its blank line: the connection (the
/// tunnel, after a 101) and the head.
pub async fn raw_upgrade(proxy: &Proxy, head: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1];
    tokio::time::timeout(Duration::from_secs(30), async {
        while !got.ends_with(b"\r\n\r\n") {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => got.push(buf[0]),
            }
        }
    })
    .await
    .expect("no response head");
    (s, String::from_utf8_lossy(&got).to_string())
}
