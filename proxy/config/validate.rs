//! The checks that run after deserialising: values serde's derive cannot
//! judge (addresses, names, dates, limits, egress rules), references
//! between tables, and the file system (scripts, roots) and environment
//! (secrets).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::error::{ConfigError, io_reason};
use super::schema::{
    ClusterConfig, Config, DnsConfig, KvNamespaceConfig, RouteConfig, RuntimeConfig, ServerConfig, StorageConfig,
    WorkerConfig, check_origin,
};
use super::span::{Doc, Seg, key_string};
use super::wrangler::{self, WranglerError};

pub(super) fn validate(
    config: &mut Config,
    doc: &Doc<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let mut wrangler_routes = Vec::new();
    for (i, worker) in config.workers.iter_mut().enumerate() {
        let at = [Seg::Key("workers"), Seg::Index(i)];
        apply_wrangler(worker, &at, doc, &mut wrangler_routes)?;
    }
    // After the file's own routes: they win ties between equal patterns.
    config.routes.extend(wrangler_routes);
    validate_server(&config.server, doc)?;
    validate_tls(&mut config.server, doc)?;
    if config.server.upgrade_sock.is_relative() {
        let dir = config_dir(doc.file);
        config.server.upgrade_sock = dir.join(&config.server.upgrade_sock);
    }
    validate_runtime(&config.runtime, doc)?;
    if let Some(cluster) = &config.cluster {
        let key = |k| [Seg::Key("cluster"), Seg::Key(k)];
        ClusterConfig::check_redis(&cluster.redis).map_err(|reason| doc.invalid(&key("redis"), reason))?;
        if let Some(name) = &cluster.instance {
            ClusterConfig::check_instance(name).map_err(|reason| doc.invalid(&key("instance"), reason))?;
        }
    }
    validate_storage(&mut config.storage, doc)?;
    for (i, server) in config.dns.servers.iter().enumerate() {
        let path = [Seg::Key("dns"), Seg::Key("servers"), Seg::Index(i)];
        DnsConfig::server(server).map_err(|reason| doc.invalid(&path, reason))?;
    }
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
            // Where a pattern is written: here, or in a wrangler file.
            let place = |j: usize| match &config.routes[j].source {
                Some((at, key)) => (at.clone(), key.clone()),
                None => {
                    let path = [Seg::Key("routes"), Seg::Index(j), Seg::Key("pattern")];
                    (doc.at(&path), key_string(&path))
                }
            };
            let ((at, key), (first, first_key)) = (place(i), place(first));
            return Err(ConfigError::DuplicatePattern {
                at,
                key,
                pattern: route.pattern.as_str().to_owned(),
                first_key,
                first,
            });
        }
    }
    Ok(())
}

/// Checks the `wrangler` keys of a worker entry, and for an entry with
/// `wrangler`, fills it in from that file (`wrangler.rs`): its routes go
/// to `routes`. An entry without one must have `name` and `main`.
fn apply_wrangler(
    worker: &mut WorkerConfig,
    at: &[Seg<'_>; 2],
    doc: &Doc<'_>,
    routes: &mut Vec<RouteConfig>,
) -> Result<(), ConfigError> {
    let field = |k| [at[0], at[1], Seg::Key(k)];
    let Some(file) = worker.wrangler.clone() else {
        if worker.wrangler_env.is_some() {
            return Err(doc.invalid(&field("wrangler_env"), "needs `wrangler` (the file it is a section of)"));
        }
        if worker.origin.is_some() {
            return Err(doc.invalid(
                &field("origin"),
                "is the origin of routes taken from a `wrangler` file; give [[routes]] their own `origin`",
            ));
        }
        for key in ["name", "main"] {
            if !doc.has(&field(key)) {
                return Err(ConfigError::Parse {
                    at: doc.at(at),
                    key: key_string(at),
                    message: format!("missing field `{key}`"),
                });
            }
        }
        return Ok(());
    };
    let from_file = [
        ("main", doc.has(&field("main"))),
        ("compatibility_date", worker.compatibility_date.is_some()),
        ("compatibility_flags", doc.has(&field("compatibility_flags"))),
        ("crons", doc.has(&field("crons"))),
    ];
    for (key, set) in from_file {
        if set {
            return Err(doc.invalid(
                &field(key),
                format!("comes from the wrangler file ({}); set it there", file.display()),
            ));
        }
    }
    let dir = match doc.file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let path = dir.join(&file);
    let loaded = wrangler::load(&path, worker.wrangler_env.as_deref()).map_err(|e| match e {
        WranglerError::Io(reason) => {
            doc.invalid(&field("wrangler"), format!("cannot read {}: {reason}", file.display()))
        }
        WranglerError::NoEnv(reason) => doc.invalid(&field("wrangler_env"), reason),
        WranglerError::Config(e) => *e,
    })?;
    if !doc.has(&field("name")) {
        worker.name = loaded.name;
    }
    worker.main = loaded.main;
    worker.compatibility_date = loaded.compatibility_date;
    worker.compatibility_flags = loaded.compatibility_flags;
    worker.crons = loaded.crons;
    // The entry's own vars (say, a node's name) win over the file's.
    let mut vars = loaded.vars;
    vars.extend(std::mem::take(&mut worker.vars));
    worker.vars = vars;
    worker.limits.cpu_ms = worker.limits.cpu_ms.or(loaded.cpu_ms);
    // The entry's own KV bindings win over the file's of the same name.
    let mut kv = loaded.kv_namespaces;
    kv.retain(|n| !worker.kv_namespaces.iter().any(|own| own.binding == n.binding));
    kv.append(&mut worker.kv_namespaces);
    worker.kv_namespaces = kv;
    // The project directory, so its node_modules can be imported.
    worker.root.get_or_insert(loaded.dir);
    worker.wrangler = Some(path.canonicalize().unwrap_or(path));
    worker.wrangler_ignored = loaded.ignored;
    for (pattern, at, key) in loaded.routes {
        routes.push(RouteConfig {
            pattern,
            worker: Some(worker.name.clone()),
            origin: worker.origin.clone(),
            source: Some((at, key)),
        });
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
    if server.upgrade_sock.as_os_str().is_empty() {
        return Err(doc.invalid(&key("upgrade_sock"), "must name a socket path"));
    }
    at_least_one(server.websocket_idle_timeout_s, &key("websocket_idle_timeout_s"), doc)?;
    for (i, entry) in server.trusted_proxies.iter().enumerate() {
        let path = [Seg::Key("server"), Seg::Key("trusted_proxies"), Seg::Index(i)];
        crate::forwarded::parse_entry(entry).map_err(|reason| doc.invalid(&path, reason))?;
    }
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

/// `tls_listen` addresses (distinct from every other listener) and the
/// certificates they serve, read and checked now: a bad certificate or
/// key fails here, at start, `--test` and reload alike.
fn validate_tls(server: &mut ServerConfig, doc: &Doc<'_>) -> Result<(), ConfigError> {
    let tls_listen = [Seg::Key("server"), Seg::Key("tls_listen")];
    let mut seen: Vec<SocketAddr> = server.listen.iter().filter_map(|a| a.parse().ok()).collect();
    seen.extend(server.admin.as_deref().and_then(|a| a.parse::<SocketAddr>().ok()));
    for (i, addr) in server.tls_listen.iter().enumerate() {
        let path = [tls_listen[0], tls_listen[1], Seg::Index(i)];
        let parsed = socket_addr(addr).map_err(|reason| doc.invalid(&path, reason))?;
        if seen.contains(&parsed) {
            return Err(doc.invalid(&path, format!("{addr:?} is listed twice (or is another listener)")));
        }
        seen.push(parsed);
    }
    if !server.tls_listen.is_empty() && server.certificates.is_empty() {
        return Err(doc.invalid(
            &tls_listen,
            "TLS listeners need at least one [[server.certificates]] table (cert and key)",
        ));
    }
    let dir = match doc.file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    for (i, cert) in server.certificates.iter_mut().enumerate() {
        let at = |k| [Seg::Key("server"), Seg::Key("certificates"), Seg::Index(i), Seg::Key(k)];
        cert.cert = dir.join(&cert.cert);
        cert.key = dir.join(&cert.key);
        let loaded = crate::tls::Certificate::load(&cert.cert, &cert.key).map_err(|e| {
            // Point at the key whose file is at fault.
            let field = match &e {
                crate::tls::TlsError::Read { path, .. } if *path == cert.key => "key",
                crate::tls::TlsError::NoKey { .. } | crate::tls::TlsError::BadKey { .. } => "key",
                _ => "cert",
            };
            doc.invalid(&at(field), e.to_string())
        })?;
        if loaded.names().is_empty() {
            log::warn!(
                "{}: {} names no DNS host (subjectAltName): it serves only clients no other certificate matches",
                doc.at(&at("cert")),
                cert.cert.display()
            );
        }
        cert.loaded = Some(std::sync::Arc::new(loaded));
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

/// `[storage]`: `kv` is `"embedded"` or a `redis://HOST:PORT/DB` URL;
/// `data_dir` becomes absolute (relative to the config file).
fn validate_storage(storage: &mut StorageConfig, doc: &Doc<'_>) -> Result<(), ConfigError> {
    let at = [Seg::Key("storage"), Seg::Key("kv")];
    if storage.kv != "embedded" {
        let url = url::Url::parse(&storage.kv).map_err(|_| {
            doc.invalid(
                &at,
                "expected \"embedded\" or a Redis URL such as \"redis://127.0.0.1:6379/0\"",
            )
        })?;
        if url.scheme() != "redis" {
            return Err(doc.invalid(
                &at,
                format!("unsupported scheme {:?}: use redis://HOST:PORT/DB", url.scheme()),
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(doc.invalid(&at, "the Redis URL needs a host"));
        }
        let db = url.path().trim_start_matches('/');
        if !db.is_empty() && db.parse::<u32>().is_err() {
            return Err(doc.invalid(&at, format!("{db:?} is not a Redis database number")));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(doc.invalid(&at, "the Redis URL takes no query or fragment"));
        }
    }
    if storage.data_dir.as_os_str().is_empty() {
        return Err(doc.invalid(&[Seg::Key("storage"), Seg::Key("data_dir")], "must not be empty"));
    }
    if storage.data_dir.is_relative() {
        storage.data_dir = config_dir(doc.file).join(&storage.data_dir);
    }
    Ok(())
}

/// A KV namespace binding: `binding` a JavaScript identifier, `id` a valid
/// namespace id.
pub(super) fn check_kv_namespace(ns: &KvNamespaceConfig) -> Result<(), String> {
    let b = ns.binding.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
    if b.is_empty() || b[0].is_ascii_digit() || !b.iter().all(|&c| ident(c)) {
        return Err(format!(
            "invalid binding {:?}: use a JavaScript identifier (letters, digits, `_`, `$`)",
            ns.binding
        ));
    }
    if !plugin_runtime::kv::valid_namespace_id(&ns.id) {
        return Err(format!(
            "invalid namespace id {:?}: use 1 to 64 letters, digits, `-`, `_` and `.`",
            ns.id
        ));
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

    for (i, ns) in worker.kv_namespaces.iter().enumerate() {
        let path = [at[0], at[1], Seg::Key("kv_namespaces"), Seg::Index(i)];
        check_kv_namespace(ns).map_err(|reason| doc.invalid(&path, reason))?;
        let taken = worker.kv_namespaces[..i].iter().any(|o| o.binding == ns.binding)
            || worker.vars.contains_key(&ns.binding)
            || worker.secrets.contains_key(&ns.binding);
        if taken {
            return Err(doc.invalid(
                &path,
                format!("binding {:?} is already defined for this worker", ns.binding),
            ));
        }
    }

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

pub(super) fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn socket_addr(addr: &str) -> Result<SocketAddr, String> {
    addr.parse()
        .map_err(|_| format!("{addr:?} is not a socket address such as 127.0.0.1:8080 or [::1]:8080"))
}

/// `main` joined to the config file's directory, canonicalised, and checked
/// to be a readable regular file.
fn resolve_script(main: &Path, config_file: &Path) -> io::Result<PathBuf> {
    let dir = config_dir(config_file);
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

/// The directory relative paths in the config file are taken from.
fn config_dir(config_file: &Path) -> &Path {
    match config_file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// `YYYY-MM-DD` with a real month and day.
pub(super) fn is_valid_date(date: &str) -> bool {
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
