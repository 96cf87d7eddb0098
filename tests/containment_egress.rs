//! Containment: what a worker's subrequests may reach (issue 9). The
//! hostile scripts are in `tests/containment/egress_*.js`; each attack runs
//! against the real binary and must get its documented answer while a
//! normal worker on the same proxy keeps answering 200.

mod common;

use std::time::Duration;

use common::{Origin, Proxy, client, get_host};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PROBE: &str = include_str!("containment/egress_probe.js");
const UNCAUGHT: &str = include_str!("containment/egress_uncaught.js");
const RECURSE: &str = include_str!("containment/egress_recurse.js");
const PING_PONG: &str = include_str!("containment/egress_ping_pong.js");
const FAN: &str = include_str!("containment/egress_fan.js");
const HEADERS: &str = include_str!("containment/egress_headers.js");
const SPEND: &str = include_str!("containment/egress_spend.js");
const NORMAL: &str = "export default { fetch() { return new Response('normal ok'); } };";
const PASS: &str = "export default { fetch(request) { return fetch(request); } };";

/// The normal worker (route `normal.test`) still answers.
async fn assert_normal_ok(proxy: &Proxy) {
    let r = get_host(&proxy.url("/"), "normal.test").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(r.text().await.unwrap(), "normal ok");
}

/// POSTs `targets` to the probe worker on `host`: URL -> outcome.
async fn probe(proxy: &Proxy, host: &str, targets: &[String]) -> serde_json::Map<String, serde_json::Value> {
    let r = client()
        .post(proxy.url("/"))
        .header("host", host)
        .json(&targets)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", proxy.log());
    r.json().await.unwrap()
}

/// The machine's own name (it resolves to one of this machine's addresses).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn default_policy_refuses_every_internal_address() {
    // A service on loopback that no route names: workers must not reach it.
    let secret = Origin::start("secret").await;
    let p = secret.addr.port();
    let proxy = Proxy::builder()
        .script("probe.js", PROBE)
        .script("normal.js", NORMAL)
        .config(
            "[runtime]\nisolate_threads = 2\nsubrequests = 100\n\n\
             [[workers]]\nname = \"probe\"\nmain = \"probe.js\"\n\n\
             [[workers]]\nname = \"normal\"\nmain = \"normal.js\"\n\n\
             [[routes]]\npattern = \"probe.test/*\"\nworker = \"probe\"\n\n\
             [[routes]]\npattern = \"normal.test/*\"\nworker = \"normal\"\n",
        )
        .start()
        .await;
    let (own, admin) = (proxy.port, proxy.admin_port);
    let name = hostname();
    let targets: Vec<String> = [
        // Loopback, every spelling (the URL parser normalises the IPv4 ones).
        format!("http://127.0.0.1:{p}/"),
        format!("http://127.0.0.2:{p}/"),
        format!("http://127.1:{p}/"),
        format!("http://0x7f.1:{p}/"),
        format!("http://0x7f000001:{p}/"),
        format!("http://2130706433:{p}/"),
        format!("http://017700000001:{p}/"),
        format!("http://localhost:{p}/"),
        format!("http://LocalHost.:{p}/"),
        format!("http://api.localhost:{p}/"),
        format!("http://[::1]:{p}/"),
        format!("http://[0:0:0:0:0:0:0:1]:{p}/"),
        format!("http://[::ffff:127.0.0.1]:{p}/"),
        format!("http://[::ffff:7f00:1]:{p}/"),
        format!("http://[::127.0.0.1]:{p}/"),
        format!("http://[64:ff9b::127.0.0.1]:{p}/"),
        format!("http://[2002:7f00:1::1]:{p}/"),
        // Unspecified (connecting to it reaches this machine).
        format!("http://0.0.0.0:{p}/"),
        format!("http://0:{p}/"),
        format!("http://[::]:{p}/"),
        // Link-local, cloud metadata.
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[::ffff:169.254.169.254]/latest/meta-data/".to_string(),
        "http://[fe80::1]/".to_string(),
        // Private networks.
        "http://10.0.0.1/".to_string(),
        "http://172.16.0.1/".to_string(),
        "http://172.31.255.254/".to_string(),
        "http://192.168.1.1/".to_string(),
        "http://100.64.0.1/".to_string(),
        "http://[fc00::1]/".to_string(),
        "http://[fd12:3456::1]/".to_string(),
        "http://[64:ff9b::10.0.0.1]/".to_string(),
        "http://[2002:c0a8:101::1]/".to_string(),
        // Multicast, broadcast, reserved, documentation.
        "http://224.0.0.1/".to_string(),
        "http://255.255.255.255/".to_string(),
        "http://240.0.0.1/".to_string(),
        "http://192.0.2.1/".to_string(),
        "http://[2001:db8::1]/".to_string(),
        "http://[ff02::1]/".to_string(),
        // isoproxy itself: proxy and admin listeners, by address and by name.
        format!("http://127.0.0.1:{own}/"),
        format!("http://127.0.0.1:{admin}/metrics"),
        format!("http://{name}:{own}/"),
        format!("http://{name}:{admin}/metrics"),
    ]
    .into_iter()
    .collect();
    let out = probe(&proxy, "probe.test", &targets).await;
    for t in &targets {
        let outcome = out[t].as_str().unwrap();
        assert!(
            outcome.starts_with("TypeError: fetch to ") && outcome.contains("refused by the egress policy"),
            "{t}: {outcome}"
        );
    }
    // The messages say why.
    assert_eq!(
        out[&format!("http://127.0.0.1:{p}/")],
        "TypeError: fetch to 127.0.0.1 refused by the egress policy (address is loopback)"
    );
    assert_eq!(
        out["http://169.254.169.254/latest/meta-data/"],
        "TypeError: fetch to 169.254.169.254 refused by the egress policy (address is link-local)"
    );
    assert_eq!(
        out[&format!("http://[2002:7f00:1::1]:{p}/")],
        "TypeError: fetch to 2002:7f00:1::1 refused by the egress policy (address is loopback (6to4))"
    );
    assert!(
        out[&format!("http://127.0.0.1:{admin}/metrics")]
            .as_str()
            .unwrap()
            .contains("isoproxy's admin listener")
    );
    assert!(
        out[&format!("http://127.0.0.1:{own}/")]
            .as_str()
            .unwrap()
            .contains("own listener")
    );
    assert!(
        out[&format!("http://{name}:{admin}/metrics")]
            .as_str()
            .unwrap()
            .contains(&format!("fetch to {name} ("))
    );
    // Nothing was connected to.
    assert!(secret.seen().is_empty(), "{:?}", secret.seen());
    // Counted and logged.
    assert!(
        proxy
            .metric(
                "isoproxy_egress_refused_total",
                &[("worker", "probe"), ("reason", "loopback")]
            )
            .await
            >= 15.0
    );
    assert!(
        proxy
            .metric(
                "isoproxy_egress_refused_total",
                &[("worker", "probe"), ("reason", "link_local")]
            )
            .await
            >= 3.0
    );
    assert!(
        proxy
            .metric(
                "isoproxy_egress_refused_total",
                &[("worker", "probe"), ("reason", "admin")]
            )
            .await
            >= 1.0
    );
    assert!(proxy.log().contains(
        "worker probe: fetch to 169.254.169.254 port 80 refused by the egress policy (address is link-local)"
    ));
    assert_normal_ok(&proxy).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_checked_at_every_hop() {
    // The route's origin is allowed; where it redirects to is checked again.
    let origin = Origin::start("route-origin").await;
    let secret = Origin::start("secret").await;
    let proxy = Proxy::builder()
        .script("probe.js", PROBE)
        .script("normal.js", NORMAL)
        .config(&format!(
            "[[workers]]\nname = \"probe\"\nmain = \"probe.js\"\n\n\
             [[workers]]\nname = \"normal\"\nmain = \"normal.js\"\n\n\
             [[routes]]\npattern = \"probe.test/*\"\nworker = \"probe\"\norigin = \"{}\"\n\n\
             [[routes]]\npattern = \"normal.test/*\"\nworker = \"normal\"\n",
            origin.url()
        ))
        .start()
        .await;
    let hop = |to: &str| {
        format!(
            "http://probe.test/redirect?to={}",
            to.replace(':', "%3A").replace('/', "%2F")
        )
    };
    let to_secret = format!("http://127.0.0.1:{}/x", secret.addr.port());
    let to_admin = format!("http://127.0.0.1:{}/metrics", proxy.admin_port);
    let to_metadata = "http://169.254.169.254/latest/meta-data/".to_string();
    let allowed = "http://probe.test/status/200".to_string();
    let targets = vec![
        hop(&to_secret),
        hop(&to_admin),
        hop(&to_metadata),
        hop(&hop(&to_secret)),
        allowed.clone(),
    ];
    let out = probe(&proxy, "probe.test", &targets).await;
    assert_eq!(out[&allowed], "reached 200");
    for t in &targets[..4] {
        let outcome = out[t].as_str().unwrap();
        assert!(outcome.contains("refused by the egress policy"), "{t}: {outcome}");
    }
    // The route origin saw the redirect hops; the secret saw nothing.
    assert_eq!(
        origin.seen().iter().filter(|s| s.starts_with("GET /redirect")).count(),
        5
    );
    assert!(secret.seen().is_empty(), "{:?}", secret.seen());
    assert_normal_ok(&proxy).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_uncaught_refusal_is_a_500_with_the_reason_in_the_log() {
    let secret = Origin::start("secret").await;
    let proxy = Proxy::builder()
        .script("uncaught.js", UNCAUGHT)
        .script("normal.js", NORMAL)
        .config(&format!(
            "[[workers]]\nname = \"uncaught\"\nmain = \"uncaught.js\"\nvars = {{ TARGET = \"{}/x\" }}\n\n\
             [[workers]]\nname = \"normal\"\nmain = \"normal.js\"\n\n\
             [[routes]]\npattern = \"uncaught.test/*\"\nworker = \"uncaught\"\n\n\
             [[routes]]\npattern = \"normal.test/*\"\nworker = \"normal\"\n",
            secret.url()
        ))
        .start()
        .await;
    let r = get_host(&proxy.url("/"), "uncaught.test").await;
    assert_eq!(r.status(), 500);
    proxy
        .wait_for_log(
            "worker uncaught: uncaught exception: TypeError: fetch to 127.0.0.1 refused by the egress policy (address is loopback)",
            Duration::from_secs(5),
        )
        .await;
    assert!(secret.seen().is_empty());
    assert_normal_ok(&proxy).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn egress_opens_per_worker_and_in_runtime() {
    let secret = Origin::start("secret").await;
    let named = Origin::start("named").await;
    let s = secret.url();
    let proxy = Proxy::builder()
        .script("probe.js", PROBE)
        .script("normal.js", NORMAL)
        .config(&format!(
            r#"
[runtime]
isolate_threads = 2
egress_deny = ["127.0.0.2/32"]

[[workers]]
name = "closed"
main = "probe.js"

[[workers]]
name = "cidr"
main = "probe.js"
egress_allow = ["127.0.0.0/8"]

[[workers]]
name = "local"
main = "probe.js"
egress_allow = ["local"]
egress_deny = ["{s_ip}/32"]

[[workers]]
name = "self"
main = "probe.js"
egress_allow = ["self"]

[[workers]]
name = "normal"
main = "normal.js"

[[routes]]
pattern = "closed.test/*"
worker = "closed"

[[routes]]
pattern = "cidr.test/*"
worker = "cidr"

[[routes]]
pattern = "local.test/*"
worker = "local"

[[routes]]
pattern = "self.test/*"
worker = "self"

[[routes]]
pattern = "normal.test/*"
worker = "normal"

# A plain route's origin: every worker may reach it, by name or address.
[[routes]]
pattern = "named.test/*"
origin = "http://localhost:{named_port}"
"#,
            s_ip = "127.0.0.3",
            named_port = named.addr.port(),
        ))
        .start()
        .await;
    let secret_at = |ip: &str| format!("http://{ip}:{}/status/200", secret.addr.port());
    let own = proxy.url("/");
    let to_named = format!("http://localhost:{}/status/200", named.addr.port());
    let to_named_ip = format!("http://127.0.0.1:{}/status/200", named.addr.port());
    let targets = vec![
        format!("{s}/status/200"),
        secret_at("127.0.0.2"),
        secret_at("127.0.0.3"),
        own.clone(),
        to_named.clone(),
        to_named_ip.clone(),
    ];
    let closed = probe(&proxy, "closed.test", &targets).await;
    let cidr = probe(&proxy, "cidr.test", &targets).await;
    let local = probe(&proxy, "local.test", &targets).await;
    let selfish = probe(&proxy, "self.test", &targets).await;
    // Allowed by the policy (127.0.0.2 and .3 may still refuse the connection:
    // the origins listen on 127.0.0.1 only).
    let reached = |m: &serde_json::Map<String, serde_json::Value>, t: &str| {
        !m[t].as_str().unwrap().contains("refused by the egress policy")
    };
    // Default: nothing on loopback but the route origin.
    assert!(!reached(&closed, &targets[0]), "{closed:?}");
    assert!(!reached(&closed, &own));
    // A CIDR opens the block; the runtime's deny of a more specific block still holds.
    assert!(reached(&cidr, &targets[0]), "{cidr:?}");
    assert!(!reached(&cidr, &targets[1]));
    assert!(cidr[&targets[1]].as_str().unwrap().contains("denied by egress_deny"));
    assert!(reached(&cidr, &targets[2]));
    // "local" opens loopback; the worker's own deny narrows it.
    assert!(reached(&local, &targets[0]), "{local:?}");
    assert!(!reached(&local, &targets[2]));
    // Neither opens isoproxy's own listener: only "self" does.
    assert!(cidr[&own].as_str().unwrap().contains("own listener"));
    assert!(local[&own].as_str().unwrap().contains("own listener"));
    assert!(!reached(&selfish, &targets[0]), "{selfish:?}");
    assert_eq!(selfish[&own], "reached 404", "the proxy answered itself: no route");
    // Route origins are always allowed, by name and by the address it resolves to.
    for m in [&closed, &cidr, &local, &selfish] {
        assert_eq!(m[&to_named], "reached 200", "{m:?}");
    }
    assert!(
        !reached(&closed, &to_named_ip),
        "a named origin's address is not an origin by itself"
    );
    assert_normal_ok(&proxy).await;
}

/// The sum of `isoproxy_requests_total` for `worker` (and `outcome`).
async fn requests(proxy: &Proxy, worker: &str, outcome: Option<&str>) -> f64 {
    let mut labels = vec![("worker", worker)];
    if let Some(o) = outcome {
        labels.push(("outcome", o));
    }
    proxy.metric("isoproxy_requests_total", &labels).await
}

/// Polls `isoproxy_requests_total{worker}` (the logging phase of an outer
/// request may run just after its client got the answer) until `done`.
async fn eventually(proxy: &Proxy, worker: &str, done: impl Fn(f64) -> bool) -> f64 {
    let start = std::time::Instant::now();
    loop {
        let n = requests(proxy, worker, None).await;
        if done(n) || start.elapsed() > Duration::from_secs(5) {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_calling_its_own_proxy_stops_after_16_hops() {
    let proxy = Proxy::builder()
        .script("recurse.js", RECURSE)
        .script("pingpong.js", PING_PONG)
        .script("normal.js", NORMAL)
        .config(
            "[[workers]]\nname = \"recurse\"\nmain = \"recurse.js\"\negress_allow = [\"self\"]\n\n\
             [[workers]]\nname = \"pingpong\"\nmain = \"pingpong.js\"\negress_allow = [\"self\"]\n\n\
             [[workers]]\nname = \"normal\"\nmain = \"normal.js\"\n\n\
             [[routes]]\npattern = \"normal.test/*\"\nworker = \"normal\"\n\n\
             [[routes]]\npattern = \"*/ping\"\nworker = \"pingpong\"\n\n\
             [[routes]]\npattern = \"*/pong\"\nworker = \"pingpong\"\n\n\
             [[routes]]\npattern = \"*/*\"\nworker = \"recurse\"\n",
        )
        .start()
        .await;
    // Directly: the client's Host is the proxy itself, so fetch(request) comes back.
    let r = client().get(proxy.url("/deep")).send().await.unwrap();
    assert_eq!(r.status(), 508, "{}", proxy.log());
    assert!(r.text().await.unwrap().starts_with("Loop Detected"));
    assert_eq!(
        eventually(&proxy, "recurse", |n| n >= 16.0).await,
        16.0,
        "one run per hop before the limit"
    );
    assert_eq!(requests(&proxy, "-", Some("loop")).await, 1.0);
    assert!(
        proxy
            .log()
            .contains("loop detected: the request has passed through isoproxy 16 times")
    );

    // Through two routes, with a forged loop header on every subrequest.
    let r = client().get(proxy.url("/ping")).send().await.unwrap();
    assert_eq!(r.status(), 508);
    assert_eq!(eventually(&proxy, "pingpong", |n| n >= 16.0).await, 16.0);
    assert_normal_ok(&proxy).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_route_whose_origin_is_the_proxy_stops_after_16_hops() {
    let proxy = Proxy::builder()
        .script("normal.js", NORMAL)
        .config("[[workers]]\nname = \"normal\"\nmain = \"normal.js\"\n\n[[routes]]\npattern = \"normal.test/*\"\nworker = \"normal\"\n")
        .start()
        .await;
    // The proxy's port is known only now: add the route and reload.
    let conf = proxy.dir.path().join("isoproxy.toml");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str(&format!(
        "\n[[routes]]\npattern = \"loop.test/*\"\norigin = \"http://127.0.0.1:{}\"\n",
        proxy.port
    ));
    std::fs::write(&conf, text).unwrap();
    proxy.hup();
    proxy.wait_for_log("reload ok", Duration::from_secs(30)).await;
    // Pingora keeps the Host, so every hop matches the same route again.
    let r = get_host(&proxy.url("/"), "loop.test").await;
    assert_eq!(r.status(), 508, "{}", proxy.log());
    let proxied = {
        let start = std::time::Instant::now();
        loop {
            let n = requests(&proxy, "-", Some("proxied")).await;
            if n >= 16.0 || start.elapsed() > Duration::from_secs(5) {
                break n;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert_eq!(proxied, 16.0);
    assert_normal_ok(&proxy).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_subrequest_budget_is_shared_along_the_chain() {
    let proxy = Proxy::builder()
        .script("fan.js", FAN)
        .script("normal.js", NORMAL)
        .config(
            "[[workers]]\nname = \"fan\"\nmain = \"fan.js\"\negress_allow = [\"self\"]\nlimits = { subrequests = 30 }\n\n\
             [[workers]]\nname = \"normal\"\nmain = \"normal.js\"\n\n\
             [[routes]]\npattern = \"normal.test/*\"\nworker = \"normal\"\n\n\
             [[routes]]\npattern = \"*/*\"\nworker = \"fan\"\n",
        )
        .start()
        .await;
    let r = client().get(proxy.url("/fan")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", proxy.log());
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["ok"].as_u64().unwrap() + v["refused"].as_u64().unwrap(), 3, "{v}");
    // Each run's own limit (30) never stops a tree where every run makes 3
    // subrequests (3^16 runs); one counter for the whole chain does: the
    // root and at most 30 runs below it.
    let runs = eventually(&proxy, "fan", |n| n >= 4.0).await;
    assert!(runs <= 31.0, "{runs} runs");
    let calls = proxy.metric("isoproxy_subrequests_total", &[("worker", "fan")]).await;
    assert!(calls > 30.0, "the tree asked for more than the budget: {calls}");
    assert_normal_ok(&proxy).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chained_request_gets_the_smaller_of_its_limit_and_the_chain_budget() {
    let origin = Origin::start("o").await;
    let proxy = Proxy::builder()
        .script("spend.js", SPEND)
        .script("normal.js", NORMAL)
        .config(&format!(
            "[[workers]]\nname = \"via\"\nmain = \"spend.js\"\negress_allow = [\"self\"]\nlimits = {{ subrequests = 4 }}\n\n\
             [[workers]]\nname = \"spend\"\nmain = \"spend.js\"\nvars = {{ ORIGIN = \"{o}\" }}\n\
             limits = {{ subrequests = 6 }}\n\n\
             [[workers]]\nname = \"normal\"\nmain = \"normal.js\"\n\n\
             [[routes]]\npattern = \"normal.test/*\"\nworker = \"normal\"\n\n\
             [[routes]]\npattern = \"*/via\"\nworker = \"via\"\n\n\
             [[routes]]\npattern = \"*/spend\"\nworker = \"spend\"\n\n\
             [[routes]]\npattern = \"origin.test/*\"\norigin = \"{o}\"\n",
            o = origin.url()
        ))
        .start()
        .await;
    let spend = |path: &'static str| {
        let url = proxy.url(path);
        async move {
            let r = client().get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let v: serde_json::Value = r.json().await.unwrap();
            (v["ok"].as_u64().unwrap(), v["refused"].as_u64().unwrap())
        }
    };
    // Alone, /spend has its own limit.
    assert_eq!(spend("/spend").await, (6, 4));
    // Second in a chain that started with 4 and spent 1 getting there: 3.
    assert_eq!(spend("/via").await, (3, 7));
    assert_normal_ok(&proxy).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_cannot_forge_or_see_the_loop_header() {
    let origin = Origin::start("echo").await;
    let proxy = Proxy::builder()
        .script("headers.js", HEADERS)
        .script("normal.js", NORMAL)
        .config(&format!(
            "[[workers]]\nname = \"headers\"\nmain = \"headers.js\"\n\n\
             [[workers]]\nname = \"normal\"\nmain = \"normal.js\"\n\n\
             [[routes]]\npattern = \"headers.test/*\"\nworker = \"headers\"\n\n\
             [[routes]]\npattern = \"plain.test/*\"\norigin = \"{}\"\n\n\
             [[routes]]\npattern = \"normal.test/*\"\nworker = \"normal\"\n",
            origin.url()
        ))
        .start()
        .await;
    let forged = "16/50/0000000000000001/00000000000000000000000000000000";
    // A forged "too deep" header is ignored, never believed, never shown.
    let r = client()
        .get(proxy.url("/"))
        .header("host", "headers.test")
        .header("x-isoproxy-loop", forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["loop"], serde_json::Value::Null);
    // A plain route forwards our own header (depth 1), not the client's.
    let r = client()
        .get(proxy.url("/"))
        .header("host", "plain.test")
        .header("x-isoproxy-loop", forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let sent = v["headers"]["x-isoproxy-loop"].as_str().unwrap();
    assert!(sent.starts_with("1/50/"), "{sent}");
    assert_ne!(sent, forged);
    // Replaying a header the proxy wrote only makes a request more limited.
    let r = client()
        .get(proxy.url("/"))
        .header("host", "headers.test")
        .header("x-isoproxy-loop", sent)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_normal_ok(&proxy).await;
}

/// An origin speaking raw HTTP/1.1: for each connection, reads a request
/// head (and a Content-Length body), answering `100 Continue` first when the
/// request expects it and a `103 Early Hints` before every final answer.
async fn informational_origin() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if head.contains("expect: 100-continue") {
                    let _ = s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
                }
                while buf.len() < head_end + length {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = s
                    .write_all(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n")
                    .await;
                let body = format!("final after hints, body {length} bytes");
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Final: yes\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (addr, task)
}

/// Sends a raw request to the proxy; with `Expect: 100-continue`, waits
/// (up to 2 s, like curl's 1 s) for the interim answer before the body.
/// Returns everything the proxy wrote.
async fn raw_request(port: u16, host: &str, body: Option<&str>) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut head = match body {
        None => format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        Some(b) => format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
            b.len()
        ),
    };
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    if let Some(b) = body {
        let mut interim = [0u8; 1024];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(2), s.read(&mut interim)).await {
            out.extend_from_slice(&interim[..n]);
        }
        head.clear();
        s.write_all(b.as_bytes()).await.unwrap();
    }
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("the final response arrives")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn informational_responses_from_origins_are_handled() {
    let (addr, _task) = informational_origin().await;
    let proxy = Proxy::builder()
        .script("pass.js", PASS)
        .script("probe.js", PROBE)
        .script("normal.js", NORMAL)
        .config(&format!(
            "[[workers]]\nname = \"pass\"\nmain = \"pass.js\"\n\n\
             [[workers]]\nname = \"normal\"\nmain = \"normal.js\"\n\n\
             [[routes]]\npattern = \"plain.test/*\"\norigin = \"http://{addr}\"\n\n\
             [[routes]]\npattern = \"worker.test/*\"\nworker = \"pass\"\norigin = \"http://{addr}\"\n\n\
             [[routes]]\npattern = \"normal.test/*\"\nworker = \"normal\"\n"
        ))
        .start()
        .await;
    // Plain route: 103 then the final 200.
    let out = raw_request(proxy.port, "plain.test", None).await;
    // Pingora forwards the hints, then the final response.
    assert!(
        out.starts_with("HTTP/1.1 103 Early Hints\r\nLink: </style.css>"),
        "{out}"
    );
    assert!(out.contains("\r\n\r\nHTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("final after hints, body 0 bytes"), "{out}");
    // Subrequest: the script sees the final response only.
    let r = get_host(&proxy.url("/"), "worker.test").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(r.headers()["x-final"], "yes");
    assert_eq!(r.text().await.unwrap(), "final after hints, body 0 bytes");
    // 100 Continue to a POST that expects it, then 103, then 200: plain route...
    let out = raw_request(proxy.port, "plain.test", Some("hello")).await;
    assert!(
        out.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints"),
        "{out}"
    );
    assert!(out.contains("\r\n\r\nHTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("final after hints, body 5 bytes"), "{out}");
    // ...and a subrequest carrying the client's Expect.
    let out = raw_request(proxy.port, "worker.test", Some("hello")).await;
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("final after hints, body 5 bytes"), "{out}");
    assert_normal_ok(&proxy).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn outbound_sends_every_other_subrequest_to_one_address() {
    let gateway = Origin::start("gateway").await;
    let own_gateway = Origin::start("own-gateway").await;
    let direct = Origin::start("direct").await;
    let proxy = Proxy::builder()
        .script("probe.js", PROBE)
        .script("pass.js", PASS)
        .script("normal.js", NORMAL)
        .config(&format!(
            "[runtime]\nisolate_threads = 2\noutbound = \"{gw}\"\n\n\
             [[workers]]\nname = \"probe\"\nmain = \"probe.js\"\n\n\
             [[workers]]\nname = \"own\"\nmain = \"pass.js\"\noutbound = \"{own}\"\n\n\
             [[workers]]\nname = \"normal\"\nmain = \"normal.js\"\n\n\
             [[routes]]\npattern = \"probe.test/*\"\nworker = \"probe\"\norigin = \"{direct}\"\n\n\
             [[routes]]\npattern = \"*.example.com/*\"\nworker = \"own\"\n\n\
             [[routes]]\npattern = \"normal.test/*\"\nworker = \"normal\"\n",
            gw = gateway.url(),
            own = own_gateway.url(),
            direct = direct.url(),
        ))
        .start()
        .await;
    let targets = vec![
        "https://api.example.com/v1/items?page=2".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://probe.test/status/204".to_string(),
        format!("{}/status/200", direct.url()),
    ];
    let out = probe(&proxy, "probe.test", &targets).await;
    // Any scheme, host or port goes to the gateway as plain HTTP (even an
    // address the policy would refuse: the gateway decides there).
    assert_eq!(out[&targets[0]], "reached 200", "{out:?}");
    assert_eq!(out[&targets[1]], "reached 200", "{out:?}");
    let seen = gateway.seen();
    assert_eq!(seen, ["GET /v1/items?page=2", "GET /latest/meta-data/"]);
    // Route origins still go direct: the route's own host, and any route origin by name.
    assert_eq!(out[&targets[2]], "reached 204");
    assert_eq!(out[&targets[3]], "reached 200");
    assert_eq!(direct.seen(), ["GET /status/204", "GET /status/200"]);
    // The URL's host travels in Host.
    let r = get_host(&proxy.url("/who?x=1"), "api.example.com:8443").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["origin"], "own-gateway");
    assert_eq!(v["headers"]["host"], "api.example.com:8443");
    assert_eq!(own_gateway.seen(), ["GET /who?x=1"]);
    assert_eq!(
        gateway.seen().len(),
        2,
        "a worker's own outbound replaces the runtime's"
    );
    assert_normal_ok(&proxy).await;
}
