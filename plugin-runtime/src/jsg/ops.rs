//! Native functions the bootstrap JavaScript calls (`internals.ops.*`).
//! They are the only way JS reaches Rust: bodies, subrequests, timers,
//! logging, URL parsing and text encoding. User scripts never see them.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http::HeaderMap;

use crate::api::cache::{op_cache_delete, op_cache_match, op_cache_put};
use crate::api::compression::{op_compression_finish, op_compression_free, op_compression_new, op_compression_push};
use crate::api::crypto::{
    op_crypto_aes, op_crypto_digest, op_crypto_digest_finish, op_crypto_digest_free, op_crypto_digest_new,
    op_crypto_digest_update, op_crypto_ecdh, op_crypto_export_key, op_crypto_generate_key_pair, op_crypto_hkdf,
    op_crypto_hmac, op_crypto_import_key, op_crypto_pbkdf2, op_crypto_rsa_oaep, op_crypto_sign, op_crypto_verify,
};
use crate::api::html_rewriter::{
    op_html_rewriter_done, op_html_rewriter_end, op_html_rewriter_free, op_html_rewriter_new, op_html_rewriter_op,
    op_html_rewriter_write, op_html_selector_check,
};
use crate::error::{DispatchError, OpError};
use crate::io::body::{Body, BodyError, body_channel};
use crate::io::http::{ClientInfo, FetchError, FetchRequest, RequestHead, ResponseHead, WorkerResponse};
use crate::io::limits::{op_memory_charge, op_memory_release};
use crate::jsg::wire;
use crate::script::isolate::{Completion, DecoderState, OpResult, Reply, SharedState, exception_stack};

/// The op table: each op under the name JS calls it, behind the panic
/// guard ([`crate::jsg::guard::op`]). V8 callbacks must be zero-sized fn items
/// (the v8 crate makes a C function pointer from the callback's type), so
/// each op gets its own little wrapper fn here rather than a closure; the
/// table keeps the wrapper's C function pointer. The `ops` object
/// ([`build`]) and the startup snapshot's external references
/// ([`natives`]) are both made from this one table, so an op
/// cannot be installed without being known to the snapshot.
macro_rules! op_table {
    ($($name:literal => $op:path),* $(,)?) => {
        vec![$({
            fn guarded(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, rv: v8::ReturnValue) {
                crate::jsg::guard::op($name, scope, args, rv, $op)
            }
            Op { name: $name, callback: v8::MapFnTo::<v8::FunctionCallback>::map_fn_to(guarded) }
        }),*]
    };
}

/// One native function of `internals.ops`.
pub(crate) struct Op {
    pub name: &'static str,
    pub callback: v8::FunctionCallback,
}

/// Every op of the `ops` object.
pub(crate) static OPS: LazyLock<Vec<Op>> = LazyLock::new(|| include!("op_table.rs"));

/// Ops only isolates of the runtime's own tests get ([`expose_raw_ops_for_tests`]).
static TEST_OPS: LazyLock<Vec<Op>> = LazyLock::new(|| op_table!("testPanic" => op_test_panic));

/// The `ops` object handed to the bootstrap scripts (the test-only ops are
/// added by [`install_test_ops`], after the snapshot is restored).
pub(crate) fn build<'s>(scope: &mut v8::PinScope<'s, '_>) -> v8::Local<'s, v8::Object> {
    let obj = v8::Object::new(scope);
    crate::script::snapshot_make::install_ops(scope, obj, OPS.iter().map(|op| (op.name, op.callback)));
    obj
}

/// Adds the test-only ops to `ops` if [`expose_raw_ops_for_tests`] was called.
pub(crate) fn install_test_ops<'s>(scope: &mut v8::PinScope<'s, '_>, ops: v8::Local<'s, v8::Object>) {
    if raw_ops_exposed() {
        crate::script::snapshot_make::install_ops(scope, ops, TEST_OPS.iter().map(|op| (op.name, op.callback)));
    }
}

/// Every native callback a bootstrap context can hold, for the startup
/// snapshot (V8 stores a function's callback as an index into the
/// references made from this): the ops and the `defineLazy` getter.
pub(crate) fn natives() -> crate::script::snapshot_make::Natives {
    crate::script::snapshot_make::Natives {
        ops: OPS.iter().map(|op| (op.name, op.callback)).collect(),
        lazy_getter: v8::MapFnTo::map_fn_to(lazy_property_getter),
    }
}

/// The test-only ops as external references (after the snapshot's own:
/// they are only ever added after a restore).
pub(crate) fn test_op_references() -> impl Iterator<Item = v8::ExternalReference> {
    TEST_OPS
        .iter()
        .map(|op| v8::ExternalReference { function: op.callback })
}

static RAW_OPS_EXPOSED: AtomicBool = AtomicBool::new(false);

/// For the runtime's own tests only: isolates created from now on in this
/// process get the raw ops object as the global `__isoproxyRawOps`, plus a
/// `testPanic` op that panics on purpose, so a test script can call every
/// op with hostile arguments. Off by default; nothing in a config file or
/// a script can turn it on (the isoproxy binary never calls this).
pub fn expose_raw_ops_for_tests() {
    RAW_OPS_EXPOSED.store(true, Ordering::Relaxed);
}

pub(crate) fn raw_ops_exposed() -> bool {
    RAW_OPS_EXPOSED.load(Ordering::Relaxed)
}

/// `testPanic(where)` (test builds of the isolate only, see
/// [`expose_raw_ops_for_tests`]): panics now (`"op"`), or returns a promise
/// whose settlement panics on the isolate thread (`"settle"`).
fn op_test_panic(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    if args.get(0).is_string() && args.get(0).to_rust_string_lossy(scope) == "settle" {
        return promise_op(scope, &mut rv, async { OpResult::TestPanic });
    }
    panic!("deliberate panic (testPanic)");
}

pub(crate) fn state(scope: &v8::PinScope<'_, '_>) -> SharedState {
    scope.get_slot::<SharedState>().expect("isolate state slot").clone()
}

/// Longest exception message an op throws (the rest is cut).
const MAX_MESSAGE_BYTES: usize = 4096;

/// Throws `e` into the calling script as the JS error its variant names
/// (nothing to throw for [`OpError::Pending`]: that exception is already
/// on its way).
pub(crate) fn throw(scope: &mut v8::PinScope<'_, '_>, e: OpError) {
    let (msg, range) = match e {
        OpError::Type(m) => (m, false),
        OpError::Range(m) => (m, true),
        OpError::Pending => return,
    };
    let msg = truncate(&msg, MAX_MESSAGE_BYTES);
    let msg = js_string(scope, msg).unwrap_or_else(|| v8::String::empty(scope));
    let exc = if range {
        v8::Exception::range_error(scope, msg)
    } else {
        v8::Exception::type_error(scope, msg)
    };
    scope.throw_exception(exc);
}

pub(crate) fn throw_type_error(scope: &mut v8::PinScope<'_, '_>, msg: &str) {
    throw(scope, OpError::type_error(msg));
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `s` as a V8 string; `None` when it is longer than V8 allows (callers
/// throw [`OpError::too_long`]). V8 refuses UTF-8 input over its maximum
/// length in *bytes*, so a long non-ASCII string is retried as UTF-16.
pub(crate) fn js_string<'s>(scope: &mut v8::PinScope<'s, '_>, s: &str) -> Option<v8::Local<'s, v8::String>> {
    if let Some(v) = v8::String::new(scope, s) {
        return Some(v);
    }
    // Every UTF-16 unit takes at least one and at most three UTF-8 bytes.
    if s.len() / 3 > v8::String::MAX_LENGTH {
        return None;
    }
    let units: Vec<u16> = s.encode_utf16().collect();
    if units.len() > v8::String::MAX_LENGTH {
        return None;
    }
    v8::String::new_from_two_byte(scope, &units, v8::NewStringType::Normal)
}

/// Like [`js_string`], as a value or an [`OpError`].
pub(crate) fn js_value<'s>(scope: &mut v8::PinScope<'s, '_>, s: &str) -> Result<v8::Local<'s, v8::Value>, OpError> {
    js_string(scope, s).map(Into::into).ok_or_else(OpError::too_long)
}

/// A string argument: a string as it is (lone surrogates become U+FFFD);
/// a number, boolean, BigInt, null or undefined as JS prints it (no script
/// code runs for those). Objects and symbols are a TypeError: converting
/// them would run the script's code in the middle of the op. `max` bounds
/// the length in UTF-16 units, checked before anything is copied.
pub(crate) fn str_arg(
    scope: &mut v8::PinScope<'_, '_>,
    v: v8::Local<v8::Value>,
    what: &str,
    max: usize,
) -> Result<String, OpError> {
    if let Ok(s) = v8::Local::<v8::String>::try_from(v) {
        if s.length() > max {
            return Err(OpError::range_error(format!("{what} is too long")));
        }
        return Ok(s.to_rust_string_lossy(scope));
    }
    if v.is_object() || v.is_symbol() {
        return Err(OpError::type_error(format!("{what} must be a string")));
    }
    Ok(v.to_rust_string_lossy(scope))
}

/// [`str_arg`] for strings with no bound of their own (V8's string limit).
pub(crate) fn string_arg(
    scope: &mut v8::PinScope<'_, '_>,
    v: v8::Local<v8::Value>,
    what: &str,
) -> Result<String, OpError> {
    str_arg(scope, v, what, usize::MAX)
}

/// An id argument (a body, sink, codec, request...): a JS number that is
/// an integer in `0..=u32::MAX`, else 0, which is never an id. Nothing is
/// coerced, so no script code runs.
pub(crate) fn u32_arg(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> u32 {
    if v.is_uint32() {
        v.uint32_value(scope).unwrap_or(0)
    } else {
        0
    }
}

/// A JS number argument as a finite f64 (`None` for non-numbers, NaN and
/// infinities). Nothing is coerced.
pub(crate) fn number_arg(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> Option<f64> {
    if !v.is_number() {
        return None;
    }
    v.number_value(scope).filter(|n| n.is_finite())
}

/// A length or count argument: a JS number in `0..=max` (fractions cut,
/// as ToLength does); anything else is a TypeError or RangeError.
pub(crate) fn len_arg(
    scope: &mut v8::PinScope<'_, '_>,
    v: v8::Local<v8::Value>,
    max: usize,
    what: &str,
) -> Result<usize, OpError> {
    if !v.is_number() {
        return Err(OpError::type_error(format!("{what} must be a number")));
    }
    match v.number_value(scope) {
        Some(n) if n.is_nan() => Ok(0),
        Some(n) if (0.0..=max as f64).contains(&n.trunc()) => Ok((n.trunc() as usize).min(max)),
        _ => Err(OpError::range_error(format!("{what} must be between 0 and {max}"))),
    }
}

/// Copies the bytes of an ArrayBuffer or ArrayBufferView (including views
/// of SharedArrayBuffers; a detached buffer has none).
pub(crate) fn bytes_arg(v: v8::Local<v8::Value>) -> Option<Vec<u8>> {
    if let Ok(view) = v8::Local::<v8::ArrayBufferView>::try_from(v) {
        let mut buf = vec![0; view.byte_length()];
        let copied = view.copy_contents(&mut buf);
        buf.truncate(copied);
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

/// The byte length of an ArrayBuffer or ArrayBufferView (None for other
/// values), read without copying.
pub(crate) fn bytes_len(v: v8::Local<v8::Value>) -> Option<usize> {
    if let Ok(view) = v8::Local::<v8::ArrayBufferView>::try_from(v) {
        return Some(view.byte_length());
    }
    v8::Local::<v8::ArrayBuffer>::try_from(v)
        .ok()
        .map(|ab| ab.byte_length())
}

/// A new `Uint8Array` owning `data`, its bytes charged to the isolate's
/// memory budget until V8 frees it. Past the budget the script is being
/// terminated (memory limit) and this returns an empty array. Past V8's
/// largest typed array (which `Uint8Array::New` would answer with a fatal
/// error) it is an empty array with a RangeError thrown: the op's caller
/// sees the error.
pub(crate) fn uint8array<'s>(scope: &mut v8::PinScope<'s, '_>, data: Vec<u8>) -> v8::Local<'s, v8::Uint8Array> {
    if data.len() > v8::Uint8Array::MAX_LENGTH {
        throw(scope, OpError::range_error("Array buffer allocation failed"));
        return empty_uint8array(scope);
    }
    let budget = scope.get_slot::<SharedState>().map(|st| st.borrow().memory.clone());
    let charged = budget.and_then(|b| crate::io::limits::charged_uint8array(scope, &b, data));
    charged.unwrap_or_else(|| empty_uint8array(scope))
}

fn empty_uint8array<'s>(scope: &mut v8::PinScope<'s, '_>) -> v8::Local<'s, v8::Uint8Array> {
    let empty = v8::ArrayBuffer::new(scope, 0);
    v8::Uint8Array::new(scope, empty, 0, 0).unwrap_or_else(|| unreachable_empty_view())
}

#[cold]
fn unreachable_empty_view() -> ! {
    // A zero-length view of a fresh zero-length buffer cannot fail; if V8
    // says otherwise the guard turns this into a TypeError.
    panic!("V8 refused a zero-length Uint8Array")
}

/// Headers as a flat JS array `[name, value, ...]`, names lower-case,
/// values decoded as UTF-8 as workerd decodes them (invalid bytes, such as
/// Latin-1 obs-text, as U+FFFD). (A `HeaderMap` holds at most 32768
/// fields, each far below V8's string limit.)
pub(crate) fn headers_to_js<'s>(scope: &mut v8::PinScope<'s, '_>, headers: &HeaderMap) -> v8::Local<'s, v8::Array> {
    let mut elems = Vec::with_capacity(headers.len().saturating_mul(2));
    for (name, value) in headers {
        let name = v8::String::new(scope, name.as_str()).unwrap_or_else(|| v8::String::empty(scope));
        let value = v8::String::new_from_utf8(scope, value.as_bytes(), v8::NewStringType::Normal)
            .unwrap_or_else(|| v8::String::empty(scope));
        elems.push(name.into());
        elems.push(value.into());
    }
    v8::Array::new_with_elements(scope, &elems)
}

/// The headers slot of `fetch`/`respond`/`cachePut`, checked for the wire:
/// the text form `name:value\n...` or the copy-on-write form `[id, op,
/// name, value, ...]` (element 0 a number; see [`crate::jsg::headers`]), or the inverse of [`headers_to_js`], an
/// array of strings (name, value, name, value...), each field valid
/// ([`wire::header`]), at most [`wire::MAX_HEADER_COUNT`] fields and
/// [`wire::MAX_HEADER_BYTES`] in all. Reading an element may run a getter
/// the script planted on the array: if it throws, that exception is the
/// op's ([`OpError::Pending`]).
pub(crate) fn headers_from_js(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> Result<HeaderMap, OpError> {
    if let Ok(text) = v8::Local::<v8::String>::try_from(v) {
        return crate::jsg::headers::from_text(scope, text);
    }
    let arr = v8::Local::<v8::Array>::try_from(v).map_err(|_| OpError::type_error("headers must be an array"))?;
    let len = arr.length() as usize;
    if len > 0 && arr.get_index(scope, 0).ok_or(OpError::Pending)?.is_number() {
        return crate::jsg::headers::from_js(scope, arr);
    }
    let mut budget = wire::HeaderBudget::default();
    budget.expect(len / 2)?;
    let mut map = HeaderMap::new();
    let mut i = 0;
    while i + 1 < len {
        let n = arr.get_index(scope, i as u32).ok_or(OpError::Pending)?;
        let v = arr.get_index(scope, i as u32 + 1).ok_or(OpError::Pending)?;
        let (Ok(n), Ok(v)) = (
            v8::Local::<v8::String>::try_from(n),
            v8::Local::<v8::String>::try_from(v),
        ) else {
            return Err(OpError::type_error("header names and values must be strings"));
        };
        // UTF-16 units first (never more than the UTF-8 bytes counted
        // below), so no huge string is copied out of V8 to be refused.
        wire::HeaderBudget::default().take(n.length(), v.length())?;
        let n = n.to_rust_string_lossy(scope);
        let v = v.to_rust_string_lossy(scope);
        budget.take(n.len(), v.len())?;
        let (name, value) = wire::header(&n, &v)?;
        map.try_append(name, value)
            .map_err(|_| OpError::range_error("Too many headers"))?;
        i += 2;
    }
    // `length` may have changed under a getter: check what was read.
    if map.len() > wire::MAX_HEADER_COUNT {
        return Err(OpError::range_error("Too many headers"));
    }
    Ok(map)
}

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
    // Fails only while execution is being terminated: nothing to answer.
    let Some(resolver) = v8::PromiseResolver::new(scope) else {
        return;
    };
    rv.set(resolver.get_promise(scope).into());
    let global = v8::Global::new(scope, resolver);
    let (id, tx, key) = {
        let mut s = st.borrow_mut();
        let id = s.next_id();
        s.promises.insert(id, (global, req));
        (id, s.completions.clone(), s.key)
    };
    let task = tokio::task::spawn_local(async move {
        let result = fut.await;
        let _ = tx.send(Completion {
            isolate: key,
            promise: id,
            result,
        });
    });
    st.borrow_mut().tasks.insert(id, task.abort_handle());
}

/// Answers with a promise already rejected with a TypeError or RangeError.
fn rejected_promise(scope: &mut v8::PinScope<'_, '_>, rv: &mut v8::ReturnValue, e: OpError) {
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
            .map(|t| crate::io::limits::thread_cpu().saturating_sub(t))
            .unwrap_or_default();
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
    let msg = match string_arg(scope, args.get(1), "a console message") {
        Ok(m) => m,
        Err(e) => return throw(scope, e),
    };
    let worker = state(scope).borrow().worker.clone();
    // One log line per call, whatever the script wrote: newlines and other
    // controls escaped, so no line of isoproxy's log can be forged.
    let msg = wire::escape_log(&msg, MAX_CONSOLE_BYTES);
    log::log!(target: "isoproxy::worker", level, "worker {worker}: {msg}");
}

/// Longest console message logged (the rest is cut, with a note).
const MAX_CONSOLE_BYTES: usize = 64 * 1024;

/// The request whose handler (or a continuation of it) is running. V8
/// carries it across promise reactions as the continuation-preserved
/// embedder data: the request id, or an `AsyncLocalStorage` frame
/// `[requestId, stores]` (see js/node/async_hooks.js).
pub(crate) fn current_request(scope: &mut v8::PinScope<'_, '_>) -> Option<u32> {
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

/// `respond(reqId, status, statusText, headers, bodyKind, body, socket)`.
/// Checked for the wire whatever the bootstrap checked: status 200-599 (or
/// 101 with an unused `socket` id from `response.webSocket`), a reason
/// phrase without controls, valid and bounded headers, no body on a
/// null-body status.
fn op_respond(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
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

/// A response's status line and headers as a script hands them over,
/// checked for the wire (see [`wire`]).
pub(crate) fn response_head(
    scope: &mut v8::PinScope<'_, '_>,
    status: v8::Local<v8::Value>,
    status_text: v8::Local<v8::Value>,
    headers: v8::Local<v8::Value>,
) -> Result<ResponseHead, OpError> {
    let status = wire::status(number_arg(scope, status).unwrap_or(f64::NAN))?;
    // (The copy is bounded loosely; the wire check names the real bound.)
    let status_text = str_arg(scope, status_text, "statusText", 4 * wire::MAX_REASON_BYTES)?;
    let status_text = wire::reason_phrase(&status_text)?.unwrap_or("").to_string();
    let headers = headers_from_js(scope, headers)?;
    Ok(ResponseHead {
        status,
        status_text,
        headers,
    })
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
    crate::script::isolate::request_done(&st, req_id);
}

/// `fetch(reqId, method, url, headers, bodyKind, body)` -> Promise of
/// `[status, statusText, headers, body, socket]` where body is null, a
/// native body id, or a Uint8Array, and socket null or the id of the
/// origin's WebSocket (a 101).
fn op_fetch(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
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
        Some(phase) => pass_out(phase, request),
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
/// through the future answered.
fn pass_out(
    phase: PassingPhase,
    request: FetchRequest,
) -> crate::io::http::BoxFuture<Result<WorkerResponse, FetchError>> {
    use crate::io::http::{Answer, FetchReply, Pass};
    let (phase, answer) = phase;
    let (fetched_tx, fetched_rx) = tokio::sync::oneshot::channel();
    let pass = Pass {
        request,
        fetched: FetchReply::new(fetched_tx),
        answer: Answer::new(answer),
    };
    // Unsent only when the proxy stopped waiting: the request is being
    // cancelled (and its promise stays pending until it ends).
    let _ = phase.send(Ok(crate::io::http::Outcome::Pass(pass)));
    Box::pin(async move {
        match fetched_rx.await {
            Ok(result) => result,
            // The proxy dropped the pass unsettled only because it stopped
            // waiting for the request (client gone, timed out): the request
            // is being cancelled, and no more of its JS runs.
            Err(_) => std::future::pending().await,
        }
    })
}

/// `bodyRead(rid)` -> Promise<Uint8Array | null>.
fn op_body_read(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let rid = u32_arg(scope, args.get(0));
    let Some(mut stream) = st.borrow_mut().bodies.remove(&rid) else {
        return rejected_promise(scope, &mut rv, OpError::type_error("This body has already been used."));
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

/// `bodyAlive(rid)` -> whether Rust still holds the rest of this native
/// body (not read to its end, cancelled or handed on, nor being read now):
/// what `passThroughOnException()` can still send to the origin.
fn op_body_alive(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let rid = u32_arg(scope, args.get(0));
    let alive = st.borrow().bodies.contains_key(&rid);
    rv.set(v8::Boolean::new(scope, alive).into());
}

/// `sinkNew(length?)` -> id: a pipe the script writes into and Rust reads
/// from; `length`, a non-negative integer, is the body's known length (a
/// FixedLengthStream's), sent as Content-Length.
fn op_sink_new(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    // Only a number is a length (converting anything else would run the
    // script's code); it goes out as Content-Length, so it must be exact.
    let length = number_arg(scope, args.get(0))
        .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n <= 9_007_199_254_740_991.0)
        .map(|n| n as u64);
    let (writer, stream) = body_channel(length);
    let id = {
        let mut s = st.borrow_mut();
        let id = s.next_id();
        s.sinks.insert(id, writer);
        s.sink_streams.insert(id, stream);
        id
    };
    let owner = current_request(scope);
    crate::script::isolate::sink_opened(&st, id, owner);
    rv.set(v8::Integer::new_from_unsigned(scope, id).into());
}

/// `sinkWrite(id, bytes)` -> Promise, settled once the consumer has room.
fn op_sink_write(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let Some(writer) = st.borrow().sinks.get(&id).cloned() else {
        return rejected_promise(scope, &mut rv, OpError::type_error("the body's consumer went away"));
    };
    let Some(bytes) = bytes_arg(args.get(1)) else {
        return rejected_promise(
            scope,
            &mut rv,
            OpError::type_error("body chunks must be ArrayBuffer or ArrayBufferView"),
        );
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
    crate::script::isolate::sink_closed(&st, id);
    if let Some(writer) = writer
        && !args.get(1).is_undefined()
    {
        // The reason travels to whoever reads the body, and into logs: one
        // bounded line.
        let msg = string_arg(scope, args.get(1), "the error").unwrap_or_else(|_| "the body stream failed".into());
        let msg = wire::escape_log(&msg, 1024).into_owned();
        tokio::task::spawn_local(async move { writer.fail(BodyError(msg)).await });
    }
}

/// `timer(ms)` -> Promise resolved after `ms` milliseconds.
fn op_timer(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    // Non-numbers, NaN and negatives are 0; the longest wait is u32::MAX ms
    // (49 days: no request lives that long).
    let ms = number_arg(scope, args.get(0)).unwrap_or(0.0);
    let ms = if ms > 0.0 {
        ms.min(f64::from(u32::MAX)) as u64
    } else {
        0
    };
    promise_op(scope, &mut rv, async move {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        OpResult::Timer
    });
}

/// The components the bootstrap's URL class keeps (12_url.js's indices).
fn url_components<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    url: &ada_url::Url,
) -> Result<v8::Local<'s, v8::Value>, OpError> {
    let origin = url.origin();
    let parts = [
        url.href(),
        url.protocol(),
        url.username(),
        url.password(),
        url.host(),
        url.hostname(),
        url.port(),
        url.pathname(),
        url.search(),
        url.hash(),
        &origin,
    ];
    let mut elems = Vec::with_capacity(parts.len());
    for p in parts {
        // A URL can outgrow its input (percent-encoding triples a byte):
        // past V8's string limit it is a RangeError, not a crash.
        elems.push(js_value(scope, p)?);
    }
    Ok(v8::Array::new_with_elements(scope, &elems).into())
}

fn set_url_components(scope: &mut v8::PinScope<'_, '_>, rv: &mut v8::ReturnValue, url: &ada_url::Url) {
    match url_components(scope, url) {
        Ok(v) => rv.set(v),
        Err(e) => throw(scope, e),
    }
}

/// `urlParse(input, base?)` -> components or null. The parser is ada's,
/// as in workerd, so that URLs serialise byte for byte as they do there.
fn op_url_parse(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let input = match string_arg(scope, args.get(0), "url") {
        Ok(s) => s,
        Err(e) => return throw(scope, e),
    };
    let base = if args.get(1).is_null_or_undefined() {
        None
    } else {
        match string_arg(scope, args.get(1), "base") {
            Ok(s) => Some(s),
            Err(e) => return throw(scope, e),
        }
    };
    match ada_url::Url::parse(input.as_str(), base.as_deref()) {
        Ok(u) => set_url_components(scope, &mut rv, &u),
        Err(_) => rv.set_null(),
    }
}

/// `urlSet(href, setter, value)` -> components (null when `href` is set to
/// something that does not parse). Every other setter that cannot apply
/// its value leaves the URL as it was, as the URL standard says.
fn op_url_set(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let strings = (|| -> Result<_, OpError> {
        Ok((
            string_arg(scope, args.get(0), "href")?,
            string_arg(scope, args.get(1), "setter")?,
            string_arg(scope, args.get(2), "value")?,
        ))
    })();
    let (href, setter, value) = match strings {
        Ok(s) => s,
        Err(e) => return throw(scope, e),
    };
    let Ok(mut url) = ada_url::Url::parse(href.as_str(), None) else {
        return rv.set_null();
    };
    let value = value.as_str();
    // A setter's result is ignored on purpose: one that cannot apply its
    // value is a no-op, except href, whose failure the caller throws.
    match setter.as_str() {
        "href" => {
            if url.set_href(value).is_err() {
                return rv.set_null();
            }
        }
        "protocol" => _ = url.set_protocol(value),
        "username" => _ = url.set_username(Some(value)),
        "password" => _ = url.set_password(Some(value)),
        "host" => _ = url.set_host(Some(value)),
        "hostname" => _ = url.set_hostname(Some(value)),
        "port" => _ = url.set_port(Some(value)),
        "pathname" => _ = url.set_pathname(Some(value)),
        "search" => url.set_search(Some(value)),
        "hash" => url.set_hash(Some(value)),
        _ => return rv.set_null(),
    }
    set_url_components(scope, &mut rv, &url);
}

fn op_encode_utf8(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let s = match string_arg(scope, args.get(0), "input") {
        Ok(s) => s,
        Err(e) => return throw(scope, e),
    };
    rv.set(uint8array(scope, s.into_bytes()).into());
}

/// `encodeUtf8Into(string, u8)` -> `[read, written]` (read in UTF-16 units).
fn op_encode_utf8_into(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let s = match string_arg(scope, args.get(0), "source") {
        Ok(s) => s,
        Err(e) => return throw(scope, e),
    };
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
        read = read.saturating_add(c.len_utf16() as u32);
    }
    // A detached buffer has no data (and a zero length): nothing to write.
    if !out.is_empty() && !view.data().is_null() {
        // SAFETY: the view covers `cap` writable bytes of a live ArrayBuffer (the
        // handle keeps it alive) and `out.len() <= cap`; no JS runs while we write.
        unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), view.data() as *mut u8, out.len()) };
    }
    let r = v8::Integer::new_from_unsigned(scope, read).into();
    let w = v8::Integer::new_from_unsigned(scope, u32::try_from(out.len()).unwrap_or(u32::MAX)).into();
    rv.set(v8::Array::new_with_elements(scope, &[r, w]).into());
}

fn encoding_name(e: &'static encoding_rs::Encoding) -> String {
    e.name().to_ascii_lowercase()
}

fn op_encoding_for_label(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let Ok(label) = str_arg(scope, args.get(0), "label", 256) else {
        return rv.set_null();
    };
    // The Encoding standard trims ASCII whitespace only (`str::trim` would
    // also take U+000B, U+00A0, U+2028...).
    let label = label.trim_matches(['\t', '\n', '\x0c', '\r', ' ']);
    match encoding_rs::Encoding::for_label_no_replacement(label.as_bytes()) {
        Some(e) => match js_value(scope, &encoding_name(e)) {
            Ok(v) => rv.set(v),
            Err(e) => throw(scope, e),
        },
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
    let name = match string_arg(scope, args.get(0), "encoding") {
        Ok(s) => s,
        Err(e) => return throw(scope, e),
    };
    let Some(encoding) = encoding_rs::Encoding::for_label_no_replacement(name.as_bytes()) else {
        let msg = format!("The \"{}\" encoding is not supported.", wire::excerpt(&name));
        return throw(scope, OpError::range_error(msg));
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
            .unwrap_or_else(|| input.len().saturating_mul(3).saturating_add(16));
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
        // Decoded text can outgrow V8's longest string: a RangeError.
        Some(out) => match js_value(scope, &out) {
            Ok(v) => rv.set(v),
            Err(e) => throw(scope, e),
        },
        None => throw_type_error(scope, "Failed to decode input."),
    }
}

fn op_decoder_free(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    st.borrow_mut().decoders.remove(&id);
}

/// The most bytes one `randomBytes` call makes (`getRandomValues` itself
/// allows 65536; generated keys need less).
const MAX_RANDOM_BYTES: usize = 1 << 20;

/// `randomBytes(n)` -> a Uint8Array of `n` bytes from the OS CSPRNG
/// (`crypto.getRandomValues` copies them into the caller's view).
fn op_random_bytes(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let n = match len_arg(scope, args.get(0), MAX_RANDOM_BYTES, "the byte count") {
        Ok(n) => n,
        Err(e) => return throw(scope, e),
    };
    let mut buf = vec![0u8; n];
    if let Err(e) = getrandom::fill(&mut buf) {
        return throw_type_error(scope, &format!("no randomness available: {e}"));
    }
    rv.set(uint8array(scope, buf).into());
}

/// `cloneKind(value)` -> what V8's serializer (which workerd's
/// structuredClone uses) would take `value` for, from its internal type,
/// never from its prototype or `Symbol.toStringTag` (a script can forge
/// those): `"error"` (an object with [[ErrorData]]), `"proxy"`, `"array"`,
/// `"date"`, `"regexp"`, `"boolean"`/`"number"`/`"string"`/`"bigint"`/
/// `"symbol"` (primitive wrappers), `"map"`, `"set"`, `"arraybuffer"`,
/// `"sharedarraybuffer"`, `"typedarray"`, `"dataview"`, `"refused"` (a
/// built-in V8's serializer refuses: weak collections, promises,
/// generators, iterators, arguments, module namespaces, wasm objects,
/// externals), `"function"`, else `""` (an ordinary object).
fn op_clone_kind(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let v = args.get(0);
    let kind = if v.is_proxy() {
        "proxy"
    } else if v.is_function() {
        "function"
    } else if v.is_native_error() {
        "error"
    } else if v.is_array() {
        "array"
    } else if v.is_date() {
        "date"
    } else if v.is_reg_exp() {
        "regexp"
    } else if v.is_boolean_object() {
        "boolean"
    } else if v.is_number_object() {
        "number"
    } else if v.is_string_object() {
        "string"
    } else if v.is_big_int_object() {
        "bigint"
    } else if v.is_symbol_object() {
        "symbol"
    } else if v.is_map() {
        "map"
    } else if v.is_set() {
        "set"
    } else if v.is_array_buffer() {
        "arraybuffer"
    } else if v.is_shared_array_buffer() {
        "sharedarraybuffer"
    } else if v.is_typed_array() {
        "typedarray"
    } else if v.is_data_view() {
        "dataview"
    } else if v.is_weak_map()
        || v.is_weak_set()
        || v.is_promise()
        || v.is_generator_object()
        || v.is_map_iterator()
        || v.is_set_iterator()
        || v.is_arguments_object()
        || v.is_module_namespace_object()
        || v.is_wasm_memory_object()
        || v.is_wasm_module_object()
        || v.is_external()
    {
        "refused"
    } else {
        ""
    };
    match v8::String::new(scope, kind) {
        Some(s) => rv.set(s.into()),
        None => rv.set_undefined(),
    }
}

/// Logs promises rejected with no handler (as workerd does, with the stack).
/// `loadBootstrap(file, internals)`: runs one of the lazily loaded
/// bootstrap files (`js::LAZY`) in this isolate, as the eager ones run at
/// startup. `95_lazy.js` calls it at most once per file.
fn op_load_bootstrap(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let Ok(name) = str_arg(scope, args.get(0), "name", 64) else {
        return throw_type_error(scope, "no such lazily loaded bootstrap file");
    };
    let internals = args.get(1);
    if name == "node" {
        // The Node.js modules, all of them in order (they build on each other).
        for file in crate::script::js::NODE {
            if !crate::script::isolate::run_bootstrap_file(scope, file, internals) {
                return;
            }
        }
        return;
    }
    let Some(file) = crate::script::js::LAZY.iter().find(|f| f.name == name) else {
        let msg = format!("no lazily loaded bootstrap file {}", wire::excerpt(&name));
        return throw_type_error(scope, &msg);
    };
    crate::script::isolate::run_bootstrap_file(scope, file, internals);
}

/// `defineLazy(target, name)`: a non-enumerable V8 lazy data property: it
/// reads as an ordinary data property, and the first read asks
/// `internals.lazyValue(name)` (95_lazy.js) for its value and stores it in
/// place of the property. The getter carries no data: lazy properties are
/// made into the startup snapshot, where the getter's data would be
/// serialised with the isolate rather than the context.
fn op_define_lazy(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    if !crate::script::snapshot_make::define_lazy(scope, &args, lazy_property_getter) {
        throw_type_error(scope, "defineLazy(target, name)");
    }
}

/// The getter of a `defineLazy` property, behind the panic guard.
fn lazy_property_getter(
    scope: &mut v8::PinScope,
    name: v8::Local<v8::Name>,
    args: v8::PropertyCallbackArguments,
    rv: v8::ReturnValue<v8::Value>,
) {
    let outcome = crate::jsg::guard::catch(|| lazy_property_get(scope, name, args, rv));
    if let Err(payload) = outcome {
        crate::jsg::guard::record(
            &crate::jsg::guard::worker_name(scope),
            "a lazy property getter",
            &*payload,
        );
        throw(scope, OpError::type_error("internal error in a lazy property getter"));
    }
}

fn lazy_property_get(
    scope: &mut v8::PinScope,
    name: v8::Local<v8::Name>,
    _args: v8::PropertyCallbackArguments,
    mut rv: v8::ReturnValue<v8::Value>,
) {
    let loader = scope
        .get_slot::<SharedState>()
        .and_then(|st| st.borrow().lazy_value.clone());
    let Some(loader) = loader else {
        return throw_type_error(scope, "lazy globals are not available here");
    };
    let loader = v8::Local::new(scope, loader);
    let undefined = v8::undefined(scope).into();
    // On failure an exception is pending: the read throws and the property
    // stays lazy.
    if let Some(value) = loader.call(scope, undefined, &[name.into()]) {
        rv.set(value);
    }
}

/// V8's promise reject callback (see `WorkerIsolate::report_rejections`),
/// behind the panic guard: a panic loses one report, nothing more.
pub(crate) extern "C" fn promise_reject_callback(msg: v8::PromiseRejectMessage) {
    // SAFETY: V8 invokes this callback on the isolate's thread inside a context.
    v8::callback_scope!(unsafe scope, &msg);
    v8::scope!(let scope, scope);
    if let Err(payload) = crate::jsg::guard::catch(|| note_rejection(scope, &msg)) {
        crate::jsg::guard::record(
            &crate::jsg::guard::worker_name(scope),
            "the promise reject callback",
            &*payload,
        );
    }
}

fn note_rejection(scope: &mut v8::PinScope, msg: &v8::PromiseRejectMessage) {
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
