//! One process, 1,000 workers, one request each: the memory an idle worker
//! isolate costs (a light worker has one per proxy thread) (workerd needs about 1.5 MiB per worker; we must stay
//! under 3 MiB).

mod common;

use common::{Proxy, get_host};

const WORKERS: usize = 1000;

/// Starts a proxy with `count` workers, sends each one request and returns
/// the process's RSS after that and the isolates alive (each worker then
/// has idle isolates: one per proxy thread for light workers).
async fn rss_with_workers(count: usize) -> (u64, u64) {
    let mut builder = Proxy::builder().isolate_threads(2);
    let mut config = String::new();
    for i in 0..count {
        builder = builder.script(
            &format!("w{i}.js"),
            &format!("const ID = {i};\nexport default {{ fetch() {{ return new Response(`worker ${{ID}}`); }} }};\n"),
        );
        config.push_str(&format!(
            "[[workers]]\nname = \"w{i}\"\nmain = \"w{i}.js\"\n\n[[routes]]\npattern = \"w{i}.test/*\"\nworker = \"w{i}\"\n\n"
        ));
    }
    let proxy = builder.config(&config).start().await;
    for i in 0..count {
        let r = get_host(&proxy.url("/"), &format!("w{i}.test")).await;
        assert_eq!(r.text().await.unwrap(), format!("worker {i}"));
    }
    let isolates = proxy.workers().await["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["isolates"].as_u64().unwrap())
        .sum();
    (proxy.rss_bytes(), isolates)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_workers_each_serve_a_request() {
    // Isolates are created at start-up (before the listeners accept), so
    // the cost of a worker is the difference between a process with one
    // and a process with a thousand.
    // A light worker has an isolate on each proxy thread: the cost is per
    // isolate.
    let (one, one_isolates) = rss_with_workers(1).await;
    let (all, all_isolates) = rss_with_workers(WORKERS).await;
    assert!(all_isolates >= WORKERS as u64, "{all_isolates} isolates");
    let per_isolate = (all.saturating_sub(one)) as f64 / (all_isolates - one_isolates) as f64 / (1 << 20) as f64;
    eprintln!(
        "{WORKERS} workers: RSS {} MiB with one worker ({one_isolates} isolates), {} MiB with {WORKERS} \
         ({all_isolates} isolates); {per_isolate:.2} MiB per idle worker isolate",
        one >> 20,
        all >> 20
    );
    assert!(per_isolate < 3.0, "{per_isolate:.2} MiB per worker isolate");
}
