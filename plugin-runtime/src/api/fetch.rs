//! `fetch()`'s native half: the subrequest checked for the wire, counted
//! against the request's limit, and sent through the embedder's
//! [`Fetcher`](crate::io::http::Fetcher); the request phase's first
//! `fetch()` to the route's origin becomes a pass (see
//! `Runtime::dispatch_or_pass`).

use crate::error::{DispatchError, OpError};
use crate::io::context::{OpResult, Pending, Reply, SharedState};
use crate::io::http::{ClientInfo, FetchError, FetchRequest, RequestHead, WorkerResponse};
use crate::jsg::ops::{body_arg, current_request, headers_from_js, state, str_arg, u32_arg};
use crate::jsg::promise::{PendingPromise, pending_promise, promise_op, rejected_promise};
use crate::jsg::wire;

/// `fetch(reqId, method, url, headers, bodyKind, body)` -> Promise of
/// `[status, statusText, headers, body, socket]` where body is null, a
/// native body id, or a Uint8Array, and socket null or the id of the
/// origin's WebSocket (a 101).
pub(crate) fn op_fetch(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let req_id = u32_arg(scope, args.get(0));
    // The request line and headers, checked for the wire before anything
    // is counted or sent.
    let head = (|| -> Result<RequestHead, OpError> {
        // (Copies bounded loosely; the wire checks name the real bounds.)
        let method = str_arg(scope, args.get(1), "method", 4 * wire::MAX_METHOD_BYTES)?;
        let method = wire::method(&method)?;
        let url = str_arg(scope, args.get(2), "url", 4 * wire::MAX_URL_BYTES)?;
        let url = wire::url(&url)?;
        let headers = headers_from_js(scope, args.get(3))?;
        Ok(RequestHead {
            method,
            url,
            headers,
            client: ClientInfo::default(),
        })
    })();
    let head = match head {
        Ok(h) => h,
        Err(e) => return rejected_promise(scope, &mut rv, e),
    };
    let fetcher = {
        let mut s = st.borrow_mut();
        let limit = s.subrequest_limit;
        match s.requests.get_mut(&req_id) {
            None => None,
            Some(ctx) => {
                ctx.subrequests = ctx.subrequests.saturating_add(1);
                if ctx.subrequests > limit {
                    drop(s);
                    let e = OpError::type_error(FetchError::TooManySubrequests.to_string());
                    return rejected_promise(scope, &mut rv, e);
                }
                Some(ctx.fetcher.clone())
            }
        }
    };
    let Some(fetcher) = fetcher else {
        let e = OpError::type_error("fetch() can only be called while handling a request");
        return rejected_promise(scope, &mut rv, e);
    };
    let kind = u32_arg(scope, args.get(4));
    let Some(body) = body_arg(scope, &st, kind, args.get(5)) else {
        return rejected_promise(scope, &mut rv, OpError::type_error("the request body was already used"));
    };
    let request = FetchRequest { head, body };
    // (The promise below belongs to the running request: only then may it pass.)
    let phase = (current_request(scope) == Some(req_id))
        .then(|| take_request_phase(&st, req_id, &fetcher, &request.head))
        .flatten();
    let fut = match phase {
        Some(phase) => return pass_out(scope, &mut rv, &st, req_id, phase, request),
        None => fetcher.fetch(request),
    };
    promise_op(scope, &mut rv, async move {
        OpResult::Fetched {
            req_id,
            result: fut.await,
        }
    });
}

/// The end of a request phase that passes: its reply, and the receiver of
/// the final answer.
type PassingPhase = (
    tokio::sync::oneshot::Sender<Result<crate::io::http::Outcome, DispatchError>>,
    tokio::sync::oneshot::Receiver<Result<WorkerResponse, DispatchError>>,
);

/// The request phase's pass (see `Runtime::dispatch_or_pass`): if `head` is
/// the request's first `fetch()` to its route's origin and the proxy still
/// waits for the request phase's answer (and accepts a pass), takes that
/// reply; the request's reply becomes the response phase's
/// (`Reply::Answer`).
fn take_request_phase(
    st: &SharedState,
    req_id: u32,
    fetcher: &std::sync::Arc<dyn crate::io::http::Fetcher>,
    head: &RequestHead,
) -> Option<PassingPhase> {
    let mut s = st.borrow_mut();
    let ctx = s.requests.get_mut(&req_id)?;
    let waiting = matches!(ctx.reply, Some(Reply::Fetch(_)));
    if !waiting || !ctx.passable || !fetcher.goes_to_route_origin(head) {
        return None;
    }
    ctx.passable = false;
    let (answer_tx, answer_rx) = tokio::sync::oneshot::channel();
    match ctx.reply.replace(Reply::Answer(answer_tx)) {
        Some(Reply::Fetch(phase)) => Some((phase, answer_rx)),
        _ => None, // (checked above)
    }
}

/// Ends the request phase with `request` as its pass: the proxy sends it
/// in the task serving the client and settles the script's `fetch()`
/// promise through the pass's [`crate::io::http::FetchReply`] (directly,
/// when that task runs on this isolate's thread: no task, no queue).
fn pass_out(
    scope: &mut v8::PinScope<'_, '_>,
    rv: &mut v8::ReturnValue,
    st: &SharedState,
    req_id: u32,
    phase: PassingPhase,
    request: FetchRequest,
) {
    use crate::io::http::{Answer, FetchReply, Pass};
    let (phase, answer) = phase;
    // (None: execution is being terminated; the reply dropped unsent ends
    // the request.)
    let Some(PendingPromise {
        id,
        completions,
        isolate,
    }) = pending_promise(scope, rv, st, Some(req_id))
    else {
        return;
    };
    let (alive_tx, alive_rx) = tokio::sync::oneshot::channel();
    st.borrow_mut().tasks.insert(id, Pending::Outside(alive_tx));
    let pass = Pass {
        request,
        fetched: FetchReply::new(completions, isolate, id, req_id, alive_rx),
        answer: Answer::new(answer),
    };
    // Unsent only when the proxy stopped waiting: the request is being
    // cancelled (and its promise stays pending until it ends).
    let _ = phase.send(Ok(crate::io::http::Outcome::Pass(pass)));
}
