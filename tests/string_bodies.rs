//! String bodies (`new Response("text")`): a short one goes to Rust as the
//! string and is encoded there (js/30_fetch.js `sourceText`), a long one is
//! encoded in JS at once. Both must put the same UTF-8 on the wire, lone
//! surrogates as U+FFFD, with the right Content-Length, for GET, HEAD,
//! clones and bodies read back in JS.

mod common;

use common::{Proxy, client};

const SCRIPT: &str = r#"
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/lone") return new Response("a\uD800b\uDC00c");
    if (path === "/long") return new Response("é".repeat(70000) + "\uD800");
    if (path === "/clone") {
      const r = new Response("cloned é");
      const c = r.clone();
      const t = await r.text();
      return new Response(c.body, { headers: { "x-first": encodeURIComponent(t) } });
    }
    if (path === "/read") {
      const r = new Response("x\uD800y");
      const bytes = new Uint8Array(await r.arrayBuffer());
      return new Response(Array.from(bytes).join(","));
    }
    if (path === "/stream") {
      // The body read as a stream (it becomes bytes on the way).
      const r = new Response("streamed ü");
      return new Response(r.body);
    }
    return new Response("plain ascii");
  },
};
"#;

async fn proxy() -> Proxy {
    Proxy::builder()
        .script("s.js", SCRIPT)
        .config("[[workers]]\nname = \"s\"\nmain = \"s.js\"\n\n[[routes]]\npattern = \"s.test/*\"\nworker = \"s\"\n")
        .start()
        .await
}

async fn get(
    proxy: &Proxy,
    method: reqwest::Method,
    path: &str,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let r = client()
        .request(method, proxy.url(path))
        .header("host", "s.test")
        .send()
        .await
        .expect("request");
    let status = r.status();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.expect("body").to_vec())
}

fn content_length(h: &reqwest::header::HeaderMap) -> Option<usize> {
    h.get("content-length")?.to_str().ok()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn string_bodies_go_out_as_their_utf8() {
    let proxy = proxy().await;
    let (status, headers, body) = get(&proxy, reqwest::Method::GET, "/lone").await;
    assert_eq!(status, 200);
    assert_eq!(body, "a\u{FFFD}b\u{FFFD}c".as_bytes());
    assert_eq!(content_length(&headers), Some(body.len()));
    assert_eq!(headers.get("content-type").unwrap(), "text/plain;charset=UTF-8");

    let (_, headers, body) = get(&proxy, reqwest::Method::GET, "/long").await;
    let mut want = "é".repeat(70000);
    want.push('\u{FFFD}');
    assert_eq!(body, want.as_bytes());
    assert_eq!(content_length(&headers), Some(want.len()));

    let (_, headers, body) = get(&proxy, reqwest::Method::GET, "/clone").await;
    assert_eq!(body, "cloned é".as_bytes());
    assert_eq!(headers.get("x-first").unwrap(), "cloned%20%C3%A9");

    let (_, _, body) = get(&proxy, reqwest::Method::GET, "/read").await;
    assert_eq!(String::from_utf8(body).unwrap(), "120,239,191,189,121");

    let (_, _, body) = get(&proxy, reqwest::Method::GET, "/stream").await;
    assert_eq!(body, "streamed ü".as_bytes());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_head_response_reports_the_length_its_string_body_would_have() {
    let proxy = proxy().await;
    let (status, headers, body) = get(&proxy, reqwest::Method::HEAD, "/lone").await;
    assert_eq!(status, 200);
    assert!(body.is_empty());
    assert_eq!(content_length(&headers), Some("a\u{FFFD}b\u{FFFD}c".len()));
    let (_, headers, _) = get(&proxy, reqwest::Method::HEAD, "/").await;
    assert_eq!(content_length(&headers), Some("plain ascii".len()));
}
