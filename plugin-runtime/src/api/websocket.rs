//! WebSocketPair: the channels between a worker-terminated WebSocket's
//! server end (the script's, `js/31_websocket.js`) and its client end (the
//! proxy's, which parses the client's frames and enforces the size limits).
//! The runtime sees whole messages only, never frames.

use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::mpsc;

use crate::error::OpError;
use crate::io::context::OpResult;
use crate::io::context::SharedState;
use crate::io::http::WebSocketEnd;
use crate::jsg::ops::{bytes_arg, js_string, state, str_arg, throw, u32_arg, uint8array};

/// Largest message either side may send, as on Workers (1 MiB). The proxy
/// closes a client that sends more with 1009; a script's larger `send()`
/// is a `RangeError`.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// Messages the proxy may queue for the script before it stops reading the
/// client (backpressure on the client's connection).
const TO_SCRIPT_QUEUE: usize = 8;

/// Bytes a script may have queued for the client and not yet written:
/// past this, `send()` is a `RangeError` (a client that does not read
/// cannot make the script's sends grow the heap without bound).
pub const MAX_QUEUED_BYTES: usize = 16 * MAX_MESSAGE_BYTES;

/// Longest close reason (RFC 6455 §5.5: a control frame's payload is at
/// most 125 bytes, two of them the code).
pub const MAX_CLOSE_REASON_BYTES: usize = 123;

/// workerd's refusal of another request's I/O object: a socket belongs to
/// the request that made it (its events run as that request).
pub(crate) const OTHER_REQUEST: &str = "Cannot perform I/O on behalf of a different request. I/O objects \
     (such as streams, request/response bodies, and others) created in the context of one request handler \
     cannot be accessed from a different request's handler.";

/// The server end `id`, if the running request may use it: `Err` with the
/// exception when it belongs to another request (or is gone).
fn own_server<'a>(
    scope: &mut v8::PinScope<'_, '_>,
    servers: &'a mut std::collections::HashMap<u32, ServerSocket>,
    id: u32,
) -> Result<&'a mut ServerSocket, OpError> {
    let current = crate::jsg::ops::current_request(scope);
    match servers.get_mut(&id) {
        Some(s) if Some(s.owner) == current => Ok(s),
        Some(_) => Err(OpError::type_error(OTHER_REQUEST)),
        None => Err(OpError::type_error("This WebSocket is closed.")),
    }
}

/// One WebSocket event, in either direction.
#[derive(Debug)]
pub enum WsEvent {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Bytes),
    /// A close: its code (`None`: no code, 1005 to a listener) and reason;
    /// `clean` when the closing handshake completed.
    Close {
        code: Option<u16>,
        reason: String,
        clean: bool,
    },
    /// The connection failed (to the script: an `error` then a `close` 1006).
    Error(String),
}

/// The proxy's end of a WebSocketPair: the client end a 101 answer carries.
#[derive(Debug)]
pub struct WebSocketPeer {
    /// The client's messages and close, for the script (bounded: awaiting
    /// room is the backpressure on the client's connection).
    pub to_script: mpsc::Sender<WsEvent>,
    /// The script's messages and close, for the client.
    pub from_script: mpsc::UnboundedReceiver<WsEvent>,
    /// Bytes in `from_script` not yet written; the proxy subtracts what it
    /// takes (see [`WebSocketPeer::taken`]).
    queued: Arc<AtomicUsize>,
}

impl WebSocketPeer {
    /// Call for each message taken from `from_script`: its bytes no longer
    /// count against the script's queue bound.
    pub fn taken(&self, event: &WsEvent) {
        self.queued.fetch_sub(event_len(event), Ordering::Relaxed);
    }
}

fn event_len(event: &WsEvent) -> usize {
    match event {
        WsEvent::Text(t) => t.len(),
        WsEvent::Binary(b) => b.len(),
        _ => 0,
    }
}

/// The script's end (a WebSocketPair's `pair[1]`).
pub(crate) struct ServerSocket {
    to_client: mpsc::UnboundedSender<WsEvent>,
    /// `None` while a `wsRecv` holds it.
    from_client: Option<mpsc::Receiver<WsEvent>>,
    queued: Arc<AtomicUsize>,
    /// The request it was made in: it goes when that request ends.
    pub owner: u32,
}

/// Whether a script may send close code `code`: workerd's rule (1000-4999
/// without 1004, 1005, 1006 and 1015, which RFC 6455 §7.4.1 keeps for
/// reports).
pub(crate) fn valid_close_code(code: u16) -> bool {
    (1000..5000).contains(&code) && !matches!(code, 1004..=1006 | 1015)
}

/// Channels between a script's end of a socket and the proxy's end.
fn channels(owner: u32) -> (WebSocketPeer, ServerSocket) {
    let (to_script, from_client) = mpsc::channel(TO_SCRIPT_QUEUE);
    let (to_client, from_script) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let peer = WebSocketPeer {
        to_script,
        from_script,
        queued: queued.clone(),
    };
    let server = ServerSocket {
        to_client,
        from_client: Some(from_client),
        queued,
        owner,
    };
    (peer, server)
}

/// `wsAcceptOrigin(id)` -> the id the script's end of an origin's socket
/// (`response.webSocket.accept()`) now goes by: the proxy speaks the
/// protocol with the origin and carries whole messages, as for a pair's
/// client end; the script's end behaves as a pair's server end.
pub(crate) fn op_ws_accept_origin(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let current = crate::jsg::ops::current_request(scope);
    let taken = {
        let mut s = st.borrow_mut();
        match s.sockets.get(&id) {
            Some((WebSocketEnd::Origin(_), owner)) if Some(*owner) == current => s.sockets.remove(&id),
            Some((WebSocketEnd::Origin(_), _)) => {
                drop(s);
                return throw(scope, OpError::type_error(OTHER_REQUEST));
            }
            _ => None,
        }
    };
    let Some((WebSocketEnd::Origin(socket), owner)) = taken else {
        return throw(
            scope,
            OpError::type_error("Can't accept() WebSocket that was already used in a response."),
        );
    };
    if let Some(ext) = socket.0.extensions() {
        // (Dropping the socket closes the origin's connection.)
        return throw(
            scope,
            OpError::type_error(format!(
                "Can't accept() this WebSocket: the origin agreed to extensions isoproxy does not speak ({ext}); \
                 fetch it without a Sec-WebSocket-Extensions header."
            )),
        );
    }
    let (peer, server) = channels(owner);
    socket.0.accept(peer);
    let server_id = {
        let mut s = st.borrow_mut();
        let v = s.next_id();
        s.ws_servers.insert(v, server);
        v
    };
    rv.set(v8::Integer::new_from_unsigned(scope, server_id).into());
}

/// `wsPair(reqId)` -> `[clientId, serverId]`.
pub(crate) fn op_ws_pair(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let req = u32_arg(scope, args.get(0));
    if !st.borrow().request_live(req) {
        return throw(
            scope,
            OpError::type_error("WebSocketPair can only be created while handling a request."),
        );
    }
    let (peer, server) = channels(req);
    let (client_id, server_id) = {
        let mut s = st.borrow_mut();
        let c = s.next_id();
        s.sockets.insert(c, (WebSocketEnd::Pair(peer), req));
        let v = s.next_id();
        s.ws_servers.insert(v, server);
        (c, v)
    };
    let c = v8::Integer::new_from_unsigned(scope, client_id).into();
    let v = v8::Integer::new_from_unsigned(scope, server_id).into();
    rv.set(v8::Array::new_with_elements(scope, &[c, v]).into());
}

/// `wsSend(id, string | Uint8Array)` -> false once the client is gone.
pub(crate) fn op_ws_send(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let data = args.get(1);
    let event = if data.is_string() {
        match str_arg(scope, data, "message", MAX_MESSAGE_BYTES) {
            Ok(t) => WsEvent::Text(t),
            Err(e) => return throw(scope, e),
        }
    } else {
        match bytes_arg(data) {
            Some(b) => WsEvent::Binary(Bytes::from(b)),
            None => return throw(scope, OpError::type_error("message must be a string or bytes")),
        }
    };
    let len = event_len(&event);
    if len > MAX_MESSAGE_BYTES {
        return throw(
            scope,
            OpError::range_error(format!(
                "WebSocket message is {len} bytes; the limit is {MAX_MESSAGE_BYTES}."
            )),
        );
    }
    let mut s = st.borrow_mut();
    let server = match own_server(scope, &mut s.ws_servers, id) {
        Ok(server) => server,
        Err(e) => {
            drop(s);
            return throw(scope, e);
        }
    };
    let queued = server.queued.load(Ordering::Relaxed);
    if queued.saturating_add(len) > MAX_QUEUED_BYTES {
        drop(s);
        return throw(
            scope,
            OpError::range_error(format!(
                "WebSocket send buffer full: {queued} bytes not yet taken by the client (limit {MAX_QUEUED_BYTES})."
            )),
        );
    }
    server.queued.fetch_add(len, Ordering::Relaxed);
    let ok = server.to_client.send(event).is_ok();
    rv.set_bool(ok);
}

/// `wsClose(id, code, reason)`: code 0 sends a close without a code.
pub(crate) fn op_ws_close(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let code = u32_arg(scope, args.get(1));
    let code = match u16::try_from(code) {
        Ok(0) => None,
        Ok(c) if valid_close_code(c) => Some(c),
        _ => {
            return throw(
                scope,
                OpError::type_error(format!("Invalid WebSocket close code: {code}.")),
            );
        }
    };
    let reason = match str_arg(scope, args.get(2), "reason", 4 * MAX_CLOSE_REASON_BYTES) {
        Ok(r) => r,
        Err(e) => return throw(scope, e),
    };
    if reason.len() > MAX_CLOSE_REASON_BYTES {
        return throw(
            scope,
            OpError::type_error(format!(
                "WebSocket close reason is too long: {} bytes (at most {MAX_CLOSE_REASON_BYTES}).",
                reason.len()
            )),
        );
    }
    let mut s = st.borrow_mut();
    match own_server(scope, &mut s.ws_servers, id) {
        Ok(server) => {
            let _ = server.to_client.send(WsEvent::Close {
                code,
                reason,
                clean: true,
            });
        }
        Err(e) => {
            drop(s);
            throw(scope, e);
        }
    }
}

/// `wsFree(id)`: the script is done with its end.
pub(crate) fn op_ws_free(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    st.borrow_mut().ws_servers.remove(&id);
}

/// `wsRecv(id)` -> Promise of `[0, text]`, `[1, Uint8Array]`,
/// `[2, code, reason, clean]` or `[3, message]` (the last two end it).
pub(crate) fn op_ws_recv(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let rx = {
        let mut s = st.borrow_mut();
        own_server(scope, &mut s.ws_servers, id).map(|server| server.from_client.take())
    };
    let mut rx = match rx {
        Ok(Some(rx)) => rx,
        Ok(None) => return throw(scope, OpError::type_error("This WebSocket is already receiving.")),
        Err(e) => return throw(scope, e),
    };
    crate::jsg::promise::promise_op(scope, &mut rv, async move {
        let event = rx.recv().await;
        OpResult::WsEvent { id, rx, event }
    });
}

/// Settles a `wsRecv` promise (on the isolate's thread).
pub(crate) fn settle_recv<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    st: &SharedState,
    resolver: v8::Local<'_, v8::PromiseResolver>,
    id: u32,
    rx: mpsc::Receiver<WsEvent>,
    event: Option<WsEvent>,
) {
    let ended = !matches!(event, Some(WsEvent::Text(_) | WsEvent::Binary(_)));
    if !ended && let Some(server) = st.borrow_mut().ws_servers.get_mut(&id) {
        server.from_client = Some(rx);
    }
    let elems: Vec<v8::Local<'s, v8::Value>> = match event {
        Some(WsEvent::Text(t)) => vec![int(scope, 0), string(scope, &t)],
        Some(WsEvent::Binary(b)) => vec![int(scope, 1), uint8array(scope, b.to_vec()).into()],
        Some(WsEvent::Close { code, reason, clean }) => vec![
            int(scope, 2),
            int(scope, u32::from(code.unwrap_or(1005))),
            string(scope, &reason),
            v8::Boolean::new(scope, clean).into(),
        ],
        Some(WsEvent::Error(msg)) => vec![int(scope, 3), string(scope, &msg)],
        None => vec![
            int(scope, 3),
            string(scope, "WebSocket disconnected without sending Close frame."),
        ],
    };
    let arr = v8::Array::new_with_elements(scope, &elems);
    resolver.resolve(scope, arr.into());
}

fn int<'s>(scope: &mut v8::PinScope<'s, '_>, n: u32) -> v8::Local<'s, v8::Value> {
    v8::Integer::new_from_unsigned(scope, n).into()
}

fn string<'s>(scope: &mut v8::PinScope<'s, '_>, t: &str) -> v8::Local<'s, v8::Value> {
    js_string(scope, t).unwrap_or_else(|| v8::String::empty(scope)).into()
}
