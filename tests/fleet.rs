//! `[cluster]`: cron triggers fire once per instant across the instances
//! sharing a real `redis-server`; an instance killed with -9 does not stop
//! the next instant; `/workers` shows the same last firing everywhere;
//! without Redis's answer nothing fires; without `[cluster]` every
//! instance fires its own. The tests that wait for minute boundaries run
//! in parallel (one boundary wait each, three for the fleet).

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Origin, Proxy, Redis, client};
use serde_json::Value;

const SCRIPT: &str = r#"
export default {
  async scheduled(controller, env, ctx) {
    const res = await fetch(`${env.ORIGIN}/ran?w=${env.NAME}&i=${env.INSTANCE}&t=${controller.scheduledTime}`);
    await res.text();
  },
};
"#;

/// Runs (the origin sees it) and then fails: a firing whose outcome is
/// `exception`.
const BOOM: &str = r#"
export default {
  async scheduled(controller, env, ctx) {
    const res = await fetch(`${env.ORIGIN}/ran?w=boom&i=${env.INSTANCE}&t=${controller.scheduledTime}`);
    await res.text();
    throw new Error("boom at " + controller.scheduledTime);
  },
};
"#;

const CRON: &str = "* * * * *";

fn worker(name: &str, origin: &Origin, instance: &str) -> String {
    format!(
        "[[workers]]\nname = \"{name}\"\nmain = \"s.js\"\ncrons = [\"{CRON}\"]\n\
         vars = {{ NAME = \"{name}\", INSTANCE = \"{instance}\", ORIGIN = \"{}\" }}\negress_allow = [\"local\"]\n",
        origin.url()
    )
}

fn boom_worker(origin: &Origin, instance: &str) -> String {
    worker("boom", origin, instance).replace("main = \"s.js\"", "main = \"boom.js\"")
}

fn param(line: &str, key: &str) -> Option<String> {
    line.split(['?', '&'])
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_string))
}

/// The runs of worker `name` the origin saw: scheduledTime -> the
/// instances (their INSTANCE var) that ran it.
fn runs(origin: &Origin, name: &str) -> BTreeMap<i64, Vec<String>> {
    let mut map: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for line in origin.seen() {
        if line.starts_with("GET /ran?") && param(&line, "w").as_deref() == Some(name) {
            let t = param(&line, "t").and_then(|t| t.parse().ok()).expect("t=scheduledTime");
            map.entry(t).or_default().push(param(&line, "i").unwrap_or_default());
        }
    }
    map
}

/// Waits until the origin saw a run of `name` at an instant `>= from`.
async fn wait_for_instant(origin: &Origin, name: &str, from: i64, timeout: Duration) -> i64 {
    let start = Instant::now();
    loop {
        if let Some((&t, _)) = runs(origin, name).range(from..).next() {
            return t;
        }
        assert!(
            start.elapsed() < timeout,
            "no run of {name} at or after {from}: {:?}",
            runs(origin, name)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `proxy` has decided about the instant `t` of the trigger
/// (took its lease, or found it held): then it will not run it later.
async fn decided(proxy: &Proxy, t: i64) {
    proxy
        .wait_for_log(&format!("\"{CRON}\" at {t}: "), Duration::from_secs(20))
        .await;
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The `last` firing `/workers` shows for worker `name`'s trigger.
async fn last_firing(proxy: &Proxy, name: &str) -> Value {
    let workers = proxy.workers().await;
    let worker = workers["workers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {workers}"))
        .clone();
    assert_eq!(worker["triggers"][0]["cron"], CRON, "{worker}");
    worker["triggers"][0]["last"].clone()
}

/// Waits until `/workers` on `proxy` shows the instant `t` finished.
async fn wait_last(proxy: &Proxy, name: &str, t: i64) -> Value {
    let start = Instant::now();
    loop {
        let last = last_firing(proxy, name).await;
        if last["scheduled_time"] == t && last["outcome"] != "running" {
            return last;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "last firing {last}, wanted {t}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_instant_fires_once_across_three_instances_also_when_the_runner_dies() {
    let redis = Redis::start();
    let origin = Origin::start("fleet").await;
    // Instances 0 and 1 are named; 2 takes the default, host name and pid.
    let start = |n: usize| {
        let instance = if n < 2 {
            format!("instance = \"edge-{n}\"\n")
        } else {
            String::new()
        };
        Proxy::builder()
            .script("s.js", SCRIPT)
            .script("boom.js", BOOM)
            .isolate_threads(1)
            .config(&format!("[cluster]\nredis = \"{}\"\n{instance}", redis.url(2)))
            .config(&worker("fleet", &origin, &n.to_string()))
            .config(&boom_worker(&origin, &n.to_string()))
            .start()
    };
    let (a, b, c) = tokio::join!(start(0), start(1), start(2));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let names = [
        "edge-0".to_string(),
        "edge-1".to_string(),
        format!("{}-{}", host.trim(), c.pid()),
    ];
    let mut proxies = [Some(a), Some(b), Some(c)];
    for (p, name) in proxies.iter().flatten().zip(&names) {
        let workers = p.workers().await;
        assert_eq!(workers["cluster"]["instance"], name.as_str(), "{workers}");
    }
    // Every instant from the next boundary on is seen by all three.
    let ready = now_ms();

    // Two per-minute instants: each run exactly once in total.
    let mut instants = Vec::new();
    for _ in 0..2 {
        let from = instants.last().map_or(ready, |t| t + 1);
        let t = wait_for_instant(&origin, "fleet", from, Duration::from_secs(75)).await;
        for p in proxies.iter().flatten() {
            decided(p, t).await;
        }
        instants.push(t);
    }
    let seen = runs(&origin, "fleet");
    for (t, ran) in &seen {
        assert_eq!(ran.len(), 1, "instant {t} ran on {ran:?}; all runs: {seen:?}");
        assert_eq!(t % 60_000, 0, "scheduledTime is the minute boundary");
    }
    let mut skipped = 0.0;
    for p in proxies.iter().flatten() {
        let name = "isoproxy_scheduled_runs_total";
        skipped += p
            .metric(name, &[("worker", "fleet"), ("outcome", "skipped_lease")])
            .await;
        assert_eq!(
            p.metric(name, &[("worker", "fleet"), ("outcome", "lease_error")]).await,
            0.0
        );
    }
    assert!(
        skipped >= 4.0,
        "two instants, two instances each lost the lease: {skipped}"
    );

    // Every instance shows the same last firing: the second instant, ok,
    // run by the instance the origin saw.
    let t2 = instants[1];
    let runner: usize = seen[&t2][0].parse().unwrap();
    for p in proxies.iter().flatten() {
        let last = wait_last(p, "fleet", t2).await;
        assert_eq!(last["instance"], names[runner].as_str(), "{last}");
        assert_eq!(last["outcome"], "ok", "{last}");
        assert!(last["finished_at"].as_i64().unwrap() >= t2, "{last}");
    }
    let mut ok = 0.0;
    for p in proxies.iter().flatten() {
        ok += p
            .metric(
                "isoproxy_scheduled_runs_total",
                &[("worker", "fleet"), ("outcome", "ok")],
            )
            .await;
    }
    assert_eq!(ok, seen.len() as f64, "one ok run per instant, fleet-wide");

    // A trigger whose handler throws: also once per instant; its failures
    // are counted once fleet-wide and every instance shows the exception.
    wait_for_instant(&origin, "boom", t2, Duration::from_secs(20)).await;
    let booms = runs(&origin, "boom");
    for (t, ran) in &booms {
        assert_eq!(ran.len(), 1, "boom instant {t} ran on {ran:?}");
    }
    let boom_runner: usize = booms[&t2][0].parse().unwrap();
    let mut failed = 0.0;
    for p in proxies.iter().flatten() {
        let last = wait_last(p, "boom", t2).await;
        assert_eq!(
            (last["outcome"].as_str(), last["instance"].as_str()),
            (Some("exception"), Some(names[boom_runner].as_str())),
            "{last}"
        );
        assert!(
            last["error"]
                .as_str()
                .is_some_and(|e| e.contains(&format!("boom at {t2}"))),
            "{last}"
        );
        failed += p
            .metric(
                "isoproxy_scheduled_runs_total",
                &[("worker", "boom"), ("outcome", "exception")],
            )
            .await;
    }
    assert_eq!(failed, booms.len() as f64, "one failed run per instant, fleet-wide");

    // kill -9 the instance that ran it: the next instant still fires
    // exactly once, on one of the other two.
    drop(proxies[runner].take());
    let t3 = wait_for_instant(&origin, "fleet", t2 + 1, Duration::from_secs(75)).await;
    assert_eq!(t3, t2 + 60_000, "no instant skipped");
    for p in proxies.iter().flatten() {
        decided(p, t3).await;
    }
    let ran = &runs(&origin, "fleet")[&t3];
    assert_eq!(ran.len(), 1, "instant {t3} ran on {ran:?}");
    let runner3: usize = ran[0].parse().unwrap();
    assert_ne!(runner3, runner);
    let mut shown = Vec::new();
    for p in proxies.iter().flatten() {
        let last = wait_last(p, "fleet", t3).await;
        assert_eq!(last["instance"], names[runner3].as_str(), "{last}");
        shown.push(last);
    }
    assert_eq!(shown[0], shown[1], "both survivors show the same last firing");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_cluster_every_instance_fires_and_without_redis_none_does() {
    let origin = Origin::start("solo").await;
    let solo = |n: usize| {
        Proxy::builder()
            .script("s.js", SCRIPT)
            .isolate_threads(1)
            .config(&worker("solo", &origin, &n.to_string()))
            .start()
    };
    // A cluster whose Redis is not there (nothing listens on the port).
    let dead = format!("redis://127.0.0.1:{}/0", common::free_port());
    let lost = Proxy::builder()
        .script("s.js", SCRIPT)
        .isolate_threads(1)
        .config(&format!("[cluster]\nredis = \"{dead}\"\ninstance = \"lost\"\n"))
        .config(&worker("lost", &origin, "lost"))
        .start();
    let (a, b, lost) = tokio::join!(solo(0), solo(1), lost);
    let ready = now_ms();

    let t = wait_for_instant(&origin, "solo", ready, Duration::from_secs(75)).await;
    let start = Instant::now();
    while runs(&origin, "solo")[&t].len() < 2 {
        assert!(start.elapsed() < Duration::from_secs(20), "{:?}", runs(&origin, "solo"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut ran = runs(&origin, "solo")[&t].clone();
    ran.sort();
    assert_eq!(ran, ["0", "1"], "each instance fires its own cron");
    for p in [&a, &b] {
        let last = wait_last(p, "solo", t).await;
        assert_eq!(last["instance"], Value::Null, "{last}");
        assert_eq!(p.workers().await["cluster"], Value::Null);
    }

    // The clustered instance without its Redis decided not to fire `t`.
    lost.wait_for_log(
        &format!("\"{CRON}\" at {t}: not run: no lease"),
        Duration::from_secs(20),
    )
    .await;
    let m = lost
        .metric(
            "isoproxy_scheduled_runs_total",
            &[("worker", "lost"), ("outcome", "lease_error")],
        )
        .await;
    assert!(m >= 1.0, "{m}");
    assert!(runs(&origin, "lost").is_empty(), "{:?}", runs(&origin, "lost"));
    let workers = lost.workers().await;
    assert!(workers["cluster"]["error"].is_string(), "{workers}");
    assert_eq!(workers["cluster"]["instance"], "lost");

    // The manual trigger is an operator's run: it takes no lease, so it
    // works without Redis.
    let r = client()
        .post(lost.admin_url("/__scheduled?worker=lost&cron=*%20*%20*%20*%20*"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["outcome"], "ok");
    assert_eq!(runs(&origin, "lost").values().map(Vec::len).sum::<usize>(), 1);
}

#[test]
fn cluster_keys_are_validated() {
    let dir = common::TempDir::new("cluster-conf");
    let check = |cluster: &str| {
        let conf = dir.write(
            "isoproxy.toml",
            &format!("[server]\nlisten = [\"127.0.0.1:0\"]\n\n[cluster]\n{cluster}\n"),
        );
        common::check_config(&conf)
    };
    let (code, out) = check("redis = \"redis://127.0.0.1:6379/0\"\ninstance = \"edge-1\"");
    assert_eq!(code, 0, "{out}");
    for (cluster, needle) in [
        ("redis = \"http://127.0.0.1:6379/0\"", "cluster.redis"),
        ("redis = \"rediss://127.0.0.1:6379/0\"", "only redis://"),
        ("redis = \"redis://127.0.0.1:6379/zero\"", "not a number"),
        ("redis = \"not a url\"", "cluster.redis"),
        ("instance = \"edge-1\"", "redis"),
        (
            "redis = \"redis://127.0.0.1/0\"\ninstance = \"has space\"",
            "cluster.instance",
        ),
        ("redis = \"redis://127.0.0.1/0\"\ninstance = \"\"", "cluster.instance"),
        ("redis = \"redis://127.0.0.1/0\"\nlease_ms = 5", "lease_ms"),
    ] {
        let (code, out) = check(cluster);
        assert_eq!(code, 1, "{cluster}: {out}");
        assert!(out.contains(needle), "{cluster}: wanted {needle:?} in {out}");
        assert!(out.contains("isoproxy.toml:"), "{cluster}: a position: {out}");
    }
}
