//! Positions: a spanned parse of the file, to turn key paths into
//! line:column and error spans into key paths.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, Location};
use super::schema::check_origin;
use super::validate::is_name_byte;
use crate::route::{RoutePattern, RoutePatternError};

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// `routes[1].worker`; keys that are not bare TOML keys are quoted.
pub(super) fn key_string(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if !k.is_empty() && k.bytes().all(is_name_byte) {
                    out.push_str(k);
                } else {
                    out.push_str(&format!("{k:?}"));
                }
            }
        }
    }
    out
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.contains(&offset) || (span.is_empty() && span.start == offset)
}

/// A key's span and its value, in a [`Doc`].
type Entry<'d, 'a> = (Range<usize>, &'d toml::Spanned<DeValue<'a>>);

/// The configuration text with its spanned parse.
pub(super) struct Doc<'a> {
    text: &'a str,
    pub(super) file: &'a Path,
    /// `file`, shared by every [`Location`].
    shared_file: Arc<Path>,
    root: DeTable<'a>,
}

impl<'a> Doc<'a> {
    /// Parses `text`'s syntax; a syntax error is reported here.
    pub(super) fn parse(text: &'a str, file: &'a Path) -> Result<Doc<'a>, ConfigError> {
        match DeTable::parse(text) {
            Ok(root) => Ok(Doc {
                text,
                file,
                shared_file: file.into(),
                root: root.into_inner(),
            }),
            Err(e) => {
                // A best-effort tree still names the key for many errors.
                let (root, _) = DeTable::parse_recoverable(text);
                let doc = Doc {
                    text,
                    file,
                    shared_file: file.into(),
                    root: root.into_inner(),
                };
                let mut message = one_line(e.message());
                if let Some(span) = e.span()
                    && message == "duplicate key"
                {
                    message = format!("duplicate key `{}`", &text[span]);
                }
                Err(doc.parse_error(e.span(), message))
            }
        }
    }

    /// Turns a deserialisation error into a [`ConfigError`], upgrading
    /// errors from our field deserialisers to their own variants.
    pub(super) fn schema_error(&self, e: &toml::de::Error) -> ConfigError {
        let span = e.span();
        let (path, on_key) = span.as_ref().map(|s| self.path_at(s.start)).unwrap_or_default();
        if let (Some(span), false) = (&span, on_key)
            && let [Seg::Key("routes"), Seg::Index(_), Seg::Key(field)] = path[..]
            && let Some(text) = self.str_at(&path)
        {
            let key = key_string(&path);
            if field == "pattern"
                && let Err(error) = RoutePattern::parse(text)
            {
                let offset = match error {
                    RoutePatternError::Empty => span.start,
                    _ => self.string_char_offset(span, text, error.offset()),
                };
                return ConfigError::BadPattern {
                    at: self.location(offset),
                    key,
                    pattern: text.to_owned(),
                    error,
                };
            }
            if field == "origin"
                && let Err(reason) = check_origin(text)
            {
                return ConfigError::BadOrigin {
                    at: self.location(span.start),
                    key,
                    origin: text.to_owned(),
                    reason,
                };
            }
        }
        self.parse_error(span, one_line(e.message()))
    }

    fn parse_error(&self, span: Option<Range<usize>>, message: String) -> ConfigError {
        let (path, on_key) = span.as_ref().map(|s| self.path_at(s.start)).unwrap_or_default();
        let path = if on_key { &path[..path.len() - 1] } else { &path[..] };
        ConfigError::Parse {
            at: self.location(span.map_or(0, |s| s.start)),
            key: key_string(path),
            message,
        }
    }

    pub(super) fn invalid(&self, path: &[Seg<'_>], reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            at: self.at(path),
            key: key_string(path),
            reason: reason.into(),
        }
    }

    /// Where the value at `path` starts (or its nearest existing ancestor,
    /// or the start of the file).
    pub(super) fn at(&self, path: &[Seg<'_>]) -> Location {
        self.location(self.spans(path).map_or(0, |(_, value)| value.start))
    }

    /// Whether the file writes the key or item at `path`.
    pub(super) fn has(&self, path: &[Seg<'_>]) -> bool {
        self.walk(path).0 == path.len()
    }

    /// Where the key at `path` starts (falls back like [`Doc::at`]).
    pub(super) fn at_key(&self, path: &[Seg<'_>]) -> Location {
        self.location(self.spans(path).map_or(0, |(key, _)| key.start))
    }

    /// Key and value spans of the deepest existing entry along `path`.
    fn spans(&self, path: &[Seg<'_>]) -> Option<(Range<usize>, Range<usize>)> {
        self.walk(path).1.map(|(key, value)| (key, value.span()))
    }

    /// The string at exactly `path`, if there is one.
    fn str_at(&self, path: &[Seg<'_>]) -> Option<&str> {
        match self.walk(path) {
            (depth, Some((_, value))) if depth == path.len() => value.get_ref().as_str(),
            _ => None,
        }
    }

    /// Follows `path` as far as it exists: how many steps were taken, and
    /// the key span and value of the last entry reached (for an array item,
    /// its own span stands for the key's).
    fn walk(&self, path: &[Seg<'_>]) -> (usize, Option<Entry<'_, 'a>>) {
        let mut found = None;
        let mut table = Some(&self.root);
        let mut array: Option<&[toml::Spanned<DeValue<'a>>]> = None;
        for (depth, seg) in path.iter().enumerate() {
            let entry = match (seg, table, array) {
                (Seg::Key(k), Some(t), _) => t.get_key_value(*k).map(|(k, v)| (k.span(), v)),
                (Seg::Index(i), _, Some(items)) => items.get(*i).map(|v| (v.span(), v)),
                _ => None,
            };
            let Some((key, value)) = entry else {
                return (depth, found);
            };
            found = Some((key, value));
            (table, array) = match value.get_ref() {
                DeValue::Table(t) => (Some(t), None),
                DeValue::Array(a) => (None, Some(&a[..])),
                _ => (None, None),
            };
        }
        (path.len(), found)
    }

    /// Byte offset in the file of byte `offset` of string `value`, written at
    /// `span`; the string's start when escapes make that ambiguous.
    fn string_char_offset(&self, span: &Range<usize>, value: &str, offset: usize) -> usize {
        let raw = &self.text[span.clone()];
        let quoted = |q: char| raw.len() >= 2 && raw.starts_with(q) && raw.ends_with(q);
        if (quoted('"') || quoted('\'')) && &raw[1..raw.len() - 1] == value {
            span.start + 1 + offset
        } else {
            span.start
        }
    }

    /// The key path of the deepest key or value whose span contains
    /// `offset`, and whether it is the key itself.
    fn path_at(&self, offset: usize) -> (Vec<Seg<'_>>, bool) {
        let mut best = (Vec::new(), false);
        path_at_table(&self.root, offset, &mut Vec::new(), &mut best);
        best
    }

    fn location(&self, offset: usize) -> Location {
        location(self.text, &self.shared_file, offset)
    }
}

/// Line and column (1-based, in characters) of byte `offset` of `text`,
/// the contents of `file`.
pub(super) fn location(text: &str, file: &Arc<Path>, offset: usize) -> Location {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let saturate = |n: usize| u32::try_from(n + 1).unwrap_or(u32::MAX);
    Location {
        file: Arc::clone(file),
        line: saturate(before.matches('\n').count()),
        column: saturate(before[line_start..].chars().count()),
    }
}

/// [`Doc::path_at`] below a table; `best` is the deepest hit so far.
fn path_at_table<'d>(table: &'d DeTable<'_>, offset: usize, path: &mut Vec<Seg<'d>>, best: &mut (Vec<Seg<'d>>, bool)) {
    for (key, value) in table.iter() {
        path_at_entry(Seg::Key(key.get_ref()), Some(key.span()), value, offset, path, best);
    }
}

/// [`Doc::path_at`] for one entry (`key` is `None` for array items).
fn path_at_entry<'d>(
    seg: Seg<'d>,
    key: Option<Range<usize>>,
    value: &'d toml::Spanned<DeValue<'_>>,
    offset: usize,
    path: &mut Vec<Seg<'d>>,
    best: &mut (Vec<Seg<'d>>, bool),
) {
    path.push(seg);
    if path.len() > best.0.len() {
        if key.is_some_and(|k| contains(&k, offset)) {
            *best = (path.clone(), true);
        } else if contains(&value.span(), offset) {
            *best = (path.clone(), false);
        }
    }
    // Header tables' spans cover only the header, so always look inside.
    match value.get_ref() {
        DeValue::Table(t) => path_at_table(t, offset, path, best),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path_at_entry(Seg::Index(i), None, item, offset, path, best);
            }
        }
        _ => {}
    }
    path.pop();
}

fn one_line(message: &str) -> String {
    message.trim().lines().map(str::trim).collect::<Vec<_>>().join("; ")
}
