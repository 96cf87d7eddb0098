//! The origin leg of a worker request's pass, served in the task that
//! serves the client (issue 10). A script's first `fetch()` to its route's
//! origin ends the request phase with `Outcome::Pass` (see
//! `Runtime::dispatch_or_pass`): this task sends it through Pingora's
//! connector and pool, as a plain route's request goes, hands the origin's
//! response head to the script (its `fetch()` resolves; the continuation
//! runs: the response phase) and waits for the final answer. The origin's
//! body stays on the upstream connection until someone asks for it: spliced
//! to the client natively when the answer hands it back untouched, fed into
//! the script's body channel chunk by chunk when the script reads it.
//!
//! Everything else a script fetches goes through `OriginFetcher` as a
//! subrequest (spawned on the proxy runtime, its body pumped by a task).

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use pingora::connectors::http::Connector;
use pingora::prelude::*;
use pingora::protocols::http::client::HttpSession;
use pingora::proxy::Session;
use pingora_http::RequestHeader;
use plugin_runtime::{
    Body, BodyStream, BodyWriter, BoxFuture, DispatchError, FetchError, FetchReply, FetchRequest, Pass, WorkerResponse,
    linked_body_channel,
};
use tokio::time::Sleep;

use crate::edge::{Downstream, body_stalled, downstream_event, pump_request_chunk};
use crate::origin::{
    OriginFetcher, OriginHead, classify, exchange, fetch_error_kind, open, origin_body_error, pump_body, read_head,
    release,
};
use crate::websocket::UpgradedConnection;

/// The origin's response body of a pass, still on its upstream connection.
pub struct OriginBody {
    connector: Arc<Connector>,
    peer: Box<HttpPeer>,
    /// `None` once the body has been read to its end (the connection is
    /// back in the pool).
    upstream: Option<HttpSession>,
    /// The script's end of the body is this writer's stream.
    writer: BodyWriter,
}

impl OriginBody {
    /// Whether `stream` is this body, handed back by the script as the
    /// final answer's body.
    pub fn is(&self, stream: &BodyStream) -> bool {
        self.writer.feeds(stream)
    }

    /// Once the script has asked for the body and its channel has room,
    /// moves one chunk into it. False when there is nothing more to do:
    /// the body ended (connection released), failed, or nobody will read
    /// it (dropping `self` then closes the connection).
    pub async fn feed(&mut self) -> bool {
        let Some(upstream) = self.upstream.as_mut() else {
            return false;
        };
        tokio::select! {
            _ = self.writer.wanted() => {}
            _ = self.writer.closed() => return false,
        }
        let Some(permit) = self.writer.reserve().await else {
            return false;
        };
        match upstream.read_response_body().await {
            Ok(Some(chunk)) => {
                permit.send(Ok(chunk));
                true
            }
            Ok(None) => {
                drop(permit);
                if let Some(upstream) = self.upstream.take() {
                    release(&self.connector, upstream, &self.peer).await;
                }
                false
            }
            Err(e) => {
                permit.send(Err(origin_body_error(&e)));
                false
            }
        }
    }

    /// Copies the rest of the body to the client in this task (after what
    /// the script's channel already holds), then returns the connection to
    /// the pool. The client's request body keeps flowing into the script
    /// meanwhile, if it still reads it.
    pub async fn splice(
        self: Box<Self>,
        session: &mut Session,
        mut stream: BodyStream,
        req_writer: &mut Option<BodyWriter>,
    ) -> Result<()> {
        let OriginBody {
            connector,
            peer,
            upstream,
            writer,
        } = *self;
        drop(writer);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Error::explain(ErrorType::ReadError, e.to_string()).into_up())?;
            session
                .write_response_body(Some(chunk), false)
                .await
                .map_err(|e| e.into_down())?;
        }
        let Some(mut upstream) = upstream else {
            return session.write_response_body(None, true).await.map_err(|e| e.into_down());
        };
        loop {
            tokio::select! {
                chunk = upstream.read_response_body() => match chunk {
                    Ok(Some(bytes)) => session
                        .write_response_body(Some(bytes), false)
                        .await
                        .map_err(|e| e.into_down())?,
                    Ok(None) => {
                        session.write_response_body(None, true).await.map_err(|e| e.into_down())?;
                        release(&connector, upstream, &peer).await;
                        return Ok(());
                    }
                    Err(e) => return Err(e.more_context("origin response body").into_up()),
                },
                more = pump_request_chunk(session, req_writer.as_ref()), if req_writer.is_some() => {
                    if !more {
                        *req_writer = None;
                    }
                }
            }
        }
    }

    /// After the client's response: a body nobody reads any more goes (its
    /// connection closes); one the script still reads (e.g. in `waitUntil`)
    /// continues in a spawned pump, as a subrequest's body does.
    pub fn detach(self: Box<Self>) {
        let body = *self;
        if let Some(upstream) = body.upstream
            && !body.writer.is_closed()
        {
            tokio::spawn(pump_body(body.connector, upstream, *body.peer, body.writer));
        }
    }
}

/// Feeds `leg`'s body one chunk (see [`OriginBody::feed`]); pending forever
/// when there is no leg. Drops the leg when it has nothing more to do.
pub async fn feed(leg: &mut Option<Box<OriginBody>>) {
    match leg {
        Some(body) => {
            if !body.feed().await {
                *leg = None;
            }
        }
        None => std::future::pending().await,
    }
}

/// The end of a pass: the script's final answer and the origin's body if
/// it is still on its connection. `None` when the client went away. The
/// origin's body and its peer are boxed: they move through several
/// futures' states on their way (a session and a peer are over 1 KB).
pub type Served = Option<(Result<WorkerResponse, DispatchError>, Option<Box<OriginBody>>)>;

/// An exchange with the origin up to its response head.
type Exchange = BoxFuture<Result<(HttpSession, OriginHead, Box<HttpPeer>), FetchError>>;

/// `Box::pin(make())`, with the box allocated first so that the future is
/// made in it. `Box::pin(future)` makes a future on the stack and then
/// copies it, whole, into the box: for the exchange (about 12 KB: Pingora's
/// connect and TLS states) and a worker's request (about 20 KB), on every
/// request.
#[inline(always)]
pub fn boxed_in_place<'a, F: Future + Send + 'a>(make: impl FnOnce() -> F) -> Pin<Box<F>> {
    let place = Box::<F>::new_uninit();
    let boxed: Box<F> = Box::write(place, make());
    Box::into_pin(boxed)
}

/// Serves a pass: sends it to the route's origin from this task, settles
/// the script's `fetch()` with the response head, and waits for the final
/// answer, feeding the script's body channels meanwhile. `deadline` is the
/// worker's `request_timeout_s`, which the answer must beat.
pub async fn serve(
    session: &mut Session,
    pass: Pass,
    fetcher: &OriginFetcher,
    req_writer: &mut Option<BodyWriter>,
    mut deadline: Pin<&mut Sleep>,
) -> Served {
    let Pass {
        request,
        fetched,
        mut answer,
    } = pass;
    let FetchRequest { head, body } = request;
    let method = head.method.clone();
    // A WebSocket upgrade the script asks for (the client's passed on, or
    // its own), or another upgrade the client asked for and the script
    // still asks for: it goes to the origin with its Connection.
    let websocket = crate::websocket::asks_websocket(&head.headers);
    let upgrade = head
        .headers
        .get(http::header::UPGRADE)
        .filter(|_| !websocket && session.is_upgrade_req())
        .cloned();
    let mut ws_key = None;
    let leg = fetcher.pass_leg(head, &body).await.and_then(|(peer, mut header)| {
        if websocket {
            ws_key = Some(crate::websocket::upgrade_request(&mut header)?);
        }
        if let Some(upgrade) = upgrade {
            let set = header
                .insert_header(http::header::UPGRADE, upgrade)
                .and_then(|()| header.insert_header(http::header::CONNECTION, "Upgrade"));
            if let Err(e) = set {
                return Err(plugin_runtime::FetchError::Network(format!("upgrade header: {e}")));
            }
        }
        Ok((Box::new(peer), header))
    });
    let connector = fetcher.connector.clone();
    let mut exchange: Exchange = match (leg, body) {
        (Err(e), _) => Box::pin(std::future::ready(Err(e))),
        // The client's own body, untouched by the script: the rest of it
        // goes from the client's connection to the origin's in this task.
        (Ok((peer, header)), Body::Stream(buffered)) if req_writer.as_ref().is_some_and(|w| w.feeds(&buffered)) => {
            *req_writer = None;
            let uploaded = tokio::select! {
                up = upload_from_client(session, &connector, &peer, header, buffered) => up,
                _ = deadline.as_mut() => return Some((Err(DispatchError::TimedOut), None)),
            };
            Box::pin(async move {
                let mut upstream = uploaded?;
                let head = read_head(&mut upstream, &method).await?;
                Ok((upstream, head, peer))
            })
        }
        (Ok((peer, header)), body) => {
            let connector = connector.clone();
            boxed_in_place(|| async move {
                let (upstream, head) = exchange(&connector, &peer, header, body, &method).await?;
                Ok((upstream, head, peer))
            })
        }
    };
    let exchanged = loop {
        tokio::select! {
            exchanged = &mut exchange => break exchanged,
            // The script answered before the origin did (a response that
            // streams what its fetch() brings later, or one that does not
            // wait for it): the exchange goes on in a task of its own, as a
            // subrequest's would, and the answer is written now.
            answered = answer.wait() => {
                tokio::spawn(finish_detached(exchange, fetched, connector));
                return Some((answered, None));
            }
            _ = deadline.as_mut() => return Some((Err(DispatchError::TimedOut), None)),
            event = downstream_event(session, req_writer.as_ref()) => match event {
                Downstream::More => {}
                Downstream::BodyDone => *req_writer = None,
                Downstream::Gone => return None,
            },
        }
    };
    let mut leg = match exchanged {
        // The origin accepted the WebSocket upgrade: `response.webSocket`
        // stands for its connection (returned in a 101 it is spliced to
        // the client; `accept()`ed, the script speaks on it).
        Ok((upstream, head, _)) if head.head.status == 101 && ws_key.is_some() => {
            let key = ws_key.as_deref().unwrap_or_default();
            fetched.send(UpgradedConnection::answer(
                upstream,
                head.head,
                key,
                fetcher.websocket_idle,
            ));
            None
        }
        Ok((upstream, head, peer)) => settle(fetched, connector, upstream, head, peer).await,
        Err(e) => {
            count_failure(&e);
            fetched.send(Err(e));
            None
        }
    };
    // The response phase: the script's continuation runs with the head.
    loop {
        tokio::select! {
            answered = answer.wait() => return Some((answered, leg)),
            () = feed(&mut leg) => {}
            _ = deadline.as_mut() => return Some((Err(DispatchError::TimedOut), None)),
            event = downstream_event(session, req_writer.as_ref()) => match event {
                Downstream::More => {}
                Downstream::BodyDone => *req_writer = None,
                Downstream::Gone => return None,
            },
        }
    }
}

/// Settles the script's `fetch()` with the origin's response: a response
/// without a body at once (the connection goes back to the pool), any other
/// with a body the script reads only if it asks (see [`OriginBody`]).
async fn settle(
    fetched: FetchReply,
    connector: Arc<Connector>,
    mut upstream: HttpSession,
    head: OriginHead,
    peer: Box<HttpPeer>,
) -> Option<Box<OriginBody>> {
    let OriginHead { head, body } = head;
    // A 101 nobody will splice any more (the script answered first): the
    // script sees the head; the connection closes.
    if head.status == 101 {
        fetched.send(Ok(WorkerResponse {
            head,
            body: Body::Empty,
            cpu_time: Duration::ZERO,
            web_socket: None,
        }));
        return None;
    }
    let Some(content_length) = body else {
        fetched.send(Ok(WorkerResponse {
            head,
            body: Body::Empty,
            cpu_time: Duration::ZERO,
            web_socket: None,
        }));
        // Read the (empty) body's end so the connection can be reused.
        let _ = upstream.read_response_body().await;
        release(&connector, upstream, &peer).await;
        return None;
    };
    let (writer, stream) = linked_body_channel(content_length);
    fetched.send(Ok(WorkerResponse {
        head,
        body: Body::Stream(stream),
        cpu_time: Duration::ZERO,
        web_socket: None,
    }));
    Some(Box::new(OriginBody {
        connector,
        peer,
        upstream: Some(upstream),
        writer,
    }))
}

/// The rest of an exchange the script no longer waits for before answering
/// (see [`serve`]): it settles the script's `fetch()` unless the request has
/// ended meanwhile, and its body is pumped by a task, as a subrequest's.
async fn finish_detached(exchange: Exchange, mut fetched: FetchReply, connector: Arc<Connector>) {
    let exchanged = tokio::select! {
        exchanged = exchange => exchanged,
        () = fetched.abandoned() => return,
    };
    match exchanged {
        Ok((upstream, head, peer)) => {
            if let Some(body) = settle(fetched, connector, upstream, head, peer).await {
                body.detach();
            }
        }
        Err(e) => {
            count_failure(&e);
            fetched.send(Err(e));
        }
    }
}

/// Sends the pass with the client's own request body: what the script's
/// channel already holds, then the rest read from the client's connection
/// as the origin takes it (Pingora's backpressure on both sockets).
async fn upload_from_client(
    session: &mut Session,
    connector: &Connector,
    peer: &HttpPeer,
    header: RequestHeader,
    mut buffered: BodyStream,
) -> Result<HttpSession, FetchError> {
    let mut upstream = open(connector, peer, header).await?;
    while let Some(chunk) = buffered.next().await {
        let chunk = chunk.map_err(|e| FetchError::Network(format!("request body: {e}")))?;
        upstream
            .write_request_body(chunk, false)
            .await
            .map_err(|e| classify(&e, "write request body"))?;
    }
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => upstream
                .write_request_body(chunk, false)
                .await
                .map_err(|e| classify(&e, "write request body"))?,
            Ok(None) => break,
            Err(e) => {
                if e.etype() == &ErrorType::ReadTimedout {
                    body_stalled(session);
                } else {
                    session.set_keepalive(None);
                }
                return Err(FetchError::Network(format!("request body: client request body: {e}")));
            }
        }
    }
    upstream
        .finish_request_body()
        .await
        .map_err(|e| classify(&e, "finish request body"))?;
    Ok(upstream)
}

/// Counts a failed exchange with the origin (as subrequests are counted).
fn count_failure(e: &FetchError) {
    if let Some(kind) = fetch_error_kind(e) {
        crate::metrics::metrics().origin_error(kind);
    }
}
