//! WebSockets on worker routes (plain routes' go through Pingora's own
//! tunnel, see `edge.rs`). A worker's 101 answer carries one of:
//!
//! - an origin's accepted upgrade (`fetch(request)` answered 101, and the
//!   script returned that response or its `webSocket`): the client's and
//!   the origin's connections are spliced here, bytes both ways, no JS per
//!   frame ([`splice_origin`]);
//! - a `WebSocketPair`'s client end: the proxy completes the handshake with
//!   the client and parses its frames (tungstenite's protocol code over an
//!   in-memory pipe fed from Pingora's session), enforcing the message size
//!   limit; whole messages go to and from the script's isolate through the
//!   pair's channels ([`serve_pair`]).
//!
//! Either way the socket lives in the task serving the client: it stays a
//! request in flight (and, for a pair, a request of the isolate, which the
//! runtime keeps alive until the socket closes, across reloads).
//!
//! A script's own outbound WebSockets (`fetch()` with `Upgrade: websocket`
//! answered 101, whose `webSocket` it `accept()`s, or `new WebSocket(url)`)
//! are served the same way with the roles swapped: tungstenite speaks the
//! client side of the protocol with the origin over its upgraded
//! connection, in a task of the proxy's runtime ([`UpgradedConnection`]),
//! and whole messages go to and from the script.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::header;
use pingora::prelude::*;
use pingora::protocols::http::client::HttpSession;
use pingora::proxy::Session;
use pingora_http::RequestHeader;
use plugin_runtime::{
    Body, FetchError, MAX_MESSAGE_BYTES, OriginSocket, ResponseHead, WebSocketEnd, WebSocketPeer, WorkerResponse,
    WsEvent,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};

/// How long an origin has to answer a script's WebSocket upgrade (connect
/// included): a handshake that never completes fails the script's
/// `fetch()` (or fires `error` on its `new WebSocket()`) after this.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a request's headers ask for a WebSocket (`Upgrade: websocket`).
pub fn asks_websocket(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .is_some_and(|u| u.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// Makes `req` (hop-by-hop fields already stripped) a WebSocket upgrade
/// request: `Upgrade`, `Connection`, and the version and key when the
/// script did not give them (a client's passed-through request has its
/// own). Returns the key sent, whose answer the origin's 101 must carry.
pub fn upgrade_request(req: &mut RequestHeader) -> Result<String, FetchError> {
    let bad = |e: Box<pingora::Error>| FetchError::BadUrl(format!("WebSocket upgrade header: {e}"));
    req.insert_header(header::UPGRADE, "websocket").map_err(bad)?;
    req.insert_header(header::CONNECTION, "Upgrade").map_err(bad)?;
    if req.headers.get(header::SEC_WEBSOCKET_VERSION).is_none() {
        req.insert_header(header::SEC_WEBSOCKET_VERSION, "13").map_err(bad)?;
    }
    let key = match req.headers.get(header::SEC_WEBSOCKET_KEY).map(|k| k.to_str()) {
        Some(Ok(k)) => k.to_string(),
        Some(Err(_)) => return Err(FetchError::BadUrl("Sec-WebSocket-Key is not ASCII".into())),
        None => {
            let key = tokio_tungstenite::tungstenite::handshake::client::generate_key();
            req.insert_header(header::SEC_WEBSOCKET_KEY, &key).map_err(bad)?;
            key
        }
    };
    Ok(key)
}

/// An origin's connection after its 101 to a WebSocket upgrade: what a
/// script's `response.webSocket` stands for. Returned in a 101 answer, it
/// is spliced to the client ([`splice_origin`]); `accept()`ed, the proxy
/// speaks the protocol on it for the script.
pub struct UpgradedConnection {
    /// The origin's `Sec-WebSocket-*` answer (protocol, extensions): what
    /// the bytes spliced will speak, whatever head the script returns.
    pub handshake: http::HeaderMap,
    upstream: HttpSession,
    /// Where an accepted socket's protocol runs: the proxy's runtime.
    handle: tokio::runtime::Handle,
    /// How long the origin may stay silent on an accepted socket.
    idle: Duration,
}

impl UpgradedConnection {
    /// The script's `fetch()` answer for an origin's 101 to a WebSocket
    /// upgrade sent with `key`: an empty 101 whose `webSocket` is the
    /// connection. An error when the origin switched protocols without
    /// being asked, or answered another key.
    pub fn answer(
        upstream: HttpSession,
        head: ResponseHead,
        key: &str,
        idle: Duration,
    ) -> Result<WorkerResponse, FetchError> {
        let upgraded = upstream.as_http1().is_some_and(|h1| h1.was_upgraded());
        if !upgraded {
            return Err(FetchError::Network(
                "the origin switched protocols (101) without being asked to".into(),
            ));
        }
        let Some(origin_head) = upstream.response_header() else {
            return Err(FetchError::Network("read response header: none".into()));
        };
        let mut handshake = http::HeaderMap::new();
        for (name, value) in origin_head.headers.iter() {
            if name.as_str().starts_with("sec-websocket-") {
                handshake.append(name.clone(), value.clone());
            }
        }
        let expected = accept_key(key.as_bytes());
        if handshake.get(header::SEC_WEBSOCKET_ACCEPT).map(|v| v.as_bytes()) != Some(expected.as_bytes()) {
            return Err(FetchError::Network(
                "the origin's WebSocket handshake answered another key (Sec-WebSocket-Accept)".into(),
            ));
        }
        let conn = UpgradedConnection {
            handshake,
            upstream,
            handle: tokio::runtime::Handle::current(),
            idle,
        };
        Ok(WorkerResponse {
            head,
            body: Body::Empty,
            cpu_time: Duration::ZERO,
            web_socket: Some(WebSocketEnd::Origin(OriginSocket(Box::new(conn)))),
        })
    }
}

impl plugin_runtime::UpgradedOrigin for UpgradedConnection {
    fn accept(self: Box<Self>, peer: WebSocketPeer) {
        let handle = self.handle.clone();
        handle.spawn(serve_accepted(*self, peer));
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
        self
    }

    fn extensions(&self) -> Option<&str> {
        let ext = self.handshake.get(header::SEC_WEBSOCKET_EXTENSIONS)?;
        Some(ext.to_str().unwrap_or("(not ASCII)"))
    }
}

/// Whether the client's request asks for a WebSocket (RFC 6455 §4.2.1:
/// HTTP/1.1, `Upgrade: websocket`, a `Sec-WebSocket-Key`); its key if so.
pub fn websocket_key(session: &Session) -> Option<&[u8]> {
    let req = session.req_header();
    let upgrade = req.headers.get(header::UPGRADE)?;
    if req.version != http::Version::HTTP_11 || !upgrade.as_bytes().eq_ignore_ascii_case(b"websocket") {
        return None;
    }
    req.headers.get(header::SEC_WEBSOCKET_KEY).map(|k| k.as_bytes())
}

/// The `Sec-WebSocket-Accept` answering `key`.
pub fn accept_key(key: &[u8]) -> String {
    tokio_tungstenite::tungstenite::handshake::derive_accept_key(key)
}

/// Copies bytes both ways between the client (its 101 already written)
/// and the origin until either side closes, or is silent for `idle`.
pub async fn splice_origin(session: &mut Session, conn: UpgradedConnection, idle: Duration) -> Result<()> {
    let mut upstream = conn.upstream;
    if let HttpSession::H1(h1) = &mut upstream {
        // The request body writer now passes bytes through as they are.
        h1.maybe_upgrade_body_writer();
    }
    upstream.set_read_timeout(Some(idle));
    session.set_read_timeout(Some(idle));
    loop {
        tokio::select! {
            chunk = session.read_request_body() => match chunk {
                Ok(Some(bytes)) => upstream
                    .write_request_body(bytes, false)
                    .await
                    .map_err(|e| e.into_up())?,
                // The client closed: so does the origin's connection (dropped).
                Ok(None) => return Ok(()),
                Err(e) => return tunnel_ended(e),
            },
            chunk = upstream.read_response_body() => match chunk {
                Ok(Some(bytes)) => session
                    .write_response_body(Some(bytes), false)
                    .await
                    .map_err(|e| e.into_down())?,
                Ok(None) => {
                    session.write_response_body(None, true).await.map_err(|e| e.into_down())?;
                    return Ok(());
                }
                Err(e) => return tunnel_ended(e),
            },
        }
    }
}

/// A side of a tunnel that failed or went idle ends it; that is how
/// upgraded connections end, not an error to report.
fn tunnel_ended(e: Box<Error>) -> Result<()> {
    log::debug!("websocket tunnel ended: {e}");
    Ok(())
}

/// Serves a worker-terminated WebSocket (its 101 already written): the
/// client's frames are parsed here, whole messages go to the script and
/// the script's come back as frames, until either side closes.
pub async fn serve_pair(session: &mut Session, peer: WebSocketPeer, idle: Duration) -> Result<()> {
    let (near, far) = tokio::io::duplex(64 * 1024);
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    let ws = WebSocketStream::from_raw_socket(far, Role::Server, Some(config)).await;
    session.set_read_timeout(Some(idle));
    let (carried, ()) = tokio::join!(carry(session, near), messages(ws, peer));
    carried
}

/// Serves an origin's socket the script accepted: the client side of the
/// protocol with the origin, whole messages to and from the script, until
/// either side closes (or the origin is silent for the idle timeout).
async fn serve_accepted(conn: UpgradedConnection, peer: WebSocketPeer) {
    let mut upstream = conn.upstream;
    if let HttpSession::H1(h1) = &mut upstream {
        // The request body writer now passes bytes through as they are.
        h1.maybe_upgrade_body_writer();
    }
    upstream.set_read_timeout(Some(conn.idle));
    let (near, far) = tokio::io::duplex(64 * 1024);
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    let ws = WebSocketStream::from_raw_socket(far, Role::Client, Some(config)).await;
    let (carried, ()) = tokio::join!(carry(&mut upstream, near), messages(ws, peer));
    if let Err(e) = carried {
        log::debug!("accepted origin WebSocket ended: {e}");
    }
}

/// A connection carrying a WebSocket's bytes, whichever side of the proxy
/// it is: the client's (Pingora's downstream session) or an origin's.
trait Wire {
    /// The next bytes; `None` at the end.
    async fn read(&mut self) -> Result<Option<Bytes>>;
    async fn write(&mut self, bytes: Bytes) -> Result<()>;
    /// No more bytes will be written.
    async fn finish(&mut self);
}

impl Wire for &mut Session {
    async fn read(&mut self) -> Result<Option<Bytes>> {
        self.read_request_body().await
    }
    async fn write(&mut self, bytes: Bytes) -> Result<()> {
        self.write_response_body(Some(bytes), false).await
    }
    async fn finish(&mut self) {
        let _ = self.write_response_body(None, true).await;
    }
}

impl Wire for &mut HttpSession {
    async fn read(&mut self) -> Result<Option<Bytes>> {
        self.read_response_body().await
    }
    async fn write(&mut self, bytes: Bytes) -> Result<()> {
        self.write_request_body(bytes, false).await
    }
    async fn finish(&mut self) {
        // Dropping the connection closes it.
    }
}

/// Moves bytes between the client's connection and the protocol's end of
/// the pipe. Ends when the protocol side is done (its last frames
/// written); the client closing shuts the pipe, which the protocol side
/// sees as the end of the connection.
async fn carry(mut session: impl Wire, near: tokio::io::DuplexStream) -> Result<()> {
    let (mut from_ws, mut to_ws) = tokio::io::split(near);
    let mut buf = vec![0u8; 16 * 1024];
    let mut client_open = true;
    loop {
        tokio::select! {
            chunk = session.read(), if client_open => match chunk {
                Ok(Some(bytes)) => {
                    if to_ws.write_all(&bytes).await.is_err() {
                        client_open = false;
                    }
                }
                Ok(None) | Err(_) => {
                    client_open = false;
                    let _ = to_ws.shutdown().await;
                }
            },
            n = from_ws.read(&mut buf) => match n {
                Ok(0) | Err(_) => {
                    session.finish().await;
                    return Ok(());
                }
                Ok(n) => {
                    if let Err(e) = session.write(Bytes::copy_from_slice(&buf[..n])).await {
                        log::debug!("websocket client write failed: {e}");
                        return Ok(());
                    }
                }
            },
        }
    }
}

/// The WebSocket protocol over the pipe: client messages to the script,
/// the script's messages and close to the client.
async fn messages(mut ws: WebSocketStream<tokio::io::DuplexStream>, mut peer: WebSocketPeer) {
    use tokio_tungstenite::tungstenite::Error as WsError;
    use tokio_tungstenite::tungstenite::error::CapacityError;
    // Whether the script has been told the socket closed.
    let mut told = false;
    let mut script_open = true;
    loop {
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    if !told && peer.to_script.send(WsEvent::Text(t.as_str().to_owned())).await.is_err() {
                        told = true;
                    }
                }
                Some(Ok(Message::Binary(b))) => {
                    if !told && peer.to_script.send(WsEvent::Binary(b)).await.is_err() {
                        told = true;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    // tungstenite answers it (unless we closed first); the
                    // connection ends once that reply is out.
                    let (code, reason) = match frame {
                        Some(f) => (Some(u16::from(f.code)), f.reason.as_str().to_owned()),
                        None => (None, String::new()),
                    };
                    if !told {
                        told = true;
                        let _ = peer.to_script.send(WsEvent::Close { code, reason, clean: true }).await;
                    }
                }
                Some(Ok(_)) => {} // ping, pong (answered by tungstenite)
                Some(Err(WsError::Capacity(CapacityError::MessageTooLong { size, max_size }))) => {
                    let reason = format!("message of {size} bytes is over the limit of {max_size}");
                    log::info!("websocket client: {reason}; closed with 1009");
                    let close = CloseFrame { code: CloseCode::Size, reason: "Message too big".into() };
                    let _ = ws.send(Message::Close(Some(close))).await;
                    if !told {
                        let _ = peer.to_script.send(WsEvent::Close { code: Some(1009), reason, clean: false }).await;
                    }
                    break;
                }
                Some(Err(e)) => {
                    if !told {
                        let _ = peer.to_script.send(WsEvent::Error(format!("WebSocket connection failed: {e}"))).await;
                    }
                    break;
                }
                None => {
                    if !told {
                        let _ = peer.to_script.send(WsEvent::Error(
                            "WebSocket disconnected without sending Close frame.".into(),
                        )).await;
                    }
                    break;
                }
            },
            event = peer.from_script.recv(), if script_open => match event {
                Some(event) => {
                    peer.taken(&event);
                    let msg = match event {
                        WsEvent::Text(t) => Message::text(t),
                        WsEvent::Binary(b) => Message::binary(b),
                        WsEvent::Close { code, reason, .. } => Message::Close(code.map(|c| CloseFrame {
                            code: CloseCode::from(c),
                            reason: reason.into(),
                        })),
                        WsEvent::Error(_) => continue,
                    };
                    // After a close either way, tungstenite refuses more
                    // (the script's late sends are dropped, as on workerd).
                    let _ = ws.send(msg).await;
                }
                None => {
                    // The script's end went without a close (its request
                    // ended, failed or was cancelled): 1011, as workerd.
                    script_open = false;
                    let close = CloseFrame { code: CloseCode::Error, reason: "".into() };
                    let _ = ws.send(Message::Close(Some(close))).await;
                }
            },
        }
    }
}
