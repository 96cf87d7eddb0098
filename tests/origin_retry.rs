//! A pooled connection the origin closed before answering: the request
//! that went out on it is sent again on another connection (as Pingora's
//! own proxying does), when its body can be sent again. The origin here
//! answers one request per connection and closes the connection when the
//! next request arrives on it, which is the race of an origin closing an
//! idle keep-alive connection just as the proxy reuses it, made certain.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Proxy, client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Counts what the origin saw: connections, answered requests, and
/// requests it dropped (closed the connection on).
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    answered: AtomicUsize,
    dropped: AtomicUsize,
}

/// Reads one request (head, then a Content-Length body); false when the
/// peer closed first.
async fn read_request(conn: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> bool {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                buf.drain(..end + 4 + len);
                return true;
            }
        }
        let mut chunk = [0u8; 4096];
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn one_answer_origin() -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let s = s.clone();
            s.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                if !read_request(&mut conn, &mut buf).await {
                    return;
                }
                let n = s.answered.fetch_add(1, Ordering::SeqCst) + 1;
                let body = format!("answer {n}");
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                let _ = conn.write_all(head.as_bytes()).await;
                let _ = conn.write_all(body.as_bytes()).await;
                // Keep-alive, as far as the proxy can tell, until the next
                // request: then close without a word.
                let mut chunk = [0u8; 1];
                if matches!(conn.read(&mut chunk).await, Ok(n) if n > 0) {
                    s.dropped.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    (format!("http://{addr}"), seen)
}

const SCRIPT: &str = r#"
// The first exchange's connection goes back to the pool once its body has
// been read to the end, by the task that pumps it: give that a moment, so
// the next request finds it there.
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/pass") return fetch(request);
    if (path === "/sub") {
      const a = await (await fetch("http://r.test/1")).text();
      await settle();
      const b = await (await fetch("http://r.test/2", { method: "PUT", body: "bytes" })).text();
      return new Response(a + "; " + b);
    }
    if (path === "/post") {
      await (await fetch("http://r.test/1")).text();
      await settle();
      try {
        const r = await fetch("http://r.test/2", { method: "POST", body: "once" });
        return new Response("reached " + (await r.text()));
      } catch (e) {
        return new Response("failed: " + e.message);
      }
    }
    if (path === "/stream") {
      await (await fetch("http://r.test/1")).text();
      await settle();
      const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("s")); c.close(); } });
      try {
        const r = await fetch("http://r.test/2", { method: "POST", body });
        return new Response("reached " + (await r.text()));
      } catch (e) {
        return new Response("failed: " + e.message);
      }
    }
    return new Response("?", { status: 404 });
  },
};
"#;

async fn proxy(origin: &str) -> Proxy {
    Proxy::builder()
        .proxy_threads(1)
        .script("r.js", SCRIPT)
        .config(&format!(
            "[[workers]]\nname = \"r\"\nmain = \"r.js\"\n\n\
             [[routes]]\npattern = \"r.test/*\"\nworker = \"r\"\norigin = \"{origin}\"\n"
        ))
        .start()
        .await
}

async fn get(proxy: &Proxy, path: &str) -> (u16, String) {
    let r = client()
        .get(proxy.url(path))
        .header("host", "r.test")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_on_a_pooled_connection_the_origin_closed_goes_again() {
    let (origin, seen) = one_answer_origin().await;
    let proxy = proxy(&origin).await;

    // Subrequests: the second one's pooled connection is closed under it.
    let (status, body) = get(&proxy, "/sub").await;
    assert_eq!(status, 200, "{}", proxy.log());
    assert_eq!(body, "answer 1; answer 2");
    assert_eq!(seen.dropped.load(Ordering::SeqCst), 1);

    // Passes: each later pass finds the previous one's connection closed.
    for _ in 0..3 {
        let (status, body) = get(&proxy, "/pass").await;
        assert_eq!(status, 200, "{}", proxy.log());
        assert!(body.starts_with("answer "), "{body}");
    }
    assert!(
        seen.dropped.load(Ordering::SeqCst) >= 2,
        "the passes did not reuse a connection"
    );
    assert!(
        proxy
            .metric(
                "isoproxy_origin_retries_total",
                &[("reason", "pooled_connection_closed")]
            )
            .await
            >= 3.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_streamed_body_or_a_post_is_not_sent_twice() {
    for path in ["/stream", "/post"] {
        let (origin, seen) = one_answer_origin().await;
        let proxy = proxy(&origin).await;
        let (status, body) = get(&proxy, path).await;
        assert_eq!(status, 200, "{}", proxy.log());
        // It went out once, on the pooled connection the origin closed.
        assert!(body.starts_with("failed: "), "{path}: {body}");
        assert_eq!(seen.dropped.load(Ordering::SeqCst), 1, "{path}");
        assert_eq!(seen.answered.load(Ordering::SeqCst), 1, "{path}");
    }
}
