//! Copy-on-write headers: the header maps of messages the runtime makes
//! (the incoming request, each `fetch()` response) stay in Rust.
//!
//! JavaScript gets a *token* for such a map: a one-element array `[id]`
//! whose id names an entry of this isolate's [`HeaderTable`]. `js/11_headers.js`
//! keeps the token in its `Headers` object and copies the map into JS
//! (one `ops.headersRead` call) only when the script reads or iterates the
//! headers. `new Request(url, request)`, `new Response(body, res)` and
//! `clone()` share the token; `set`/`append`/`delete` made before any read
//! are kept as a short edit list. When the message goes to the wire, the
//! bootstrap passes `[id, op, name, value, ...]` (or the bare token) in the
//! headers slot of `ops.fetch` / `ops.respond`, and [`from_js`] applies the
//! edits to a copy of the Rust map: the header list never crosses back.
//!
//! An entry lives as long as its token: each entry holds a weak handle to
//! its token, which V8 empties when it collects the token (young tokens go
//! in the next scavenge). The table sweeps out entries whose token is gone
//! whenever it has doubled since the last sweep, so it holds at most about
//! twice the live entries. (A finalizer per token, what this did before,
//! cost each request about a microsecond: a boxed closure, V8's second
//! weak-callback pass, and the crate's finalizer map.)

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use http::HeaderMap;

use crate::error::OpError;
use crate::io::http::ClientInfo;
use crate::jsg::ops::{headers_to_js, throw, u32_arg};
use crate::jsg::wire;

/// The header maps of one isolate whose tokens are alive (and of some
/// whose tokens died since the last sweep).
#[derive(Default)]
pub(crate) struct HeaderTable {
    entries: RefCell<HashMap<u32, Entry>>,
    next_id: std::cell::Cell<u32>,
    /// The number of entries at which the next insert sweeps.
    sweep_at: std::cell::Cell<usize>,
}

/// Entries below this many are never swept: a handful of dead maps cost
/// less than looking at them after every request.
const MIN_SWEEP: usize = 64;

struct Entry {
    map: HeaderMap,
    /// The incoming request's client, for a lazy `request.cf`.
    client: Option<ClientInfo>,
    /// Empty once V8 has collected the token.
    token: v8::Weak<v8::Array>,
}

type SharedTable = Rc<HeaderTable>;

fn table(isolate: &mut v8::Isolate) -> SharedTable {
    if let Some(t) = isolate.get_slot::<SharedTable>() {
        return t.clone();
    }
    let t = SharedTable::default();
    isolate.set_slot(t.clone());
    t
}

/// Edit codes in the wire form (`js/11_headers.js` EDIT_*).
const EDIT_SET: u32 = 0;
const EDIT_APPEND: u32 = 1;
const EDIT_DELETE: u32 = 2;

/// Hands `map` to JavaScript as a token `[id]` (see the module docs).
pub(crate) fn to_js<'s>(scope: &mut v8::PinScope<'s, '_>, map: HeaderMap) -> v8::Local<'s, v8::Array> {
    to_js_with_client(scope, map, None)
}

/// [`to_js`] for the incoming request: the token also answers
/// `ops.requestCf` from `client`, so `request.cf` is only built if read.
pub(crate) fn to_js_with_client<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    map: HeaderMap,
    client: Option<ClientInfo>,
) -> v8::Local<'s, v8::Array> {
    let map = compact(map);
    let t = table(scope);
    // Never an id still in the table (after the counter wraps, a token a
    // script kept for long must not come to name another message's map).
    let id = {
        let entries = t.entries.borrow();
        let mut next = t.next_id.get();
        loop {
            next = next.wrapping_add(1).max(1);
            if !entries.contains_key(&next) {
                break;
            }
        }
        t.next_id.set(next);
        next
    };
    let id_value = v8::Integer::new_from_unsigned(scope, id).into();
    let token = v8::Array::new_with_elements(scope, &[id_value]);
    let weak = v8::Weak::new(scope, token);
    let removed: Vec<Entry> = {
        let mut entries = t.entries.borrow_mut();
        let removed = if entries.len() >= t.sweep_at.get().max(MIN_SWEEP) {
            let removed = entries.extract_if(|_, e| e.token.is_empty()).map(|(_, e)| e).collect();
            t.sweep_at.set(2 * entries.len());
            removed
        } else {
            Vec::new()
        };
        entries.insert(
            id,
            Entry {
                map,
                client,
                token: weak,
            },
        );
        removed
    };
    // (Dropped with the table unborrowed: a weak handle's drop talks to V8.)
    drop(removed);
    token
}

/// `map` with its values copied into one buffer of their own. Pingora's
/// parser makes each value a slice of the message's read buffer (4 KiB and
/// more), so a map kept here (until V8 collects its token, after about a
/// hundred requests, and the next sweep) would keep that whole buffer, and
/// every request would take fresh memory from the allocator.
fn compact(mut map: HeaderMap) -> HeaderMap {
    let total: usize = map.values().map(|v| v.len()).sum();
    let mut buf = bytes::BytesMut::with_capacity(total);
    for v in map.values() {
        buf.extend_from_slice(v.as_bytes());
    }
    let buf = buf.freeze();
    let mut at = 0;
    for v in map.values_mut() {
        let len = v.len();
        let sensitive = v.is_sensitive();
        if let Ok(mut copy) = http::HeaderValue::from_maybe_shared(buf.slice(at..at + len)) {
            copy.set_sensitive(sensitive);
            *v = copy;
        }
        at += len;
    }
    map
}

/// Drops every entry (and so its weak handle) while the isolate is still
/// alive and entered. Called before the isolate is disposed: weak handles
/// that outlive it would be released by V8's teardown GC after their
/// nodes were already reset by the slot's drop, a fatal V8 check.
pub(crate) fn release_all(isolate: &mut v8::Isolate) {
    let Some(t) = isolate.get_slot::<SharedTable>().cloned() else {
        return;
    };
    let entries = match t.entries.try_borrow_mut() {
        Ok(mut entries) => std::mem::take(&mut *entries),
        Err(_) => return,
    };
    // Dropped with the table unborrowed: a weak handle's drop talks to V8.
    drop(entries);
}

/// A copy of the map behind `id`, if its token is alive.
fn map_of(scope: &mut v8::PinScope<'_, '_>, id: u32) -> Option<HeaderMap> {
    let t = table(scope);
    let entries = t.entries.borrow();
    entries.get(&id).map(|e| e.map.clone())
}

const GONE: &str = "headers are no longer available";

/// The backed wire form `[id, op, name, value, ...]` as a checked map:
/// the edits applied in order to a copy of the map behind `id`, each
/// edited field checked by [`wire::header`], the result within the
/// [`wire`] bounds. `arr[0]` is known to be a number.
pub(crate) fn from_js(scope: &mut v8::PinScope<'_, '_>, arr: v8::Local<v8::Array>) -> Result<HeaderMap, OpError> {
    let len = arr.length();
    let id = arr.get_index(scope, 0).ok_or(OpError::Pending)?;
    let id = u32_arg(scope, id);
    let mut map = map_of(scope, id).ok_or_else(|| OpError::type_error(GONE))?;
    // At most what the bootstrap keeps before it materialises (64 edits),
    // with room: a hostile caller gets a RangeError, not a long loop.
    if len > 1 + 3 * 1024 {
        return Err(OpError::range_error("too many header edits"));
    }
    let mut i = 1;
    while i + 2 < len {
        let op = arr.get_index(scope, i).ok_or(OpError::Pending)?;
        let name = arr.get_index(scope, i + 1).ok_or(OpError::Pending)?;
        let value = arr.get_index(scope, i + 2).ok_or(OpError::Pending)?;
        let (Ok(name), Ok(value)) = (
            v8::Local::<v8::String>::try_from(name),
            v8::Local::<v8::String>::try_from(value),
        ) else {
            return Err(OpError::type_error("header names and values must be strings"));
        };
        if name.length() > wire::MAX_HEADER_BYTES || value.length() > wire::MAX_HEADER_BYTES {
            return Err(OpError::range_error(format!(
                "Headers too large: more than {} KiB in one message.",
                wire::MAX_HEADER_BYTES / 1024
            )));
        }
        let op = if op.is_uint32() { u32_arg(scope, op) } else { u32::MAX };
        let name = name.to_rust_string_lossy(scope);
        let value = value.to_rust_string_lossy(scope);
        let (name, value) = wire::header(&name, if op == EDIT_DELETE { "" } else { &value })?;
        match op {
            EDIT_SET => {
                map.insert(name, value);
            }
            EDIT_APPEND => {
                map.try_append(name, value)
                    .map_err(|_| OpError::range_error("Too many headers"))?;
            }
            EDIT_DELETE => {
                map.remove(name);
            }
            _ => return Err(OpError::type_error("unknown header edit")),
        }
        if map.len() > wire::MAX_HEADER_COUNT {
            return Err(OpError::range_error(format!(
                "Too many headers: more than {} in one message.",
                wire::MAX_HEADER_COUNT
            )));
        }
        i += 3;
    }
    let mut budget = wire::HeaderBudget::default();
    for (name, value) in &map {
        budget.take(name.as_str().len(), value.len())?;
    }
    Ok(map)
}

/// The text wire form of headers built in JS: `name:value\n` per field
/// (what `js/11_headers.js` makes instead of an array of strings: one
/// string is cheaper to build in JS and to read here). Fields are
/// checked by [`wire::header`] and the [`wire`] bounds, and go in sorted
/// by name (stable: a name's values keep their order), as the Fetch
/// standard's "sort and combine" lists them.
pub(crate) fn from_text(scope: &mut v8::PinScope<'_, '_>, text: v8::Local<v8::String>) -> Result<HeaderMap, OpError> {
    // Each field costs at least its text in the budget. Too long: only a
    // prefix is read, to name the limit the array form would have named
    // first (the field count, when that prefix already holds too many).
    if text.length() > wire::MAX_HEADER_BYTES {
        let mut prefix = vec![0u8; wire::MAX_HEADER_BYTES];
        text.write_one_byte_v2(scope, 0, &mut prefix, v8::WriteFlags::empty());
        if prefix.iter().filter(|b| **b == b'\n').count() > wire::MAX_HEADER_COUNT {
            return Err(OpError::range_error(format!(
                "Too many headers: more than {} in one message.",
                wire::MAX_HEADER_COUNT
            )));
        }
        return Err(OpError::range_error(format!(
            "Headers too large: more than {} KiB in one message.",
            wire::MAX_HEADER_BYTES / 1024
        )));
    }
    let text = text.to_rust_string_lossy(scope);
    let mut budget = wire::HeaderBudget::default();
    let mut fields = Vec::new();
    for line in text.split_terminator('\n') {
        let Some((name, value)) = line.split_once(':') else {
            return Err(OpError::type_error(format!(
                "Invalid header name '{}'",
                wire::excerpt(line)
            )));
        };
        budget.take(name.len(), value.len())?;
        fields.push(wire::header(name, value)?);
    }
    fields.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let mut map = HeaderMap::with_capacity(fields.len() + wire::ADDED_ON_THE_WIRE);
    for (name, value) in fields {
        map.try_append(name, value)
            .map_err(|_| OpError::range_error("Too many headers"))?;
    }
    Ok(map)
}

/// `headersRead(id)` -> the flat list `[name, value, ...]` of the map
/// behind a live token (names lower-case, one entry per field, in the
/// map's order), for the bootstrap to materialise a `Headers` object.
pub(crate) fn op_headers_read(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let id = u32_arg(scope, args.get(0));
    let Some(map) = map_of(scope, id) else {
        return throw(scope, OpError::type_error(GONE));
    };
    rv.set(headers_to_js(scope, &map).into());
}

/// `requestCf(id)` -> the `cf` object of the incoming request whose
/// headers token is `id`: what `ClientInfo` knows (client IP, HTTP version,
/// TLS version and cipher); Cloudflare-only fields are absent rather than
/// invented. Undefined for a token that is not an incoming request's.
pub(crate) fn op_request_cf(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let id = u32_arg(scope, args.get(0));
    let t = table(scope);
    let client = t.entries.borrow().get(&id).and_then(|e| e.client.clone());
    let Some(client) = client else {
        return;
    };
    let obj = v8::Object::new(scope);
    let field = |scope: &mut v8::PinScope<'_, '_>, key: &str, value: &str| {
        if let (Some(k), Some(v)) = (v8::String::new(scope, key), v8::String::new(scope, value)) {
            // A data property of its own: no setter on Object.prototype runs.
            let _ = obj.create_data_property(scope, k.into(), v.into());
        }
    };
    if let Some(addr) = client.addr {
        field(scope, "clientIp", &addr.to_string());
    }
    if !client.http_protocol.is_empty() {
        field(scope, "httpProtocol", &client.http_protocol);
    }
    if let Some(v) = &client.tls_version {
        field(scope, "tlsVersion", v);
    }
    if let Some(c) = &client.tls_cipher {
        field(scope, "tlsCipher", c);
    }
    rv.set(obj.into());
}

#[cfg(test)]
mod tests {
    use super::compact;
    use bytes::Bytes;
    use http::{HeaderMap, HeaderName, HeaderValue};

    /// Values sliced out of a big read buffer (as Pingora's parser makes
    /// them) come out equal, in order, with their sensitivity, and none of
    /// them points into that buffer any more.
    #[test]
    fn compacted_values_keep_nothing_of_the_read_buffer() {
        let wire = Bytes::from(format!("xa-valueb-1b-2secret{}", " ".repeat(4096)));
        let slice = |a: usize, b: usize| HeaderValue::from_maybe_shared(wire.slice(a..b)).unwrap();
        let mut map = HeaderMap::new();
        map.append(HeaderName::from_static("x-a"), slice(1, 8));
        map.append(HeaderName::from_static("x-b"), slice(8, 11));
        map.append(HeaderName::from_static("x-b"), slice(11, 14));
        let mut secret = slice(14, 20);
        secret.set_sensitive(true);
        map.append(http::header::AUTHORIZATION, secret);
        map.append(HeaderName::from_static("x-empty"), HeaderValue::from_static(""));
        let before: Vec<(String, Vec<u8>, bool)> = map
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec(), v.is_sensitive()))
            .collect();

        let map = compact(map);
        let after: Vec<(String, Vec<u8>, bool)> = map
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec(), v.is_sensitive()))
            .collect();
        assert_eq!(after, before);
        let buffer = wire.as_ptr_range();
        for v in map.values() {
            assert!(
                !buffer.contains(&v.as_bytes().as_ptr()),
                "{v:?} still points into the read buffer"
            );
        }
        assert!(compact(HeaderMap::new()).is_empty());
    }
}
