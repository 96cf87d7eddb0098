use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::schema::available_cores;
use super::span::{Seg, key_string};
use super::validate::is_valid_date;
use super::*;
use crate::route::RoutePatternError;

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
fn dns_servers_take_a_port_or_53() {
    let f = Fixture::new();
    let config = f.ok(&with_server(
        "[dns]\nservers = [\"127.0.0.1\", \"127.0.0.1:5353\", \"[::1]:53\", \"::1\"]\ncache_size = 10\n",
    ));
    let servers: Vec<String> = config
        .dns
        .servers
        .iter()
        .map(|s| DnsConfig::server(s).unwrap().to_string())
        .collect();
    assert_eq!(servers, ["127.0.0.1:53", "127.0.0.1:5353", "[::1]:53", "[::1]:53"]);
    assert_eq!(config.dns.cache_size, 10);
}

#[test]
fn edge_keys() {
    let f = Fixture::new();
    let config = f.ok(&format!(
        "{SERVER}trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nlog_format = \"json\"\n\
         websocket_idle_timeout_s = 30\nupgrade_sock = \"run/up.sock\"\n"
    ));
    assert_eq!(config.server.trusted_proxies, ["10.0.0.0/8", "::1"]);
    assert_eq!(config.server.log_format, super::LogFormat::Json);
    assert_eq!(config.server.websocket_idle_timeout_s, 30);
    // Relative to the config file's directory.
    assert_eq!(config.server.upgrade_sock, f.conf.parent().unwrap().join("run/up.sock"));
    let (_, msg) = f.err(&format!("{SERVER}log_format = \"xml\"\n"));
    assert!(msg.contains("log_format"), "{msg}");
    let (_, msg) = f.err(&format!("{SERVER}trusted_proxies = [\"10.0.0.0/40\"]\n"));
    assert!(msg.contains("server.trusted_proxies[0]"), "{msg}");
    let (_, msg) = f.err(&format!("{SERVER}websocket_idle_timeout_s = 0\n"));
    assert!(msg.contains("websocket_idle_timeout_s"), "{msg}");
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
            tls_listen: Vec::new(),
            certificates: Vec::new(),
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
            trusted_proxies: Vec::new(),
            websocket_idle_timeout_s: 600,
            h2c: false,
            log_format: super::LogFormat::Text,
            upgrade_sock: "/tmp/isoproxy_upgrade.sock".into(),
        }
    );
    assert_eq!(
        config.runtime,
        RuntimeConfig {
            isolate_threads: cores,
            js_on_proxy_threads: true,
            idle_isolate_timeout_s: 300,
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
    assert_eq!(
        config.dns,
        DnsConfig {
            servers: Vec::new(),
            cache_size: 8192,
        }
    );
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
            js_on_proxy_threads: true,
            idle_isolate_timeout_s: 300,
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
            "[server]\nlisten = [\"127.0.0.1:80\"]\n[dns]\nservers = [\"127.0.0.1\", \"ns.example\"]\n",
            "4:25: dns.servers[1]: \"ns.example\" is not a name server address such as 127.0.0.1, \
             127.0.0.1:53 or [::1]:53",
        ),
        (
            "[servr]\nlisten = []\n",
            "1:2: unknown field `servr`, expected one of `server`, `runtime`, `dns`, `storage`, `workers`, `routes`, `cluster`",
        ),
        (
            "[server]\nlisten = [\"127.0.0.1:8080\"]\n\n[[workers]]\nname = \"a\"\nmian = \"x\"\n",
            "6:1: workers[0]: unknown field `mian`, expected one of `name`, `main`, \
             `compatibility_date`, `compatibility_flags`, `crons`, `vars`, `secrets`, `limits`, `kv_namespaces`, `root`, \
             `egress_allow`, `egress_deny`, `outbound`, `wrangler`, `wrangler_env`, `origin`",
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
            "4:1: runtime: unknown field `threads`, expected one of `isolate_threads`, `js_on_proxy_threads`, \
             `idle_isolate_timeout_s`, `queue_limit`, \
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

#[test]
fn storage_and_kv_namespaces() {
    let f = Fixture::new();
    // Defaults: embedded, `data` beside the config file.
    let config = f.ok(&with_worker(
        "kv_namespaces = [{ binding = \"FLAGS\", id = \"flags\" }]\n",
    ));
    assert_eq!(config.storage.kv, "embedded");
    assert_eq!(config.storage.data_dir, f.conf.parent().unwrap().join("data"));
    let ns = &config.workers[0].kv_namespaces;
    assert_eq!((ns[0].binding.as_str(), ns[0].id.as_str()), ("FLAGS", "flags"));
    let config = f.ok(&with_server(
        "[storage]\nkv = \"redis://127.0.0.1:6379/2\"\ndata_dir = \"/var/lib/kv\"\n",
    ));
    assert_eq!(
        config.storage.backend(),
        plugin_runtime::kv::KvBackend::Redis {
            url: "redis://127.0.0.1:6379/2".into()
        }
    );
    assert_eq!(config.storage.data_dir, PathBuf::from("/var/lib/kv"));
    for (bad, want) in [
        (
            "kv = \"memcached://x\"",
            "conf/isoproxy.toml:4:6: storage.kv: unsupported scheme \"memcached\"",
        ),
        (
            "kv = \"redis://127.0.0.1:6379/x\"",
            "storage.kv: \"x\" is not a Redis database number",
        ),
        ("kv = \"disk\"", "storage.kv: expected \"embedded\" or a Redis URL"),
        ("data_dir = \"\"", "storage.data_dir: must not be empty"),
        ("kv = 3", "storage.kv"),
    ] {
        let (_, msg) = f.err(&with_server(&format!("[storage]\n{bad}\n")));
        assert!(msg.contains(want), "{bad}: {msg}");
    }
    for (bad, want) in [
        (
            "[{ binding = \"1X\", id = \"a\" }]",
            "conf/isoproxy.toml:6:18: workers[0].kv_namespaces[0]: invalid binding \"1X\"",
        ),
        ("[{ binding = \"X\", id = \"a:b\" }]", "invalid namespace id \"a:b\""),
        (
            "[{ binding = \"X\", id = \"a\" }, { binding = \"X\", id = \"b\" }]",
            "kv_namespaces[1]: binding \"X\" is already defined",
        ),
        ("[{ binding = \"X\" }]", "kv_namespaces[0]"),
        ("[{ binding = \"X\", id = \"a\", extra = 1 }]", "extra"),
    ] {
        let (_, msg) = f.err(&with_worker(&format!("kv_namespaces = {bad}\n")));
        assert!(msg.contains(want), "{bad}: {msg}");
    }
    let (_, msg) = f.err(&with_worker(
        "vars = { X = \"1\" }\nkv_namespaces = [{ binding = \"X\", id = \"a\" }]\n",
    ));
    assert!(msg.contains("binding \"X\" is already defined"), "{msg}");
}
