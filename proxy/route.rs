//! Cloudflare Workers route patterns, and the router that picks the most
//! specific one for a request.
//!
//! # Syntax
//!
//! A pattern is `[scheme://]host[/path]`, as written in `wrangler.toml`:
//!
//! - **scheme**: an optional `http://` or `https://`. It is accepted so that
//!   patterns copied from Cloudflare keep working, and kept in the parsed
//!   pattern ([`RoutePattern::scheme`]), but [`Router`] ignores it: a pattern
//!   with a scheme matches both plain and TLS requests.
//! - **host**, matched case-insensitively (patterns are lowercased):
//!   - `example.com`: exactly that host;
//!   - `*.example.com`: any subdomain of `example.com`, not `example.com` itself;
//!   - `*example.com`: any host ending in `example.com`, so `example.com`,
//!     `www.example.com` and also `myexample.com` (`*` matches any characters);
//!   - `*`: any host;
//!   - IPv4 literals and bracketed IPv6 literals (`[::1]`) are exact hosts
//!     (IPv6 compared in canonical form, so `[0::1]` and `[::1]` are one host).
//!
//!   Ports are not allowed; a request's host is matched without its port
//!   and trailing `.`, so `[::1]:8080` matches `[::1]`. The proxy hands the
//!   router the host of the request's parsed [`Authority`]
//!   (`authority.rs`), the same one `request.url` is built from.
//!
//! [`Authority`]: crate::authority::Authority
//!   Only ASCII hosts are accepted: write internationalised names in punycode.
//! - **path**, matched case-sensitively: it starts with `/` and may end with a
//!   single `*`, which matches any suffix (`/images*` matches `/images`,
//!   `/images2` and `/images/cat.png`). Without `*` the path must match exactly.
//!   A pattern without a path has the path `/`, as a URL does.
//! - A `*` anywhere else, a port, a query string (`?`) or a fragment (`#`) is an
//!   error.
//!
//! `*/*` matches every host and path.
//!
//! As on Cloudflare, matching considers the query string: pass
//! [`Router::find`] the request target's path *and query* (`/a?b=c`), so an
//! exact pattern `example.com/a` does not match `/a?b=c` while `example.com/a*`
//! does.
//!
//! # Precedence
//!
//! When several patterns match a request, the most specific wins:
//!
//! 1. an exact host beats any wildcard host;
//! 2. among wildcard hosts, the longer host pattern wins (`*.api.example.com`
//!    beats `*.example.com`, which beats `*example.com`, which beats `*`);
//! 3. then the longer path wins, counting the path without its `*`
//!    (`/images/*` beats `/images*` beats `/*`);
//! 4. then an exact path beats a prefix path of the same length (`/a` beats `/a*`);
//! 5. remaining ties go to the pattern listed first.
//!
//! So host specificity outranks path specificity: for `a.example.com/a`,
//! `a.example.com/*` beats `*.example.com/a`, as on Cloudflare.
//! [`Router::new`] sorts the routes once by these rules and builds an index
//! (`route/index.rs`: a hash map of exact hosts, a trie of wildcard host
//! suffixes, then per host a hash map of exact paths and a trie of path
//! prefixes), so [`Router::find`] costs the same however many routes there
//! are, and does not allocate.

use std::cmp::Reverse;
use std::fmt;
use std::str::FromStr;

mod index;

use index::RouteIndex;

/// The scheme a pattern was written with. Informational: the [`Router`]
/// ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http://`
    Http,
    /// `https://`
    Https,
}

/// The host part of a route pattern. Text is stored lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostPattern {
    /// `*`: any host.
    Any,
    /// `example.com`: exactly this host.
    Exact(String),
    /// `*.example.com`: any host strictly below this domain (holds
    /// `example.com`).
    Subdomains(String),
    /// `*example.com`: any host ending in this text, the text itself included
    /// (holds `example.com`).
    Suffix(String),
}

impl HostPattern {
    /// Length of the pattern as written, `*` included; the tie-breaker
    /// between wildcard hosts.
    fn pattern_len(&self) -> usize {
        match self {
            HostPattern::Any => 1,
            HostPattern::Exact(h) => h.len(),
            HostPattern::Subdomains(d) => d.len() + 2,
            HostPattern::Suffix(s) => s.len() + 1,
        }
    }

    /// Whether `host` (already stripped of its port, any case) matches.
    fn matches(&self, host: &str) -> bool {
        let host = host.as_bytes();
        match self {
            HostPattern::Any => true,
            HostPattern::Exact(h) => host.eq_ignore_ascii_case(h.as_bytes()),
            HostPattern::Suffix(s) => ends_with_ignore_case(host, s.as_bytes()),
            HostPattern::Subdomains(d) => {
                host.len() > d.len() + 1
                    && ends_with_ignore_case(host, d.as_bytes())
                    && host[host.len() - d.len() - 1] == b'.'
            }
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Any => f.write_str("*"),
            HostPattern::Exact(h) => f.write_str(h),
            HostPattern::Subdomains(d) => write!(f, "*.{d}"),
            HostPattern::Suffix(s) => write!(f, "*{s}"),
        }
    }
}

/// The path part of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathPattern {
    /// `/a/b`: exactly this path (and no query string).
    Exact(String),
    /// `/a/*`: any path starting with this text (holds `/a/`).
    Prefix(String),
}

impl PathPattern {
    /// The literal text, without the trailing `*`.
    pub fn as_str(&self) -> &str {
        match self {
            PathPattern::Exact(p) | PathPattern::Prefix(p) => p,
        }
    }

    fn matches(&self, path: &str) -> bool {
        match self {
            PathPattern::Exact(p) => path == p,
            PathPattern::Prefix(p) => path.starts_with(p.as_str()),
        }
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathPattern::Exact(p) => f.write_str(p),
            PathPattern::Prefix(p) => write!(f, "{p}*"),
        }
    }
}

/// A parsed Workers route pattern such as `*.example.com/api/*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoutePattern {
    source: String,
    scheme: Option<Scheme>,
    host: HostPattern,
    path: PathPattern,
}

/// Why a route pattern is invalid. Every variant but [`Empty`] carries the
/// byte offset in the pattern text of the offending character
/// ([`RoutePatternError::offset`]).
///
/// [`Empty`]: RoutePatternError::Empty
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoutePatternError {
    /// The pattern is the empty string.
    #[error("route pattern is empty")]
    Empty,
    /// A scheme other than `http://` or `https://`.
    #[error("unsupported scheme `{scheme}://`; a route pattern may start with http:// or https:// only")]
    UnsupportedScheme {
        /// The scheme as written.
        scheme: String,
        /// Byte offset of the scheme.
        offset: usize,
    },
    /// Nothing between the scheme (or start) and the path.
    #[error("route pattern has no host; use `*` to match any host")]
    MissingHost {
        /// Byte offset where the host should be.
        offset: usize,
    },
    /// A `*` in the host other than as its first character.
    #[error("`*` in the host may only come first, as in `*.example.com`, `*example.com` or `*`")]
    HostWildcard {
        /// Byte offset of the `*`.
        offset: usize,
    },
    /// A `:port` after the host.
    #[error("ports are not allowed in route patterns; requests match whatever port they arrive on")]
    Port {
        /// Byte offset of the `:`.
        offset: usize,
    },
    /// A character that cannot appear in a host name.
    #[error(
        "invalid character {ch:?} in the host (hosts are ASCII letters, digits, `-`, `_` and `.`; write IDNs in punycode)"
    )]
    HostChar {
        /// The character.
        ch: char,
        /// Byte offset of the character.
        offset: usize,
    },
    /// An empty label (`a..b`, a leading or trailing `.`), or an unclosed or
    /// malformed `[IPv6]` literal.
    #[error("malformed host")]
    BadHost {
        /// Byte offset of the problem.
        offset: usize,
    },
    /// A `*` in the path other than as its last character.
    #[error("`*` in the path may only come last, as in `/images/*`")]
    PathWildcard {
        /// Byte offset of the `*`.
        offset: usize,
    },
    /// A `?`: route patterns cannot match on the query string.
    #[error("query strings are not allowed in route patterns; end the path with `*` to match any query")]
    Query {
        /// Byte offset of the `?`.
        offset: usize,
    },
    /// A `#`: fragments are never sent to servers.
    #[error("fragments (`#`) are not allowed in route patterns")]
    Fragment {
        /// Byte offset of the `#`.
        offset: usize,
    },
    /// A space, control or non-ASCII character in the path (write it
    /// percent-encoded, as it appears in requests).
    #[error("invalid character {ch:?} in the path; percent-encode it as requests do")]
    PathChar {
        /// The character.
        ch: char,
        /// Byte offset of the character.
        offset: usize,
    },
}

impl RoutePatternError {
    /// Byte offset in the pattern text where the problem is (0 for
    /// [`RoutePatternError::Empty`]).
    pub fn offset(&self) -> usize {
        match self {
            RoutePatternError::Empty => 0,
            RoutePatternError::UnsupportedScheme { offset, .. }
            | RoutePatternError::MissingHost { offset }
            | RoutePatternError::HostWildcard { offset }
            | RoutePatternError::Port { offset }
            | RoutePatternError::HostChar { offset, .. }
            | RoutePatternError::BadHost { offset }
            | RoutePatternError::PathWildcard { offset }
            | RoutePatternError::Query { offset }
            | RoutePatternError::Fragment { offset }
            | RoutePatternError::PathChar { offset, .. } => *offset,
        }
    }
}

// Some accessors serve only the unit tests today; they are the module's API.
#[cfg_attr(not(test), allow(dead_code))]
impl RoutePattern {
    /// Parses a pattern such as `example.com/*`, `*.example.com/api/*` or `*/*`.
    pub fn parse(s: &str) -> Result<RoutePattern, RoutePatternError> {
        if s.is_empty() {
            return Err(RoutePatternError::Empty);
        }
        let (scheme, host_start) = parse_scheme(s)?;
        let rest = &s[host_start..];
        // The host ends at the first `/`, but a `/` inside `[...]` cannot occur
        // in a valid literal, so the plain search is fine.
        let host_end = rest.find('/').map_or(s.len(), |i| host_start + i);
        let host = parse_host(&s[host_start..host_end], host_start)?;
        let path = parse_path(&s[host_end..], host_end)?;
        Ok(RoutePattern {
            source: s.to_owned(),
            scheme,
            host,
            path,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The scheme the pattern was written with, if any (ignored by matching).
    pub fn scheme(&self) -> Option<Scheme> {
        self.scheme
    }

    /// The host part.
    pub fn host(&self) -> &HostPattern {
        &self.host
    }

    /// The path part.
    pub fn path(&self) -> &PathPattern {
        &self.path
    }

    /// Whether two patterns match exactly the same requests (same host and
    /// path; the scheme is ignored, as in matching).
    pub fn same_requests(&self, other: &RoutePattern) -> bool {
        self.host == other.host && self.path == other.path
    }

    /// Whether this pattern matches a request for `host` (a `Host` header
    /// value, with or without `:port`, any case) and `path` (the path and
    /// query of the request target; empty means `/`).
    pub fn matches(&self, host: &str, path: &str) -> bool {
        self.matches_normalized(normalize_host(host), normalize_path(path))
    }

    fn matches_normalized(&self, host: &str, path: &str) -> bool {
        self.host.matches(host) && self.path.matches(path)
    }

    /// Sort key implementing the precedence rules of the module docs;
    /// smaller sorts first.
    fn precedence(&self) -> (bool, Reverse<usize>, Reverse<usize>, bool) {
        (
            !matches!(self.host, HostPattern::Exact(_)),
            Reverse(self.host.pattern_len()),
            Reverse(self.path.as_str().len()),
            matches!(self.path, PathPattern::Prefix(_)),
        )
    }
}

impl FromStr for RoutePattern {
    type Err = RoutePatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RoutePattern::parse(s)
    }
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Returns the scheme, if any, and the byte offset where the host starts.
fn parse_scheme(s: &str) -> Result<(Option<Scheme>, usize), RoutePatternError> {
    let Some(i) = s.find("://") else {
        return Ok((None, 0));
    };
    let scheme = &s[..i];
    if scheme.contains('/') {
        // `://` inside the path, e.g. `example.com/r/http://x`.
        return Ok((None, 0));
    }
    let scheme = if scheme.eq_ignore_ascii_case("http") {
        Scheme::Http
    } else if scheme.eq_ignore_ascii_case("https") {
        Scheme::Https
    } else {
        return Err(RoutePatternError::UnsupportedScheme {
            scheme: scheme.to_owned(),
            offset: 0,
        });
    };
    Ok((Some(scheme), i + 3))
}

/// Parses the host part; `base` is its byte offset in the whole pattern.
fn parse_host(host: &str, base: usize) -> Result<HostPattern, RoutePatternError> {
    if host.is_empty() {
        return Err(RoutePatternError::MissingHost { offset: base });
    }
    if host == "*" {
        return Ok(HostPattern::Any);
    }
    if host.starts_with('[') {
        return parse_ipv6_literal(host, base).map(HostPattern::Exact);
    }
    if let Some(domain) = host.strip_prefix("*.") {
        check_host_chars(domain, base + 2, false)?;
        return Ok(HostPattern::Subdomains(domain.to_ascii_lowercase()));
    }
    if let Some(suffix) = host.strip_prefix('*') {
        // `*example.com`, `*-cdn.example.com`: a suffix may begin mid-label.
        check_host_chars(suffix, base + 1, true)?;
        return Ok(HostPattern::Suffix(suffix.to_ascii_lowercase()));
    }
    check_host_chars(host, base, false)?;
    Ok(HostPattern::Exact(host.to_ascii_lowercase()))
}

/// Checks a host name (or, with `partial_first_label`, the tail of one):
/// allowed characters, no port, no inner wildcard, no empty label.
fn check_host_chars(host: &str, base: usize, partial_first_label: bool) -> Result<(), RoutePatternError> {
    for (i, ch) in host.char_indices() {
        let offset = base + i;
        match ch {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => {}
            '*' => return Err(RoutePatternError::HostWildcard { offset }),
            ':' => return Err(RoutePatternError::Port { offset }),
            '?' => return Err(RoutePatternError::Query { offset }),
            '#' => return Err(RoutePatternError::Fragment { offset }),
            _ => return Err(RoutePatternError::HostChar { ch, offset }),
        }
    }
    if host.is_empty() {
        return Err(RoutePatternError::BadHost { offset: base });
    }
    // Empty labels: `a..b`, a leading `.` (unless the text is the tail of a
    // label after `*`, where `*.x` was already handled) or a trailing `.`.
    let bytes = host.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'.' {
            continue;
        }
        let leading = i == 0 && !partial_first_label;
        let trailing = i + 1 == bytes.len();
        let double = i > 0 && bytes[i - 1] == b'.';
        if leading || trailing || double {
            return Err(RoutePatternError::BadHost { offset: base + i });
        }
    }
    Ok(())
}

/// Parses `[v6 address]`, returning it in canonical form with its brackets.
fn parse_ipv6_literal(host: &str, base: usize) -> Result<String, RoutePatternError> {
    let Some(close) = host.find(']') else {
        return Err(RoutePatternError::BadHost {
            offset: base + host.len(),
        });
    };
    let after = close + 1;
    if after < host.len() {
        let offset = base + after;
        return Err(if host[after..].starts_with(':') {
            RoutePatternError::Port { offset }
        } else {
            RoutePatternError::BadHost { offset }
        });
    }
    let inner = &host[1..close];
    if let Some(i) = inner.find('*') {
        return Err(RoutePatternError::HostWildcard { offset: base + 1 + i });
    }
    match inner.parse::<std::net::Ipv6Addr>() {
        // The form requests' hosts take too (`authority.rs`), so that
        // `[0::1]` in a pattern matches a request for `[::1]`.
        Ok(addr) => Ok(format!("[{}]", crate::authority::ipv6_canonical(addr))),
        Err(_) => Err(RoutePatternError::BadHost { offset: base + 1 }),
    }
}

/// Parses the path part (`""` or starting with `/`); `base` is its byte
/// offset in the whole pattern.
fn parse_path(path: &str, base: usize) -> Result<PathPattern, RoutePatternError> {
    if path.is_empty() {
        return Ok(PathPattern::Exact("/".to_owned()));
    }
    for (i, ch) in path.char_indices() {
        let offset = base + i;
        match ch {
            '?' => return Err(RoutePatternError::Query { offset }),
            '#' => return Err(RoutePatternError::Fragment { offset }),
            '*' if i + 1 != path.len() => return Err(RoutePatternError::PathWildcard { offset }),
            c if c.is_ascii_graphic() => {}
            _ => return Err(RoutePatternError::PathChar { ch, offset }),
        }
    }
    Ok(match path.strip_suffix('*') {
        Some(prefix) => PathPattern::Prefix(prefix.to_owned()),
        None => PathPattern::Exact(path.to_owned()),
    })
}

/// Strips `:port` and a trailing `.` from a `Host` header value.
fn normalize_host(host: &str) -> &str {
    let host = if host.starts_with('[') {
        // `[::1]:8080` -> `[::1]`
        match host.find(']') {
            Some(close) => &host[..=close],
            None => host,
        }
    } else {
        match host.rfind(':') {
            // Exactly one colon: `name:port`. More than one is a bare IPv6
            // address (not valid in `Host`, kept as is).
            Some(i) if !host[..i].contains(':') => &host[..i],
            _ => host,
        }
    };
    host.strip_suffix('.').unwrap_or(host)
}

fn normalize_path(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

fn ends_with_ignore_case(haystack: &[u8], suffix: &[u8]) -> bool {
    haystack.len() >= suffix.len() && haystack[haystack.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Routes ordered by precedence; [`Router::find`] picks the most specific
/// route matching a request (see the module docs for the rules).
#[derive(Debug, Clone)]
pub struct Router<T> {
    routes: Vec<(RoutePattern, T)>,
    /// Lookup over `routes`, built once (a reload builds a new router).
    index: RouteIndex,
}

// Some accessors serve only the unit tests today; they are the module's API.
#[cfg_attr(not(test), allow(dead_code))]
impl<T> Router<T> {
    /// Builds a router. `routes` is in configuration order, which breaks
    /// ties between equally specific patterns.
    pub fn new(mut routes: Vec<(RoutePattern, T)>) -> Router<T> {
        // Stable sort: equal keys keep configuration order.
        routes.sort_by_cached_key(|(pattern, _)| pattern.precedence());
        let index = RouteIndex::new(routes.iter().map(|(pattern, _)| pattern));
        Router { routes, index }
    }

    /// The value of the most specific route matching `host` (the `Host`
    /// header, with or without `:port`, any case) and `path` (the request
    /// target's path and query; empty means `/`).
    pub fn find(&self, host: &str, path: &str) -> Option<&T> {
        self.find_route(host, path).map(|(_, value)| value)
    }

    /// Like [`Router::find`], also returning the pattern that matched.
    pub fn find_route(&self, host: &str, path: &str) -> Option<(&RoutePattern, &T)> {
        let found = self.index.find(normalize_host(host), normalize_path(path))?;
        self.routes.get(found).map(|(pattern, value)| (pattern, value))
    }

    /// [`Router::find_route`] by a scan in precedence order: the
    /// definition the index must agree with.
    #[cfg(test)]
    fn find_route_linear(&self, host: &str, path: &str) -> Option<(&RoutePattern, &T)> {
        let host = normalize_host(host);
        let path = normalize_path(path);
        self.routes
            .iter()
            .find(|(pattern, _)| pattern.matches_normalized(host, path))
            .map(|(pattern, value)| (pattern, value))
    }

    /// The routes in precedence order (most specific first).
    pub fn iter(&self) -> impl Iterator<Item = (&RoutePattern, &T)> {
        self.routes.iter().map(|(pattern, value)| (pattern, value))
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether there are no routes (every request is unrouted).
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

impl<T> Default for Router<T> {
    fn default() -> Self {
        Router {
            routes: Vec::new(),
            index: RouteIndex::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> RoutePattern {
        RoutePattern::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> RoutePatternError {
        RoutePattern::parse(s).expect_err(s)
    }

    fn router(patterns: &[&str]) -> Router<String> {
        Router::new(patterns.iter().map(|s| (p(s), (*s).to_owned())).collect())
    }

    #[test]
    fn parses_hosts_and_paths() {
        let r = p("example.com/*");
        assert_eq!(r.host(), &HostPattern::Exact("example.com".into()));
        assert_eq!(r.path(), &PathPattern::Prefix("/".into()));
        assert_eq!(r.scheme(), None);

        let r = p("*.Example.COM/api/*");
        assert_eq!(r.host(), &HostPattern::Subdomains("example.com".into()));
        assert_eq!(r.path(), &PathPattern::Prefix("/api/".into()));
        assert_eq!(r.as_str(), "*.Example.COM/api/*");
        assert_eq!(r.to_string(), "*.Example.COM/api/*");

        let r = p("*example.com/a");
        assert_eq!(r.host(), &HostPattern::Suffix("example.com".into()));
        assert_eq!(r.path(), &PathPattern::Exact("/a".into()));

        let r = p("*/*");
        assert_eq!(r.host(), &HostPattern::Any);
        assert_eq!(r.path(), &PathPattern::Prefix("/".into()));

        // No path means `/`, exactly.
        assert_eq!(p("example.com").path(), &PathPattern::Exact("/".into()));
        assert_eq!(p("*").host(), &HostPattern::Any);

        let r = p("HTTPS://example.com/x*");
        assert_eq!(r.scheme(), Some(Scheme::Https));
        assert_eq!(r.path(), &PathPattern::Prefix("/x".into()));
        assert_eq!(p("http://example.com").scheme(), Some(Scheme::Http));

        assert_eq!(p("127.0.0.1/*").host(), &HostPattern::Exact("127.0.0.1".into()));
        assert_eq!(p("[::1]/*").host(), &HostPattern::Exact("[::1]".into()));
        assert_eq!(p("[0:0::1]/*").host(), &HostPattern::Exact("[::1]".into()));
        assert_eq!(
            p("[2001:DB8::0:1]/*").host(),
            &HostPattern::Exact("[2001:db8::1]".into())
        );
        assert_eq!(p("[FE80::1]").host(), &HostPattern::Exact("[fe80::1]".into()));
        assert_eq!(
            p("*-cdn.example.com/").host(),
            &HostPattern::Suffix("-cdn.example.com".into())
        );
        // `://` inside the path is not a scheme.
        assert_eq!(p("a.com/r/http://b").path(), &PathPattern::Exact("/r/http://b".into()));
        assert_eq!("a.com/".parse::<RoutePattern>().unwrap(), p("a.com/"));
        assert!(p("http://a.com/x").same_requests(&p("A.com/x")));
        assert!(!p("a.com/x").same_requests(&p("a.com/x*")));
    }

    #[test]
    fn rejects_bad_patterns_with_offsets() {
        use RoutePatternError as E;
        assert_eq!(err(""), E::Empty);
        assert_eq!(
            err("ftp://example.com/*"),
            E::UnsupportedScheme {
                scheme: "ftp".into(),
                offset: 0
            }
        );
        assert_eq!(err("/foo"), E::MissingHost { offset: 0 });
        assert_eq!(err("https:///foo"), E::MissingHost { offset: 8 });
        assert_eq!(err("ex*ample.com/"), E::HostWildcard { offset: 2 });
        assert_eq!(err("*.*.example.com/"), E::HostWildcard { offset: 2 });
        assert_eq!(err("example.*/"), E::HostWildcard { offset: 8 });
        assert_eq!(err("example.com*"), E::HostWildcard { offset: 11 });
        assert_eq!(err("example.com:8080/*"), E::Port { offset: 11 });
        assert_eq!(err("[::1]:8080/*"), E::Port { offset: 5 });
        assert_eq!(err("[::1/*"), E::BadHost { offset: 4 });
        assert_eq!(err("[nope]/*"), E::BadHost { offset: 1 });
        assert_eq!(err("user@example.com/"), E::HostChar { ch: '@', offset: 4 });
        assert_eq!(err("bücher.de/"), E::HostChar { ch: 'ü', offset: 1 });
        assert_eq!(err(" example.com/"), E::HostChar { ch: ' ', offset: 0 });
        assert_eq!(err("a..b/"), E::BadHost { offset: 2 });
        assert_eq!(err(".a.b/"), E::BadHost { offset: 0 });
        assert_eq!(err("a.b./"), E::BadHost { offset: 3 });
        assert_eq!(err("*./"), E::BadHost { offset: 2 });
        assert_eq!(err("example.com/*.jpg"), E::PathWildcard { offset: 12 });
        assert_eq!(err("example.com/**"), E::PathWildcard { offset: 12 });
        assert_eq!(err("example.com/?foo=*"), E::Query { offset: 12 });
        assert_eq!(err("example.com?x"), E::Query { offset: 11 });
        assert_eq!(err("example.com/#x"), E::Fragment { offset: 12 });
        assert_eq!(err("example.com/a b"), E::PathChar { ch: ' ', offset: 13 });
        assert_eq!(err("example.com/é"), E::PathChar { ch: 'é', offset: 12 });
        for s in ["ex*ample.com/", "example.com/?x", "", "/x"] {
            assert!(!err(s).to_string().is_empty());
            assert!(!err(s).to_string().contains('\n'));
        }
        assert_eq!(err("example.com/*.jpg").offset(), 12);
    }

    #[test]
    fn host_matching() {
        let exact = p("example.com/*");
        assert!(exact.matches("example.com", "/"));
        assert!(exact.matches("EXAMPLE.com", "/x"));
        assert!(exact.matches("example.com:8080", "/x"));
        assert!(exact.matches("example.com.", "/x"));
        assert!(!exact.matches("www.example.com", "/"));
        assert!(!exact.matches("example.org", "/"));

        let sub = p("*.example.com/*");
        assert!(sub.matches("www.example.com", "/"));
        assert!(sub.matches("a.b.Example.Com:443", "/"));
        assert!(!sub.matches("example.com", "/"));
        assert!(!sub.matches(".example.com", "/"));
        assert!(!sub.matches("wwwexample.com", "/"));

        let suffix = p("*example.com/*");
        assert!(suffix.matches("example.com", "/"));
        assert!(suffix.matches("www.example.com", "/"));
        assert!(suffix.matches("myexample.com", "/"));
        assert!(!suffix.matches("example.org", "/"));

        let any = p("*/*");
        assert!(any.matches("anything.test", "/any/path?q=1"));
        assert!(any.matches("", ""));

        let v6 = p("[::1]/*");
        assert!(v6.matches("[::1]:8080", "/"));
        assert!(v6.matches("[::1]", "/"));
        assert!(!v6.matches("[::2]:8080", "/"));
        let v4 = p("127.0.0.1/*");
        assert!(v4.matches("127.0.0.1:8080", "/"));
    }

    #[test]
    fn path_matching() {
        let exact = p("example.com/a");
        assert!(exact.matches("example.com", "/a"));
        assert!(!exact.matches("example.com", "/a/"));
        assert!(!exact.matches("example.com", "/A"));
        // As on Cloudflare, the query string counts: exact paths don't match it.
        assert!(!exact.matches("example.com", "/a?x=1"));
        assert!(p("example.com/a*").matches("example.com", "/a?x=1"));

        let root = p("example.com");
        assert!(root.matches("example.com", "/"));
        assert!(root.matches("example.com", ""));
        assert!(!root.matches("example.com", "/x"));

        let prefix = p("example.com/images*");
        for path in ["/images", "/images2", "/images/cat.png"] {
            assert!(prefix.matches("example.com", path), "{path}");
        }
        assert!(!prefix.matches("example.com", "/image"));
    }

    #[test]
    fn precedence() {
        let r = router(&["*/*", "example.com/*", "*.example.com/api/*", "*example.com/*"]);
        assert_eq!(r.find("example.com", "/api/x").unwrap(), "example.com/*");
        assert_eq!(r.find("www.example.com", "/api/x").unwrap(), "*.example.com/api/*");
        assert_eq!(r.find("www.example.com", "/other").unwrap(), "*example.com/*");
        assert_eq!(r.find("other.test", "/").unwrap(), "*/*");

        // Exact host beats a wildcard host with a longer path (Cloudflare's
        // documented `*.example.com/a` vs `a.example.com/*`).
        let r = router(&["*.example.com/a", "a.example.com/*"]);
        assert_eq!(r.find("a.example.com", "/a").unwrap(), "a.example.com/*");

        // Longer wildcard host wins.
        let r = router(&["*example.com/*", "*.example.com/*", "*.api.example.com/*", "*/*"]);
        assert_eq!(r.find("x.api.example.com", "/").unwrap(), "*.api.example.com/*");
        assert_eq!(r.find("x.example.com", "/").unwrap(), "*.example.com/*");
        assert_eq!(r.find("example.com", "/").unwrap(), "*example.com/*");

        // Longer path wins; exact beats prefix of the same length.
        let r = router(&[
            "example.com/*",
            "example.com/hello/*",
            "example.com/hello/world",
            "example.com/hello/world*",
        ]);
        assert_eq!(
            r.find("example.com", "/hello/world").unwrap(),
            "example.com/hello/world"
        );
        assert_eq!(
            r.find("example.com", "/hello/world2").unwrap(),
            "example.com/hello/world*"
        );
        assert_eq!(r.find("example.com", "/hello/there").unwrap(), "example.com/hello/*");
        assert_eq!(r.find("example.com", "/bye").unwrap(), "example.com/*");

        let r = router(&["example.com/images*", "example.com/images/*"]);
        assert_eq!(r.find("example.com", "/images/x").unwrap(), "example.com/images/*");
        assert_eq!(r.find("example.com", "/images").unwrap(), "example.com/images*");

        // Ties keep configuration order; the scheme is ignored.
        let r = Router::new(vec![(p("https://example.com/*"), 1), (p("example.com/*"), 2)]);
        assert_eq!(r.find("example.com", "/"), Some(&1));
        let r = Router::new(vec![(p("example.com/*"), 2), (p("https://example.com/*"), 1)]);
        assert_eq!(r.find("example.com", "/"), Some(&2));
    }

    #[test]
    fn router_misc() {
        let r = router(&["example.com/*"]);
        assert_eq!(r.find("Example.COM:8080", "/x").unwrap(), "example.com/*");
        assert!(r.find("other.test", "/").is_none());
        let (pattern, _) = r.find_route("example.com", "/").unwrap();
        assert_eq!(pattern.as_str(), "example.com/*");
        assert_eq!(r.len(), 1);
        assert!(!r.is_empty());
        assert!(Router::<()>::default().find("a", "/").is_none());

        let r = router(&["*/*", "[::1]/*"]);
        assert_eq!(r.find("[::1]:8080", "/").unwrap(), "[::1]/*");
        assert_eq!(r.find("[::2]:8080", "/").unwrap(), "*/*");
        let order: Vec<&str> = r.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(order, ["[::1]/*", "*/*"]);
    }

    /// xorshift64*: reproducible randomness without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    // A small alphabet, so that random patterns and requests overlap a lot:
    // suffixes that start mid-label, subdomains of exact hosts, shared path
    // prefixes, exact paths equal to prefixes.
    const LABELS: &[&str] = &[
        "a", "b", "ab", "ba", "x", "api", "www", "example", "xample", "com", "net",
    ];
    const SEGMENTS: &[&str] = &["a", "b", "ab", "api", "v1", "img", "x.png", ""];

    fn random_name(rng: &mut Rng, max_labels: usize) -> String {
        let n = 1 + rng.below(max_labels);
        (0..n).map(|_| rng.pick(LABELS)).collect::<Vec<_>>().join(".")
    }

    fn random_path(rng: &mut Rng) -> String {
        let n = rng.below(4);
        let mut path = String::from("/");
        for i in 0..n {
            if i > 0 {
                path.push('/');
            }
            path.push_str(rng.pick(SEGMENTS));
        }
        path
    }

    fn random_pattern(rng: &mut Rng) -> RoutePattern {
        let host = match rng.below(10) {
            0 => "*".to_owned(),
            1..=3 => format!("*.{}", random_name(rng, 3)),
            4 | 5 => {
                // A suffix starting anywhere in a name, mid-label included.
                let name = random_name(rng, 3);
                let cut = rng.below(name.len());
                let suffix = name[cut..].trim_start_matches('.');
                if suffix.is_empty() {
                    "*".to_owned()
                } else {
                    format!("*{suffix}")
                }
            }
            6 => ["127.0.0.1", "[::1]", "[0::2]"][rng.below(3)].to_owned(),
            _ => random_name(rng, 3),
        };
        let host = if rng.below(8) == 0 {
            host.to_ascii_uppercase()
        } else {
            host
        };
        let path = random_path(rng);
        let path = match rng.below(3) {
            0 => path,
            1 => format!("{path}*"),
            // `/a/` -> `/a*`; `/` stays `/*`.
            _ => match path.trim_end_matches('/') {
                "" => "/*".to_owned(),
                trimmed => format!("{trimmed}*"),
            },
        };
        let scheme = ["", "https://", "http://"][rng.below(3)];
        let text = if path == "/" && rng.below(2) == 0 {
            format!("{scheme}{host}")
        } else {
            format!("{scheme}{host}{path}")
        };
        RoutePattern::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn random_request(rng: &mut Rng) -> (String, String) {
        let mut host = match rng.below(12) {
            0 => "[::1]".to_owned(),
            1 => "127.0.0.1".to_owned(),
            2 => String::new(),
            3 => "xexample.com".to_owned(),
            _ => random_name(rng, 4),
        };
        if rng.below(6) == 0 {
            host = host.to_ascii_uppercase();
        }
        if rng.below(6) == 0 {
            host.push_str(":8080");
        } else if rng.below(10) == 0 {
            host.push('.');
        }
        let mut path = random_path(rng);
        match rng.below(8) {
            0 => path.push_str("?q=1"),
            1 => path.push('/'),
            2 => path = String::new(),
            _ => {}
        }
        (host, path)
    }

    /// Asserts that the index and the linear scan pick the same route.
    fn check_same(r: &Router<usize>, host: &str, path: &str) {
        let indexed = r.find_route(host, path).map(|(p, v)| (p.as_str(), *v));
        let linear = r.find_route_linear(host, path).map(|(p, v)| (p.as_str(), *v));
        assert_eq!(indexed, linear, "host {host:?} path {path:?}");
    }

    #[test]
    fn index_agrees_with_the_linear_scan_on_random_routes() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut matched = 0;
        for round in 0..40 {
            // From a handful of routes (sparse) to a few thousand (many
            // ties, duplicates and overlapping wildcards).
            let n = if round % 4 == 0 { 3000 } else { 1 + rng.below(60) };
            let routes: Vec<(RoutePattern, usize)> = (0..n).map(|i| (random_pattern(&mut rng), i)).collect();
            let r = Router::new(routes);
            for _ in 0..500 {
                let (host, path) = random_request(&mut rng);
                check_same(&r, &host, &path);
                matched += usize::from(r.find(&host, &path).is_some());
            }
            // Requests built from the routes themselves hit them exactly.
            for (pattern, _) in r.iter().take(200) {
                let host = match pattern.host() {
                    HostPattern::Any => "any.test".to_owned(),
                    HostPattern::Exact(h) => h.clone(),
                    HostPattern::Subdomains(d) => format!("w.{d}"),
                    HostPattern::Suffix(s) => format!("q{s}"),
                };
                let path = pattern.path().as_str();
                check_same(&r, &host, path);
                check_same(&r, &host, &format!("{path}x"));
                check_same(&r, &host.to_ascii_uppercase(), path);
                assert!(r.find(&host, path).is_some(), "{pattern} for {host}{path}");
            }
        }
        // The generator is not so sparse that nothing matches.
        assert!(matched > 2000, "only {matched} requests matched a route");
    }

    #[test]
    fn index_handles_unusual_hosts() {
        let r = Router::new(vec![
            (p("*.a.com/*"), 0),
            (p("*a.com/*"), 1),
            (p("a.com/x"), 2),
            (p("*/x*"), 3),
        ]);
        for host in [
            "a.com",
            ".a.com",
            "b.a.com",
            "ba.com",
            "A.COM",
            "b.A.com:1",
            "a.com.",
            "",
            ":",
            "é.a.com",
            "aé.com",
            "[::1]:1",
            &"X".repeat(300),
            &format!("{}.a.com", "B".repeat(300)),
        ] {
            for path in ["", "/", "/x", "/xy", "x"] {
                check_same(&r, host, path);
            }
        }
        assert_eq!(
            r.find(".a.com", "/"),
            Some(&1),
            "`*.a.com` needs a label before `.a.com`"
        );
        assert_eq!(r.find(&format!("{}.a.com", "B".repeat(300)), "/"), Some(&0));
    }

    /// The routes of a deployment that serves 10,000 sites: an exact host
    /// and its API paths each, wildcards for zones, a few catch-alls.
    fn many_routes(n: usize) -> Router<usize> {
        let mut routes = Vec::new();
        for i in 0..n {
            let pattern = match i % 10 {
                0..=5 => format!("site{i}.example.com/*"),
                6 => format!("site{}.example.com/api/v{i}/*", i - 6),
                7 => format!("*.zone{i}.test/*"),
                8 => format!("*cdn{i}.test/static/*"),
                _ => format!("site{}.example.com/exact{i}", i - 9),
            };
            routes.push((p(&pattern), i));
        }
        routes.push((p("*.example.com/*"), n));
        routes.push((p("*/*"), n + 1));
        Router::new(routes)
    }

    #[test]
    fn ten_thousand_routes() {
        let r = many_routes(10_000);
        assert_eq!(r.len(), 10_002);
        assert_eq!(r.find("site9990.example.com", "/x"), Some(&9990));
        assert_eq!(r.find("site9990.example.com", "/api/v9996/users"), Some(&9996));
        assert_eq!(r.find("site9990.example.com", "/exact9999"), Some(&9999));
        assert_eq!(r.find("site9990.example.com", "/exact9999?q"), Some(&9990));
        assert_eq!(r.find("a.b.zone5007.test", "/"), Some(&5007));
        assert_eq!(r.find("zone5007.test", "/"), Some(&10_001));
        assert_eq!(r.find("mycdn5008.test", "/static/a.css"), Some(&5008));
        assert_eq!(r.find("mycdn5008.test", "/dynamic"), Some(&10_001));
        assert_eq!(r.find("nosuchsite.example.com", "/"), Some(&10_000));
        assert_eq!(r.find("other.test", "/"), Some(&10_001));
        let mut rng = Rng(7);
        for _ in 0..5_000 {
            let i = rng.below(10_500);
            let host = match rng.below(4) {
                0 => format!("site{i}.example.com"),
                1 => format!("w.zone{i}.test"),
                2 => format!("xcdn{i}.test"),
                _ => format!("site{i}.example.com:8443"),
            };
            let path = match rng.below(4) {
                0 => format!("/api/v{}/x", i + 6),
                1 => format!("/exact{}", i + 9),
                2 => "/static/x".to_owned(),
                _ => "/".to_owned(),
            };
            check_same(&r, &host, &path);
        }
    }

    /// A rough lookup cost with 10 and with 10,000 routes, index against the
    /// linear scan. Not a test (timings are noisy and never asserted): run
    /// `cargo test --release --bin isoproxy route::tests::lookup_cost -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn lookup_cost() {
        use std::hint::black_box;
        use std::time::Instant;
        let requests: Vec<(String, &str)> = (0..64)
            .map(|i| match i % 4 {
                0 => (format!("site{}.example.com", i * 150), "/index.html"),
                1 => (format!("a.zone{}.test", i * 150 + 7), "/"),
                2 => ("unrouted.example.com".to_owned(), "/x"),
                _ => ("other.test".to_owned(), "/y"),
            })
            .collect();
        for n in [10, 10_000] {
            let r = many_routes(n);
            for (name, linear) in [("index", false), ("linear", true)] {
                let rounds = if linear && n > 100 { 20 } else { 20_000 };
                let start = Instant::now();
                for _ in 0..rounds {
                    for (host, path) in &requests {
                        let found = if linear {
                            r.find_route_linear(host, path)
                        } else {
                            r.find_route(host, path)
                        };
                        black_box(found);
                    }
                }
                let per = start.elapsed().as_nanos() as f64 / (rounds * requests.len()) as f64;
                println!("{n:>6} routes, {name:<6}: {per:>10.1} ns per lookup");
            }
        }
    }
}
