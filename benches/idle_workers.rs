//! Many workers in one process: the resident memory an idle worker isolate
//! costs, and how long each new isolate took to be ready to serve inside
//! the proxy (its own debug log line). `cargo bench --bench idle_workers`
//! (IDLE_WORKERS=N, default 1000; IDLE_ISOLATE_THREADS, default 2;
//! IDLE_SETTLE_SECONDS, default 1: the idle time before the second reading).
//!
//! One isoproxy process with N workers, each on its own route; after the
//! proxy is up (every worker loaded and validated), one request to each
//! worker creates its isolate. RSS is read before the first request and
//! again once the proxy has been idle for IDLE_SETTLE_SECONDS.

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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let mut builder = Proxy::builder()
            .isolate_threads(threads)
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
        let before = proxy.rss_bytes();
        for i in 0..workers {
            let r = get_host(&proxy.url("/x"), &format!("w{i}.bench")).await;
            assert_eq!(r.text().await.unwrap(), format!("worker {i} /x"));
        }
        tokio::time::sleep(Duration::from_secs(settle)).await;
        let after = proxy.rss_bytes();
        let mut times: Vec<Duration> = proxy.log().lines().filter_map(creation_time).collect();
        times.sort();
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        let per_worker = mib(after.saturating_sub(before)) / workers as f64;
        println!("idle workers: {workers} workers, isolate_threads = {threads}; one request each, then {settle} s idle");
        println!("RSS before the first requests: {:.1} MiB; after: {:.1} MiB", mib(before), mib(after));
        println!("idle RSS per worker isolate: {per_worker:.2} MiB");
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
