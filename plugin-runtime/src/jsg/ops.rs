//! The op table and how an op is registered (behind the panic guard), and
//! what every op uses to cross: argument readers, exceptions thrown into
//! the script ([`throw`]), strings, byte arrays, header lists, bodies and
//! response heads read from JS. The ops themselves live with their API
//! (`api/`), the request's life (`io/request.rs`) or the bootstrap
//! (`script/lazy.rs`); `op_table.rs` names each one.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http::HeaderMap;

use crate::error::OpError;
use crate::io::body::Body;
use crate::io::context::{OpResult, SharedState};
use crate::io::http::ResponseHead;
use crate::jsg::promise::promise_op;
use crate::jsg::wire;

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
        lazy_getter: v8::MapFnTo::map_fn_to(crate::script::lazy::lazy_property_getter),
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
pub(crate) const MAX_MESSAGE_BYTES: usize = 4096;

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
pub(crate) fn truncate(s: &str, max: usize) -> &str {
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

/// Takes the body a script hands to Rust: `kind` 0 none, 1 bytes,
/// 2 a native body id, 3 a sink id (a JS stream being pumped).
pub(crate) fn body_arg(
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
