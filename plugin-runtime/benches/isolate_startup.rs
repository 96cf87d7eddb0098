//! Time to create a ready isolate (bootstrap JavaScript, the worker's
//! modules, its top level, env) three ways, measured in the same run: the
//! bootstrap parsed from source, from the code cache, and restored from the
//! startup snapshot (what isolates do). `cargo bench -p plugin-runtime
//! --bench isolate_startup` (ISOLATES=N to change the sample size).

use std::time::Duration;

use plugin_runtime::{Runtime, WorkerSpec, code_cache, snapshot};

const SCRIPT: &str = r#"export default {
  async fetch(request) {
    const url = new URL(request.url);
    return new Response(`hello ${url.pathname}`, { headers: { "content-type": "text/plain" } });
  },
};
"#;

fn spec(main: std::path::PathBuf) -> WorkerSpec {
    WorkerSpec {
        name: "startup".into(),
        main,
        env: serde_json::Map::new(),
        secrets: Default::default(),
        root: None,
        compatibility_date: None,
        compatibility_flags: vec![],
        memory_mb: 128,
        cpu_ms: 50,
        scheduled_cpu_ms: 30_000,
        request_timeout_s: 60,
        subrequests: 50,
        kv_namespaces: Vec::new(),
    }
}

fn summary(times: &mut [Duration]) -> (f64, f64, f64) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let p = |q: f64| ms(times[((times.len() - 1) as f64 * q).round() as usize]);
    let mean = times.iter().map(|d| ms(*d)).sum::<f64>() / times.len() as f64;
    (p(0.5), p(0.9), mean)
}

fn main() {
    let n: usize = std::env::var("ISOLATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let dir = std::env::temp_dir().join(format!("isoproxy-startup-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let main = dir.join("worker.js");
    std::fs::write(&main, SCRIPT).unwrap();

    let snapshot_bytes = snapshot::size().expect("the startup snapshot is embedded");
    let code = Runtime::load_worker(spec(main.clone())).expect("worker loads");
    // Alternate the modes in rounds so drift on a noisy machine hits all.
    let (mut cold, mut cached, mut snap) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..4 {
        snapshot::set_enabled(false);
        code_cache::set_enabled(false);
        cold.extend(Runtime::time_isolate_startup(&code, n / 4).unwrap());
        code_cache::set_enabled(true);
        // The first isolate after enabling produces the cache; not counted.
        Runtime::time_isolate_startup(&code, 1).unwrap();
        cached.extend(Runtime::time_isolate_startup(&code, n / 4).unwrap());
        snapshot::set_enabled(true);
        snap.extend(Runtime::time_isolate_startup(&code, n / 4).unwrap());
    }
    let stats = code_cache::stats();
    // (A module cache made in a snapshot-restored isolate is refused by one
    // that is not, and the other way round: V8 checks the read-only heap
    // it was made with. Switching modes makes some rejections here; in the
    // proxy every isolate is made the same way.)
    assert!(
        stats.rejected == 0 && stats.consumed > 0 && stats.modules_consumed > 0,
        "code cache unused: {stats:?}"
    );
    let (c50, c90, cmean) = summary(&mut cold);
    let (k50, k90, kmean) = summary(&mut cached);
    let (s50, s90, smean) = summary(&mut snap);
    println!(
        "isolate startup, {} isolates per mode; startup snapshot {} KiB (made at build time)",
        cold.len(),
        snapshot_bytes >> 10,
    );
    println!("| bootstrap | p50 ms | p90 ms | mean ms |");
    println!("|---|---|---|---|");
    println!("| parsed from source | {c50:.2} | {c90:.2} | {cmean:.2} |");
    println!("| from code cache | {k50:.2} | {k90:.2} | {kmean:.2} |");
    println!("| startup snapshot | {s50:.2} | {s90:.2} | {smean:.2} |");
    println!("code cache / source (p50): {:.2}x", k50 / c50);
    println!("snapshot / code cache (p50): {:.2}x", s50 / k50);
    let _ = std::fs::remove_dir_all(&dir);
}
