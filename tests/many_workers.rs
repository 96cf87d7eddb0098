//! One process, 1,000 workers, one request each: the memory an idle worker
//! isolate costs (workerd needs about 1.5 MiB per worker; we must stay
//! under 3 MiB).

mod common;

use common::{Proxy, get_host};

const WORKERS: usize = 1000;

/// Starts a proxy with `count` workers, sends each one request and returns
/// the process's RSS after that (each worker then has an idle isolate).
async fn rss_with_workers(count: usize) -> u64 {
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
    proxy.rss_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_workers_each_serve_a_request() {
    // Isolates are created at start-up (before the listeners accept), so
    // the cost of a worker is the difference between a process with one
    // and a process with a thousand.
    let one = rss_with_workers(1).await;
    let all = rss_with_workers(WORKERS).await;
    let per_worker = (all.saturating_sub(one)) as f64 / (WORKERS - 1) as f64 / (1 << 20) as f64;
    eprintln!(
        "{WORKERS} workers: RSS {} MiB with one worker, {} MiB with {WORKERS}; {per_worker:.2} MiB per idle worker isolate",
        one >> 20,
        all >> 20
    );
    assert!(per_worker < 3.0, "{per_worker:.2} MiB per worker isolate");
}
