//! Observability: every metric on `GET /metrics` moves when its event
//! happens (real requests, a real SIGHUP, a real scheduled run), and the
//! access log writes one line per request unless `[server] access_log = false`.

mod common;

use std::time::{Duration, Instant};

use common::{Origin, Proxy, client, free_port, get_host};

const ANSWER: &str = r#"export default { fetch() { return new Response("hi"); } };"#;
const PASS: &str = r#"export default { fetch(request) { return fetch(request); } };"#;
const THROW: &str = r#"export default { fetch() { throw new Error("boom"); } };"#;
const SPIN: &str = r#"export default { fetch() { while (true) {} } };"#;
const CRON: &str = r#"
export default {
  async scheduled(controller, env) {
    const res = await fetch(`${env.ORIGIN}/cron`);
    await res.text();
  },
  fetch() { return new Response("cron"); },
};
"#;

fn config(origin: &str, dead: &str) -> String {
    format!(
        r#"
[[workers]]
name = "answer"
main = "answer.js"

[[workers]]
name = "pass"
main = "pass.js"

[[workers]]
name = "throw"
main = "throw.js"

[[workers]]
name = "spin"
main = "spin.js"
limits = {{ cpu_ms = 20 }}

[[workers]]
name = "cron"
main = "cron.js"
vars = {{ ORIGIN = "{origin}" }}

[[routes]]
pattern = "answer.test/*"
worker = "answer"

[[routes]]
pattern = "pass.test/*"
worker = "pass"
origin = "{origin}"

[[routes]]
pattern = "throw.test/*"
worker = "throw"

[[routes]]
pattern = "spin.test/*"
worker = "spin"

[[routes]]
pattern = "plain.test/*"
origin = "{origin}"

[[routes]]
pattern = "dead.test/*"
origin = "{dead}"
"#
    )
}

async fn start(origin: &Origin) -> Proxy {
    let dead = format!("http://127.0.0.1:{}", free_port());
    Proxy::builder()
        .script("answer.js", ANSWER)
        .script("pass.js", PASS)
        .script("throw.js", THROW)
        .script("spin.js", SPIN)
        .script("cron.js", CRON)
        .config(&config(&origin.url(), &dead))
        .start()
        .await
}

async fn scrape(proxy: &Proxy) -> String {
    let r = client().get(proxy.admin_url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain"), "{ct}");
    r.text().await.unwrap()
}

/// Scrapes once the proxy has counted `requests` more requests than in
/// `before`: requests are counted in Pingora's logging phase, which runs
/// just after the client already has its response.
async fn scrape_after(proxy: &Proxy, before: &str, requests: f64) -> String {
    let start = Instant::now();
    loop {
        let now = scrape(proxy).await;
        let counted = value(&now, "isoproxy_requests_total", &[]) - value(before, "isoproxy_requests_total", &[]);
        if counted >= requests || start.elapsed() > Duration::from_secs(5) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The sum of every sample of `name` whose labels include all of `labels`.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, v) = l.rsplit_once(' ')?;
            let (n, rest) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            if n != name {
                return None;
            }
            let all = labels
                .iter()
                .all(|(k, want)| rest.split(',').any(|kv| kv == format!("{k}=\"{want}\"").as_str()));
            all.then(|| v.parse::<f64>().unwrap())
        })
        .sum()
}

/// Asserts that `f(before, after)` holds for a metric, with context.
fn moved(before: &str, after: &str, name: &str, labels: &[(&str, &str)], by: f64) {
    let (b, a) = (value(before, name, labels), value(after, name, labels));
    assert_eq!(a - b, by, "{name}{labels:?}: {b} -> {a}\n{after}");
}

async fn hup_and_wait(proxy: &Proxy, needle: &str, count_before: usize) {
    let ok = std::process::Command::new("kill")
        .args(["-HUP", &proxy.pid().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let start = Instant::now();
    while proxy.log().matches(needle).count() <= count_before {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no {needle:?}:\n{}",
            proxy.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_metric_moves_when_its_event_happens() {
    let origin = Origin::start("o").await;
    let proxy = start(&origin).await;
    let t0 = scrape(&proxy).await;
    assert!(t0.contains("isoproxy_reloads_total{result=\"ok\"} 0"), "{t0}");

    // A worker that answers by itself.
    let r = get_host(&proxy.url("/a"), "answer.test").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "hi");
    let t1 = scrape_after(&proxy, &t0, 1.0).await;
    let answered = [
        ("worker", "answer"),
        ("route", "answer.test/*"),
        ("outcome", "answered"),
        ("status_class", "2xx"),
    ];
    moved(&t0, &t1, "isoproxy_requests_total", &answered, 1.0);
    moved(&t0, &t1, "isoproxy_js_cpu_seconds_count", &[("worker", "answer")], 1.0);
    assert!(
        value(&t1, "isoproxy_isolates_alive", &[("worker", "answer")]) >= 1.0,
        "{t1}"
    );
    // Its isolate was created before the listeners accepted (start-up
    // warms every configured worker), so no request waited for it.
    assert!(
        value(&t0, "isoproxy_isolates_alive", &[("worker", "answer")]) >= 1.0,
        "{t0}"
    );

    // A worker that passes the request to its route's origin.
    let r = get_host(&proxy.url("/p"), "pass.test").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-origin"], "o");
    let t2 = scrape_after(&proxy, &t1, 1.0).await;
    let passed = [("worker", "pass"), ("outcome", "passed"), ("status_class", "2xx")];
    moved(&t1, &t2, "isoproxy_requests_total", &passed, 1.0);
    moved(&t1, &t2, "isoproxy_subrequests_total", &[("worker", "pass")], 1.0);

    // A worker that throws.
    let r = get_host(&proxy.url("/t"), "throw.test").await;
    assert_eq!(r.status(), 500);
    let t3 = scrape_after(&proxy, &t2, 1.0).await;
    let threw = [("worker", "throw"), ("outcome", "exception"), ("status_class", "5xx")];
    moved(&t2, &t3, "isoproxy_requests_total", &threw, 1.0);

    // A plain route, a plain route whose origin is down, and no route.
    let r = get_host(&proxy.url("/x"), "plain.test").await;
    assert_eq!(r.status(), 200);
    let r = get_host(&proxy.url("/x"), "dead.test").await;
    assert_eq!(r.status(), 502);
    let r = get_host(&proxy.url("/x"), "nowhere.test").await;
    assert_eq!(r.status(), 404);
    let t4 = scrape_after(&proxy, &t3, 3.0).await;
    let proxied = [
        ("worker", "-"),
        ("route", "plain.test/*"),
        ("outcome", "proxied"),
        ("status_class", "2xx"),
    ];
    moved(&t3, &t4, "isoproxy_requests_total", &proxied, 1.0);
    let failed = [
        ("route", "dead.test/*"),
        ("outcome", "origin_error"),
        ("status_class", "5xx"),
    ];
    moved(&t3, &t4, "isoproxy_requests_total", &failed, 1.0);
    moved(&t3, &t4, "isoproxy_origin_errors_total", &[("kind", "connect")], 1.0);
    let no_route = [("route", "-"), ("outcome", "no_route"), ("status_class", "4xx")];
    moved(&t3, &t4, "isoproxy_requests_total", &no_route, 1.0);

    // A worker over its CPU limit.
    let r = get_host(&proxy.url("/s"), "spin.test").await;
    assert_eq!(r.status(), 503);
    let t5 = scrape_after(&proxy, &t4, 1.0).await;
    let cpu = [("worker", "spin"), ("outcome", "cpu_limit"), ("status_class", "5xx")];
    moved(&t4, &t5, "isoproxy_requests_total", &cpu, 1.0);
    moved(&t4, &t5, "isoproxy_js_cpu_seconds_count", &[("worker", "spin")], 1.0);

    // A scheduled run (manual trigger) that makes a subrequest.
    let r = client()
        .post(proxy.admin_url("/__scheduled?worker=cron"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t6 = scrape(&proxy).await;
    moved(
        &t5,
        &t6,
        "isoproxy_scheduled_runs_total",
        &[("worker", "cron"), ("outcome", "ok")],
        1.0,
    );
    moved(&t5, &t6, "isoproxy_subrequests_total", &[("worker", "cron")], 1.0);

    // A good reload, then a bad one.
    hup_and_wait(&proxy, "reload ok", 0).await;
    let t7 = scrape(&proxy).await;
    moved(&t6, &t7, "isoproxy_reloads_total", &[("result", "ok")], 1.0);
    proxy.dir.write("answer.js", "export default { fetch( { ");
    hup_and_wait(&proxy, "reload failed", 0).await;
    let t8 = scrape(&proxy).await;
    moved(&t7, &t8, "isoproxy_reloads_total", &[("result", "failed")], 1.0);
    moved(&t7, &t8, "isoproxy_reloads_total", &[("result", "ok")], 0.0);

    // Every series has its HELP and TYPE lines.
    for name in [
        "isoproxy_requests_total",
        "isoproxy_js_cpu_seconds",
        "isoproxy_isolates_alive",
        "isoproxy_reloads_total",
        "isoproxy_scheduled_runs_total",
        "isoproxy_subrequests_total",
        "isoproxy_origin_errors_total",
    ] {
        assert!(t8.contains(&format!("# TYPE {name} ")), "{name} missing:\n{t8}");
    }
}

/// The access-log lines (target `isoproxy::access`) in the proxy's log.
fn access_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("isoproxy::access"))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn access_log_writes_one_line_per_request_and_can_be_switched_off() {
    let origin = Origin::start("o").await;
    let proxy = start(&origin).await;

    let r = get_host(&proxy.url("/hello?x=1"), "answer.test").await;
    assert_eq!(r.status(), 200);
    r.text().await.unwrap();
    let log = proxy
        .wait_for_log(
            "GET answer.test /hello?x=1 200 answer answered ",
            Duration::from_secs(10),
        )
        .await;
    let lines = access_lines(&log);
    assert_eq!(lines.len(), 1, "{log}");
    let line = &lines[0];
    let fields: Vec<&str> = line.split("] ").nth(1).unwrap().split(' ').collect();
    assert_eq!(fields.len(), 9, "{line}");
    assert!(fields[6].ends_with("ms"), "duration: {line}");
    assert!(
        fields[7].starts_with("cpu=") && fields[7].ends_with("ms"),
        "cpu: {line}"
    );
    assert_eq!(fields[8], "2B", "bytes sent: {line}");

    // A plain route: no worker, no CPU; the origin's body length.
    let r = get_host(&proxy.url("/status/201"), "plain.test").await;
    assert_eq!(r.status(), 201);
    r.text().await.unwrap();
    let log = proxy
        .wait_for_log("GET plain.test /status/201 201 - proxied ", Duration::from_secs(10))
        .await;
    let line = access_lines(&log).pop().unwrap();
    assert!(line.ends_with(" cpu=- 10B"), "{line}");

    // access_log = false (applied by a reload) removes the lines.
    let conf = proxy.dir.path().join("isoproxy.toml");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, text.replacen("[server]\n", "[server]\naccess_log = false\n", 1)).unwrap();
    hup_and_wait(&proxy, "reload ok", 0).await;
    let before = access_lines(&proxy.log()).len();
    let counted = scrape(&proxy).await;
    for _ in 0..3 {
        let r = get_host(&proxy.url("/quiet"), "answer.test").await;
        assert_eq!(r.status(), 200);
        r.text().await.unwrap();
    }
    // The metrics still count them (once the requests' logging phase ran:
    // it may end after the client has the whole response).
    let m = scrape_after(&proxy, &counted, 3.0).await;
    assert_eq!(
        value(
            &m,
            "isoproxy_requests_total",
            &[("worker", "answer"), ("outcome", "answered")]
        ),
        4.0,
        "{m}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = proxy.log();
    assert_eq!(access_lines(&log).len(), before, "{log}");
    assert!(!log.contains("/quiet"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn access_log_false_at_start_writes_no_lines() {
    // The harness's builder owns [server], so this one starts the binary itself.
    let dir = common::TempDir::new("accesslog");
    let port = free_port();
    let conf = dir.write(
        "isoproxy.toml",
        &format!(
            "[server]\nlisten = [\"127.0.0.1:{port}\"]\naccess_log = false\n\n[runtime]\nisolate_threads = 1\n\n[[workers]]\nname = \"answer\"\nmain = \"answer.js\"\n\n[[routes]]\npattern = \"*/*\"\nworker = \"answer\"\n"
        ),
    );
    dir.write("answer.js", ANSWER);
    let (code, out) = common::check_config(&conf);
    assert_eq!(code, 0, "{out}");
    let log_path = dir.path().join("log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = std::process::Command::new(common::BIN)
        .arg("--conf")
        .arg(&conf)
        .env("RUST_LOG", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/x");
    let start = Instant::now();
    let status = loop {
        if let Ok(r) = client().get(&url).send().await {
            break r.status().as_u16();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "not ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200);
    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(text.contains("isoproxy serving"), "{text}");
    assert!(access_lines(&text).is_empty(), "{text}");
}
