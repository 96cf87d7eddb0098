//! What a script may put on the wire.
//!
//! Everything a script hands to Rust for an HTTP message (a response in
//! `ops.respond`, a subrequest in `ops.fetch`, a cache entry in
//! `ops.cachePut`) passes these checks, whatever the bootstrap JavaScript
//! checked before: Rust assumes a hostile script holds the raw ops. A
//! refusal is an [`OpError`], thrown into the script as a `TypeError` or
//! `RangeError`; a response the script never manages to send is a 500.

use std::borrow::Cow;

use http::{HeaderName, HeaderValue, Method};

use crate::error::OpError;

/// Most header fields in one message (response, subrequest or cache
/// entry). Far above what real messages carry, far below the 32768 where
/// `http::HeaderMap` gives up.
pub const MAX_HEADER_COUNT: usize = 1000;

/// Fields the proxy may add to a message a script made as it goes to the
/// wire (`Content-Length`, `Date`, `Connection`, one to spare): maps made
/// for such messages leave room for them, since a map that grows
/// reallocates its tables each time.
pub const ADDED_ON_THE_WIRE: usize = 4;

/// Most bytes of header fields in one message, counted as sent
/// (`name: value\r\n`): Cloudflare's documented limit for request and
/// response headers (128 KB).
pub const MAX_HEADER_BYTES: usize = 128 * 1024;

/// Longest reason phrase (`statusText`), in UTF-8 bytes.
pub const MAX_REASON_BYTES: usize = 1024;

/// Longest subrequest URL: Cloudflare's documented URL limit (16 KB).
pub const MAX_URL_BYTES: usize = 16 * 1024;

/// Longest request method.
pub const MAX_METHOD_BYTES: usize = 64;

const STATUS_RANGE: &str = "Responses may only be constructed with status codes in the range 200 to 599, inclusive.";

/// A status a script may send or store: 200-599. (A 101 goes out only
/// with the WebSocket it switches to: `ops.respond` checks that.) `n` is
/// the JS number as given; anything else is a `RangeError`, as from
/// `new Response(null, { status })` on Workers.
pub(crate) fn status(n: f64) -> Result<u16, OpError> {
    if n.fract() == 0.0 && (200.0..=599.0).contains(&n) {
        Ok(n as u16)
    } else {
        Err(OpError::range_error(STATUS_RANGE))
    }
}

/// Statuses whose responses never have a body (RFC 9110 15.3.5, 15.3.6, 15.4.5).
pub(crate) fn is_null_body_status(status: u16) -> bool {
    matches!(status, 204 | 205 | 304)
}

/// A reason phrase as workerd takes it: any text without a control
/// character below U+0020 (CR, LF, and HTAB too) is accepted and goes out
/// as UTF-8; anything else is a `TypeError`. `Some(text)` is what to send:
/// a text holding DEL (accepted, but not sendable as `*( HTAB / SP /
/// VCHAR / obs-text )`, RFC 9112 4) is `None`, the status's own phrase
/// (workerd writes a placeholder there).
pub(crate) fn reason_phrase(text: &str) -> Result<Option<&str>, OpError> {
    if text.len() > MAX_REASON_BYTES {
        return Err(OpError::range_error(format!(
            "statusText is longer than {MAX_REASON_BYTES} bytes."
        )));
    }
    if text.bytes().any(|b| b < 0x20) {
        return Err(OpError::type_error("Invalid statusText"));
    }
    if text.contains('\x7f') {
        return Ok(None);
    }
    Ok(Some(text))
}

/// Counts the header fields of one message against [`MAX_HEADER_COUNT`]
/// and [`MAX_HEADER_BYTES`].
#[derive(Debug, Default)]
pub(crate) struct HeaderBudget {
    count: usize,
    bytes: usize,
}

impl HeaderBudget {
    /// Room for `fields` more fields? (Checked before anything is read.)
    pub(crate) fn expect(&self, fields: usize) -> Result<(), OpError> {
        if fields > MAX_HEADER_COUNT {
            return Err(too_many_headers());
        }
        Ok(())
    }

    /// Takes one field of `name_len` + `value_len` bytes.
    pub(crate) fn take(&mut self, name_len: usize, value_len: usize) -> Result<(), OpError> {
        self.count += 1;
        if self.count > MAX_HEADER_COUNT {
            return Err(too_many_headers());
        }
        self.bytes = self
            .bytes
            .saturating_add(name_len.saturating_add(value_len).saturating_add(4));
        if self.bytes > MAX_HEADER_BYTES {
            return Err(OpError::range_error(format!(
                "Headers too large: more than {} KiB in one message.",
                MAX_HEADER_BYTES / 1024
            )));
        }
        Ok(())
    }
}

fn too_many_headers() -> OpError {
    OpError::range_error(format!(
        "Too many headers: more than {MAX_HEADER_COUNT} in one message."
    ))
}

/// One header field: a token for a name (lower-cased), and a value
/// without CR, LF, NUL or other controls but HTAB. The value's characters
/// go out as UTF-8, as workerd sends them (a ByteString past U+007F is not
/// refused there, so not here either).
pub(crate) fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), OpError> {
    let name_ok = HeaderName::from_bytes(name.as_bytes());
    let Ok(header_name) = name_ok else {
        return Err(OpError::type_error(format!("Invalid header name '{}'", excerpt(name))));
    };
    let header_value = HeaderValue::from_bytes(value.as_bytes())
        .map_err(|_| OpError::type_error(format!("Invalid header value for '{}'", excerpt(name))))?;
    Ok((header_name, header_value))
}

/// A request method: a token of at most [`MAX_METHOD_BYTES`], and not one
/// of the methods the Fetch standard forbids (CONNECT, TRACE, TRACK).
pub(crate) fn method(name: &str) -> Result<Method, OpError> {
    let bad = || OpError::type_error(format!("Invalid HTTP method: {}", excerpt(name)));
    if name.len() > MAX_METHOD_BYTES {
        return Err(bad());
    }
    let method = Method::from_bytes(name.as_bytes()).map_err(|_| bad())?;
    if ["CONNECT", "TRACE", "TRACK"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(name))
    {
        return Err(OpError::type_error(format!("'{name}' HTTP method is unsupported.")));
    }
    Ok(method)
}

/// A subrequest URL: at most [`MAX_URL_BYTES`], and an absolute URL. What
/// goes out is the text itself when it is the URL's WHATWG serialisation
/// up to its path and nothing but visible ASCII from there (the incoming
/// request's URL keeps its target as the client sent it, as in workerd:
/// `fetch(request)` sends a `'` in the query as it came), else the WHATWG
/// serialisation (control characters and spaces cannot survive either).
pub(crate) fn url(text: &str) -> Result<String, OpError> {
    if text.len() > MAX_URL_BYTES {
        return Err(OpError::range_error(format!(
            "URL too long: more than {} KiB.",
            MAX_URL_BYTES / 1024
        )));
    }
    let Ok(parsed) = ada_url::Url::parse(text, None) else {
        return Err(OpError::type_error(format!("Invalid URL: {}", excerpt(text))));
    };
    let href = parsed.href();
    let path_start = parsed.components().pathname_start.map_or(href.len(), |p| p as usize);
    let keep = text != href
        && path_start < href.len()
        && text
            .get(..path_start)
            .is_some_and(|head| Some(head) == href.get(..path_start))
        && text[path_start..].starts_with('/')
        && text.bytes().all(|b| b.is_ascii_graphic());
    Ok(if keep { text.to_string() } else { href.to_string() })
}

/// At most 64 characters of `s`, for error messages.
pub(crate) fn excerpt(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(64) {
        None => escape_log(s, usize::MAX),
        Some((i, _)) => Cow::Owned(format!("{}...", escape_log(&s[..i], usize::MAX))),
    }
}

/// Line and paragraph separators other than CR and LF (NEL is a control).
fn is_line_break(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// Characters that reorder how a line displays ("Trojan Source").
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Text from a script made safe for one log line: CR and LF as `\r` and
/// `\n`, other control, line-separator and bidi characters as `\u{..}`
/// (tabs stay), so a script can never start a line of its own in
/// isoproxy's log; cut after `max` bytes with a note of how much is left.
pub(crate) fn escape_log(text: &str, max: usize) -> Cow<'_, str> {
    let needs_escape = |c: char| (c.is_control() && c != '\t') || is_line_break(c) || is_bidi_control(c);
    if text.len() <= max && !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(max) + 16);
    for (i, c) in text.char_indices() {
        if out.len() >= max {
            out.push_str(&format!("... ({} more bytes)", text.len() - i));
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        for ok in [200.0, 204.0, 299.0, 404.0, 599.0] {
            assert_eq!(status(ok), Ok(ok as u16));
        }
        for bad in [
            0.0,
            99.0,
            100.0,
            101.0,
            199.0,
            600.0,
            65736.0,
            -200.0,
            200.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            9007199254740992.0,
        ] {
            assert!(matches!(status(bad), Err(OpError::Range(_))), "{bad}");
        }
    }

    #[test]
    fn reason_phrases() {
        assert_eq!(reason_phrase("OK"), Ok(Some("OK")));
        assert!(reason_phrase("Très bien").is_ok());
        assert!(
            reason_phrase("日本語 \u{1F600}").is_ok(),
            "past U+00FF goes out as UTF-8"
        );
        assert!(
            reason_phrase("nel\u{85} ls\u{2028}").is_ok(),
            "as workerd: only C0 controls are refused"
        );
        assert_eq!(reason_phrase(""), Ok(Some("")));
        assert_eq!(
            reason_phrase("del\x7f"),
            Ok(None),
            "accepted, the default phrase is sent"
        );
        for bad in ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "nul\0", "tab\tin"] {
            assert!(matches!(reason_phrase(bad), Err(OpError::Type(_))), "{bad:?}");
        }
        assert!(matches!(reason_phrase(&"a".repeat(1025)), Err(OpError::Range(_))));
    }

    #[test]
    fn headers() {
        let (n, v) = header("X-Thing", "a\tb é").unwrap();
        assert_eq!(n.as_str(), "x-thing");
        assert_eq!(v.as_bytes(), "a\tb é".as_bytes(), "UTF-8, as workerd sends it");
        assert_eq!(header("x", "日本 ✓").unwrap().1.as_bytes(), "日本 ✓".as_bytes());
        for (name, value) in [
            ("x", "a\r\nb"),
            ("x", "a\nb"),
            ("x", "a\0b"),
            ("x", "a\x7fb"),
            ("x-✓", "1"),
            ("x y", "1"),
            ("x:y", "1"),
            ("", "1"),
            ("x\r\n", "1"),
        ] {
            assert!(
                matches!(header(name, value), Err(OpError::Type(_))),
                "{name:?}: {value:?}"
            );
        }
        let mut budget = HeaderBudget::default();
        for _ in 0..MAX_HEADER_COUNT {
            budget.take(1, 1).unwrap();
        }
        assert!(matches!(budget.take(1, 1), Err(OpError::Range(_))));
        assert!(matches!(HeaderBudget::default().expect(25_000), Err(OpError::Range(_))));
        let mut budget = HeaderBudget::default();
        budget.take(10, MAX_HEADER_BYTES - 20).unwrap();
        assert!(matches!(budget.take(10, 10), Err(OpError::Range(_))));
        assert!(HeaderBudget::default().take(usize::MAX, usize::MAX).is_err());
    }

    #[test]
    fn methods_and_urls() {
        assert_eq!(method("GET").unwrap(), Method::GET);
        assert_eq!(method("PROPFIND").unwrap().as_str(), "PROPFIND");
        for bad in ["", "GE T", "GET\r\n", "CONNECT", "trace", &"A".repeat(65)] {
            assert!(method(bad).is_err(), "{bad:?}");
        }
        assert_eq!(url("http://a.test/x y").unwrap(), "http://a.test/x%20y");
        assert_eq!(
            url("http://a.test/\r\nX-Injected: 1").unwrap(),
            "http://a.test/X-Injected:%201",
            "controls cannot survive serialisation"
        );
        assert!(matches!(url("/relative"), Err(OpError::Type(_))));
        // The client's own target (a `'` in the query, `^` in the path) goes
        // out as it is; anything else as the URL standard serialises it.
        assert_eq!(url("http://a.test/a^b?q='x'").unwrap(), "http://a.test/a^b?q='x'");
        assert_eq!(url("HTTP://a.test/a?q='x'").unwrap(), "http://a.test/a?q=%27x%27");
        assert_eq!(url("http://a.test/caf\u{e9}").unwrap(), "http://a.test/caf%C3%A9");
        assert_eq!(url("http://a.test").unwrap(), "http://a.test/");
        assert!(matches!(
            url(&format!("http://a.test/{}", "a".repeat(MAX_URL_BYTES))),
            Err(OpError::Range(_))
        ));
    }

    #[test]
    fn log_escaping() {
        assert_eq!(escape_log("plain\ttext", 100), "plain\ttext");
        assert_eq!(
            escape_log("a\n[ERROR isoproxy] forged\r\n", 100),
            "a\\n[ERROR isoproxy] forged\\r\\n"
        );
        assert_eq!(
            escape_log("\x1b[31mred\u{2028}\u{202e}", 100),
            "\\u{1b}[31mred\\u{2028}\\u{202e}"
        );
        let long = "x".repeat(100);
        assert_eq!(escape_log(&long, 10), format!("{}... (90 more bytes)", "x".repeat(10)));
        assert!(!escape_log(&"\n".repeat(1000), 50).contains('\n'));
        assert_eq!(excerpt(&"y".repeat(100)), format!("{}...", "y".repeat(64)));
    }
}
