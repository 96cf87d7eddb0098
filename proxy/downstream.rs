//! The client side of a connection, under Pingora's HTTP/1 sessions: the
//! limits that hold before any of our `ProxyHttp` phases can run.
//!
//! Pingora hands every accepted connection to [`Listener::process_new`],
//! which
//!
//! - refuses it with `503` when `max_connections` are already open;
//! - wraps the socket in a [`GuardedStream`], which watches the bytes of
//!   each request header as they are read: past `header_read_timeout_s`
//!   (from the header's first byte, or from the accept for a connection's
//!   first request) it answers `408` and closes; past `max_header_bytes`
//!   or `max_header_count` it answers `431` and closes;
//! - runs Pingora's HTTP/1 keep-alive loop (as `pingora-core`'s own
//!   `ServerApp` does), setting on every session the keep-alive timeout,
//!   the body idle timeout (Pingora's per-read `read_timeout`), the send
//!   timeout (its per-write `write_timeout`) and, on the
//!   proxy listener, HTTP/1.1 pipelining (Pingora 0.9.1's opt-in, so that
//!   requests sent back to back are answered in order instead of dropped);
//! - with `[server] h2c`, on a plain proxy listener, reads at most the
//!   24-byte HTTP/2 preface first: a connection that opens with it is
//!   served by Pingora's HTTP/2 server (as an ALPN `h2` one is), any other
//!   goes on as HTTP/1 with the bytes read given back first;
//! - counts what Pingora refuses before our phases see a request (a
//!   malformed request line or header, two `Host` fields: Pingora answers
//!   `400`): the stream notes the status of the first response bytes of
//!   each session, and a session that ends without reaching
//!   [`Conn::request_complete`] but wrote a status was such a refusal.
//!
//! Pingora itself has no total header deadline (its timeouts are per
//! read, so one byte a second keeps a header alive forever), no cap on
//! connections, and refuses over-long headers only at 1 MiB, with a `400`
//! and no log line; hence this layer.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use pingora::apps::{HttpPersistentSettings, HttpServerApp, HttpServerOptions, ReusedHttpStream, ServerApp};
use pingora::listeners::tls::Acceptor;
use pingora::protocols::http::ServerSession;
use pingora::protocols::http::v2::server::{H2Options, default_h2_options};
use pingora::protocols::l4::socket::SocketAddr;
use pingora::protocols::l4::stream::Stream as L4Stream;
use pingora::protocols::raw_connect::ProxyDigest;
use pingora::protocols::tls::SslDigest;
use pingora::protocols::{
    ALPN, GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl, Stream, TimingDigest,
    UniqueID, UniqueIDType,
};
use pingora::server::ShutdownWatch;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::config::ServerConfig;
use crate::edge::AppState;
use crate::metrics::metrics;

/// How long a refused or cut-off connection gets to receive its answer
/// (write, then read and discard what the client still sends, so that
/// closing does not reset the connection before the answer is read).
const LINGER: Duration = Duration::from_secs(1);
/// At most this much is read and discarded while lingering (a client may
/// have sent a whole over-large header before it reads our answer).
const LINGER_BYTES: usize = 2 << 20;

/// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 §3.4).
const H2_PREFACE_LEN: usize = 24;

/// Most concurrent streams a client's HTTP/2 connection may open
/// (`SETTINGS_MAX_CONCURRENT_STREAMS`; Pingora's and nginx's default).
pub const H2_MAX_CONCURRENT_STREAMS: u32 = 100;

/// The `[server]` limits on clients; swapped whole on reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientLimits {
    /// `header_read_timeout_s`.
    pub header_read_timeout: Duration,
    /// `body_idle_timeout_s`.
    pub body_idle_timeout: Duration,
    /// `send_timeout_s`.
    pub send_timeout: Duration,
    /// `keepalive_timeout_s` (0: keep-alive off).
    pub keepalive_timeout_s: u64,
    /// `max_header_bytes`.
    pub max_header_bytes: usize,
    /// `max_header_count`.
    pub max_header_count: usize,
    /// `max_connections`, per listener kind.
    pub max_connections: usize,
    /// `websocket_idle_timeout_s`: reads of an upgraded connection, each way.
    pub websocket_idle_timeout: Duration,
    /// `h2c`: HTTP/2 with prior knowledge on plain proxy listeners.
    pub h2c: bool,
}

impl ClientLimits {
    /// The limits a `[server]` section sets.
    pub fn from_config(server: &ServerConfig) -> ClientLimits {
        ClientLimits {
            header_read_timeout: Duration::from_secs(server.header_read_timeout_s),
            body_idle_timeout: Duration::from_secs(server.body_idle_timeout_s),
            send_timeout: Duration::from_secs(server.send_timeout_s),
            keepalive_timeout_s: server.keepalive_timeout_s,
            max_header_bytes: server.max_header_bytes,
            max_header_count: server.max_header_count,
            max_connections: server.max_connections,
            websocket_idle_timeout: Duration::from_secs(server.websocket_idle_timeout_s),
            h2c: server.h2c,
        }
    }

    /// Pingora's keep-alive setting (`Some(0)` there would mean "forever").
    fn keepalive(&self) -> Option<u64> {
        (self.keepalive_timeout_s > 0).then_some(self.keepalive_timeout_s)
    }
}

/// Why this layer cut a client off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cutoff {
    /// The request header was not complete in time.
    HeaderTimeout,
    /// The request header was larger than `max_header_bytes`.
    HeaderTooLarge,
    /// The request header had more than `max_header_count` fields.
    TooManyHeaders,
}

impl Cutoff {
    /// The metric's `kind` label.
    pub fn kind(self) -> &'static str {
        match self {
            Cutoff::HeaderTimeout => "header_timeout",
            Cutoff::HeaderTooLarge => "header_too_large",
            Cutoff::TooManyHeaders => "too_many_headers",
        }
    }

    /// The answer the client gets before the connection closes.
    fn reply(self) -> &'static [u8] {
        match self {
            Cutoff::HeaderTimeout => {
                b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain;charset=UTF-8\r\n\
                  Content-Length: 52\r\n\r\nRequest Timeout: the request header took too long.\n"
            }
            Cutoff::HeaderTooLarge => {
                b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\
                  Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 52\r\n\r\n\
                  Request Header Fields Too Large: header too large.\n"
            }
            Cutoff::TooManyHeaders => {
                b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\
                  Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 52\r\n\r\n\
                  Request Header Fields Too Large: too many headers.\n"
            }
        }
    }
}

const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n\
    Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 43\r\n\r\n\
    Service Unavailable: too many connections.\n";

/// Where a connection is in reading its current request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    /// Between keep-alive requests: no byte of the next one yet.
    Idle = 0,
    /// Reading a request header (the deadline runs).
    Header = 1,
    /// The header is complete: body and response; bytes pass untouched.
    Body = 2,
    /// Cut off: reads fail.
    Failed = 3,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            0 => Phase::Idle,
            1 => Phase::Header,
            2 => Phase::Body,
            _ => Phase::Failed,
        }
    }
}

/// Counts a request header's bytes and lines as they arrive and finds its
/// end (the first empty line after the request line; CRLF or bare LF, as
/// Pingora's parser accepts both; empty lines before the request line are
/// skipped, as RFC 9112 §2.2 allows).
#[derive(Debug, Default)]
struct HeaderScan {
    bytes: usize,
    lines: usize,
    line_len: usize,
    last_cr: bool,
}

enum Scanned {
    More,
    Done,
    Cut(Cutoff),
}

impl HeaderScan {
    fn feed(&mut self, data: &[u8], max_bytes: usize, max_fields: usize) -> Scanned {
        for &b in data {
            self.bytes += 1;
            if self.bytes > max_bytes {
                return Scanned::Cut(Cutoff::HeaderTooLarge);
            }
            if b == b'\n' {
                let content = self.line_len - usize::from(self.last_cr);
                if content == 0 {
                    if self.lines > 0 {
                        return Scanned::Done;
                    }
                } else {
                    self.lines += 1;
                    // The request line plus the fields.
                    if self.lines > max_fields + 1 {
                        return Scanned::Cut(Cutoff::TooManyHeaders);
                    }
                }
                self.line_len = 0;
                self.last_cr = false;
            } else {
                self.line_len += 1;
                self.last_cr = b == b'\r';
            }
        }
        Scanned::More
    }
}

/// The state of one client connection that its stream, the keep-alive loop
/// and the proxy's phases share.
#[derive(Debug)]
pub struct Conn {
    /// When the connection was accepted: a first request's header deadline
    /// (and a TLS handshake's) runs from here.
    accepted: Instant,
    phase: AtomicU8,
    /// Whether the status of this session's first response is still unknown.
    sniffing: std::sync::atomic::AtomicBool,
    state: Mutex<ConnState>,
}

#[derive(Debug)]
struct ConnState {
    deadline: Option<Instant>,
    header_timeout: Duration,
    max_header_bytes: usize,
    max_header_count: usize,
    scan: HeaderScan,
    /// An HTTP/2 connection: only its preface is watched (by byte count),
    /// then bytes pass untouched (h2's own limits apply to its frames).
    h2: bool,
    /// Whether any byte of the current request arrived.
    got_bytes: bool,
    cutoff: Option<Cutoff>,
    /// The proxy's phases saw this session's request.
    reached_app: bool,
    /// The first bytes written in this session (a status line).
    head: [u8; 12],
    head_len: usize,
}

/// How a session ended, as far as this layer can tell.
struct SessionEnd {
    cutoff: Option<Cutoff>,
    got_bytes: bool,
    reached_app: bool,
    status: Option<u16>,
}

impl Conn {
    fn new(limits: &ClientLimits, accepted: Instant) -> Conn {
        Conn {
            accepted,
            phase: AtomicU8::new(Phase::Idle as u8),
            sniffing: true.into(),
            state: Mutex::new(ConnState {
                deadline: None,
                header_timeout: limits.header_read_timeout,
                max_header_bytes: limits.max_header_bytes,
                max_header_count: limits.max_header_count,
                scan: HeaderScan::default(),
                h2: false,
                got_bytes: false,
                cutoff: None,
                reached_app: false,
                head: [0; 12],
                head_len: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ConnState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Acquire))
    }

    fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Release);
    }

    /// A new request (session) starts on this connection. For the first
    /// one the header deadline runs from now (the accept); later ones
    /// start it at their first byte.
    fn begin_session(&self, first: bool, limits: &ClientLimits) {
        let mut st = self.lock();
        st.header_timeout = limits.header_read_timeout;
        st.max_header_bytes = limits.max_header_bytes;
        st.max_header_count = limits.max_header_count;
        st.scan = HeaderScan::default();
        st.got_bytes = false;
        st.cutoff = None;
        st.reached_app = false;
        st.head_len = 0;
        st.deadline = first.then(|| self.accepted + limits.header_read_timeout);
        self.sniffing.store(true, Ordering::Release);
        self.set_phase(if first { Phase::Header } else { Phase::Idle });
    }

    /// An HTTP/2 connection starts: its preface (from the accept, within
    /// `header_read_timeout_s`) is the only header this layer watches.
    fn begin_h2(&self, limits: &ClientLimits) {
        self.begin_session(true, limits);
        self.lock().h2 = true;
    }

    /// The proxy has a complete request header (from
    /// `ProxyHttp::on_connection_reuse`, which runs right after Pingora
    /// parsed it): what follows on the wire is body, or the next pipelined
    /// request, which Pingora already holds. (A header that came in the
    /// same read as the previous request, pipelined, was never scanned
    /// here; the proxy checks its parsed form, `edge::header_over_limits`.)
    pub fn request_complete(&self) {
        let mut st = self.lock();
        st.reached_app = true;
        st.deadline = None;
        if self.phase() != Phase::Failed {
            self.set_phase(Phase::Body);
        }
    }

    fn end(&self) -> SessionEnd {
        let st = self.lock();
        let status = (st.head_len >= 12 && st.head.starts_with(b"HTTP/1."))
            .then(|| std::str::from_utf8(&st.head[9..12]).ok()?.parse::<u16>().ok())
            .flatten();
        SessionEnd {
            cutoff: st.cutoff,
            got_bytes: st.got_bytes,
            reached_app: st.reached_app,
            status,
        }
    }

    /// Notes the first bytes written in a session (the status line).
    fn sniff(&self, buf: &[u8]) {
        if !self.sniffing.load(Ordering::Acquire) || buf.is_empty() {
            return;
        }
        let mut st = self.lock();
        let at = st.head_len;
        let n = (12 - at).min(buf.len());
        st.head[at..at + n].copy_from_slice(&buf[..n]);
        st.head_len += n;
        if st.head_len >= 12 {
            self.sniffing.store(false, Ordering::Release);
        }
    }
}

/// The client socket, with the request-header limits applied to what is
/// read from it. Everything else passes through to the wrapped stream.
#[derive(Debug)]
pub struct GuardedStream {
    inner: Stream,
    conn: Arc<Conn>,
    timer: Option<Pin<Box<Sleep>>>,
    /// What is left to write of a cut-off answer.
    reply: &'static [u8],
    /// Whether a cut-off answer was started (then closing lingers).
    replied: bool,
    /// Bytes read from the client before this stream was made (looking
    /// for the h2c preface), read again first; `prefix_at` of them were.
    prefix: Vec<u8>,
    prefix_at: usize,
}

impl GuardedStream {
    fn new(inner: Stream, conn: Arc<Conn>) -> GuardedStream {
        GuardedStream {
            inner,
            conn,
            timer: None,
            reply: &[],
            replied: false,
            prefix: Vec::new(),
            prefix_at: 0,
        }
    }

    /// The client's first bytes, already read from `inner`, come first.
    fn with_prefix(mut self, prefix: Vec<u8>) -> GuardedStream {
        self.prefix = prefix;
        self
    }

    /// Reads from the prefix while it lasts, then from the socket.
    fn poll_inner(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let rest = &self.prefix[self.prefix_at..];
        if !rest.is_empty() {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            self.prefix_at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }

    /// Cuts the client off: marks the connection, starts writing the
    /// answer (the rest is written when Pingora shuts the stream down)
    /// and returns the error the read fails with.
    fn cut(&mut self, cx: &mut Context<'_>, st: &mut ConnState, why: Cutoff) -> io::Error {
        st.cutoff = Some(why);
        st.deadline = None;
        self.conn.set_phase(Phase::Failed);
        self.timer = None;
        // A connection that never sent a byte just closes (browsers open
        // spare connections they may never use); an HTTP/2 client could
        // not read an HTTP/1 answer.
        if st.got_bytes && !st.h2 {
            self.reply = why.reply();
            self.replied = true;
            while !self.reply.is_empty() {
                match Pin::new(&mut self.inner).poll_write(cx, self.reply) {
                    Poll::Ready(Ok(n)) if n > 0 => self.reply = &self.reply[n..],
                    _ => break,
                }
            }
            let _ = Pin::new(&mut self.inner).poll_flush(cx);
        }
        let kind = match why {
            Cutoff::HeaderTimeout => io::ErrorKind::TimedOut,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, why.kind())
    }

    /// Reads while a request header is (or may start) arriving.
    fn poll_read_header(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let conn = self.conn.clone();
        let mut st = conn.lock();
        if let Some(deadline) = st.deadline
            && Instant::now() >= deadline
        {
            return Poll::Ready(Err(self.cut(cx, &mut st, Cutoff::HeaderTimeout)));
        }
        let before = buf.filled().len();
        match self.poll_inner(cx, buf) {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                if new.is_empty() {
                    return Poll::Ready(Ok(())); // end of stream
                }
                if !st.got_bytes {
                    st.got_bytes = true;
                    if st.deadline.is_none() {
                        st.deadline = Some(Instant::now() + st.header_timeout);
                    }
                    conn.set_phase(Phase::Header);
                }
                let (max_bytes, max_fields) = (st.max_header_bytes, st.max_header_count);
                let scanned = if st.h2 {
                    st.scan.bytes += new.len();
                    if st.scan.bytes >= H2_PREFACE_LEN {
                        Scanned::Done
                    } else {
                        Scanned::More
                    }
                } else {
                    st.scan.feed(new, max_bytes, max_fields)
                };
                match scanned {
                    Scanned::More => Poll::Ready(Ok(())),
                    Scanned::Done => {
                        st.deadline = None;
                        self.timer = None;
                        conn.set_phase(Phase::Body);
                        Poll::Ready(Ok(()))
                    }
                    Scanned::Cut(why) => {
                        buf.set_filled(before);
                        Poll::Ready(Err(self.cut(cx, &mut st, why)))
                    }
                }
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                let Some(deadline) = st.deadline else {
                    return Poll::Pending;
                };
                let timer = self
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.deadline() != deadline {
                    timer.as_mut().reset(deadline);
                }
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(self.cut(cx, &mut st, Cutoff::HeaderTimeout))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

use std::future::Future as _;

impl AsyncRead for GuardedStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.conn.phase() {
            Phase::Body => this.poll_inner(cx, buf),
            Phase::Idle | Phase::Header => this.poll_read_header(cx, buf),
            Phase::Failed => Poll::Ready(Err(io::Error::new(io::ErrorKind::ConnectionAborted, "client cut off"))),
        }
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.conn.sniff(buf);
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
            this.conn.sniff(first);
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[async_trait]
impl Shutdown for GuardedStream {
    async fn shutdown(&mut self) {
        if !self.reply.is_empty() {
            let (inner, reply) = (&mut self.inner, self.reply);
            let _ = tokio::time::timeout(LINGER, async move {
                inner.write_all(reply).await?;
                inner.flush().await
            })
            .await;
            self.reply = &[];
        }
        Shutdown::shutdown(&mut *self.inner).await;
        if self.replied {
            linger(&mut self.inner).await;
        }
    }
}

/// Reads and discards what the client still sends (bounded), so that the
/// close that follows is a FIN the client can read our answer before,
/// not a reset that may destroy it.
async fn linger(stream: &mut Stream) {
    let _ = tokio::time::timeout(LINGER, async {
        let mut buf = [0u8; 4096];
        let mut total = 0;
        while total < LINGER_BYTES {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    })
    .await;
}

impl UniqueID for GuardedStream {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for GuardedStream {
    fn get_ssl_digest(&self) -> Option<Arc<SslDigest>> {
        self.inner.get_ssl_digest()
    }

    fn selected_alpn_proto(&self) -> Option<ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for GuardedStream {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.inner.get_timing_digest()
    }

    fn get_read_pending_time(&self) -> Duration {
        self.inner.get_read_pending_time()
    }

    fn get_write_pending_time(&self) -> Duration {
        self.inner.get_write_pending_time()
    }
}

impl GetProxyDigest for GuardedStream {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.inner.get_proxy_digest()
    }
}

impl GetSocketDigest for GuardedStream {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }
}

#[async_trait]
impl Peek for GuardedStream {
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        if self.prefix_at < self.prefix.len() {
            // (Pingora's h2c check, after ours: the preface is here.)
            let rest = &self.prefix[self.prefix_at..];
            if rest.len() < buf.len() {
                return Ok(false);
            }
            buf.copy_from_slice(&rest[..buf.len()]);
            return Ok(true);
        }
        self.inner.try_peek(buf).await
    }
}

/// A listening service: Pingora's HTTP/1 server loop for `app` with the
/// client limits applied (and, on a TLS listener, the handshake first and
/// HTTP/2 when the client picks it by ALPN). `name` (`proxy` or `admin`)
/// labels metrics and log lines.
pub struct Listener<A> {
    app: Arc<A>,
    state: Arc<AppState>,
    name: &'static str,
    /// The proxy listener: pipelining on, and the proxy's phases report
    /// each request they see ([`Conn::request_complete`]).
    proxy: bool,
    /// Connections open; the plain and TLS proxy listeners share one count.
    open: Arc<AtomicUsize>,
    /// A TLS listener's acceptor (certificates from `AppState::certificates`).
    tls: Option<Arc<Acceptor>>,
}

impl<A> Listener<A> {
    /// The proxy listener around Pingora's `HttpProxy`.
    pub fn proxy(app: A, state: Arc<AppState>) -> Listener<A> {
        Listener {
            app: Arc::new(app),
            state,
            name: "proxy",
            proxy: true,
            open: Arc::new(AtomicUsize::new(0)),
            tls: None,
        }
    }

    /// The TLS proxy listener: the same limits as this (plain) one, and
    /// `max_connections` counts both.
    pub fn tls_twin(&self, app: A, acceptor: Acceptor) -> Listener<A> {
        Listener {
            app: Arc::new(app),
            state: self.state.clone(),
            name: self.name,
            proxy: self.proxy,
            open: self.open.clone(),
            tls: Some(Arc::new(acceptor)),
        }
    }

    /// The admin listener.
    pub fn admin(app: A, state: Arc<AppState>) -> Listener<A> {
        Listener {
            app: Arc::new(app),
            state,
            name: "admin",
            proxy: false,
            open: Arc::new(AtomicUsize::new(0)),
            tls: None,
        }
    }
}

/// The TLS handshake of a new connection, within what is left of the
/// first request's header deadline. `None`: the client was cut off (or
/// failed the handshake), counted and logged.
async fn tls_handshake(
    acceptor: &Acceptor,
    stream: Stream,
    deadline: Instant,
    listener: &str,
    peer: Option<&SocketAddr>,
) -> Option<Stream> {
    let peer = || peer.map_or_else(|| "-".to_string(), ToString::to_string);
    // Pingora hands a TCP listener's connections over as its L4 stream.
    let l4 = match stream.into_any().downcast::<L4Stream>() {
        Ok(l4) => *l4,
        Err(_) => {
            log::error!("{listener} client {}: not a TCP stream; TLS refused", peer());
            return None;
        }
    };
    match tokio::time::timeout_at(deadline, acceptor.tls_handshake(l4)).await {
        Ok(Ok(tls)) => Some(Box::new(tls)),
        Ok(Err(e)) => {
            metrics().client_error(listener, "tls_handshake");
            log::debug!("{listener} client {}: TLS handshake failed: {e}", peer());
            None
        }
        Err(_) => {
            metrics().client_error(listener, "tls_handshake_timeout");
            log::warn!(
                "{listener} client {}: TLS handshake not complete within header_read_timeout_s; closed",
                peer()
            );
            None
        }
    }
}

/// Pingora's HTTP/2 server for one client connection, with our limits:
/// `SETTINGS_MAX_HEADER_LIST_SIZE` = `max_header_bytes`, at most
/// [`H2_MAX_CONCURRENT_STREAMS`] streams, the connection closed after
/// `keepalive_timeout_s` without a stream, and each stream's response
/// writes bounded by `send_timeout_s`. Every stream is one
/// `process_new_http` of the proxy app, as Pingora's own server does.
struct H2Front<A> {
    app: Arc<A>,
    options: HttpServerOptions,
    h2: H2Options,
    send_timeout: Duration,
}

impl<A> H2Front<A> {
    fn new(app: Arc<A>, limits: &ClientLimits) -> H2Front<A> {
        let mut h2 = default_h2_options();
        h2.max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
            .max_concurrent_streams(H2_MAX_CONCURRENT_STREAMS);
        let mut options = HttpServerOptions::default();
        let idle = limits
            .keepalive()
            .unwrap_or(limits.header_read_timeout.as_secs().max(1));
        options.h2_idle_timeout = Some(Duration::from_secs(idle));
        H2Front {
            app,
            options,
            h2,
            send_timeout: limits.send_timeout,
        }
    }
}

#[async_trait]
impl<A> HttpServerApp for H2Front<A>
where
    A: HttpServerApp + Send + Sync + 'static,
{
    async fn process_new_http(
        self: &Arc<Self>,
        mut session: ServerSession,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        session.set_write_timeout(Some(self.send_timeout));
        self.app.process_new_http(session, shutdown).await
    }

    fn h2_options(&self) -> Option<H2Options> {
        Some(self.h2.clone())
    }

    fn server_options(&self) -> Option<&HttpServerOptions> {
        Some(&self.options)
    }

    async fn http_cleanup(&self) {}
}

/// One open connection, counted while it lives.
struct Open<'a> {
    count: &'a AtomicUsize,
    gauge: prometheus::IntGauge,
    now: usize,
}

impl<'a> Open<'a> {
    fn new(count: &'a AtomicUsize, listener: &str) -> Open<'a> {
        let now = count.fetch_add(1, Ordering::AcqRel) + 1;
        let gauge = metrics().client_connections.with_label_values(&[listener]);
        gauge.inc();
        Open { count, gauge, now }
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
        self.gauge.dec();
    }
}

/// The HTTP/2 connection preface (RFC 9113 §3.4).
const H2_PREFACE: &[u8; H2_PREFACE_LEN] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Reads the client's first bytes into `read` until they are the whole
/// HTTP/2 preface (true) or cannot be (false: an HTTP/1 request, or the
/// connection closed); never reads past the preface. An HTTP/1 request
/// differs from it at its first byte or soon after.
async fn read_preface(stream: &mut Stream, read: &mut Vec<u8>) -> io::Result<bool> {
    let mut buf = [0u8; H2_PREFACE_LEN];
    loop {
        let at = read.len();
        let n = stream.read(&mut buf[at..]).await?;
        read.extend_from_slice(&buf[at..at + n]);
        if n == 0 || read[..] != H2_PREFACE[..read.len()] {
            return Ok(false);
        }
        if read.len() == H2_PREFACE_LEN {
            return Ok(true);
        }
    }
}

/// Logs at most one line a second about refused connections.
fn log_refusal(listener: &str, open: usize, max: usize) {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if LAST.swap(now, Ordering::Relaxed) != now {
        log::warn!(
            "{listener}: {open} connections open, max_connections is {max}: refusing new ones with 503 \
             (at most one such line a second; isoproxy_client_errors_total counts them all)"
        );
    }
}

#[async_trait]
impl<A> ServerApp for Listener<A>
where
    A: HttpServerApp + Send + Sync + 'static,
{
    async fn process_new(self: &Arc<Self>, mut stream: Stream, shutdown: &ShutdownWatch) -> Option<Stream> {
        let accepted = Instant::now();
        let limits = self.state.client_limits.load_full();
        let open = Open::new(&self.open, self.name);
        if open.now > limits.max_connections {
            metrics().client_error(self.name, "connection_limit");
            log_refusal(self.name, open.now - 1, limits.max_connections);
            // A TLS client could not read a plain-text answer (and a
            // handshake is the work the cap is there to refuse): just close.
            if self.tls.is_some() {
                Shutdown::shutdown(&mut *stream).await;
                return None;
            }
            let _ = tokio::time::timeout(LINGER, async {
                stream.write_all(REFUSED).await?;
                stream.flush().await
            })
            .await;
            Shutdown::shutdown(&mut *stream).await;
            linger(&mut stream).await;
            return None;
        }
        let peer: Option<SocketAddr> = stream.get_socket_digest().and_then(|d| d.peer_addr().cloned());
        if let Some(acceptor) = &self.tls {
            let deadline = accepted + limits.header_read_timeout;
            stream = tls_handshake(acceptor, stream, deadline, self.name, peer.as_ref()).await?;
        }
        let conn = Arc::new(Conn::new(&limits, accepted));
        // h2c: a plain connection that opens with the HTTP/2 preface.
        let mut prefix = Vec::new();
        let mut h2c = false;
        if self.proxy && self.tls.is_none() && limits.h2c {
            let deadline = accepted + limits.header_read_timeout;
            match tokio::time::timeout_at(deadline, read_preface(&mut stream, &mut prefix)).await {
                Ok(Ok(is_h2)) => h2c = is_h2,
                Ok(Err(e)) => {
                    log::debug!("{} client: read error before a request: {e}", self.name);
                    return None;
                }
                Err(_) => {
                    // As a header that never completes (a connection that
                    // sent nothing just closes, as browsers' spare ones do).
                    if !prefix.is_empty() {
                        metrics().client_error(self.name, Cutoff::HeaderTimeout.kind());
                    }
                    return None;
                }
            }
        }
        if h2c || matches!(stream.selected_alpn_proto(), Some(ALPN::H2)) {
            conn.begin_h2(&limits);
            let mut front = H2Front::new(self.app.clone(), &limits);
            front.options.h2c = h2c;
            let front = Arc::new(front);
            let guarded: Stream = Box::new(GuardedStream::new(stream, conn.clone()).with_prefix(prefix));
            // Pingora's own server: h2 handshake, one task per stream.
            ServerApp::process_new(&front, guarded, shutdown).await;
            self.account(&conn, peer.as_ref(), &limits);
            drop(open);
            return None;
        }
        let mut next: Option<(Stream, Option<HttpPersistentSettings>)> = Some((
            Box::new(GuardedStream::new(stream, conn.clone()).with_prefix(prefix)),
            None,
        ));
        let mut first = true;
        while let Some((stream, persistent)) = next.take() {
            let limits = if first {
                limits.clone()
            } else {
                self.state.client_limits.load_full()
            };
            let mut session = ServerSession::new_http1(stream);
            match persistent {
                Some(p) => p.apply_to_session(&mut session),
                None => session.set_keepalive(limits.keepalive()),
            }
            if *shutdown.borrow() {
                session.set_keepalive(None);
            }
            session.set_read_timeout(Some(limits.body_idle_timeout));
            session.set_write_timeout(Some(limits.send_timeout));
            if self.proxy {
                session.set_pipelining_enabled(true);
                session.set_connection_user_context(Some(Box::new(conn.clone())));
            }
            conn.begin_session(first, &limits);
            first = false;
            let result = self.app.process_new_http(session, shutdown).await;
            self.account(&conn, peer.as_ref(), &limits);
            next = result.map(|r| r.consume());
        }
        drop(open);
        None
    }

    async fn cleanup(&self) {
        self.app.http_cleanup().await;
    }
}

/// A client's address in a log line, `-` when unknown.
struct PeerAddr<'a>(Option<&'a SocketAddr>);

impl std::fmt::Display for PeerAddr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(addr) => addr.fmt(f),
            None => f.write_str("-"),
        }
    }
}

impl<A> Listener<A> {
    /// Counts and logs how a session ended when it ended early.
    fn account(&self, conn: &Conn, peer: Option<&SocketAddr>, limits: &ClientLimits) {
        let end = conn.end();
        // Formatted only into a line that is written (this runs after every
        // session, nearly always to log nothing).
        let peer = PeerAddr(peer);
        match end.cutoff {
            Some(why) if end.got_bytes => {
                metrics().client_error(self.name, why.kind());
                let detail = match why {
                    Cutoff::HeaderTimeout => format!(
                        "request header not complete after {}s (header_read_timeout_s)",
                        limits.header_read_timeout.as_secs()
                    ),
                    Cutoff::HeaderTooLarge => {
                        format!(
                            "request header over {} bytes (max_header_bytes)",
                            limits.max_header_bytes
                        )
                    }
                    Cutoff::TooManyHeaders => {
                        format!("more than {} header fields (max_header_count)", limits.max_header_count)
                    }
                };
                log::warn!("{} client {peer}: {detail}; answered and closed", self.name);
            }
            Some(_) => log::debug!("{} client {peer}: sent nothing in time; closed", self.name),
            None if self.proxy && !end.reached_app => {
                if let Some(status) = end.status {
                    metrics().request("-", "-", "bad_request", status, None);
                    log::warn!(
                        "{} client {peer}: malformed request refused by the HTTP parser with {status}",
                        self.name
                    );
                }
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(chunks: &[&[u8]], max_bytes: usize, max_fields: usize) -> (&'static str, usize) {
        let mut s = HeaderScan::default();
        for c in chunks {
            match s.feed(c, max_bytes, max_fields) {
                Scanned::More => {}
                Scanned::Done => return ("done", s.bytes),
                Scanned::Cut(Cutoff::HeaderTooLarge) => return ("large", s.bytes),
                Scanned::Cut(Cutoff::TooManyHeaders) => return ("many", s.bytes),
                Scanned::Cut(Cutoff::HeaderTimeout) => unreachable!(),
            }
        }
        ("more", s.bytes)
    }

    #[test]
    fn header_scan_finds_the_end_and_counts() {
        let req = b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\nBODY";
        assert_eq!(scan(&[req], 1000, 10), ("done", req.len() - 4));
        // Byte by byte, bare LF, leading empty lines.
        let chunks: Vec<&[u8]> = req.chunks(1).collect();
        assert_eq!(scan(&chunks, 1000, 10), ("done", req.len() - 4));
        assert_eq!(scan(&[b"GET / HTTP/1.1\nHost: a\n\nX"], 1000, 10).0, "done");
        assert_eq!(
            scan(&[b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"], 1000, 10).0,
            "done"
        );
        assert_eq!(scan(&[b"GET / HTTP/1.1\r\nHost: a\r\n"], 1000, 10).0, "more");
        // Limits.
        assert_eq!(scan(&[req], 20, 10).0, "large");
        assert_eq!(scan(&[req], req.len() - 4, 10).0, "done");
        assert_eq!(scan(&[req], req.len() - 5, 10).0, "large");
        assert_eq!(scan(&[req], 1000, 1).0, "many");
        assert_eq!(scan(&[req], 1000, 2).0, "done");
    }
}
