//! Integration-test harness: a real origin server on loopback, the real
//! `isoproxy` binary started with a generated config, and real HTTP clients.
#![allow(dead_code)]

use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use tokio::net::TcpListener;

pub mod h2raw;
pub mod ws;

pub const BIN: &str = env!("CARGO_BIN_EXE_isoproxy");

/// A free TCP port on 127.0.0.1 (bound then released).
///
/// The kernel may hand the same ephemeral port to two binds in a row once
/// the first listener is closed, so a test asking for two ports (proxy
/// and admin) could get one twice; ports already given out in this test
/// process are never given again.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "isoproxy-test-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

type OriginBody = BoxBody<Bytes, Infallible>;

fn full(b: impl Into<Bytes>) -> OriginBody {
    Full::new(b.into()).boxed()
}

/// The test origin's behaviour, by path:
/// - `/bytes/N`: N bytes (`i % 251`), streamed in 64 KiB chunks, with Content-Length.
/// - `/upload`: reads the whole body streaming; answers `{"len": N, "sum": S}`.
/// - `/status/N`: answers with status N.
/// - `/redirect?to=URL`: 302 to URL.
/// - `/sleep/MS`: waits MS milliseconds, then echoes.
/// - anything else: echoes the request as JSON (method, path, query, headers, body).
async fn origin_handler(
    req: Request<Incoming>,
    tag: &'static str,
    seen: Seen,
) -> Result<Response<OriginBody>, Infallible> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let sep = if query.is_empty() { "" } else { "?" };
    seen.lock()
        .unwrap()
        .push(format!("{} {path}{sep}{query}", req.method()));
    if let Some(n) = path.strip_prefix("/bytes/") {
        let total: u64 = n.parse().unwrap_or(0);
        let stream = futures_util::stream::unfold(0u64, move |sent| async move {
            if sent >= total {
                return None;
            }
            let n = (total - sent).min(64 * 1024) as usize;
            let chunk: Vec<u8> = (0..n).map(|i| ((sent as usize + i) % 251) as u8).collect();
            Some((Ok::<_, Infallible>(Frame::data(Bytes::from(chunk))), sent + n as u64))
        });
        return Ok(Response::builder()
            .header("content-length", total.to_string())
            .header("x-origin", tag)
            .body(BodyExt::boxed(StreamBody::new(stream)))
            .unwrap());
    }
    if path == "/upload" {
        let mut body = req.into_body();
        let (mut len, mut sum) = (0u64, 0u64);
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { break };
            if let Some(d) = frame.data_ref() {
                len += d.len() as u64;
                sum = d.iter().fold(sum, |s, b| s.wrapping_add(*b as u64));
            }
        }
        return Ok(Response::builder()
            .header("content-type", "application/json")
            .header("x-origin", tag)
            .body(full(format!("{{\"len\":{len},\"sum\":{sum}}}")))
            .unwrap());
    }
    if let Some(code) = path.strip_prefix("/status/") {
        let code: u16 = code.parse().unwrap_or(500);
        return Ok(Response::builder()
            .status(code)
            .header("x-origin", tag)
            .body(full(format!("status {code}")))
            .unwrap());
    }
    if path == "/redirect" {
        let to = query.strip_prefix("to=").unwrap_or("/");
        let to = percent_decode(to);
        return Ok(Response::builder()
            .status(302)
            .header("location", to)
            .body(full("moved"))
            .unwrap());
    }
    if let Some(ms) = path.strip_prefix("/sleep/") {
        tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
    }
    let method = req.method().to_string();
    let mut headers = serde_json::Map::new();
    for (k, v) in req.headers() {
        headers.insert(
            k.as_str().to_string(),
            serde_json::Value::String(String::from_utf8_lossy(v.as_bytes()).into()),
        );
    }
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let echo = serde_json::json!({
        "origin": tag,
        "method": method,
        "path": path,
        "query": query,
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    });
    Ok(Response::builder()
        .header("content-type", "application/json")
        .header("x-origin", tag)
        .header("set-cookie", "a=1")
        .header("set-cookie", "b=2")
        .body(full(echo.to_string()))
        .unwrap())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into()
}

/// Every request an origin saw, as "METHOD /path?query".
type Seen = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A plain-HTTP origin on 127.0.0.1; stops when dropped.
pub struct Origin {
    pub addr: SocketAddr,
    seen: Seen,
    task: tokio::task::JoinHandle<()>,
}

impl Origin {
    pub async fn start(tag: &'static str) -> Origin {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Seen::default();
        let log = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let log = log.clone();
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let svc = hyper::service::service_fn(move |req| origin_handler(req, tag, log.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, svc)
                        .await;
                });
            }
        });
        Origin { addr, seen, task }
    }

    /// The requests seen so far ("METHOD /path?query").
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An HTTPS origin with a self-signed certificate for `name`; the
/// certificate's PEM is written to `ca_file` for the proxy to trust.
pub struct TlsOrigin {
    pub addr: SocketAddr,
    pub ca_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl TlsOrigin {
    pub async fn start(tag: &'static str, name: &str) -> TlsOrigin {
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        let cert = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
        let ca_pem = cert.cert.pem();
        let der = cert.cert.der().clone();
        let key = tokio_rustls::rustls::pki_types::PrivateKeyDer::try_from(cert.key_pair.serialize_der()).unwrap();
        let config = tokio_rustls::rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![der], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let io = hyper_util::rt::TokioIo::new(tls);
                    let svc = hyper::service::service_fn(move |req| origin_handler(req, tag, Seen::default()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, svc)
                        .await;
                });
            }
        });
        TlsOrigin { addr, ca_pem, task }
    }
}

impl Drop for TlsOrigin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The real isoproxy binary serving a generated config.
pub struct Proxy {
    child: Child,
    pub port: u16,
    pub admin_port: u16,
    pub dir: TempDir,
    log_path: PathBuf,
}

/// Builds a config: `[server]` with free ports is generated; the test gives
/// the rest (`[runtime]`, `[[workers]]`, `[[routes]]`) and the script files.
pub struct ProxyBuilder {
    dir: TempDir,
    body: String,
    env: Vec<(String, String)>,
    isolate_threads: usize,
    proxy_threads: usize,
    server: String,
}

impl Proxy {
    pub fn builder() -> ProxyBuilder {
        ProxyBuilder {
            dir: TempDir::new("proxy"),
            body: String::new(),
            env: Vec::new(),
            isolate_threads: 2,
            proxy_threads: 2,
            server: String::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.admin_port)
    }

    /// Everything the proxy logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Waits until the log contains `needle` (or panics after `timeout`).
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            if start.elapsed() > timeout {
                panic!("log never contained {needle:?}; log:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the process to exit on its own.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The admin listener's `/metrics` page (Prometheus text).
    pub async fn metrics(&self) -> String {
        client()
            .get(self.admin_url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// `GET /workers` on the admin listener, as JSON.
    pub async fn workers(&self) -> serde_json::Value {
        client()
            .get(self.admin_url("/workers"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The sum of a metric's samples whose labels contain every `labels` pair.
    pub async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let text = self.metrics().await;
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .filter(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Sends SIGHUP (a reload) to the proxy.
    pub fn hup(&self) {
        let ok = std::process::Command::new("kill")
            .args(["-HUP", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set size of the proxy process, in bytes.
    pub fn rss_bytes(&self) -> u64 {
        self.status_bytes("VmRSS:").unwrap_or(0)
    }

    /// The proxy process's peak resident set so far (VmHWM), in bytes.
    pub fn peak_rss_bytes(&self) -> u64 {
        self.status_bytes("VmHWM:").expect("VmHWM in /proc/PID/status")
    }

    /// A `kB` field of /proc/PID/status, in bytes.
    fn status_bytes(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    }
}

impl ProxyBuilder {
    pub fn script(self, name: &str, src: &str) -> Self {
        self.dir.write(name, src);
        self
    }
    pub fn config(mut self, toml: &str) -> Self {
        self.body.push_str(toml);
        self.body.push('\n');
        self
    }
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    /// Extra `[server]` keys (one `key = value` per line).
    pub fn server(mut self, toml: &str) -> Self {
        self.server.push_str(toml);
        self.server.push('\n');
        self
    }
    pub fn isolate_threads(mut self, n: usize) -> Self {
        self.isolate_threads = n;
        self
    }
    /// `server.threads` (2 unless told): with one, every connection is on
    /// the one proxy thread, so a light worker has one isolate.
    pub fn proxy_threads(mut self, n: usize) -> Self {
        self.proxy_threads = n;
        self
    }
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub async fn start(self) -> Proxy {
        let port = free_port();
        let admin_port = free_port();
        let runtime = if self.body.contains("[runtime]") {
            String::new()
        } else {
            format!("[runtime]\nisolate_threads = {}\n", self.isolate_threads)
        };
        let conf = format!(
            "[server]\nlisten = [\"127.0.0.1:{port}\"]\nadmin = \"127.0.0.1:{admin_port}\"\nthreads = {}\ngrace_period_seconds = 0\ngraceful_shutdown_timeout_seconds = 1\n{}\n{runtime}\n{}",
            self.proxy_threads, self.server, self.body
        );
        let conf_path = self.dir.write("isoproxy.toml", &conf);
        let log_path = self.dir.path().join("proxy.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut cmd = Command::new(BIN);
        cmd.arg("--conf")
            .arg(&conf_path)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start isoproxy");
        let mut proxy = Proxy {
            child,
            port,
            admin_port,
            dir: self.dir,
            log_path,
        };
        proxy.wait_ready().await;
        proxy
    }
}

impl Proxy {
    async fn wait_ready(&mut self) {
        let start = Instant::now();
        let client = client();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("isoproxy exited early with {status}; log:\n{}", self.log());
            }
            let health = client.get(self.admin_url("/healthz")).send().await;
            let listening = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok();
            if listening && health.is_ok_and(|r| r.status() == 200) {
                return;
            }
            if start.elapsed() > Duration::from_secs(30) {
                panic!("isoproxy not ready after 30 s; log:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that never uses a proxy from the environment.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// GET `url` with a Host header.
pub async fn get_host(url: &str, host: &str) -> reqwest::Response {
    client().get(url).header("host", host).send().await.unwrap()
}

/// One HTTP/1 keep-alive connection to the proxy, never replaced: its
/// requests all stay on the proxy thread that accepted it (so a light
/// worker's requests on it share that thread's isolate). A pooled client
/// may open a second connection, landing on another thread, when the
/// first has not gone back to its pool yet.
pub struct KeepAlive {
    send: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl KeepAlive {
    pub async fn open(proxy: &Proxy) -> KeepAlive {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        let (send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(conn);
        KeepAlive { send }
    }

    /// `GET path` with `host` on this connection: the status and the body.
    /// Panics if the connection was closed (a different thread next time).
    pub async fn get(&mut self, path: &str, host: &str) -> (u16, String) {
        self.send
            .ready()
            .await
            .expect("the keep-alive connection is still open");
        let req = Request::get(path)
            .header("host", host)
            .body(Full::new(Bytes::new()))
            .unwrap();
        let res = self.send.send_request(req).await.unwrap();
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}

/// Runs `isoproxy --test --conf FILE`: exit code and combined output.
pub fn check_config(conf: &Path) -> (i32, String) {
    let mut child = Command::new(BIN)
        .arg("--test")
        .arg("--conf")
        .arg(conf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut out).unwrap();
    let status = child.wait().unwrap();
    (status.code().unwrap_or(-1), out)
}

/// Drains a response body chunk by chunk, returning (length, byte sum),
/// and checks the `i % 251` pattern of `/bytes/N`.
pub async fn drain_pattern(resp: reqwest::Response) -> (u64, bool) {
    let mut stream = resp.bytes_stream();
    let mut len = 0u64;
    let mut ok = true;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        for (i, b) in chunk.iter().enumerate() {
            if *b != ((len as usize + i) % 251) as u8 {
                ok = false;
            }
        }
        len += chunk.len() as u64;
    }
    (len, ok)
}

/// A request body of `total` bytes (`i % 251`) streamed in 64 KiB chunks.
pub fn pattern_body(total: u64) -> reqwest::Body {
    let stream = futures_util::stream::unfold(0u64, move |sent| async move {
        if sent >= total {
            return None;
        }
        let n = (total - sent).min(64 * 1024) as usize;
        let chunk: Vec<u8> = (0..n).map(|i| ((sent as usize + i) % 251) as u8).collect();
        Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), sent + n as u64))
    });
    reqwest::Body::wrap_stream(stream)
}

/// The byte sum of the `/bytes/N` pattern, to compare with `/upload`'s.
pub fn pattern_sum(total: u64) -> u64 {
    let cycle: u64 = (0..251).sum();
    (total / 251) * cycle + (0..total % 251).sum::<u64>()
}

/// A real `redis-server` on 127.0.0.1 (installed by `./dev`), with no
/// persistence; killed when dropped. The one the unit tests use too.
#[allow(unused_imports)]
pub use test_support::RedisServer as Redis;
