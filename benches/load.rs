//! Load benchmark: one isoproxy process, one local origin, and the same
//! HTTP/1.1 keep-alive load put on three routes in turn:
//!
//! - `plain.bench/*`   plain proxy route to the origin (no worker),
//! - `hello.bench/*`   a worker answering by itself,
//! - `rewrite.bench/*` a worker passing to the origin and setting a header.
//!
//! Run with `cargo bench --bench load`; see benches/README.md for the knobs
//! (LOAD_SECONDS, LOAD_CONNECTIONS, ...) and how to read the table.

#[path = "../tests/common/mod.rs"]
mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use tokio::net::{TcpListener, TcpStream};

use common::Proxy;

/// The origin's constant answer (64 bytes).
const ORIGIN_BODY: &[u8] = b"isoproxy bench origin: a small constant body of sixty-four bytes\n";
/// The hello worker's constant answer.
const HELLO_BODY: &[u8] = b"Hello from an isolate!\n";

const HELLO_JS: &str = r#"export default {
  async fetch(request, env, ctx) {
    return new Response("Hello from an isolate!\n", { headers: { "content-type": "text/plain" } });
  },
};
"#;

const REWRITE_JS: &str = r#"export default {
  async fetch(request, env, ctx) {
    const res = await fetch(request);
    const out = new Response(res.body, res);
    out.headers.set("x-served-by", "isoproxy");
    return out;
  },
};
"#;

/// One request may take at most this long before it counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

struct Options {
    seconds: f64,
    warmup_seconds: f64,
    connections: usize,
    max_requests: u64,
    isolate_threads: usize,
    routes: Vec<String>,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid value")),
        Err(_) => default,
    }
}

impl Options {
    fn from_env() -> Options {
        let routes = std::env::var("LOAD_ROUTES").unwrap_or_else(|_| "plain,hello,rewrite".into());
        Options {
            seconds: env_or("LOAD_SECONDS", 10.0),
            warmup_seconds: env_or("LOAD_WARMUP_SECONDS", 1.0),
            connections: env_or("LOAD_CONNECTIONS", 32usize).max(1),
            max_requests: env_or("LOAD_MAX_REQUESTS", 2_000_000u64).max(1),
            isolate_threads: env_or("LOAD_ISOLATE_THREADS", 1usize).max(1),
            routes: routes
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }
}

/// What a route is asked and what it must answer.
struct Target {
    name: &'static str,
    host: &'static str,
    body: &'static [u8],
    header: Option<(&'static str, &'static str)>,
}

const TARGETS: [Target; 3] = [
    Target {
        name: "plain",
        host: "plain.bench",
        body: ORIGIN_BODY,
        header: None,
    },
    Target {
        name: "hello",
        host: "hello.bench",
        body: HELLO_BODY,
        header: None,
    },
    Target {
        name: "rewrite",
        host: "rewrite.bench",
        body: ORIGIN_BODY,
        header: Some(("x-served-by", "isoproxy")),
    },
];

/// A minimal origin answering every request with `ORIGIN_BODY` (with
/// Content-Length), so each route moves the same bytes and the origin's own
/// cost stays small and constant.
/// Connections the origin accepted so far (shows whether the proxy reuses
/// its upstream connections).
static ORIGIN_CONNECTIONS: AtomicU64 = AtomicU64::new(0);

async fn start_origin() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            ORIGIN_CONNECTIONS.fetch_add(1, Ordering::Relaxed);
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let svc = hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                    // Drain whatever body the request has (none for GET).
                    let _ = req.into_body().collect().await;
                    Ok::<_, Infallible>(
                        Response::builder()
                            .header("content-type", "text/plain")
                            .body(Full::new(Bytes::from_static(ORIGIN_BODY)))
                            .unwrap(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, svc)
                    .await;
            });
        }
    });
    addr
}

/// What one connection saw.
#[derive(Default)]
struct ConnStats {
    /// Latency in microseconds of each request completed inside the measured window.
    latencies_us: Vec<u32>,
    /// Failed requests (transport error, timeout, wrong status, body or header), warm-up included.
    errors: u64,
    /// New connections opened after the first one.
    reconnects: u64,
    first_error: Option<String>,
}

impl ConnStats {
    fn error(&mut self, what: String) {
        self.errors += 1;
        self.first_error.get_or_insert(what);
    }
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Empty<Bytes>>, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// One request on `sender`: Ok(()) if the answer is the expected one.
async fn one_request(sender: &mut SendRequest<Empty<Bytes>>, target: &Target) -> Result<(), (String, bool)> {
    // The bool says whether the connection is unusable afterwards.
    sender
        .ready()
        .await
        .map_err(|e| (format!("connection not ready: {e}"), true))?;
    let req = Request::builder()
        .method("GET")
        .uri("/bench")
        .header("host", target.host)
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| (format!("send: {e}"), true))?;
    let status = resp.status();
    let header_ok = match target.header {
        Some((k, v)) => resp.headers().get(k).is_some_and(|h| h.as_bytes() == v.as_bytes()),
        None => true,
    };
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| (format!("body: {e}"), true))?
        .to_bytes();
    if status != 200 {
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        return Err((format!("status {status}: {text:?}"), false));
    }
    if body.as_ref() != target.body {
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        return Err((format!("unexpected body ({} bytes): {text:?}", body.len()), false));
    }
    if !header_ok {
        let (k, v) = target.header.unwrap();
        return Err((format!("missing header {k}: {v}"), false));
    }
    Ok(())
}

/// One client connection sending requests back to back until `end` or
/// until the route's request budget is spent. Requests completing at or
/// after `measure_from` are recorded.
async fn drive(
    addr: SocketAddr,
    target: &'static Target,
    measure_from: Instant,
    end: Instant,
    counted: Arc<AtomicU64>,
    max_requests: u64,
) -> ConnStats {
    let mut stats = ConnStats {
        latencies_us: Vec::with_capacity(16 * 1024),
        ..Default::default()
    };
    let mut sender: Option<SendRequest<Empty<Bytes>>> = None;
    let mut opened = 0u64;
    loop {
        let now = Instant::now();
        if now >= end || counted.load(Ordering::Relaxed) >= max_requests {
            break;
        }
        if sender.is_none() {
            match connect(addr).await {
                Ok(s) => {
                    opened += 1;
                    sender = Some(s);
                }
                Err(e) => {
                    stats.error(e);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let started = Instant::now();
        let result = tokio::time::timeout(REQUEST_TIMEOUT, one_request(sender.as_mut().unwrap(), target)).await;
        let done = Instant::now();
        match result {
            Ok(Ok(())) => {
                if done >= measure_from && done <= end {
                    stats
                        .latencies_us
                        .push((done - started).as_micros().min(u32::MAX as u128) as u32);
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(Err((e, broken))) => {
                stats.error(e);
                if broken {
                    sender = None;
                }
            }
            Err(_) => {
                stats.error(format!("timeout after {REQUEST_TIMEOUT:?}"));
                sender = None;
            }
        }
    }
    stats.reconnects = opened.saturating_sub(1);
    stats
}

struct RouteResult {
    name: &'static str,
    requests: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    reconnects: u64,
    origin_connections: u64,
    proxy_cpu: Option<f64>,
    first_error: Option<String>,
}

impl RouteResult {
    fn rps(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }
    /// The proxy's CPU time per counted request, in microseconds.
    fn cpu_us_per_request(&self) -> Option<f64> {
        let cpu = self.proxy_cpu?;
        (self.requests > 0).then(|| cpu * self.seconds / self.requests as f64 * 1e6)
    }
}

/// A latency for the table ("-" when there was none).
fn ms(v: f64) -> String {
    if v.is_finite() { format!("{v:.2}") } else { "-".into() }
}

fn percentile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us[rank - 1] as f64 / 1000.0
}

/// The proxy's CPU time so far (user + system), from /proc/PID/stat.
fn proxy_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after "(comm) ".
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    // sysconf(_SC_CLK_TCK) is 100 on every Linux we run on; `getconf` confirms it if present.
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Whether the proxy process is still running (not gone, not a zombie).
fn proxy_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat.get(i + 2..i + 3))
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

async fn run_route(proxy: &Proxy, target: &'static Target, opts: &Options) -> RouteResult {
    let addr: SocketAddr = ([127, 0, 0, 1], proxy.port).into();
    let counted = Arc::new(AtomicU64::new(0));
    let origin_before = ORIGIN_CONNECTIONS.load(Ordering::Relaxed);
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(opts.warmup_seconds);
    let end = measure_from + Duration::from_secs_f64(opts.seconds);

    // Sample the proxy's CPU time at the window's edges, alongside the load.
    let pid = proxy.pid();
    let cpu_task = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        let (t0, c0) = (Instant::now(), proxy_cpu_seconds(pid));
        tokio::time::sleep_until(end.into()).await;
        let (t1, c1) = (Instant::now(), proxy_cpu_seconds(pid));
        Some((c1? - c0?) / (t1 - t0).as_secs_f64())
    });

    let tasks: Vec<_> = (0..opts.connections)
        .map(|_| {
            tokio::spawn(drive(
                addr,
                target,
                measure_from,
                end,
                counted.clone(),
                opts.max_requests,
            ))
        })
        .collect();
    let mut latencies = Vec::new();
    let (mut errors, mut reconnects, mut first_error) = (0, 0, None);
    for task in tasks {
        let stats = task.await.expect("load task panicked");
        latencies.extend_from_slice(&stats.latencies_us);
        errors += stats.errors;
        reconnects += stats.reconnects;
        if first_error.is_none() {
            first_error = stats.first_error;
        }
    }
    // The window is cut short if the request cap was reached first.
    let finished = Instant::now().min(end);
    let seconds = finished.saturating_duration_since(measure_from).as_secs_f64();
    let proxy_cpu = if finished < end {
        cpu_task.abort();
        None
    } else {
        cpu_task.await.ok().flatten()
    };
    latencies.sort_unstable();
    RouteResult {
        name: target.name,
        requests: latencies.len() as u64,
        seconds,
        p50_ms: percentile_ms(&latencies, 0.50),
        p99_ms: percentile_ms(&latencies, 0.99),
        errors,
        reconnects,
        origin_connections: ORIGIN_CONNECTIONS.load(Ordering::Relaxed) - origin_before,
        proxy_cpu,
        first_error,
    }
}

fn config(origin: SocketAddr) -> String {
    format!(
        r#"
[[workers]]
name = "hello"
main = "hello.js"

[[workers]]
name = "rewrite"
main = "rewrite.js"

[[routes]]
pattern = "plain.bench/*"
origin = "http://{origin}"

[[routes]]
pattern = "hello.bench/*"
worker = "hello"

[[routes]]
pattern = "rewrite.bench/*"
worker = "rewrite"
origin = "http://{origin}"
"#
    )
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test
    // --all-targets`) only checks that this builds.
    if !std::env::args().any(|a| a == "--bench") {
        println!("load: skipped (run with `cargo bench --bench load`)");
        return;
    }
    let opts = Options::from_env();
    for r in &opts.routes {
        if !TARGETS.iter().any(|t| t.name == r) {
            eprintln!("load: unknown route {r:?} in LOAD_ROUTES (known: plain, hello, rewrite)");
            std::process::exit(2);
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ok = rt.block_on(bench(&opts));
    // Dropping the runtime (and the proxy inside `bench`) has happened by now.
    if !ok {
        std::process::exit(1);
    }
}

async fn bench(opts: &Options) -> bool {
    let origin = start_origin().await;
    let proxy = Proxy::builder()
        .isolate_threads(opts.isolate_threads)
        .env(
            "RUST_LOG",
            &std::env::var("LOAD_RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .script("hello.js", HELLO_JS)
        .script("rewrite.js", REWRITE_JS)
        .config(&config(origin))
        .start()
        .await;

    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "isoproxy load: {} connections (HTTP/1.1 keep-alive), {} s per route after {} s warm-up, cap {} requests/route",
        opts.connections, opts.seconds, opts.warmup_seconds, opts.max_requests
    );
    println!(
        "one proxy process: server threads = 2, isolate_threads = {}; client, origin and proxy share {cores} cores",
        opts.isolate_threads
    );
    println!();
    println!(
        "{:<8} {:>9} {:>9} {:>8} {:>8} {:>7} {:>10} {:>10}",
        "route", "requests", "req/s", "p50 ms", "p99 ms", "errors", "proxy cpu", "cpu us/req"
    );

    let mut results = Vec::new();
    for target in TARGETS.iter().filter(|t| opts.routes.iter().any(|r| r == t.name)) {
        let r = run_route(&proxy, target, opts).await;
        let cpu = r
            .proxy_cpu
            .map(|c| format!("{:.0}%", c * 100.0))
            .unwrap_or_else(|| "-".into());
        let per_req = r
            .cpu_us_per_request()
            .map(|us| format!("{us:.1}"))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<8} {:>9} {:>9.0} {:>8} {:>8} {:>7} {:>10} {:>10}",
            r.name,
            r.requests,
            r.rps(),
            ms(r.p50_ms),
            ms(r.p99_ms),
            r.errors,
            cpu,
            per_req
        );
        results.push(r);
        if !proxy_alive(proxy.pid()) {
            println!("\nthe proxy exited during the {} route", target.name);
            break;
        }
    }

    println!();
    if let Some(plain) = results.iter().find(|r| r.name == "plain").filter(|p| p.rps() > 0.0) {
        for r in results.iter().filter(|r| r.name != "plain") {
            let cpu = match (r.cpu_us_per_request(), plain.cpu_us_per_request()) {
                (Some(a), Some(b)) if b > 0.0 => format!(", {:.2}x proxy CPU per request", a / b),
                _ => String::new(),
            };
            println!("{:<8} / plain: {:.2}x req/s{cpu}", r.name, r.rps() / plain.rps());
        }
    }
    let opened: Vec<String> = results
        .iter()
        .map(|r| format!("{} {}", r.name, r.origin_connections))
        .collect();
    println!("origin connections opened by the proxy: {}", opened.join(", "));
    for r in &results {
        if r.reconnects > 0 {
            println!(
                "note: {} reopened {} connection(s) (the proxy closed keep-alive connections)",
                r.name, r.reconnects
            );
        }
        if r.seconds + 0.001 < opts.seconds {
            println!("note: {} hit the request cap after {:.1} s", r.name, r.seconds);
        }
    }
    println!(
        "proxy RSS after the run: {:.1} MiB",
        proxy.rss_bytes() as f64 / (1024.0 * 1024.0)
    );

    let failed: Vec<_> = results.iter().filter(|r| r.errors > 0 || r.requests == 0).collect();
    let alive = proxy_alive(proxy.pid());
    if failed.is_empty() && alive && results.len() == opts.routes.len() {
        return true;
    }
    for r in failed {
        eprintln!(
            "FAILED {}: {} errors, {} requests; first error: {}",
            r.name,
            r.errors,
            r.requests,
            r.first_error.as_deref().unwrap_or("-")
        );
    }
    if !alive {
        eprintln!("FAILED: the proxy is no longer running");
    }
    let log = proxy.log();
    let tail: Vec<&str> = log.lines().rev().take(20).collect();
    if !tail.is_empty() {
        eprintln!("proxy log (last {} lines):", tail.len());
        for line in tail.iter().rev() {
            eprintln!("  {line}");
        }
    }
    false
}
