//! One process, 1,000 workers, one request each: the memory an idle worker
//! isolate costs (workerd needs about 1.5 MiB per worker; we must stay
//! under 3 MiB).

mod common;

use common::{Proxy, get_host};

const WORKERS: usize = 1000;

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_workers_each_serve_a_request() {
    let mut builder = Proxy::builder().isolate_threads(2);
    let mut config = String::new();
    for i in 0..WORKERS {
        builder = builder.script(
            &format!("w{i}.js"),
            &format!("const ID = {i};\nexport default {{ fetch() {{ return new Response(`worker ${{ID}}`); }} }};\n"),
        );
        config.push_str(&format!(
            "[[workers]]\nname = \"w{i}\"\nmain = \"w{i}.js\"\n\n[[routes]]\npattern = \"w{i}.test/*\"\nworker = \"w{i}\"\n\n"
        ));
    }
    let proxy = builder.config(&config).start().await;
    let before = proxy.rss_bytes();
    for i in 0..WORKERS {
        let r = get_host(&proxy.url("/"), &format!("w{i}.test")).await;
        assert_eq!(r.text().await.unwrap(), format!("worker {i}"));
    }
    let after = proxy.rss_bytes();
    let per_worker = (after.saturating_sub(before)) as f64 / WORKERS as f64 / (1 << 20) as f64;
    eprintln!(
        "{WORKERS} workers: RSS {} MiB before the first requests, {} MiB after; {per_worker:.2} MiB per idle worker isolate",
        before >> 20,
        after >> 20
    );
    assert!(per_worker < 3.0, "{per_worker:.2} MiB per worker isolate");
}
