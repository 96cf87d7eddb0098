//! End to end: the real binary, real origins on 127.0.0.1, real clients.
//! Routing, plain proxying (http and https), and the three outcomes of a
//! worker: answer, pass (rewritten), and modify the origin's response.

mod common;

use common::{Origin, Proxy, TlsOrigin, client, get_host};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn plain_route_proxies_to_its_origin() {
    let origin = Origin::start("plain").await;
    let proxy = Proxy::builder()
        .config(&format!(
            "[[routes]]\npattern = \"*/*\"\norigin = \"{}\"\n",
            origin.url()
        ))
        .start()
        .await;
    let resp = client()
        .post(proxy.url("/some/path?x=1"))
        .header("x-test", "abc")
        .body("hello origin")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-origin"], "plain");
    let echo: Value = resp.json().await.unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/some/path");
    assert_eq!(echo["query"], "x=1");
    assert_eq!(echo["headers"]["x-test"], "abc");
    assert_eq!(echo["body"], "hello origin");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_matching_route_is_404_naming_the_host() {
    let origin = Origin::start("o").await;
    let proxy = Proxy::builder()
        .config(&format!(
            "[[routes]]\npattern = \"a.test/*\"\norigin = \"{}\"\n",
            origin.url()
        ))
        .start()
        .await;
    let resp = get_host(&proxy.url("/"), "b.test").await;
    assert_eq!(resp.status(), 404);
    assert!(resp.text().await.unwrap().contains("b.test"));
    let resp = get_host(&proxy.url("/"), "a.test").await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn most_specific_route_wins() {
    let origin = Origin::start("plain").await;
    let proxy = Proxy::builder()
        .script("a.js", "export default { fetch() { return new Response('A'); } };")
        .script("b.js", "export default { fetch() { return new Response('B'); } };")
        .config(&format!(
            r#"
[[workers]]
name = "a"
main = "a.js"

[[workers]]
name = "b"
main = "b.js"

[[routes]]
pattern = "*/*"
worker = "a"

[[routes]]
pattern = "*.example.com/*"
worker = "b"

[[routes]]
pattern = "api.example.com/v2/*"
origin = "{}"
"#,
            origin.url()
        ))
        .start()
        .await;
    let body = |r: reqwest::Response| async move { r.text().await.unwrap() };
    assert_eq!(body(get_host(&proxy.url("/"), "other.org").await).await, "A");
    assert_eq!(body(get_host(&proxy.url("/x"), "www.example.com").await).await, "B");
    assert_eq!(body(get_host(&proxy.url("/v1/x"), "api.example.com").await).await, "B");
    let r = get_host(&proxy.url("/v2/x"), "API.example.com:8080").await;
    assert_eq!(r.headers()["x-origin"], "plain");
}

#[tokio::test(flavor = "multi_thread")]
async fn https_origin_is_reached_with_tls_and_sni() {
    let tls = TlsOrigin::start("tls", "localhost").await;
    let proxy_builder = Proxy::builder();
    let ca = proxy_builder.dir().join("ca.pem");
    std::fs::write(&ca, &tls.ca_pem).unwrap();
    let proxy = proxy_builder
        .script(
            "pass.js",
            "export default { async fetch(request) { const r = await fetch(request); const o = new Response(r.body, r); o.headers.set('x-worker', '1'); return o; } };",
        )
        .config(&format!(
            r#"
[[workers]]
name = "pass"
main = "pass.js"

[[routes]]
pattern = "plain.test/*"
origin = "https://localhost:{port}"

[[routes]]
pattern = "worker.test/*"
worker = "pass"
origin = "https://localhost:{port}"
"#,
            port = tls.addr.port()
        ))
        .env("SSL_CERT_FILE", ca.to_str().unwrap())
        .start()
        .await;
    let r = get_host(&proxy.url("/secure"), "plain.test").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(r.headers()["x-origin"], "tls");
    let r = get_host(&proxy.url("/secure2"), "worker.test").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(r.headers()["x-worker"], "1");
    let echo: Value = r.json().await.unwrap();
    assert_eq!(echo["origin"], "tls");
    assert_eq!(echo["path"], "/secure2");
}

fn worker_config(origin: &str) -> String {
    format!(
        r#"
[[workers]]
name = "w"
main = "worker.js"
vars = {{ NODE_NAME = "edge-7", LIMITS = {{ max = 3, tags = ["a", "b"] }} }}
secrets = {{ API_TOKEN = {{ env = "TEST_API_TOKEN" }} }}

[[routes]]
pattern = "*/*"
worker = "w"
origin = "{origin}"
"#
    )
}

const WORKER: &str = r#"
import { tag } from "./lib/tag.js";

let served = 0;
let inFlight = 0;
let maxInFlight = 0;

export default {
  async fetch(request, env, ctx) {
    served++;
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/answer":
        return new Response(`answered by ${env.NODE_NAME}`, { status: 202, headers: { "x-answer": tag("yes") } });
      case "/env":
        return Response.json({ vars: env.LIMITS, node: env.NODE_NAME, secret: env.API_TOKEN });
      case "/served":
        return Response.json({ served });
      case "/throw":
        throw new Error("deliberate failure");
      case "/log":
        console.log("hello from the worker", { n: 1 });
        return new Response("logged");
      case "/echo":
        return new Response(request.body, { headers: { "content-type": request.headers.get("content-type") ?? "none" } });
      case "/concurrent": {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await fetch(new Request(new URL("/sleep/300", url), request));
        inFlight--;
        return Response.json({ maxInFlight });
      }
      case "/modify": {
        const res = await fetch(new URL("/status/201", url));
        const out = new Response(res.body, res);
        out.headers.set("x-modified", "1");
        out.headers.delete("x-origin");
        return new Response(out.body, { status: 299, statusText: "Custom", headers: out.headers });
      }
      case "/read": {
        const res = await fetch(request);
        const data = await res.json();
        return Response.json({ seenPath: data.path, seenMethod: data.method });
      }
      default: {
        // pass: rewrite the path and query, method, headers and body
        url.pathname = "/v2" + url.pathname;
        url.searchParams.set("rewritten", "1");
        const upstream = new Request(url, request);
        upstream.headers.set("x-added", "by-worker");
        upstream.headers.delete("x-remove");
        const res = await fetch(upstream);
        const out = new Response(res.body, res);
        out.headers.set("x-served-by", env.NODE_NAME);
        return out;
      }
    }
  },
};
"#;

async fn worker_proxy(origin: &Origin) -> Proxy {
    Proxy::builder()
        .script("worker.js", WORKER)
        .script("lib/tag.js", "export function tag(s) { return `<${s}>`; }\n")
        .config(&worker_config(&origin.url()))
        .env("TEST_API_TOKEN", "s3cr3t-value")
        .isolate_threads(1)
        .start()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_answers_by_itself() {
    let origin = Origin::start("o").await;
    let proxy = worker_proxy(&origin).await;
    let r = client().get(proxy.url("/answer")).send().await.unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(r.headers()["x-answer"], "<yes>");
    assert_eq!(r.text().await.unwrap(), "answered by edge-7");
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_passes_a_rewritten_request_to_the_origin() {
    let origin = Origin::start("o").await;
    let proxy = worker_proxy(&origin).await;
    let r = client()
        .put(proxy.url("/items/7?q=x"))
        .header("x-keep", "kept")
        .header("x-remove", "gone")
        .header("content-type", "text/plain")
        .body("the request body")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(r.headers()["x-served-by"], "edge-7");
    assert_eq!(r.headers()["x-origin"], "o");
    let cookies: Vec<_> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(cookies, vec!["a=1", "b=2"]);
    let echo: Value = r.json().await.unwrap();
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["path"], "/v2/items/7");
    assert_eq!(echo["query"], "q=x&rewritten=1");
    assert_eq!(echo["headers"]["x-keep"], "kept");
    assert_eq!(echo["headers"]["x-added"], "by-worker");
    assert!(echo["headers"].get("x-remove").is_none());
    assert_eq!(echo["body"], "the request body");
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_changes_status_and_headers_of_the_origin_response() {
    let origin = Origin::start("o").await;
    let proxy = worker_proxy(&origin).await;
    let r = client().get(proxy.url("/modify")).send().await.unwrap();
    assert_eq!(r.status(), 299);
    assert_eq!(r.headers()["x-modified"], "1");
    assert!(r.headers().get("x-origin").is_none());
    assert_eq!(r.text().await.unwrap(), "status 201");
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_reads_the_origin_body() {
    let origin = Origin::start("o").await;
    let proxy = worker_proxy(&origin).await;
    let r = client().delete(proxy.url("/read")).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["seenPath"], "/read");
    assert_eq!(v["seenMethod"], "DELETE");
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_echoes_a_streamed_request_body() {
    let origin = Origin::start("o").await;
    let proxy = worker_proxy(&origin).await;
    let body = "x".repeat(3 * 1024 * 1024 + 17);
    let r = client()
        .post(proxy.url("/echo"))
        .header("content-type", "application/octet-stream")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(r.text().await.unwrap(), body);
}

#[tokio::test(flavor = "multi_thread")]
async fn env_carries_vars_tables_and_secrets() {
    let origin = Origin::start("o").await;
    let proxy = worker_proxy(&origin).await;
    let v: Value = client()
        .get(proxy.url("/env"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["node"], "edge-7");
    assert_eq!(v["vars"]["max"], 3);
    assert_eq!(v["vars"]["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(v["secret"], "s3cr3t-value");
    assert!(!proxy.log().contains("s3cr3t-value"), "secrets are never logged");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_isolate_is_reused_and_serves_requests_concurrently() {
    let origin = Origin::start("o").await;
    // One proxy thread: the worker's one isolate serves every connection
    // (with more, each thread has its own; tests/proxy_thread.rs).
    let proxy = Proxy::builder()
        .script("worker.js", WORKER)
        .script("lib/tag.js", "export function tag(s) { return `<${s}>`; }\n")
        .config(&worker_config(&origin.url()))
        .env("TEST_API_TOKEN", "s3cr3t-value")
        .isolate_threads(1)
        .proxy_threads(1)
        .start()
        .await;
    let c = client();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = c.clone();
        let url = proxy.url("/concurrent");
        tasks.push(tokio::spawn(async move {
            c.get(url).send().await.unwrap().json::<Value>().await.unwrap()
        }));
    }
    let mut max = 0;
    for t in tasks {
        max = max.max(t.await.unwrap()["maxInFlight"].as_u64().unwrap());
    }
    assert!(
        max > 1,
        "requests overlapped inside the one isolate (max in flight {max})"
    );
    let served: Value = c.get(proxy.url("/served")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        served["served"], 9,
        "every request ran in the same isolate (module state kept)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn uncaught_exception_is_500_with_the_stack_logged() {
    let origin = Origin::start("o").await;
    let proxy = worker_proxy(&origin).await;
    let r = client().get(proxy.url("/throw")).send().await.unwrap();
    assert_eq!(r.status(), 500);
    let text = r.text().await.unwrap();
    assert!(
        text.len() < 200 && !text.contains("deliberate"),
        "short body without internals: {text}"
    );
    let log = proxy
        .wait_for_log("deliberate failure", std::time::Duration::from_secs(5))
        .await;
    assert!(log.contains("worker w"), "{log}");
    assert!(log.contains("worker.js:20:"), "the stack names the script line: {log}");
    // The worker keeps serving.
    assert_eq!(client().get(proxy.url("/answer")).send().await.unwrap().status(), 202);
}

#[tokio::test(flavor = "multi_thread")]
async fn console_output_goes_to_the_log_with_the_worker_name() {
    let origin = Origin::start("o").await;
    let proxy = worker_proxy(&origin).await;
    assert_eq!(
        client()
            .get(proxy.url("/log"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "logged"
    );
    proxy
        .wait_for_log(
            "worker w: hello from the worker { n: 1 }",
            std::time::Duration::from_secs(5),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_origin_is_502() {
    let dead = common::free_port();
    let proxy = Proxy::builder()
        .script(
            "pass.js",
            "export default { fetch(request) { return fetch(request); } };",
        )
        .config(&format!(
            r#"
[[workers]]
name = "pass"
main = "pass.js"

[[routes]]
pattern = "plain.test/*"
origin = "http://127.0.0.1:{dead}"

[[routes]]
pattern = "worker.test/*"
worker = "pass"
origin = "http://127.0.0.1:{dead}"
"#
        ))
        .start()
        .await;
    assert_eq!(get_host(&proxy.url("/"), "plain.test").await.status(), 502);
    assert_eq!(get_host(&proxy.url("/"), "worker.test").await.status(), 502);
}

#[tokio::test(flavor = "multi_thread")]
async fn subrequests_to_other_hosts_resolve_normally() {
    let origin = Origin::start("route-origin").await;
    let other = Origin::start("other").await;
    let proxy = Proxy::builder()
        .script(
            "w.js",
            &format!(
                "export default {{ async fetch() {{ const r = await fetch('http://localhost:{}/x'); return new Response(r.body, r); }} }};",
                other.addr.port()
            ),
        )
        .config(&format!(
            "[[workers]]\nname = \"w\"\nmain = \"w.js\"\negress_allow = [\"local\"]\n\n[[routes]]\npattern = \"*/*\"\nworker = \"w\"\norigin = \"{}\"\n",
            origin.url()
        ))
        .start()
        .await;
    let r = client().get(proxy.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(r.headers()["x-origin"], "other");
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_healthz_answers_ok() {
    let origin = Origin::start("o").await;
    let proxy = worker_proxy(&origin).await;
    let r = client().get(proxy.admin_url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap().trim(), "ok");
    // The admin endpoints are not on the proxy listener.
    let r = client().get(proxy.admin_url("/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
