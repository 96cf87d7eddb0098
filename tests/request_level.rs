//! Request-level Workers behaviour through the real binary: `request.cf`,
//! `ctx.waitUntil` work that outlives the response, and
//! `ctx.passThroughOnException()` sending the original request to the
//! origin when the script throws.

mod common;

use std::time::Duration;

use common::{KeepAlive, Origin, Proxy, client, get_host};
use serde_json::Value;

/// One worker `w` (script `w.js`) on `*/*` in front of `origin`.
async fn worker_proxy(origin: &Origin, script: &str) -> Proxy {
    Proxy::builder()
        .script("w.js", script)
        .config(&format!(
            "[[workers]]\nname = \"w\"\nmain = \"w.js\"\nvars = {{ ORIGIN = \"{}\" }}\n\n\
             [[routes]]\npattern = \"*/*\"\nworker = \"w\"\norigin = \"{}\"\n",
            origin.url(),
            origin.url()
        ))
        .start()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn request_cf_carries_what_the_proxy_knows() {
    let origin = Origin::start("o").await;
    let proxy = worker_proxy(
        &origin,
        r#"export default {
  fetch(request) {
    // A copy made before the first read shares the same (lazily made) object;
    // building it runs no setter the script planted.
    const copy = new Request(request);
    let planted = false;
    Object.defineProperty(Object.prototype, "clientIp", { set() { planted = true; }, configurable: true });
    const cf = request.cf;
    delete Object.prototype.clientIp;
    return Response.json({
      cf,
      type: typeof request.cf,
      copied: copy.cf === undefined ? null : copy.cf.httpProtocol,
      same: copy.cf === request.cf && request.cf === cf,
      planted,
      constructed: new Request("http://x/").cf === undefined,
    });
  },
};"#,
    )
    .await;
    let r = get_host(&proxy.url("/"), "a.test").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "object");
    assert_eq!(v["cf"]["clientIp"], "127.0.0.1");
    assert_eq!(v["cf"]["httpProtocol"], "HTTP/1.1");
    // Plain-HTTP listener: no TLS fields.
    assert!(v["cf"].get("tlsVersion").is_none() && v["cf"].get("tlsCipher").is_none());
    assert_eq!(v["copied"], "HTTP/1.1");
    assert_eq!(v["same"], true);
    assert_eq!(v["planted"], false);
    assert_eq!(v["constructed"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_until_work_continues_after_the_response() {
    let origin = Origin::start("o").await;
    let proxy = worker_proxy(
        &origin,
        r#"export default {
  fetch(request, env, ctx) {
    const id = new URL(request.url).searchParams.get("id");
    ctx.waitUntil((async () => {
      await scheduler.wait(300);
      await fetch(`${env.ORIGIN}/after?id=${id}`);
    })());
    return new Response("sent first");
  },
};"#,
    )
    .await;
    let started = std::time::Instant::now();
    let r = client().get(proxy.url("/?id=7")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "sent first");
    // The response did not wait for the background work...
    assert!(
        !origin.seen().iter().any(|s| s.contains("/after")),
        "{:?}",
        origin.seen()
    );
    // ...which still runs to completion afterwards.
    let deadline = started + Duration::from_secs(10);
    while !origin.seen().iter().any(|s| s == "GET /after?id=7") {
        assert!(
            std::time::Instant::now() < deadline,
            "waitUntil work never ran: {}",
            proxy.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const PASS_THROUGH: &str = r#"export default {
  async fetch(request, env, ctx) {
    ctx.passThroughOnException();
    const url = new URL(request.url);
    if (url.searchParams.has("consume")) await request.text();
    if (url.pathname.startsWith("/throw")) throw new Error("boom in the script");
    return new Response("worker answered");
  },
};"#;

#[tokio::test(flavor = "multi_thread")]
async fn pass_through_on_exception_sends_the_original_request_to_the_origin() {
    let origin = Origin::start("fallback").await;
    let proxy = worker_proxy(&origin, PASS_THROUGH).await;

    // No exception: the worker answers.
    let r = client().get(proxy.url("/ok")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "worker answered");

    // An uncaught exception: the origin answers the original request, body included.
    let r = client()
        .post(proxy.url("/throw/here?q=1"))
        .header("x-client", "kept")
        .body("original body")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-origin"], "fallback");
    let echo: Value = r.json().await.unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/throw/here");
    assert_eq!(echo["query"], "q=1");
    assert_eq!(echo["headers"]["x-client"], "kept");
    assert_eq!(echo["body"], "original body");
    // The exception still reaches the log.
    proxy.wait_for_log("boom in the script", Duration::from_secs(5)).await;

    // Once the script has read the body, the request still goes to the
    // origin, as on workerd, with what is left of the body: nothing
    // (tests/wire_fidelity.rs has the other cases).
    let r = client()
        .post(proxy.url("/throw?consume=1"))
        .body("eaten")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let echo: Value = r.json().await.unwrap();
    assert_eq!(echo["body"], "");
    assert!(
        origin.seen().iter().any(|s| s.contains("consume")),
        "{:?}",
        origin.seen()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pass_through_on_exception_in_service_worker_syntax() {
    let origin = Origin::start("sw-fallback").await;
    let proxy = worker_proxy(
        &origin,
        r#"addEventListener("fetch", (event) => {
  event.passThroughOnException();
  event.respondWith((async () => { throw new Error("sw boom"); })());
});"#,
    )
    .await;
    let r = client().get(proxy.url("/sw")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(r.headers()["x-origin"], "sw-fallback");
}

#[tokio::test(flavor = "multi_thread")]
async fn unhandled_rejections_are_reported_once_the_microtasks_drain() {
    let origin = Origin::start("o").await;
    let proxy = worker_proxy(
        &origin,
        r#"const prevented = [];
addEventListener("unhandledrejection", (event) => {
  if (String(event.reason && event.reason.message).startsWith("quiet")) {
    event.preventDefault();
    prevented.push(event.reason.message);
  }
});
export default {
  async fetch(request) {
    const what = new URL(request.url).pathname.slice(1);
    if (what === "late") {
      // Rejected with no handler, handled a few microtasks later: not unhandled.
      const p = Promise.reject(new Error("handled-late-marker"));
      await null;
      await null;
      p.catch(() => {});
    } else if (what === "quiet") {
      Promise.reject(new Error("quiet-marker"));
    } else if (what === "prevented") {
      return Response.json(prevented);
    } else {
      Promise.reject(new Error("really-unhandled-marker"));
    }
    return new Response("ok");
  },
};"#,
    )
    .await;
    // One keep-alive connection: one proxy thread, one isolate (its
    // `prevented` list is per isolate).
    let mut conn = KeepAlive::open(&proxy).await;
    let host = "w.test"; // (the route is `*/*`)
    for path in ["/late", "/quiet", "/loud"] {
        let (status, _) = conn.get(path, host).await;
        assert_eq!(status, 200, "{path}: {}", proxy.log());
    }
    let log = proxy
        .wait_for_log("really-unhandled-marker", Duration::from_secs(5))
        .await;
    assert!(log.contains("Uncaught (in promise)"), "{log}");
    assert!(!log.contains("handled-late-marker"), "{log}");
    assert!(!log.contains("quiet-marker"), "{log}");
    let v: Value = serde_json::from_str(&conn.get("/prevented", host).await.1).unwrap();
    assert_eq!(v, serde_json::json!(["quiet-marker"]));
}
