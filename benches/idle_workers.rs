//! Many workers in one process: the resident memory an idle worker isolate
//! costs, and how long each new isolate took to be ready to serve inside
//! the proxy (its own debug log line). `cargo bench --bench idle_workers`
//! (IDLE_WORKERS=N, default 1000; IDLE_ISOLATE_THREADS, default 2;
//! IDLE_PROXY_THREADS, default 1, as in the load bench;
//! IDLE_SETTLE_SECONDS, default 1: the idle time before the second reading;
//! IDLE_EVICT_SECONDS, default 15: `idle_isolate_timeout_s`, 0 to skip the
//! last part).
//!
//! Last, the process with N workers is left idle until every proxy-thread
//! isolate was dropped (`idle_isolate_timeout_s`), and each worker gets
//! one more request: the new isolates are made on demand, on the request
//! path, and their creation times are reported apart (and how many were
//! made in the blank isolate the thread keeps standing).
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
    let evict = env_or("IDLE_EVICT_SECONDS", 15) as u64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let (one, _, _, _) = run(1, threads, proxy_threads, settle, 0).await;
        let (all, isolates, mut times, mut on_demand) = run(workers, threads, proxy_threads, settle, evict).await;
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
        if evict > 0 {
            let blank = on_demand.iter().filter(|(_, b)| *b).count();
            on_demand.sort();
            if on_demand.len() >= workers {
                let ms = |d: Duration| d.as_secs_f64() * 1e3;
                let p = |q: f64| ms(on_demand[((on_demand.len() - 1) as f64 * q).round() as usize].0);
                println!(
                    "isolate made on demand after an idle eviction ({} isolates, {blank} in the standing blank): p50 {:.2} ms, p90 {:.2} ms, max {:.2} ms",
                    on_demand.len(),
                    p(0.5),
                    p(0.9),
                    ms(on_demand[on_demand.len() - 1].0)
                );
            } else {
                println!("on-demand isolate creation times: {} of {workers} found in the log", on_demand.len());
            }
        }
    });
}

/// What `run` measured: RSS, isolates, creation times, and the creation
/// times of the isolates made on demand (each with whether it was made in
/// a blank made ahead).
type Run = (u64, u64, Vec<Duration>, Vec<(Duration, bool)>);

/// Starts a proxy with `workers` workers, sends one request to each, waits
/// `settle` seconds; returns its RSS, its isolates (`/workers`) and each
/// isolate's creation time from the log. With `evict` (seconds), then
/// waits for every isolate to be dropped as idle and sends each worker one
/// more request: the creation times of those isolates, made on demand.
async fn run(workers: usize, threads: usize, proxy_threads: usize, settle: u64, evict: u64) -> Run {
    let mut builder = Proxy::builder()
        .isolate_threads(threads)
        .proxy_threads(proxy_threads)
        .env("RUST_LOG", "warn,plugin_runtime::io::thread=debug");
    let mut config = format!("[runtime]\nidle_isolate_timeout_s = {evict}\n\n");
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
    let isolates = isolate_count(&proxy).await;
    let log = proxy.log();
    let times = log.lines().filter_map(creation_time).collect();
    let mut on_demand = Vec::new();
    if evict > 0 {
        let deadline = std::time::Instant::now() + Duration::from_secs(evict + 30);
        loop {
            let left = isolate_count(&proxy).await;
            if left == 0 || std::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let seen = proxy.log().len();
        for i in 0..workers {
            let r = get_host(&proxy.url("/y"), &format!("w{i}.bench")).await;
            assert_eq!(r.text().await.unwrap(), format!("worker {i} /y"));
        }
        on_demand = proxy.log()[seen..]
            .lines()
            .filter_map(|l| Some((creation_time(l)?, l.contains("from a blank made ahead"))))
            .collect();
    }
    (rss, isolates, times, on_demand)
}

/// The isolates `/workers` counts, over every worker.
async fn isolate_count(proxy: &Proxy) -> u64 {
    proxy.workers().await["workers"]
        .as_array()
        .map_or(0, |w| w.iter().filter_map(|w| w["isolates"].as_u64()).sum())
}
