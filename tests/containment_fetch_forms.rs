//! Every way a worker can make a request, against every spelling of
//! loopback and of isoproxy's own listeners, through the real binary over
//! HTTP/1.1 and over HTTP/2 on the TLS listener: `fetch` with a string, a
//! `URL`, a `Request`, a `Request` rebuilt from another with a body, and a
//! redirect from the route's own (allowed) origin to each spelling. Every
//! one must be refused by the egress policy, the probed servers must see
//! nothing, and the proxy must keep serving.

mod common;
mod tls_support;

use bytes::Bytes;
use common::{Origin, Proxy, client};
use tls_support::{cert, connect, start_tls};

const PROBE: &str = r#"
export default {
  async fetch(request) {
    const targets = await request.json();
    const forms = {
      string: (t) => fetch(t),
      url: (t) => fetch(new URL(t)),
      request: (t) => fetch(new Request(t)),
      rebuilt: (t) => fetch(new Request(new Request(t, { method: "POST", body: "x" }), { redirect: "follow" })),
      init: (t) => fetch(new Request("http://probe.test/"), { method: "PUT", body: "y" }).then(() => fetch(t, { method: "DELETE" })),
    };
    const out = {};
    for (const t of targets) {
      for (const [name, form] of Object.entries(forms)) {
        try {
          const res = await form(t);
          await res.arrayBuffer();
          out[name + " " + t] = "reached " + res.status;
        } catch (e) {
          out[name + " " + t] = String(e && e.message);
        }
      }
    }
    return Response.json(out);
  },
};
"#;

fn spellings(port: u16) -> Vec<String> {
    [
        "127.0.0.1",
        "127.1",
        "0x7f000001",
        "2130706433",
        "017700000001",
        "0.0.0.0",
        "0",
        "[::]",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "localhost",
        "localhost.",
        "LOCALHOST",
        "LocalHost.",
        "api.localhost",
    ]
    .iter()
    .map(|h| format!("http://{h}:{port}/probe"))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fetch_form_and_redirect_is_refused_over_http1_and_http2() {
    let origin = Origin::start("route-origin").await;
    let secret = Origin::start("secret").await;
    let a = cert(&["probe.test"]);
    let builder = Proxy::builder().script("probe.js", PROBE).config(&format!(
        "[runtime]\nsubrequests = 1000\n\n\
         [[workers]]\nname = \"probe\"\nmain = \"probe.js\"\n\n\
         [[routes]]\npattern = \"probe.test/*\"\nworker = \"probe\"\norigin = \"{}\"\n",
        origin.url()
    ));
    let (proxy, tls_port) = start_tls(builder, &[&a]).await;

    let mut targets = spellings(secret.addr.port());
    targets.extend(spellings(proxy.admin_port));
    targets.extend(spellings(proxy.port));
    targets.push("http://[fe80::1%25lo]/probe".to_string());
    // Redirects from the allowed route origin to each spelling.
    let hops: Vec<String> = spellings(secret.addr.port())
        .iter()
        .chain(spellings(proxy.admin_port).iter())
        .map(|to| {
            format!(
                "http://probe.test/redirect?to={}",
                to.replace(':', "%3A")
                    .replace('/', "%2F")
                    .replace('[', "%5B")
                    .replace(']', "%5D")
            )
        })
        .collect();
    targets.extend(hops);
    let body = serde_json::to_vec(&targets).unwrap();

    // HTTP/1.1 on the plain listener.
    let r = client()
        .post(proxy.url("/"))
        .header("host", "probe.test")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", proxy.log());
    let h1: serde_json::Map<String, serde_json::Value> = r.json().await.unwrap();

    // HTTP/2 on the TLS listener.
    let tls = connect(tls_port, "probe.test", &[&a], &[b"h2"]).await.unwrap();
    let (mut h2c, conn) = h2::client::handshake(tls).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("https://probe.test:{tls_port}/"))
        .body(())
        .unwrap();
    h2c = h2c.ready().await.unwrap();
    let (resp, mut send) = h2c.send_request(req, false).unwrap();
    send.send_data(Bytes::from(body), true).unwrap();
    let resp = resp.await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut stream = resp.into_body();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.data().await {
        let chunk = chunk.unwrap();
        let _ = stream.flow_control().release_capacity(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
    let h2: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes).unwrap();

    for (protocol, out) in [("HTTP/1.1", &h1), ("HTTP/2", &h2)] {
        assert_eq!(out.len(), targets.len() * 5, "{protocol}");
        for (what, outcome) in out {
            let outcome = outcome.as_str().unwrap();
            assert!(
                outcome.contains("refused by the egress policy")
                    // A zone id is not valid in a URL's host.
                    || (what.contains("%25") && outcome.contains("Invalid URL")),
                "{protocol}: {what}: {outcome}"
            );
        }
    }
    assert!(secret.seen().is_empty(), "{:?}", secret.seen());
    assert!(
        proxy
            .metric("isoproxy_egress_refused_total", &[("reason", "admin")])
            .await
            >= 1.0,
        "{}",
        proxy.log()
    );
    // Still serving: the route origin through the worker.
    let r = client()
        .post(proxy.url("/"))
        .header("host", "probe.test")
        .json(&["http://probe.test/status/200"])
        .send()
        .await
        .unwrap();
    let out: serde_json::Value = r.json().await.unwrap();
    assert_eq!(out["string http://probe.test/status/200"], "reached 200", "{out}");
}
