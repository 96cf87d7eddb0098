//! Many workers in one process: the resident memory an idle worker isolate
//! costs, and how long each new isolate took to be ready to serve inside
//! the proxy (its own debug log line). `cargo bench --bench idle_workers`
//! (IDLE_WORKERS=N, default 1000; IDLE_ISOLATE_THREADS, default 2;
//! IDLE_PROXY_THREADS, default 1, as in the load bench;
//! IDLE_SETTLE_SECONDS, default 1: the idle time before the second reading).
//!
//! One isoproxy process with N workers, each on its own route, and one with
//! a single worker; each gets one request per worker, then
//! IDLE_SETTLE_SECONDS idle, then its RSS is read. Isolates are made before
//! the listeners accept (one per worker per proxy thread), so RSS read
//! before the first request already holds them: the cost of a worker is
//! the difference between the two processes, over N - 1.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{Proxy, get_host};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `new isolate for worker wN in 812.3µs (heap ...)` -> the duration.
fn creation_time(line: &str) -> Option<Duration> {
    let rest = line.split(": new isolate for worker ").nth(1)?;
    let took = rest.split(" in ").nth(1)?.split_whitespace().next()?;
    let (number, unit) = took.split_at(took.find(|c: char| c.is_alphabetic() || c == 'µ')?);
    let n: f64 = number.parse().ok()?;
    let secs = match unit {
        "ns" => n / 1e9,
        "µs" | "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("idle_workers: skipped (run with `cargo bench --bench idle_workers`)");
        return;
    }
    let workers = env_or("IDLE_WORKERS", 1000);
    let threads = env_or("IDLE_ISOLATE_THREADS", 2);
    let settle = env_or("IDLE_SETTLE_SECONDS", 1) as u64;
    let proxy_threads = env_or("IDLE_PROXY_THREADS", 1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let (one, _, _) = run(1, threads, proxy_threads, settle).await;
        let (all, isolates, mut times) = run(workers, threads, proxy_threads, settle).await;
        times.sort();
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        let per_worker = mib(all.saturating_sub(one)) / (workers.max(2) - 1) as f64;
        println!(
            "idle workers: {workers} workers, isolate_threads = {threads}, proxy threads = {proxy_threads}; one request each, then {settle} s idle"
        );
        println!(
            "RSS with 1 worker: {:.1} MiB; with {workers}: {:.1} MiB ({isolates} isolates)",
            mib(one),
            mib(all)
        );
        println!(
            "idle RSS per worker: {per_worker:.2} MiB ({:.2} isolates each: {:.2} MiB per isolate)",
            isolates as f64 / workers as f64,
            per_worker * workers as f64 / isolates.max(1) as f64
        );
        if times.len() >= workers {
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            let p = |q: f64| ms(times[((times.len() - 1) as f64 * q).round() as usize]);
            println!(
                "isolate creation in the proxy ({} isolates): p50 {:.2} ms, p90 {:.2} ms, max {:.2} ms",
                times.len(),
                p(0.5),
                p(0.9),
                ms(times[times.len() - 1])
            );
        } else {
            println!("isolate creation times: {} of {workers} found in the log", times.len());
        }
    });
}

/// Starts a proxy with `workers` workers, sends one request to each, waits
/// `settle` seconds; returns its RSS, its isolates (`/workers`) and each
/// isolate's creation time from the log.
async fn run(workers: usize, threads: usize, proxy_threads: usize, settle: u64) -> (u64, u64, Vec<Duration>) {
    let mut builder = Proxy::builder()
        .isolate_threads(threads)
        .proxy_threads(proxy_threads)
        .env("RUST_LOG", "warn,plugin_runtime::io::thread=debug");
    let mut config = String::new();
    for i in 0..workers {
        builder = builder.script(
            &format!("w{i}.js"),
            &format!(
                "const ID = {i};\nexport default {{ fetch(request) {{ return new Response(`worker ${{ID}} ${{new URL(request.url).pathname}}`); }} }};\n"
            ),
        );
        config.push_str(&format!(
            "[[workers]]\nname = \"w{i}\"\nmain = \"w{i}.js\"\n\n[[routes]]\npattern = \"w{i}.bench/*\"\nworker = \"w{i}\"\n\n"
        ));
    }
    let proxy = builder.config(&config).start().await;
    for i in 0..workers {
        let r = get_host(&proxy.url("/x"), &format!("w{i}.bench")).await;
        assert_eq!(r.text().await.unwrap(), format!("worker {i} /x"));
    }
    tokio::time::sleep(Duration::from_secs(settle)).await;
    let rss = proxy.rss_bytes();
    let isolates = proxy.workers().await["workers"]
        .as_array()
        .map_or(0, |w| w.iter().filter_map(|w| w["isolates"].as_u64()).sum());
    let times = proxy.log().lines().filter_map(creation_time).collect();
    (rss, isolates, times)
}
