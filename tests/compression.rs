//! CompressionStream / DecompressionStream and FixedLengthStream through
//! the real proxy: bodies streamed from the client, through a codec, and
//! back; a FixedLengthStream body is sent with its Content-Length.

mod common;

use common::{Proxy, client};

/// `gzip.compress(b"hello, isoproxy! " * 3, mtime=0)`, made with Python.
const GZIP: &[u8] = &[
    31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 215, 81, 200, 44, 206, 47, 40, 202, 175, 168, 84, 84, 200,
    32, 40, 0, 0, 104, 110, 40, 60, 51, 0, 0, 0,
];

const WORKER: &str = r#"
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/gunzip") {
      return new Response(request.body.pipeThrough(new DecompressionStream("gzip")));
    }
    if (url.pathname === "/roundtrip") {
      const packed = request.body.pipeThrough(new CompressionStream("deflate-raw"));
      return new Response(packed.pipeThrough(new DecompressionStream("deflate-raw")));
    }
    if (url.pathname === "/fixed") {
      const { readable, writable } = new FixedLengthStream(11);
      const w = writable.getWriter();
      w.write(new TextEncoder().encode("hello "));
      w.write(new TextEncoder().encode("world"));
      w.close();
      return new Response(readable);
    }
    if (url.pathname === "/identity") {
      const { readable, writable } = new IdentityTransformStream();
      const w = writable.getWriter();
      w.write(new TextEncoder().encode("chunked"));
      w.close();
      return new Response(readable);
    }
    return new Response("?", { status: 404 });
  },
};
"#;

async fn start() -> Proxy {
    Proxy::builder()
        .script("c.js", WORKER)
        .config("[[workers]]\nname = \"c\"\nmain = \"c.js\"\n# a 1 MB round trip: more CPU than the default 50 ms\nlimits = { cpu_ms = 5000 }\n\n[[routes]]\npattern = \"*/*\"\nworker = \"c\"\n")
        .start()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn decompresses_a_streamed_request_body() {
    let proxy = start().await;
    let r = client().post(proxy.url("/gunzip")).body(GZIP).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(r.text().await.unwrap(), "hello, isoproxy! ".repeat(3));

    let corrupt = client()
        .post(proxy.url("/gunzip"))
        .body(&GZIP[..20])
        .send()
        .await
        .unwrap();
    let failed = match corrupt.bytes().await {
        Ok(body) => body.as_ref() != "hello, isoproxy! ".repeat(3).as_bytes(),
        Err(_) => true,
    };
    assert!(failed, "a truncated gzip body does not decode");

    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 97) as u8).collect();
    let r = client()
        .post(proxy.url("/roundtrip"))
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), big.as_slice());
}

#[tokio::test(flavor = "multi_thread")]
async fn fixed_length_stream_sets_content_length() {
    let proxy = start().await;
    let r = client().get(proxy.url("/fixed")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(r.headers()["content-length"], "11");
    assert!(!r.headers().contains_key("transfer-encoding"));
    assert_eq!(r.text().await.unwrap(), "hello world");

    let r = client().get(proxy.url("/identity")).send().await.unwrap();
    assert_eq!(r.headers()["transfer-encoding"], "chunked");
    assert_eq!(r.text().await.unwrap(), "chunked");
}
