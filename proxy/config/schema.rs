//! The configuration file's schema: its tables, their defaults (each
//! `Default` documents them) and the deserialisers of fields that need more
//! than serde's derive.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::Error as _;
use url::Url;

use super::error::Location;
use crate::route::RoutePattern;

/// A validated configuration file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub struct Config {
    /// `[server]`: listeners and proxy threads. Required (it holds `listen`).
    pub server: ServerConfig,
    /// `[runtime]`: V8 threads and default limits.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// `[dns]`: how origin and subrequest host names are resolved.
    #[serde(default)]
    pub dns: DnsConfig,
    /// `[storage]`: where Workers KV data lives. Restart-only.
    #[serde(default)]
    pub storage: StorageConfig,
    /// `[[workers]]`, in file order. Default: none.
    #[serde(default)]
    pub workers: Vec<WorkerConfig>,
    /// `[[routes]]`, in file order (which breaks ties between equally
    /// specific patterns). Default: none, so every request gets 404.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// `[cluster]`: instances sharing a Redis fire each cron instant once
    /// (`fleet.rs`). Default: none, every instance fires its own crons.
    /// Restart-only.
    #[serde(default)]
    pub cluster: Option<ClusterConfig>,
}

// Some accessors serve only the unit tests today; they are the module's API.
#[cfg_attr(not(test), allow(dead_code))]
impl Config {
    /// The worker named `name`.
    pub fn worker(&self, name: &str) -> Option<&WorkerConfig> {
        self.workers.iter().find(|w| w.name == name)
    }

    /// What the workers' wrangler files hold that isoproxy does not run,
    /// one line each (to print at `--test`, start and reload).
    pub fn warnings(&self) -> impl Iterator<Item = &str> {
        self.workers
            .iter()
            .flat_map(|w| w.wrangler_ignored.iter().map(String::as_str))
    }
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub struct ServerConfig {
    /// Downstream listen addresses (`ip:port`, IPv6 as `[::1]:8080`).
    pub listen: Vec<String>,
    /// TLS listen addresses: HTTP/1.1 and HTTP/2 (ALPN) over TLS 1.2/1.3.
    pub tls_listen: Vec<String>,
    /// `[[server.certificates]]`: served on `tls_listen`, chosen by SNI;
    /// the first is the default.
    pub certificates: Vec<CertificateConfig>,
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
    /// Peers (CIDR blocks or addresses) whose `X-Forwarded-*` headers are
    /// believed and extended rather than replaced (see `forwarded.rs`).
    pub trusted_proxies: Vec<String>,
    /// Seconds an upgraded (WebSocket) connection may go without a byte in
    /// one direction before it is closed.
    pub websocket_idle_timeout_s: u64,
    /// HTTP/2 with prior knowledge (h2c) on the plain `listen` addresses:
    /// a connection that opens with the HTTP/2 preface is served as HTTP/2,
    /// any other as HTTP/1.
    pub h2c: bool,
    /// How log lines are written: `text` or `json` (one object per line).
    pub log_format: LogFormat,
    /// The Unix socket a new binary takes the listening sockets from
    /// (`isoproxy --upgrade`, then SIGQUIT to the old one).
    pub upgrade_sock: PathBuf,
}

/// `[server] log_format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// env_logger's human-readable lines.
    #[default]
    Text,
    /// One JSON object per line: `ts`, `level`, `target`, `msg`.
    Json,
}

/// One `[[server.certificates]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table with `cert` and `key`")]
pub struct CertificateConfig {
    /// PEM certificate chain, leaf first (relative to the config file;
    /// absolute after validation).
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1), same rules.
    pub key: PathBuf,
    /// The certificate and key as read by validation.
    #[serde(skip)]
    pub loaded: Option<std::sync::Arc<crate::tls::Certificate>>,
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
    pub(super) fn problem(&self) -> Option<String> {
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
    /// - `tls_listen`: none (no TLS listener).
    /// - `certificates`: none; at least one is required with `tls_listen`.
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
    /// - `trusted_proxies`: none (every incoming `X-Forwarded-For` is replaced).
    /// - `websocket_idle_timeout_s`: 600 (nginx's `proxy_read_timeout`, which
    ///   applies to WebSockets there, is 60).
    /// - `h2c`: false (as Pingora's `HttpServerOptions::h2c`; HTTP/2
    ///   reaches clients through ALPN on `tls_listen` either way).
    /// - `log_format`: `text`.
    /// - `upgrade_sock`: `/tmp/isoproxy_upgrade.sock` (Pingora's default is
    ///   `/tmp/pingora_upgrade.sock`); relative to the config file.
    fn default() -> Self {
        ServerConfig {
            listen: Vec::new(),
            tls_listen: Vec::new(),
            certificates: Vec::new(),
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
            trusted_proxies: Vec::new(),
            websocket_idle_timeout_s: 600,
            h2c: false,
            log_format: LogFormat::Text,
            upgrade_sock: PathBuf::from("/tmp/isoproxy_upgrade.sock"),
        }
    }
}

/// `[runtime]`: the V8 runtime and the default per-request limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub struct RuntimeConfig {
    /// Isolate threads (each runs isolates and their event loops): heavy
    /// workers, `scheduled()` runs, and every worker when
    /// `js_on_proxy_threads` is off.
    pub isolate_threads: usize,
    /// Light workers' JavaScript runs on the proxy thread serving the
    /// client (Pingora without work stealing), with no hop to an isolate
    /// thread.
    pub js_on_proxy_threads: bool,
    /// Seconds an isolate on a proxy thread may go without a request
    /// before that thread drops it (0: never).
    pub idle_isolate_timeout_s: u64,
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
    /// - `js_on_proxy_threads`: true.
    /// - `idle_isolate_timeout_s`: 300.
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
            js_on_proxy_threads: true,
            idle_isolate_timeout_s: 300,
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

/// `[dns]`: name resolution for origins and subrequests (`dns.rs`).
/// Applied by every deployment built, so a reload changes it live.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub struct DnsConfig {
    /// Name servers to ask instead of those of `/etc/resolv.conf`: `IP` or
    /// `IP:PORT` (IPv6 as `[::1]:53`), asked over UDP then TCP.
    pub servers: Vec<String>,
    /// Most names whose answers are cached (each for its TTL); 0 turns
    /// the cache off.
    pub cache_size: usize,
}

impl Default for DnsConfig {
    /// - `servers`: none (the name servers of `/etc/resolv.conf`).
    /// - `cache_size`: 8192 (hickory's own default).
    fn default() -> Self {
        DnsConfig {
            servers: Vec::new(),
            cache_size: 8192,
        }
    }
}

impl DnsConfig {
    /// A `servers` entry as a socket address (port 53 when not given).
    pub fn server(text: &str) -> Result<std::net::SocketAddr, String> {
        if let Ok(ip) = text.parse::<std::net::IpAddr>() {
            return Ok(std::net::SocketAddr::new(ip, 53));
        }
        text.parse()
            .map_err(|_| format!("{text:?} is not a name server address such as 127.0.0.1, 127.0.0.1:53 or [::1]:53"))
    }
}

/// `[cluster]`: the fleet this instance belongs to (`fleet.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table with `redis` (and optionally `instance`)")]
pub struct ClusterConfig {
    /// `redis://HOST[:PORT][/DB]`: where cron leases and last runs live.
    /// Required.
    pub redis: String,
    /// This instance's name in leases, logs and `/workers`. Default: the
    /// host name and the process id (`HOST-PID`), see [`ClusterConfig::instance`].
    pub instance: Option<String>,
}

impl ClusterConfig {
    /// The configured `instance`, or `HOST-PID`.
    pub fn instance(&self) -> String {
        if let Some(name) = &self.instance {
            return name.clone();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_string());
        format!("{host}-{}", std::process::id())
    }

    /// Checks a `redis` URL: `redis://`, a host, and a numeric database.
    pub fn check_redis(text: &str) -> Result<(), String> {
        let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e}); write redis://HOST:PORT/DB"))?;
        if url.scheme() != "redis" {
            return Err(format!(
                "{text:?}: only redis:// URLs are supported (no TLS, no unix sockets); write redis://HOST:PORT/DB"
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("{text:?} names no host; write redis://HOST:PORT/DB"));
        }
        let db = url.path().trim_start_matches('/');
        if !db.is_empty() && db.parse::<u16>().is_err() {
            return Err(format!(
                "{text:?}: the database {db:?} is not a number; write redis://HOST:PORT/DB"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("{text:?}: a query or fragment is not supported"));
        }
        Ok(())
    }

    /// Checks an `instance` name: 1 to 128 visible ASCII characters.
    pub fn check_instance(name: &str) -> Result<(), String> {
        if name.is_empty() || name.len() > 128 || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "{name:?} is not an instance name: 1 to 128 visible ASCII characters, no spaces"
            ));
        }
        Ok(())
    }
}

/// `[storage]`: the process's Workers KV store. Read at start only: a
/// reload that changes it is refused (the running store stays).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub struct StorageConfig {
    /// `"embedded"` (a redb file, `kv.redb`, in `data_dir`) or a Redis URL,
    /// `redis://HOST:PORT/DB`, shared by every instance of a fleet.
    pub kv: String,
    /// The embedded store's directory, relative to the config file. After
    /// [`load`] or [`parse`], absolute.
    pub data_dir: PathBuf,
}

impl Default for StorageConfig {
    /// - `kv`: `"embedded"`.
    /// - `data_dir`: `data` (beside the config file).
    fn default() -> Self {
        StorageConfig {
            kv: "embedded".into(),
            data_dir: PathBuf::from("data"),
        }
    }
}

impl StorageConfig {
    /// The KV backend this table names.
    pub fn backend(&self) -> plugin_runtime::kv::KvBackend {
        if self.kv == "embedded" {
            plugin_runtime::kv::KvBackend::Embedded {
                data_dir: self.data_dir.clone(),
            }
        } else {
            plugin_runtime::kv::KvBackend::Redis { url: self.kv.clone() }
        }
    }
}

/// One `kv_namespaces` entry of a worker: `env.BINDING` is namespace `id`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table like `{ binding = \"FLAGS\", id = \"flags\" }`"
)]
pub struct KvNamespaceConfig {
    /// The `env` property.
    pub binding: String,
    /// The namespace: 1 to 64 letters, digits, `-`, `_`, `.`.
    pub id: String,
    /// Accepted for wrangler's sake and ignored.
    #[serde(default)]
    pub preview_id: Option<String>,
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

/// `[[workers]]`: one Workers script. `name` and `main` are required
/// unless `wrangler` names a file that holds them; the other keys default
/// as documented on each field.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub struct WorkerConfig {
    /// Unique name, `[A-Za-z0-9_-]+`. With `wrangler`: default the wrangler
    /// file's name (`NAME-ENV` with `wrangler_env`), and setting it renames.
    #[serde(default)]
    pub name: String,
    /// The ES module to run. Written relative to the config file's directory;
    /// after [`load`] or [`parse`], an absolute, canonical path to a readable file.
    /// With `wrangler`: taken from the wrangler file only.
    #[serde(default)]
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
    /// Workers KV bindings, as in wrangler: `[{ binding = "FLAGS", id =
    /// "flags" }]`. Default: none.
    #[serde(default)]
    pub kv_namespaces: Vec<KvNamespaceConfig>,
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
    /// A `wrangler.toml`, `wrangler.json` or `wrangler.jsonc` (relative to the
    /// config file) to take `name`, `main`, compatibility settings, `vars`,
    /// crons and routes from (`wrangler.rs`). Default: none. After [`load`]
    /// or [`parse`], absolute and canonical.
    #[serde(default)]
    pub wrangler: Option<PathBuf>,
    /// The `[env.NAME]` section of the wrangler file to use, as
    /// `wrangler deploy --env NAME` would. Default: none (the top level).
    #[serde(default)]
    pub wrangler_env: Option<String>,
    /// The origin of the routes taken from the wrangler file (`[[routes]]`'
    /// `origin`). Default: none (`fetch()` to their hosts goes out by DNS).
    #[serde(default, deserialize_with = "origin_url")]
    pub origin: Option<Url>,
    /// What the wrangler file holds that isoproxy does not run (bindings,
    /// unknown keys): one `file:line:column: key: why` line each, reported
    /// by `--test`, at start and at every reload.
    #[serde(skip)]
    pub wrangler_ignored: Vec<String>,
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
    pub(super) env: String,
    pub(super) value: String,
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
    /// Set for routes taken from a wrangler file: where the pattern is
    /// written there (the config file has no `[[routes]]` entry for them).
    #[serde(skip)]
    pub source: Option<(Location, String)>,
}

pub(super) fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

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

pub(super) fn check_origin(text: &str) -> Result<Url, String> {
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

pub(super) fn toml_to_json(value: toml::Value, key: &str) -> Result<serde_json::Value, String> {
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
