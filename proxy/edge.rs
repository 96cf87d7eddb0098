//! The downstream side: Pingora's `ProxyHttp` phases. `request_filter` picks
//! the route from one snapshot of the deployment; plain routes continue
//! through Pingora's upstream phases to their origin, worker routes are
//! served here: the request goes to the worker's isolate and the answer is
//! written back, bodies streamed both ways.

use std::any::Any;
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderValue, header};
use pingora::connectors::http::Connector;
use pingora::prelude::*;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora_http::ResponseHeader;
use pingora_http::authority::{RawTargetAuthority, raw_target_authority};
use plugin_runtime::{
    Body, BodyError, BodyWriter, ClientInfo, DispatchError, Outcome, RequestHead, Runtime, WebSocketEnd,
    linked_body_channel,
};

use crate::authority::Authority;
use crate::config::{AdminToken, ServerConfig};
use crate::deployment::{Deployment, Route};
use crate::downstream::{ClientLimits, Conn, Cutoff};
use crate::forwarded::{Forwarded, TrustedProxies};
use crate::hops::{Hop, Outgoing};
use crate::metrics::{AccessEntry, access_log, metrics};
use crate::origin::{OriginFetcher, strip_hop_by_hop};
use crate::websocket::UpgradedConnection;

/// What every request shares: the live deployment and the V8 runtime.
pub struct AppState {
    /// The deployment new requests use; swapped whole on reload.
    pub deployment: ArcSwap<Deployment>,
    /// The isolate threads.
    pub runtime: Runtime,
    /// Pingora's connector for subrequests (and its connection pool).
    pub connector: Arc<Connector>,
    /// Scheduled-run counters.
    pub scheduled: crate::scheduler::ScheduledStats,
    /// `[server]`'s limits on clients (live: a reload stores new ones).
    pub client_limits: ArcSwap<ClientLimits>,
    /// `[server] admin_token` (live).
    pub admin_token: ArcSwap<Option<AdminToken>>,
    /// `[[server.certificates]]` (live), read by the TLS listeners' handshakes.
    pub certificates: Arc<ArcSwap<crate::tls::CertStore>>,
    /// `[server] trusted_proxies` (live).
    pub trusted_proxies: ArcSwap<TrustedProxies>,
    /// `[cluster]`: where cron leases are taken (restart-only).
    pub cluster: Option<crate::fleet::Cluster>,
}

impl AppState {
    /// Applies the `[server]` settings that a reload may change.
    pub fn apply_server_config(&self, server: &ServerConfig) {
        self.client_limits.store(Arc::new(ClientLimits::from_config(server)));
        self.admin_token.store(Arc::new(server.admin_token.clone()));
        let certs: Vec<_> = server.certificates.iter().filter_map(|c| c.loaded.clone()).collect();
        self.certificates.store(Arc::new(crate::tls::CertStore::new(&certs)));
        crate::metrics::set_access_log(server.access_log);
        crate::logging::set_format(server.log_format);
        // Validated with the config: an entry cannot fail here.
        self.trusted_proxies.store(Arc::new(
            TrustedProxies::parse(&server.trusted_proxies).unwrap_or_default(),
        ));
    }
}

/// The proxy service.
pub struct Edge {
    /// Shared state.
    pub state: Arc<AppState>,
}

/// Per-request state across Pingora's phases.
pub struct RequestCtx {
    /// The deployment this request started on; it finishes on it.
    deployment: Option<Arc<Deployment>>,
    /// The plain-proxy route, when the request goes through Pingora's upstream phases.
    route: Option<Arc<Route>>,
    /// When the request (head) arrived.
    started: Instant,
    /// The matched route pattern (`-` when none), for metrics.
    route_pattern: String,
    /// The worker that served it, if any.
    worker: Option<String>,
    /// How it ended (see [`crate::metrics::Metrics::request`]), once known.
    outcome: Option<&'static str>,
    /// The JS CPU time it used, when it ran a worker.
    cpu: Option<Duration>,
    /// Its place in a chain of requests through this proxy (loop protection).
    hop: Hop,
    /// The request's host as routed (`-` until known or when invalid).
    host: String,
    /// The client connection's shared state (see `downstream.rs`).
    conn: Option<Arc<Conn>>,
    /// What origins are told about the client (once routed).
    forwarded: Option<Arc<Forwarded>>,
}

/// What a request is for: the authority routing and `request.url` both
/// use, and the path with its query string (Workers route patterns match
/// both).
struct Target<'a> {
    authority: Authority,
    path: Cow<'a, str>,
}

/// Reads the request's target once (see `authority.rs` for the accepted
/// forms). An absolute-form target (`GET http://host/path HTTP/1.1`)
/// names the authority, as RFC 9112 §3.2.2 says, and Pingora has already
/// refused one whose `Host` differs; otherwise `Host` does. An HTTP/1.1
/// request still needs exactly one valid `Host` either way (RFC 9112 §3.2).
fn request_target(req: &pingora_http::RequestHeader) -> Result<Target<'_>, String> {
    let mut hosts = req.headers.get_all(header::HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return Err("more than one Host header".into());
    }
    let host = match host {
        Some(h) => Some(Authority::parse(h.as_bytes()).map_err(|e| format!("invalid Host header: {e}"))?),
        None if req.version == http::Version::HTTP_11 => return Err("HTTP/1.1 request without a Host header".into()),
        // HTTP/2 names it in `:authority` (RFC 9113 §8.3.1), which Pingora keeps in the URI.
        None if req.version == http::Version::HTTP_2 => match req.uri.authority() {
            Some(a) => Some(Authority::parse(a.as_str().as_bytes()).map_err(|e| format!("invalid :authority: {e}"))?),
            None => None,
        },
        None => None,
    };
    match raw_target_authority(req.raw_path()) {
        RawTargetAuthority::Absolute { scheme, authority, .. } => {
            if !scheme.eq_ignore_ascii_case(b"http") && !scheme.eq_ignore_ascii_case(b"https") {
                return Err(format!(
                    "unsupported scheme in the request target: {:?}",
                    String::from_utf8_lossy(scheme)
                ));
            }
            let authority =
                Authority::parse(authority).map_err(|e| format!("invalid authority in the request target: {e}"))?;
            // Pingora keeps only the target's path and query in `uri`.
            let pq = req.uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
            let path = match pq.as_bytes().first() {
                Some(b'/') => Cow::Borrowed(pq),
                None | Some(b'?') => Cow::Owned(format!("/{pq}")),
                Some(_) => return Err("the request target's path must start with /".into()),
            };
            return Ok(Target { authority, path });
        }
        RawTargetAuthority::AmbiguousAuthority => return Err("ambiguous request target".into()),
        RawTargetAuthority::None => {}
    }
    let path = req.uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
    if !req.raw_path().starts_with(b"/") || !path.starts_with('/') {
        return Err("the request target must be a path (origin-form) or an absolute http:// URL".into());
    }
    let authority = host.ok_or_else(|| "no Host header and no absolute-form request target".to_string())?;
    Ok(Target {
        authority,
        path: Cow::Borrowed(path),
    })
}

/// Whether a parsed request header is over `max_header_count`, or over
/// `max_header_bytes` even written as tightly as HTTP/1.1 allows (so a
/// header the byte scan accepted is never refused here).
fn header_over_limits(req: &pingora_http::RequestHeader, limits: &ClientLimits) -> Option<Cutoff> {
    if req.headers.len() > limits.max_header_count {
        return Some(Cutoff::TooManyHeaders);
    }
    // `GET /p HTTP/1.1\n`, `name:value\n` each, and the empty line.
    let line = req.method.as_str().len() + req.raw_path().len() + 11;
    let fields: usize = req.headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 2).sum();
    (line + fields + 1 > limits.max_header_bytes).then_some(Cutoff::HeaderTooLarge)
}

/// Why a worker request failed, as the metric outcome, the status the
/// client gets and its short body: one classification for both.
fn classify(e: &DispatchError) -> (&'static str, u16, &'static str) {
    use plugin_runtime::FetchError;
    match e {
        // workerd's answer, byte for byte (and, as there, no Content-Type).
        DispatchError::Exception(_) | DispatchError::Startup(_) => ("exception", 500, WORKER_EXCEPTION),
        DispatchError::CpuLimit => (
            "cpu_limit",
            503,
            "Service Unavailable: worker exceeded CPU time limit.\n",
        ),
        DispatchError::MemoryLimit => (
            "memory_limit",
            503,
            "Service Unavailable: worker exceeded memory limit.\n",
        ),
        DispatchError::Overloaded { .. } => ("unavailable", 503, OVERLOADED),
        DispatchError::Unavailable => (
            "unavailable",
            503,
            "Service Unavailable: the worker is not available.\n",
        ),
        DispatchError::TimedOut => (
            "timeout",
            504,
            "Gateway Timeout: the worker did not start its response in time.\n",
        ),
        DispatchError::Origin(FetchError::Timeout(_)) => ("timeout", 504, ORIGIN_TIMEOUT),
        DispatchError::Origin(_) => ("origin_error", 502, ORIGIN_UNREACHABLE),
        _ => ("exception", 500, "Internal Server Error\n"),
    }
}

const WORKER_EXCEPTION: &str = "Internal Server Error";
const ORIGIN_UNREACHABLE: &str = "Bad Gateway: the origin could not be reached.\n";
const ORIGIN_TIMEOUT: &str = "Gateway Timeout: the origin did not answer in time.\n";
const OVERLOADED: &str = "Service Unavailable: the worker is overloaded; retry later.\n";
const BODY_TIMEOUT: &str = "Request Timeout: the request body stalled.\n";

/// A worker's response head holding `headers` as they are: no copy and no
/// case map (Pingora title-cases the standard names on the wire from the
/// names themselves, as it would from a case map built from them).
fn response_head(status: u16, mut headers: http::HeaderMap) -> Result<ResponseHeader> {
    // At most one growth of the map's tables here instead of one for each
    // field Pingora and we add as they go in.
    headers.reserve(plugin_runtime::ADDED_ON_THE_WIRE);
    let (mut parts, ()) = http::Response::new(()).into_parts();
    parts.status = http::StatusCode::from_u16(status)
        .map_err(|e| Error::because(ErrorType::InternalError, "worker response status", e))?;
    parts.headers = headers;
    Ok(ResponseHeader::from(parts))
}

/// The client's address, for log lines.
fn client_addr(session: &Session) -> String {
    session
        .client_addr()
        .map_or_else(|| "-".to_string(), ToString::to_string)
}

/// The client stopped reading its response for `send_timeout_s` (a write
/// to it did not finish): counted and logged; the connection closes.
fn send_stalled(session: &Session) {
    crate::metrics::metrics().client_error("proxy", "send_timeout");
    log::warn!(
        "client {}: stopped reading its response (send_timeout_s); cut off",
        client_addr(session)
    );
}

/// The client stopped sending its request body for `body_idle_timeout_s`:
/// counted, logged, and the connection is not reused.
pub(crate) fn body_stalled(session: &mut Session) {
    crate::metrics::metrics().client_error("proxy", "body_timeout");
    let idle = session.get_read_timeout().map_or(0, |d| d.as_secs());
    log::warn!(
        "client {}: request body stalled for {idle}s (body_idle_timeout_s); cut off",
        client_addr(session)
    );
    session.set_keepalive(None);
}

/// A worker request refused because its isolate thread's queue is full:
/// counted, logged at most once a second, answered 503 with `Retry-After`.
async fn respond_overloaded(session: &mut Session, worker: &str, e: &DispatchError) -> Result<()> {
    static LAST: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    metrics().overloaded.with_label_values(&[worker]).inc();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if LAST.swap(now, Ordering::Relaxed) != now {
        log::warn!(
            "worker {worker}: {e}; refusing with 503 (at most one such line a second; \
             isoproxy_overloaded_total counts them all)"
        );
    }
    let mut resp = ResponseHeader::build(503, Some(4))?;
    resp.insert_header(header::RETRY_AFTER, "1")?;
    write_text(session, resp, OVERLOADED).await
}

/// Writes a short plain-text answer.
async fn respond_text(session: &mut Session, status: u16, body: &str) -> Result<()> {
    write_text(session, ResponseHeader::build(status, Some(3))?, body).await
}

/// Writes `resp` with a short plain-text body.
async fn write_text(session: &mut Session, mut resp: ResponseHeader, body: &str) -> Result<()> {
    if body != WORKER_EXCEPTION {
        resp.insert_header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")?;
    }
    resp.insert_header(header::CONTENT_LENGTH, body.len().to_string())?;
    let is_head = session.req_header().method == http::Method::HEAD;
    session.write_response_header(Box::new(resp), is_head).await?;
    if !is_head {
        session
            .write_response_body(Some(Bytes::copy_from_slice(body.as_bytes())), true)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl ProxyHttp for Edge {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx {
            deployment: None,
            route: None,
            started: Instant::now(),
            route_pattern: "-".to_string(),
            worker: None,
            outcome: None,
            cpu: None,
            hop: Hop::default(),
            host: "-".to_string(),
            conn: None,
            forwarded: None,
        }
    }

    /// Pingora calls this right after it parsed the request header when
    /// the connection carries a context, which `downstream.rs` always sets:
    /// the header is complete, its deadline stops.
    fn on_connection_reuse(&self, _session: &mut Session, ctx: &mut RequestCtx, prev: Box<dyn Any + Send + Sync>) {
        if let Ok(conn) = prev.downcast::<Arc<Conn>>() {
            conn.request_complete();
            ctx.conn = Some(*conn);
        }
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
        // `downstream.rs` cut off over-limit headers as they arrived, but not
        // one that came pipelined behind the previous request, nor an HTTP/2
        // one (whose size h2 bounds; the field count is checked here).
        if let Some(why) = header_over_limits(session.req_header(), &self.state.client_limits.load()) {
            ctx.outcome = Some("bad_request");
            crate::metrics::metrics().client_error("proxy", why.kind());
            log::warn!(
                "proxy client {}: request (pipelined or HTTP/2) {why:?}; answered and closed",
                client_addr(session)
            );
            session.set_keepalive(None);
            respond_text(session, 431, "Request Header Fields Too Large\n").await?;
            return Ok(true);
        }
        // Our loop header is trusted only as we wrote it; no copy goes further.
        ctx.hop = Hop::take(session.req_header_mut());
        if ctx.hop.exhausted() {
            return loop_detected(session, ctx).await;
        }
        let target = match request_target(session.req_header()) {
            Ok(t) => t,
            Err(reason) => {
                ctx.outcome = Some("bad_request");
                log::warn!("bad request from {}: {reason}", client_addr(session));
                // The client and we disagree about the message: do not reuse the connection.
                session.set_keepalive(None);
                respond_text(session, 400, &format!("Bad Request: {reason}\n")).await?;
                return Ok(true);
            }
        };
        let Target { authority, path } = target;
        let path = path.into_owned();
        ctx.host = authority.host().to_string();
        let deployment = self.state.deployment.load_full();
        let Some((pattern, route)) = deployment.router.find_route(authority.host(), &path) else {
            ctx.outcome = Some("no_route");
            respond_text(session, 404, &format!("No route for host \"{}\".\n", authority.host())).await?;
            return Ok(true);
        };
        ctx.route_pattern = pattern.as_str().to_string();
        ctx.forwarded = Some(Arc::new(forwarded(
            session,
            &authority,
            &self.state.trusted_proxies.load(),
        )));
        let route = route.clone();
        ctx.deployment = Some(deployment);
        match route.worker.clone() {
            None => {
                ctx.route = Some(route);
                Ok(false)
            }
            Some(worker) => {
                ctx.worker = Some(worker.name().to_string());
                // Boxed (in place): this future is about 20 KB, and inline
                // it would make every request's `request_filter` future
                // that large, which Pingora boxes (a copy) per request.
                crate::pass::boxed_in_place(|| self.serve_worker(session, ctx, &route, &worker, &authority, &path))
                    .await?;
                Ok(true)
            }
        }
    }

    async fn upstream_peer(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<Box<HttpPeer>> {
        let Some(origin) = ctx.route.as_ref().and_then(|r| r.origin.clone()) else {
            return Err(Error::explain(ErrorType::InternalError, "route has no origin"));
        };
        match origin.peer().await {
            Ok(mut peer) => {
                // An upgrade request (WebSocket) may become a long-lived
                // tunnel: the origin may stay silent for the upgraded-connection
                // idle timeout, not just the response timeout.
                if session.is_upgrade_req() {
                    peer.options.read_timeout = Some(self.state.client_limits.load().websocket_idle_timeout);
                }
                Ok(Box::new(peer))
            }
            Err(e) => Err(Error::explain(ErrorType::ConnectNoRoute, e.to_string()).into_up()),
        }
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        upstream_request: &mut pingora_http::RequestHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        let budget = ctx.deployment.as_ref().map_or(0, |d| d.subrequests);
        upstream_request.insert_header(crate::hops::HEADER, ctx.hop.forward(budget))?;
        // After Pingora removed the hop-by-hop fields and those the client's
        // `Connection` named (it refuses a request naming Host or an
        // X-Forwarded-* field with 400), so nothing removes these.
        if let Some(fwd) = &ctx.forwarded {
            fwd.apply_to_request(upstream_request, true)?;
        }
        Ok(())
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        upstream_response: &mut ResponseHeader,
        _ctx: &mut RequestCtx,
    ) -> Result<()> {
        // A protocol switch (WebSocket): from now on the client's side of the
        // tunnel is read with the upgraded-connection idle timeout, not the
        // request-body one (the origin's side got it in `upstream_peer`).
        if upstream_response.status == http::StatusCode::SWITCHING_PROTOCOLS && session.is_upgrade_req() {
            let idle = self.state.client_limits.load().websocket_idle_timeout;
            session.set_read_timeout(Some(idle));
        }
        Ok(())
    }

    async fn fail_to_proxy(&self, session: &mut Session, e: &Error, ctx: &mut RequestCtx) -> FailToProxy {
        let code = match (e.esource(), e.etype()) {
            (_, ErrorType::HTTPStatus(code)) => *code,
            (
                ErrorSource::Upstream,
                ErrorType::ConnectTimedout | ErrorType::ReadTimedout | ErrorType::WriteTimedout,
            ) => 504,
            (ErrorSource::Upstream, _) => 502,
            (ErrorSource::Downstream, ErrorType::WriteError | ErrorType::ReadError | ErrorType::ConnectionClosed) => 0,
            // The client stopped reading its response (`send_timeout_s`).
            (ErrorSource::Downstream, ErrorType::WriteTimedout) => {
                send_stalled(session);
                0
            }
            // The request body stalled (`body_idle_timeout_s`).
            (ErrorSource::Downstream, ErrorType::ReadTimedout) => {
                body_stalled(session);
                408
            }
            (ErrorSource::Downstream, _) => 400,
            _ => 500,
        };
        // A plain route's origin failed (a worker's failures are counted
        // where its subrequests run).
        if ctx.outcome.is_none() && ctx.route.is_some() && e.esource() == &ErrorSource::Upstream {
            let kind = match e.etype() {
                ErrorType::ConnectTimedout | ErrorType::ReadTimedout | ErrorType::WriteTimedout => "timeout",
                ErrorType::ConnectNoRoute
                | ErrorType::ConnectRefused
                | ErrorType::ConnectError
                | ErrorType::TLSHandshakeFailure => "connect",
                _ => "network",
            };
            metrics().origin_error(kind);
            ctx.outcome = Some(if kind == "timeout" { "timeout" } else { "origin_error" });
        }
        if code > 0 {
            log::warn!("{} {}: {e}", session.req_header().method, session.req_header().uri);
        }
        // Once a response has started, an error only cuts it short: its
        // body must not grow an error text.
        if code > 0 && session.response_written().is_none() {
            let reason = match code {
                502 => ORIGIN_UNREACHABLE,
                504 => ORIGIN_TIMEOUT,
                400 => "Bad Request\n",
                408 => BODY_TIMEOUT,
                _ => "Internal Server Error\n",
            };
            let _ = respond_text(session, code, reason).await;
        }
        FailToProxy {
            error_code: code,
            can_reuse_downstream: false,
        }
    }

    async fn logging(&self, session: &mut Session, e: Option<&Error>, ctx: &mut RequestCtx) {
        let status = session.response_written().map(|r| r.status.as_u16()).unwrap_or(0);
        let outcome = match ctx.outcome {
            Some(o) => o,
            None if ctx.route.is_some() => "proxied",
            None if e.is_some() => "error",
            None => "-",
        };
        let worker = ctx.worker.as_deref().unwrap_or("-");
        metrics().request(worker, &ctx.route_pattern, outcome, status, ctx.cpu);
        let req = session.req_header();
        let path = req.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        access_log(&AccessEntry {
            method: req.method.as_str(),
            host: &ctx.host,
            path,
            status,
            worker,
            outcome,
            duration: ctx.started.elapsed(),
            cpu: ctx.cpu,
            bytes: session.body_bytes_sent(),
        });
    }
}

/// 508 for a request that has passed through this proxy too many times.
async fn loop_detected(session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
    ctx.outcome = Some("loop");
    let req = session.req_header();
    log::warn!(
        "{} {}: loop detected: the request has passed through isoproxy {} times",
        req.method,
        req.uri,
        ctx.hop.depth
    );
    let body = format!(
        "Loop Detected: the request passed through this proxy {} times (the limit).\n",
        crate::hops::MAX_DEPTH
    );
    respond_text(session, 508, &body).await?;
    Ok(true)
}

/// `path` with every byte of a non-ASCII character as `%XX`, the rest as
/// it is (the URL standard's encoding of what a URL cannot hold).
fn encode_non_ascii(path: &str) -> Cow<'_, str> {
    if path.is_ascii() {
        return Cow::Borrowed(path);
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(path.len() + 16);
    for c in path.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
    Cow::Owned(out)
}

/// The forwarding headers for a routed request (see `forwarded.rs`).
fn forwarded(session: &Session, authority: &Authority, trusted: &TrustedProxies) -> Forwarded {
    let peer = session.client_addr().and_then(|a| a.as_inet()).map(|a| a.ip());
    let tls = session.digest().is_some_and(|d| d.ssl_digest.is_some());
    Forwarded::compute(
        &session.req_header().headers,
        peer,
        tls,
        &authority.to_string(),
        trusted,
    )
}

/// `request.cf`'s view of the client connection.
fn client_info(session: &Session) -> ClientInfo {
    let http_protocol = match session.req_header().version {
        http::Version::HTTP_09 => "HTTP/0.9",
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_2 => "HTTP/2",
        http::Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    };
    let tls = session.digest().and_then(|d| d.ssl_digest.clone());
    ClientInfo {
        addr: session.client_addr().and_then(|a| a.as_inet()).map(|a| a.ip()),
        http_protocol: http_protocol.to_string(),
        tls_version: tls.as_ref().map(|t| crate::tls::cf_tls_version(&t.version)),
        tls_cipher: tls.as_ref().map(|t| crate::tls::cf_tls_cipher(&t.cipher)),
    }
}

impl Edge {
    /// Runs the worker for this request and writes its answer.
    async fn serve_worker(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        route: &Arc<Route>,
        worker: &Arc<plugin_runtime::WorkerCode>,
        authority: &Authority,
        path: &str,
    ) -> Result<()> {
        let h2_body = session.req_header().version == http::Version::HTTP_2 && !session.is_body_done();
        let req = session.req_header();
        let is_head = req.method == http::Method::HEAD;
        // The same parsed authority the route was chosen with (`https:` when
        // the client came over TLS), and the target as the client sent it:
        // only what a URL cannot hold (non-ASCII) is percent-encoded, as the
        // URL standard would.
        let tls = session.digest().is_some_and(|d| d.ssl_digest.is_some());
        let client_origin = authority.origin(tls);
        let url = format!("{client_origin}{}", encode_non_ascii(path));
        // Percent-encoded in `request.url`, non-ASCII bytes of an
        // origin-form target still reach the origin as the client sent
        // them when the script fetches that very URL (see origin.rs).
        let client_target = match req.raw_path() {
            raw @ [b'/', ..] if !raw.is_ascii() => Some((url.clone(), raw.to_vec())),
            _ => None,
        };
        let mut headers = req.headers.clone();
        strip_hop_by_hop(&mut headers);
        // An upgrade (WebSocket) request shows its `Upgrade` to the script,
        // as on Workers (`request.headers.get("Upgrade") === "websocket"`).
        if session.is_upgrade_req()
            && let Some(upgrade) = req.headers.get(header::UPGRADE)
        {
            headers.insert(header::UPGRADE, upgrade.clone());
        }
        // As on Cloudflare, the script sees CF-Connecting-IP; what goes to
        // the route's origin gets the full set (`origin_request`).
        if let Some(fwd) = &ctx.forwarded {
            fwd.apply_for_script(&mut headers);
        }
        let content_length = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let chunked = req
            .headers
            .get(header::TRANSFER_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
        // As workerd: a Content-Length (even 0) or a chunked body makes a
        // body, empty or not (`request.body` is a stream); neither, none.
        // HTTP/2 frames its body: one comes unless the stream ended with
        // its headers.
        let has_body = content_length.is_some() || chunked || h2_body;
        if chunked {
            // The script sees it, as on workerd (subrequests and responses
            // strip it again: origin.rs frames their bodies itself).
            headers.insert(header::TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        }
        let head = RequestHead {
            method: req.method.clone(),
            url,
            headers,
            client: ClientInfo {
                // The client as `trusted_proxies` determines it, as in CF-Connecting-IP.
                addr: ctx.forwarded.as_ref().and_then(|f| f.client),
                ..client_info(session)
            },
        };

        // Linked: if the script passes it on untouched, the rest of it goes
        // from the client to the origin directly (see `pass.rs`).
        let (mut req_writer, body) = if has_body {
            let (w, s) = linked_body_channel(content_length);
            (Some(w), Body::Stream(s))
        } else {
            (None, Body::Empty)
        };
        let egress = match &ctx.deployment {
            Some(d) => d.egress_for(worker.name()),
            None => self.state.deployment.load().egress_for(worker.name()),
        };
        let mut fetcher = OriginFetcher::new(
            worker.name(),
            authority.host().to_string(),
            route.origin.clone(),
            self.state.connector.clone(),
            egress,
            Outgoing::new(&ctx.hop, worker.spec.subrequests),
        )
        .with_forwarded(ctx.forwarded.clone())
        .with_websocket_idle(self.state.client_limits.load().websocket_idle_timeout)
        .with_client_origin(client_origin);
        if let Some((url, target)) = client_target {
            fetcher = fetcher.with_client_target(url, target);
        }
        let fetcher = Arc::new(fetcher);
        let dispatch = self.state.runtime.dispatch_or_pass(worker, head, body, fetcher.clone());
        tokio::pin!(dispatch);

        // Feed the request body to the script while it decides, and notice
        // a client that goes away meanwhile. Returning early (timeout,
        // client gone) drops `dispatch`, which cancels the request in the
        // runtime (its timers stop, its in-flight count is released).
        let deadline = tokio::time::sleep(Duration::from_secs(worker.spec.request_timeout_s));
        tokio::pin!(deadline);
        let phase = loop {
            tokio::select! {
                outcome = &mut dispatch => break outcome,
                _ = &mut deadline => break Err(DispatchError::TimedOut),
                event = downstream_event(session, req_writer.as_ref()) => match event {
                    Downstream::More => {}
                    Downstream::BodyDone => req_writer = None,
                    Downstream::Gone => return client_gone(ctx, worker.name()),
                },
            }
        };
        // The request phase answered, or passed a request to the route's
        // origin: then this task sends it, and the response phase (the
        // script's continuation after `await fetch()`) gives the answer.
        let mut leg = None;
        let answer = match phase {
            Ok(Outcome::Answer(response)) => Ok(response),
            Ok(Outcome::Pass(pass)) => {
                match crate::pass::serve(session, pass, &fetcher, &mut req_writer, deadline.as_mut()).await {
                    Some((answer, origin_body)) => {
                        leg = origin_body;
                        answer
                    }
                    None => return client_gone(ctx, worker.name()),
                }
            }
            Err(e) => Err(e),
        };

        let response = match answer {
            Ok(r) => {
                ctx.cpu = Some(r.cpu_time);
                ctx.outcome = Some(if fetcher.to_route_origin.load(Ordering::Relaxed) > 0 {
                    "passed"
                } else {
                    "answered"
                });
                r
            }
            Err(e) => {
                let (outcome, status, text) = classify(&e);
                ctx.outcome = Some(outcome);
                // Only a CPU-limit failure knows how much CPU it used: all of it.
                ctx.cpu = matches!(e, DispatchError::CpuLimit).then(|| Duration::from_millis(worker.spec.cpu_ms));
                if let DispatchError::Startup(err) = &e {
                    log::error!("worker {}: {err}", worker.name());
                }
                if let DispatchError::Overloaded { .. } = &e {
                    return respond_overloaded(session, worker.name(), &e).await;
                }
                return respond_text(session, status, text).await;
            }
        };

        let mut response = response;
        if let Some(ws) = response.web_socket.take() {
            return self.serve_websocket(session, ctx, worker.name(), response, ws).await;
        }

        let mut headers = response.head.headers;
        strip_hop_by_hop(&mut headers);
        if !is_head {
            headers.remove(header::CONTENT_LENGTH);
        }
        let mut resp = response_head(response.head.status, headers)?;
        if !response.head.status_text.is_empty() {
            resp.set_reason_phrase(Some(&response.head.status_text)).ok();
        }
        let mut body = response.body;
        if is_head {
            body = Body::Empty;
        } else {
            match body.known_length() {
                // A 204 or 304 has no body and, as from workerd, no Content-Length.
                Some(0) if matches!(response.head.status, 204 | 304) => {}
                Some(n) => {
                    resp.insert_header(header::CONTENT_LENGTH, HeaderValue::from(n))?;
                }
                None => {
                    resp.insert_header(header::TRANSFER_ENCODING, HeaderValue::from_static("chunked"))?;
                }
            }
        }
        let no_body = matches!(body, Body::Empty) || matches!(&body, Body::Bytes(b) if b.is_empty());
        session.write_response_header(Box::new(resp), no_body).await?;
        match body {
            Body::Empty => {}
            Body::Bytes(b) => {
                if !b.is_empty() {
                    session
                        .write_response_body(Some(b), true)
                        .await
                        .map_err(|e| e.into_down())?;
                }
            }
            // The origin's body, handed back untouched: spliced natively.
            Body::Stream(stream) if leg.as_ref().is_some_and(|l| l.is(&stream)) => {
                if let Some(origin_body) = leg.take() {
                    origin_body.splice(session, stream, &mut req_writer).await?;
                }
            }
            Body::Stream(mut stream) => loop {
                // The request body may still be flowing into the script
                // (e.g. a worker that echoes it), and the origin's body of a
                // pass (e.g. a worker that transforms it): keep pumping.
                tokio::select! {
                    chunk = stream.next() => match chunk {
                        // A failed write is the client's side (fail_to_proxy classifies it).
                        Some(Ok(bytes)) => session
                            .write_response_body(Some(bytes), false)
                            .await
                            .map_err(|e| e.into_down())?,
                        Some(Err(e)) => {
                            log::warn!("worker {}: response body failed: {e}", worker.name());
                            return Err(Error::explain(ErrorType::ReadError, e.to_string()).into_up());
                        }
                        None => {
                            session.write_response_body(None, true).await.map_err(|e| e.into_down())?;
                            break;
                        }
                    },
                    more = pump_request_chunk(session, req_writer.as_ref()), if req_writer.is_some() => {
                        if !more { req_writer = None; }
                    }
                    () = crate::pass::feed(&mut leg) => {}
                }
            },
        }
        // What is left of the origin's body belongs to whoever still reads it.
        if let Some(origin_body) = leg {
            origin_body.detach();
        }
        Ok(())
    }
}

impl Edge {
    /// Writes a worker's 101 and serves the WebSocket it carries (see
    /// `websocket.rs`): an origin's upgraded connection spliced to the
    /// client, or a WebSocketPair's client end terminated in the worker.
    async fn serve_websocket(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        worker: &str,
        response: plugin_runtime::WorkerResponse,
        ws: WebSocketEnd,
    ) -> Result<()> {
        let key = crate::websocket::websocket_key(session).map(crate::websocket::accept_key);
        // An origin's socket is this proxy's connection (the only kind the
        // runtime hands out), to splice.
        let (ws, tunnel) = match ws {
            WebSocketEnd::Origin(socket) => match socket.0.into_any().downcast::<UpgradedConnection>() {
                Ok(conn) => (None, Some(*conn)),
                Err(_) => (None, None),
            },
            pair @ WebSocketEnd::Pair(_) => (Some(pair), None),
        };
        let refused = match (&ws, &tunnel, &key) {
            (_, _, None) => Some("a WebSocket to a request that is not a WebSocket upgrade"),
            (None, None, _) => Some("a WebSocket that is not an origin's connection"),
            _ => None,
        };
        if let Some(why) = refused {
            log::warn!("worker {worker}: the script answered 101 with {why}; answered 500");
            ctx.outcome = Some("exception");
            return respond_text(session, 500, WORKER_EXCEPTION).await;
        }
        let mut headers = response.head.headers;
        strip_hop_by_hop(&mut headers);
        headers.remove(header::CONTENT_LENGTH);
        // What the origin agreed to (subprotocol, extensions) is what the
        // spliced bytes speak, even in a head the script made itself.
        if let Some(t) = &tunnel {
            for name in t.handshake.keys() {
                headers.remove(name);
            }
            for (name, value) in t.handshake.iter() {
                headers.append(name.clone(), value.clone());
            }
        }
        let mut resp = response_head(101, headers)?;
        let upgrade = session
            .req_header()
            .headers
            .get(header::UPGRADE)
            .cloned()
            .unwrap_or(HeaderValue::from_static("websocket"));
        resp.insert_header(header::UPGRADE, upgrade)?;
        resp.insert_header(header::CONNECTION, "Upgrade")?;
        // The answer to the client's key (the origin saw the same key).
        if let Some(accept) = key {
            resp.insert_header(header::SEC_WEBSOCKET_ACCEPT, accept)?;
        }
        session.write_response_header(Box::new(resp), false).await?;
        let idle = self.state.client_limits.load().websocket_idle_timeout;
        match (ws, tunnel) {
            (_, Some(conn)) => crate::websocket::splice_origin(session, conn, idle).await,
            (Some(WebSocketEnd::Pair(peer)), None) => crate::websocket::serve_pair(session, peer, idle).await,
            _ => Ok(()), // (refused above)
        }
    }
}

/// The client went away before the response: the request is cancelled in
/// the runtime (by dropping its future or pass).
fn client_gone(ctx: &mut RequestCtx, worker: &str) -> Result<()> {
    ctx.outcome = Some("client_gone");
    log::info!("worker {worker}: the client went away before the response; request cancelled");
    Err(Error::explain(
        ErrorType::ConnectionClosed,
        "client went away before the worker answered",
    )
    .into_down())
}

/// What the client did while a worker prepares its answer.
pub(crate) enum Downstream {
    /// A request body chunk went to the script.
    More,
    /// The request body has ended (or the script dropped it).
    BodyDone,
    /// The client closed the connection.
    Gone,
}

/// Pumps the request body while there is one; afterwards waits for the
/// client to close the connection (pending forever while it does not).
pub(crate) async fn downstream_event(session: &mut Session, writer: Option<&BodyWriter>) -> Downstream {
    if writer.is_some() {
        return if pump_request_chunk(session, writer).await {
            Downstream::More
        } else {
            Downstream::BodyDone
        };
    }
    // Probing the connection is only safe once the body is fully read.
    if session.is_body_done() {
        match session.read_body_or_idle(true).await {
            // HTTP/2: the client reset the stream or closed the connection.
            Err(e)
                if matches!(
                    e.etype(),
                    ErrorType::ConnectionClosed | ErrorType::ReadError | ErrorType::H2Error
                ) =>
            {
                return Downstream::Gone;
            }
            _ => {}
        }
    }
    std::future::pending().await
}

/// Moves one chunk of the downstream request body into the script's body
/// stream, waiting for room first (backpressure). False when done. A read
/// that fails (the client went away, or its body stalled past
/// `body_idle_timeout_s`) makes the script's body read reject, and the
/// connection is not reused.
pub(crate) async fn pump_request_chunk(session: &mut Session, writer: Option<&BodyWriter>) -> bool {
    let Some(writer) = writer else { return false };
    let Some(permit) = writer.reserve().await else {
        return false; // the script dropped the body
    };
    match session.read_request_body().await {
        Ok(Some(chunk)) => {
            permit.send(Ok(chunk));
            true
        }
        Ok(None) => false,
        Err(e) => {
            if e.etype() == &ErrorType::ReadTimedout {
                body_stalled(session);
                permit.send(Err(BodyError(
                    "client request body stalled (body_idle_timeout_s)".into(),
                )));
            } else {
                session.set_keepalive(None);
                permit.send(Err(BodyError(format!("client request body: {e}"))));
            }
            false
        }
    }
}
