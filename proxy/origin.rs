//! The origin leg: how requests reach origin servers, both for plain proxy
//! routes (Pingora's upstream phases) and for a script's `fetch()`
//! (subrequests through Pingora's connector and connection pool).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use http::{HeaderMap, HeaderValue, header};
use pingora::connectors::http::Connector;
use pingora::protocols::http::client::HttpSession;
use pingora::upstreams::peer::HttpPeer;
use pingora_http::RequestHeader;
use plugin_runtime::{Body, BodyError, FetchError, FetchRequest, Fetcher, ResponseHead, WorkerResponse, body_channel};

/// How long to wait for an origin to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an origin may stay silent while we wait for bytes.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an idle pooled origin connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(60);

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
        peer_for(&self.host, self.port, self.tls).await
    }
}

/// Resolves `host` with tokio (Pingora's `HttpPeer::new` would block) and
/// builds a peer with our timeouts.
pub async fn peer_for(host: &str, port: u16, tls: bool) -> Result<HttpPeer, FetchError> {
    let addr = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, port),
        Err(_) => {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| FetchError::Network(format!("cannot resolve {host}: {e}")))?
                .collect();
            // Prefer IPv4 where a name has both (as most clients do first).
            addrs
                .iter()
                .find(|a| a.is_ipv4())
                .or(addrs.first())
                .copied()
                .ok_or_else(|| FetchError::Network(format!("cannot resolve {host}: no addresses")))?
        }
    };
    let mut peer = HttpPeer::new(addr, tls, host.to_string());
    peer.options.connection_timeout = Some(CONNECT_TIMEOUT);
    peer.options.total_connection_timeout = Some(CONNECT_TIMEOUT);
    peer.options.read_timeout = Some(READ_TIMEOUT);
    peer.options.idle_timeout = Some(POOL_IDLE);
    Ok(peer)
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1).
pub const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
];

/// Removes hop-by-hop headers, including any the Connection header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|s| s.trim().to_ascii_lowercase()))
        .filter(|s| !s.is_empty())
        .collect();
    for h in HOP_BY_HOP.iter().copied().chain(named.iter().map(String::as_str)) {
        headers.remove(h);
    }
}

/// A script's way to the network during one request: the request's own
/// host goes to the route's origin, anything else is resolved by DNS.
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
}

impl OriginFetcher {
    /// A fetcher for `worker`'s subrequests; `route_host` goes to `origin`.
    pub fn new(
        worker: &str,
        route_host: String,
        origin: Option<Arc<Origin>>,
        connector: Arc<Connector>,
    ) -> OriginFetcher {
        OriginFetcher {
            route_host,
            origin,
            connector,
            handle: tokio::runtime::Handle::current(),
            worker: worker.to_string(),
            to_route_origin: AtomicU32::new(0),
        }
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

impl Fetcher for OriginFetcher {
    fn fetch(&self, request: FetchRequest) -> plugin_runtime::BoxFuture<Result<WorkerResponse, FetchError>> {
        let target = self.target(&request.head.url);
        crate::metrics::metrics()
            .subrequests
            .with_label_values(&[self.worker.as_str()])
            .inc();
        if matches!(&target, Ok((_, _, _, true))) {
            self.to_route_origin.fetch_add(1, Ordering::Relaxed);
        }
        let connector = self.connector.clone();
        let task = self.handle.spawn(async move {
            let (peer, host_header, path, _) = target?;
            let result = async { subrequest(&connector, peer.await?, host_header, path, request).await }.await;
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

type PeerFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<HttpPeer, FetchError>> + Send>>;

impl OriginFetcher {
    /// Where a URL goes: the peer, the Host header, the request target and
    /// whether it is the route's own origin.
    fn target(&self, url: &str) -> Result<(PeerFuture, String, String, bool), FetchError> {
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
        let mut path = parsed.path().to_string();
        if let Some(q) = parsed.query() {
            path.push('?');
            path.push_str(q);
        }
        let to_origin = self.origin.is_some() && host == self.route_host;
        let peer: PeerFuture = match &self.origin {
            Some(origin) if to_origin => {
                let origin = origin.clone();
                Box::pin(async move { origin.peer().await })
            }
            _ => {
                let port = parsed.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
                Box::pin(async move { peer_for(&host, port, tls).await })
            }
        };
        Ok((peer, host_header, path, to_origin))
    }
}

fn classify(e: &pingora::Error, during: &str) -> FetchError {
    use pingora::ErrorType::*;
    match e.etype() {
        ConnectTimedout | ReadTimedout | WriteTimedout => FetchError::Timeout(format!("{during}: {e}")),
        _ => FetchError::Network(format!("{during}: {e}")),
    }
}

/// One HTTP exchange with an origin. The response body streams from a task
/// that returns the connection to the pool when the body is done.
async fn subrequest(
    connector: &Arc<Connector>,
    peer: HttpPeer,
    host_header: String,
    path: String,
    request: FetchRequest,
) -> Result<WorkerResponse, FetchError> {
    let FetchRequest { head, body } = request;
    let method = head.method.clone();
    let mut req = RequestHeader::build(head.method, path.as_bytes(), None)
        .map_err(|e| FetchError::BadUrl(format!("{path}: {e}")))?;
    let mut headers = head.headers;
    strip_hop_by_hop(&mut headers);
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::HOST);
    req.insert_header(header::HOST, host_header)
        .map_err(|e| FetchError::BadUrl(e.to_string()))?;
    for (name, value) in headers.iter() {
        req.append_header(name.clone(), value.clone())
            .map_err(|e| FetchError::BadUrl(e.to_string()))?;
    }
    match &body {
        Body::Empty => {
            if method_expects_body(&method) {
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

    let (mut session, _reused) = connector
        .get_http_session(&peer)
        .await
        .map_err(|e| classify(&e, "connect"))?;
    session.set_read_timeout(Some(READ_TIMEOUT));
    session
        .write_request_header(Box::new(req))
        .await
        .map_err(|e| classify(&e, "write request"))?;
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
    session
        .read_response_header()
        .await
        .map_err(|e| classify(&e, "read response header"))?;
    let resp = session.response_header().expect("response header was read");
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
    let no_body = method == http::Method::HEAD || status == 204 || status == 304 || content_length == Some(0);
    let head = ResponseHead {
        status,
        status_text,
        headers,
    };
    if no_body {
        // Drain the (empty) body so the connection can be reused.
        let _ = session.read_response_body().await;
        release(connector, session, &peer).await;
        return Ok(WorkerResponse {
            head,
            body: Body::Empty,
            cpu_time: Duration::ZERO,
        });
    }
    let (writer, stream) = body_channel(content_length);
    let connector = connector.clone();
    tokio::spawn(async move {
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
                    permit.send(Err(BodyError(format!("origin response body: {e}"))));
                    return;
                }
            }
        }
    });
    Ok(WorkerResponse {
        head,
        body: Body::Stream(stream),
        cpu_time: Duration::ZERO,
    })
}

fn method_expects_body(m: &http::Method) -> bool {
    matches!(*m, http::Method::POST | http::Method::PUT | http::Method::PATCH)
}

async fn release(connector: &Connector, session: HttpSession, peer: &HttpPeer) {
    connector.release_http_session(session, peer, Some(POOL_IDLE)).await;
}
