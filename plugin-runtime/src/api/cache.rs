//! The Cache API's store (`caches.default`, `caches.open(name)`): one per
//! process, shared by every isolate thread, keyed by (worker, cache name,
//! URL). Entries live for their freshness lifetime (Cache-Control /
//! Expires, else Cloudflare's default edge TTL for the status) and the
//! least recently used go first when the store is over its byte budget.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, header};

use crate::error::OpError;
use crate::jsg::ops::{
    bytes_arg, bytes_len, headers_from_js, headers_to_js, js_string, response_head, state, str_arg, throw, uint8array,
};

/// The process's store, 64 MiB with entries of at most 16 MiB.
pub(crate) static STORE: LazyLock<CacheStore> = LazyLock::new(|| CacheStore::new(64 << 20, 16 << 20));

/// Identifies one entry. `cache` is `None` for `caches.default`, which is
/// not the same cache as `caches.open("default")` (as in workerd).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    pub worker: Arc<str>,
    pub cache: Option<String>,
    pub url: String,
}

/// A stored response.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub status: u16,
    pub status_text: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Request header values named by the response's `Vary`, as put.
    vary: Vec<(HeaderName, Option<HeaderValue>)>,
    stored: Instant,
    /// `Age` the response already had when put.
    initial_age: Duration,
    expires: Instant,
    tick: u64,
    size: usize,
}

/// A response as handed to `put()`.
pub(crate) struct PutResponse {
    pub status: u16,
    pub status_text: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// What `put()` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PutOutcome {
    Stored,
    /// Not cacheable (no-store, private, Set-Cookie, a zero lifetime...).
    NotCacheable,
    /// Larger than an entry may be.
    TooLarge,
}

/// The answer to `match()`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit {
    pub status: u16,
    pub status_text: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

struct Inner {
    entries: HashMap<CacheKey, Entry>,
    /// tick -> key, oldest use first.
    order: BTreeMap<u64, CacheKey>,
    tick: u64,
    /// Puts so far (expired entries are swept every SWEEP_EVERY).
    puts: u64,
    bytes: usize,
}

/// A bounded LRU store of responses.
pub(crate) struct CacheStore {
    inner: Mutex<Inner>,
    max_bytes: usize,
    max_entry: usize,
}

impl CacheStore {
    pub(crate) fn new(max_bytes: usize, max_entry: usize) -> CacheStore {
        CacheStore {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                order: BTreeMap::new(),
                tick: 0,
                puts: 0,
                bytes: 0,
            }),
            max_bytes,
            max_entry: max_entry.min(max_bytes),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes held now.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Stores `response` for a GET of `key` made with `request_headers`
    /// (kept for the response's `Vary`), replacing what was there.
    pub(crate) fn put(
        &self,
        key: CacheKey,
        request_headers: &HeaderMap,
        mut response: PutResponse,
        now: Instant,
    ) -> PutOutcome {
        let Some(lifetime) = freshness(response.status, &mut response.headers, SystemTime::now()) else {
            self.delete(&key);
            return PutOutcome::NotCacheable;
        };
        let initial_age = header_secs(&response.headers, &header::AGE).unwrap_or(Duration::ZERO);
        if lifetime <= initial_age {
            self.delete(&key);
            return PutOutcome::NotCacheable;
        }
        response.headers.remove(header::AGE);
        // Accept-Encoding does not split entries: as on Cloudflare, the stored
        // (identity) body can be served whatever encodings a client accepts.
        let vary = vary_names(&response.headers)
            .into_iter()
            .filter(|name| *name != header::ACCEPT_ENCODING)
            .map(|name| {
                let value = request_headers.get(&name).cloned();
                (name, value)
            })
            .collect();
        let size = entry_size(&key, &response);
        if size > self.max_entry {
            self.delete(&key);
            return PutOutcome::TooLarge;
        }
        let mut inner = self.lock();
        inner.remove(&key);
        inner.puts += 1;
        if inner.puts.is_multiple_of(SWEEP_EVERY) {
            inner.sweep(now);
        }
        inner.tick += 1;
        let tick = inner.tick;
        let entry = Entry {
            status: response.status,
            status_text: response.status_text,
            headers: response.headers,
            body: response.body,
            vary,
            stored: now,
            initial_age,
            expires: now + (lifetime - initial_age),
            tick,
            size,
        };
        inner.bytes += size;
        inner.order.insert(tick, key.clone());
        inner.entries.insert(key, entry);
        while inner.bytes > self.max_bytes {
            let Some((_, oldest)) = inner.order.pop_first() else {
                break;
            };
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.bytes -= e.size;
            }
        }
        PutOutcome::Stored
    }

    /// The fresh entry for `key` that the request's headers select (its
    /// `Vary`), as a response: `CF-Cache-Status: HIT`, its `Age`, and a 304
    /// / 206 / 416 for conditional and range requests.
    pub(crate) fn get(&self, key: &CacheKey, request_headers: &HeaderMap, now: Instant) -> Option<Hit> {
        let entry = {
            let mut inner = self.lock();
            let e = inner.entries.get(key)?;
            if now >= e.expires {
                inner.remove(key);
                return None;
            }
            if !e
                .vary
                .iter()
                .all(|(name, value)| request_headers.get(name) == value.as_ref())
            {
                return None;
            }
            inner.touch(key);
            inner.entries.get(key)?.clone()
        };
        Some(respond(entry, request_headers, now))
    }

    /// Removes `key`; true if there was a fresh entry.
    pub(crate) fn delete(&self, key: &CacheKey) -> bool {
        let mut inner = self.lock();
        match inner.remove(key) {
            Some(e) => e.expires > Instant::now(),
            None => false,
        }
    }
}

impl Inner {
    /// Drops every expired entry (they are otherwise dropped when looked up
    /// or when least recently used).
    fn sweep(&mut self, now: Instant) {
        let expired: Vec<CacheKey> = self
            .entries
            .iter()
            .filter(|(_, e)| now >= e.expires)
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            self.remove(&key);
        }
    }

    fn remove(&mut self, key: &CacheKey) -> Option<Entry> {
        let e = self.entries.remove(key)?;
        self.order.remove(&e.tick);
        self.bytes -= e.size;
        Some(e)
    }

    fn touch(&mut self, key: &CacheKey) {
        self.tick += 1;
        let tick = self.tick;
        if let Some(e) = self.entries.get_mut(key) {
            self.order.remove(&e.tick);
            e.tick = tick;
            self.order.insert(tick, key.clone());
        }
    }
}

fn entry_size(key: &CacheKey, r: &PutResponse) -> usize {
    let headers: usize = r.headers.iter().map(|(n, v)| n.as_str().len() + v.len() + 8).sum();
    key.url.len() + key.cache.as_ref().map_or(0, String::len) + r.body.len() + headers + r.status_text.len() + 128
}

/// Cache-Control directives, names lower-cased, quoted values unquoted.
fn directives(headers: &HeaderMap) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for value in headers.get_all(header::CACHE_CONTROL) {
        let Ok(text) = value.to_str() else { continue };
        let mut rest = text;
        while !rest.is_empty() {
            let (name, after) = match rest.find([',', '=']) {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            };
            let name = name.trim().to_ascii_lowercase();
            let mut value = None;
            rest = after;
            if let Some(v) = rest.strip_prefix('=') {
                let v = v.trim_start();
                if let Some(q) = v.strip_prefix('"') {
                    let end = q.find('"').unwrap_or(q.len());
                    value = Some(q[..end].to_string());
                    rest = q.get(end + 1..).unwrap_or("");
                    rest = rest.find(',').map_or("", |i| &rest[i..]);
                } else {
                    let end = v.find(',').unwrap_or(v.len());
                    value = Some(v[..end].trim().to_string());
                    rest = &v[end..];
                }
            }
            rest = rest.strip_prefix(',').unwrap_or(rest);
            if !name.is_empty() {
                out.push((name, value));
            }
        }
    }
    out
}

fn header_secs(headers: &HeaderMap, name: &HeaderName) -> Option<Duration> {
    let v = headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(v))
}

fn http_date(headers: &HeaderMap, name: &HeaderName) -> Option<SystemTime> {
    httpdate::parse_http_date(headers.get(name)?.to_str().ok()?.trim()).ok()
}

/// Every this many puts, expired entries are swept out.
const SWEEP_EVERY: u64 = 256;

/// The longest an entry lives: a year.
const MAX_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// Cloudflare's edge TTL for a response without Cache-Control or Expires.
fn default_ttl(status: u16) -> Option<Duration> {
    match status {
        200 | 206 | 301 => Some(Duration::from_secs(120 * 60)),
        302 | 303 => Some(Duration::from_secs(20 * 60)),
        404 | 410 => Some(Duration::from_secs(3 * 60)),
        _ => None,
    }
}

/// How long a response may be served from cache, or `None` if it may not
/// be stored. Headers that `private=` / `no-cache=` name are dropped from
/// what is stored; a `Set-Cookie` that remains makes it uncacheable.
pub(crate) fn freshness(status: u16, headers: &mut HeaderMap, now: SystemTime) -> Option<Duration> {
    let cc = directives(headers);
    let find = |name: &str| cc.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    if find("no-store").is_some() {
        return None;
    }
    for name in ["private", "no-cache"] {
        match find(name) {
            Some(None) => return None,
            Some(Some(fields)) => {
                for field in fields.split(',') {
                    if let Ok(h) = HeaderName::from_bytes(field.trim().to_ascii_lowercase().as_bytes()) {
                        headers.remove(h);
                    }
                }
            }
            None => {}
        }
    }
    if headers.contains_key(header::SET_COOKIE) {
        return None;
    }
    if vary_names(headers).iter().any(|n| n.as_str() == "*") {
        return None;
    }
    // delta-seconds too large for a number mean "very long" (RFC 9111 1.2.2).
    let secs = |v: Option<Option<String>>| {
        v.flatten()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .map(|s| s.parse::<u64>().unwrap_or(u64::MAX))
    };
    let lifetime = if let Some(s) = secs(find("s-maxage")) {
        Duration::from_secs(s)
    } else if let Some(s) = secs(find("max-age")) {
        Duration::from_secs(s)
    } else if headers.contains_key(header::EXPIRES) {
        // An Expires that does not parse means "already expired".
        let expires = http_date(headers, &header::EXPIRES)?;
        let date = http_date(headers, &header::DATE).unwrap_or(now);
        expires.duration_since(date).ok()?
    } else {
        default_ttl(status)?
    };
    // Capped (a script's max-age may be any number; Instant arithmetic may not overflow).
    (!lifetime.is_zero()).then_some(lifetime.min(MAX_LIFETIME))
}

/// The request headers a response varies on (`*` is not a name).
fn vary_names(headers: &HeaderMap) -> Vec<HeaderName> {
    let mut out = Vec::new();
    for v in headers.get_all(header::VARY) {
        let Ok(text) = v.to_str() else { continue };
        for name in text.split(',') {
            if let Ok(h) = HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
                && !out.contains(&h)
            {
                out.push(h);
            }
        }
    }
    out
}

fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let weak = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let etag = weak(etag);
    if_none_match.split(',').any(|t| t.trim() == "*" || weak(t) == etag)
}

/// A single `bytes=` range of a body of `len` bytes: `Ok(None)` when the
/// header does not apply (malformed or several ranges), `Err` when unsatisfiable.
fn byte_range(range: &str, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = range.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let parse = |s: &str| s.parse::<u64>().map_err(|_| ());
    let (start, end) = match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ok(None),
        (true, false) => {
            let Ok(n) = parse(b) else { return Ok(None) };
            if n == 0 {
                return Err(());
            }
            (len.saturating_sub(n), len.saturating_sub(1))
        }
        (false, _) => {
            let Ok(start) = parse(a) else { return Ok(None) };
            let end = if b.is_empty() {
                len.saturating_sub(1)
            } else {
                match parse(b) {
                    Ok(e) if e >= start => e.min(len.saturating_sub(1)),
                    _ => return Ok(None),
                }
            };
            (start, end)
        }
    };
    if len == 0 || start >= len {
        return Err(());
    }
    Ok(Some((start, end)))
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(name, v);
    }
}

/// An entry served to a request.
fn respond(entry: Entry, req: &HeaderMap, now: Instant) -> Hit {
    let mut headers = entry.headers;
    let age = entry.initial_age + now.saturating_duration_since(entry.stored);
    set(&mut headers, header::AGE, age.as_secs().to_string());
    set(&mut headers, HeaderName::from_static("cf-cache-status"), "HIT".into());
    let text = |name: &HeaderName, h: &HeaderMap| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let not_modified = match (text(&header::IF_NONE_MATCH, req), text(&header::ETAG, &headers)) {
        (Some(inm), Some(etag)) => etag_matches(&inm, &etag),
        (Some(_), None) => false,
        (None, _) => match (
            http_date(req, &header::IF_MODIFIED_SINCE),
            http_date(&headers, &header::LAST_MODIFIED),
        ) {
            (Some(since), Some(modified)) => modified <= since,
            _ => false,
        },
    };
    if not_modified && (200..300).contains(&entry.status) {
        headers.remove(header::CONTENT_LENGTH);
        return Hit {
            status: 304,
            status_text: "Not Modified".into(),
            headers,
            body: Bytes::new(),
        };
    }
    let len = entry.body.len() as u64;
    if entry.status == 200
        && let Some(range) = text(&header::RANGE, req)
    {
        match byte_range(&range, len) {
            Ok(Some((start, end))) => {
                set(
                    &mut headers,
                    header::CONTENT_RANGE,
                    format!("bytes {start}-{end}/{len}"),
                );
                set(&mut headers, header::CONTENT_LENGTH, (end - start + 1).to_string());
                return Hit {
                    status: 206,
                    status_text: "Partial Content".into(),
                    headers,
                    body: entry.body.slice(start as usize..=end as usize),
                };
            }
            Err(()) => {
                set(&mut headers, header::CONTENT_RANGE, format!("bytes */{len}"));
                headers.remove(header::CONTENT_LENGTH);
                return Hit {
                    status: 416,
                    status_text: "Range Not Satisfiable".into(),
                    headers,
                    body: Bytes::new(),
                };
            }
            Ok(None) => {}
        }
    }
    set(&mut headers, header::CONTENT_LENGTH, len.to_string());
    Hit {
        status: entry.status,
        status_text: entry.status_text,
        headers,
        body: entry.body,
    }
}

// ---- ops ----------------------------------------------------------------

/// Longest URL or cache name an entry may be keyed by (an entry holds at
/// most 16 MiB in all anyway).
const MAX_KEY_CHARS: usize = 1 << 20;

/// The key an op names, or why not. Outside a request it is a TypeError:
/// like other I/O, the cache is not reachable from the top level.
fn cache_key(
    scope: &mut v8::PinScope,
    name: v8::Local<v8::Value>,
    url: v8::Local<v8::Value>,
) -> Result<CacheKey, OpError> {
    let (worker, serving) = {
        let st = state(scope);
        let s = st.borrow();
        (s.worker.clone(), s.serving)
    };
    if !serving {
        return Err(OpError::type_error(
            "Some functionality, such as asynchronous I/O, timeouts, and generating random values, \
             can only be performed while handling a request.",
        ));
    }
    let cache = if name.is_null_or_undefined() {
        None
    } else {
        Some(str_arg(scope, name, "the cache name", MAX_KEY_CHARS)?)
    };
    Ok(CacheKey {
        worker,
        cache,
        url: str_arg(scope, url, "the URL", MAX_KEY_CHARS)?,
    })
}

/// `cachePut(cacheName|null, url, requestHeaders, status, statusText,
/// responseHeaders, body)` -> whether the response was stored. The
/// response is checked as if it went on the wire (it will, on a hit).
pub(crate) fn op_cache_put(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let put = (|| -> Result<bool, OpError> {
        let key = cache_key(scope, args.get(0), args.get(1))?;
        let request_headers = headers_from_js(scope, args.get(2))?;
        let head = response_head(scope, args.get(3), args.get(4), args.get(5))?;
        let body = args.get(6);
        // Too large to store: say so without copying it first.
        if bytes_len(body).is_some_and(|n| n > STORE.max_entry) {
            STORE.delete(&key);
            return Ok(false);
        }
        let response = PutResponse {
            status: head.status,
            status_text: head.status_text,
            headers: head.headers,
            body: Bytes::from(bytes_arg(body).unwrap_or_default()),
        };
        Ok(STORE.put(key, &request_headers, response, Instant::now()) == PutOutcome::Stored)
    })();
    match put {
        Ok(stored) => rv.set(v8::Boolean::new(scope, stored).into()),
        Err(e) => throw(scope, e),
    }
}

/// `cacheMatch(cacheName|null, url, requestHeaders)` -> null or
/// `[status, statusText, headers, body]`.
pub(crate) fn op_cache_match(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let found = (|| -> Result<Option<Hit>, OpError> {
        let key = cache_key(scope, args.get(0), args.get(1))?;
        let request_headers = headers_from_js(scope, args.get(2))?;
        Ok(STORE.get(&key, &request_headers, Instant::now()))
    })();
    let hit = match found {
        Ok(Some(hit)) => hit,
        Ok(None) => return rv.set_null(),
        Err(e) => return throw(scope, e),
    };
    let status = v8::Integer::new(scope, i32::from(hit.status)).into();
    // Checked when it was put (at most 1 KiB).
    let text = js_string(scope, &hit.status_text)
        .unwrap_or_else(|| v8::String::empty(scope))
        .into();
    let headers = headers_to_js(scope, &hit.headers).into();
    let body = uint8array(scope, hit.body.to_vec()).into();
    rv.set(v8::Array::new_with_elements(scope, &[status, text, headers, body]).into());
}

/// `cacheDelete(cacheName|null, url)` -> whether an entry was removed.
pub(crate) fn op_cache_delete(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    match cache_key(scope, args.get(0), args.get(1)) {
        Ok(key) => {
            let removed = STORE.delete(&key);
            rv.set(v8::Boolean::new(scope, removed).into());
        }
        Err(e) => throw(scope, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(cache: Option<&str>, url: &str) -> CacheKey {
        CacheKey {
            worker: Arc::from("w"),
            cache: cache.map(str::to_string),
            url: url.to_string(),
        }
    }

    fn response(cc: &str, body: &[u8]) -> PutResponse {
        let mut headers = HeaderMap::new();
        if !cc.is_empty() {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_str(cc).unwrap());
        }
        PutResponse {
            status: 200,
            status_text: "OK".into(),
            headers,
            body: Bytes::copy_from_slice(body),
        }
    }

    fn get(store: &CacheStore, k: &CacheKey, now: Instant) -> Option<Hit> {
        store.get(k, &HeaderMap::new(), now)
    }

    #[test]
    fn stores_and_expires_by_max_age() {
        let store = CacheStore::new(1 << 20, 1 << 20);
        let now = Instant::now();
        let k = key(None, "https://a/x");
        assert_eq!(
            store.put(k.clone(), &HeaderMap::new(), response("max-age=10", b"hi"), now),
            PutOutcome::Stored
        );
        let hit = get(&store, &k, now + Duration::from_secs(3)).unwrap();
        assert_eq!(hit.body.as_ref(), b"hi");
        assert_eq!(hit.headers["cf-cache-status"], "HIT");
        assert_eq!(hit.headers["age"], "3");
        assert!(get(&store, &k, now + Duration::from_secs(10)).is_none());
        assert_eq!(store.bytes(), 0, "expired entry dropped");

        // Entries nobody looks up again are swept out by later puts.
        for i in 1..SWEEP_EVERY - 1 {
            store.put(
                key(None, &format!("old{i}")),
                &HeaderMap::new(),
                response("max-age=1", b"x"),
                now,
            );
        }
        let later = now + Duration::from_secs(2);
        store.put(key(None, "new"), &HeaderMap::new(), response("max-age=60", b"y"), later);
        assert_eq!(store.lock().entries.len(), 1, "only the fresh entry is left");
    }

    #[test]
    fn s_maxage_wins_and_uncacheable_directives() {
        let mut h = response("max-age=1, s-maxage=100", b"").headers;
        assert_eq!(
            freshness(200, &mut h, SystemTime::now()),
            Some(Duration::from_secs(100))
        );
        for cc in [
            "no-store",
            "no-cache",
            "private",
            "max-age=0",
            "public, no-store, max-age=5",
        ] {
            let mut h = response(cc, b"").headers;
            assert_eq!(freshness(200, &mut h, SystemTime::now()), None, "{cc}");
        }
        // No directives: Cloudflare's default edge TTL by status.
        assert_eq!(
            freshness(200, &mut HeaderMap::new(), SystemTime::now()),
            Some(Duration::from_secs(7200))
        );
        assert_eq!(freshness(500, &mut HeaderMap::new(), SystemTime::now()), None);
        let mut h = response("max-age=99999999999999999999", b"").headers;
        assert_eq!(
            freshness(200, &mut h, SystemTime::now()),
            Some(MAX_LIFETIME),
            "beyond u64"
        );
        let mut h = response("s-maxage=18446744073709551615", b"").headers;
        assert_eq!(freshness(200, &mut h, SystemTime::now()), Some(MAX_LIFETIME));
    }

    #[test]
    fn expires_and_set_cookie() {
        let now = SystemTime::now();
        let mut h = HeaderMap::new();
        h.insert(
            header::EXPIRES,
            HeaderValue::from_str(&httpdate::fmt_http_date(now + Duration::from_secs(60))).unwrap(),
        );
        let ttl = freshness(200, &mut h, now).unwrap();
        assert!(ttl <= Duration::from_secs(60) && ttl >= Duration::from_secs(59));
        h.insert(header::EXPIRES, HeaderValue::from_static("garbage"));
        assert_eq!(freshness(200, &mut h, now), None);

        let mut h = response("max-age=60", b"").headers;
        h.insert(header::SET_COOKIE, HeaderValue::from_static("a=b"));
        assert_eq!(freshness(200, &mut h.clone(), now), None);
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=60, private=\"Set-Cookie\""),
        );
        assert_eq!(freshness(200, &mut h, now), Some(Duration::from_secs(60)));
        assert!(!h.contains_key(header::SET_COOKIE), "stored without the cookie");
    }

    #[test]
    fn evicts_least_recently_used() {
        let store = CacheStore::new(3000, 2000);
        let now = Instant::now();
        let body = [7u8; 700];
        for u in ["a", "b", "c"] {
            store.put(key(None, u), &HeaderMap::new(), response("max-age=60", &body), now);
        }
        // Touch "a" so "b" is the oldest use.
        assert!(get(&store, &key(None, "a"), now).is_some());
        store.put(key(None, "d"), &HeaderMap::new(), response("max-age=60", &body), now);
        assert!(get(&store, &key(None, "b"), now).is_none());
        for u in ["a", "c", "d"] {
            assert!(get(&store, &key(None, u), now).is_some(), "{u}");
        }
        assert!(store.bytes() <= 3000);
        assert_eq!(
            store.put(
                key(None, "big"),
                &HeaderMap::new(),
                response("max-age=60", &[0; 2500]),
                now
            ),
            PutOutcome::TooLarge
        );
    }

    #[test]
    fn caches_and_workers_are_separate() {
        let store = CacheStore::new(1 << 20, 1 << 20);
        let now = Instant::now();
        store.put(
            key(Some("one"), "u"),
            &HeaderMap::new(),
            response("max-age=60", b"1"),
            now,
        );
        assert!(get(&store, &key(Some("two"), "u"), now).is_none());
        assert!(get(&store, &key(None, "u"), now).is_none());
        let mut other = key(Some("one"), "u");
        other.worker = Arc::from("other");
        assert!(get(&store, &other, now).is_none());
        assert!(store.delete(&key(Some("one"), "u")));
        assert!(!store.delete(&key(Some("one"), "u")));
    }

    #[test]
    fn vary_selects_by_request_headers() {
        let store = CacheStore::new(1 << 20, 1 << 20);
        let now = Instant::now();
        let mut r = response("max-age=60", b"en");
        r.headers
            .insert(header::VARY, HeaderValue::from_static("Accept-Language"));
        let mut req = HeaderMap::new();
        req.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("en"));
        store.put(key(None, "u"), &req, r, now);
        assert!(store.get(&key(None, "u"), &req, now).is_some());
        let mut fr = HeaderMap::new();
        fr.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("fr"));
        assert!(store.get(&key(None, "u"), &fr, now).is_none());
        assert!(store.get(&key(None, "u"), &HeaderMap::new(), now).is_none());

        let mut r = response("max-age=60", b"any");
        r.headers
            .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        store.put(key(None, "ae"), &HeaderMap::new(), r, now);
        let mut gzip = HeaderMap::new();
        gzip.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip, br"));
        assert!(
            store.get(&key(None, "ae"), &gzip, now).is_some(),
            "Accept-Encoding does not vary"
        );
    }

    #[test]
    fn ranges_and_conditionals() {
        let store = CacheStore::new(1 << 20, 1 << 20);
        let now = Instant::now();
        let mut r = response("max-age=60", b"0123456789");
        r.headers.insert(header::ETAG, HeaderValue::from_static("\"v1\""));
        store.put(key(None, "u"), &HeaderMap::new(), r, now);
        let with = |name: HeaderName, v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_static(v));
            store.get(&key(None, "u"), &h, now).unwrap()
        };
        let hit = with(header::RANGE, "bytes=2-4");
        assert_eq!((hit.status, hit.body.as_ref()), (206, &b"234"[..]));
        assert_eq!(hit.headers[header::CONTENT_RANGE], "bytes 2-4/10");
        assert_eq!(with(header::RANGE, "bytes=-3").body.as_ref(), b"789");
        assert_eq!(with(header::RANGE, "bytes=8-").body.as_ref(), b"89");
        assert_eq!(with(header::RANGE, "bytes=20-").status, 416);
        assert_eq!(with(header::RANGE, "lines=1-2").status, 200);
        assert_eq!(with(header::IF_NONE_MATCH, "\"v1\"").status, 304);
        assert_eq!(with(header::IF_NONE_MATCH, "W/\"v1\", \"x\"").status, 304);
        assert_eq!(with(header::IF_NONE_MATCH, "\"v2\"").status, 200);
    }
}
