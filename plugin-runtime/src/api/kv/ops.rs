//! The ops behind a `KVNamespace` (js/36_kv.js). A namespace is named by its
//! index in the worker's own `kv_namespaces`, so a script reaches only the
//! namespaces it is bound to. Every argument is checked here (types, key,
//! value and metadata sizes, expiration) whatever the bootstrap checked;
//! errors read as Workers' (`KV PUT failed: 413 ...`). Each call counts
//! against the request's KV limit ([`super::MAX_OPS_PER_REQUEST`]); the
//! store's work runs on the KV runtime and the promise settles through the
//! isolate's completions ([`crate::io::context::OpResult::Kv`]).

use std::sync::Arc;

use bytes::Bytes;

use super::{
    Kv, KvError, KvList, KvValue, ListQuery, MAX_BULK_KEYS, MAX_KEY_BYTES, MAX_LIST_KEYS, MAX_METADATA_BYTES,
    MAX_OPS_PER_REQUEST, MAX_VALUE_BYTES, MIN_EXPIRATION_TTL, PIECE_BYTES, Upload, now_s,
};
use crate::error::OpError;
use crate::io::body::{BodyStream, body_channel};
use crate::io::context::{OpResult, SharedState};
use crate::io::sysbuf::SystemBuf;
use crate::jsg::ops::{bytes_arg, current_request, js_string, number_arg, state, u32_arg, uint8array};
use crate::jsg::promise::promise_op;

/// Chunks of a value read as a stream.
const STREAM_CHUNK: usize = 64 * 1024;

/// A finished KV operation, settled on the isolate's thread.
pub(crate) enum KvDone {
    /// `get` of one key: the value and metadata, or null.
    Get(Result<Option<KvValue>, KvError>),
    /// `get(key, "stream")`: the value as a body stream and its metadata.
    Stream(Result<Option<(BodyStream, Option<String>)>, KvError>),
    /// A bulk `get`.
    GetMany(Result<Vec<Option<KvValue>>, KvError>),
    /// `put` / `delete`, by the operation's name for errors.
    Unit(&'static str, Result<(), KvError>),
    /// `list`.
    List(Result<KvList, KvError>),
}

/// An op's refusal: Workers throws some as TypeError (bad key names, bad
/// types) and the store's answers as plain `Error("KV OP failed: ...")`.
enum Refusal {
    Op(OpError),
    Error(String),
}

impl From<OpError> for Refusal {
    fn from(e: OpError) -> Self {
        Refusal::Op(e)
    }
}

fn failed(op: &str, status: u16, msg: impl std::fmt::Display) -> Refusal {
    Refusal::Error(format!("KV {op} failed: {status} {msg}"))
}

fn store_error(op: &str, e: &KvError) -> String {
    match e {
        KvError::BadCursor => format!("KV {op} failed: 400 Invalid cursor."),
        e => format!("KV {op} failed: 503 {e}"),
    }
}

fn error_value<'s>(scope: &mut v8::PinScope<'s, '_>, msg: &str) -> v8::Local<'s, v8::Value> {
    let msg = js_string(scope, msg).unwrap_or_else(|| v8::String::empty(scope));
    v8::Exception::error(scope, msg)
}

/// Answers with a promise rejected with `why` (a pending exception stays).
fn reject_now(scope: &mut v8::PinScope<'_, '_>, rv: &mut v8::ReturnValue, why: Refusal) {
    let exc = match why {
        Refusal::Op(OpError::Pending) => return,
        Refusal::Op(OpError::Type(m)) => {
            let m = js_string(scope, &m).unwrap_or_else(|| v8::String::empty(scope));
            v8::Exception::type_error(scope, m)
        }
        Refusal::Op(OpError::Range(m)) => {
            let m = js_string(scope, &m).unwrap_or_else(|| v8::String::empty(scope));
            v8::Exception::range_error(scope, m)
        }
        Refusal::Error(m) => error_value(scope, &m),
    };
    let Some(resolver) = v8::PromiseResolver::new(scope) else {
        return;
    };
    resolver.reject(scope, exc);
    rv.set(resolver.get_promise(scope).into());
}

/// The namespace id bound at index `v` of the worker's `kv_namespaces`.
fn namespace(scope: &mut v8::PinScope<'_, '_>, st: &SharedState, v: v8::Local<v8::Value>) -> Result<String, Refusal> {
    if !v.is_uint32() {
        return Err(OpError::type_error("not a KV namespace").into());
    }
    let i = u32_arg(scope, v) as usize;
    let code = st.borrow().code.upgrade();
    code.and_then(|c| c.spec.kv_namespaces.get(i).map(|b| b.id.clone()))
        .ok_or_else(|| OpError::type_error("not a KV namespace").into())
}

/// A key as Workers checks it (`validateKeyName`).
fn key_arg(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>, op: &str) -> Result<String, Refusal> {
    let Ok(s) = v8::Local::<v8::String>::try_from(v) else {
        return Err(OpError::type_error("Key name must be a string.").into());
    };
    // More UTF-16 units than the limit has bytes: too long, without copying.
    if s.length() > MAX_KEY_BYTES {
        let len = s.utf8_length(scope);
        return Err(key_too_long(op, len));
    }
    let key = s.to_rust_string_lossy(scope);
    match key.as_str() {
        "" => Err(OpError::type_error("Key name cannot be empty.").into()),
        "." => Err(OpError::type_error("\".\" is not allowed as a key name.").into()),
        ".." => Err(OpError::type_error("\"..\" is not allowed as a key name.").into()),
        k if k.len() > MAX_KEY_BYTES => Err(key_too_long(op, k.len())),
        _ => Ok(key),
    }
}

fn key_too_long(op: &str, len: usize) -> Refusal {
    failed(
        op,
        414,
        format!("UTF-8 encoded length of {len} exceeds key length limit of {MAX_KEY_BYTES}."),
    )
}

/// Counts one KV operation against the running request; past the limit the
/// operation is refused.
fn count(scope: &mut v8::PinScope<'_, '_>, st: &SharedState) -> Result<(), Refusal> {
    let Some(req) = current_request(scope) else {
        // promise_op refuses it (no request is running).
        return Ok(());
    };
    let mut s = st.borrow_mut();
    if let Some(ctx) = s.requests.get_mut(&req) {
        ctx.kv_ops = ctx.kv_ops.saturating_add(1);
        if ctx.kv_ops > MAX_OPS_PER_REQUEST {
            return Err(Refusal::Error(format!(
                "Too many KV operations in one request: at most {MAX_OPS_PER_REQUEST}."
            )));
        }
    }
    Ok(())
}

fn kv() -> Result<Arc<Kv>, Refusal> {
    super::installed().ok_or_else(|| Refusal::Error("KV storage is not configured in this process".into()))
}

/// What every KV op does first: the namespace (argument 0), the op's own
/// arguments (`rest`), the store, one count against the request. On a
/// refusal the op's answer is a rejected promise and this gives `None`.
fn prelude<T>(
    scope: &mut v8::PinScope<'_, '_>,
    st: &SharedState,
    args: &v8::FunctionCallbackArguments,
    rv: &mut v8::ReturnValue,
    rest: impl FnOnce(&mut v8::PinScope<'_, '_>) -> Result<T, Refusal>,
) -> Option<(String, T, Arc<Kv>)> {
    let checked = (|| {
        let ns = namespace(scope, st, args.get(0))?;
        let rest = rest(scope)?;
        let kv = kv()?;
        count(scope, st)?;
        Ok((ns, rest, kv))
    })();
    match checked {
        Ok(c) => Some(c),
        Err(e) => {
            reject_now(scope, rv, e);
            None
        }
    }
}

/// `kvGet(ns, key, stream)` -> Promise<null | [Uint8Array | rid, metadata | null]>.
pub(crate) fn op_kv_get(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let Some((ns, key, kv)) = prelude(scope, &st, &args, &mut rv, |scope| key_arg(scope, args.get(1), "GET")) else {
        return;
    };
    let stream = args.get(2).is_true();
    let fut = kv.run(move |s| s.get(&ns, &key));
    promise_op(scope, &mut rv, async move {
        let got = fut.await;
        if !stream {
            return OpResult::Kv(KvDone::Get(got));
        }
        OpResult::Kv(KvDone::Stream(
            got.map(|v| v.map(|v| (value_stream(v.value), v.metadata))),
        ))
    });
}

/// A body stream of `value`, fed in chunks by a task on this thread (it
/// ends when the reader goes away).
fn value_stream(value: Bytes) -> BodyStream {
    let (writer, stream) = body_channel(Some(value.len() as u64));
    tokio::task::spawn_local(async move {
        let mut at = 0;
        while at < value.len() {
            let end = (at + STREAM_CHUNK).min(value.len());
            if writer.send(value.slice(at..end)).await.is_err() {
                return;
            }
            at = end;
        }
    });
    stream
}

/// `kvGetMany(ns, keys)` -> Promise<Array<null | [Uint8Array, metadata | null]>>.
pub(crate) fn op_kv_get_many(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let keys = |scope: &mut v8::PinScope<'_, '_>| {
        let arr =
            v8::Local::<v8::Array>::try_from(args.get(1)).map_err(|_| OpError::type_error("keys must be an array"))?;
        let len = arr.length() as usize;
        if len > MAX_BULK_KEYS {
            return Err(failed(
                "GET_BULK",
                400,
                format!("You can request a maximum of {MAX_BULK_KEYS} keys"),
            ));
        }
        let mut keys = Vec::with_capacity(len);
        for i in 0..len {
            let v = arr.get_index(scope, i as u32).ok_or(OpError::Pending)?;
            keys.push(key_arg(scope, v, "GET_BULK")?);
        }
        Ok(keys)
    };
    let Some((ns, keys, kv)) = prelude(scope, &st, &args, &mut rv, keys) else {
        return;
    };
    let fut = kv.run(move |s| s.get_many(&ns, keys));
    promise_op(scope, &mut rv, async move { OpResult::Kv(KvDone::GetMany(fut.await)) });
}

/// A put's value: whole, or a ReadableStream's, staged piece by piece.
enum PutValue {
    Whole(Bytes),
    Stream(KvBuffer),
}

/// The value of a put: a string (as UTF-8), an ArrayBuffer or view, or a
/// buffer id filled by `kvBufferWrite` (a ReadableStream's chunks).
fn value_arg(scope: &mut v8::PinScope<'_, '_>, st: &SharedState, v: v8::Local<v8::Value>) -> Result<PutValue, Refusal> {
    let too_big = |len: usize| {
        failed(
            "PUT",
            413,
            format!("Value length of {len} exceeds limit of {MAX_VALUE_BYTES}."),
        )
    };
    if let Ok(s) = v8::Local::<v8::String>::try_from(v) {
        if s.length() > MAX_VALUE_BYTES {
            return Err(too_big(s.utf8_length(scope)));
        }
        let text = s.to_rust_string_lossy(scope);
        if text.len() > MAX_VALUE_BYTES {
            return Err(too_big(text.len()));
        }
        return Ok(PutValue::Whole(Bytes::from(text)));
    }
    if v.is_number() {
        let id = u32_arg(scope, v);
        let buf = st.borrow_mut().kv_buffers.remove(&id);
        return match buf {
            Some(b) => Ok(PutValue::Stream(b)),
            None => Err(OpError::type_error("This ReadableStream has already been used.").into()),
        };
    }
    if let Some(len) = crate::jsg::ops::bytes_len(v) {
        if len > MAX_VALUE_BYTES {
            return Err(too_big(len));
        }
        return bytes_arg(v).map(|b| PutValue::Whole(Bytes::from(b))).ok_or_else(|| {
            OpError::type_error(
                "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.",
            )
            .into()
        });
    }
    Err(OpError::type_error(
        "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.",
    )
    .into())
}

/// `expiration` / `expirationTtl` as Workers checks them: an absolute time
/// at least 60 s ahead, or a TTL of at least 60 s (the TTL wins).
fn expiration_arg(
    scope: &mut v8::PinScope<'_, '_>,
    expiration: v8::Local<v8::Value>,
    ttl: v8::Local<v8::Value>,
) -> Result<Option<u64>, Refusal> {
    let now = now_s();
    let shown = |n: f64| {
        if n.fract() == 0.0 {
            format!("{n:.0}")
        } else {
            n.to_string()
        }
    };
    // NaN and Infinity as JS prints them; anything not a number (the
    // bootstrap passes numbers) without a value.
    let js = |scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>| {
        if v.is_number() {
            v.to_string(scope)
                .map(|s| format!(" of {}", s.to_rust_string_lossy(scope)))
                .unwrap_or_default()
        } else {
            String::new()
        }
    };
    if !ttl.is_undefined() {
        let Some(n) = number_arg(scope, ttl) else {
            return Err(failed(
                "PUT",
                400,
                format!(
                    "Invalid expiration_ttl{}. Please specify integer greater than 0.",
                    js(scope, ttl)
                ),
            ));
        };
        let n = n.trunc();
        if n <= 0.0 {
            return Err(failed(
                "PUT",
                400,
                format!(
                    "Invalid expiration_ttl of {}. Please specify integer greater than 0.",
                    shown(n)
                ),
            ));
        }
        if n < MIN_EXPIRATION_TTL as f64 {
            return Err(failed(
                "PUT",
                400,
                format!(
                    "Invalid expiration_ttl of {}. Expiration TTL must be at least {MIN_EXPIRATION_TTL}.",
                    shown(n)
                ),
            ));
        }
        // (Capped: a TTL past the year 292 billion is no TTL in practice.)
        return Ok(Some(now.saturating_add(n.min(1e15) as u64)));
    }
    if !expiration.is_undefined() {
        let Some(n) = number_arg(scope, expiration) else {
            return Err(failed(
                "PUT",
                400,
                format!(
                    "Invalid expiration{}. Please specify integer greater than the current number of seconds since the UNIX epoch.",
                    js(scope, expiration)
                ),
            ));
        };
        let n = n.trunc();
        if n <= now as f64 {
            return Err(failed(
                "PUT",
                400,
                format!(
                    "Invalid expiration of {}. Please specify integer greater than the current number of seconds since the UNIX epoch.",
                    shown(n)
                ),
            ));
        }
        if n < (now + MIN_EXPIRATION_TTL) as f64 {
            return Err(failed(
                "PUT",
                400,
                format!(
                    "Invalid expiration of {}. Expiration times must be at least {MIN_EXPIRATION_TTL} seconds in the future.",
                    shown(n)
                ),
            ));
        }
        return Ok(Some(n.min(1e15) as u64));
    }
    Ok(None)
}

/// Metadata: its JSON text (made by the bootstrap), at most 1024 bytes.
fn metadata_arg(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> Result<Option<String>, Refusal> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    let Ok(s) = v8::Local::<v8::String>::try_from(v) else {
        return Err(OpError::type_error("metadata must be serialised to JSON").into());
    };
    let too_big = |len: usize| {
        failed(
            "PUT",
            413,
            format!("Metadata length of {len} exceeds limit of {MAX_METADATA_BYTES}."),
        )
    };
    if s.length() > MAX_METADATA_BYTES {
        return Err(too_big(s.utf8_length(scope)));
    }
    let text = s.to_rust_string_lossy(scope);
    if text.len() > MAX_METADATA_BYTES {
        return Err(too_big(text.len()));
    }
    Ok(Some(text))
}

/// `kvPut(ns, key, value, expiration, expirationTtl, metadataJson)` -> Promise<undefined>.
pub(crate) fn op_kv_put(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let rest = |scope: &mut v8::PinScope<'_, '_>| {
        let key = key_arg(scope, args.get(1), "PUT")?;
        let expiration = expiration_arg(scope, args.get(3), args.get(4))?;
        let metadata = metadata_arg(scope, args.get(5))?;
        let value = value_arg(scope, &st, args.get(2))?;
        Ok((key, value, metadata, expiration))
    };
    let Some((ns, (key, value, metadata, expiration), kv)) = prelude(scope, &st, &args, &mut rv, rest) else {
        return;
    };
    let whole = |value| KvValue {
        value,
        metadata: metadata.clone(),
        expiration,
    };
    let done: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), KvError>>>> = match value {
        PutValue::Whole(value) => {
            let value = whole(value);
            Box::pin(kv.run(move |s| s.put(&ns, &key, value)))
        }
        PutValue::Stream(mut buf) if buf.pieces == 0 => {
            // Shorter than one piece: one plain put.
            buf.done = true;
            let value = whole(buf.pending.take().map(SystemBuf::into_bytes).unwrap_or_default());
            Box::pin(kv.run(move |s| s.put(&ns, &key, value)))
        }
        PutValue::Stream(mut buf) => {
            let last = buf.pending.take().map(SystemBuf::into_bytes).unwrap_or_default();
            let (id, index) = (buf.upload, buf.pieces);
            let upload = Upload {
                id,
                pieces: index + u32::from(!last.is_empty()),
                metadata,
                expiration,
            };
            Box::pin(async move {
                let staged = if last.is_empty() {
                    Ok(())
                } else {
                    kv.run(move |s| s.stage(id, index, last)).await
                };
                let r = match staged {
                    Ok(()) => kv.run(move |s| s.commit(&ns, &key, upload)).await,
                    Err(e) => Err(e),
                };
                // Committed: nothing left to discard. Otherwise, and also
                // when this future is dropped half-way (its request ended),
                // the buffer's drop discards the staged pieces.
                buf.done = r.is_ok();
                drop(buf);
                r
            })
        }
    };
    promise_op(
        scope,
        &mut rv,
        async move { OpResult::Kv(KvDone::Unit("PUT", done.await)) },
    );
}

/// `kvDelete(ns, key)` -> Promise<undefined>.
pub(crate) fn op_kv_delete(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let Some((ns, key, kv)) = prelude(scope, &st, &args, &mut rv, |scope| {
        key_arg(scope, args.get(1), "DELETE")
    }) else {
        return;
    };
    let fut = kv.run(move |s| s.delete(&ns, &key));
    promise_op(scope, &mut rv, async move {
        OpResult::Kv(KvDone::Unit("DELETE", fut.await))
    });
}

/// `kvList(ns, prefix, limit, cursor)` -> Promise<[names, expirations, metadata, cursor | null]>.
pub(crate) fn op_kv_list(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let query = |scope: &mut v8::PinScope<'_, '_>| {
        let prefix = match v8::Local::<v8::String>::try_from(args.get(1)) {
            Ok(s) if s.length() > MAX_KEY_BYTES => return Err(key_too_long("GET", s.utf8_length(scope))),
            Ok(s) => s.to_rust_string_lossy(scope),
            Err(_) if args.get(1).is_null_or_undefined() => String::new(),
            Err(_) => return Err(OpError::type_error("prefix must be a string").into()),
        };
        if prefix.len() > MAX_KEY_BYTES {
            return Err(key_too_long("GET", prefix.len()));
        }
        let limit = match number_arg(scope, args.get(2)) {
            None if args.get(2).is_undefined() => MAX_LIST_KEYS,
            Some(n) if n.trunc() <= 0.0 => MAX_LIST_KEYS,
            Some(n) if n.trunc() <= MAX_LIST_KEYS as f64 => n.trunc() as usize,
            other => {
                let shown = other.map(|n| n.to_string()).unwrap_or_else(|| "NaN".into());
                return Err(failed(
                    "GET",
                    400,
                    format!("Invalid key_count_limit of {shown}. Please specify an integer less than {MAX_LIST_KEYS}."),
                ));
            }
        };
        let cursor = match v8::Local::<v8::String>::try_from(args.get(3)) {
            Ok(s) if s.length() > 4 * MAX_KEY_BYTES => return Err(failed("GET", 400, "Invalid cursor.")),
            Ok(s) => Some(s.to_rust_string_lossy(scope)).filter(|c| !c.is_empty()),
            Err(_) if args.get(3).is_null_or_undefined() => None,
            Err(_) => return Err(OpError::type_error("cursor must be a string").into()),
        };
        Ok(ListQuery { prefix, limit, cursor })
    };
    let Some((ns, query, kv)) = prelude(scope, &st, &args, &mut rv, query) else {
        return;
    };
    let fut = kv.run(move |s| s.list(&ns, query));
    promise_op(scope, &mut rv, async move { OpResult::Kv(KvDone::List(fut.await)) });
}

/// A ReadableStream's chunks on their way into a put: gathered into pieces
/// of [`PIECE_BYTES`], each staged in the store as it fills
/// ([`super::KvStore::stage`]), so the process holds about one piece, not
/// the value. Dropped without being committed (the stream failed, the
/// request ended, the value was too big), its staged pieces are discarded.
pub(crate) struct KvBuffer {
    upload: u64,
    /// Bytes not staged yet (less than a piece), in a buffer of a piece's
    /// size from the system allocator: the store frees it on its own
    /// thread (see `io::sysbuf`).
    pending: Option<SystemBuf>,
    /// Pieces staged so far.
    pieces: u32,
    /// Bytes received so far.
    total: usize,
    /// The request that writes it (the buffer goes when it ends).
    pub owner: Option<u32>,
    kv: Option<Arc<Kv>>,
    /// Committed (or handed to a put): nothing to discard on drop.
    done: bool,
    _charges: Vec<crate::io::limits::Charge>,
}

impl Drop for KvBuffer {
    fn drop(&mut self) {
        if !self.done
            && self.pieces > 0
            && let Some(kv) = &self.kv
        {
            let id = self.upload;
            // Runs on the store's runtime whether awaited or not.
            drop(kv.run(move |s| s.discard(id)));
        }
    }
}

/// `kvBufferNew()` -> id.
pub(crate) fn op_kv_buffer_new(
    scope: &mut v8::PinScope,
    _args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let st = state(scope);
    let owner = current_request(scope);
    let id = {
        let mut s = st.borrow_mut();
        let id = s.next_id();
        s.kv_buffers.insert(
            id,
            KvBuffer {
                upload: super::upload_id(),
                pending: None,
                pieces: 0,
                total: 0,
                owner,
                kv: super::installed(),
                done: false,
                _charges: Vec::new(),
            },
        );
        id
    };
    rv.set(v8::Integer::new_from_unsigned(scope, id).into());
}

/// `kvBufferWrite(id, chunk)` -> undefined, or a Promise once pieces are
/// full: it settles when the store has them (the stream's backpressure).
/// Throws once the value is over the size limit (the buffer is dropped
/// then, and what it staged).
pub(crate) fn op_kv_buffer_write(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let Some(len) = crate::jsg::ops::bytes_len(args.get(1)) else {
        return crate::jsg::ops::throw(
            scope,
            OpError::type_error(
                "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.",
            ),
        );
    };
    let have = match st.borrow().kv_buffers.get(&id) {
        Some(b) => b.total,
        None => return crate::jsg::ops::throw_type_error(scope, "This ReadableStream has already been used."),
    };
    let total = have.saturating_add(len);
    if total > MAX_VALUE_BYTES {
        let dropped = st.borrow_mut().kv_buffers.remove(&id);
        drop(dropped);
        let e = error_value(
            scope,
            &format!("KV PUT failed: 413 Value length of at least {total} exceeds limit of {MAX_VALUE_BYTES}."),
        );
        scope.throw_exception(e);
        return;
    }
    let memory = st.borrow().memory.clone();
    let Some(charge) = memory.charge(len) else {
        // Over the isolate's memory limit: the script is being terminated.
        let dropped = st.borrow_mut().kv_buffers.remove(&id);
        drop(dropped);
        return;
    };
    let Some(chunk) = bytes_arg(args.get(1)) else {
        return;
    };
    // Full pieces leave the buffer for the store, the rest stays.
    let staged = {
        let mut s = st.borrow_mut();
        let Some(b) = s.kv_buffers.get_mut(&id) else {
            return;
        };
        b.total = total;
        b._charges.push(charge);
        let mut pieces = Vec::new();
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            let pending = b.pending.get_or_insert_with(|| SystemBuf::with_capacity(PIECE_BYTES));
            rest = &rest[pending.fill(rest)..];
            if pending.is_full()
                && let Some(full) = b.pending.take()
            {
                pieces.push(full.into_bytes());
            }
        }
        if pieces.is_empty() {
            return;
        }
        let first = b.pieces;
        b.pieces += pieces.len() as u32;
        let charges = std::mem::take(&mut b._charges);
        (b.upload, first, pieces, b.kv.clone(), charges)
    };
    let (upload, first, pieces, kv, charges) = staged;
    let Some(kv) = kv else {
        return crate::jsg::ops::throw_type_error(scope, "KV storage is not configured in this process");
    };
    promise_op(scope, &mut rv, async move {
        let mut r = Ok(());
        for (i, piece) in pieces.into_iter().enumerate() {
            let index = first + i as u32;
            r = kv.run(move |s| s.stage(upload, index, piece)).await;
            if r.is_err() {
                break;
            }
        }
        drop(charges);
        OpResult::Kv(KvDone::Unit("PUT", r))
    });
}

/// `kvBufferFree(id)`: the put was abandoned.
pub(crate) fn op_kv_buffer_free(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let dropped = st.borrow_mut().kv_buffers.remove(&id);
    drop(dropped);
}

fn entry<'s>(scope: &mut v8::PinScope<'s, '_>, v: KvValue) -> v8::Local<'s, v8::Value> {
    let bytes = uint8array(scope, v.value.to_vec()).into();
    let meta = metadata_value(scope, v.metadata);
    v8::Array::new_with_elements(scope, &[bytes, meta]).into()
}

fn metadata_value<'s>(scope: &mut v8::PinScope<'s, '_>, m: Option<String>) -> v8::Local<'s, v8::Value> {
    match m.and_then(|m| js_string(scope, &m)) {
        Some(s) => s.into(),
        None => v8::null(scope).into(),
    }
}

/// Settles a KV op's promise.
pub(crate) fn settle(
    scope: &mut v8::PinScope<'_, '_>,
    st: &SharedState,
    resolver: v8::Local<v8::PromiseResolver>,
    done: KvDone,
) {
    let result: Result<v8::Local<v8::Value>, String> = match done {
        KvDone::Get(r) => r
            .map(|v| match v {
                Some(v) => entry(scope, v),
                None => v8::null(scope).into(),
            })
            .map_err(|e| store_error("GET", &e)),
        KvDone::Stream(r) => r
            .map(|v| match v {
                Some((stream, meta)) => {
                    let rid = st.borrow_mut().add_body(stream);
                    let rid = v8::Integer::new_from_unsigned(scope, rid).into();
                    let meta = metadata_value(scope, meta);
                    v8::Array::new_with_elements(scope, &[rid, meta]).into()
                }
                None => v8::null(scope).into(),
            })
            .map_err(|e| store_error("GET", &e)),
        KvDone::GetMany(r) => r
            .map(|values| {
                let mut elems = Vec::with_capacity(values.len());
                for v in values {
                    elems.push(match v {
                        Some(v) => entry(scope, v),
                        None => v8::null(scope).into(),
                    });
                }
                v8::Array::new_with_elements(scope, &elems).into()
            })
            .map_err(|e| store_error("GET_BULK", &e)),
        KvDone::Unit(op, r) => r.map(|()| v8::undefined(scope).into()).map_err(|e| store_error(op, &e)),
        KvDone::List(r) => r
            .map(|list| {
                let n = list.keys.len();
                let (mut names, mut exps, mut metas) =
                    (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
                for k in list.keys {
                    names.push(js_string(scope, &k.name).map_or_else(|| v8::undefined(scope).into(), Into::into));
                    exps.push(match k.expiration {
                        Some(e) => v8::Number::new(scope, e as f64).into(),
                        None => v8::undefined(scope).into(),
                    });
                    metas.push(match k.metadata {
                        Some(m) => metadata_value(scope, Some(m)),
                        None => v8::undefined(scope).into(),
                    });
                }
                let names = v8::Array::new_with_elements(scope, &names).into();
                let exps = v8::Array::new_with_elements(scope, &exps).into();
                let metas = v8::Array::new_with_elements(scope, &metas).into();
                let cursor = match list.cursor.and_then(|c| js_string(scope, &c)) {
                    Some(c) => c.into(),
                    None => v8::null(scope).into(),
                };
                v8::Array::new_with_elements(scope, &[names, exps, metas, cursor]).into()
            })
            .map_err(|e| store_error("GET", &e)),
    };
    match result {
        Ok(v) => {
            resolver.resolve(scope, v);
        }
        Err(msg) => {
            let exc = error_value(scope, &msg);
            resolver.reject(scope, exc);
        }
    }
}
