//! One request's life, from dispatch to done. `Runtime::dispatch_phase`
//! (runtime.rs) places it on a thread; there [`Host::dispatch`] drops it if
//! nobody waits any more, else finds the worker's isolate and watches for
//! the proxy giving up; the isolate hands it to the script
//! ([`WorkerIsolate::dispatch`], or `scheduled` for a cron event);
//! its async operations complete into JS ([`WorkerIsolate::complete`]); the
//! script answers (`ops.respond` / `ops.respondError`, or a pass through
//! `fetch`, see `api/fetch.rs`) and [`finish`] sends the outcome to whoever
//! waits; `ops.requestDone` marks the handler and its `waitUntil` work
//! settled, and [`end_request`] drops what the request still holds once its
//! written bodies are closed; the proxy's [`WorkerIsolate::cancel`] ends it
//! early when the client has gone. [`RequestCtx`] is what the isolate keeps
//! per request meanwhile.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::error::{DispatchError, OpError};
use crate::io::body::Body;
use crate::io::context::{OpResult, Reply, SharedState};
use crate::io::http::{FetchError, Fetcher, Outcome as HttpOutcome, RequestHead, WorkerResponse};
use crate::io::thread::Host;
use crate::jsg::ops::{body_arg, number_arg, response_head, state, throw, throw_type_error, u32_arg};
use crate::jsg::wire;
use crate::script::isolate::{WorkerIsolate, exception_stack};
use crate::script::worker::WorkerCode;

/// A request (or scheduled event) the script is handling.
pub(crate) struct RequestCtx {
    pub reply: Option<Reply>,
    /// The proxy accepts a pass and none has been handed out yet.
    pub passable: bool,
    pub fetcher: Arc<dyn Fetcher>,
    pub subrequests: u32,
    /// KV operations started (their own limit, `kv::MAX_OPS_PER_REQUEST`).
    pub kv_ops: u32,
    /// The last subrequest failure, to classify an uncaught exception.
    pub fetch_failure: Option<FetchError>,
    /// CPU time this request's JS may use in all.
    pub cpu_limit: Duration,
    /// CPU time its JS has used so far.
    pub cpu_used: Duration,
    /// Its longest slice of JS so far, as judged for heaviness (less the
    /// isolate's one-off work and warm-up credit).
    pub longest_slice: Duration,
    /// The handler and its `waitUntil` work have settled (`requestDone`);
    /// the request ends once the bodies it writes are closed too.
    pub done: bool,
    /// A `scheduled()` run rather than a client's request (its long slices
    /// do not make the worker heavy: scheduled runs have their own lane).
    pub scheduled: bool,
}

impl RequestCtx {
    fn new(reply: Reply, fetcher: Arc<dyn Fetcher>, cpu_limit: Duration) -> RequestCtx {
        RequestCtx {
            scheduled: matches!(reply, Reply::Scheduled(_)),
            reply: Some(reply),
            passable: false,
            fetcher,
            subrequests: 0,
            kv_ops: 0,
            fetch_failure: None,
            cpu_limit,
            cpu_used: Duration::ZERO,
            longest_slice: Duration::ZERO,
            done: false,
        }
    }
}

impl Host {
    /// Hands a request to `worker`'s isolate on this thread (created if
    /// there is none), already counted in `inflight`. Must run inside the
    /// thread's `LocalSet` (ops spawn their futures there).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn dispatch(
        &mut self,
        worker: &Arc<WorkerCode>,
        head: RequestHead,
        body: Body,
        fetcher: Arc<dyn Fetcher>,
        passes: bool,
        reply: oneshot::Sender<Result<HttpOutcome, DispatchError>>,
        mut cancel: oneshot::Receiver<()>,
    ) {
        // The proxy stopped waiting while the request sat in the queue
        // (its client went away or it timed out): the script never sees it.
        if matches!(cancel.try_recv(), Err(oneshot::error::TryRecvError::Closed)) {
            self.inflight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            log::debug!("request dropped before dispatch: nobody waits for its answer any more");
            return;
        }
        match self.isolate_for(worker) {
            Ok(isolate) => {
                isolate.last_used = std::time::Instant::now();
                let req = isolate.dispatch(head, body, fetcher, passes, reply);
                let key = isolate.key();
                let cancels = self.cancels_tx.clone();
                tokio::task::spawn_local(async move {
                    if cancel.await.is_err() {
                        let _ = cancels.send((key, req));
                    }
                });
            }
            Err(e) => {
                self.inflight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                let _ = reply.send(Err(e));
            }
        }
    }
}

impl WorkerIsolate {
    /// Hands a request to the script. The answer arrives through `reply`
    /// when the script responds (see [`op_respond`]), or, if `passes`, a
    /// pass when it first fetches from its route's origin.
    pub(crate) fn dispatch(
        &mut self,
        head: RequestHead,
        body: Body,
        fetcher: Arc<dyn Fetcher>,
        passes: bool,
        reply: oneshot::Sender<Result<HttpOutcome, DispatchError>>,
    ) -> u32 {
        let limit = Duration::from_millis(self.code.spec.cpu_ms);
        let mut ctx = RequestCtx::new(Reply::Fetch(reply), fetcher, limit);
        ctx.passable = passes;
        let req_id = self.register(ctx);
        self.guarded(Some(req_id), |me| me.dispatch_entered(req_id, head, body));
        req_id
    }

    /// The proxy stopped waiting for request `req` (its client went away or
    /// it timed out) before the script responded: it ends here, its
    /// in-flight count is released and its pending work is dropped. A
    /// request that has responded keeps running its `waitUntil` work.
    pub(crate) fn cancel(&mut self, req: u32) {
        let waiting = self
            .state
            .borrow()
            .requests
            .get(&req)
            .is_some_and(|c| c.reply.is_some());
        if !waiting {
            return;
        }
        log::info!(
            target: "isoproxy::worker",
            "worker {}: request cancelled before the script responded (client gone or timed out)",
            self.code.name()
        );
        finish(&self.state, req, Outcome::Failed(DispatchError::TimedOut));
        self.enter();
        end_request(&self.state, req);
        self.exit();
    }

    /// Ends requests that are done and whose written bodies' consumers have
    /// gone away (run by the thread's periodic sweep).
    pub(crate) fn reap_requests(&mut self) {
        let done: Vec<u32> = {
            let s = self.state.borrow();
            s.requests.iter().filter(|(_, c)| c.done).map(|(id, _)| *id).collect()
        };
        if done.is_empty() {
            return;
        }
        self.enter();
        for req in done {
            end_if_idle(&self.state, req);
        }
        self.exit();
    }

    fn register(&mut self, ctx: RequestCtx) -> u32 {
        let mut st = self.state.borrow_mut();
        let id = st.next_id();
        st.requests.insert(id, ctx);
        id
    }

    fn dispatch_entered(&mut self, req_id: u32, head: RequestHead, body: Body) {
        let body_rid = match body {
            Body::Empty => None,
            Body::Stream(s) => Some(self.state.borrow_mut().add_body(s)),
            Body::Bytes(b) => {
                let (w, s) = crate::io::body::body_channel(Some(b.len() as u64));
                tokio::task::spawn_local(async move {
                    let _ = w.send(b).await;
                });
                Some(self.state.borrow_mut().add_body(s))
            }
        };
        let context = self.context.as_ref().unwrap();
        v8::scope_with_context!(let scope, &mut self.isolate, context);
        v8::tc_scope!(let tc, scope);
        let handler = v8::Local::new(tc, self.handler.as_ref().unwrap());
        let env = v8::Local::new(tc, self.env.as_ref().unwrap());
        let dispatch = v8::Local::new(tc, self.dispatch.as_ref().unwrap());
        let id = v8::Integer::new_from_unsigned(tc, req_id).into();
        // Internalized: the bootstrap looks methods up (`METHODS.has`), and a
        // fresh string would be internalized there on every request.
        let method =
            v8::String::new_from_one_byte(tc, head.method.as_str().as_bytes(), v8::NewStringType::Internalized)
                .unwrap_or_else(|| v8::String::empty(tc))
                .into();
        let url = v8::String::new(tc, &head.url).unwrap().into();
        // The headers stay in Rust until read; `request.cf` is made from
        // `head.client` on its first read (ops.requestCf).
        let headers = crate::jsg::headers::to_js_with_client(tc, head.headers, Some(head.client)).into();
        let rid: v8::Local<v8::Value> = match body_rid {
            Some(r) => v8::Integer::new_from_unsigned(tc, r).into(),
            None => v8::null(tc).into(),
        };
        let undefined = v8::undefined(tc).into();
        let cf = undefined;
        tc.set_continuation_preserved_embedder_data(id);
        let called = dispatch.call(tc, undefined, &[handler, id, method, url, headers, rid, env, cf]);
        tc.set_continuation_preserved_embedder_data(undefined);
        if called.is_none() {
            let msg = match tc.exception() {
                Some(e) => exception_stack(tc, e),
                None => "execution terminated".into(),
            };
            fail_request(&self.state, req_id, msg);
            // dispatchFetch never got to call requestDone.
            end_request(&self.state, req_id);
        }
        tc.perform_microtask_checkpoint();
    }

    /// Runs the script's `scheduled` handler. The outcome arrives through
    /// `reply` once the handler and its `waitUntil` work have settled.
    pub(crate) fn scheduled(
        &mut self,
        cron: &str,
        scheduled_time_ms: f64,
        fetcher: Arc<dyn Fetcher>,
        reply: oneshot::Sender<Result<(), DispatchError>>,
    ) {
        let limit = Duration::from_millis(self.code.spec.scheduled_cpu_ms);
        let req_id = self.register(RequestCtx::new(Reply::Scheduled(reply), fetcher, limit));
        self.guarded(Some(req_id), |me| {
            let context = me.context.as_ref().unwrap();
            v8::scope_with_context!(let scope, &mut me.isolate, context);
            v8::tc_scope!(let tc, scope);
            let handler = v8::Local::new(tc, me.handler.as_ref().unwrap());
            let env = v8::Local::new(tc, me.env.as_ref().unwrap());
            let entry = v8::Local::new(tc, me.dispatch_scheduled.as_ref().unwrap());
            let id = v8::Integer::new_from_unsigned(tc, req_id).into();
            let cron = v8::String::new(tc, cron).unwrap().into();
            let time = v8::Number::new(tc, scheduled_time_ms).into();
            let undefined = v8::undefined(tc).into();
            tc.set_continuation_preserved_embedder_data(id);
            let called = entry.call(tc, undefined, &[handler, id, cron, time, env]);
            tc.set_continuation_preserved_embedder_data(undefined);
            if called.is_none() {
                let msg = match tc.exception() {
                    Some(e) => exception_stack(tc, e),
                    None => "execution terminated".into(),
                };
                fail_request(&me.state, req_id, msg);
                end_request(&me.state, req_id);
            }
            tc.perform_microtask_checkpoint();
        });
    }

    /// Settles the promise a completed operation belongs to.
    pub(crate) fn complete(&mut self, promise: u32, result: OpResult) {
        let Some((resolver, req)) = self.state.borrow_mut().promises.remove(&promise) else {
            return;
        };
        self.state.borrow_mut().tasks.remove(&promise);
        // Each WebSocket message is an event of its own, as on Workers: its
        // handlers get the worker's whole CPU limit, not what the request
        // (which lives as long as the socket) has left.
        if let (OpResult::WsEvent { .. }, Some(r)) = (&result, req)
            && let Some(ctx) = self.state.borrow_mut().requests.get_mut(&r)
        {
            ctx.cpu_used = Duration::ZERO;
        }
        self.guarded(req, |me| me.complete_entered(resolver, result));
    }

    fn complete_entered(&mut self, resolver: v8::Global<v8::PromiseResolver>, result: OpResult) {
        let context = self.context.as_ref().unwrap();
        v8::scope_with_context!(let scope, &mut self.isolate, context);
        let resolver = v8::Local::new(scope, resolver);
        crate::jsg::promise::settle(scope, &self.state, resolver, result);
        scope.perform_microtask_checkpoint();
    }
}

/// Ends request `req` in the runtime: its context goes, and with it every
/// pending operation it started (timers, subrequests, body reads): their
/// tasks are aborted and their promises never settle, so no more of its
/// JS runs. As in workerd, where a request's I/O context owns its timers.
pub(crate) fn end_request(st: &SharedState, req: u32) {
    let (resolvers, tasks) = {
        let mut s = st.borrow_mut();
        let Some(ctx) = s.requests.remove(&req) else {
            return;
        };
        // How long the request held its thread, for the worker's strain:
        // completed by the running slice's own CPU if it ends in it.
        if !ctx.scheduled {
            if s.slice_request == Some(req) {
                s.ended_in_slice = Some(ctx.longest_slice);
            } else {
                s.strain.note(ctx.longest_slice);
            }
        }
        s.sink_owners.retain(|_, owner| *owner != req);
        s.kv_buffers.retain(|_, b| b.owner != Some(req));
        s.sockets.retain(|_, (_, owner)| *owner != req);
        s.ws_servers.retain(|_, server| server.owner != req);
        let ids: Vec<u32> = s
            .promises
            .iter()
            .filter(|(_, (_, owner))| *owner == Some(req))
            .map(|(id, _)| *id)
            .collect();
        let mut resolvers = Vec::with_capacity(ids.len());
        let mut tasks = Vec::with_capacity(ids.len());
        for id in ids {
            resolvers.extend(s.promises.remove(&id));
            tasks.extend(s.tasks.remove(&id));
        }
        (resolvers, tasks)
    };
    for t in tasks {
        t.stop();
    }
    drop(resolvers);
}

/// `requestDone`: the handler and its `waitUntil` work have settled. The
/// request ends now unless a body it writes is still open (a streamed
/// response keeps its request, and its timers, alive until it ends).
pub(crate) fn request_done(st: &SharedState, req: u32) {
    if let Some(ctx) = st.borrow_mut().requests.get_mut(&req) {
        ctx.done = true;
    }
    end_if_idle(st, req);
}

/// A sink was opened by the script for whatever request is running.
pub(crate) fn sink_opened(st: &SharedState, sink: u32, owner: Option<u32>) {
    let mut s = st.borrow_mut();
    if let Some(req) = owner.filter(|r| s.requests.contains_key(r)) {
        s.sink_owners.insert(sink, req);
    }
}

/// A sink was closed by the script; its request may now be over.
pub(crate) fn sink_closed(st: &SharedState, sink: u32) {
    let owner = st.borrow_mut().sink_owners.remove(&sink);
    if let Some(req) = owner {
        end_if_idle(st, req);
    }
}

/// Ends `req` if it is done and writes no open body (one whose consumer is
/// gone counts as closed).
fn end_if_idle(st: &SharedState, req: u32) {
    let idle = {
        let s = st.borrow();
        s.requests.get(&req).is_some_and(|ctx| ctx.done)
            && !s
                .sink_owners
                .iter()
                .any(|(sink, owner)| *owner == req && s.sinks.get(sink).is_some_and(|w| !w.is_closed()))
    };
    if idle {
        end_request(st, req);
    }
}

/// `respond(reqId, status, statusText, headers, bodyKind, body, socket)`.
/// Checked for the wire whatever the bootstrap checked: status 200-599 (or
/// 101 with an unused `socket` id from `response.webSocket`), a reason
/// phrase without controls, valid and bounded headers, no body on a
/// null-body status.
pub(crate) fn op_respond(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let req_id = u32_arg(scope, args.get(0));
    // A 101 goes out only with the WebSocket it switches to (`webSocket`,
    // a socket id this isolate handed out and nobody has used yet).
    // (Without one, 101 is out of range, as for the Response constructor.)
    let upgrade = number_arg(scope, args.get(1)) == Some(101.0) && !args.get(6).is_null_or_undefined();
    let web_socket = if upgrade {
        let id = u32_arg(scope, args.get(6));
        let owner = st.borrow().sockets.get(&id).map(|(_, owner)| *owner);
        if owner.is_some_and(|o| o != req_id) {
            return throw(scope, OpError::type_error(crate::api::websocket::OTHER_REQUEST));
        }
        match st.borrow_mut().sockets.remove(&id) {
            Some((ws, _)) => Some(ws),
            None => {
                return throw(
                    scope,
                    OpError::type_error("A 101 response needs a WebSocket that has not been used yet (webSocket)."),
                );
            }
        }
    } else {
        None
    };
    let status = if upgrade {
        v8::Number::new(scope, 200.0).into()
    } else {
        args.get(1)
    };
    let mut head = match response_head(scope, status, args.get(2), args.get(3)) {
        Ok(h) => h,
        Err(e) => return throw(scope, e),
    };
    if upgrade {
        head.status = 101;
    }
    let kind = u32_arg(scope, args.get(4));
    let Some(body) = body_arg(scope, &st, kind, args.get(5)) else {
        return throw_type_error(
            scope,
            "This ReadableStream is disturbed (has already been read from), and cannot be used as a body.",
        );
    };
    // A 101, 204, 205 or 304 ends with its head: bytes after it would be
    // read as the next response on the connection (or as WebSocket frames).
    let body = if upgrade || wire::is_null_body_status(head.status) {
        match body {
            Body::Bytes(b) if !b.is_empty() => {
                return throw(
                    scope,
                    OpError::type_error("Response with null body status (101, 204, 205, or 304) cannot have a body."),
                );
            }
            // A stream passed through (e.g. an origin's 205): not sent, and
            // dropping it lets its producer go.
            _ => Body::Empty,
        }
    } else {
        body
    };
    finish(
        &st,
        req_id,
        Outcome::Response(WorkerResponse {
            head,
            body,
            cpu_time: std::time::Duration::ZERO,
            web_socket,
        }),
    );
}

/// `respondError(reqId, exception)`: the script threw.
pub(crate) fn op_respond_error(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let req_id = u32_arg(scope, args.get(0));
    let msg = exception_stack(scope, args.get(1));
    fail_request(&st, req_id, msg);
}

/// `requestDone(reqId)`: the response is sent and `waitUntil` work settled.
pub(crate) fn op_request_done(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let req_id = u32_arg(scope, args.get(0));
    finish(&st, req_id, Outcome::Done);
    crate::io::request::request_done(&st, req_id);
}

/// How a handler invocation ended, as far as its caller cares.
pub(crate) enum Outcome {
    /// A fetch handler's response.
    Response(WorkerResponse),
    /// The handler and its `waitUntil` work are done.
    Done,
    /// It failed.
    Failed(DispatchError),
}

pub(crate) fn finish(st: &SharedState, req_id: u32, outcome: Outcome) {
    let mut s = st.borrow_mut();
    let Some((reply, cpu_used)) = s
        .requests
        .get_mut(&req_id)
        .and_then(|r| Some((r.reply.take()?, r.cpu_used)))
    else {
        return;
    };
    // Include the JS slice running right now (the one that responded), up
    // to here: its wall time, an upper bound of its CPU time read without
    // a system call (the thread's CPU clock is one), for the access log and
    // the CPU histogram; the limit is enforced on the CPU clock.
    let cpu_used = cpu_used + s.slice_started.map(|t| t.elapsed()).unwrap_or_default();
    s.inflight.fetch_sub(1, Ordering::Relaxed);
    drop(s);
    let answer = |outcome| match outcome {
        Outcome::Response(mut r) => {
            r.cpu_time = cpu_used;
            Ok(r)
        }
        Outcome::Done => Err(DispatchError::Exception("the script did not respond".into())),
        Outcome::Failed(e) => Err(e),
    };
    match reply {
        Reply::Fetch(tx) => {
            let _ = tx.send(answer(outcome).map(crate::io::http::Outcome::Answer));
        }
        Reply::Answer(tx) => {
            let _ = tx.send(answer(outcome));
        }
        Reply::Scheduled(tx) => {
            let _ = tx.send(match outcome {
                Outcome::Failed(e) => Err(e),
                _ => Ok(()),
            });
        }
    }
}

/// Longest uncaught-exception text kept for the log and `/workers`.
const MAX_EXCEPTION_LOG_BYTES: usize = 16 * 1024;

/// Answers a request with an error (logged with the worker's name).
pub(crate) fn fail_request(st: &SharedState, req_id: u32, msg: String) {
    // V8 messages can quote strings, secrets among them: never log those.
    let code = st.borrow().code.upgrade();
    let msg = match code {
        Some(c) => c.redact(&msg).into_owned(),
        None => msg,
    };
    // An uncaught failed subrequest is the origin's fault, not the script's.
    let origin_failure = st
        .borrow()
        .requests
        .get(&req_id)
        .and_then(|r| r.fetch_failure.clone())
        .filter(|e| first_line(&msg).contains(&e.to_string()));
    // A script stopped by a limit shows up here as "execution terminated".
    let limit = {
        let s = st.borrow();
        if s.cpu_fired.load(Ordering::Relaxed) {
            Some(DispatchError::CpuLimit)
        } else if s.heap_exceeded.load(Ordering::Relaxed) {
            Some(DispatchError::MemoryLimit)
        } else {
            None
        }
    };
    if let Some(e) = limit {
        return finish(st, req_id, Outcome::Failed(e));
    }
    let worker = st.borrow().worker.clone();
    // The script chose this text: one escaped log line, whatever it holds.
    let logged = wire::escape_log(&msg, MAX_EXCEPTION_LOG_BYTES);
    log::error!(target: "isoproxy::worker", "worker {worker}: uncaught exception: {logged}");
    let first = first_line(&msg);
    if let Some(code) = st.borrow().code.upgrade() {
        code.set_last_error(&first);
    }
    let err = match origin_failure {
        Some(e @ (FetchError::Network(_) | FetchError::Timeout(_))) => DispatchError::Origin(e),
        _ => DispatchError::Exception(first),
    };
    finish(st, req_id, Outcome::Failed(err));
}

/// The first line of `s`, at most 1 KiB, control characters escaped.
fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    wire::escape_log(line, 1024).into_owned()
}
