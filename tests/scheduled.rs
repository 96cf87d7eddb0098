//! `scheduled()` handlers: the manual trigger on the admin listener, a real
//! per-minute cron firing, and reload changing schedules.

mod common;

use std::time::{Duration, Instant};

use common::{Origin, Proxy, client};
use serde_json::Value;

const SCHEDULED: &str = r#"
export default {
  async scheduled(controller, env, ctx) {
    const q = `worker=${env.NAME}&cron=${encodeURIComponent(controller.cron)}&t=${controller.scheduledTime}`;
    if (controller.cron === "0 0 1 1 1") throw new Error("scheduled failure");
    if (controller.cron === "59 23 * * 7") {
      ctx.waitUntil(fetch(`${env.ORIGIN}/sleep/200?late=1&${q}`));
      return;
    }
    const res = await fetch(`${env.ORIGIN}/ran?${q}`);
    await res.text();
  },
  async fetch() {
    return new Response("fetch works too");
  },
};
"#;

fn worker(name: &str, origin: &str, crons: &str) -> String {
    format!(
        "[[workers]]\nname = \"{name}\"\nmain = \"s.js\"\ncrons = {crons}\nvars = {{ NAME = \"{name}\", ORIGIN = \"{origin}\" }}\negress_allow = [\"local\"]\n\n"
    )
}

async fn trigger(proxy: &Proxy, worker: &str, cron: &str) -> (u16, Value) {
    let r = client()
        .post(proxy.admin_url(&format!("/__scheduled?worker={worker}&cron={}", urlencode(cron))))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn param(line: &str, key: &str) -> Option<String> {
    line.split(['?', '&'])
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_string))
}

#[tokio::test(flavor = "multi_thread")]
async fn manual_trigger_runs_the_handler_with_cron_and_time() {
    let origin = Origin::start("o").await;
    let proxy = Proxy::builder()
        .script("s.js", SCHEDULED)
        .config(&(worker("cronny", &origin.url(), "[]") + "[[routes]]\npattern = \"*/*\"\nworker = \"cronny\"\n"))
        .start()
        .await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let (status, v) = trigger(&proxy, "cronny", "*/5 * * * *").await;
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert_eq!(status, 200);
    assert_eq!(v, serde_json::json!({"outcome": "ok"}), "{}", proxy.log());
    let seen = origin.seen();
    let ran = seen
        .iter()
        .find(|l| l.starts_with("GET /ran?"))
        .expect("the handler fetched the origin");
    assert_eq!(param(ran, "worker").as_deref(), Some("cronny"));
    assert_eq!(param(ran, "cron").as_deref(), Some("*%2F5%20*%20*%20*%20*"));
    let t: i64 = param(ran, "t").unwrap().parse().unwrap();
    assert!(
        before <= t && t <= after,
        "scheduledTime {t} is the trigger moment ({before}..{after})"
    );

    // A thrown exception is reported, logged with its stack, and harms nothing.
    let (_, v) = trigger(&proxy, "cronny", "0 0 1 1 1").await;
    assert_eq!(v["outcome"], "exception");
    assert!(v["error"].as_str().unwrap().contains("scheduled failure"), "{v}");
    proxy.wait_for_log("s.js:5:", Duration::from_secs(5)).await;
    assert_eq!(
        client().get(proxy.url("/")).send().await.unwrap().text().await.unwrap(),
        "fetch works too"
    );

    // The answer waits for ctx.waitUntil work.
    let (_, v) = trigger(&proxy, "cronny", "59 23 * * 7").await;
    assert_eq!(v["outcome"], "ok");
    assert!(
        origin.seen().iter().any(|l| l.contains("late=1")),
        "waitUntil work finished first"
    );

    // Bad requests.
    assert_eq!(trigger(&proxy, "cronny", "not a cron").await.0, 400);
    assert_eq!(trigger(&proxy, "nobody", "* * * * *").await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_cron_expression_stops_start_up() {
    let dir = common::TempDir::new("cron");
    dir.write("s.js", SCHEDULED);
    let conf = dir.write(
        "isoproxy.toml",
        &format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n\n{}",
            worker("w", "http://127.0.0.1:1", "[\"61 * * * *\"]")
        ),
    );
    let (code, out) = common::check_config(&conf);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("61 * * * *"), "{out}");
}

/// Waits until the origin has seen a run of `worker`, up to `timeout`.
async fn wait_for_run(origin: &Origin, worker: &str, timeout: Duration) -> Option<String> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Some(l) = origin
            .seen()
            .into_iter()
            .find(|l| l.starts_with("GET /ran?") && param(l, "worker").as_deref() == Some(worker))
        {
            return Some(l);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn per_minute_cron_fires_and_reload_changes_schedules() {
    let origin = Origin::start("o").await;
    let builder = Proxy::builder().script("s.js", SCHEDULED);
    let dir = builder.dir().to_path_buf();
    let proxy = builder
        .config(&(worker("early", &origin.url(), "[\"* * * * *\"]") + &worker("late", &origin.url(), "[]")))
        .start()
        .await;

    // "early" fires at the next minute boundary, with that instant as scheduledTime.
    let ran = wait_for_run(&origin, "early", Duration::from_secs(70))
        .await
        .expect("the per-minute cron fired");
    assert_eq!(param(&ran, "cron").as_deref(), Some("*%20*%20*%20*%20*"));
    let t: i64 = param(&ran, "t").unwrap().parse().unwrap();
    assert_eq!(
        t % 60_000,
        0,
        "scheduledTime is the scheduled minute, not the start time"
    );

    // Reload: the cron moves from "early" to "late".
    let conf = std::fs::read_to_string(dir.join("isoproxy.toml")).unwrap();
    let conf = conf.replace("crons = [\"* * * * *\"]", "crons = []");
    let conf = conf.replacen(
        "crons = []\nvars = { NAME = \"late\"",
        "crons = [\"* * * * *\"]\nvars = { NAME = \"late\"",
        1,
    );
    std::fs::write(dir.join("isoproxy.toml"), conf).unwrap();
    let early_runs = origin.seen().iter().filter(|l| l.contains("worker=early")).count();
    std::process::Command::new("kill")
        .args(["-HUP", &proxy.pid().to_string()])
        .status()
        .unwrap();
    proxy.wait_for_log("reload ok", Duration::from_secs(10)).await;
    let ran = wait_for_run(&origin, "late", Duration::from_secs(70)).await;
    assert!(ran.is_some(), "the added cron fires; log:\n{}", proxy.log());
    let early_after = origin.seen().iter().filter(|l| l.contains("worker=early")).count();
    assert_eq!(early_after, early_runs, "the removed cron stopped firing");
}

#[tokio::test(flavor = "multi_thread")]
async fn service_worker_syntax_handles_fetch_and_scheduled() {
    let origin = Origin::start("o").await;
    let sw = r#"
addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.pathname === "/pass") return; // no respondWith: goes on to the origin
  if (url.pathname === "/throw") throw new Error("sw failure");
  event.respondWith(new Response(`sw ${GREETING} ${event instanceof FetchEvent}`));
});
addEventListener("scheduled", (event) => {
  event.waitUntil(fetch(`${ORIGIN}/ran?worker=sw&type=${event.type}&cron=${encodeURIComponent(event.cron)}&t=${event.scheduledTime}`));
});
"#;
    let proxy = Proxy::builder()
        .script("sw.js", sw)
        .config(&format!(
            "[[workers]]\nname = \"sw\"\nmain = \"sw.js\"\nvars = {{ GREETING = \"hi\", ORIGIN = \"{}\" }}\n\n[[routes]]\npattern = \"*/*\"\nworker = \"sw\"\norigin = \"{}\"\n",
            origin.url(),
            origin.url()
        ))
        .start()
        .await;
    let r = client().get(proxy.url("/")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "sw hi true");
    let r = client().get(proxy.url("/pass")).send().await.unwrap();
    assert_eq!(r.headers()["x-origin"], "o");
    assert_eq!(client().get(proxy.url("/throw")).send().await.unwrap().status(), 500);
    let (_, v) = trigger(&proxy, "sw", "5 4 * * SUN").await;
    assert_eq!(v["outcome"], "ok", "{}", proxy.log());
    let ran = origin
        .seen()
        .into_iter()
        .find(|l| l.contains("worker=sw"))
        .expect("scheduled listener ran");
    assert_eq!(param(&ran, "type").as_deref(), Some("scheduled"));
    assert_eq!(param(&ran, "cron").as_deref(), Some("5%204%20*%20*%20SUN"));
}
