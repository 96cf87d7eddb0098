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

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde::de::Error as _;
use toml::de::{DeTable, DeValue};
use url::Url;

use crate::route::{RoutePattern, RoutePatternError};

/// A validated configuration file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub struct Config {
    /// `[server]`: listeners and proxy threads. Required (it holds `listen`).
    pub server: ServerConfig,
    /// `[runtime]`: V8 threads and default limits.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// `[[workers]]`, in file order. Default: none.
    #[serde(default)]
    pub workers: Vec<WorkerConfig>,
    /// `[[routes]]`, in file order (which breaks ties between equally
    /// specific patterns). Default: none, so every request gets 404.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
}

// Some accessors serve only the unit tests today; they are the module's API.
#[cfg_attr(not(test), allow(dead_code))]
impl Config {
    /// The worker named `name`.
    pub fn worker(&self, name: &str) -> Option<&WorkerConfig> {
        self.workers.iter().find(|w| w.name == name)
    }
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub struct ServerConfig {
    /// Downstream listen addresses (`ip:port`, IPv6 as `[::1]:8080`).
    pub listen: Vec<String>,
    /// Admin listener address (health, metrics, workers, cron trigger).
    pub admin: Option<String>,
    /// Proxy (Pingora) worker threads.
    pub threads: usize,
    /// Pingora's `grace_period_seconds`: how long a stopping server keeps
    /// accepting on its listeners (for socket hand-over).
    pub grace_period_seconds: u64,
    /// Pingora's `graceful_shutdown_timeout_seconds`: how long in-flight
    /// requests get to finish at shutdown.
    pub graceful_shutdown_timeout_seconds: u64,
    /// Write one access-log line per request (log target `isoproxy::access`).
    pub access_log: bool,
    /// Bearer token every admin request but `GET /healthz` must present.
    /// Required when `admin` is not a loopback address.
    pub admin_token: Option<AdminToken>,
    /// Seconds a client has to send a complete request header, from its
    /// first byte (from the accept for a connection's first request).
    pub header_read_timeout_s: u64,
    /// Seconds a request body may stall between two reads.
    pub body_idle_timeout_s: u64,
    /// Seconds one write of the response to the client may take (a client
    /// that stops reading its response is cut off).
    pub send_timeout_s: u64,
    /// Seconds an idle keep-alive connection stays open; 0 turns keep-alive off.
    pub keepalive_timeout_s: u64,
    /// Largest request header (request line and fields), in bytes.
    pub max_header_bytes: usize,
    /// Most header fields in one request.
    pub max_header_count: usize,
    /// Most client connections open at once on the `listen` addresses
    /// (the admin listener counts its own).
    pub max_connections: usize,
}

/// `[server] admin_token`: a bearer token (RFC 6750 `b64token` characters,
/// at least 16). `Debug` never shows it and there is no `Display`, so it
/// does not end up in logs or `/workers` by accident.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct AdminToken(String);

impl AdminToken {
    /// Shortest token accepted.
    pub const MIN_LEN: usize = 16;

    /// The token's bytes, for the constant-time comparison only.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Why the token cannot be used (without echoing it), if it cannot.
    fn problem(&self) -> Option<String> {
        let t = self.0.as_bytes();
        if t.len() < Self::MIN_LEN {
            return Some(format!("must be at least {} characters long", Self::MIN_LEN));
        }
        let body = t.iter().rposition(|b| *b != b'=').map_or(0, |i| i + 1);
        let b64 = |b: &u8| b.is_ascii_alphanumeric() || b"-._~+/".contains(b);
        if body == 0 || !t[..body].iter().all(b64) {
            return Some("use only letters, digits and - . _ ~ + / (then optional trailing =)".into());
        }
        None
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Default for ServerConfig {
    /// - `listen`: none; at least one address is required.
    /// - `admin`: none (no admin listener).
    /// - `threads`: the number of available cores.
    /// - `grace_period_seconds`: 5 (Pingora's own default is 300).
    /// - `graceful_shutdown_timeout_seconds`: 5.
    /// - `access_log`: true.
    /// - `admin_token`: none (the admin listener must then be on loopback).
    /// - `header_read_timeout_s`: 10 (nginx's `client_header_timeout` is 60,
    ///   Apache's `RequestReadTimeout` 20-40; a real client sends its header
    ///   in one go).
    /// - `body_idle_timeout_s`: 30 (nginx's `client_body_timeout` is 60).
    /// - `send_timeout_s`: 60 (nginx's `send_timeout`).
    /// - `keepalive_timeout_s`: 60 (Pingora's default).
    /// - `max_header_bytes`: 32768 (nginx: `large_client_header_buffers 4 8k`;
    ///   Pingora's own ceiling is 1 MiB).
    /// - `max_header_count`: 100 (Apache's `LimitRequestFields`; Pingora's
    ///   ceiling is 256).
    /// - `max_connections`: 4096.
    fn default() -> Self {
        ServerConfig {
            listen: Vec::new(),
            admin: None,
            threads: available_cores(),
            grace_period_seconds: 5,
            graceful_shutdown_timeout_seconds: 5,
            access_log: true,
            admin_token: None,
            header_read_timeout_s: 10,
            body_idle_timeout_s: 30,
            send_timeout_s: 60,
            keepalive_timeout_s: 60,
            max_header_bytes: 32 * 1024,
            max_header_count: 100,
            max_connections: 4096,
        }
    }
}

/// `[runtime]`: the V8 runtime and the default per-request limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub struct RuntimeConfig {
    /// Isolate threads (each runs isolates and their event loops).
    pub isolate_threads: usize,
    /// Requests and scheduled runs that may wait for one isolate thread;
    /// past it a request is refused at once with 503 and `Retry-After`.
    pub queue_limit: usize,
    /// CPU time a request's JavaScript may use, in milliseconds.
    pub cpu_ms: u64,
    /// Heap limit per isolate, in MiB.
    pub memory_mb: u64,
    /// `fetch()` calls allowed per request.
    pub subrequests: u32,
    /// CPU time a `scheduled()` run's JavaScript may use, in milliseconds.
    pub scheduled_cpu_ms: u64,
    /// Seconds a worker has to start its response before the client gets 504.
    pub request_timeout_s: u64,
    /// Where every worker's subrequests may connect (see `egress.rs`):
    /// CIDR blocks, addresses, or `public`, `private`, `local` (`loopback`),
    /// `network`, `self`. Workers extend it with their own `egress_allow`.
    pub egress_allow: Vec<String>,
    /// Addresses no worker's subrequests may connect to, even if allowed
    /// (unless a more specific allow CIDR matches): CIDR blocks, addresses,
    /// `private`, `local`. Workers extend it with their own `egress_deny`.
    pub egress_deny: Vec<String>,
    /// `http://HOST:PORT`: every subrequest that does not go to a route
    /// origin is sent there instead (workerd's `globalOutbound`). Workers
    /// may name their own.
    pub outbound: Option<String>,
}

impl Default for RuntimeConfig {
    /// - `isolate_threads`: the number of available cores.
    /// - `queue_limit`: 256 (`plugin_runtime::DEFAULT_QUEUE_LIMIT`).
    /// - `cpu_ms`: 50.
    /// - `memory_mb`: 128.
    /// - `subrequests`: 50.
    /// - `scheduled_cpu_ms`: 30000.
    /// - `request_timeout_s`: 60.
    /// - `egress_allow`: `["public"]` (workerd's default network).
    /// - `egress_deny`: none.
    /// - `outbound`: none (subrequests go where their URL says).
    fn default() -> Self {
        RuntimeConfig {
            isolate_threads: available_cores(),
            queue_limit: plugin_runtime::DEFAULT_QUEUE_LIMIT,
            cpu_ms: 50,
            memory_mb: 128,
            subrequests: 50,
            scheduled_cpu_ms: 30_000,
            request_timeout_s: 60,
            egress_allow: vec!["public".to_string()],
            egress_deny: Vec::new(),
            outbound: None,
        }
    }
}

impl RuntimeConfig {
    /// The default limits, for workers that override none.
    pub fn limits(&self) -> Limits {
        Limits {
            cpu_ms: self.cpu_ms,
            memory_mb: self.memory_mb,
            subrequests: self.subrequests,
            scheduled_cpu_ms: self.scheduled_cpu_ms,
            request_timeout_s: self.request_timeout_s,
        }
    }
}

/// The limits that apply to one worker: `[runtime]` with the worker's
/// `limits` overrides applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// CPU time a request's JavaScript may use, in milliseconds.
    pub cpu_ms: u64,
    /// Heap limit per isolate, in MiB.
    pub memory_mb: u64,
    /// `fetch()` calls allowed per request.
    pub subrequests: u32,
    /// CPU time a `scheduled()` run may use, in milliseconds.
    pub scheduled_cpu_ms: u64,
    /// Seconds before a response must start.
    pub request_timeout_s: u64,
}

/// A worker's `limits = { ... }`: overrides of `[runtime]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub struct WorkerLimits {
    /// Overrides `runtime.cpu_ms`. Default: none (inherit).
    pub cpu_ms: Option<u64>,
    /// Overrides `runtime.memory_mb`. Default: none (inherit).
    pub memory_mb: Option<u64>,
    /// Overrides `runtime.subrequests`. Default: none (inherit).
    pub subrequests: Option<u32>,
    /// Overrides `runtime.scheduled_cpu_ms`. Default: none (inherit).
    pub scheduled_cpu_ms: Option<u64>,
    /// Overrides `runtime.request_timeout_s`. Default: none (inherit).
    pub request_timeout_s: Option<u64>,
}

impl WorkerLimits {
    /// `defaults` with these overrides applied.
    pub fn resolve(&self, defaults: Limits) -> Limits {
        Limits {
            cpu_ms: self.cpu_ms.unwrap_or(defaults.cpu_ms),
            memory_mb: self.memory_mb.unwrap_or(defaults.memory_mb),
            subrequests: self.subrequests.unwrap_or(defaults.subrequests),
            scheduled_cpu_ms: self.scheduled_cpu_ms.unwrap_or(defaults.scheduled_cpu_ms),
            request_timeout_s: self.request_timeout_s.unwrap_or(defaults.request_timeout_s),
        }
    }
}

/// `[[workers]]`: one Workers script. `name` and `main` are required; the
/// other keys default as documented on each field.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub struct WorkerConfig {
    /// Unique name, `[A-Za-z0-9_-]+`.
    pub name: String,
    /// The ES module to run. Written relative to the config file's directory;
    /// after [`load`] or [`parse`], an absolute, canonical path to a readable file.
    pub main: PathBuf,
    /// `YYYY-MM-DD`, as in `wrangler.toml`. Default: none.
    #[serde(default)]
    pub compatibility_date: Option<String>,
    /// workerd compatibility flags. Default: none.
    #[serde(default)]
    pub compatibility_flags: Vec<String>,
    /// Cron expressions for `scheduled()`, as written (not validated here).
    /// Default: none.
    #[serde(default)]
    pub crons: Vec<String>,
    /// Plain `env` bindings. TOML strings stay strings; numbers, booleans,
    /// arrays and tables become JSON; datetimes become RFC 3339 strings.
    /// Default: none.
    #[serde(default, deserialize_with = "vars_as_json")]
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// Secret `env` bindings, `NAME = { env = "VAR" }`, read from the process
    /// environment at load. Default: none.
    #[serde(default)]
    pub secrets: BTreeMap<String, Secret>,
    /// Overrides of the `[runtime]` limits. Default: none.
    #[serde(default)]
    pub limits: WorkerLimits,
    /// The directory the worker's modules must stay under (symlinks
    /// followed), relative to the config file. Default: the directory of
    /// `main`. After [`load`] or [`parse`], absolute and canonical.
    #[serde(default)]
    pub root: Option<PathBuf>,
    /// Added to `runtime.egress_allow` for this worker. Default: none.
    #[serde(default)]
    pub egress_allow: Vec<String>,
    /// Added to `runtime.egress_deny` for this worker. Default: none.
    #[serde(default)]
    pub egress_deny: Vec<String>,
    /// Replaces `runtime.outbound` for this worker. Default: none (inherit).
    #[serde(default)]
    pub outbound: Option<String>,
}

impl WorkerConfig {
    /// The limits that apply to this worker.
    pub fn effective_limits(&self, runtime: &RuntimeConfig) -> Limits {
        self.limits.resolve(runtime.limits())
    }
}

/// A secret binding: where it comes from and its value. `Debug` never shows
/// the value, and there is no `Display`, so it does not end up in logs by
/// accident.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "SecretSource")]
pub struct Secret {
    env: String,
    value: String,
}

/// How a secret is written in the file: `{ env = "VAR" }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table like `{ env = \"VAR\" }`")]
struct SecretSource {
    env: String,
}

impl From<SecretSource> for Secret {
    fn from(source: SecretSource) -> Self {
        // The value is filled in by validation, which reads the environment.
        Secret {
            env: source.env,
            value: String::new(),
        }
    }
}

// Some accessors serve only the unit tests today; they are the module's API.
#[cfg_attr(not(test), allow(dead_code))]
impl Secret {
    /// A secret read from environment variable `env_var` with this `value`.
    pub fn new(env_var: impl Into<String>, value: impl Into<String>) -> Secret {
        Secret {
            env: env_var.into(),
            value: value.into(),
        }
    }

    /// The environment variable the value was read from.
    pub fn env_var(&self) -> &str {
        &self.env
    }

    /// The secret value. Hand it to the runtime only.
    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `[[routes]]`: a route pattern and what serves it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub struct RouteConfig {
    /// Workers route pattern, e.g. `*.example.com/api/*`. Required.
    #[serde(deserialize_with = "route_pattern")]
    pub pattern: RoutePattern,
    /// The worker that handles matching requests. Default: none (a plain
    /// proxy route). When set, names a configured worker.
    #[serde(default)]
    pub worker: Option<String>,
    /// Where `fetch()` to the route's own host (or, without a worker, the
    /// request itself) goes: `http://` or `https://`, a host, an optional port,
    /// no path, query or credentials. Default: none. A route has a worker, an
    /// origin, or both.
    #[serde(default, deserialize_with = "origin_url")]
    pub origin: Option<Url>,
}

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

/// Reads, parses and validates the configuration file at `path`; secrets come
/// from the process environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = fs::read_to_string(path).map_err(|error| ConfigError::Io {
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

// ---------------------------------------------------------------------------
// Validation after deserialising.

fn validate(config: &mut Config, doc: &Doc<'_>, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    validate_server(&config.server, doc)?;
    validate_runtime(&config.runtime, doc)?;
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for (i, worker) in config.workers.iter_mut().enumerate() {
        let at = [Seg::Key("workers"), Seg::Index(i)];
        validate_worker(worker, &at, doc, env)?;
        if let Some(&first) = names.get(&worker.name) {
            let path = [at[0], at[1], Seg::Key("name")];
            return Err(ConfigError::DuplicateWorker {
                at: doc.at(&path),
                key: key_string(&path),
                name: worker.name.clone(),
                first: doc.at(&[at[0], Seg::Index(first), Seg::Key("name")]),
            });
        }
        names.insert(worker.name.clone(), i);
    }
    for (i, route) in config.routes.iter().enumerate() {
        let at = [Seg::Key("routes"), Seg::Index(i)];
        if let Some(name) = &route.worker
            && !names.contains_key(name)
        {
            let path = [at[0], at[1], Seg::Key("worker")];
            return Err(ConfigError::UnknownWorker {
                at: doc.at(&path),
                key: key_string(&path),
                name: name.clone(),
            });
        }
        if route.worker.is_none() && route.origin.is_none() {
            return Err(doc.invalid(&at, "a route needs a `worker`, an `origin`, or both"));
        }
        if let Some(first) = config.routes[..i]
            .iter()
            .position(|earlier| earlier.pattern.same_requests(&route.pattern))
        {
            let path = [at[0], at[1], Seg::Key("pattern")];
            let first_path = [at[0], Seg::Index(first), Seg::Key("pattern")];
            return Err(ConfigError::DuplicatePattern {
                at: doc.at(&path),
                key: key_string(&path),
                pattern: route.pattern.as_str().to_owned(),
                first_key: key_string(&first_path),
                first: doc.at(&first_path),
            });
        }
    }
    Ok(())
}

fn validate_server(server: &ServerConfig, doc: &Doc<'_>) -> Result<(), ConfigError> {
    let listen = [Seg::Key("server"), Seg::Key("listen")];
    if server.listen.is_empty() {
        return Err(doc.invalid(&listen, "at least one listen address is required"));
    }
    let mut seen: Vec<SocketAddr> = Vec::new();
    for (i, addr) in server.listen.iter().enumerate() {
        let path = [listen[0], listen[1], Seg::Index(i)];
        let parsed = socket_addr(addr).map_err(|reason| doc.invalid(&path, reason))?;
        if seen.contains(&parsed) {
            return Err(doc.invalid(&path, format!("{addr:?} is listed twice")));
        }
        seen.push(parsed);
    }
    let key = |k| [Seg::Key("server"), Seg::Key(k)];
    if let Some(token) = &server.admin_token
        && let Some(problem) = token.problem()
    {
        return Err(doc.invalid(&key("admin_token"), problem));
    }
    if let Some(admin) = &server.admin {
        let path = [Seg::Key("server"), Seg::Key("admin")];
        let parsed = socket_addr(admin).map_err(|reason| doc.invalid(&path, reason))?;
        if seen.contains(&parsed) {
            return Err(doc.invalid(&path, format!("{admin:?} is also a listen address")));
        }
        if !parsed.ip().is_loopback() && server.admin_token.is_none() {
            return Err(doc.invalid(
                &path,
                format!(
                    "{admin:?} is not a loopback address: set server.admin_token to expose the admin listener beyond this host"
                ),
            ));
        }
    }
    at_least_one(server.threads as u64, &key("threads"), doc)?;
    at_least_one(server.header_read_timeout_s, &key("header_read_timeout_s"), doc)?;
    at_least_one(server.body_idle_timeout_s, &key("body_idle_timeout_s"), doc)?;
    at_least_one(server.send_timeout_s, &key("send_timeout_s"), doc)?;
    at_least_one(server.max_connections as u64, &key("max_connections"), doc)?;
    // Pingora refuses larger headers itself (with a 400 and no log line).
    if !(1024..=PINGORA_MAX_HEADER_BYTES).contains(&server.max_header_bytes) {
        return Err(doc.invalid(
            &key("max_header_bytes"),
            format!("must be between 1024 and {PINGORA_MAX_HEADER_BYTES}"),
        ));
    }
    if !(1..=PINGORA_MAX_HEADER_COUNT).contains(&server.max_header_count) {
        return Err(doc.invalid(
            &key("max_header_count"),
            format!("must be between 1 and {PINGORA_MAX_HEADER_COUNT}"),
        ));
    }
    Ok(())
}

/// Pingora's own ceilings (`pingora-core` `MAX_HEADER_SIZE`, `MAX_HEADERS`).
const PINGORA_MAX_HEADER_BYTES: usize = 1_048_575;
const PINGORA_MAX_HEADER_COUNT: usize = 256;

fn validate_runtime(runtime: &RuntimeConfig, doc: &Doc<'_>) -> Result<(), ConfigError> {
    let key = |k| [Seg::Key("runtime"), Seg::Key(k)];
    at_least_one(runtime.isolate_threads as u64, &key("isolate_threads"), doc)?;
    at_least_one(runtime.queue_limit as u64, &key("queue_limit"), doc)?;
    at_least_one(runtime.cpu_ms, &key("cpu_ms"), doc)?;
    at_least_one(runtime.memory_mb, &key("memory_mb"), doc)?;
    at_least_one(u64::from(runtime.subrequests), &key("subrequests"), doc)?;
    validate_egress(&runtime.egress_allow, &runtime.egress_deny, &[Seg::Key("runtime")], doc)?;
    validate_outbound(runtime.outbound.as_deref(), &[Seg::Key("runtime")], doc)
}

/// Checks an `outbound` under `at`: `http://HOST[:PORT]`, nothing else.
fn validate_outbound(outbound: Option<&str>, at: &[Seg<'_>], doc: &Doc<'_>) -> Result<(), ConfigError> {
    let Some(text) = outbound else { return Ok(()) };
    let reason = match check_origin(text) {
        Ok(url) if url.scheme() == "http" => return Ok(()),
        Ok(_) => "outbound must be http:// (subrequests go to it as plain HTTP/1.1)".to_string(),
        Err(e) => e.replace("origin", "outbound"),
    };
    let mut path = at.to_vec();
    path.push(Seg::Key("outbound"));
    Err(doc.invalid(&path, reason))
}

/// Checks `egress_allow` / `egress_deny` entries under `at`.
fn validate_egress(allow: &[String], deny: &[String], at: &[Seg<'_>], doc: &Doc<'_>) -> Result<(), ConfigError> {
    for (key, list, is_deny) in [("egress_allow", allow, false), ("egress_deny", deny, true)] {
        for (i, entry) in list.iter().enumerate() {
            if let Err(reason) = crate::egress::Rule::parse(entry, is_deny) {
                let mut path = at.to_vec();
                path.extend([Seg::Key(key), Seg::Index(i)]);
                return Err(doc.invalid(&path, reason));
            }
        }
    }
    Ok(())
}

fn validate_worker(
    worker: &mut WorkerConfig,
    at: &[Seg<'_>; 2],
    doc: &Doc<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let field = |k| [at[0], at[1], Seg::Key(k)];

    if worker.name.is_empty() || !worker.name.bytes().all(is_name_byte) {
        return Err(doc.invalid(
            &field("name"),
            format!(
                "invalid worker name {:?}: use letters, digits, `_` and `-`",
                worker.name
            ),
        ));
    }

    worker.main = resolve_script(&worker.main, doc.file).map_err(|error| {
        let path = field("main");
        ConfigError::MissingScript {
            at: doc.at(&path),
            key: key_string(&path),
            script: worker.main.clone(),
            error,
        }
    })?;

    if let Some(root) = &worker.root {
        let dir = match doc.file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let resolved = dir.join(root).canonicalize().map_err(|e| {
            doc.invalid(
                &field("root"),
                format!("cannot use {}: {}", root.display(), io_reason(&e)),
            )
        })?;
        if !resolved.is_dir() {
            return Err(doc.invalid(&field("root"), format!("{} is not a directory", root.display())));
        }
        if !worker.main.starts_with(&resolved) {
            return Err(doc.invalid(&field("root"), format!("`main` is not inside {}", root.display())));
        }
        worker.root = Some(resolved);
    }

    if let Some(date) = &worker.compatibility_date
        && !is_valid_date(date)
    {
        return Err(doc.invalid(
            &field("compatibility_date"),
            format!("{date:?} is not a date in the form YYYY-MM-DD"),
        ));
    }

    // workerd refuses to load a worker with an unknown, repeated or
    // contradictory flag; so do we.
    if let Err((i, error)) =
        plugin_runtime::CompatFlags::resolve(worker.compatibility_date.as_deref(), &worker.compatibility_flags)
    {
        let path = [at[0], at[1], Seg::Key("compatibility_flags"), Seg::Index(i)];
        return Err(doc.invalid(&path, error.to_string()));
    }

    for (name, secret) in worker.secrets.iter_mut() {
        let path = [at[0], at[1], Seg::Key("secrets"), Seg::Key(name)];
        if worker.vars.contains_key(name) {
            return Err(ConfigError::Invalid {
                at: doc.at_key(&path),
                key: key_string(&path),
                reason: format!("{name:?} is both a var and a secret"),
            });
        }
        if secret.env.is_empty() || secret.env.contains(['=', '\0']) {
            let env_path = [path[0], path[1], path[2], path[3], Seg::Key("env")];
            return Err(doc.invalid(
                &env_path,
                format!("{:?} is not an environment variable name", secret.env),
            ));
        }
        match env(&secret.env) {
            Some(value) => secret.value = value,
            None => {
                return Err(ConfigError::MissingSecret {
                    at: doc.at(&path),
                    key: key_string(&path),
                    worker: worker.name.clone(),
                    secret: name.clone(),
                    env: secret.env.clone(),
                });
            }
        }
    }

    let limits = [at[0], at[1], Seg::Key("limits")];
    let limit = |k| [limits[0], limits[1], limits[2], Seg::Key(k)];
    if let Some(v) = worker.limits.cpu_ms {
        at_least_one(v, &limit("cpu_ms"), doc)?;
    }
    if let Some(v) = worker.limits.memory_mb {
        at_least_one(v, &limit("memory_mb"), doc)?;
    }
    if let Some(v) = worker.limits.subrequests {
        at_least_one(u64::from(v), &limit("subrequests"), doc)?;
    }
    validate_egress(&worker.egress_allow, &worker.egress_deny, at, doc)?;
    validate_outbound(worker.outbound.as_deref(), at, doc)
}

fn at_least_one(value: u64, path: &[Seg<'_>], doc: &Doc<'_>) -> Result<(), ConfigError> {
    if value == 0 {
        return Err(doc.invalid(path, "must be at least 1"));
    }
    Ok(())
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn socket_addr(addr: &str) -> Result<SocketAddr, String> {
    addr.parse()
        .map_err(|_| format!("{addr:?} is not a socket address such as 127.0.0.1:8080 or [::1]:8080"))
}

/// `main` joined to the config file's directory, canonicalised, and checked
/// to be a readable regular file.
fn resolve_script(main: &Path, config_file: &Path) -> io::Result<PathBuf> {
    let dir = match config_file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let path = dir.join(main).canonicalize()?;
    let meta = fs::metadata(&path)?;
    if meta.is_dir() {
        return Err(io::ErrorKind::IsADirectory.into());
    }
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    fs::File::open(&path)?;
    Ok(path)
}

/// `YYYY-MM-DD` with a real month and day.
fn is_valid_date(date: &str) -> bool {
    let b = date.as_bytes();
    let digits = |r: Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
        return false;
    }
    let num = |r: Range<usize>| date[r].parse::<u32>().unwrap_or(0);
    let (year, month, day) = (num(0..4), num(5..7), num(8..10));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

// ---------------------------------------------------------------------------
// Field deserialisers.

fn route_pattern<'de, D: serde::Deserializer<'de>>(d: D) -> Result<RoutePattern, D::Error> {
    let text = String::deserialize(d)?;
    // `Doc::schema_error` re-parses to turn this into `BadPattern`.
    RoutePattern::parse(&text).map_err(D::Error::custom)
}

fn origin_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    let text = String::deserialize(d)?;
    // `Doc::schema_error` re-checks to turn this into `BadOrigin`.
    check_origin(&text).map(Some).map_err(D::Error::custom)
}

fn check_origin(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("origin scheme must be http or https, not {:?}", url.scheme()));
    }
    if url.host().is_none() {
        return Err(format!("origin {text:?} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("origin must not contain credentials".to_owned());
    }
    if url.path() != "/" {
        return Err(format!(
            "origin must not have a path ({:?}); rewrite paths in the worker",
            url.path()
        ));
    }
    if url.query().is_some() {
        return Err("origin must not have a query string".to_owned());
    }
    if url.fragment().is_some() {
        return Err("origin must not have a fragment".to_owned());
    }
    Ok(url)
}

fn vars_as_json<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<serde_json::Map<String, serde_json::Value>, D::Error> {
    let table = toml::Table::deserialize(d)?;
    table
        .into_iter()
        .map(|(k, v)| {
            let v = toml_to_json(v, &k).map_err(D::Error::custom)?;
            Ok((k, v))
        })
        .collect()
}

fn toml_to_json(value: toml::Value, key: &str) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match value {
        toml::Value::String(s) => J::String(s),
        toml::Value::Integer(i) => J::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map(J::Number)
            .ok_or_else(|| format!("`{key}` is {f}, which JSON cannot represent"))?,
        toml::Value::Boolean(b) => J::Bool(b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => J::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| toml_to_json(v, &format!("{key}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => J::Object(
            table
                .into_iter()
                .map(|(k, v)| {
                    let v = toml_to_json(v, &format!("{key}.{k}"))?;
                    Ok((k, v))
                })
                .collect::<Result<_, String>>()?,
        ),
    })
}

// ---------------------------------------------------------------------------
// Positions: a spanned parse of the file, to turn key paths into line:column
// and error spans into key paths.

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// `routes[1].worker`; keys that are not bare TOML keys are quoted.
fn key_string(path: &[Seg<'_>]) -> String {
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

fn key_prefix(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("{key}: ")
    }
}

/// `io::Error`'s message without the trailing ` (os error N)`.
fn io_reason(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_owned(),
        _ => text,
    }
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.contains(&offset) || (span.is_empty() && span.start == offset)
}

/// A key's span and its value, in a [`Doc`].
type Entry<'d, 'a> = (Range<usize>, &'d toml::Spanned<DeValue<'a>>);

/// The configuration text with its spanned parse.
struct Doc<'a> {
    text: &'a str,
    file: &'a Path,
    /// `file`, shared by every [`Location`].
    shared_file: Arc<Path>,
    root: DeTable<'a>,
}

impl<'a> Doc<'a> {
    /// Parses `text`'s syntax; a syntax error is reported here.
    fn parse(text: &'a str, file: &'a Path) -> Result<Doc<'a>, ConfigError> {
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
    fn schema_error(&self, e: &toml::de::Error) -> ConfigError {
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

    fn invalid(&self, path: &[Seg<'_>], reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            at: self.at(path),
            key: key_string(path),
            reason: reason.into(),
        }
    }

    /// Where the value at `path` starts (or its nearest existing ancestor,
    /// or the start of the file).
    fn at(&self, path: &[Seg<'_>]) -> Location {
        self.location(self.spans(path).map_or(0, |(_, value)| value.start))
    }

    /// Where the key at `path` starts (falls back like [`Doc::at`]).
    fn at_key(&self, path: &[Seg<'_>]) -> Location {
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
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let saturate = |n: usize| u32::try_from(n + 1).unwrap_or(u32::MAX);
        Location {
            file: Arc::clone(&self.shared_file),
            line: saturate(before.matches('\n').count()),
            column: saturate(before[line_start..].chars().count()),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A temporary tree `conf/isoproxy.toml` + `scripts/*.js`, removed on drop.
    struct Fixture {
        dir: PathBuf,
        conf: PathBuf,
    }

    impl Fixture {
        fn new() -> Fixture {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("isoproxy-config-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("conf")).unwrap();
            fs::create_dir_all(dir.join("scripts/dir.js")).unwrap();
            fs::write(dir.join("scripts/rewrite.js"), "export default {};\n").unwrap();
            fs::write(dir.join("scripts/other.js"), "export default {};\n").unwrap();
            let conf = dir.join("conf/isoproxy.toml");
            Fixture { dir, conf }
        }

        fn parse(&self, text: &str) -> Result<Config, ConfigError> {
            parse_with_env(text, &self.conf, &|name| match name {
                "API_TOKEN" => Some("s3cret".to_owned()),
                "EMPTY" => Some(String::new()),
                _ => None,
            })
        }

        fn ok(&self, text: &str) -> Config {
            self.parse(text).unwrap_or_else(|e| panic!("{e}"))
        }

        /// The error's message, with the fixture's path shown as
        /// `conf/isoproxy.toml`.
        fn err(&self, text: &str) -> (ConfigError, String) {
            let e = self.parse(text).expect_err("config should be rejected");
            let msg = e.to_string();
            let prefix = self.conf.display().to_string();
            assert!(msg.starts_with(&prefix), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
            assert_eq!(*e.location().unwrap().file, *self.conf);
            (e, format!("conf/isoproxy.toml{}", &msg[prefix.len()..]))
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }

    const SERVER: &str = "[server]\nlisten = [\"127.0.0.1:8080\"]\n";

    /// A `[server]` and one worker `a`, then `extra` from line 6 on.
    fn with_worker(extra: &str) -> String {
        format!("{SERVER}[[workers]]\nname = \"a\"\nmain = \"../scripts/rewrite.js\"\n{extra}")
    }

    /// A `[server]`, then `extra` from line 3 on.
    fn with_server(extra: &str) -> String {
        format!("{SERVER}{extra}")
    }

    #[test]
    fn admin_token_opens_a_public_admin_listener_and_stays_hidden() {
        let f = Fixture::new();
        let config = f.ok("[server]\nlisten = [\"127.0.0.1:8080\"]\nadmin = \"0.0.0.0:9090\"\n\
             admin_token = \"s3cr3t-t0ken-0123456789==\"\n");
        let token = config.server.admin_token.as_ref().unwrap();
        assert_eq!(token.expose(), b"s3cr3t-t0ken-0123456789==");
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("admin_token: Some(<redacted>)"), "{debug}");
        // A bad token's message does not echo it.
        let (_, msg) = f.err("[server]\nlisten = [\"127.0.0.1:8080\"]\nadmin_token = \"s3cr3t\"\n");
        assert!(!msg.contains("s3cr3t"), "{msg}");
    }

    #[test]
    fn defaults() {
        let f = Fixture::new();
        let config = f.ok(SERVER);
        let cores = available_cores();
        assert_eq!(
            config.server,
            ServerConfig {
                listen: vec!["127.0.0.1:8080".into()],
                admin: None,
                threads: cores,
                grace_period_seconds: 5,
                graceful_shutdown_timeout_seconds: 5,
                access_log: true,
                admin_token: None,
                header_read_timeout_s: 10,
                body_idle_timeout_s: 30,
                send_timeout_s: 60,
                keepalive_timeout_s: 60,
                max_header_bytes: 32768,
                max_header_count: 100,
                max_connections: 4096,
            }
        );
        assert_eq!(
            config.runtime,
            RuntimeConfig {
                isolate_threads: cores,
                queue_limit: 256,
                cpu_ms: 50,
                memory_mb: 128,
                subrequests: 50,
                scheduled_cpu_ms: 30_000,
                request_timeout_s: 60,
                egress_allow: vec!["public".into()],
                egress_deny: vec![],
                outbound: None,
            }
        );
        assert_eq!(config.runtime, RuntimeConfig::default());
        assert!(config.workers.is_empty());
        assert!(config.routes.is_empty());

        let config = f.ok(&with_worker(""));
        let w = &config.workers[0];
        assert_eq!(w.compatibility_date, None);
        assert!(w.compatibility_flags.is_empty() && w.crons.is_empty());
        assert!(w.vars.is_empty() && w.secrets.is_empty());
        assert_eq!(w.limits, WorkerLimits::default());
        assert_eq!(
            w.effective_limits(&config.runtime),
            Limits {
                cpu_ms: 50,
                memory_mb: 128,
                subrequests: 50,
                scheduled_cpu_ms: 30_000,
                request_timeout_s: 60
            }
        );
    }

    #[test]
    fn design_example() {
        let f = Fixture::new();
        let text = r#"
[server]
listen = ["127.0.0.1:8080", "[::1]:8080"]
admin  = "127.0.0.1:9090"
threads = 2
grace_period_seconds = 1
graceful_shutdown_timeout_seconds = 2

[runtime]
isolate_threads = 3
cpu_ms = 40
memory_mb = 64
subrequests = 20

[[workers]]
name = "rewrite"
main = "../scripts/rewrite.js"
compatibility_date = "2024-02-29"
compatibility_flags = ["nodejs_compat"]
crons = ["*/5 * * * *"]
vars = { NODE_NAME = "edge-1" }
secrets = { API_TOKEN = { env = "API_TOKEN" } }
limits = { cpu_ms = 100, subrequests = 5 }

[[workers]]
name = "other_2"
main = "../conf/../scripts/other.js"

[[routes]]
pattern = "example.com/*"
worker  = "rewrite"
origin  = "http://127.0.0.1:3000"

[[routes]]
pattern = "*.example.com/api/*"
origin  = "https://api.internal:8443/"
"#;
        let config = f.ok(text);
        assert_eq!(config.server.listen, ["127.0.0.1:8080", "[::1]:8080"]);
        assert_eq!(config.server.admin.as_deref(), Some("127.0.0.1:9090"));
        assert_eq!(config.server.threads, 2);
        assert_eq!(config.server.grace_period_seconds, 1);
        assert_eq!(config.server.graceful_shutdown_timeout_seconds, 2);
        assert_eq!(
            config.runtime,
            RuntimeConfig {
                isolate_threads: 3,
                queue_limit: 256,
                cpu_ms: 40,
                memory_mb: 64,
                subrequests: 20,
                scheduled_cpu_ms: 30_000,
                request_timeout_s: 60,
                egress_allow: vec!["public".into()],
                egress_deny: vec![],
                outbound: None,
            }
        );

        let scripts = f.dir.join("scripts").canonicalize().unwrap();
        let w = config.worker("rewrite").unwrap();
        assert_eq!(w.main, scripts.join("rewrite.js"));
        assert!(w.main.is_absolute());
        assert_eq!(w.compatibility_date.as_deref(), Some("2024-02-29"));
        assert_eq!(w.compatibility_flags, ["nodejs_compat"]);
        assert_eq!(w.crons, ["*/5 * * * *"]);
        assert_eq!(w.vars["NODE_NAME"], serde_json::json!("edge-1"));
        let secret = &w.secrets["API_TOKEN"];
        assert_eq!(secret.expose(), "s3cret");
        assert_eq!(secret.env_var(), "API_TOKEN");
        assert_eq!(
            w.effective_limits(&config.runtime),
            Limits {
                cpu_ms: 100,
                memory_mb: 64,
                subrequests: 5,
                scheduled_cpu_ms: 30_000,
                request_timeout_s: 60
            }
        );
        assert_eq!(config.worker("other_2").unwrap().main, scripts.join("other.js"));
        assert!(config.worker("nope").is_none());

        let r = &config.routes[0];
        assert_eq!(r.pattern.as_str(), "example.com/*");
        assert_eq!(r.worker.as_deref(), Some("rewrite"));
        assert_eq!(r.origin.as_ref().unwrap().as_str(), "http://127.0.0.1:3000/");
        let r = &config.routes[1];
        assert_eq!(r.worker, None);
        let origin = r.origin.as_ref().unwrap();
        assert_eq!(origin.scheme(), "https");
        assert_eq!(origin.host_str(), Some("api.internal"));
        assert_eq!(origin.port_or_known_default(), Some(8443));
    }

    #[test]
    fn root_widens_to_a_directory_holding_main() {
        let f = Fixture::new();
        let config = f.ok(&with_worker("root = \"..\"\n"));
        assert_eq!(
            config.workers[0].root.as_deref(),
            Some(f.dir.canonicalize().unwrap().as_path())
        );
        assert_eq!(f.ok(&with_worker("")).workers[0].root, None);
    }

    #[test]
    fn secrets_are_redacted() {
        let f = Fixture::new();
        let config = f.ok(&with_worker(
            "secrets = { API_TOKEN = { env = \"API_TOKEN\" }, E = { env = \"EMPTY\" } }\n",
        ));
        let w = &config.workers[0];
        assert_eq!(w.secrets["E"].expose(), "");
        assert_eq!(format!("{:?}", w.secrets["API_TOKEN"]), "<redacted>");
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("<redacted>"));
        assert_eq!(Secret::new("V", "x").expose(), "x");
    }

    #[test]
    fn parse_reads_the_process_environment() {
        // Any variable the test process already has; none is set here.
        let Some((name, value)) = std::env::vars().find(|(k, _)| !k.is_empty()) else {
            return;
        };
        let f = Fixture::new();
        let text = with_worker(&format!("secrets = {{ S = {{ env = {name:?} }} }}\n"));
        let config = parse(&text, &f.conf).unwrap();
        assert_eq!(config.workers[0].secrets["S"].expose(), value);
    }

    #[test]
    fn vars_become_json() {
        let f = Fixture::new();
        let config = f.ok(&with_worker(
            r#"[workers.vars]
S = "text"
I = -3
F = 1.5
B = true
D = 1979-05-27T07:32:00Z
L = 1979-05-27
A = [1, "two", { three = 3 }]
T = { nested = { deep = [true] } }
"with space" = "ok"
"#,
        ));
        let vars = serde_json::Value::Object(config.workers[0].vars.clone());
        assert_eq!(
            vars,
            serde_json::json!({
                "S": "text",
                "I": -3,
                "F": 1.5,
                "B": true,
                "D": "1979-05-27T07:32:00Z",
                "L": "1979-05-27",
                "A": [1, "two", { "three": 3 }],
                "T": { "nested": { "deep": [true] } },
                "with space": "ok",
            })
        );
    }

    #[test]
    fn load_reads_the_file() {
        let f = Fixture::new();
        fs::write(&f.conf, with_worker("")).unwrap();
        let config = load(&f.conf).unwrap();
        assert_eq!(config.workers[0].name, "a");

        let missing = f.dir.join("conf/missing.toml");
        let e = load(&missing).unwrap_err();
        assert!(matches!(e, ConfigError::Io { .. }));
        assert_eq!(
            e.to_string(),
            format!("{}: cannot read: No such file or directory", missing.display())
        );
        assert!(e.location().is_none() && e.key().is_none());
    }

    #[test]
    fn relative_config_path_resolves_against_cwd() {
        // A bare file name has an empty parent: scripts resolve from `.`.
        let config = parse_with_env(
            "[server]\nlisten = [\"127.0.0.1:1\"]\n[[workers]]\nname = \"a\"\nmain = \"Cargo.toml\"\n",
            Path::new("isoproxy.toml"),
            &|_| None,
        )
        .unwrap();
        assert_eq!(config.workers[0].main, Path::new("Cargo.toml").canonicalize().unwrap());
    }

    /// Every error, with its exact one-line message.
    #[test]
    fn error_messages() {
        let f = Fixture::new();
        let cases: &[(&str, &str)] = &[
            // Syntax and schema.
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"\n",
                "2:27: unclosed array, expected `]`",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nlisten = []\n",
                "3:1: duplicate key `listen`",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:80\"]\n[server]\n",
                "3:2: duplicate key `server`",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:80\"]\nx = 1979-13-01\n",
                "3:5: server.x: invalid date, expected month between 01 and 12",
            ),
            ("", "1:1: missing field `server`"),
            (
                "[servr]\nlisten = []\n",
                "1:2: unknown field `servr`, expected one of `server`, `runtime`, `workers`, `routes`",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\n\n[[workers]]\nname = \"a\"\nmian = \"x\"\n",
                "6:1: workers[0]: unknown field `mian`, expected one of `name`, `main`, \
                 `compatibility_date`, `compatibility_flags`, `crons`, `vars`, `secrets`, `limits`, `root`, \
                 `egress_allow`, `egress_deny`, `outbound`",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nthreads = \"two\"\n",
                "3:11: server.threads: invalid type: string \"two\", expected usize",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nthreads = -1\n",
                "3:11: server.threads: invalid value: integer `-1`, expected usize",
            ),
            (
                "[server]\nlisten = \"127.0.0.1:8080\"\n",
                "2:10: server.listen: invalid type: string \"127.0.0.1:8080\", expected a sequence",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\n[[workers]]\nname = \"a\"\n",
                "3:1: workers[0]: missing field `main`",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\n[runtime]\nthreads = 1\n",
                "4:1: runtime: unknown field `threads`, expected one of `isolate_threads`, `queue_limit`, \
                 `cpu_ms`, `memory_mb`, `subrequests`, `scheduled_cpu_ms`, `request_timeout_s`, \
                 `egress_allow`, `egress_deny`, `outbound`",
            ),
            (
                "server = 3\n",
                "1:10: server: invalid type: integer `3`, expected a table",
            ),
            (
                &with_server("[[routes]]\npattern = \"a.com/*\"\nworker = \"a\"\nlimits = 2\n"),
                "6:1: routes[0]: unknown field `limits`, expected one of `pattern`, `worker`, `origin`",
            ),
            (
                &with_worker("limits = 2\n"),
                "6:10: workers[0].limits: invalid type: integer `2`, expected a table",
            ),
            // [server]
            (
                "[server]\n",
                "1:1: server.listen: at least one listen address is required",
            ),
            (
                "[server]\nlisten = []\n",
                "2:10: server.listen: at least one listen address is required",
            ),
            (
                "[server]\nlisten = [\"localhost:80\"]\n",
                "2:11: server.listen[0]: \"localhost:80\" is not a socket address such as \
                 127.0.0.1:8080 or [::1]:8080",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:80\", \"127.0.0.1:80\"]\n",
                "2:27: server.listen[1]: \"127.0.0.1:80\" is listed twice",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nadmin = \"127.0.0.1:8080\"\n",
                "3:9: server.admin: \"127.0.0.1:8080\" is also a listen address",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nadmin = \"9090\"\n",
                "3:9: server.admin: \"9090\" is not a socket address such as 127.0.0.1:8080 or [::1]:8080",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nthreads = 0\n",
                "3:11: server.threads: must be at least 1",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nadmin = \"0.0.0.0:9090\"\n",
                "3:9: server.admin: \"0.0.0.0:9090\" is not a loopback address: set server.admin_token \
                 to expose the admin listener beyond this host",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nadmin = \"[::]:9090\"\n",
                "3:9: server.admin: \"[::]:9090\" is not a loopback address: set server.admin_token \
                 to expose the admin listener beyond this host",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nadmin_token = \"short\"\n",
                "3:15: server.admin_token: must be at least 16 characters long",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nadmin_token = \"0123456789abcdef ghi\"\n",
                "3:15: server.admin_token: use only letters, digits and - . _ ~ + / (then optional trailing =)",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nadmin_token = \"================\"\n",
                "3:15: server.admin_token: use only letters, digits and - . _ ~ + / (then optional trailing =)",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nheader_read_timeout_s = 0\n",
                "3:25: server.header_read_timeout_s: must be at least 1",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nbody_idle_timeout_s = 0\n",
                "3:23: server.body_idle_timeout_s: must be at least 1",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nsend_timeout_s = 0\n",
                "3:18: server.send_timeout_s: must be at least 1",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nmax_connections = 0\n",
                "3:19: server.max_connections: must be at least 1",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nmax_header_bytes = 100\n",
                "3:20: server.max_header_bytes: must be between 1024 and 1048575",
            ),
            (
                "[server]\nlisten = [\"127.0.0.1:8080\"]\nmax_header_count = 257\n",
                "3:20: server.max_header_count: must be between 1 and 256",
            ),
            // [runtime]
            (
                &with_server("[runtime]\ncpu_ms = 0\n"),
                "4:10: runtime.cpu_ms: must be at least 1",
            ),
            (
                &with_server("[runtime]\nisolate_threads = 0\n"),
                "4:19: runtime.isolate_threads: must be at least 1",
            ),
            (
                &with_server("[runtime]\nmemory_mb = 0\n"),
                "4:13: runtime.memory_mb: must be at least 1",
            ),
            (
                &with_server("[runtime]\nsubrequests = 0\n"),
                "4:15: runtime.subrequests: must be at least 1",
            ),
            (
                &with_server("[runtime]\negress_allow = [\"public\", \"intranet\"]\n"),
                "4:27: runtime.egress_allow[1]: \"intranet\" is not a CIDR block (like \"10.1.0.0/16\"), \
                 an address, or one of \"public\", \"private\", \"local\", \"network\", \"self\"",
            ),
            (
                &with_server("[runtime]\negress_deny = [\"public\"]\n"),
                "4:16: runtime.egress_deny[0]: \"public\" cannot be denied: allow less instead \
                 (deny \"private\", \"local\" or a CIDR block)",
            ),
            (
                &with_server("[runtime]\noutbound = \"https://gw.internal:3128\"\n"),
                "4:12: runtime.outbound: outbound must be http:// (subrequests go to it as plain HTTP/1.1)",
            ),
            (
                &with_worker("outbound = \"http://gw.internal:3128/path\"\n"),
                "6:12: workers[0].outbound: outbound must not have a path (\"/path\"); rewrite paths in the worker",
            ),
            (
                &with_worker("egress_allow = [\"10.0.0.0/33\"]\n"),
                "6:17: workers[0].egress_allow[0]: \"10.0.0.0/33\" is not a CIDR block (like \"10.1.0.0/16\"), \
                 an address, or one of \"public\", \"private\", \"local\", \"network\", \"self\"",
            ),
            // [[workers]]
            (
                &with_server("[[workers]]\nname = \"a b\"\nmain = \"../scripts/rewrite.js\"\n"),
                "4:8: workers[0].name: invalid worker name \"a b\": use letters, digits, `_` and `-`",
            ),
            (
                &with_server("[[workers]]\nname = \"\"\nmain = \"../scripts/rewrite.js\"\n"),
                "4:8: workers[0].name: invalid worker name \"\": use letters, digits, `_` and `-`",
            ),
            (
                &with_worker("[[workers]]\nname = \"a\"\nmain = \"../scripts/other.js\"\n"),
                "7:8: workers[1].name: duplicate worker name \"a\" (first defined at line 4)",
            ),
            (
                &with_server("[[workers]]\nname = \"a\"\nmain = \"../scripts/missing.js\"\n"),
                "5:8: workers[0].main: cannot read ../scripts/missing.js: No such file or directory",
            ),
            (
                &with_server("[[workers]]\nname = \"a\"\nmain = \"../scripts/dir.js\"\n"),
                "5:8: workers[0].main: cannot read ../scripts/dir.js: is a directory",
            ),
            (
                &with_worker("root = \"../nowhere\"\n"),
                "6:8: workers[0].root: cannot use ../nowhere: No such file or directory",
            ),
            (
                &with_worker("root = \"../scripts/rewrite.js\"\n"),
                "6:8: workers[0].root: ../scripts/rewrite.js is not a directory",
            ),
            (
                &with_worker("root = \"../scripts/dir.js\"\n"),
                "6:8: workers[0].root: `main` is not inside ../scripts/dir.js",
            ),
            (
                &with_worker("compatibility_date = \"2026-02-30\"\n"),
                "6:22: workers[0].compatibility_date: \"2026-02-30\" is not a date in the form YYYY-MM-DD",
            ),
            (
                &with_worker("compatibility_date = \"26-1-1\"\n"),
                "6:22: workers[0].compatibility_date: \"26-1-1\" is not a date in the form YYYY-MM-DD",
            ),
            (
                &with_worker("compatibility_flags = [\"nodejs_compat\", \"no-way\"]\n"),
                "6:41: workers[0].compatibility_flags[1]: No such compatibility flag: no-way",
            ),
            (
                &with_worker("compatibility_flags = [\"url_standard\", \"url_original\"]\n"),
                "6:40: workers[0].compatibility_flags[1]: Compatibility flags are mutually \
                 contradictory: url_standard vs url_original",
            ),
            (
                &with_worker("crons = \"* * * * *\"\n"),
                "6:9: workers[0].crons: invalid type: string \"* * * * *\", expected a sequence",
            ),
            (
                &with_worker("secrets = { TOKEN = { env = \"NOPE\" } }\n"),
                "6:21: workers[0].secrets.TOKEN: environment variable NOPE is not set \
                 (secret TOKEN of worker \"a\")",
            ),
            (
                &with_worker("secrets = { TOKEN = { env = \"\" } }\n"),
                "6:29: workers[0].secrets.TOKEN.env: \"\" is not an environment variable name",
            ),
            (
                &with_worker("secrets = { TOKEN = { env = \"API_TOKEN\", value = \"x\" } }\n"),
                "6:42: workers[0].secrets.TOKEN: unknown field `value`, expected `env`",
            ),
            (
                &with_worker("secrets = { TOKEN = \"API_TOKEN\" }\n"),
                "6:21: workers[0].secrets.TOKEN: invalid type: string \"API_TOKEN\", expected a table like `{ env = \"VAR\" }`",
            ),
            (
                &with_worker("vars = { TOKEN = \"x\" }\nsecrets = { TOKEN = { env = \"API_TOKEN\" } }\n"),
                "7:13: workers[0].secrets.TOKEN: \"TOKEN\" is both a var and a secret",
            ),
            (
                &with_worker("vars = { X = nan }\n"),
                "6:8: workers[0].vars: `X` is NaN, which JSON cannot represent",
            ),
            (
                &with_worker("[workers.vars]\nA = 1\nB = { C = [1, inf] }\n"),
                "6:1: workers[0].vars: `B.C[1]` is inf, which JSON cannot represent",
            ),
            (
                &with_worker("limits = { memory_mb = 0 }\n"),
                "6:24: workers[0].limits.memory_mb: must be at least 1",
            ),
            (
                &with_worker("limits = { cpu_ms = 0 }\n"),
                "6:21: workers[0].limits.cpu_ms: must be at least 1",
            ),
            (
                &with_worker("limits = { subrequests = 0 }\n"),
                "6:26: workers[0].limits.subrequests: must be at least 1",
            ),
            (
                &with_worker("limits = { memory = 1 }\n"),
                "6:12: workers[0].limits: unknown field `memory`, expected one of `cpu_ms`, \
                 `memory_mb`, `subrequests`, `scheduled_cpu_ms`, `request_timeout_s`",
            ),
            // [[routes]]
            (
                &with_worker(
                    "[[routes]]\npattern = \"a.com/*\"\nworker = \"a\"\n\
                     [[routes]]\npattern = \"b.com/*\"\nworker = \"rewrte\"\n",
                ),
                "11:10: routes[1].worker: no worker named \"rewrte\"",
            ),
            (
                &with_server("[[routes]]\npattern = \"a.com/*\"\n"),
                "3:1: routes[0]: a route needs a `worker`, an `origin`, or both",
            ),
            (
                &with_server("[[routes]]\norigin = \"http://b\"\n"),
                "3:1: routes[0]: missing field `pattern`",
            ),
            (
                &with_server("[[routes]]\npattern = \"a.com/*.jpg\"\norigin = \"http://b\"\n"),
                "4:18: routes[0].pattern: `*` in the path may only come last, as in `/images/*`",
            ),
            (
                &with_server("[[routes]]\npattern = 'a.com/?x'\norigin = \"http://b\"\n"),
                "4:18: routes[0].pattern: query strings are not allowed in route patterns; \
                 end the path with `*` to match any query",
            ),
            (
                // With escapes the column can't be mapped: the string's start.
                &with_server("[[routes]]\npattern = \"a.com:80/\\u002A\"\norigin = \"http://b\"\n"),
                "4:11: routes[0].pattern: ports are not allowed in route patterns; \
                 requests match whatever port they arrive on",
            ),
            (
                &with_server("[[routes]]\npattern = \"\"\norigin = \"http://b\"\n"),
                "4:11: routes[0].pattern: route pattern is empty",
            ),
            (
                &with_server("[[routes]]\npattern = 3\norigin = \"http://b\"\n"),
                "4:11: routes[0].pattern: invalid type: integer `3`, expected a string",
            ),
            (
                &with_server("[[routes]]\npattern = \"a.com/*\"\norigin = \"ftp://b\"\n"),
                "5:10: routes[0].origin: origin scheme must be http or https, not \"ftp\"",
            ),
            (
                &with_server("[[routes]]\npattern = \"a.com/*\"\norigin = \"http://b:3000/v2\"\n"),
                "5:10: routes[0].origin: origin must not have a path (\"/v2\"); rewrite paths in the worker",
            ),
            (
                &with_server("[[routes]]\npattern = \"a.com/*\"\norigin = \"http://b/?a\"\n"),
                "5:10: routes[0].origin: origin must not have a query string",
            ),
            (
                &with_server("[[routes]]\npattern = \"a.com/*\"\norigin = \"http://b/#a\"\n"),
                "5:10: routes[0].origin: origin must not have a fragment",
            ),
            (
                &with_server("[[routes]]\npattern = \"a.com/*\"\norigin = \"http://u:p@b\"\n"),
                "5:10: routes[0].origin: origin must not contain credentials",
            ),
            (
                &with_server("[[routes]]\npattern = \"a.com/*\"\norigin = \"127.0.0.1:3000\"\n"),
                "5:10: routes[0].origin: \"127.0.0.1:3000\" is not a URL: relative URL without a base",
            ),
            (
                &with_server("[[routes]]\npattern = \"a.com/*\"\norigin = \"http://b\"\nweight = 3\n"),
                "6:1: routes[0]: unknown field `weight`, expected one of `pattern`, `worker`, `origin`",
            ),
            (
                &with_server(
                    "[[routes]]\npattern = \"a.com/*\"\norigin = \"http://b\"\n\
                     [[routes]]\npattern = \"https://A.com/*\"\norigin = \"http://c\"\n",
                ),
                "7:11: routes[1].pattern: \"https://A.com/*\" matches the same requests as \
                 routes[0].pattern (line 4); the later route could never match",
            ),
        ];
        let mut failures = Vec::new();
        for (text, expected) in cases {
            let (_, got) = f.err(text);
            let expected = format!("conf/isoproxy.toml:{expected}");
            if got != expected {
                failures.push(format!("input:\n{text}\n  expected: {expected}\n  got:      {got}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }

    /// Errors are matchable and carry their parts.
    #[test]
    fn error_variants() {
        let f = Fixture::new();
        let e = f.parse(&with_worker("[[routes]]\npattern = \"b.com/*\"\nworker = \"rewrte\"\n"));
        match e {
            Err(ConfigError::UnknownWorker { at, key, name }) => {
                assert_eq!((at.line, at.column), (8, 10));
                assert_eq!(key, "routes[0].worker");
                assert_eq!(name, "rewrte");
            }
            other => panic!("{other:?}"),
        }

        let e = f.parse(&with_server(
            "[[routes]]\npattern = \"ex*ample.com/\"\norigin = \"http://b\"\n",
        ));
        match e {
            Err(ConfigError::BadPattern {
                at,
                key,
                pattern,
                error,
            }) => {
                assert_eq!((at.line, at.column), (4, 14));
                assert_eq!(key, "routes[0].pattern");
                assert_eq!(pattern, "ex*ample.com/");
                assert_eq!(error, RoutePatternError::HostWildcard { offset: 2 });
            }
            other => panic!("{other:?}"),
        }

        let (e, _) = f.err(&with_server("[[routes]]\npattern = \"a/\"\norigin = \"ftp://b\"\n"));
        assert!(matches!(e, ConfigError::BadOrigin { ref origin, .. } if origin == "ftp://b"));
        assert_eq!(e.key(), Some("routes[0].origin"));

        let (e, _) = f.err(&with_server("[[workers]]\nname = \"a\"\nmain = \"nope.js\"\n"));
        match e {
            ConfigError::MissingScript { script, error, .. } => {
                assert_eq!(script, Path::new("nope.js"));
                assert_eq!(error.kind(), io::ErrorKind::NotFound);
            }
            other => panic!("{other:?}"),
        }

        let (e, _) = f.err(&with_worker("secrets = { T = { env = \"NOPE\" } }\n"));
        assert!(matches!(
            e,
            ConfigError::MissingSecret { ref worker, ref secret, ref env, .. }
                if worker == "a" && secret == "T" && env == "NOPE"
        ));

        let (e, _) = f.err(&with_worker(
            "[[workers]]\nname = \"a\"\nmain = \"../scripts/other.js\"\n",
        ));
        assert!(matches!(e, ConfigError::DuplicateWorker { ref first, .. } if first.line == 4));
        let (e, _) = f.err("[server]\nlisten = []\n");
        assert!(matches!(e, ConfigError::Invalid { .. }));
        let (e, _) = f.err("[server]\nlisten = 1\n");
        assert!(matches!(e, ConfigError::Parse { .. }));
        let (e, _) = f.err("[server\n");
        assert!(matches!(e, ConfigError::Parse { ref key, .. } if key.is_empty()));
        let (e, _) = f.err(&with_server(
            "[[routes]]\npattern = \"a/*\"\norigin = \"http://b\"\n[[routes]]\npattern = \"a/*\"\norigin = \"http://b\"\n",
        ));
        assert!(matches!(e, ConfigError::DuplicatePattern { ref first_key, .. } if first_key == "routes[0].pattern"));
    }

    #[test]
    fn columns_count_characters() {
        let f = Fixture::new();
        let (_, got) = f.err("# héllo wörld\n[server]\nlisten = [\"127.0.0.1:80\"]\nadmin = \"é\"\n");
        assert!(got.starts_with("conf/isoproxy.toml:4:9: server.admin:"), "{got}");
        let (_, got) = f.err(&with_server(
            "[[routes]]\npattern = \"é.com/\"\norigin = \"http://b\"\n",
        ));
        assert!(
            got.starts_with("conf/isoproxy.toml:4:12: routes[0].pattern: invalid character 'é'"),
            "{got}"
        );
    }

    #[test]
    fn key_paths_quote_odd_keys() {
        assert_eq!(
            key_string(&[Seg::Key("workers"), Seg::Index(0), Seg::Key("vars"), Seg::Key("a.b")]),
            "workers[0].vars.\"a.b\""
        );
        assert_eq!(key_string(&[]), "");
    }

    #[test]
    fn dates() {
        for ok in ["2024-02-29", "2000-02-29", "2026-12-31", "1999-01-01"] {
            assert!(is_valid_date(ok), "{ok}");
        }
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-1-01",
            "2026/01/01",
            "２０２６-01-01",
            "",
        ] {
            assert!(!is_valid_date(bad), "{bad}");
        }
    }
}
