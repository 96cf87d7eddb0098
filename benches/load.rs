//! Load benchmark: isoproxy's plain route and workers against each other
//! and against baselines, in one run, behind one local origin, under the
//! same load generator:
//!
//! - throughput: closed-loop req/s and CPU per request of isoproxy's
//!   routes (plain, hello, rewrite, 64 KiB bodies), a bare Pingora proxy
//!   making the same header edits in Rust, workerd running the same
//!   scripts, and nginx (plain and with njs making the edits);
//! - latency: p50/p99 of plain vs rewrite at a fixed sub-saturation rate
//!   (open loop);
//! - fairness: the hello worker's p99 alone, beside a worker spinning at
//!   its CPU limit, and beside a busy worker (6 ms of JS a request, under
//!   its limit and under the 10 ms that one slice may take);
//! - routes: a plain route's req/s with 10 and with 10,000 routes;
//! - coldstart: process spawn to the first 200, isoproxy vs bare Pingora
//!   (and workerd, nginx).
//!
//! Run with `cargo bench --bench load`; see benches/README.md for the knobs
//! (LOAD_SECONDS, LOAD_SCENARIOS, LOAD_BASELINES, ...) and how to read the
//! output. Run as `load --bare-pingora LISTEN ORIGIN` the binary is the bare
//! Pingora baseline (bare_pingora.rs).

#[path = "../tests/common/mod.rs"]
mod common;

#[path = "load/bare_pingora.rs"]
mod bare_pingora;
#[path = "load/client.rs"]
mod client;
#[path = "load/origin.rs"]
mod origin;
#[path = "load/servers.rs"]
mod servers;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use client::{Expect, Load, LoadResult, Target};
use servers::Server;

/// The hello worker's constant answer.
const HELLO_BODY: &[u8] = b"Hello from an isolate!\n";

const HELLO_JS: &str = r#"export default {
  async fetch(request, env, ctx) {
    return new Response("Hello from an isolate!\n", { headers: { "content-type": "text/plain" } });
  },
};
"#;

/// The header-rewriting worker of the performance issue: passes a
/// rewritten request to the origin, edits the origin's response.
const REWRITE_JS: &str = r#"export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const res = await fetch(new Request(url, request));
    const out = new Response(res.body, res);
    out.headers.set("x-served-by", "isoproxy");
    return out;
  },
};
"#;

/// A worker that spins until the runtime stops it at its CPU limit.
const SPIN_JS: &str = r#"export default {
  async fetch(request, env, ctx) {
    for (;;) {}
  },
};
"#;

/// A worker using 6 ms of JS on every request: under its CPU limit and
/// under the 10 ms one slice may take before its worker turns heavy.
const BUSY_JS: &str = r#"export default {
  async fetch(request, env, ctx) {
    const end = Date.now() + 6;
    while (Date.now() < end) {}
    return new Response("busy");
  },
};
"#;

/// The KV worker's value: 1 KiB, stored on the first request if missing.
const KV_BODY: &[u8] = &[b'k'; 1024];

/// A worker answering with a 1 KiB value read from Workers KV.
const KV_JS: &str = r#"const VALUE = "k".repeat(1024);
export default {
  async fetch(request, env, ctx) {
    let v = await env.KV.get("bench");
    if (v === null) {
      await env.KV.put("bench", VALUE);
      v = VALUE;
    }
    return new Response(v, { headers: { "content-type": "text/plain" } });
  },
};
"#;

/// The compatibility date every worker runs with, in isoproxy and in
/// workerd: the one the differential suite records workerd's goldens at.
const COMPAT_DATE: &str = include_str!("../tests/diff/COMPAT_DATE");

/// What a request asks for; each server serves some of these.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    /// Plain proxying to the origin, 64-byte body.
    Plain,
    /// A worker answering by itself.
    Hello,
    /// The rewriting worker (or the same two header edits), 64-byte body.
    Rewrite,
    /// Plain proxying, 64 KiB body.
    Plain64k,
    /// The rewriting worker, 64 KiB body.
    Rewrite64k,
    /// A worker spinning at its CPU limit (answers 5xx).
    Spin,
    /// A worker using 6 ms of JS a request.
    Busy,
    /// A worker answering with a 1 KiB Workers KV value.
    KvGet,
}

const LOAD_ROUTES: [Route; 5] = [
    Route::Plain,
    Route::Hello,
    Route::Rewrite,
    Route::Plain64k,
    Route::Rewrite64k,
];

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::Plain => "plain",
            Route::Hello => "hello",
            Route::Rewrite => "rewrite",
            Route::Plain64k => "plain-64k",
            Route::Rewrite64k => "rewrite-64k",
            Route::Spin => "spin",
            Route::Busy => "busy",
            Route::KvGet => "kv-get",
        }
    }

    fn host(self) -> &'static str {
        match self {
            Route::Plain | Route::Plain64k => "plain.bench",
            Route::Hello => "hello.bench",
            Route::Rewrite | Route::Rewrite64k => "rewrite.bench",
            Route::Spin => "spin.bench",
            Route::Busy => "busy.bench",
            Route::KvGet => "kv.bench",
        }
    }

    pub fn target(self, addr: SocketAddr) -> Target {
        let served_by = Some(("x-served-by", "isoproxy"));
        let (path, expect) = match self {
            Route::Plain => (
                "/bench",
                Expect::Ok {
                    body: Bytes::from_static(origin::SMALL_BODY),
                    header: None,
                },
            ),
            Route::Hello => (
                "/bench",
                Expect::Ok {
                    body: Bytes::from_static(HELLO_BODY),
                    header: None,
                },
            ),
            Route::Rewrite => (
                "/bench",
                Expect::Ok {
                    body: Bytes::from_static(origin::SMALL_BODY),
                    header: served_by,
                },
            ),
            Route::Plain64k => (
                "/big",
                Expect::Ok {
                    body: origin::BIG_BODY.clone(),
                    header: None,
                },
            ),
            Route::Rewrite64k => (
                "/big",
                Expect::Ok {
                    body: origin::BIG_BODY.clone(),
                    header: served_by,
                },
            ),
            Route::Spin => ("/bench", Expect::ServerError),
            Route::Busy => (
                "/bench",
                Expect::Ok {
                    body: Bytes::from_static(b"busy"),
                    header: None,
                },
            ),
            Route::KvGet => (
                "/bench",
                Expect::Ok {
                    body: Bytes::from_static(KV_BODY),
                    header: None,
                },
            ),
        };
        Target {
            addr,
            host: self.host().to_string(),
            path,
            expect,
        }
    }
}

const SCENARIOS: [&str; 7] = [
    "throughput",
    "latency",
    "fairness",
    "routes",
    "coldstart",
    "isolates",
    "kv",
];
const BASELINES: [&str; 3] = ["pingora", "workerd", "nginx"];

struct Options {
    seconds: f64,
    warmup_seconds: f64,
    connections: usize,
    max_requests: u64,
    isolate_threads: usize,
    proxy_threads: usize,
    routes: Vec<Route>,
    scenarios: Vec<String>,
    baselines: Vec<String>,
    rate: f64,
    spin_connections: usize,
    /// Requests a second to the busy worker in `fairness` (open loop).
    busy_rate: f64,
    route_counts: Vec<usize>,
    coldstart_runs: usize,
    rounds: usize,
    /// Latency: interleaved windows per route (LOAD_LATENCY_ROUNDS).
    latency_rounds: usize,
    workers: usize,
    rust_log: String,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| fail_usage(&format!("{name}={v:?} is not a valid value"))),
        Err(_) => default,
    }
}

fn fail_usage(msg: &str) -> ! {
    eprintln!("load: {msg}");
    std::process::exit(2);
}

/// A comma-separated list from `name` (default `default`), each item checked against `known`.
fn env_list(name: &str, default: &str, known: &[&str]) -> Vec<String> {
    let raw = std::env::var(name).unwrap_or_else(|_| default.into());
    let items: Vec<String> = raw
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s != "none")
        .collect();
    for item in &items {
        if !known.contains(&item.as_str()) {
            fail_usage(&format!("unknown {item:?} in {name} (known: {})", known.join(", ")));
        }
    }
    items
}

impl Options {
    fn from_env() -> Options {
        let route_names: Vec<&str> = LOAD_ROUTES.iter().map(|r| r.name()).collect();
        let routes = env_list("LOAD_ROUTES", &route_names.join(","), &route_names)
            .iter()
            .filter_map(|n| LOAD_ROUTES.iter().copied().find(|r| r.name() == n))
            .collect();
        let route_counts = std::env::var("LOAD_ROUTE_COUNTS")
            .unwrap_or_else(|_| "10,10000".into())
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .unwrap_or_else(|| fail_usage(&format!("LOAD_ROUTE_COUNTS: {s:?} is not a count >= 1")))
            })
            .collect();
        Options {
            seconds: env_or("LOAD_SECONDS", 10.0),
            warmup_seconds: env_or("LOAD_WARMUP_SECONDS", 1.0),
            connections: env_or("LOAD_CONNECTIONS", 32usize).max(1),
            max_requests: env_or("LOAD_MAX_REQUESTS", 2_000_000u64).max(1),
            isolate_threads: env_or("LOAD_ISOLATE_THREADS", 1usize).max(1),
            proxy_threads: env_or("LOAD_PROXY_THREADS", 1usize).max(1),
            routes,
            scenarios: env_list("LOAD_SCENARIOS", &SCENARIOS.join(","), &SCENARIOS),
            baselines: env_list("LOAD_BASELINES", &BASELINES.join(","), &BASELINES),
            rate: env_or("LOAD_RATE", 2000.0f64).max(1.0),
            spin_connections: env_or("LOAD_SPIN_CONNECTIONS", 4usize).max(1),
            busy_rate: env_or("LOAD_BUSY_RATE", 50.0f64).max(1.0),
            route_counts,
            coldstart_runs: env_or("LOAD_COLDSTART_RUNS", 10usize).max(1),
            rounds: env_or("LOAD_ROUNDS", 1usize).max(1),
            latency_rounds: env_or("LOAD_LATENCY_ROUNDS", 4usize).max(1),
            workers: env_or("LOAD_WORKERS", 1000usize).max(2),
            rust_log: std::env::var("LOAD_RUST_LOG").unwrap_or_else(|_| "warn".into()),
        }
    }

    fn scenario(&self, name: &str) -> bool {
        self.scenarios.iter().any(|s| s == name)
    }

    fn baseline(&self, name: &str) -> bool {
        self.baselines.iter().any(|s| s == name)
    }

    fn closed(&self) -> Load {
        Load {
            connections: self.connections,
            warmup: Duration::from_secs_f64(self.warmup_seconds),
            seconds: Duration::from_secs_f64(self.seconds),
            max_requests: self.max_requests,
            rate: None,
        }
    }

    /// Round `round`'s share of the closed-loop load (LOAD_ROUNDS).
    fn window(&self, round: usize) -> Load {
        self.share(self.closed(), round, self.rounds)
    }

    /// Window `round` of `rounds` of the open-loop load (latency).
    fn open_window(&self, round: usize, rounds: usize) -> Load {
        self.share(self.open(), round, rounds)
    }

    /// `load` over window `round` of `rounds`: `seconds` split evenly, the
    /// full warm-up before the first window, a short one before the others
    /// (new client connections; isolates and pools are warm by then).
    fn share(&self, load: Load, round: usize, rounds: usize) -> Load {
        let warmup = if round == 0 {
            self.warmup_seconds
        } else {
            self.warmup_seconds.min(0.25)
        };
        Load {
            warmup: Duration::from_secs_f64(warmup),
            seconds: Duration::from_secs_f64(self.seconds / rounds as f64),
            ..load
        }
    }

    fn open(&self) -> Load {
        Load {
            rate: Some(self.rate),
            ..self.closed()
        }
    }
}

/// The `[runtime]` table's header and thread keys: `LOAD_JS_ON_PROXY_THREADS`
/// (`true`/`false`; unset: the binary's default) sets `js_on_proxy_threads`,
/// to compare JS on the proxy threads with JS on the isolate threads.
fn runtime_table(isolate_threads: usize) -> String {
    let mut table = format!("[runtime]\nisolate_threads = {isolate_threads}\n");
    if let Ok(on) = std::env::var("LOAD_JS_ON_PROXY_THREADS") {
        let on: bool = on
            .parse()
            .unwrap_or_else(|_| fail_usage(&format!("LOAD_JS_ON_PROXY_THREADS: {on:?} is not true or false")));
        table.push_str(&format!("js_on_proxy_threads = {on}\n"));
    }
    table
}

/// The main isoproxy config after `[server]`: the plain route and the
/// hello, rewrite and spin workers, and with `busy` the busy worker (not in
/// `coldstart`'s, which keeps the three workers it has always measured).
fn main_config(origin: SocketAddr, isolate_threads: usize, busy: bool) -> String {
    let date = COMPAT_DATE.trim();
    let mut conf = runtime_table(isolate_threads);
    let names: &[&str] = if busy {
        &["hello", "rewrite", "spin", "busy"]
    } else {
        &["hello", "rewrite", "spin"]
    };
    for name in names {
        let _ = write!(
            conf,
            "\n[[workers]]\nname = \"{name}\"\nmain = \"{name}.js\"\ncompatibility_date = \"{date}\"\n"
        );
    }
    let _ = write!(
        conf,
        r#"
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

[[routes]]
pattern = "spin.bench/*"
worker = "spin"
"#
    );
    if busy {
        conf.push_str("\n[[routes]]\npattern = \"busy.bench/*\"\nworker = \"busy\"\n");
    }
    conf
}

fn scripts() -> Vec<(String, String)> {
    [
        ("hello.js", HELLO_JS),
        ("rewrite.js", REWRITE_JS),
        ("spin.js", SPIN_JS),
        ("busy.js", BUSY_JS),
    ]
    .iter()
    .map(|(f, s)| (f.to_string(), s.to_string()))
    .collect()
}

/// Worker `i` of the isolates scenario: a distinct module answering `worker i`.
fn numbered_worker_js(i: usize) -> String {
    format!("const ID = {i};\nexport default {{ fetch() {{ return new Response(`worker ${{ID}}`); }} }};\n")
}

/// isoproxy config for the isolates scenario: the hello worker (the
/// readiness probe) and `count` numbered workers `wI.bench`.
fn workers_config(isolate_threads: usize, count: usize) -> (String, Vec<(String, String)>) {
    let date = COMPAT_DATE.trim();
    let mut conf = format!(
        "{}\n[[workers]]\nname = \"hello\"\nmain = \"hello.js\"\ncompatibility_date = \"{date}\"\n\n[[routes]]\npattern = \"hello.bench/*\"\nworker = \"hello\"\n",
        runtime_table(isolate_threads)
    );
    let mut files = vec![("hello.js".to_string(), HELLO_JS.to_string())];
    for i in 0..count {
        let _ = write!(
            conf,
            "\n[[workers]]\nname = \"w{i}\"\nmain = \"w{i}.js\"\ncompatibility_date = \"{date}\"\n\n[[routes]]\npattern = \"w{i}.bench/*\"\nworker = \"w{i}\"\n"
        );
        files.push((format!("w{i}.js"), numbered_worker_js(i)));
    }
    (conf, files)
}

/// A config with `count` plain routes: half exact hosts, half wildcards
/// (`*.wN.bench/*`), and last of all the measured `plain.bench/*`, so a
/// lookup that scans the list sees every other route first.
fn routes_config(origin: SocketAddr, isolate_threads: usize, count: usize) -> String {
    let mut conf = runtime_table(isolate_threads);
    for i in 0..count.saturating_sub(1) {
        let pattern = if i % 2 == 0 {
            format!("r{i}.bench/*")
        } else {
            format!("*.w{i}.bench/*")
        };
        let _ = write!(
            conf,
            "\n[[routes]]\npattern = \"{pattern}\"\norigin = \"http://{origin}\"\n"
        );
    }
    let _ = write!(
        conf,
        "\n[[routes]]\npattern = \"plain.bench/*\"\norigin = \"http://{origin}\"\n"
    );
    conf
}

/// A target a ratio is read against.
#[derive(Clone, Copy)]
enum Goal {
    AtLeast(f64),
    AtMost(f64),
    /// About this ratio (within 5%).
    About(f64),
    /// No target: the figure is given for scale.
    Scale,
}

impl Goal {
    fn text(self, value: f64, unit: &str) -> String {
        let (what, met) = match self {
            Goal::AtLeast(t) => (format!("target >= {t}{unit}"), value >= t),
            Goal::AtMost(t) => (format!("target <= {t}{unit}"), value <= t),
            Goal::About(t) => (format!("target ~{t}{unit}"), (value / t - 1.0).abs() <= 0.05),
            Goal::Scale => return "(for scale)".into(),
        };
        if !value.is_finite() {
            return format!("({what})");
        }
        format!("({what}, {})", if met { "met" } else { "NOT met" })
    }
}

/// Collects the run's outcome: failures make the bench exit non-zero.
#[derive(Default)]
struct Run {
    failures: Vec<String>,
}

impl Run {
    /// Records a dead server.
    fn check_alive(&mut self, label: &str, server: &Server) {
        if !server.alive() {
            self.failures.push(format!(
                "{label}: {} is no longer running; log (tail):\n{}",
                server.name,
                indent(&server.log_tail(20))
            ));
        }
    }

    /// Records a failed load (errors, no requests, or a dead server).
    fn check(&mut self, label: &str, r: &LoadResult, server: &Server) {
        if r.errors > 0 || r.requests() == 0 {
            self.failures.push(format!(
                "{label}: {} errors, {} requests; first error: {}\n  {} log (tail):\n{}",
                r.errors,
                r.requests(),
                r.first_error.as_deref().unwrap_or("-"),
                server.name,
                indent(&server.log_tail(20))
            ));
        }
        self.check_alive(label, server);
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

fn ms(us: f64) -> String {
    if us.is_finite() {
        format!("{:.2}", us / 1000.0)
    } else {
        "-".into()
    }
}

fn opt_fmt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map(f).unwrap_or_else(|| "-".into())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--bare-pingora") {
        match (args.get(2), args.get(3)) {
            (Some(listen), Some(origin)) => bare_pingora::run(listen, origin),
            _ => fail_usage("usage: load --bare-pingora LISTEN ORIGIN"),
        }
    }
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test
    // --all-targets`) only checks that this builds.
    if !args.iter().any(|a| a == "--bench") {
        println!("load: skipped (run with `cargo bench --bench load`)");
        return;
    }
    let opts = Options::from_env();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let run = rt.block_on(bench(&opts));
    if !run.failures.is_empty() {
        for f in &run.failures {
            eprintln!("FAILED {f}");
        }
        std::process::exit(1);
    }
}

async fn bench(opts: &Options) -> Run {
    let mut run = Run::default();
    let origin = origin::start().await;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "isoproxy load: {} connections (HTTP/1.1 keep-alive), {} s per measurement after {} s warm-up",
        opts.connections, opts.seconds, opts.warmup_seconds
    );
    println!(
        "isoproxy: server threads = {}, isolate_threads = {}; bare Pingora: 1 thread; workerd: 1 process; nginx: 1 process (master_process off)",
        opts.proxy_threads, opts.isolate_threads
    );
    println!(
        "client, origin and servers share {cores} cores; scenarios: {}",
        opts.scenarios.join(", ")
    );

    let needs_main = ["throughput", "latency", "fairness"].iter().any(|s| opts.scenario(s));
    let main_routes = [
        Route::Hello,
        Route::Plain,
        Route::Rewrite,
        Route::Plain64k,
        Route::Rewrite64k,
        Route::Spin,
        Route::Busy,
    ];
    let iso = if needs_main {
        match servers::isoproxy(
            "isoproxy",
            opts.proxy_threads,
            &main_config(origin, opts.isolate_threads, true),
            &scripts(),
            &main_routes,
            &opts.rust_log,
        )
        .await
        {
            Ok(s) => Some(s),
            Err(e) => {
                run.failures.push(format!("isoproxy did not start: {e}"));
                return run;
            }
        }
    } else {
        None
    };

    if let Some(iso) = &iso {
        if opts.scenario("throughput") {
            let t = Instant::now();
            throughput(opts, origin, iso, &mut run).await;
            took("throughput", t);
        }
        if opts.scenario("latency") {
            let t = Instant::now();
            latency(opts, origin, iso, &mut run).await;
            took("latency", t);
        }
        if opts.scenario("fairness") {
            let t = Instant::now();
            fairness(opts, iso, &mut run).await;
            took("fairness", t);
        }
        println!("\nisoproxy RSS after these scenarios: {:.1} MiB", mib(iso.rss_bytes()));
    }
    drop(iso);
    if opts.scenario("routes") {
        let t = Instant::now();
        routes(opts, origin, &mut run).await;
        took("routes", t);
    }
    if opts.scenario("coldstart") {
        let t = Instant::now();
        coldstart(opts, origin, &mut run).await;
        took("coldstart", t);
    }
    if opts.scenario("isolates") {
        let t = Instant::now();
        isolates(opts, &mut run).await;
        took("isolates", t);
    }
    if opts.scenario("kv") {
        let t = Instant::now();
        kv(opts, &mut run).await;
        took("kv", t);
    }
    run
}

/// isoproxy config for the kv scenario: the hello worker and the KV worker
/// on `[storage] kv = store` (the embedded file goes beside the config).
fn kv_config(isolate_threads: usize, store: &str) -> String {
    let date = COMPAT_DATE.trim();
    format!(
        "{}\n[storage]\nkv = {store:?}\n\n[[workers]]\nname = \"hello\"\nmain = \"hello.js\"\ncompatibility_date = \"{date}\"\n\n\
         [[workers]]\nname = \"kv\"\nmain = \"kv.js\"\ncompatibility_date = \"{date}\"\nkv_namespaces = [{{ binding = \"KV\", id = \"bench\" }}]\n\n\
         [[routes]]\npattern = \"hello.bench/*\"\nworker = \"hello\"\n\n[[routes]]\npattern = \"kv.bench/*\"\nworker = \"kv\"\n",
        runtime_table(isolate_threads)
    )
}

/// KV `get` of a 1 KiB value from a worker, on the embedded store and on
/// Redis (a `redis-server` started here, if installed), each beside the
/// hello worker of the same process in the same run.
async fn kv(opts: &Options, run: &mut Run) {
    println!(
        "\n== kv: a worker answering with a 1 KiB KV value vs the hello worker, embedded store and Redis (closed loop, {} connections)\n",
        opts.connections
    );
    let redis_installed = std::process::Command::new("redis-server")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .output()
        .is_ok();
    let redis = redis_installed.then(common::Redis::start);
    let mut stores = vec![("embedded", "embedded".to_string())];
    match &redis {
        Some(r) => stores.push(("redis", r.url(0))),
        None => println!("redis: skipped, redis-server not installed (./dev installs it)"),
    }
    let scripts: Vec<(String, String)> = [("hello.js", HELLO_JS), ("kv.js", KV_JS)]
        .iter()
        .map(|(f, s)| (f.to_string(), s.to_string()))
        .collect();
    let mut started = Vec::new();
    for (label, store) in &stores {
        match servers::isoproxy(
            "isoproxy",
            opts.proxy_threads,
            &kv_config(opts.isolate_threads, store),
            &scripts,
            &[Route::KvGet, Route::Hello],
            &opts.rust_log,
        )
        .await
        {
            Ok(s) => started.push((*label, s)),
            Err(e) => run
                .failures
                .push(format!("isoproxy with KV on {label} did not start: {e}")),
        }
    }
    let mut plan: Vec<(String, &Server, Route)> = Vec::new();
    for (label, server) in &started {
        plan.push((format!("iso/{label}"), server, Route::Hello));
        plan.push((format!("iso/{label}"), server, Route::KvGet));
    }
    print_row_header();
    let rows = measure(opts, &plan, run).await;
    println!();
    for pair in rows.chunks(2) {
        if let [hello, kv] = pair
            && hello.result.rps() > 0.0
        {
            println!(
                "{}: kv-get req/s / hello req/s: {:.2}x; p99 {} ms vs {} ms",
                hello.server,
                kv.result.rps() / hello.result.rps(),
                ms(kv.result.p99_us()),
                ms(hello.result.p99_us())
            );
        }
    }
    drop(started);
    drop(redis);
}

fn took(scenario: &str, since: Instant) {
    println!("({scenario} took {:.0} s)", since.elapsed().as_secs_f64());
}

/// One row of the throughput table.
struct Row {
    server: String,
    route: Route,
    result: LoadResult,
}

fn print_row_header() {
    println!(
        "{:<12} {:<12} {:>9} {:>8} {:>7} {:>7} {:>6} {:>6} {:>8} {:>7}",
        "server", "route", "requests", "req/s", "p50 ms", "p99 ms", "errors", "cpu", "us/req", "origin"
    );
}

fn print_row(server: &str, route: &str, r: &LoadResult) {
    println!(
        "{:<12} {:<12} {:>9} {:>8.0} {:>7} {:>7} {:>6} {:>6} {:>8} {:>7}",
        server,
        route,
        r.requests(),
        r.rps(),
        ms(r.p50_us()),
        ms(r.p99_us()),
        r.errors,
        opt_fmt(r.cpu(), |c| format!("{:.0}%", c * 100.0)),
        opt_fmt(r.cpu_us_per_request(), |us| format!("{us:.1}")),
        r.origin_connections
    );
}

/// Measures each (label, server, route) of `plan` with the closed-loop
/// load. With LOAD_ROUNDS = n > 1 the measured seconds are split into n
/// windows and the plan runs n times round-robin, so a change in the
/// machine's background load hits every row alike; the windows are merged.
async fn measure(opts: &Options, plan: &[(String, &Server, Route)], run: &mut Run) -> Vec<Row> {
    let mut rows: Vec<Row> = plan
        .iter()
        .map(|(label, _, route)| Row {
            server: label.clone(),
            route: *route,
            result: LoadResult::default(),
        })
        .collect();
    for round in 0..opts.rounds {
        let load = opts.window(round);
        for (i, (label, server, route)) in plan.iter().enumerate() {
            let Some(target) = server.target(*route) else { continue };
            let result = client::run(&target, &load, Some(server.pid())).await;
            rows[i].result.merge(result);
            if opts.rounds == 1 {
                print_row(label, route.name(), &rows[i].result);
            }
        }
        if opts.rounds > 1 {
            eprintln!("  round {}/{} done", round + 1, opts.rounds);
        }
    }
    for (row, (label, server, route)) in rows.iter().zip(plan) {
        if opts.rounds > 1 {
            print_row(label, route.name(), &row.result);
        }
        run.check(&format!("{label} {}", route.name()), &row.result, server);
        if row.result.reconnects > 0 {
            println!(
                "  note: {label} {} reopened {} connection(s) (keep-alive not honoured)",
                route.name(),
                row.result.reconnects
            );
        }
        if row.result.capped {
            println!(
                "  note: {label} {}: a window hit the request cap (LOAD_MAX_REQUESTS)",
                route.name()
            );
        }
    }
    rows
}

async fn throughput(opts: &Options, origin: SocketAddr, iso: &Server, run: &mut Run) {
    println!(
        "\n== throughput (closed loop, {} connections{})\n",
        opts.connections,
        if opts.rounds > 1 {
            format!(", {} interleaved rounds", opts.rounds)
        } else {
            String::new()
        }
    );
    let mut skipped = Vec::new();
    // Each baseline serves the routes it has an equivalent for.
    let wanted = |candidates: &[Route]| -> Vec<Route> {
        candidates.iter().copied().filter(|r| opts.routes.contains(r)).collect()
    };
    let mut pingora = None;
    let pingora_routes = wanted(&[Route::Plain, Route::Rewrite, Route::Plain64k, Route::Rewrite64k]);
    if opts.baseline("pingora") && !pingora_routes.is_empty() {
        match servers::bare_pingora(origin, &pingora_routes).await {
            Ok(server) => pingora = Some(server),
            Err(e) => run.failures.push(format!("bare Pingora did not start: {e}")),
        }
    }
    let mut workerd = None;
    let workerd_routes = wanted(&[Route::Hello, Route::Rewrite, Route::Rewrite64k]);
    if opts.baseline("workerd") {
        match servers::workerd_path() {
            None => skipped.push(
                "workerd: skipped, not installed (benches/setup.sh installs it; or set WORKERD=/path/to/workerd)"
                    .to_string(),
            ),
            Some(_) if workerd_routes.is_empty() => {}
            Some(bin) => {
                match servers::workerd(&bin, origin, COMPAT_DATE.trim(), HELLO_JS, REWRITE_JS, &workerd_routes).await {
                    Ok(server) => workerd = Some(server),
                    Err(e) => run
                        .failures
                        .push(format!("workerd ({}) did not start: {e}", bin.display())),
                }
            }
        }
    }
    let mut nginx = None;
    let nginx_plain = wanted(&[Route::Plain, Route::Plain64k]);
    let mut nginx_njs = Vec::new();
    if opts.baseline("nginx") {
        match servers::nginx_path() {
            None => skipped.push(
                "nginx: skipped, not installed (benches/setup.sh installs nginx-light and libnginx-mod-http-js; or set NGINX=)"
                    .to_string(),
            ),
            Some(bin) => {
                let njs = servers::njs_module_path();
                match &njs {
                    Some(_) => nginx_njs = wanted(&[Route::Rewrite, Route::Rewrite64k]),
                    None => skipped.push(
                        "nginx+njs: skipped, ngx_http_js_module.so not found (apt-get install libnginx-mod-http-js; or set NGINX_NJS_MODULE=)"
                            .to_string(),
                    ),
                }
                let all: Vec<(Route, bool)> = nginx_plain
                    .iter()
                    .map(|r| (*r, false))
                    .chain(nginx_njs.iter().map(|r| (*r, true)))
                    .collect();
                if !all.is_empty() {
                    match servers::nginx(&bin, njs.as_deref(), origin, &all).await {
                        Ok(server) => nginx = Some(server),
                        Err(e) => run.failures.push(format!("nginx ({}) did not start: {e}", bin.display())),
                    }
                }
            }
        }
    }
    let mut plan: Vec<(String, &Server, Route)> =
        opts.routes.iter().map(|r| ("isoproxy".to_string(), iso, *r)).collect();
    let baselines = [
        ("pingora", &pingora, &pingora_routes),
        ("workerd", &workerd, &workerd_routes),
        ("nginx", &nginx, &nginx_plain),
        ("nginx+njs", &nginx, &nginx_njs),
    ];
    for (label, server, routes) in baselines {
        if let Some(server) = server {
            plan.extend(routes.iter().map(|r| (label.to_string(), server, *r)));
        }
    }
    print_row_header();
    let rows = measure(opts, &plan, run).await;
    for s in &skipped {
        println!("{s}");
    }

    let get = |server: &str, route: Route| {
        rows.iter()
            .find(|r| r.server == server && r.route == route && r.result.rps() > 0.0)
            .map(|r| &r.result)
    };
    println!();
    let ratio = |what: &str, a: Option<&LoadResult>, b: Option<&LoadResult>, rps: Goal, cpu: Option<Goal>| {
        let (Some(a), Some(b)) = (a, b) else { return };
        let x = a.rps() / b.rps();
        let mut line = format!("{what:<44} {x:>5.2}x req/s {}", rps.text(x, "x"));
        if let (Some(goal), Some(ca), Some(cb)) = (cpu, a.cpu_us_per_request(), b.cpu_us_per_request()) {
            let c = ca / cb;
            let _ = write!(
                line,
                "; CPU/request {ca:.1} vs {cb:.1} us = {c:.2}x {}",
                goal.text(c, "x")
            );
        }
        println!("{line}");
    };
    use Goal::*;
    use Route::*;
    ratio(
        "isoproxy rewrite / plain",
        get("isoproxy", Rewrite),
        get("isoproxy", Plain),
        AtLeast(0.9),
        Some(AtMost(1.15)),
    );
    ratio(
        "isoproxy hello / plain",
        get("isoproxy", Hello),
        get("isoproxy", Plain),
        AtLeast(2.0),
        Some(Scale),
    );
    ratio(
        "isoproxy rewrite-64k / plain-64k",
        get("isoproxy", Rewrite64k),
        get("isoproxy", Plain64k),
        AtLeast(0.9),
        Some(Scale),
    );
    ratio(
        "isoproxy rewrite / bare Pingora rewrite",
        get("isoproxy", Rewrite),
        get("pingora", Rewrite),
        AtLeast(0.9),
        Some(AtMost(1.1)),
    );
    ratio(
        "isoproxy plain / bare Pingora plain",
        get("isoproxy", Plain),
        get("pingora", Plain),
        Scale,
        Some(Scale),
    );
    ratio(
        "isoproxy rewrite-64k / bare Pingora rewrite-64k",
        get("isoproxy", Rewrite64k),
        get("pingora", Rewrite64k),
        Scale,
        Some(Scale),
    );
    ratio(
        "isoproxy rewrite / workerd rewrite",
        get("isoproxy", Rewrite),
        get("workerd", Rewrite),
        AtLeast(4.0),
        Some(Scale),
    );
    ratio(
        "isoproxy hello / workerd hello",
        get("isoproxy", Hello),
        get("workerd", Hello),
        AtLeast(2.0),
        Some(Scale),
    );
    ratio(
        "isoproxy rewrite-64k / workerd rewrite-64k",
        get("isoproxy", Rewrite64k),
        get("workerd", Rewrite64k),
        Scale,
        Some(Scale),
    );
    ratio(
        "isoproxy rewrite / nginx+njs rewrite",
        get("isoproxy", Rewrite),
        get("nginx+njs", Rewrite),
        Scale,
        Some(Scale),
    );
    ratio(
        "workerd rewrite / bare Pingora rewrite",
        get("workerd", Rewrite),
        get("pingora", Rewrite),
        Scale,
        Some(Scale),
    );
    ratio(
        "nginx+njs rewrite / bare Pingora rewrite",
        get("nginx+njs", Rewrite),
        get("pingora", Rewrite),
        Scale,
        Some(Scale),
    );
    ratio(
        "nginx+njs rewrite / nginx plain",
        get("nginx+njs", Rewrite),
        get("nginx", Plain),
        Scale,
        Some(Scale),
    );
    // What a JS hook at the proxy's phases costs over the same proxy without it.
    let extra =
        |a: Option<&LoadResult>, b: Option<&LoadResult>| Some(a?.cpu_us_per_request()? - b?.cpu_us_per_request()?);
    if let Some(d) = extra(get("isoproxy", Rewrite), get("pingora", Rewrite)) {
        println!("isoproxy rewrite CPU/request - bare Pingora rewrite: {d:+.1} us (target: within a few us)");
    }
    if let Some(d) = extra(get("isoproxy", Rewrite), get("isoproxy", Plain)) {
        println!("isoproxy rewrite CPU/request - isoproxy plain:       {d:+.1} us (for scale)");
    }
    if let Some(d) = extra(get("nginx+njs", Rewrite), get("nginx", Plain)) {
        println!("nginx+njs rewrite CPU/request - nginx plain:         {d:+.1} us (for scale)");
    }
}

async fn latency(opts: &Options, origin: SocketAddr, iso: &Server, run: &mut Run) {
    println!(
        "\n== latency at a fixed rate (open loop: {} req/s over {} connections, latency from the scheduled send time)\n",
        opts.rate, opts.connections
    );
    // Bare Pingora's plain and edited routes at the same rate: the same
    // difference where no JS runs, i.e. the noise floor of this figure.
    let pingora = if opts.baseline("pingora") {
        match servers::bare_pingora(origin, &[Route::Plain, Route::Rewrite]).await {
            Ok(s) => Some(s),
            Err(e) => {
                run.failures.push(format!("bare Pingora did not start: {e}"));
                None
            }
        }
    } else {
        None
    };
    println!(
        "{:<10} {:<8} {:>9} {:>8} {:>8} {:>8} {:>6} {:>8} {:>8}",
        "server", "route", "requests", "req/s", "p50 us", "p99 us", "errors", "us/req", "lag ms"
    );
    let mut servers: Vec<(&str, &Server)> = vec![("isoproxy", iso)];
    if let Some(p) = &pingora {
        servers.push(("pingora", p));
    }
    let rounds = opts.latency_rounds;
    for (label, server) in servers {
        // Plain and rewrite windows alternate (LOAD_LATENCY_ROUNDS), so a
        // change in the machine's background load hits both alike; each
        // route's windows are merged into one row.
        let routes = [Route::Plain, Route::Rewrite];
        let mut merged: Vec<Option<LoadResult>> = vec![None, None];
        let mut diffs = Vec::new();
        for round in 0..rounds {
            let load = opts.open_window(round, rounds);
            let mut round_p99 = Vec::new();
            for (i, route) in routes.iter().enumerate() {
                let Some(target) = server.target(*route) else { continue };
                let r = client::run(&target, &load, Some(server.pid())).await;
                round_p99.push(r.p99_us());
                merged[i].get_or_insert_with(LoadResult::default).merge(r);
            }
            if let [plain, rewrite] = round_p99[..] {
                diffs.push(rewrite - plain);
            }
        }
        let mut p99 = Vec::new();
        for (route, r) in routes.iter().zip(merged) {
            let Some(r) = r else { continue };
            let route = *route;
            println!(
                "{:<10} {:<8} {:>9} {:>8.0} {:>8.0} {:>8.0} {:>6} {:>8} {:>8.2}",
                label,
                route.name(),
                r.requests(),
                r.rps(),
                r.p50_us(),
                r.p99_us(),
                r.errors,
                opt_fmt(r.cpu_us_per_request(), |us| format!("{us:.1}")),
                r.max_send_lag_us as f64 / 1000.0
            );
            run.check(&format!("latency {label} {}", route.name()), &r, server);
            if r.max_send_lag_us > 10_000 {
                println!(
                    "  note: {label} {}: requests went out up to {:.0} ms late; {} req/s was not sub-saturation here (lower LOAD_RATE)",
                    route.name(),
                    r.max_send_lag_us as f64 / 1000.0,
                    opts.rate
                );
            }
            p99.push(r.p99_us());
        }
        if let [plain, rewrite] = p99[..] {
            let d = rewrite - plain;
            let goal = if label == "isoproxy" {
                Goal::AtMost(100.0).text(d, " us")
            } else {
                "(noise floor: the same edits without JS)".to_string()
            };
            println!(
                "  {label} rewrite p99 - plain p99 at {} req/s: {d:+.0} us {goal}",
                opts.rate
            );
            if diffs.len() > 1 {
                let mut sorted = diffs.clone();
                sorted.sort_by(f64::total_cmp);
                let each: Vec<String> = diffs.iter().map(|d| format!("{d:+.0}")).collect();
                println!(
                    "  {label} the same difference in each of {} interleaved windows: {} us (median {:+.0})",
                    diffs.len(),
                    each.join(", "),
                    sorted[sorted.len() / 2]
                );
            }
        }
    }
}

async fn fairness(opts: &Options, iso: &Server, run: &mut Run) {
    println!(
        "\n== fairness: hello at {} req/s (open loop, {} connections), alone, beside the spin worker under load ({} connections, each request stopped at its CPU limit), and beside the busy worker ({} req/s, 6 ms of JS each)\n",
        opts.rate, opts.connections, opts.spin_connections, opts.busy_rate
    );
    let (Some(hello), Some(spin)) = (iso.target(Route::Hello), iso.target(Route::Spin)) else {
        return;
    };
    println!(
        "{:<22} {:>9} {:>8} {:>8} {:>8} {:>6} {:>10}",
        "hello", "requests", "req/s", "p50 ms", "p99 ms", "errors", "spin req/s"
    );
    let alone = client::run(&hello, &opts.open(), Some(iso.pid())).await;
    let row = |label: &str, r: &LoadResult, spin: Option<&LoadResult>| {
        println!(
            "{:<22} {:>9} {:>8.0} {:>8} {:>8} {:>6} {:>10}",
            label,
            r.requests(),
            r.rps(),
            ms(r.p50_us()),
            ms(r.p99_us()),
            r.errors,
            opt_fmt(spin.map(|s| s.rps()), |x| format!("{x:.1}"))
        );
    };
    row("alone", &alone, None);
    run.check("fairness hello alone", &alone, iso);
    // Hello at the same rate beside another worker's load: a row, and a
    // note of the hello requests refused. Refusing hello (e.g. a 503 from
    // a full queue) beside a worker that holds its thread is an outcome to
    // see, not a broken benchmark: it is shown rather than failing the
    // run. p99 is over the answered requests only.
    let open = opts.open();
    let beside = |what: &'static str, other: Target, load: Load| {
        let (hello, open) = (&hello, &open);
        async move {
            let (beside, other) = tokio::join!(
                client::run(hello, open, Some(iso.pid())),
                client::run(&other, &load, None)
            );
            row(&format!("beside {what} worker"), &beside, Some(&other));
            if beside.errors > 0 {
                println!(
                    "  note: hello failed {} request(s) beside the {what} worker (p99 counts answered ones only); first: {}",
                    beside.errors,
                    beside.first_error.as_deref().unwrap_or("-")
                );
            }
            (beside, other)
        }
    };
    let spin_load = Load {
        connections: opts.spin_connections,
        ..opts.closed()
    };
    let (beside_spin, spun) = beside("spinning", spin, spin_load).await;
    run.check_alive("fairness hello beside spin", iso);
    run.check("fairness spin (5xx expected)", &spun, iso);

    // The busy worker at a fixed rate, its warm-up beside hello's: within
    // its first requests it turns heavy and leaves the proxy thread.
    let mut beside_busy = None;
    if let Some(busy) = iso.target(Route::Busy) {
        let busy_load = Load {
            connections: 1,
            rate: Some(opts.busy_rate),
            ..opts.closed()
        };
        let (hello_beside, busied) = beside("busy", busy, busy_load).await;
        run.check_alive("fairness hello beside busy", iso);
        run.check("fairness busy", &busied, iso);
        beside_busy = Some(hello_beside);
    }
    let x = beside_spin.p99_us() / alone.p99_us();
    println!(
        "\nhello p99 beside the spinning worker / alone: {x:.2}x {}",
        Goal::AtMost(2.0).text(x, "x")
    );
    if let Some(b) = beside_busy {
        let x = b.p99_us() / alone.p99_us();
        println!(
            "hello p99 beside the busy worker ({} req/s of 6 ms each) / alone: {x:.2}x {}",
            opts.busy_rate,
            Goal::AtMost(2.0).text(x, "x")
        );
    }
}

async fn routes(opts: &Options, origin: SocketAddr, run: &mut Run) {
    println!(
        "\n== routes: a plain route (configured last) among N routes, half exact hosts, half wildcards; one isoproxy process per N (closed loop, {} connections)\n",
        opts.connections
    );
    let mut started = Vec::new();
    for &count in &opts.route_counts {
        let config = routes_config(origin, opts.isolate_threads, count);
        match servers::isoproxy(
            "isoproxy",
            opts.proxy_threads,
            &config,
            &[],
            &[Route::Plain],
            &opts.rust_log,
        )
        .await
        {
            Ok(s) => started.push((count, s)),
            Err(e) => run
                .failures
                .push(format!("isoproxy with {count} routes did not start: {e}")),
        }
    }
    let plan: Vec<(String, &Server, Route)> = started
        .iter()
        .map(|(count, server)| (format!("{count} routes"), server, Route::Plain))
        .collect();
    print_row_header();
    let rows = measure(opts, &plan, run).await;
    println!();
    for (count, server) in &started {
        println!(
            "{count} routes: spawn to first 200 {:.1} ms, RSS {:.1} MiB",
            server.ready_after.as_secs_f64() * 1000.0,
            mib(server.rss_bytes())
        );
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last())
        && rows.len() > 1
        && first.result.rps() > 0.0
    {
        let x = last.result.rps() / first.result.rps();
        let mut line = format!(
            "plain req/s with {} / with {}: {x:.2}x {}",
            last.server,
            first.server,
            Goal::About(1.0).text(x, "x")
        );
        if let (Some(a), Some(b)) = (last.result.cpu_us_per_request(), first.result.cpu_us_per_request()) {
            let _ = write!(line, "; CPU/request {:.2}x", a / b);
        }
        println!("{line}");
    }
}

/// Median of `v` (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

async fn coldstart(opts: &Options, origin: SocketAddr, run: &mut Run) {
    println!(
        "\n== cold start: process spawn to the first correct 200 (polled every 1 ms), {} runs each, interleaved\n",
        opts.coldstart_runs
    );
    let workerd = opts.baseline("workerd").then(servers::workerd_path).flatten();
    let nginx = opts.baseline("nginx").then(servers::nginx_path).flatten();
    if opts.baseline("workerd") && workerd.is_none() {
        println!("workerd: skipped, not installed (benches/setup.sh installs it; or set WORKERD=)");
    }
    if opts.baseline("nginx") && nginx.is_none() {
        println!("nginx: skipped, not installed (benches/setup.sh installs it; or set NGINX=)");
    }
    let pingora = opts.baseline("pingora");
    let config = main_config(origin, opts.isolate_threads, false);
    // (label, spawn-to-200 times in ms)
    let mut times: Vec<(&str, Vec<f64>)> = vec![
        ("isoproxy (hello worker)", Vec::new()),
        ("isoproxy (rewrite worker)", Vec::new()),
        ("bare Pingora (proxied)", Vec::new()),
        ("workerd (hello)", Vec::new()),
        ("nginx (proxied)", Vec::new()),
    ];
    for _ in 0..opts.coldstart_runs {
        let mut started: Vec<Result<Server, String>> = Vec::new();
        started.push(
            servers::isoproxy(
                "isoproxy",
                opts.proxy_threads,
                &config,
                &scripts(),
                &[Route::Hello],
                &opts.rust_log,
            )
            .await,
        );
        started.push(
            servers::isoproxy(
                "isoproxy",
                opts.proxy_threads,
                &config,
                &scripts(),
                &[Route::Rewrite],
                &opts.rust_log,
            )
            .await,
        );
        if pingora {
            started.push(servers::bare_pingora(origin, &[Route::Rewrite]).await);
        } else {
            started.push(Err(String::new()));
        }
        match &workerd {
            Some(bin) => started
                .push(servers::workerd(bin, origin, COMPAT_DATE.trim(), HELLO_JS, REWRITE_JS, &[Route::Hello]).await),
            None => started.push(Err(String::new())),
        }
        match &nginx {
            Some(bin) => started.push(servers::nginx(bin, None, origin, &[(Route::Plain, false)]).await),
            None => started.push(Err(String::new())),
        }
        for (i, s) in started.into_iter().enumerate() {
            match s {
                Ok(server) => times[i].1.push(server.ready_after.as_secs_f64() * 1000.0),
                Err(e) if e.is_empty() => {}
                Err(e) => {
                    run.failures.push(format!("cold start of {}: {e}", times[i].0));
                    return;
                }
            }
        }
    }
    println!(
        "{:<28} {:>6} {:>10} {:>8} {:>8}",
        "server", "runs", "median ms", "min ms", "max ms"
    );
    let mut medians = Vec::new();
    for (label, v) in &mut times {
        if v.is_empty() {
            medians.push(f64::NAN);
            continue;
        }
        let m = median(v);
        println!(
            "{:<28} {:>6} {:>10.1} {:>8.1} {:>8.1}",
            label,
            v.len(),
            m,
            v[0],
            v[v.len() - 1]
        );
        medians.push(m);
    }
    println!();
    for (i, label) in [(0, "hello"), (1, "rewrite")] {
        if medians[2].is_finite() {
            let x = medians[i] / medians[2];
            println!(
                "isoproxy ({label}) / bare Pingora spawn to first 200: {x:.2}x {}",
                Goal::AtMost(2.5).text(x, "x")
            );
        }
    }
    if medians[3].is_finite() && medians[2].is_finite() {
        println!(
            "workerd (hello) / bare Pingora spawn to first 200: {:.2}x (for scale)",
            medians[3] / medians[2]
        );
    }
}

/// What the isolates scenario measured on one server.
struct IsolateFigures {
    label: String,
    workers: usize,
    ready_ms: f64,
    rss: u64,
    cold_us: Vec<u32>,
    warm_us: Vec<u32>,
}

/// Requests worker `i` of `servers` (cold, then warm), then reads the RSS
/// once it has settled (`settled_rss`).
async fn isolate_figures(label: &str, server: &Server, targets: &[Target]) -> Result<IsolateFigures, String> {
    let mut cold_us = client::one_by_one(targets).await?;
    let mut warm_us = client::one_by_one(targets).await?;
    cold_us.sort_unstable();
    warm_us.sort_unstable();
    let rss = settled_rss(server).await;
    Ok(IsolateFigures {
        label: label.to_string(),
        workers: targets.len(),
        ready_ms: server.ready_after.as_secs_f64() * 1000.0,
        rss,
        cold_us,
        warm_us,
    })
}

/// The server's RSS once idle: isoproxy gives each new isolate a full GC
/// when its thread has nothing else to do (a few ms each, so seconds for
/// 1,000), so this waits until the RSS moves less than 0.5% in a second
/// (at most 60 s).
async fn settled_rss(server: &Server) -> u64 {
    let mut last = server.rss_bytes();
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = server.rss_bytes();
        if now.abs_diff(last) as f64 <= last as f64 * 0.005 {
            return now;
        }
        last = now;
    }
    last
}

fn numbered_target(addr: SocketAddr, i: usize) -> Target {
    Target {
        addr,
        host: format!("w{i}.bench"),
        path: "/",
        expect: Expect::Ok {
            body: Bytes::from(format!("worker {i}")),
            header: None,
        },
    }
}

/// Item 4 of the performance issue, measured from outside: one process with
/// LOAD_WORKERS workers and one with 1; each worker gets a first request
/// (cold: its isolate may be created for it) and a second (warm). The idle
/// memory of a worker is the RSS difference of the two processes over the
/// difference in workers; a new isolate's cost is the cold p50 minus the
/// warm p50 (≈ 0 if isolates are made before the listeners accept, then
/// it shows in the spawn-to-ready time instead).
async fn isolates(opts: &Options, run: &mut Run) {
    let n = opts.workers;
    println!(
        "\n== isolates: {n} workers vs 1 in another process; one request to each worker in turn (cold), then again (warm)\n"
    );
    let mut figures: Vec<IsolateFigures> = Vec::new();
    for count in [n, 1] {
        let (config, files) = workers_config(opts.isolate_threads, count);
        let server = match servers::isoproxy(
            "isoproxy",
            opts.proxy_threads,
            &config,
            &files,
            &[Route::Hello],
            &opts.rust_log,
        )
        .await
        {
            Ok(s) => s,
            Err(e) => {
                run.failures
                    .push(format!("isoproxy with {count} workers did not start: {e}"));
                return;
            }
        };
        let addr = server.target(Route::Hello).expect("hello route").addr;
        let targets: Vec<Target> = (0..count).map(|i| numbered_target(addr, i)).collect();
        match isolate_figures("isoproxy", &server, &targets).await {
            Ok(f) => figures.push(f),
            Err(e) => {
                run.failures.push(format!(
                    "isolates, isoproxy with {count} workers: {e}\n{}",
                    indent(&server.log_tail(20))
                ));
                return;
            }
        }
    }
    let workerd = opts.baseline("workerd").then(servers::workerd_path).flatten();
    match &workerd {
        None if opts.baseline("workerd") => {
            println!("workerd: skipped, not installed (benches/setup.sh installs it; or set WORKERD=)");
        }
        None => {}
        Some(bin) => {
            'workerd: for count in [n, 1] {
                match servers::workerd_many(bin, count, COMPAT_DATE.trim(), HELLO_JS, numbered_worker_js).await {
                    Ok((server, ports)) => {
                        // One socket per workerd worker: one request at a time, each its own connection.
                        let mut targets = Vec::new();
                        for (i, port) in ports.iter().enumerate() {
                            targets.push(numbered_target(SocketAddr::from(([127, 0, 0, 1], *port)), i));
                        }
                        let mut cold = Vec::new();
                        let mut warm = Vec::new();
                        let mut failed = None;
                        for t in &targets {
                            for v in [&mut cold, &mut warm] {
                                let started = Instant::now();
                                match client::probe(t).await {
                                    Ok(()) => v.push(started.elapsed().as_micros() as u32),
                                    Err(e) => failed = Some(e),
                                }
                            }
                        }
                        if let Some(e) = failed {
                            run.failures
                                .push(format!("isolates, workerd with {count} workers: {e}"));
                            break 'workerd;
                        }
                        cold.sort_unstable();
                        warm.sort_unstable();
                        let rss = settled_rss(&server).await;
                        figures.push(IsolateFigures {
                            label: "workerd".into(),
                            workers: count,
                            ready_ms: server.ready_after.as_secs_f64() * 1000.0,
                            rss,
                            cold_us: cold,
                            warm_us: warm,
                        });
                    }
                    Err(e) => {
                        run.failures
                            .push(format!("workerd with {count} workers did not start: {e}"));
                        break 'workerd;
                    }
                }
            }
        }
    }
    println!(
        "{:<10} {:>8} {:>16} {:>9} {:>12} {:>12} {:>12}",
        "server", "workers", "spawn->ready ms", "RSS MiB", "cold p50 ms", "cold p90 ms", "warm p50 ms"
    );
    for f in &figures {
        println!(
            "{:<10} {:>8} {:>16.1} {:>9.1} {:>12} {:>12} {:>12}",
            f.label,
            f.workers,
            f.ready_ms,
            mib(f.rss),
            ms(client::percentile_us(&f.cold_us, 0.5)),
            ms(client::percentile_us(&f.cold_us, 0.9)),
            ms(client::percentile_us(&f.warm_us, 0.5)),
        );
    }
    println!();
    for pair in figures.chunks(2) {
        let [many, one] = pair else { continue };
        let per = (many.rss as f64 - one.rss as f64) / (many.workers - one.workers) as f64;
        let goal = if many.label == "isoproxy" {
            Goal::AtMost(1.3)
        } else {
            Goal::Scale
        };
        println!(
            "{} idle RSS per worker ({} vs {} workers): {:.2} MiB {}",
            many.label,
            many.workers,
            one.workers,
            per / (1024.0 * 1024.0),
            goal.text(per / (1024.0 * 1024.0), " MiB")
        );
        let extra = client::percentile_us(&many.cold_us, 0.5) - client::percentile_us(&many.warm_us, 0.5);
        let goal = if many.label == "isoproxy" {
            Goal::AtMost(1.0)
        } else {
            Goal::Scale
        };
        println!(
            "{} first request to a cold worker - warm request, p50: {:.2} ms {}",
            many.label,
            extra / 1000.0,
            goal.text(extra / 1000.0, " ms")
        );
    }
}
