//! The configuration file (`conf/isoproxy.toml`): its schema, defaults and
//! validation.
//!
//! [`load`] reads, parses and validates a whole file before anything uses it:
//! unknown keys, wrong types, bad addresses, route patterns and origins,
//! references to unknown workers, unreadable scripts and unset secrets are all
//! errors. A [`ConfigError`] displays as one line,
//! `<file>:<line>:<column>: <key>: <reason>`, pointing at the offending key or
//! value. After a successful load, worker `main` paths are absolute and
//! secrets hold their values.
//!
//! Positions come from the TOML parser's spans: serde errors carry one, and the
//! checks that run after deserialising look the key up again in a spanned
//! parse of the same text.
//!
//! The rooms: `schema.rs` (the file's tables, their defaults and field
//! deserialisers), `validate.rs` (the checks after deserialising),
//! `error.rs` ([`ConfigError`], [`Location`]), `span.rs` (the spanned
//! parse that turns key paths into line:column and back) and `wrangler.rs`
//! (workers taken from a wrangler.toml / wrangler.json(c)).

use std::path::Path;

mod error;
mod schema;
mod span;
mod validate;
mod wrangler;

// The module's API: not every type is named outside it today.
#[allow(unused_imports)]
pub use error::{ConfigError, Location};
#[allow(unused_imports)]
pub use schema::{
    AdminToken, ClusterConfig, Config, DnsConfig, Limits, LogFormat, RouteConfig, RuntimeConfig, Secret, ServerConfig,
    WorkerConfig, WorkerLimits,
};

use span::Doc;
use validate::validate;

/// The largest configuration, wrangler or PEM file read (a named pipe or a
/// device is refused: a reload must not hang on one).
pub const MAX_CONFIG_FILE_BYTES: u64 = 16 << 20;

/// Reads, parses and validates the configuration file at `path`; secrets come
/// from the process environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = plugin_runtime::read_bounded_string(path, MAX_CONFIG_FILE_BYTES).map_err(|error| ConfigError::Io {
        file: path.to_owned(),
        error,
    })?;
    parse(&text, path)
}

/// Parses and validates `text` as if read from `path` (used in messages and
/// to resolve `main` paths); secrets come from the process environment.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    parse_with_env(text, path, &|name| std::env::var(name).ok())
}

/// Like [`parse`], reading secrets through `env` instead of the process
/// environment (`env(name)` is the variable's value, `None` if unset).
pub fn parse_with_env(text: &str, path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let doc = Doc::parse(text, path)?;
    let mut config: Config = toml::from_str(text).map_err(|e| doc.schema_error(&e))?;
    validate(&mut config, &doc, env)?;
    Ok(config)
}

#[cfg(test)]
mod tests;
