//! Containment soak: one isoproxy process serves a normal worker under
//! steady load while hostile workers and hostile clients attack it, for
//! `SOAK_SECONDS` (default 300). It reports what issue 9 asks to measure:
//! the normal worker's failed requests (goal 0), process restarts (0: the
//! one process must still be the one we started), and the peak RSS; plus,
//! per attack, how many attempts were made and which statuses they got.
//!
//! Run with `cargo bench --bench soak` (see benches/README.md). It is a
//! benchmark, not a test: `cargo test` does not run it.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Origin, Proxy};

/// A worker that behaves: the one whose requests must never fail.
const NORMAL_JS: &str = r#"export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/origin") {
      const res = await fetch(request);
      const out = new Response(res.body, res);
      out.headers.set("x-normal", "1");
      return out;
    }
    return new Response("normal ok\n", { headers: { "x-normal": "1" } });
  },
};
"#;

/// Hostile workers: (name, host, script). Each gets its own route.
const HOSTILE: &[(&str, &str, &str)] = &[
    (
        "headers25k",
        "headers25k.soak",
        r#"export default { fetch() {
  const H = new Headers(); for (let i = 0; i < 25000; i++) H.append("x", "1");
  return new Response("ok", { headers: H });
} };"#,
    ),
    (
        "atomics",
        "atomics.soak",
        r#"export default { fetch() {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  return new Response("woke");
} };"#,
    ),
    (
        "timerchain",
        "timerchain.soak",
        r#"export default { fetch() {
  const burn = () => { const t = Date.now(); while (Date.now() - t < 20) {} setTimeout(burn, 1); };
  setTimeout(burn, 1);
  return new Response("started");
} };"#,
    ),
    (
        "retain",
        "retain.soak",
        r#"const keep = [];
export default { fetch() {
  keep.push(new TextEncoder().encode("a".repeat(4 << 20)));
  return new Response("holding " + keep.length);
} };"#,
    ),
    ("spin", "spin.soak", r#"export default { fetch() { for (;;) {} } };"#),
    (
        "splitting",
        "splitting.soak",
        r#"const realIter = Array.prototype[Symbol.iterator];
Object.defineProperty(Object.prototype, "statusText", { set(v) {}, get() { return "OK\r\nx-injected: 1"; }, configurable: true });
export default { fetch() {
  Array.prototype[Symbol.iterator] = function* () { yield* realIter.call(["x-injected", "1\r\nx-evil: 1"]); };
  try { return new Response("tampered", { status: 200, statusText: "OK\r\nx-injected: 1" }); }
  finally { Array.prototype[Symbol.iterator] = realIter; }
} };"#,
    ),
    (
        "egress",
        "egress.soak",
        r#"export default { async fetch(request) {
  const admin = request.headers.get("x-admin");
  // Loopback spellings only: the soak never sends traffic off this machine.
  const targets = ["http://127.0.0.1:" + admin + "/metrics", "http://127.1:" + admin + "/metrics",
                   "http://[::ffff:127.0.0.1]:" + admin + "/metrics", "http://2130706433:" + admin + "/metrics",
                   "http://localhost:" + admin + "/metrics", "http://0.0.0.0:" + admin + "/"];
  let reached = 0;
  for (const t of targets) { try { const r = await fetch(t, { signal: AbortSignal.timeout(500) }); await r.arrayBuffer(); reached++; } catch {} }
  return new Response("reached " + reached, { status: reached ? 500 : 200 });
} };"#,
    ),
    (
        "loop",
        "loop.soak",
        r#"export default { async fetch(request) {
  // Back into this same proxy (its own listener), through the `*/*` pass-through worker.
  const res = await fetch("http://127.0.0.1:" + request.headers.get("x-port") + "/", { headers: request.headers });
  return new Response(res.body, res);
} };"#,
    ),
    (
        "wasm",
        "wasm.soak",
        r#"export default { async fetch() {
  const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
  try { await WebAssembly.compile(bytes); return new Response("compiled", { status: 500 }); }
  catch (e) { return new Response(String(e), { status: 200 }); }
} };"#,
    ),
    (
        "pbkdf2",
        "pbkdf2.soak",
        r#"export default { async fetch() {
  const key = await crypto.subtle.importKey("raw", new Uint8Array(16), "PBKDF2", false, ["deriveBits"]);
  await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(16), iterations: 2 ** 31 }, key, 256);
  return new Response("derived");
} };"#,
    ),
];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Statuses seen per attack (0 = no answer / transport error).
type Tally = Arc<Mutex<BTreeMap<String, BTreeMap<u16, u64>>>>;

fn note(tally: &Tally, attack: &str, status: u16) {
    *tally
        .lock()
        .unwrap()
        .entry(attack.to_string())
        .or_default()
        .entry(status)
        .or_default() += 1;
}

/// Sends raw bytes on a fresh connection and returns the status codes of
/// every response in what came back (until close or `wait`).
fn raw(port: u16, bytes: &[u8], wait: Duration) -> Vec<u16> {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return vec![];
    };
    let _ = s.set_read_timeout(Some(wait));
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let start = Instant::now();
    while start.elapsed() < wait {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&out);
    text.match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| text.get(i + 9..i + 12)?.parse().ok())
        .collect()
}

/// A client that sends its header one byte a second (slow loris).
fn slow_loris(port: u16, stop: &AtomicBool) -> u16 {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return 0;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
    let req = b"GET / HTTP/1.1\r\nHost: normal.soak\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let start = Instant::now();
    for b in req.iter() {
        if stop.load(Ordering::Relaxed) || start.elapsed() > Duration::from_secs(90) {
            return 0;
        }
        if s.write_all(&[*b]).is_err() {
            return 1; // cut off by the proxy
        }
        let mut buf = [0u8; 512];
        if let Ok(n) = s.read(&mut buf)
            && n > 0
        {
            return String::from_utf8_lossy(&buf[..n])
                .get(9..12)
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
        }
        std::thread::sleep(Duration::from_millis(900));
    }
    0
}

fn read_proc_status(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("soak: skipped (run with `cargo bench --bench soak`)");
        return;
    }
    let seconds: u64 = env_or("SOAK_SECONDS", 300);
    let normal_conns: usize = env_or("SOAK_CONNECTIONS", 4);
    let origin = Origin::start("soak").await;

    let mut builder = Proxy::builder()
        .script("normal.js", NORMAL_JS)
        .config("[runtime]\nisolate_threads = 2\nmemory_mb = 128\n")
        .config(&format!(
            "[[workers]]\nname = \"normal\"\nmain = \"normal.js\"\n\n[[routes]]\npattern = \"normal.soak/*\"\nworker = \"normal\"\norigin = \"{}\"\n",
            origin.url()
        ))
        // A pass-through worker on every other host: the Host-header attack's target.
        .script("pass.js", "export default { fetch: r => fetch(r) };\n")
        .config("[[workers]]\nname = \"pass\"\nmain = \"pass.js\"\n\n[[routes]]\npattern = \"*/*\"\nworker = \"pass\"\n");
    for (name, host, src) in HOSTILE {
        builder = builder.script(&format!("{name}.js"), src).config(&format!(
            "[[workers]]\nname = \"{name}\"\nmain = \"{name}.js\"\n\n[[routes]]\npattern = \"{host}/*\"\nworker = \"{name}\"\n"
        ));
    }
    let proxy = builder.start().await;
    let pid = proxy.pid();
    let port = proxy.port;
    let admin = proxy.admin_port;
    println!(
        "isoproxy soak: {seconds} s, {normal_conns} connections to the normal worker, {} hostile workers + hostile clients",
        HOSTILE.len()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let end = Instant::now() + Duration::from_secs(seconds);
    let normal_ok = Arc::new(AtomicU64::new(0));
    let normal_failed = Arc::new(AtomicU64::new(0));
    let first_failure = Arc::new(Mutex::new(None::<String>));
    let tally: Tally = Arc::default();
    let peak_rss = Arc::new(AtomicU64::new(0));

    let mut tasks = Vec::new();
    // The normal worker: closed-loop load, half answered in the isolate, half through the origin.
    for c in 0..normal_conns {
        let (ok, failed, first) = (normal_ok.clone(), normal_failed.clone(), first_failure.clone());
        let url = proxy.url(if c % 2 == 0 { "/" } else { "/origin" });
        tasks.push(tokio::spawn(async move {
            let client = common::client();
            while Instant::now() < end {
                let r = client.get(&url).header("host", "normal.soak").send().await;
                let good = match r {
                    Ok(r) if r.status() == 200 && r.headers().contains_key("x-normal") => r.bytes().await.is_ok(),
                    Ok(r) => {
                        first.lock().unwrap().get_or_insert(format!("status {}", r.status()));
                        false
                    }
                    Err(e) => {
                        first.lock().unwrap().get_or_insert(e.to_string());
                        false
                    }
                };
                if good {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    // Hostile workers: one request at a time each, a short pause between.
    for (name, host, _) in HOSTILE {
        let tally = tally.clone();
        let url = proxy.url("/");
        tasks.push(tokio::spawn(async move {
            let client = common::client();
            while Instant::now() < end {
                let status = match tokio::time::timeout(
                    Duration::from_secs(70),
                    client
                        .get(&url)
                        .header("host", *host)
                        .header("x-admin", admin.to_string())
                        .header("x-port", port.to_string())
                        .send(),
                )
                .await
                {
                    Ok(Ok(r)) => r.status().as_u16(),
                    _ => 0,
                };
                note(&tally, name, status);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    // Hostile clients, on blocking threads.
    let client_attacks: Vec<(&'static str, Vec<u8>)> = vec![
        (
            "host-to-admin",
            format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{admin}/metrics?\r\nConnection: close\r\n\r\n").into_bytes(),
        ),
        (
            "host-bad-port",
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1:abc\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        ("no-host", b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec()),
        (
            "pipelined",
            b"GET / HTTP/1.1\r\nHost: normal.soak\r\n\r\nGET / HTTP/1.1\r\nHost: normal.soak\r\nConnection: close\r\n\r\n"
                .to_vec(),
        ),
        ("huge-header", {
            let mut r = b"GET / HTTP/1.1\r\nHost: normal.soak\r\n".to_vec();
            for i in 0..2000 {
                r.extend_from_slice(format!("X-H{i}: {}\r\n", "v".repeat(64)).as_bytes());
            }
            r.extend_from_slice(b"Connection: close\r\n\r\n");
            r
        }),
    ];
    for (name, bytes) in client_attacks {
        let (tally, stop) = (tally.clone(), stop.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            while !stop.load(Ordering::Relaxed) && Instant::now() < end {
                let statuses = raw(port, &bytes, Duration::from_secs(5));
                let key = if name == "pipelined" {
                    format!("{name} (answers {})", statuses.len())
                } else {
                    name.to_string()
                };
                note(&tally, &key, statuses.first().copied().unwrap_or(0));
                std::thread::sleep(Duration::from_millis(200));
            }
        }));
    }
    for _ in 0..2 {
        let (tally, stop) = (tally.clone(), stop.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            while !stop.load(Ordering::Relaxed) && Instant::now() < end {
                let started = Instant::now();
                let s = slow_loris(port, &stop);
                note(&tally, "slow-loris (1 = cut off)", s);
                if started.elapsed() < Duration::from_secs(1) {
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }));
    }
    // RSS sampler.
    {
        let peak = peak_rss.clone();
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                peak.fetch_max(read_proc_status(pid, "VmRSS:"), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    let mut last_report = Instant::now();
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if last_report.elapsed() >= Duration::from_secs(30) {
            last_report = Instant::now();
            println!(
                "  t={:>4}s normal ok {} failed {}  rss {:.1} MiB (peak {:.1})",
                seconds - end.saturating_duration_since(Instant::now()).as_secs(),
                normal_ok.load(Ordering::Relaxed),
                normal_failed.load(Ordering::Relaxed),
                read_proc_status(pid, "VmRSS:") as f64 / 1024.0,
                peak_rss.load(Ordering::Relaxed) as f64 / 1024.0,
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(100), t).await;
    }

    let mut proxy = proxy;
    let exited = proxy.wait_exit(Duration::ZERO);
    let alive = exited.is_none();
    let health = common::client().get(proxy.admin_url("/healthz")).send().await;
    let log = proxy.log();
    let panics = log.matches("panicked").count();
    println!();
    println!(
        "normal worker: {} ok, {} failed{}",
        normal_ok.load(Ordering::Relaxed),
        normal_failed.load(Ordering::Relaxed),
        first_failure
            .lock()
            .unwrap()
            .as_ref()
            .map(|f| format!(" (first: {f})"))
            .unwrap_or_default()
    );
    println!(
        "process: pid {pid} {}; restarts 0 (one child process for the whole run), /healthz {}",
        if alive {
            "still running".to_string()
        } else {
            format!("EXITED ({exited:?})")
        },
        health.map(|r| r.status().as_u16()).unwrap_or(0)
    );
    println!(
        "peak RSS {:.1} MiB (VmHWM {:.1} MiB); panics in the log: {panics}",
        peak_rss.load(Ordering::Relaxed) as f64 / 1024.0,
        read_proc_status(pid, "VmHWM:") as f64 / 1024.0
    );
    println!("\nattack                          attempts  statuses");
    let mut attempts = 0;
    for (name, statuses) in tally.lock().unwrap().iter() {
        let n: u64 = statuses.values().sum();
        attempts += n;
        let s: Vec<String> = statuses.iter().map(|(k, v)| format!("{k}x{v}")).collect();
        println!("{name:<32}{n:>8}  {}", s.join(" "));
    }
    println!("total hostile attempts: {attempts}");
    if !alive || normal_failed.load(Ordering::Relaxed) > 0 {
        std::process::exit(1);
    }
}
