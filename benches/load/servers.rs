//! The servers under test, each its own child process on 127.0.0.1 so its
//! CPU time can be read from /proc: isoproxy (the real release binary), a
//! bare Pingora proxy (this benchmark binary re-run with `--bare-pingora`),
//! workerd and nginx (+ njs). Each is killed when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::Route;
use crate::client::{self, Target};
use crate::common::{TempDir, free_port};

/// A server under test: a child process and the port serving each route.
pub struct Server {
    pub name: &'static str,
    child: Child,
    /// The config, scripts and log; removed when the server is dropped.
    _dir: TempDir,
    log_path: PathBuf,
    routes: Vec<(Route, u16)>,
    /// Spawn to the first correct answer (set by `wait_ready`).
    pub ready_after: Duration,
}

impl Server {
    /// Starts `cmd` (stdout and stderr to a log file in `dir`) and waits
    /// until `routes[0]` answers correctly.
    async fn start(
        name: &'static str,
        mut cmd: Command,
        dir: TempDir,
        routes: Vec<(Route, u16)>,
    ) -> Result<Server, String> {
        let log_path = dir.path().join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path).map_err(|e| format!("log file: {e}"))?;
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        let spawned = Instant::now();
        let child = cmd.spawn().map_err(|e| format!("cannot start {name}: {e}"))?;
        let mut server = Server {
            name,
            child,
            _dir: dir,
            log_path,
            routes,
            ready_after: Duration::ZERO,
        };
        let first = server.routes[0].0;
        server.ready_after = server.wait_ready(first, spawned, Duration::from_secs(120)).await?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn port(&self, route: Route) -> Option<u16> {
        self.routes.iter().find(|(r, _)| *r == route).map(|(_, p)| *p)
    }

    /// The request that exercises `route` on this server, if it serves it.
    pub fn target(&self, route: Route) -> Option<Target> {
        let port = self.port(route)?;
        Some(route.target(SocketAddr::from(([127, 0, 0, 1], port))))
    }

    /// Polls `route` every millisecond until it answers correctly; returns
    /// the time since `spawned`.
    async fn wait_ready(&mut self, route: Route, spawned: Instant, timeout: Duration) -> Result<Duration, String> {
        let target = self.target(route).expect("the first route has a port");
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited early with {status}; log:\n{}",
                    self.name,
                    self.log_tail(30)
                ));
            }
            match client::probe(&target).await {
                Ok(()) => return Ok(spawned.elapsed()),
                Err(e) if spawned.elapsed() > timeout => {
                    return Err(format!(
                        "{} not ready after {timeout:?} (last: {e}); log:\n{}",
                        self.name,
                        self.log_tail(30)
                    ));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        }
    }

    /// Whether the process is still running (not gone, not a zombie).
    pub fn alive(&self) -> bool {
        match std::fs::read_to_string(format!("/proc/{}/stat", self.pid())) {
            Ok(stat) => stat
                .rfind(')')
                .and_then(|i| stat.get(i + 2..i + 3))
                .is_some_and(|state| state != "Z"),
            Err(_) => false,
        }
    }

    /// The last `n` lines of the server's log.
    pub fn log_tail(&self, n: usize) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Resident set size, in bytes.
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (user + system, all threads) of process `pid` so far, from /proc.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after "(comm) ".
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    // sysconf(_SC_CLK_TCK) is 100 on every Linux we run on; `getconf` confirms it if present.
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// isoproxy (the release binary cargo built for this bench) serving `config`
/// (everything after `[server]`, which is generated here) with scripts
/// `scripts` (file name, source); `routes` are all served on one listener.
pub async fn isoproxy(
    name: &'static str,
    threads: usize,
    config: &str,
    scripts: &[(String, String)],
    routes: &[Route],
    rust_log: &str,
) -> Result<Server, String> {
    let dir = TempDir::new("bench-isoproxy");
    for (file, src) in scripts {
        dir.write(file, src);
    }
    let port = free_port();
    let conf = format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\"]\nthreads = {threads}\ngrace_period_seconds = 0\ngraceful_shutdown_timeout_seconds = 1\n\n{config}"
    );
    let conf_path = dir.write("isoproxy.toml", &conf);
    let mut cmd = Command::new(crate::common::BIN);
    cmd.arg("--conf").arg(&conf_path).env("RUST_LOG", rust_log);
    Server::start(name, cmd, dir, routes.iter().map(|r| (*r, port)).collect()).await
}

/// A bare Pingora proxy on one thread (this binary, `--bare-pingora`; see
/// bare_pingora.rs) in front of `origin`.
pub async fn bare_pingora(origin: SocketAddr, routes: &[Route]) -> Result<Server, String> {
    let dir = TempDir::new("bench-pingora");
    let port = free_port();
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.arg("--bare-pingora")
        .arg(format!("127.0.0.1:{port}"))
        .arg(origin.to_string());
    Server::start("pingora", cmd, dir, routes.iter().map(|r| (*r, port)).collect()).await
}

/// Finds a tool: `$VAR`, else the first of `candidates` that exists, else
/// `name` on PATH.
fn find_tool(var: &str, candidates: &[PathBuf], name: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = candidates.iter().find(|p| p.is_file()) {
        return Some(p.clone());
    }
    std::env::var_os("PATH").and_then(|path| std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()))
}

/// Where benches/setup.sh installs bench tools.
fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-tools")
}

pub fn workerd_path() -> Option<PathBuf> {
    find_tool(
        "WORKERD",
        &[
            tools_dir().join("workerd/node_modules/.bin/workerd"),
            // tests/diff/record.sh's default install.
            PathBuf::from("/tmp/workerd/node_modules/.bin/workerd"),
        ],
        "workerd",
    )
}

/// workerd serving the hello and rewrite scripts on two sockets; the
/// rewrite worker's `globalOutbound` is an external service at `origin`,
/// so its `fetch()` reaches the same origin whatever the URL's host.
pub async fn workerd(
    bin: &Path,
    origin: SocketAddr,
    compat_date: &str,
    hello_js: &str,
    rewrite_js: &str,
    routes: &[Route],
) -> Result<Server, String> {
    let dir = TempDir::new("bench-workerd");
    dir.write("hello.js", hello_js);
    dir.write("rewrite.js", rewrite_js);
    let (hello_port, rewrite_port) = (free_port(), free_port());
    let config = format!(
        r#"using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "hello", worker = (
      modules = [(name = "hello.js", esModule = embed "hello.js")],
      compatibilityDate = "{compat_date}",
    )),
    (name = "rewrite", worker = (
      modules = [(name = "rewrite.js", esModule = embed "rewrite.js")],
      compatibilityDate = "{compat_date}",
      globalOutbound = "origin",
    )),
    (name = "origin", external = (address = "{origin}", http = ())),
  ],
  sockets = [
    (name = "hello", address = "127.0.0.1:{hello_port}", http = (), service = "hello"),
    (name = "rewrite", address = "127.0.0.1:{rewrite_port}", http = (), service = "rewrite"),
  ],
);
"#
    );
    let conf_path = dir.write("config.capnp", &config);
    let mut cmd = Command::new(bin);
    cmd.arg("serve").arg(&conf_path).current_dir(dir.path());
    let ports = routes
        .iter()
        .map(|r| (*r, if *r == Route::Hello { hello_port } else { rewrite_port }))
        .collect();
    Server::start("workerd", cmd, dir, ports).await
}

/// workerd with `count` workers `w0..` (each answering `worker N`, its own
/// service and socket) plus the hello worker; `ports[i]` serves worker i.
pub async fn workerd_many(
    bin: &Path,
    count: usize,
    compat_date: &str,
    hello_js: &str,
    script: impl Fn(usize) -> String,
) -> Result<(Server, Vec<u16>), String> {
    let dir = TempDir::new("bench-workerd-many");
    dir.write("hello.js", hello_js);
    // Hold every listener until all ports are chosen, so no port is handed out twice.
    let held: Vec<std::net::TcpListener> = (0..=count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}")))
        .collect::<Result<_, _>>()?;
    let mut ports: Vec<u16> = held
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()).unwrap_or(0))
        .collect();
    drop(held);
    let hello_port = ports.pop().unwrap_or(0);
    let mut services = format!(
        "    (name = \"hello\", worker = (modules = [(name = \"hello.js\", esModule = embed \"hello.js\")], compatibilityDate = \"{compat_date}\")),\n"
    );
    let mut sockets =
        format!("    (name = \"hello\", address = \"127.0.0.1:{hello_port}\", http = (), service = \"hello\"),\n");
    for (i, port) in ports.iter().enumerate() {
        dir.write(&format!("w{i}.js"), &script(i));
        services.push_str(&format!(
            "    (name = \"w{i}\", worker = (modules = [(name = \"w{i}.js\", esModule = embed \"w{i}.js\")], compatibilityDate = \"{compat_date}\")),\n"
        ));
        sockets.push_str(&format!(
            "    (name = \"w{i}\", address = \"127.0.0.1:{port}\", http = (), service = \"w{i}\"),\n"
        ));
    }
    let config = format!(
        "using Workerd = import \"/workerd/workerd.capnp\";\nconst config :Workerd.Config = (\n  services = [\n{services}  ],\n  sockets = [\n{sockets}  ],\n);\n"
    );
    let conf_path = dir.write("config.capnp", &config);
    let mut cmd = Command::new(bin);
    cmd.arg("serve").arg(&conf_path).current_dir(dir.path());
    let server = Server::start("workerd", cmd, dir, vec![(Route::Hello, hello_port)]).await?;
    Ok((server, ports))
}

pub fn nginx_path() -> Option<PathBuf> {
    find_tool("NGINX", &[PathBuf::from("/usr/sbin/nginx")], "nginx")
}

pub fn njs_module_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NGINX_NJS_MODULE") {
        return Some(PathBuf::from(p));
    }
    [
        "/usr/lib/nginx/modules/ngx_http_js_module.so",
        "/usr/share/nginx/modules/ngx_http_js_module.so",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// njs handlers: a request-phase variable for the upstream request header
/// (`js_set`) and a response-header filter (`js_header_filter`).
const NJS: &str = r#"function edit(r) { return "1"; }
function headers(r) { r.headersOut["x-served-by"] = "isoproxy"; }
export default { edit, headers };
"#;

/// nginx, one process (`master_process off`), proxying to `origin` with
/// upstream keep-alive: plain proxying on one port and, if `njs` is given,
/// the two header edits in njs on another. `routes` pairs each route with
/// whether it is an njs route.
pub async fn nginx(
    bin: &Path,
    njs: Option<&Path>,
    origin: SocketAddr,
    routes: &[(Route, bool)],
) -> Result<Server, String> {
    let dir = TempDir::new("bench-nginx");
    let d = dir.path().display().to_string();
    std::fs::create_dir_all(dir.path().join("tmp")).map_err(|e| e.to_string())?;
    dir.write("bench.js", NJS);
    let (plain_port, njs_port) = (free_port(), free_port());
    let proxy = "proxy_pass http://origin;\n      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";";
    let (load_module, njs_http, njs_server) = match njs {
        Some(module) => (
            format!("load_module {};", module.display()),
            format!("js_import bench from {d}/bench.js;\n  js_set $bench_edit bench.edit;"),
            format!(
                "server {{\n    listen 127.0.0.1:{njs_port};\n    location / {{\n      {proxy}\n      proxy_set_header X-Bench-Edit $bench_edit;\n      js_header_filter bench.headers;\n    }}\n  }}"
            ),
        ),
        None => Default::default(),
    };
    let conf = format!(
        r#"{load_module}
daemon off;
master_process off;
worker_processes 1;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path {d}/tmp/body;
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
  proxy_buffer_size 16k;
  proxy_buffers 16 16k;
  proxy_busy_buffers_size 64k;
  proxy_max_temp_file_size 0;
  upstream origin {{
    server {origin};
    keepalive 256;
    keepalive_requests 100000000;
  }}
  {njs_http}
  server {{
    listen 127.0.0.1:{plain_port};
    location / {{
      {proxy}
    }}
  }}
  {njs_server}
}}
"#
    );
    let conf_path = dir.write("nginx.conf", &conf);
    let mut cmd = Command::new(bin);
    cmd.arg("-p")
        .arg(dir.path())
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .arg("-c")
        .arg(&conf_path);
    let ports = routes
        .iter()
        .map(|(r, is_njs)| (*r, if *is_njs { njs_port } else { plain_port }))
        .collect();
    Server::start("nginx", cmd, dir, ports).await
}
