//! Request and response heads as the runtime sees them, and the
//! [`Fetcher`] through which scripts reach the network.

use std::future::Future;
use std::pin::Pin;

use http::{HeaderMap, Method};
use tokio::sync::oneshot;

use crate::error::DispatchError;
use crate::io::body::Body;

/// What the proxy knows of an incoming request.
#[derive(Debug, Clone)]
pub struct RequestHead {
    /// The request method.
    pub method: Method,
    /// The absolute URL the script sees as `request.url`.
    pub url: String,
    /// The request headers, hop-by-hop headers already removed.
    pub headers: HeaderMap,
    /// What the proxy knows of the client connection: `request.cf`.
    pub client: ClientInfo,
}

/// The client connection as the script sees it in `request.cf`.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The client's IP address (`cf.clientIp`; Workers scripts also read it
    /// from the `CF-Connecting-IP` header).
    pub addr: Option<std::net::IpAddr>,
    /// `cf.httpProtocol`: "HTTP/1.1", "HTTP/2", ...
    pub http_protocol: String,
    /// `cf.tlsVersion`, when the client connected over TLS.
    pub tls_version: Option<String>,
    /// `cf.tlsCipher`, when the client connected over TLS.
    pub tls_cipher: Option<String>,
}

/// The status line and headers of a response.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    /// The HTTP status code.
    pub status: u16,
    /// The reason phrase (`statusText`); may be empty.
    pub status_text: String,
    /// The response headers.
    pub headers: HeaderMap,
}

/// A worker's final answer to a request.
#[derive(Debug)]
pub struct WorkerResponse {
    /// Status and headers.
    pub head: ResponseHead,
    /// The body: untouched origin bodies arrive here as streams that never
    /// entered V8.
    pub body: Body,
    /// For a worker's answer: the JavaScript CPU time the request had used
    /// when the script responded (zero for subrequest responses).
    pub cpu_time: std::time::Duration,
    /// The WebSocket a 101 response carries (`response.webSocket`): on a
    /// pass's 101, the origin's upgraded connection; on a worker's 101
    /// answer, the socket the proxy splices to the client.
    pub web_socket: Option<WebSocketEnd>,
}

/// A WebSocket as it crosses between the proxy and a script.
#[derive(Debug)]
pub enum WebSocketEnd {
    /// An origin's upgraded connection (an accepted WebSocket upgrade):
    /// handed back in a 101 response, the proxy splices it to the client
    /// natively; `accept()`ed, the script speaks WebSocket on it.
    Origin(OriginSocket),
    /// A WebSocketPair's client end: the proxy completes the client's
    /// handshake and carries messages between the client and the script.
    Pair(crate::api::websocket::WebSocketPeer),
}

/// An origin's connection after its 101 to a WebSocket upgrade, as the
/// embedder hands it to a script (`response.webSocket`).
pub trait UpgradedOrigin: Send + 'static {
    /// The script `accept()`ed the socket: the embedder speaks the
    /// WebSocket protocol on the connection (as the client) and carries
    /// whole messages between it and `peer`'s channels, as it does for a
    /// `WebSocketPair`'s client end.
    fn accept(self: Box<Self>, peer: crate::api::websocket::WebSocketPeer);
    /// The connection as the embedder's own type (to splice it to a client).
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send>;
    /// The extensions the origin agreed to (`Sec-WebSocket-Extensions`):
    /// a socket with any cannot be accepted (no extension is built in).
    fn extensions(&self) -> Option<&str>;
}

/// `response.webSocket` of an origin's 101 (see [`UpgradedOrigin`]).
pub struct OriginSocket(pub Box<dyn UpgradedOrigin>);

impl std::fmt::Debug for OriginSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OriginSocket")
    }
}

/// A subrequest made by a script's `fetch()`.
#[derive(Debug)]
pub struct FetchRequest {
    /// Method, absolute URL and headers.
    pub head: RequestHead,
    /// The body to send.
    pub body: Body,
}

/// Why a subrequest failed; becomes a `TypeError` in the script.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL cannot be fetched (bad scheme, no host).
    #[error("Fetch API cannot load: {0}")]
    BadUrl(String),
    /// The origin could not be reached or broke the connection.
    #[error("Network connection lost: {0}")]
    Network(String),
    /// The origin did not answer in time.
    #[error("the origin timed out: {0}")]
    Timeout(String),
    /// The per-request subrequest limit was reached (or the budget shared
    /// along a chain of requests through the proxy).
    #[error("Too many subrequests.")]
    TooManySubrequests,
    /// The embedder's egress policy does not let the script reach this
    /// address (loopback, private, the proxy's own listeners, ...).
    #[error("fetch to {target} refused by the egress policy ({reason})")]
    Refused {
        /// The host as the URL named it, with the refused address when it
        /// was a name.
        target: String,
        /// Why, e.g. "address is loopback".
        reason: String,
    },
}

/// How a request's first slice of JS ends (see
/// [`crate::Runtime::dispatch_or_pass`]): the request phase.
#[derive(Debug)]
pub enum Outcome {
    /// The script answered: its final response.
    Answer(WorkerResponse),
    /// The script passed a request to its route's origin and awaits the
    /// response: the embedder sends it itself, in the task that serves the
    /// client.
    Pass(Pass),
}

/// A request passed to the route's origin: the script's first `fetch()`
/// there, made while the embedder still waited for its answer. The embedder
/// performs the exchange, hands the origin's response head (and body) to
/// [`Pass::fetched`] — the script's `fetch()` resolves with it and its
/// continuation runs: the response phase — and then waits on
/// [`Pass::answer`] for the final response. Dropping the `Pass` before the
/// answer cancels the request, as dropping the dispatch future does.
#[derive(Debug)]
pub struct Pass {
    /// Method, absolute URL and checked headers (as for any subrequest),
    /// and the body to send.
    pub request: FetchRequest,
    /// Settles the script's pending `fetch()`.
    pub fetched: FetchReply,
    /// The script's final response.
    pub answer: Answer,
}

/// Settles the `fetch()` a [`Pass`] stands for.
#[derive(Debug)]
pub struct FetchReply(oneshot::Sender<Result<WorkerResponse, FetchError>>);

impl FetchReply {
    pub(crate) fn new(tx: oneshot::Sender<Result<WorkerResponse, FetchError>>) -> FetchReply {
        FetchReply(tx)
    }

    /// Resolves the script's `fetch()` with the origin's response (its body
    /// becomes a native body id in JS), or rejects it.
    pub fn send(self, result: Result<WorkerResponse, FetchError>) {
        let _ = self.0.send(result);
    }

    /// Resolves once nobody waits for the response any more (the request
    /// ended in the runtime): the exchange can stop.
    pub async fn abandoned(&mut self) {
        self.0.closed().await
    }
}

/// The final response of a passed request.
#[derive(Debug)]
pub struct Answer {
    rx: Option<oneshot::Receiver<Result<WorkerResponse, DispatchError>>>,
    /// Dropped unsent if the embedder stops waiting: the runtime then
    /// cancels the request (set by [`crate::Runtime::dispatch_or_pass`]).
    pub(crate) answered: Option<oneshot::Sender<()>>,
}

impl Answer {
    pub(crate) fn new(rx: oneshot::Receiver<Result<WorkerResponse, DispatchError>>) -> Answer {
        Answer {
            rx: Some(rx),
            answered: None,
        }
    }

    /// Waits for the script's final response (cancel-safe: may be called
    /// again after a dropped call, until it has answered once).
    pub async fn wait(&mut self) -> Result<WorkerResponse, DispatchError> {
        let Some(rx) = self.rx.as_mut() else {
            return Err(DispatchError::Unavailable);
        };
        let answer = rx.await.unwrap_or(Err(DispatchError::Unavailable));
        self.rx = None;
        if let Some(answered) = self.answered.take() {
            let _ = answered.send(());
        }
        answer
    }
}

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// How a request's scripts reach the network. The embedder supplies one per
/// incoming request (so it can route the request's own host to its origin
/// and count subrequests); the runtime calls it from an isolate thread, so
/// implementations should run the I/O elsewhere and only await it here.
pub trait Fetcher: Send + Sync + 'static {
    /// Performs one subrequest and answers with the response head and a
    /// body that streams as the origin sends it.
    fn fetch(&self, request: FetchRequest) -> BoxFuture<Result<WorkerResponse, FetchError>>;

    /// Whether `head` goes to the request's route origin: such a request,
    /// the request's first, may be handed to the embedder as a [`Pass`]
    /// instead of going through [`Fetcher::fetch`]. No by default.
    fn goes_to_route_origin(&self, _head: &RequestHead) -> bool {
        false
    }
}
