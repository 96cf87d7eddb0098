//! HTMLRewriter end to end: a real origin serves an HTML page in several
//! chunks (split mid-tag), a worker rewrites its links with HTMLRewriter,
//! and the client receives the rewritten page as it streams.

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{Proxy, client};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

const WORKER: &str = r#"
class LinkRewriter {
  constructor(base) {
    this.base = base;
  }
  element(el) {
    const href = el.getAttribute("href");
    if (href && href.startsWith("/")) el.setAttribute("href", this.base + href);
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const res = await fetch(env.ORIGIN + url.pathname);
    if (url.pathname === "/boom") {
      return new HTMLRewriter()
        .on("p", { element() { throw new Error("boom"); } })
        .transform(res);
    }
    return new HTMLRewriter()
      .on("a[href]", new LinkRewriter("https://cdn.example"))
      .on("title", {
        async text(t) {
          if (!t.text) return;
          await new Promise((r) => setTimeout(r, 1));
          t.replace(t.text.toUpperCase());
        },
      })
      .onDocument({ end(e) { e.append("<!-- rewritten -->", { html: true }); } })
      .transform(res);
  },
};
"#;

/// The page, in the chunks the origin sends (split inside tags); on
/// `/gated` the last chunk waits for the test's permit.
const CHUNKS: &[&str] = &[
    "<!doctype html><html><head><tit",
    "le>hello</title></head><body><a hr",
    "ef=\"/one\">one</a><p>x</p>",
    "<a href=\"/two\">two</a></body></html>",
];

const EXPECTED: &str = "<!doctype html><html><head><title>HELLO</title></head><body>\
<a href=\"https://cdn.example/one\">one</a><p>x</p>\
<a href=\"https://cdn.example/two\">two</a></body></html><!-- rewritten -->";

/// An origin serving [`CHUNKS`] with a Content-Length, 10 ms apart.
async fn html_origin(gate: Arc<Semaphore>) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let gate = gate.clone();
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let gated = req.uri().path() == "/gated";
                    let gate = gate.clone();
                    async move {
                        let total: usize = CHUNKS.iter().map(|c| c.len()).sum();
                        let stream = futures_util::stream::unfold(0usize, move |i| {
                            let gate = gate.clone();
                            async move {
                                let chunk = CHUNKS.get(i)?;
                                if gated && i == CHUNKS.len() - 1 {
                                    gate.acquire().await.unwrap().forget();
                                } else {
                                    tokio::time::sleep(Duration::from_millis(10)).await;
                                }
                                Some((
                                    Ok::<_, Infallible>(Frame::data(Bytes::from_static(chunk.as_bytes()))),
                                    i + 1,
                                ))
                            }
                        });
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "text/html; charset=utf-8")
                                .header("content-length", total.to_string())
                                .header("x-origin", "html")
                                .body(BodyExt::boxed(StreamBody::new(stream)))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), task)
}

async fn start(origin: &str) -> Proxy {
    Proxy::builder()
        .script("rewrite.js", WORKER)
        .config(&format!(
            "[[workers]]\nname = \"rewrite\"\nmain = \"rewrite.js\"\nvars = {{ ORIGIN = \"{origin}\" }}\negress_allow = [\"local\"]\n\n\
             [[routes]]\npattern = \"*/*\"\nworker = \"rewrite\"\n"
        ))
        .start()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn links_are_rewritten_in_a_chunked_page() {
    let gate = Arc::new(Semaphore::new(0));
    let (origin, task) = html_origin(gate).await;
    let proxy = start(&origin).await;
    let resp = client().get(proxy.url("/page")).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{}", proxy.log());
    assert_eq!(resp.headers()["x-origin"], "html");
    assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
    assert!(resp.headers().get("content-length").is_none());
    assert_eq!(resp.text().await.unwrap(), EXPECTED, "{}", proxy.log());
    task.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rewritten_page_streams_before_the_origin_finishes() {
    let gate = Arc::new(Semaphore::new(0));
    let (origin, task) = html_origin(gate.clone()).await;
    let proxy = start(&origin).await;
    let mut resp = client().get(proxy.url("/gated")).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{}", proxy.log());
    // The origin holds back its last chunk until we have seen the first link.
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("https://cdn.example/one") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
            .await
            .expect("the first part of the page arrives while the origin waits")
            .unwrap()
            .expect("more body");
        got.extend_from_slice(&chunk);
    }
    assert!(!String::from_utf8_lossy(&got).contains("/two"));
    gate.add_permits(1);
    while let Some(chunk) = resp.chunk().await.unwrap() {
        got.extend_from_slice(&chunk);
    }
    assert_eq!(String::from_utf8_lossy(&got), EXPECTED);
    task.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throwing_handler_fails_the_response_not_the_proxy() {
    let gate = Arc::new(Semaphore::new(0));
    let (origin, task) = html_origin(gate).await;
    let proxy = start(&origin).await;
    let resp = client().get(proxy.url("/boom")).send().await.unwrap();
    // Headers go out before the body is rewritten, so the failure shows as
    // a body that ends early (or a failed response).
    if resp.status() == 200 {
        if let Ok(body) = resp.text().await {
            assert!(!body.contains("</html>"), "{body}");
        }
    } else {
        assert_eq!(resp.status(), 500);
    }
    let resp = client().get(proxy.url("/page")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), EXPECTED);
    task.abort();
}
