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

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::header;
use pingora::prelude::*;
use pingora::protocols::http::client::HttpSession;
use pingora::proxy::Session;
use plugin_runtime::{MAX_MESSAGE_BYTES, WebSocketPeer, WsEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};

/// An origin's upgraded connection after its 101, waiting for the script's
/// answer: spliced to the client if the answer carries `token`.
pub struct OriginTunnel {
    /// What the script's `response.webSocket` stands for.
    pub token: u64,
    /// The origin's `Sec-WebSocket-*` answer (protocol, extensions): what
    /// the bytes spliced will speak, whatever head the script returns.
    pub handshake: http::HeaderMap,
    upstream: HttpSession,
}

impl OriginTunnel {
    /// Takes an origin's connection that answered 101 to an upgrade
    /// request; `None` when Pingora did not see an upgrade (the origin
    /// switched protocols on a request that did not ask for it).
    pub fn new(upstream: HttpSession) -> Option<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        if !upstream.as_http1()?.was_upgraded() {
            return None;
        }
        let mut handshake = http::HeaderMap::new();
        for (name, value) in upstream.response_header()?.headers.iter() {
            if name.as_str().starts_with("sec-websocket-") {
                handshake.append(name.clone(), value.clone());
            }
        }
        Some(OriginTunnel {
            token: NEXT.fetch_add(1, Ordering::Relaxed),
            handshake,
            upstream,
        })
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
pub async fn splice_origin(session: &mut Session, tunnel: OriginTunnel, idle: Duration) -> Result<()> {
    let mut upstream = tunnel.upstream;
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

/// Moves bytes between the client's connection and the protocol's end of
/// the pipe. Ends when the protocol side is done (its last frames
/// written); the client closing shuts the pipe, which the protocol side
/// sees as the end of the connection.
async fn carry(session: &mut Session, near: tokio::io::DuplexStream) -> Result<()> {
    let (mut from_ws, mut to_ws) = tokio::io::split(near);
    let mut buf = vec![0u8; 16 * 1024];
    let mut client_open = true;
    loop {
        tokio::select! {
            chunk = session.read_request_body(), if client_open => match chunk {
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
                    let _ = session.write_response_body(None, true).await;
                    return Ok(());
                }
                Ok(n) => {
                    if let Err(e) = session
                        .write_response_body(Some(Bytes::copy_from_slice(&buf[..n])), false)
                        .await
                    {
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
