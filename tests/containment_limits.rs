//! Containment, limits: a script cannot stall its isolate thread, cannot
//! keep running after its request, cannot outlive a client that went away,
//! and cannot make the process hold more memory than its `memory_mb`.
//! Hostile scripts live in `tests/containment/limits_*.js`; every attack
//! also shows a normal worker on the same isolate thread still answering.

mod common;

use std::time::{Duration, Instant};

use common::{Origin, Proxy, client, get_host};

const ATOMICS_WAIT: &str = include_str!("containment/limits_atomics_wait.js");
const TIMER_CHAIN: &str = include_str!("containment/limits_timer_chain.js");
const NEVER_RESPONDS: &str = include_str!("containment/limits_never_responds.js");
const WASM_COMPILE: &str = include_str!("containment/limits_wasm_compile.js");
const RETAIN: &str = include_str!("containment/limits_retain.js");
const GOOD: &str = "export default { fetch() { return new Response('good'); } };";

/// A proxy with one isolate thread (every worker shares it), the attack
/// worker `atk` on `atk.test`, and the normal worker `good` on `good.test`.
async fn start(attack: &str, extra_runtime: &str, origin: Option<&Origin>) -> Proxy {
    let vars = origin
        .map(|o| format!("vars = {{ ORIGIN = \"{}\" }}", o.url()))
        .unwrap_or_default();
    Proxy::builder()
        .script("atk.js", attack)
        .script("good.js", GOOD)
        .config(&format!(
            r#"
[runtime]
isolate_threads = 1
{extra_runtime}

[[workers]]
name = "atk"
main = "atk.js"
{vars}

[[workers]]
name = "good"
main = "good.js"

[[routes]]
pattern = "atk.test/*"
worker = "atk"

[[routes]]
pattern = "good.test/*"
worker = "good"
"#
        ))
        .start()
        .await
}

async fn good_answers(proxy: &Proxy) {
    let r = get_host(&proxy.url("/"), "good.test").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(r.text().await.unwrap(), "good");
}

/// The process's CPU time so far (user + system), from /proc/PID/stat.
fn process_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which is in parentheses).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let hz: u64 = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100);
    Duration::from_millis(ticks * 1000 / hz)
}

/// CPU the process uses over `window`, as a fraction of one core.
async fn cpu_share(pid: u32, window: Duration) -> f64 {
    let before = process_cpu(pid);
    tokio::time::sleep(window).await;
    (process_cpu(pid) - before).as_secs_f64() / window.as_secs_f64()
}

#[tokio::test(flavor = "multi_thread")]
async fn atomics_wait_throws_instead_of_blocking_the_thread() {
    let proxy = start(ATOMICS_WAIT, "", None).await;
    for _ in 0..3 {
        let started = Instant::now();
        let r = get_host(&proxy.url("/"), "atk.test").await;
        assert_eq!(r.status(), 500, "{}", proxy.log());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "answered fast: {:?}",
            started.elapsed()
        );
        good_answers(&proxy).await;
    }
    let r = get_host(&proxy.url("/caught"), "atk.test").await;
    assert_eq!(
        r.text().await.unwrap(),
        "TypeError: Atomics.wait cannot be called in this context"
    );
    good_answers(&proxy).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn timers_stop_when_their_request_ends() {
    let proxy = start(TIMER_CHAIN, "", None).await;
    for (path, text) in [("/timeout-chain", "chain started"), ("/interval", "interval started")] {
        let r = get_host(&proxy.url(path), "atk.test").await;
        assert_eq!(r.text().await.unwrap(), text);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let share = cpu_share(proxy.pid(), Duration::from_secs(2)).await;
        eprintln!("{path}: {:.1}% of a core after the response", share * 100.0);
        assert!(
            share < 0.2,
            "{path}: the timers kept running: {:.0}% of a core",
            share * 100.0
        );
        good_answers(&proxy).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn timer_work_under_wait_until_is_charged_to_its_request() {
    let proxy = start(TIMER_CHAIN, "", None).await;
    let r = get_host(&proxy.url("/wait-until-chain"), "atk.test").await;
    assert_eq!(r.text().await.unwrap(), "chain started under waitUntil");
    // 50 ms of CPU in all, then the request's JS is terminated.
    proxy
        .wait_for_log(
            "worker atk: exceeded its CPU time limit (50 ms)",
            Duration::from_secs(5),
        )
        .await;
    let share = cpu_share(proxy.pid(), Duration::from_secs(2)).await;
    eprintln!("wait-until chain: {:.1}% of a core after the limit", share * 100.0);
    assert!(share < 0.2, "the chain kept running: {:.0}% of a core", share * 100.0);
    good_answers(&proxy).await;
    assert_eq!(
        get_host(&proxy.url("/"), "atk.test").await.text().await.unwrap(),
        "fine"
    );
}
