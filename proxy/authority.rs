//! The authority a request is for (RFC 3986 §3.2: `host[:port]`), parsed
//! once from the `Host` header or an absolute-form request target.
//!
//! Routing and the URL a script sees (`request.url`) both come from the
//! one [`Authority`] this module returns, so they cannot disagree about
//! which host a request names. The accepted forms are a subset of RFC 3986
//! chosen so that a WHATWG URL parser (the one scripts use) reads the same
//! host back:
//!
//! - a reg-name of unreserved characters (`A-Z a-z 0-9 - . _ ~`), ASCII only
//!   (internationalised names in punycode), non-empty labels, at most 253
//!   characters; one trailing `.` is dropped;
//! - an IPv4 address in dotted-decimal form without leading zeros;
//! - a bracketed IPv6 address (`[::1]`), without zone identifier;
//! - each optionally followed by `:` and a decimal port up to 65535 (an
//!   empty port, allowed by RFC 3986, means no port).
//!
//! Refused: percent-encoding, sub-delimiters, userinfo (`user@host`),
//! `IPvFuture` literals, any `/ ? #`, whitespace, non-ASCII bytes, and a
//! reg-name whose last label is a number (`127.1`, `0x7f.1`, `2130706433`):
//! WHATWG URL would read those as IPv4 addresses while RFC 3986 reads them
//! as names, exactly the kind of disagreement this type exists to prevent.
//!
//! Hosts are lowercased; IPv6 literals are written in the WHATWG/RFC 5952
//! canonical form (`[0:0::1]` becomes `[::1]`).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest host accepted (a DNS name has at most 253 characters).
const MAX_HOST_LEN: usize = 253;

/// A request's authority: normalised host and optional port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    host: String,
    port: Option<u16>,
}

/// Why an authority was refused (the client gets 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorityError {
    /// Nothing at all.
    #[error("empty host")]
    Empty,
    /// A byte that is not printable ASCII.
    #[error("non-ASCII or control byte 0x{byte:02x} in the host")]
    NotAscii {
        /// The byte.
        byte: u8,
    },
    /// `user@host`.
    #[error("userinfo (`@`) is not allowed")]
    UserInfo,
    /// `%xx`.
    #[error("percent-encoding is not allowed in the host")]
    PercentEncoded,
    /// A path, query or fragment delimiter after the host.
    #[error("{ch:?} after the host: the authority must be host[:port] only")]
    Delimiter {
        /// The character.
        ch: char,
    },
    /// Any other character a host cannot contain.
    #[error("invalid character {ch:?} in the host")]
    BadChar {
        /// The character.
        ch: char,
    },
    /// `a..b`, `.a`, or a host that is only a dot.
    #[error("empty label in the host")]
    EmptyLabel,
    /// Longer than a DNS name can be.
    #[error("host longer than {MAX_HOST_LEN} characters")]
    TooLong,
    /// A name ending in a number that is not a dotted-decimal IPv4 address.
    #[error("host ends in a number but is not a dotted-decimal IPv4 address")]
    AmbiguousNumber,
    /// An unclosed, malformed or future-version `[...]` literal.
    #[error("malformed IPv6 literal")]
    BadIpv6,
    /// A port that is not all digits.
    #[error("port is not a number")]
    BadPort,
    /// A port above 65535.
    #[error("port out of range")]
    PortOutOfRange,
}

// Some accessors serve only the unit tests today; they are the module's API.
#[cfg_attr(not(test), allow(dead_code))]
impl Authority {
    /// Parses a `Host` header value or the authority of an absolute-form
    /// request target.
    pub fn parse(raw: &[u8]) -> Result<Authority, AuthorityError> {
        if raw.is_empty() {
            return Err(AuthorityError::Empty);
        }
        for &byte in raw {
            if !byte.is_ascii_graphic() {
                return Err(AuthorityError::NotAscii { byte });
            }
            match byte {
                b'@' => return Err(AuthorityError::UserInfo),
                b'%' => return Err(AuthorityError::PercentEncoded),
                b'/' | b'?' | b'#' | b'\\' => return Err(AuthorityError::Delimiter { ch: byte as char }),
                _ => {}
            }
        }
        // All bytes are printable ASCII from here on.
        let text = std::str::from_utf8(raw).map_err(|_| AuthorityError::Empty)?;
        let (host, port) = if text.starts_with('[') {
            let close = text.find(']').ok_or(AuthorityError::BadIpv6)?;
            let host = ipv6_literal(&text[1..close])?;
            let rest = &text[close + 1..];
            let port = match rest.strip_prefix(':') {
                Some(p) => parse_port(p)?,
                None if rest.is_empty() => None,
                None => return Err(AuthorityError::BadIpv6),
            };
            (host, port)
        } else {
            let (name, port) = match text.split_once(':') {
                Some((name, p)) => (name, parse_port(p)?),
                None => (text, None),
            };
            (reg_name_or_ipv4(name)?, port)
        };
        Ok(Authority { host, port })
    }

    /// The host: lowercase, no trailing dot, IPv6 in brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, when one was given.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// `http://host[:port]` (`tls` false) or `https://host[:port]` as a
    /// WHATWG URL serialises it (the scheme's default port omitted), to
    /// which the request target's path and query are appended.
    pub fn origin(&self, tls: bool) -> String {
        let (scheme, default) = if tls { ("https", 443) } else { ("http", 80) };
        match self.port {
            Some(port) if port != default => format!("{scheme}://{}:{port}", self.host),
            _ => format!("{scheme}://{}", self.host),
        }
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

fn parse_port(text: &str) -> Result<Option<u16>, AuthorityError> {
    if text.is_empty() {
        return Ok(None);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthorityError::BadPort);
    }
    let mut port: u32 = 0;
    for b in text.bytes() {
        port = port * 10 + u32::from(b - b'0');
        if port > u32::from(u16::MAX) {
            return Err(AuthorityError::PortOutOfRange);
        }
    }
    Ok(Some(port as u16))
}

/// `[...]` contents: an IPv6 address (no zone, no IPvFuture), canonical.
fn ipv6_literal(inner: &str) -> Result<String, AuthorityError> {
    let addr: Ipv6Addr = inner.parse().map_err(|_| AuthorityError::BadIpv6)?;
    Ok(format!("[{}]", ipv6_canonical(addr)))
}

/// An IPv6 address as WHATWG URL serialises it: lowercase hex pieces
/// without leading zeros, the first longest run of two or more zero
/// pieces compressed to `::`, never dotted-quad notation.
pub fn ipv6_canonical(addr: Ipv6Addr) -> String {
    let pieces = addr.segments();
    // First longest run of zero pieces, if at least two long.
    let (mut best_start, mut best_len) = (None, 1usize);
    let mut i = 0;
    while i < 8 {
        if pieces[i] == 0 {
            let start = i;
            while i < 8 && pieces[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best_start = Some(start);
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    let mut out = String::with_capacity(39);
    let mut i = 0;
    while i < 8 {
        if Some(i) == best_start {
            out.push_str(if i == 0 { "::" } else { ":" });
            i += best_len;
            continue;
        }
        out.push_str(&format!("{:x}", pieces[i]));
        if i < 7 {
            out.push(':');
        }
        i += 1;
    }
    out
}

/// A reg-name or dotted-decimal IPv4 address, lowercased, trailing dot removed.
fn reg_name_or_ipv4(name: &str) -> Result<String, AuthorityError> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err(AuthorityError::Empty);
    }
    if name.len() > MAX_HOST_LEN {
        return Err(AuthorityError::TooLong);
    }
    for ch in name.chars() {
        match ch {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '.' | '_' | '~' => {}
            '[' | ']' => return Err(AuthorityError::BadIpv6),
            _ => return Err(AuthorityError::BadChar { ch }),
        }
    }
    if name.split('.').any(str::is_empty) {
        return Err(AuthorityError::EmptyLabel);
    }
    // WHATWG URL's "ends in a number": such a host is parsed as IPv4
    // there, so accept it only if it is an IPv4 address here too.
    let last = name.rsplit('.').next().unwrap_or(name);
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || (last.len() >= 2
            && last[..2].eq_ignore_ascii_case("0x")
            && last[2..].bytes().all(|b| b.is_ascii_hexdigit()));
    if numeric {
        // std's parser takes exactly four dotted-decimal octets without
        // leading zeros (RFC 3986's dec-octet).
        let addr: Ipv4Addr = name.parse().map_err(|_| AuthorityError::AmbiguousNumber)?;
        return Ok(addr.to_string());
    }
    Ok(name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> (String, Option<u16>) {
        let a = Authority::parse(raw.as_bytes()).unwrap_or_else(|e| panic!("{raw:?}: {e}"));
        (a.host().to_string(), a.port())
    }

    fn err(raw: &[u8]) -> AuthorityError {
        match Authority::parse(raw) {
            Ok(a) => panic!("{:?} parsed as {a:?}", String::from_utf8_lossy(raw)),
            Err(e) => e,
        }
    }

    #[test]
    fn accepts_names_addresses_and_ports() {
        assert_eq!(ok("a.test"), ("a.test".into(), None));
        assert_eq!(ok("A.Test:8080"), ("a.test".into(), Some(8080)));
        assert_eq!(ok("a.test."), ("a.test".into(), None));
        assert_eq!(ok("a.test.:81"), ("a.test".into(), Some(81)));
        assert_eq!(ok("a.test:"), ("a.test".into(), None));
        assert_eq!(ok("a.test:0"), ("a.test".into(), Some(0)));
        assert_eq!(ok("a.test:65535"), ("a.test".into(), Some(65535)));
        assert_eq!(ok("a.test:00080"), ("a.test".into(), Some(80)));
        assert_eq!(ok("localhost"), ("localhost".into(), None));
        assert_eq!(ok("under_score.x-y.t~"), ("under_score.x-y.t~".into(), None));
        assert_eq!(ok("127.0.0.1:9090"), ("127.0.0.1".into(), Some(9090)));
        assert_eq!(ok("[::1]"), ("[::1]".into(), None));
        assert_eq!(ok("[::1]:8080"), ("[::1]".into(), Some(8080)));
        assert_eq!(ok("[0:0:0:0:0:0:0:1]"), ("[::1]".into(), None));
        assert_eq!(ok("[2001:DB8::1]"), ("[2001:db8::1]".into(), None));
        assert_eq!(ok("[::ffff:127.0.0.1]"), ("[::ffff:7f00:1]".into(), None));
        assert_eq!(ok("1a.test"), ("1a.test".into(), None));
        assert_eq!(ok("a.1x"), ("a.1x".into(), None));
    }

    #[test]
    fn refuses_everything_else() {
        assert_eq!(err(b""), AuthorityError::Empty);
        assert_eq!(err(b"."), AuthorityError::Empty);
        assert_eq!(err(b":80"), AuthorityError::Empty);
        assert_eq!(err(b"a.test:abc"), AuthorityError::BadPort);
        assert_eq!(err(b"a.test:99999"), AuthorityError::PortOutOfRange);
        assert_eq!(err(b"a.test:65536"), AuthorityError::PortOutOfRange);
        assert_eq!(err(b"a.test:+80"), AuthorityError::BadPort);
        assert_eq!(err(b"a.test:-1"), AuthorityError::BadPort);
        assert_eq!(err(b"a.test:80:80"), AuthorityError::BadPort);
        assert_eq!(err(b"a.test/x"), AuthorityError::Delimiter { ch: '/' });
        assert_eq!(err(b"127.0.0.1:9090/metrics?"), AuthorityError::Delimiter { ch: '/' });
        assert_eq!(err(b"a.test?x"), AuthorityError::Delimiter { ch: '?' });
        assert_eq!(err(b"a.test#x"), AuthorityError::Delimiter { ch: '#' });
        assert_eq!(err(b"a.test\\x"), AuthorityError::Delimiter { ch: '\\' });
        assert_eq!(err(b"user@a.test"), AuthorityError::UserInfo);
        assert_eq!(err(b"a%2etest"), AuthorityError::PercentEncoded);
        assert_eq!(err(b"a test"), AuthorityError::NotAscii { byte: b' ' });
        assert_eq!(err(b"a\ttest"), AuthorityError::NotAscii { byte: b'\t' });
        assert_eq!(err("bücher.test".as_bytes()), AuthorityError::NotAscii { byte: 0xc3 });
        assert_eq!(err(b"a\x7f"), AuthorityError::NotAscii { byte: 0x7f });
        assert_eq!(err(b"a,b"), AuthorityError::BadChar { ch: ',' });
        assert_eq!(err(b"a!b"), AuthorityError::BadChar { ch: '!' });
        assert_eq!(err(b"*.test"), AuthorityError::BadChar { ch: '*' });
        assert_eq!(err(b"a..test"), AuthorityError::EmptyLabel);
        assert_eq!(err(b".a.test"), AuthorityError::EmptyLabel);
        assert_eq!(err(b"a.test.."), AuthorityError::EmptyLabel);
        assert_eq!(err("a".repeat(254).as_bytes()), AuthorityError::TooLong);
        assert_eq!(err(b"[::1"), AuthorityError::BadIpv6);
        assert_eq!(err(b"[::1]x"), AuthorityError::BadIpv6);
        assert_eq!(err(b"[::1]:x"), AuthorityError::BadPort);
        assert_eq!(err(b"[::1%25eth0]"), AuthorityError::PercentEncoded);
        assert_eq!(err(b"[v1.x]"), AuthorityError::BadIpv6);
        assert_eq!(err(b"[127.0.0.1]"), AuthorityError::BadIpv6);
        assert_eq!(err(b"::1"), AuthorityError::BadPort);
        assert_eq!(err(b"a]"), AuthorityError::BadIpv6);
        // Numbers WHATWG would read as IPv4 but RFC 3986 as names.
        assert_eq!(err(b"2130706433"), AuthorityError::AmbiguousNumber);
        assert_eq!(err(b"127.1"), AuthorityError::AmbiguousNumber);
        assert_eq!(err(b"0x7f.1"), AuthorityError::AmbiguousNumber);
        assert_eq!(err(b"0x7f000001"), AuthorityError::AmbiguousNumber);
        assert_eq!(err(b"127.000.0.1"), AuthorityError::AmbiguousNumber);
        assert_eq!(err(b"127.0.0.01"), AuthorityError::AmbiguousNumber);
        assert_eq!(err(b"256.0.0.1"), AuthorityError::AmbiguousNumber);
        assert_eq!(err(b"a.1"), AuthorityError::AmbiguousNumber);
        assert_eq!(err(b"1.2.3.4.5"), AuthorityError::AmbiguousNumber);
    }

    #[test]
    fn ipv6_canonical_form_matches_whatwg() {
        let c = |s: &str| ipv6_canonical(s.parse().unwrap());
        assert_eq!(c("::"), "::");
        assert_eq!(c("::1"), "::1");
        assert_eq!(c("1::"), "1::");
        assert_eq!(c("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert_eq!(c("1:0:2:0:3:0:4:0"), "1:0:2:0:3:0:4:0");
        assert_eq!(c("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4");
        assert_eq!(c("2001:db8:0:0:0:0:2:1"), "2001:db8::2:1");
        assert_eq!(c("::ffff:1.2.3.4"), "::ffff:102:304");
    }

    #[test]
    fn http_origin_omits_port_80() {
        let o = |s: &str| Authority::parse(s.as_bytes()).unwrap().origin(false);
        assert_eq!(o("a.test:80"), "http://a.test");
        assert_eq!(o("a.test"), "http://a.test");
        assert_eq!(o("a.test:8080"), "http://a.test:8080");
        assert_eq!(o("[::1]:81"), "http://[::1]:81");
        let tls = |s: &str| Authority::parse(s.as_bytes()).unwrap().origin(true);
        assert_eq!(tls("a.test:443"), "https://a.test");
        assert_eq!(tls("a.test:80"), "https://a.test:80");
        assert_eq!(tls("a.test"), "https://a.test");
    }
}
