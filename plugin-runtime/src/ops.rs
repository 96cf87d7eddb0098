//! Native functions the bootstrap JavaScript calls (`internals.ops.*`).
//! They are the only way JS reaches Rust: bodies, subrequests, timers,
//! logging, URL parsing and text encoding. User scripts never see them.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::body::{Body, BodyError, body_channel};
use crate::cache::{op_cache_delete, op_cache_match, op_cache_put};
use crate::compression::{op_compression_finish, op_compression_free, op_compression_new, op_compression_push};
use crate::crypto::{
    op_crypto_aes, op_crypto_digest, op_crypto_digest_finish, op_crypto_digest_free, op_crypto_digest_new,
    op_crypto_digest_update, op_crypto_ecdh, op_crypto_export_key, op_crypto_generate_key_pair, op_crypto_hkdf,
    op_crypto_hmac, op_crypto_import_key, op_crypto_pbkdf2, op_crypto_rsa_oaep, op_crypto_sign, op_crypto_verify,
};
use crate::error::DispatchError;
use crate::html_rewriter::{
    op_html_rewriter_done, op_html_rewriter_end, op_html_rewriter_free, op_html_rewriter_new, op_html_rewriter_op,
    op_html_rewriter_write, op_html_selector_check,
};
use crate::http::{ClientInfo, FetchError, FetchRequest, RequestHead, ResponseHead, WorkerResponse};
use crate::isolate::{Completion, DecoderState, OpResult, Reply, SharedState, exception_stack};

/// Installs each op on `obj` under the name JS calls it. (V8 callbacks
/// must be zero-sized fn items, so this is a macro, not a table.)
macro_rules! install_ops {
    ($scope:expr, $obj:expr, $($name:literal => $op:ident),* $(,)?) => {
        $(
            let f = v8::Function::new($scope, $op).expect("op function");
            let key = v8::String::new($scope, $name).unwrap();
            $obj.set($scope, key.into(), f.into());
        )*
    };
}

/// The `ops` object handed to the bootstrap scripts.
pub(crate) fn build<'s>(scope: &mut v8::PinScope<'s, '_>) -> v8::Local<'s, v8::Object> {
    let obj = v8::Object::new(scope);
    install_ops!(scope, obj,
        "log" => op_log,
        "currentRequest" => op_current_request,
        "getContext" => op_get_context,
        "setContext" => op_set_context,
        "promiseState" => op_promise_state,
        "respond" => op_respond,
        "respondError" => op_respond_error,
        "requestDone" => op_request_done,
        "fetch" => op_fetch,
        "bodyRead" => op_body_read,
        "bodyCancel" => op_body_cancel,
        "sinkNew" => op_sink_new,
        "sinkWrite" => op_sink_write,
        "sinkClose" => op_sink_close,
        "timer" => op_timer,
        "urlParse" => op_url_parse,
        "urlSet" => op_url_set,
        "encodeUtf8" => op_encode_utf8,
        "encodeUtf8Into" => op_encode_utf8_into,
        "encodingForLabel" => op_encoding_for_label,
        "decoderNew" => op_decoder_new,
        "decoderDecode" => op_decoder_decode,
        "decoderFree" => op_decoder_free,
        "randomBytes" => op_random_bytes,
        "loadBootstrap" => op_load_bootstrap,
        "defineLazy" => op_define_lazy,
        "compressionNew" => op_compression_new,
        "compressionPush" => op_compression_push,
        "compressionFinish" => op_compression_finish,
        "compressionFree" => op_compression_free,
        "cachePut" => op_cache_put,
        "cacheMatch" => op_cache_match,
        "cacheDelete" => op_cache_delete,
        "htmlSelectorCheck" => op_html_selector_check,
        "htmlRewriterNew" => op_html_rewriter_new,
        "htmlRewriterWrite" => op_html_rewriter_write,
        "htmlRewriterEnd" => op_html_rewriter_end,
        "htmlRewriterDone" => op_html_rewriter_done,
        "htmlRewriterOp" => op_html_rewriter_op,
        "htmlRewriterFree" => op_html_rewriter_free,
        "cryptoDigest" => op_crypto_digest,
        "cryptoHmac" => op_crypto_hmac,
        "cryptoAes" => op_crypto_aes,
        "cryptoHkdf" => op_crypto_hkdf,
        "cryptoPbkdf2" => op_crypto_pbkdf2,
        "cryptoGenerateKeyPair" => op_crypto_generate_key_pair,
        "cryptoImportKey" => op_crypto_import_key,
        "cryptoExportKey" => op_crypto_export_key,
        "cryptoSign" => op_crypto_sign,
        "cryptoVerify" => op_crypto_verify,
        "cryptoRsaOaep" => op_crypto_rsa_oaep,
        "cryptoEcdh" => op_crypto_ecdh,
        "cryptoDigestNew" => op_crypto_digest_new,
        "cryptoDigestUpdate" => op_crypto_digest_update,
        "cryptoDigestFinish" => op_crypto_digest_finish,
        "cryptoDigestFree" => op_crypto_digest_free,
    );
    obj
}

pub(crate) fn state(scope: &v8::PinScope<'_, '_>) -> SharedState {
    scope.get_slot::<SharedState>().expect("isolate state slot").clone()
}

pub(crate) fn throw_type_error(scope: &mut v8::PinScope<'_, '_>, msg: &str) {
    let msg = v8::String::new(scope, msg).unwrap();
    let exc = v8::Exception::type_error(scope, msg);
    scope.throw_exception(exc);
}

fn string_arg(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> String {
    v.to_rust_string_lossy(scope)
}

pub(crate) fn u32_arg(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> u32 {
    v.uint32_value(scope).unwrap_or(0)
}

/// Copies the bytes of an ArrayBuffer or ArrayBufferView.
pub(crate) fn bytes_arg(v: v8::Local<v8::Value>) -> Option<Vec<u8>> {
    if let Ok(view) = v8::Local::<v8::ArrayBufferView>::try_from(v) {
        let mut buf = vec![0; view.byte_length()];
        view.copy_contents(&mut buf);
        return Some(buf);
    }
    if let Ok(ab) = v8::Local::<v8::ArrayBuffer>::try_from(v) {
        let len = ab.byte_length();
        let Some(data) = ab.data() else {
            return Some(Vec::new());
        };
        // SAFETY: `data` points at `len` live bytes owned by the ArrayBuffer, which
        // the handle keeps alive; we copy them out before returning to JS.
        let slice = unsafe { std::slice::from_raw_parts(data.as_ptr() as *const u8, len) };
        return Some(slice.to_vec());
    }
    None
}

/// A new `Uint8Array` owning `data`.
pub(crate) fn uint8array<'s>(scope: &mut v8::PinScope<'s, '_>, data: Vec<u8>) -> v8::Local<'s, v8::Uint8Array> {
    let len = data.len();
    let store = v8::ArrayBuffer::new_backing_store_from_vec(data).make_shared();
    let ab = v8::ArrayBuffer::with_backing_store(scope, &store);
    v8::Uint8Array::new(scope, ab, 0, len).expect("Uint8Array")
}

/// Headers as a flat JS array `[name, value, ...]`; values are ByteStrings
/// (each byte one UTF-16 code unit), names lower-case.
pub(crate) fn headers_to_js<'s>(scope: &mut v8::PinScope<'s, '_>, headers: &HeaderMap) -> v8::Local<'s, v8::Array> {
    let mut elems = Vec::with_capacity(headers.len() * 2);
    for (name, value) in headers {
        elems.push(v8::String::new(scope, name.as_str()).unwrap().into());
        elems.push(
            v8::String::new_from_one_byte(scope, value.as_bytes(), v8::NewStringType::Normal)
                .unwrap()
                .into(),
        );
    }
    v8::Array::new_with_elements(scope, &elems)
}

/// The inverse of [`headers_to_js`]; `Err` names the bad header.
pub(crate) fn headers_from_js(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> Result<HeaderMap, String> {
    let arr = v8::Local::<v8::Array>::try_from(v).map_err(|_| "headers must be an array".to_string())?;
    let mut map = HeaderMap::with_capacity(arr.length() as usize / 2);
    let mut i = 0;
    while i + 1 < arr.length() {
        let n = arr.get_index(scope, i).unwrap().to_rust_string_lossy(scope);
        let v = arr.get_index(scope, i + 1).unwrap();
        let v = v.to_string(scope).unwrap();
        let mut bytes = Vec::with_capacity(v.length());
        for c in v.to_rust_string_lossy(scope).chars() {
            let c = c as u32;
            if c > 0xff {
                return Err(format!("Invalid header value for '{n}'"));
            }
            bytes.push(c as u8);
        }
        let name = HeaderName::from_bytes(n.as_bytes()).map_err(|_| format!("Invalid header name '{n}'"))?;
        let value = HeaderValue::from_bytes(&bytes).map_err(|_| format!("Invalid header value for '{n}'"))?;
        map.append(name, value);
        i += 2;
    }
    Ok(map)
}

/// Creates a promise whose settlement arrives later as a [`Completion`];
/// `fut` runs on the thread's local task set.
fn promise_op(
    scope: &mut v8::PinScope<'_, '_>,
    rv: &mut v8::ReturnValue,
    fut: impl std::future::Future<Output = OpResult> + 'static,
) {
    let st = state(scope);
    if !st.borrow().serving {
        throw_type_error(
            scope,
            "Some functionality, such as asynchronous I/O, timeouts, and generating random values, \
             can only be performed while handling a request.",
        );
        return;
    }
    let resolver = v8::PromiseResolver::new(scope).unwrap();
    rv.set(resolver.get_promise(scope).into());
    let global = v8::Global::new(scope, resolver);
    // The request this operation belongs to (for CPU accounting).
    let req = current_request(scope);
    let (id, tx, key) = {
        let mut s = st.borrow_mut();
        let id = s.next_id();
        s.promises.insert(id, (global, req));
        (id, s.completions.clone(), s.key)
    };
    tokio::task::spawn_local(async move {
        let result = fut.await;
        let _ = tx.send(Completion {
            isolate: key,
            promise: id,
            result,
        });
    });
}

fn rejected_promise(scope: &mut v8::PinScope<'_, '_>, rv: &mut v8::ReturnValue, msg: &str) {
    let resolver = v8::PromiseResolver::new(scope).unwrap();
    let msg = v8::String::new(scope, msg).unwrap();
    let exc = v8::Exception::type_error(scope, msg);
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
        let msg = v8::String::new(scope, msg).unwrap();
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
        OpResult::Fetched { result: Ok(resp), .. } => {
            let body: v8::Local<v8::Value> = match resp.body {
                Body::Empty => v8::null(scope).into(),
                Body::Bytes(b) => uint8array(scope, b.to_vec()).into(),
                Body::Stream(s) => {
                    let rid = st.borrow_mut().add_body(s);
                    v8::Integer::new_from_unsigned(scope, rid).into()
                }
            };
            let status = v8::Integer::new(scope, resp.head.status as i32).into();
            let text = v8::String::new(scope, &resp.head.status_text).unwrap().into();
            let headers = headers_to_js(scope, &resp.head.headers).into();
            let arr = v8::Array::new_with_elements(scope, &[status, text, headers, body]);
            resolver.resolve(scope, arr.into());
        }
        OpResult::Fetched { req_id, result: Err(e) } => {
            if let Some(ctx) = st.borrow_mut().requests.get_mut(&req_id) {
                ctx.fetch_failure = Some(e.clone());
            }
            reject(scope, &e.to_string())
        }
    }
}

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
    log::error!(target: "isoproxy::worker", "worker {worker}: uncaught exception: {msg}");
    if let Some(code) = st.borrow().code.upgrade() {
        code.set_last_error(&first_line(&msg));
    }
    let err = match origin_failure {
        Some(e @ (FetchError::Network(_) | FetchError::Timeout(_))) => DispatchError::Origin(e),
        _ => DispatchError::Exception(first_line(&msg)),
    };
    finish(st, req_id, Outcome::Failed(err));
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
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
    // Include the JS slice running right now (the one that responded).
    let cpu_used = cpu_used
        + s.slice_started
            .map(|t| crate::limits::thread_cpu().saturating_sub(t))
            .unwrap_or_default();
    s.inflight.fetch_sub(1, Ordering::Relaxed);
    drop(s);
    match reply {
        Reply::Fetch(tx) => {
            let _ = tx.send(match outcome {
                Outcome::Response(mut r) => {
                    r.cpu_time = cpu_used;
                    Ok(r)
                }
                Outcome::Done => Err(DispatchError::Exception("the script did not respond".into())),
                Outcome::Failed(e) => Err(e),
            });
        }
        Reply::Scheduled(tx) => {
            let _ = tx.send(match outcome {
                Outcome::Failed(e) => Err(e),
                _ => Ok(()),
            });
        }
    }
}

/// Takes the body a script hands to Rust: `kind` 0 none, 1 bytes,
/// 2 a native body id, 3 a sink id (a JS stream being pumped).
fn body_arg(
    scope: &mut v8::PinScope<'_, '_>,
    st: &SharedState,
    kind: u32,
    value: v8::Local<v8::Value>,
) -> Option<Body> {
    match kind {
        0 => Some(Body::Empty),
        1 => bytes_arg(value).map(|b| Body::Bytes(Bytes::from(b))),
        2 => {
            let rid = u32_arg(scope, value);
            st.borrow_mut().bodies.remove(&rid).map(Body::Stream)
        }
        3 => {
            let sid = u32_arg(scope, value);
            st.borrow_mut().sink_streams.remove(&sid).map(Body::Stream)
        }
        _ => None,
    }
}

fn op_log(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let level = match u32_arg(scope, args.get(0)) {
        0 => log::Level::Debug,
        1 => log::Level::Info,
        2 => log::Level::Warn,
        _ => log::Level::Error,
    };
    let msg = string_arg(scope, args.get(1));
    let worker = state(scope).borrow().worker.clone();
    log::log!(target: "isoproxy::worker", level, "worker {worker}: {msg}");
}

/// The request whose handler (or a continuation of it) is running. V8
/// carries it across promise reactions as the continuation-preserved
/// embedder data: the request id, or an `AsyncLocalStorage` frame
/// `[requestId, stores]` (see js/node/async_hooks.js).
fn current_request(scope: &mut v8::PinScope<'_, '_>) -> Option<u32> {
    let mut v = scope.get_continuation_preserved_embedder_data();
    if let Ok(frame) = v8::Local::<v8::Array>::try_from(v) {
        v = frame.get_index(scope, 0)?;
    }
    if !v.is_number() {
        return None;
    }
    v.uint32_value(scope).filter(|id| *id != 0)
}

/// `currentRequest()` -> the id of the request whose handler (or a
/// continuation of it) is running, or undefined.
fn op_current_request(scope: &mut v8::PinScope, _args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    if let Some(id) = current_request(scope) {
        rv.set(v8::Integer::new_from_unsigned(scope, id).into());
    }
}

/// `getContext()` -> the continuation-preserved embedder data: the
/// request id or an `AsyncLocalStorage` frame (undefined outside both).
fn op_get_context(scope: &mut v8::PinScope, _args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    rv.set(scope.get_continuation_preserved_embedder_data());
}

/// `setContext(value)`: replaces it; promise reactions created from now on
/// run with `value` (the bootstrap only passes what `getContext` returned
/// or a frame built from it, so the request id is kept).
fn op_set_context(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    scope.set_continuation_preserved_embedder_data(args.get(0));
}

/// `promiseState(p)` -> `[0]` pending, `[1, value]` fulfilled, `[2, reason]`
/// rejected (for `inspect`); undefined when `p` is not a promise.
fn op_promise_state(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let Ok(promise) = v8::Local::<v8::Promise>::try_from(args.get(0)) else {
        return;
    };
    let state = match promise.state() {
        v8::PromiseState::Pending => 0,
        v8::PromiseState::Fulfilled => 1,
        v8::PromiseState::Rejected => 2,
    };
    let mut elems = vec![v8::Integer::new(scope, state).into()];
    if state != 0 {
        elems.push(promise.result(scope));
    }
    rv.set(v8::Array::new_with_elements(scope, &elems).into());
}

/// `respond(reqId, status, statusText, headers, bodyKind, body)`.
fn op_respond(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let req_id = u32_arg(scope, args.get(0));
    let status = u32_arg(scope, args.get(1)) as u16;
    let status_text = string_arg(scope, args.get(2));
    let headers = match headers_from_js(scope, args.get(3)) {
        Ok(h) => h,
        Err(e) => return throw_type_error(scope, &e),
    };
    let kind = u32_arg(scope, args.get(4));
    let Some(body) = body_arg(scope, &st, kind, args.get(5)) else {
        return throw_type_error(
            scope,
            "This ReadableStream is disturbed (has already been read from), and cannot be used as a body.",
        );
    };
    let head = ResponseHead {
        status,
        status_text,
        headers,
    };
    finish(
        &st,
        req_id,
        Outcome::Response(WorkerResponse {
            head,
            body,
            cpu_time: std::time::Duration::ZERO,
        }),
    );
}

/// `respondError(reqId, exception)`: the script threw.
fn op_respond_error(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let req_id = u32_arg(scope, args.get(0));
    let msg = exception_stack(scope, args.get(1));
    fail_request(&st, req_id, msg);
}

/// `requestDone(reqId)`: the response is sent and `waitUntil` work settled.
fn op_request_done(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let req_id = u32_arg(scope, args.get(0));
    finish(&st, req_id, Outcome::Done);
    st.borrow_mut().requests.remove(&req_id);
}

/// `fetch(reqId, method, url, headers, bodyKind, body)` -> Promise of
/// `[status, statusText, headers, body]` where body is null, a native body
/// id, or a Uint8Array.
fn op_fetch(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let req_id = u32_arg(scope, args.get(0));
    let fetcher = {
        let mut s = st.borrow_mut();
        let limit = s.subrequest_limit;
        match s.requests.get_mut(&req_id) {
            None => None,
            Some(ctx) => {
                ctx.subrequests += 1;
                if ctx.subrequests > limit {
                    drop(s);
                    return rejected_promise(scope, &mut rv, &FetchError::TooManySubrequests.to_string());
                }
                Some(ctx.fetcher.clone())
            }
        }
    };
    let Some(fetcher) = fetcher else {
        return rejected_promise(scope, &mut rv, "fetch() can only be called while handling a request");
    };
    let method = string_arg(scope, args.get(1));
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return rejected_promise(scope, &mut rv, &format!("Invalid HTTP method: {method}"));
    };
    let url = string_arg(scope, args.get(2));
    let headers = match headers_from_js(scope, args.get(3)) {
        Ok(h) => h,
        Err(e) => return rejected_promise(scope, &mut rv, &e),
    };
    let kind = u32_arg(scope, args.get(4));
    let Some(body) = body_arg(scope, &st, kind, args.get(5)) else {
        return rejected_promise(scope, &mut rv, "the request body was already used");
    };
    let request = FetchRequest {
        head: RequestHead {
            method,
            url,
            headers,
            client: ClientInfo::default(),
        },
        body,
    };
    let fut = fetcher.fetch(request);
    promise_op(scope, &mut rv, async move {
        OpResult::Fetched {
            req_id,
            result: fut.await,
        }
    });
}

/// `bodyRead(rid)` -> Promise<Uint8Array | null>.
fn op_body_read(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let rid = u32_arg(scope, args.get(0));
    let Some(mut stream) = st.borrow_mut().bodies.remove(&rid) else {
        return rejected_promise(scope, &mut rv, "This body has already been used.");
    };
    promise_op(scope, &mut rv, async move {
        let chunk = stream.next().await;
        OpResult::Chunk { rid, stream, chunk }
    });
}

/// `bodyCancel(rid)`: the script no longer wants this body.
fn op_body_cancel(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let rid = u32_arg(scope, args.get(0));
    st.borrow_mut().bodies.remove(&rid);
}

/// `sinkNew(length?)` -> id: a pipe the script writes into and Rust reads
/// from; `length`, a non-negative integer, is the body's known length (a
/// FixedLengthStream's), sent as Content-Length.
fn op_sink_new(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let length = args
        .get(0)
        .number_value(scope)
        .filter(|n| n.is_finite() && *n >= 0.0 && n.fract() == 0.0 && *n <= 9_007_199_254_740_991.0)
        .map(|n| n as u64);
    let length = if args.get(0).is_number() { length } else { None };
    let (writer, stream) = body_channel(length);
    let id = {
        let mut s = st.borrow_mut();
        let id = s.next_id();
        s.sinks.insert(id, writer);
        s.sink_streams.insert(id, stream);
        id
    };
    rv.set(v8::Integer::new_from_unsigned(scope, id).into());
}

/// `sinkWrite(id, bytes)` -> Promise, settled once the consumer has room.
fn op_sink_write(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let Some(writer) = st.borrow().sinks.get(&id).cloned() else {
        return rejected_promise(scope, &mut rv, "the body's consumer went away");
    };
    let Some(bytes) = bytes_arg(args.get(1)) else {
        return rejected_promise(scope, &mut rv, "body chunks must be ArrayBuffer or ArrayBufferView");
    };
    promise_op(scope, &mut rv, async move {
        OpResult::Written(writer.send(Bytes::from(bytes)).await)
    });
}

/// `sinkClose(id, error?)`: ends the body, with an error if one is given.
fn op_sink_close(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let writer = st.borrow_mut().sinks.remove(&id);
    st.borrow_mut().sink_streams.remove(&id);
    if let Some(writer) = writer
        && !args.get(1).is_undefined()
    {
        let msg = string_arg(scope, args.get(1));
        tokio::task::spawn_local(async move { writer.fail(BodyError(msg)).await });
    }
}

/// `timer(ms)` -> Promise resolved after `ms` milliseconds.
fn op_timer(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let ms = args.get(0).number_value(scope).unwrap_or(0.0);
    let ms = if ms.is_finite() && ms > 0.0 { ms as u64 } else { 0 };
    promise_op(scope, &mut rv, async move {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        OpResult::Timer
    });
}

fn url_components<'s>(scope: &mut v8::PinScope<'s, '_>, url: &url::Url) -> v8::Local<'s, v8::Value> {
    use url::quirks;
    let parts = [
        quirks::href(url),
        quirks::protocol(url),
        quirks::username(url),
        quirks::password(url),
        quirks::host(url),
        quirks::hostname(url),
        quirks::port(url),
        quirks::pathname(url),
        quirks::search(url),
        quirks::hash(url),
    ];
    let mut elems: Vec<v8::Local<v8::Value>> = parts
        .iter()
        .map(|p| v8::String::new(scope, p).unwrap().into())
        .collect();
    let origin = quirks::origin(url);
    elems.push(v8::String::new(scope, &origin).unwrap().into());
    v8::Array::new_with_elements(scope, &elems).into()
}

/// `urlParse(input, base?)` -> components or null.
fn op_url_parse(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let input = string_arg(scope, args.get(0));
    let parsed = if args.get(1).is_null_or_undefined() {
        url::Url::parse(&input)
    } else {
        let base = string_arg(scope, args.get(1));
        url::Url::parse(&base).and_then(|b| b.join(&input))
    };
    match parsed {
        Ok(u) => rv.set(url_components(scope, &u)),
        Err(_) => rv.set_null(),
    }
}

/// `urlSet(href, setter, value)` -> components (null when `href` is set to
/// something that does not parse).
fn op_url_set(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    use url::quirks;
    let href = string_arg(scope, args.get(0));
    let setter = string_arg(scope, args.get(1));
    let value = string_arg(scope, args.get(2));
    let Ok(mut url) = url::Url::parse(&href) else {
        return rv.set_null();
    };
    let ok = match setter.as_str() {
        "href" => quirks::set_href(&mut url, &value).is_ok(),
        "protocol" => {
            // Per the URL spec a setter that cannot apply its value is a no-op.
            let _ = quirks::set_protocol(&mut url, &value);
            true
        }
        "username" => {
            // Per the URL spec a setter that cannot apply its value is a no-op.
            let _ = quirks::set_username(&mut url, &value);
            true
        }
        "password" => {
            // Per the URL spec a setter that cannot apply its value is a no-op.
            let _ = quirks::set_password(&mut url, &value);
            true
        }
        "host" => {
            // Per the URL spec a setter that cannot apply its value is a no-op.
            let _ = quirks::set_host(&mut url, &value);
            true
        }
        "hostname" => {
            // Per the URL spec a setter that cannot apply its value is a no-op.
            let _ = quirks::set_hostname(&mut url, &value);
            true
        }
        "port" => {
            // Per the URL spec a setter that cannot apply its value is a no-op.
            let _ = quirks::set_port(&mut url, &value);
            true
        }
        "pathname" => {
            quirks::set_pathname(&mut url, &value);
            true
        }
        "search" => {
            quirks::set_search(&mut url, &value);
            true
        }
        "hash" => {
            quirks::set_hash(&mut url, &value);
            true
        }
        _ => false,
    };
    if ok {
        rv.set(url_components(scope, &url));
    } else {
        rv.set_null();
    }
}

fn op_encode_utf8(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let s = string_arg(scope, args.get(0));
    rv.set(uint8array(scope, s.into_bytes()).into());
}

/// `encodeUtf8Into(string, u8)` -> `[read, written]` (read in UTF-16 units).
fn op_encode_utf8_into(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let s = string_arg(scope, args.get(0));
    let Ok(view) = v8::Local::<v8::Uint8Array>::try_from(args.get(1)) else {
        return throw_type_error(
            scope,
            "Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'.",
        );
    };
    let cap = view.byte_length();
    let mut out = Vec::with_capacity(cap.min(s.len()));
    let mut read = 0u32;
    for c in s.chars() {
        if out.len() + c.len_utf8() > cap {
            break;
        }
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        read += c.len_utf16() as u32;
    }
    if !out.is_empty() {
        // SAFETY: the view covers `cap` writable bytes of a live ArrayBuffer (the
        // handle keeps it alive) and `out.len() <= cap`; no JS runs while we write.
        unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), view.data() as *mut u8, out.len()) };
    }
    let r = v8::Integer::new_from_unsigned(scope, read).into();
    let w = v8::Integer::new_from_unsigned(scope, out.len() as u32).into();
    rv.set(v8::Array::new_with_elements(scope, &[r, w]).into());
}

fn encoding_name(e: &'static encoding_rs::Encoding) -> String {
    e.name().to_ascii_lowercase()
}

fn op_encoding_for_label(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let label = string_arg(scope, args.get(0));
    match encoding_rs::Encoding::for_label_no_replacement(label.trim().as_bytes()) {
        Some(e) => rv.set(v8::String::new(scope, &encoding_name(e)).unwrap().into()),
        None => rv.set_null(),
    }
}

fn new_decoder(encoding: &'static encoding_rs::Encoding, ignore_bom: bool) -> encoding_rs::Decoder {
    if ignore_bom {
        encoding.new_decoder_without_bom_handling()
    } else {
        encoding.new_decoder_with_bom_removal()
    }
}

/// `decoderNew(name, fatal, ignoreBOM)` -> id.
fn op_decoder_new(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let name = string_arg(scope, args.get(0));
    let Some(encoding) = encoding_rs::Encoding::for_label_no_replacement(name.as_bytes()) else {
        let msg = v8::String::new(scope, &format!("The \"{name}\" encoding is not supported.")).unwrap();
        let exc = v8::Exception::range_error(scope, msg);
        scope.throw_exception(exc);
        return;
    };
    let fatal = args.get(1).boolean_value(scope);
    let ignore_bom = args.get(2).boolean_value(scope);
    let st = state(scope);
    let id = {
        let mut s = st.borrow_mut();
        let id = s.next_id();
        let decoder = new_decoder(encoding, ignore_bom);
        s.decoders.insert(
            id,
            DecoderState {
                encoding,
                fatal,
                ignore_bom,
                decoder,
            },
        );
        id
    };
    rv.set(v8::Integer::new_from_unsigned(scope, id).into());
}

/// `decoderDecode(id, bytes, stream)` -> string.
fn op_decoder_decode(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let input = if args.get(1).is_undefined() {
        Vec::new()
    } else {
        bytes_arg(args.get(1)).unwrap_or_default()
    };
    let stream = args.get(2).boolean_value(scope);
    let result = {
        let mut s = st.borrow_mut();
        let Some(d) = s.decoders.get_mut(&id) else {
            drop(s);
            return throw_type_error(scope, "invalid TextDecoder");
        };
        let last = !stream;
        let cap = d
            .decoder
            .max_utf8_buffer_length(input.len())
            .unwrap_or(input.len() * 3 + 16);
        let mut out = String::with_capacity(cap);
        let ok = if d.fatal {
            let (res, _read) = d.decoder.decode_to_string_without_replacement(&input, &mut out, last);
            !matches!(res, encoding_rs::DecoderResult::Malformed(_, _))
        } else {
            let (_res, _read, _had_errors) = d.decoder.decode_to_string(&input, &mut out, last);
            true
        };
        if last || !ok {
            d.decoder = new_decoder(d.encoding, d.ignore_bom);
        }
        ok.then_some(out)
    };
    match result {
        Some(out) => rv.set(v8::String::new(scope, &out).unwrap().into()),
        None => throw_type_error(scope, "Failed to decode input."),
    }
}

fn op_decoder_free(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    st.borrow_mut().decoders.remove(&id);
}

/// `randomBytes(n)` -> a Uint8Array of `n` bytes from the OS CSPRNG
/// (`crypto.getRandomValues` copies them into the caller's view).
fn op_random_bytes(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let n = u32_arg(scope, args.get(0)) as usize;
    let mut buf = vec![0u8; n];
    if let Err(e) = getrandom::fill(&mut buf) {
        return throw_type_error(scope, &format!("no randomness available: {e}"));
    }
    rv.set(uint8array(scope, buf).into());
}

/// Logs promises rejected with no handler (as workerd does, with the stack).
/// `loadBootstrap(file, internals)`: runs one of the lazily loaded
/// bootstrap files (`js::LAZY`) in this isolate, as the eager ones run at
/// startup. `95_lazy.js` calls it at most once per file.
fn op_load_bootstrap(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let name = string_arg(scope, args.get(0));
    let internals = args.get(1);
    if name == "node" {
        // The Node.js modules, all of them in order (they build on each other).
        for (name, src) in crate::js::NODE {
            if !crate::isolate::run_bootstrap_file(scope, name, src, internals) {
                return;
            }
        }
        return;
    }
    let Some((name, src)) = crate::js::LAZY.iter().find(|(n, _)| *n == name) else {
        return throw_type_error(scope, &format!("no lazily loaded bootstrap file {name}"));
    };
    crate::isolate::run_bootstrap_file(scope, name, src, internals);
}

/// `defineLazy(target, name, thunk)`: a non-enumerable V8 lazy data
/// property: it reads as an ordinary data property, and the first read
/// calls `thunk()` and stores its value in place of the property.
fn op_define_lazy(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let (Ok(target), Ok(name), Ok(thunk)) = (
        v8::Local::<v8::Object>::try_from(args.get(0)),
        v8::Local::<v8::Name>::try_from(args.get(1)),
        v8::Local::<v8::Function>::try_from(args.get(2)),
    ) else {
        return throw_type_error(scope, "defineLazy(target, name, thunk)");
    };
    target.set_lazy_data_property_with_data(
        scope,
        name,
        lazy_property_getter,
        thunk.into(),
        v8::PropertyAttribute::DONT_ENUM,
        v8::SideEffectType::HasSideEffect,
        v8::SideEffectType::HasSideEffect,
    );
}

fn lazy_property_getter(
    scope: &mut v8::PinScope,
    _name: v8::Local<v8::Name>,
    args: v8::PropertyCallbackArguments,
    mut rv: v8::ReturnValue<v8::Value>,
) {
    let Ok(thunk) = v8::Local::<v8::Function>::try_from(args.data()) else {
        return;
    };
    let undefined = v8::undefined(scope).into();
    // On failure an exception is pending: the read throws and the property
    // stays lazy.
    if let Some(value) = thunk.call(scope, undefined, &[]) {
        rv.set(value);
    }
}

pub(crate) extern "C" fn promise_reject_callback(msg: v8::PromiseRejectMessage) {
    // SAFETY: V8 invokes this callback on the isolate's thread inside a context.
    v8::callback_scope!(unsafe scope, &msg);
    v8::scope!(let scope, scope);
    let Some(st) = scope.get_slot::<SharedState>().cloned() else {
        return;
    };
    let promise = msg.get_promise();
    match msg.get_event() {
        v8::PromiseRejectEvent::PromiseRejectWithNoHandler => {
            let reason = msg.get_value().unwrap_or_else(|| v8::undefined(scope).into());
            let entry = (v8::Global::new(scope, promise), v8::Global::new(scope, reason));
            st.borrow_mut().rejections.push(entry);
        }
        v8::PromiseRejectEvent::PromiseHandlerAddedAfterReject => {
            // Handled before the microtask queue drained: not unhandled after all.
            let pending = std::mem::take(&mut st.borrow_mut().rejections);
            let kept: Vec<_> = pending
                .into_iter()
                .filter(|(p, _)| v8::Local::new(scope, p) != promise)
                .collect();
            st.borrow_mut().rejections = kept;
        }
        _ => {}
    }
}
