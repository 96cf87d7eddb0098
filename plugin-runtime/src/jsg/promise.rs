//! Promises that cross: an op answers with a promise whose operation runs
//! on the thread's local task set ([`promise_op`]), or one already rejected
//! ([`rejected_promise`]); a completed operation's result becomes JS values
//! when its promise is settled ([`settle`]).

use crate::error::OpError;
use crate::io::body::Body;
use crate::io::context::{Completion, OpResult, Pending, SharedState};
use crate::jsg::ops::{MAX_MESSAGE_BYTES, current_request, js_string, state, throw_type_error, truncate, uint8array};

/// Creates a promise whose settlement arrives later as a [`Completion`];
/// `fut` runs on the thread's local task set.
pub(crate) fn promise_op(
    scope: &mut v8::PinScope<'_, '_>,
    rv: &mut v8::ReturnValue,
    fut: impl std::future::Future<Output = OpResult> + 'static,
) {
    let st = state(scope);
    // The request this operation belongs to: it is charged the CPU of the
    // JS that runs when the operation completes, and ending it cancels the
    // operation. None (or one that has ended): no I/O, no timers.
    let req = current_request(scope);
    if !st.borrow().serving || !req.is_some_and(|r| st.borrow().request_live(r)) {
        throw_type_error(
            scope,
            "Some functionality, such as asynchronous I/O, timeouts, and generating random values, \
             can only be performed while handling a request.",
        );
        return;
    }
    let Some(PendingPromise {
        id,
        completions,
        isolate,
    }) = pending_promise(scope, rv, &st, req)
    else {
        return;
    };
    let task = tokio::task::spawn_local(async move {
        let result = fut.await;
        let _ = completions.send(Completion {
            isolate,
            promise: id,
            result,
        });
    });
    st.borrow_mut().tasks.insert(id, Pending::Task(task.abort_handle()));
}

/// Where a new pending promise is to be settled: its id, and the queue and
/// isolate key a [`Completion`] for it is addressed with.
pub(crate) struct PendingPromise {
    pub id: u32,
    pub completions: tokio::sync::mpsc::UnboundedSender<Completion>,
    pub isolate: u64,
}

/// Makes a promise, returns it to JS through `rv` and registers it for
/// request `req` (the caller registers what settles it in `tasks`).
/// `None` only while execution is being terminated: nothing to answer.
pub(crate) fn pending_promise(
    scope: &mut v8::PinScope<'_, '_>,
    rv: &mut v8::ReturnValue,
    st: &SharedState,
    req: Option<u32>,
) -> Option<PendingPromise> {
    let resolver = v8::PromiseResolver::new(scope)?;
    rv.set(resolver.get_promise(scope).into());
    let global = v8::Global::new(scope, resolver);
    let mut s = st.borrow_mut();
    let id = s.next_id();
    s.promises.insert(id, (global, req));
    Some(PendingPromise {
        id,
        completions: s.completions.clone(),
        isolate: s.key,
    })
}

/// Answers with a promise already rejected with a TypeError or RangeError.
pub(crate) fn rejected_promise(scope: &mut v8::PinScope<'_, '_>, rv: &mut v8::ReturnValue, e: OpError) {
    let (msg, range) = match e {
        OpError::Type(m) => (m, false),
        OpError::Range(m) => (m, true),
        // The pending exception is the answer (the call throws).
        OpError::Pending => return,
    };
    let Some(resolver) = v8::PromiseResolver::new(scope) else {
        return;
    };
    let msg = js_string(scope, truncate(&msg, MAX_MESSAGE_BYTES)).unwrap_or_else(|| v8::String::empty(scope));
    let exc = if range {
        v8::Exception::range_error(scope, msg)
    } else {
        v8::Exception::type_error(scope, msg)
    };
    resolver.reject(scope, exc);
    rv.set(resolver.get_promise(scope).into());
}

/// Settles a promise with the result of its operation.
pub(crate) fn settle(
    scope: &mut v8::PinScope<'_, '_>,
    st: &SharedState,
    resolver: v8::Local<v8::PromiseResolver>,
    result: OpResult,
) {
    let reject = |scope: &mut v8::PinScope<'_, '_>, msg: &str| {
        let msg = js_string(scope, truncate(msg, MAX_MESSAGE_BYTES)).unwrap_or_else(|| v8::String::empty(scope));
        let exc = v8::Exception::type_error(scope, msg);
        resolver.reject(scope, exc);
    };
    match result {
        OpResult::Chunk { rid, stream, chunk } => match chunk {
            Some(Ok(bytes)) => {
                st.borrow_mut().bodies.insert(rid, stream);
                let arr = uint8array(scope, bytes.to_vec());
                resolver.resolve(scope, arr.into());
            }
            None => {
                let null = v8::null(scope).into();
                resolver.resolve(scope, null);
            }
            Some(Err(e)) => reject(scope, &e.to_string()),
        },
        OpResult::Written(Ok(())) | OpResult::Timer => {
            let undefined = v8::undefined(scope).into();
            resolver.resolve(scope, undefined);
        }
        OpResult::Written(Err(e)) => reject(scope, &e.to_string()),
        OpResult::Fetched {
            result: Ok(resp),
            req_id,
        } => {
            let body: v8::Local<v8::Value> = match resp.body {
                Body::Empty => v8::null(scope).into(),
                Body::Bytes(b) => uint8array(scope, b.to_vec()).into(),
                Body::Stream(s) => {
                    let rid = st.borrow_mut().add_body(s);
                    v8::Integer::new_from_unsigned(scope, rid).into()
                }
            };
            let status = v8::Integer::new(scope, i32::from(resp.head.status)).into();
            let text = js_string(scope, &resp.head.status_text)
                .unwrap_or_else(|| v8::String::empty(scope))
                .into();
            let headers = crate::jsg::headers::to_js(scope, resp.head.headers).into();
            // An origin's accepted upgrade: `response.webSocket`.
            let socket: v8::Local<v8::Value> = match resp.web_socket {
                Some(ws) => {
                    let mut s = st.borrow_mut();
                    let id = s.next_id();
                    s.sockets.insert(id, (ws, req_id));
                    v8::Integer::new_from_unsigned(scope, id).into()
                }
                None => v8::null(scope).into(),
            };
            let arr = v8::Array::new_with_elements(scope, &[status, text, headers, body, socket]);
            resolver.resolve(scope, arr.into());
        }
        OpResult::Fetched { req_id, result: Err(e) } => {
            if let Some(ctx) = st.borrow_mut().requests.get_mut(&req_id) {
                ctx.fetch_failure = Some(e.clone());
            }
            reject(scope, &e.to_string())
        }
        OpResult::Kv(done) => crate::api::kv::ops::settle(scope, st, resolver, done),
        OpResult::WsEvent { id, rx, event } => crate::api::websocket::settle_recv(scope, st, resolver, id, rx, event),
        OpResult::TestPanic => panic!("deliberate panic while settling a promise (testPanic)"),
    }
}
