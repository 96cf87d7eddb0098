//! [`ConfigError`]: why a configuration was rejected, and [`Location`]:
//! where in the file.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::route::RoutePatternError;

/// A position in the configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, as given to [`load`] or [`parse`].
    pub file: Arc<Path>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Why a configuration was rejected. Displays as one line,
/// `<file>:<line>:<column>: <key>: <reason>`, where `key` is the path of the
/// offending key such as `routes[1].worker`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read: {}", file.display(), io_reason(error))]
    Io {
        /// The file.
        file: PathBuf,
        /// What went wrong.
        error: io::Error,
    },
    /// TOML syntax, or a key or value that does not fit the schema: unknown
    /// field, wrong type, missing field, bad value.
    #[error("{at}: {}{message}", key_prefix(key))]
    Parse {
        /// Where.
        at: Location,
        /// The key the problem is in (for an unknown field, the table holding
        /// it); empty at the top level or for syntax errors.
        key: String,
        /// The parser's message.
        message: String,
    },
    /// Two workers have the same name.
    #[error("{at}: {key}: duplicate worker name {name:?} (first defined at line {})", first.line)]
    DuplicateWorker {
        /// Where the second definition is.
        at: Location,
        /// E.g. `workers[2].name`.
        key: String,
        /// The name.
        name: String,
        /// Where the first definition is.
        first: Location,
    },
    /// A route names a worker that is not configured.
    #[error("{at}: {key}: no worker named {name:?}")]
    UnknownWorker {
        /// Where.
        at: Location,
        /// E.g. `routes[1].worker`.
        key: String,
        /// The name as written.
        name: String,
    },
    /// A route pattern is not valid Workers route syntax.
    #[error("{at}: {key}: {error}")]
    BadPattern {
        /// The offending character of the pattern, when it can be told apart.
        at: Location,
        /// E.g. `routes[0].pattern`.
        key: String,
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        error: RoutePatternError,
    },
    /// Two routes match exactly the same requests, so the later never would.
    #[error("{at}: {key}: {pattern:?} matches the same requests as {first_key} (line {}); the later route could never match", first.line)]
    DuplicatePattern {
        /// Where the later pattern is.
        at: Location,
        /// E.g. `routes[3].pattern`.
        key: String,
        /// The later pattern as written.
        pattern: String,
        /// The key of the earlier pattern, e.g. `routes[1].pattern`.
        first_key: String,
        /// Where the earlier pattern is.
        first: Location,
    },
    /// A route origin is not an `http://` or `https://` URL with just a host
    /// and optional port.
    #[error("{at}: {key}: {reason}")]
    BadOrigin {
        /// Where.
        at: Location,
        /// E.g. `routes[0].origin`.
        key: String,
        /// The origin as written.
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A worker's `main` script does not exist, is not a file, or cannot be read.
    #[error("{at}: {key}: cannot read {}: {}", script.display(), io_reason(error))]
    MissingScript {
        /// Where.
        at: Location,
        /// E.g. `workers[0].main`.
        key: String,
        /// The path as written.
        script: PathBuf,
        /// Why it cannot be read.
        error: io::Error,
    },
    /// A secret's environment variable is not set (or not UTF-8).
    #[error("{at}: {key}: environment variable {env} is not set (secret {secret} of worker {worker:?})")]
    MissingSecret {
        /// Where.
        at: Location,
        /// E.g. `workers[0].secrets.API_TOKEN`.
        key: String,
        /// The worker's name.
        worker: String,
        /// The secret's name.
        secret: String,
        /// The environment variable.
        env: String,
    },
    /// Any other invalid value: empty `listen`, a zero limit, a malformed
    /// name, date or address, a route with neither worker nor origin...
    #[error("{at}: {key}: {reason}")]
    Invalid {
        /// Where.
        at: Location,
        /// The offending key.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

// Some accessors serve only the unit tests today; they are the module's API.
#[cfg_attr(not(test), allow(dead_code))]
impl ConfigError {
    /// Where in the file the problem is (`None` when the file could not be read).
    pub fn location(&self) -> Option<&Location> {
        match self {
            ConfigError::Io { .. } => None,
            ConfigError::Parse { at, .. }
            | ConfigError::DuplicateWorker { at, .. }
            | ConfigError::UnknownWorker { at, .. }
            | ConfigError::BadPattern { at, .. }
            | ConfigError::DuplicatePattern { at, .. }
            | ConfigError::BadOrigin { at, .. }
            | ConfigError::MissingScript { at, .. }
            | ConfigError::MissingSecret { at, .. }
            | ConfigError::Invalid { at, .. } => Some(at),
        }
    }

    /// The offending key, such as `routes[1].worker` (`None` when the file
    /// could not be read; empty for syntax errors).
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Io { .. } => None,
            ConfigError::Parse { key, .. }
            | ConfigError::DuplicateWorker { key, .. }
            | ConfigError::UnknownWorker { key, .. }
            | ConfigError::BadPattern { key, .. }
            | ConfigError::DuplicatePattern { key, .. }
            | ConfigError::BadOrigin { key, .. }
            | ConfigError::MissingScript { key, .. }
            | ConfigError::MissingSecret { key, .. }
            | ConfigError::Invalid { key, .. } => Some(key),
        }
    }
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("{key}: ")
    }
}

/// `io::Error`'s message without the trailing ` (os error N)`.
pub(super) fn io_reason(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_owned(),
        _ => text,
    }
}
