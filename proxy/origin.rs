//! The origin leg: how requests reach origin servers, both for plain proxy
//! routes (Pingora's upstream phases) and for a script's `fetch()`
//! (subrequests through Pingora's connector and connection pool).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, header};
use pingora::connectors::http::Connector;
use pingora::protocols::http::client::HttpSession;
use pingora::upstreams::peer::HttpPeer;
use pingora_http::RequestHeader;
use plugin_runtime::{
    Body, BodyError, BodyWriter, FetchError, FetchRequest, Fetcher, ResponseHead, WorkerResponse, body_channel,
};

use crate::egress::EgressPolicy;
use crate::forwarded::Forwarded;
use crate::hops::Outgoing;

/// How long to wait for an origin to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an origin may stay silent while we wait for bytes.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an idle pooled origin connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(60);
/// `server.websocket_idle_timeout_s`'s default, for fetchers made without
/// a client (`scheduled()` runs).
const DEFAULT_WEBSOCKET_IDLE: Duration = Duration::from_secs(600);
/// Informational (1xx) responses a subrequest skips before giving up.
const MAX_INFORMATIONAL: u32 = 16;

/// A configured origin server (`origin = "https://host:port"`).
#[derive(Debug, Clone)]
pub struct Origin {
    /// Host name or IP literal (no brackets), used for DNS and SNI.
    pub host: String,
    /// Port (scheme default when not given).
    pub port: u16,
    /// `https://`: TLS with SNI.
    pub tls: bool,
}

impl Origin {
    /// Parses an origin URL; the config has validated it already.
    pub fn parse(s: &str) -> Result<Origin, String> {
        let url = url::Url::parse(s).map_err(|e| format!("invalid origin URL {s:?}: {e}"))?;
        let tls = match url.scheme() {
            "http" => false,
            "https" => true,
            other => return Err(format!("origin scheme must be http or https, not {other}")),
        };
        let host = match url.host() {
            Some(url::Host::Ipv6(a)) => a.to_string(),
            Some(h) => h.to_string(),
            None => return Err(format!("origin {s:?} has no host")),
        };
        let port = url.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
        Ok(Origin { host, port, tls })
    }

    /// A Pingora peer for this origin, resolving its name without blocking.
    pub async fn peer(&self) -> Result<HttpPeer, FetchError> {
        let addrs = resolve(&self.host, self.port).await?;
        Ok(make_peer(preferred(&addrs), self.tls, &self.host))
    }
}

/// The addresses `host` stands for, without blocking (Pingora's
/// `HttpPeer::new` would): an IP literal is itself; `localhost` and
/// `*.localhost` are loopback without asking DNS (RFC 6761); other names go
/// through the process's caching resolver (`dns.rs`: `/etc/hosts`, then
/// DNS, each answer kept for its TTL).
pub async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, FetchError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if crate::egress::is_localhost_name(host) {
        return Ok(vec![
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port),
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port),
        ]);
    }
    let ips = crate::dns::resolve(host)
        .await
        .map_err(|e| FetchError::Network(format!("cannot resolve {host}: {e}")))?;
    // `dns::resolve` never answers an empty list.
    Ok(ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect())
}

/// The address to connect to: IPv4 first where a name has both (as most
/// clients try first). `addrs` is not empty.
fn preferred(addrs: &[SocketAddr]) -> SocketAddr {
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .unwrap_or_else(|| {
            // `resolve` never returns an empty list; connect nowhere rather than panic.
            SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0)
        })
}

/// A peer at exactly `addr` (never resolved again) with our timeouts; `sni`
/// names the host for TLS.
fn make_peer(addr: SocketAddr, tls: bool, sni: &str) -> HttpPeer {
    let mut peer = HttpPeer::new(addr, tls, sni.to_string());
    peer.options.connection_timeout = Some(CONNECT_TIMEOUT);
    peer.options.total_connection_timeout = Some(CONNECT_TIMEOUT);
    peer.options.read_timeout = Some(READ_TIMEOUT);
    peer.options.idle_timeout = Some(POOL_IDLE);
    peer
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1).
pub static HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TRANSFER_ENCODING,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
];

/// Removes hop-by-hop headers, including any the Connection header names.
/// (Names, not strings: `remove(&str)` would parse each name again, on
/// every request.)
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry none: one pass over their few names is cheaper
    // than looking each of the eight up.
    if !headers.keys().any(|k| HOP_BY_HOP.contains(k)) {
        return;
    }
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|s| s.trim().to_ascii_lowercase()))
        .filter(|s| !s.is_empty())
        .collect();
    for h in &HOP_BY_HOP {
        headers.remove(h);
    }
    for h in &named {
        headers.remove(h.as_str());
    }
}

/// A script's way to the network during one request: the request's own
/// host goes to the route's origin, anything else is resolved by DNS and
/// must pass the worker's egress policy.
pub struct OriginFetcher {
    /// The incoming request's host (lower-case, no port).
    pub route_host: String,
    /// The route's origin, if it names one.
    pub origin: Option<Arc<Origin>>,
    /// Pingora's connector (its pool is shared by all requests).
    pub connector: Arc<Connector>,
    /// The proxy's runtime: subrequest I/O runs there, not on isolate threads.
    pub handle: tokio::runtime::Handle,
    /// The worker making the subrequests (the metrics' `worker` label).
    pub worker: String,
    /// Subrequests sent to the route's own origin (a "passed" request).
    pub to_route_origin: AtomicU32,
    /// What the worker may connect to.
    egress: Arc<EgressPolicy>,
    /// The request's place in its chain through this proxy (loop protection
    /// and the shared subrequest budget).
    outgoing: Outgoing,
    /// The incoming request's URL (`request.url`) and its target as the
    /// client sent it: a fetch of that very URL sends those bytes.
    client_target: Option<(String, Vec<u8>)>,
    /// The forwarding headers requests to the route's origin carry (none
    /// for a `scheduled()` run: it has no client).
    forwarded: Option<Arc<Forwarded>>,
    /// How long an origin may stay silent on a WebSocket the script
    /// accepted (`server.websocket_idle_timeout_s`).
    pub websocket_idle: Duration,
    /// The last URL [`OriginFetcher::target`] parsed and where it goes: a
    /// pass asks twice for the same URL (`goes_to_route_origin`, then
    /// `pass_leg`), and a worker's fetches often repeat one URL.
    last_target: std::sync::Mutex<Option<(String, Target)>>,
    /// The incoming request's origin as its URL starts (`http://host[:port]`,
    /// the scheme's default port omitted): a URL under it is where
    /// [`OriginFetcher::target`] goes without parsing (see
    /// `under_client_origin`).
    client_origin: Option<String>,
}

impl OriginFetcher {
    /// A fetcher for `worker`'s subrequests; `route_host` goes to `origin`,
    /// other hosts must pass `egress`; `outgoing` carries the chain.
    pub fn new(
        worker: &str,
        route_host: String,
        origin: Option<Arc<Origin>>,
        connector: Arc<Connector>,
        egress: Arc<EgressPolicy>,
        outgoing: Outgoing,
    ) -> OriginFetcher {
        OriginFetcher {
            route_host,
            origin,
            connector,
            handle: tokio::runtime::Handle::current(),
            worker: worker.to_string(),
            to_route_origin: AtomicU32::new(0),
            egress,
            outgoing,
            client_target: None,
            forwarded: None,
            websocket_idle: DEFAULT_WEBSOCKET_IDLE,
            last_target: std::sync::Mutex::new(None),
            client_origin: None,
        }
    }

    /// `origin` (`Authority::origin`: `http://host[:port]` or `https://..`,
    /// lower-case, the default port omitted, as a URL serialises it) is the
    /// incoming request's.
    pub fn with_client_origin(mut self, origin: String) -> OriginFetcher {
        self.client_origin = Some(origin);
        self
    }

    /// An origin's WebSocket the script accepts may stay silent for `idle`.
    pub fn with_websocket_idle(mut self, idle: Duration) -> OriginFetcher {
        self.websocket_idle = idle;
        self
    }

    /// Sends `target` (the bytes the client sent, non-ASCII ones and all)
    /// as the request target whenever the script fetches exactly `url`,
    /// the URL the script got as `request.url`.
    pub fn with_client_target(mut self, url: String, target: Vec<u8>) -> OriginFetcher {
        self.client_target = Some((url, target));
        self
    }

    /// Requests to the route's origin carry `forwarded`'s headers.
    pub fn with_forwarded(mut self, forwarded: Option<Arc<Forwarded>>) -> OriginFetcher {
        self.forwarded = forwarded;
        self
    }
}

/// The `kind` label of `isoproxy_origin_errors_total` for a failed
/// subrequest, or `None` when the failure is not the origin's.
pub fn fetch_error_kind(e: &FetchError) -> Option<&'static str> {
    match e {
        FetchError::Timeout(_) => Some("timeout"),
        FetchError::Network(m) if m.starts_with("connect") || m.starts_with("cannot resolve") => Some("connect"),
        FetchError::Network(_) => Some("network"),
        _ => None,
    }
}

impl OriginFetcher {
    /// What every subrequest takes first: the count, a place in the
    /// chain's budget (the loop header it carries) and where it goes.
    fn start(&self, url: &str) -> Result<(Result<Target, FetchError>, HeaderValue), FetchError> {
        crate::metrics::metrics()
            .subrequests
            .with_label_values(&[self.worker.as_str()])
            .inc();
        // The chain's budget is shared by every request along it.
        let loop_header = self.outgoing.next().ok_or(FetchError::TooManySubrequests)?;
        let target = self.target(url);
        if matches!(&target, Ok(t) if t.to_origin) {
            self.to_route_origin.fetch_add(1, Ordering::Relaxed);
        }
        Ok((target, loop_header))
    }

    /// The request's pass (`Outcome::Pass`), which `pass.rs` sends in the
    /// task serving the client: counted and budgeted as any subrequest,
    /// then the request head for the route's origin, and its peer.
    pub async fn pass_leg(
        &self,
        head: plugin_runtime::RequestHead,
        body: &Body,
    ) -> Result<(HttpPeer, RequestHeader), FetchError> {
        let (target, loop_header) = self.start(&head.url)?;
        crate::metrics::metrics()
            .passthrough
            .with_label_values(&["in_task"])
            .inc();
        let target = target?;
        let Some(origin) = target.origin else {
            return Err(FetchError::BadUrl(head.url));
        };
        let header = origin_request(
            head,
            body,
            target.host_header,
            &target.path,
            loop_header,
            self.forwarded.as_deref(),
        )?;
        Ok((origin.peer().await?, header))
    }
}

impl Fetcher for OriginFetcher {
    fn goes_to_route_origin(&self, head: &plugin_runtime::RequestHead) -> bool {
        self.origin.is_some() && self.target(&head.url).is_ok_and(|t| t.to_origin)
    }

    fn fetch(&self, request: FetchRequest) -> plugin_runtime::BoxFuture<Result<WorkerResponse, FetchError>> {
        let (target, loop_header) = match self.start(&request.head.url) {
            Ok(started) => started,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        if matches!(&target, Ok(t) if t.to_origin) {
            crate::metrics::metrics()
                .passthrough
                .with_label_values(&["subrequest"])
                .inc();
        }
        let connector = self.connector.clone();
        let egress = self.egress.clone();
        let forwarded = self
            .forwarded
            .clone()
            .filter(|_| matches!(&target, Ok(t) if t.to_origin));
        let worker = self.worker.clone();
        let websocket_idle = self.websocket_idle;
        let task = self.handle.spawn(async move {
            let target = target?;
            let peer = match (&target.origin, &egress.outbound) {
                (Some(origin), _) => origin.peer().await?,
                // `outbound`: everything but route origins goes to it, as
                // plain HTTP/1.1 with the URL's host in Host.
                (None, Some(outbound)) if !egress.origins.names(&target.host, target.port) => outbound.peer().await?,
                (None, _) => checked_peer(&egress, &worker, &target).await?,
            };
            let fwd = forwarded.as_deref();
            let result = subrequest(
                &connector,
                peer,
                target.host_header,
                target.path,
                loop_header,
                fwd,
                request,
                websocket_idle,
            )
            .await;
            if let Err(e) = &result
                && let Some(kind) = fetch_error_kind(e)
            {
                crate::metrics::metrics().origin_error(kind);
            }
            result
        });
        Box::pin(async move {
            task.await
                .map_err(|e| FetchError::Network(format!("subrequest task failed: {e}")))?
        })
    }
}

/// The request target for `url`: its path and query as the text has them
/// (the runtime sends a URL's WHATWG serialisation, or the incoming
/// request's URL, whose target is the client's), without the fragment.
/// Anything else takes the `url` crate's serialisation.
fn path_and_query(url: &str, parsed: &url::Url) -> String {
    let after_scheme = url.split_once("://").map_or("", |(_, rest)| rest);
    let raw = after_scheme
        .find(['/', '?', '#', '\\'])
        .map_or("", |start| &after_scheme[start..]);
    let raw = raw.split('#').next().unwrap_or_default();
    if raw.starts_with('/') && raw.bytes().all(|b| b.is_ascii_graphic()) {
        return raw.to_string();
    }
    let mut path = parsed.path().to_string();
    if let Some(q) = parsed.query() {
        path.push('?');
        path.push_str(q);
    }
    path
}

/// Where a subrequest goes.
#[derive(Clone)]
struct Target {
    /// Host name or IP (no brackets), lower-case.
    host: String,
    port: u16,
    tls: bool,
    /// The Host header to send.
    host_header: String,
    /// The request target (path and query).
    path: Vec<u8>,
    /// The route's own origin, when the URL names the route's own host.
    origin: Option<Arc<Origin>>,
    /// Whether it is the route's own origin.
    to_origin: bool,
}

impl OriginFetcher {
    /// Where a URL goes: the route's origin for the route's own host, else
    /// the URL's host and port.
    fn target(&self, url: &str) -> Result<Target, FetchError> {
        if let Ok(last) = self.last_target.lock()
            && let Some((last_url, target)) = last.as_ref()
            && last_url == url
        {
            return Ok(target.clone());
        }
        let target = self.parse_target(url)?;
        if let Ok(mut last) = self.last_target.lock() {
            *last = Some((url.to_string(), target.clone()));
        }
        Ok(target)
    }

    fn parse_target(&self, url: &str) -> Result<Target, FetchError> {
        let client_target = self.client_target.as_ref().map(|(u, t)| (u.as_str(), t.as_slice()));
        let fast = self
            .client_origin
            .as_deref()
            .and_then(|origin| under_client_origin(url, origin, &self.route_host, client_target));
        let parts = match fast {
            Some(parts) => parts,
            None => parse_url_target(url, client_target)?,
        };
        let to_origin = self.origin.is_some() && parts.host == self.route_host;
        Ok(Target {
            host: parts.host,
            port: parts.port,
            tls: parts.tls,
            host_header: parts.host_header,
            path: parts.path,
            origin: if to_origin { self.origin.clone() } else { None },
            to_origin,
        })
    }
}

/// Where a URL goes, before the route's origin is considered.
#[derive(Debug, PartialEq, Eq)]
struct UrlTarget {
    host: String,
    port: u16,
    tls: bool,
    host_header: String,
    path: Vec<u8>,
}

/// A subrequest URL parsed: scheme, host (lower-case, IPv6 without
/// brackets), port, Host header, and the request target (`client_target`'s
/// bytes when the URL is exactly its URL).
fn parse_url_target(url: &str, client_target: Option<(&str, &[u8])>) -> Result<UrlTarget, FetchError> {
    let parsed = url::Url::parse(url).map_err(|_| FetchError::BadUrl(url.to_string()))?;
    let tls = match parsed.scheme() {
        "http" => false,
        "https" => true,
        _ => return Err(FetchError::BadUrl(url.to_string())),
    };
    let host = match parsed.host() {
        Some(url::Host::Ipv6(a)) => a.to_string(),
        Some(h) => h.to_string().to_ascii_lowercase(),
        None => return Err(FetchError::BadUrl(url.to_string())),
    };
    let host_header = match parsed.port() {
        Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or_default()),
        None => parsed.host_str().unwrap_or_default().to_string(),
    };
    let path = match client_target {
        Some((client_url, target)) if client_url == url => target.to_vec(),
        _ => path_and_query(url, &parsed).into_bytes(),
    };
    let port = parsed.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
    Ok(UrlTarget {
        host,
        port,
        tls,
        host_header,
        path,
    })
}

/// [`parse_url_target`] without parsing, for a URL under the incoming
/// request's own origin whose path and query are printable ASCII (what a
/// pass-through worker fetches on every request). `origin` is
/// `Authority::origin` (`http://host[:port]` or `https://..`: lower-case,
/// the default port omitted, as a URL serialises it); the authority of an
/// http(s) URL ends at its first `/`, so such a URL has that host and port.
/// `None` for anything else (it is parsed), and for IPv6 hosts
/// (`route_host` keeps their brackets).
fn under_client_origin(
    url: &str,
    origin: &str,
    route_host: &str,
    client_target: Option<(&str, &[u8])>,
) -> Option<UrlTarget> {
    let rest = url.strip_prefix(origin)?;
    let (scheme, host_header) = origin.split_once("://")?;
    let tls = match scheme {
        "http" => false,
        "https" => true,
        _ => return None,
    };
    let (host, port) = match host_header.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (host_header, if tls { 443 } else { 80 }),
    };
    if !rest.starts_with('/') || host != route_host || host.starts_with('[') {
        return None;
    }
    let path = match client_target {
        Some((client_url, target)) if client_url == url => target.to_vec(),
        _ => {
            let raw = rest.split('#').next().unwrap_or_default();
            if !raw.bytes().all(|b| b.is_ascii_graphic()) {
                return None;
            }
            raw.as_bytes().to_vec()
        }
    };
    Some(UrlTarget {
        host: host.to_string(),
        port,
        tls,
        host_header: host_header.to_string(),
        path,
    })
}

/// Resolves a subrequest's host once, checks every address against the
/// egress policy (route origins always pass) and returns a peer for the
/// checked address, so nothing is resolved again on the way.
async fn checked_peer(egress: &EgressPolicy, worker: &str, target: &Target) -> Result<HttpPeer, FetchError> {
    let addrs = resolve(&target.host, target.port).await?;
    if !egress.origins.names(&target.host, target.port) {
        for addr in &addrs {
            if egress.origins.has_addr(*addr) {
                continue;
            }
            if let Err(refusal) = egress.check(*addr) {
                let shown = if target.host.parse::<IpAddr>().is_ok() {
                    target.host.clone()
                } else {
                    format!("{} ({})", target.host, addr.ip())
                };
                crate::metrics::metrics()
                    .egress_refused
                    .with_label_values(&[worker, refusal.reason])
                    .inc();
                log::warn!(
                    "worker {worker}: fetch to {shown} port {} refused by the egress policy ({})",
                    target.port,
                    refusal.detail
                );
                return Err(FetchError::Refused {
                    target: shown,
                    reason: refusal.detail,
                });
            }
        }
    }
    Ok(make_peer(preferred(&addrs), target.tls, &target.host))
}

/// A failed exchange as the script's `fetch()` sees it.
pub fn classify(e: &pingora::Error, during: &str) -> FetchError {
    use pingora::ErrorType::*;
    match e.etype() {
        ConnectTimedout | ReadTimedout | WriteTimedout => FetchError::Timeout(format!("{during}: {e}")),
        _ => FetchError::Network(format!("{during}: {e}")),
    }
}

/// The request head a subrequest sends: the script's checked head without
/// hop-by-hop fields, our Host and loop header, the forwarding headers when
/// it goes to the route's origin (`forwarded`), framing for `body`.
fn origin_request(
    head: plugin_runtime::RequestHead,
    body: &Body,
    host_header: String,
    path: &[u8],
    loop_header: HeaderValue,
    forwarded: Option<&Forwarded>,
) -> Result<RequestHeader, FetchError> {
    let method = &head.method;
    // No case map: every name here is an `http::HeaderName` (lower case),
    // which Pingora writes with the same title-casing either way, and the
    // case map is a second header map to fill for each request.
    let mut req = RequestHeader::build_no_case(head.method.clone(), path, Some(head.headers.len() + 2))
        .map_err(|e| FetchError::BadUrl(format!("{}: {e}", String::from_utf8_lossy(path))))?;
    let mut headers = head.headers;
    strip_hop_by_hop(&mut headers);
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::HOST);
    // The script's own copy, if any, never goes out: ours does.
    headers.remove(crate::hops::HEADER);
    // After the hop-by-hop strip, so a `Connection` field cannot remove them.
    if let Some(fwd) = forwarded {
        fwd.apply(&mut headers, true);
    }
    req.insert_header(header::HOST, host_header)
        .map_err(|e| FetchError::BadUrl(e.to_string()))?;
    req.insert_header(crate::hops::HEADER, loop_header)
        .map_err(|e| FetchError::BadUrl(e.to_string()))?;
    for (name, value) in headers.iter() {
        req.append_header(name.clone(), value.clone())
            .map_err(|e| FetchError::BadUrl(e.to_string()))?;
    }
    match body {
        Body::Empty => {
            if method_expects_body(method) {
                req.insert_header(header::CONTENT_LENGTH, "0").ok();
            }
        }
        Body::Bytes(b) => {
            req.insert_header(header::CONTENT_LENGTH, b.len().to_string()).ok();
        }
        Body::Stream(s) => match s.content_length {
            Some(n) => {
                req.insert_header(header::CONTENT_LENGTH, n.to_string()).ok();
            }
            None => {
                req.insert_header(header::TRANSFER_ENCODING, HeaderValue::from_static("chunked"))
                    .ok();
            }
        },
    }
    Ok(req)
}

/// A pooled (or new) connection to `peer` with `req` written on it.
pub async fn open(connector: &Connector, peer: &HttpPeer, req: RequestHeader) -> Result<HttpSession, FetchError> {
    let (mut session, _reused) = connector
        .get_http_session(peer)
        .await
        .map_err(|e| classify(&e, "connect"))?;
    session.set_read_timeout(Some(READ_TIMEOUT));
    session
        .write_request_header(Box::new(req))
        .await
        .map_err(|e| classify(&e, "write request"))?;
    Ok(session)
}

/// One HTTP exchange with an origin. The response body streams from a task
/// that returns the connection to the pool when the body is done.
async fn subrequest(
    connector: &Arc<Connector>,
    peer: HttpPeer,
    host_header: String,
    path: Vec<u8>,
    loop_header: HeaderValue,
    forwarded: Option<&Forwarded>,
    request: FetchRequest,
    websocket_idle: Duration,
) -> Result<WorkerResponse, FetchError> {
    let FetchRequest { head, body } = request;
    let method = head.method.clone();
    let websocket = method == http::Method::GET && crate::websocket::asks_websocket(&head.headers);
    let mut req = origin_request(head, &body, host_header, &path, loop_header, forwarded)?;
    if websocket {
        // An outbound WebSocket (`fetch()` with `Upgrade: websocket`, or
        // `new WebSocket(url)`): the handshake has a time limit of its own.
        let key = crate::websocket::upgrade_request(&mut req)?;
        let handshake = async {
            let mut session = open(connector, &peer, req).await?;
            send_body(&mut session, body).await?;
            let head = read_head(&mut session, &method).await?;
            Ok::<_, FetchError>((session, head))
        };
        let (session, head) = tokio::time::timeout(crate::websocket::HANDSHAKE_TIMEOUT, handshake)
            .await
            .map_err(|_| {
                FetchError::Timeout(format!(
                    "the origin did not complete the WebSocket handshake within {} s",
                    crate::websocket::HANDSHAKE_TIMEOUT.as_secs()
                ))
            })??;
        if head.head.status == 101 {
            return crate::websocket::UpgradedConnection::answer(session, head.head, &key, websocket_idle);
        }
        return answer_with_body(connector, session, peer, head).await;
    }
    let (session, head) = exchange(connector, &peer, req, body, &method).await?;
    answer_with_body(connector, session, peer, head).await
}

/// How many times [`exchange`] tries a request in all.
const MAX_ATTEMPTS: u32 = 3;

/// Sends `req` and `body` on a connection from the pool (or a new one) and
/// reads the final response head. An origin may close an idle keep-alive
/// connection while it sits in the pool; a request sent on it fails before
/// any of the response arrives (Pingora marks such an error retryable when
/// the connection was reused). That request goes again on another
/// connection, up to [`MAX_ATTEMPTS`] in all, when its method is
/// idempotent (RFC 9110 9.2.2: not POST, PATCH or CONNECT; an origin that
/// closed after acting on a POST must not see it twice) and its body can be
/// sent again (none, or bytes; not a stream).
pub async fn exchange(
    connector: &Connector,
    peer: &HttpPeer,
    req: RequestHeader,
    body: Body,
    method: &http::Method,
) -> Result<(HttpSession, OriginHead), FetchError> {
    let idempotent = matches!(
        *method,
        http::Method::GET
            | http::Method::HEAD
            | http::Method::OPTIONS
            | http::Method::TRACE
            | http::Method::PUT
            | http::Method::DELETE
    );
    if !idempotent || matches!(body, Body::Stream(_)) {
        return exchange_once(connector, peer, req, body, method, false)
            .await
            .map_err(|f| f.error);
    }
    // (Bytes are shared, not copied, by each attempt.)
    let bytes = match body {
        Body::Bytes(b) => Some(b),
        _ => None,
    };
    let mut req = req;
    let mut attempt = 1;
    loop {
        let body = bytes.clone().map_or(Body::Empty, Body::Bytes);
        match exchange_once(connector, peer, req, body, method, attempt < MAX_ATTEMPTS).await {
            Ok(done) => return Ok(done),
            Err(Failed {
                error,
                again: Some(again),
            }) => {
                log::debug!("origin {peer}: a pooled connection closed before the response ({error}); sending again");
                crate::metrics::metrics().origin_retry();
                req = *again;
                attempt += 1;
            }
            Err(Failed { error, .. }) => return Err(error),
        }
    }
}

/// Why one attempt of [`exchange`] failed, and the request head to send
/// again when another attempt may follow.
struct Failed {
    error: FetchError,
    again: Option<Box<RequestHeader>>,
}

impl Failed {
    fn fetch(error: FetchError) -> Failed {
        Failed { error, again: None }
    }
}

/// One attempt of [`exchange`]. With `may_retry`, a copy of the request
/// head is kept while it goes out on a reused connection (a new one's
/// failure is the origin's, and not retried), for the error that allows
/// another attempt.
async fn exchange_once(
    connector: &Connector,
    peer: &HttpPeer,
    req: RequestHeader,
    body: Body,
    method: &http::Method,
    may_retry: bool,
) -> Result<(HttpSession, OriginHead), Failed> {
    let (mut session, reused) = connector
        .get_http_session(peer)
        .await
        .map_err(|e| Failed::fetch(classify(&e, "connect")))?;
    session.set_read_timeout(Some(READ_TIMEOUT));
    let mut copy = (may_retry && reused).then(|| Box::new(req.clone()));
    // A write to a pooled connection the origin has closed fails too (a
    // reset): nothing was answered, and the request may go again.
    session.write_request_header(Box::new(req)).await.map_err(|e| Failed {
        error: classify(&e, "write request"),
        again: copy.take(),
    })?;
    send_body(&mut session, body).await.map_err(|error| Failed {
        error,
        again: copy.take(),
    })?;
    // The first read tells a pooled connection the origin had closed
    // (Pingora marks that error retryable on a reused connection).
    session.read_response_header().await.map_err(|mut e| {
        e.retry.decide_reuse(reused);
        Failed {
            error: classify(&e, "read response header"),
            again: copy.take().filter(|_| e.retry.retry()),
        }
    })?;
    let head = read_head_from(&mut session, method, true)
        .await
        .map_err(Failed::fetch)?;
    Ok((session, head))
}

/// The script's answer for an origin's response head, its body streamed by
/// a task that returns the connection to the pool when the body is done.
async fn answer_with_body(
    connector: &Arc<Connector>,
    mut session: HttpSession,
    peer: HttpPeer,
    head: OriginHead,
) -> Result<WorkerResponse, FetchError> {
    let Some(content_length) = head.body else {
        // Drain the (empty) body so the connection can be reused.
        let _ = session.read_response_body().await;
        release(connector, session, &peer).await;
        return Ok(WorkerResponse {
            head: head.head,
            body: Body::Empty,
            cpu_time: Duration::ZERO,
            web_socket: None,
        });
    };
    let (writer, stream) = body_channel(content_length);
    tokio::spawn(pump_body(connector.clone(), session, peer, writer));
    Ok(WorkerResponse {
        head: head.head,
        body: Body::Stream(stream),
        cpu_time: Duration::ZERO,
        web_socket: None,
    })
}

/// Writes a request body and ends it.
pub async fn send_body(session: &mut HttpSession, body: Body) -> Result<(), FetchError> {
    match body {
        Body::Empty => {}
        Body::Bytes(b) => {
            session
                .write_request_body(b, true)
                .await
                .map_err(|e| classify(&e, "write request body"))?;
        }
        Body::Stream(mut s) => {
            while let Some(chunk) = s.next().await {
                let chunk = chunk.map_err(|e| FetchError::Network(format!("request body: {e}")))?;
                session
                    .write_request_body(chunk, false)
                    .await
                    .map_err(|e| classify(&e, "write request body"))?;
            }
        }
    }
    session
        .finish_request_body()
        .await
        .map_err(|e| classify(&e, "finish request body"))?;
    Ok(())
}

/// An origin's final response head.
pub struct OriginHead {
    /// Status and headers, hop-by-hop fields removed.
    pub head: ResponseHead,
    /// `Some(Content-Length)` when a body follows, `None` when none does
    /// (HEAD, 204, 304, a zero length).
    pub body: Option<Option<u64>>,
}

/// Reads the final response head of a request sent with `method`.
pub async fn read_head(session: &mut HttpSession, method: &http::Method) -> Result<OriginHead, FetchError> {
    read_head_from(session, method, false).await
}

/// [`read_head`], when the first response header has been read already
/// (`first_read`) or not.
async fn read_head_from(
    session: &mut HttpSession,
    method: &http::Method,
    mut first_read: bool,
) -> Result<OriginHead, FetchError> {
    // Informational answers (100 Continue, 103 Early Hints) come before
    // the final response: skip them (Pingora returns after each one).
    let mut informational = 0;
    loop {
        if !first_read {
            session
                .read_response_header()
                .await
                .map_err(|e| classify(&e, "read response header"))?;
        }
        first_read = false;
        let status = session.response_header().map(|r| r.status);
        match status {
            Some(s) if s.is_informational() && s != http::StatusCode::SWITCHING_PROTOCOLS => {
                informational += 1;
                if informational > MAX_INFORMATIONAL {
                    return Err(FetchError::Network(format!(
                        "read response header: more than {MAX_INFORMATIONAL} informational (1xx) responses"
                    )));
                }
            }
            _ => break,
        }
    }
    let Some(resp) = session.response_header() else {
        return Err(FetchError::Network("read response header: none".into()));
    };
    let status = resp.status.as_u16();
    let status_text = resp
        .get_reason_phrase()
        .unwrap_or_else(|| resp.status.canonical_reason().unwrap_or(""))
        .to_string();
    let mut headers = resp.headers.clone();
    strip_hop_by_hop(&mut headers);
    let content_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let no_body = *method == http::Method::HEAD || status == 204 || status == 304 || content_length == Some(0);
    Ok(OriginHead {
        head: ResponseHead {
            status,
            status_text,
            headers,
        },
        body: (!no_body).then_some(content_length),
    })
}

/// Moves an origin's response body into `writer` as its consumer makes
/// room, then returns the connection to the pool (a subrequest's spawned
/// body task).
pub async fn pump_body(connector: Arc<Connector>, mut session: HttpSession, peer: HttpPeer, writer: BodyWriter) {
    loop {
        let Some(permit) = writer.reserve().await else {
            // The consumer went away: the connection has unread data.
            return;
        };
        match session.read_response_body().await {
            Ok(Some(chunk)) => permit.send(Ok(chunk)),
            Ok(None) => {
                drop(permit);
                release(&connector, session, &peer).await;
                return;
            }
            Err(e) => {
                permit.send(Err(origin_body_error(&e)));
                return;
            }
        }
    }
}

/// What a consumer of an origin's body sees when reading it failed.
pub fn origin_body_error(e: &pingora::Error) -> BodyError {
    BodyError(format!("origin response body: {e}"))
}

fn method_expects_body(m: &http::Method) -> bool {
    matches!(*m, http::Method::POST | http::Method::PUT | http::Method::PATCH)
}

/// Returns a connection whose exchange is complete to the pool.
pub async fn release(connector: &Connector, session: HttpSession, peer: &HttpPeer) {
    connector.release_http_session(session, peer, Some(POOL_IDLE)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::Authority;

    /// The unparsed way gives what parsing gives, or steps aside.
    #[test]
    fn a_url_under_the_client_origin_goes_where_parsing_says() {
        let hosts = [
            "example.com",
            "EXAMPLE.com.",
            "example.com:80",
            "example.com:443",
            "example.com:8080",
            "127.0.0.1",
            "127.0.0.1:18080",
            "[::1]",
            "[::1]:8080",
            "xn--nxasmq6b.com",
            "a-b.c-d.e",
        ];
        let tails = [
            "/",
            "/a/b?c=d",
            "/a/../b",
            "/a/./b/%2e%2e/c",
            "/a?b#frag",
            "/#only-frag",
            "/a b",
            "/caf\u{e9}",
            "/a\\b",
            "/%zz?%%",
            "//double",
            "/a?q=1&r=%20",
            "",
            "?q",
            ":81/",
            "@evil.com/",
            ".evil.com/",
            "0/",
        ];
        let mut fast_ones = 0;
        for raw in hosts {
            let authority = Authority::parse(raw.as_bytes()).expect(raw);
            for tls in [false, true] {
                let origin = authority.origin(tls);
                for tail in tails {
                    let url = format!("{origin}{tail}");
                    let client = [None, Some((url.as_str(), b"/raw\xff".as_slice()))];
                    for client_target in client {
                        let Some(fast) = under_client_origin(&url, &origin, authority.host(), client_target) else {
                            continue;
                        };
                        fast_ones += 1;
                        let parsed = parse_url_target(&url, client_target)
                            .unwrap_or_else(|_| panic!("{url} was taken unparsed but does not parse"));
                        assert_eq!(fast, parsed, "{url}");
                    }
                }
            }
        }
        // Most of the cases above take the unparsed way.
        assert!(fast_ones > 200, "{fast_ones}");
        // A URL elsewhere, or one whose authority goes on, is parsed.
        let origin = "http://example.com";
        for url in [
            "http://example.com.evil/",
            "http://example.com:81/",
            "http://example.com@evil/",
            "https://example.com/",
            "http://example.com",
        ] {
            assert!(under_client_origin(url, origin, "example.com", None).is_none(), "{url}");
        }
    }
}
