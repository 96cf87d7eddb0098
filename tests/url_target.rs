//! The request target a client sends, as the script sees it (`request.url`)
//! and as the origin gets it: kept as the client sent it wherever the URL
//! standard allows, as in workerd. `fetch(request)` sends the client's own
//! target (a `'` in the query, `^` in the path, raw UTF-8 bytes); a URL
//! the script made (`new Request(url, ...)`, a string) goes out as the URL
//! standard serialises it.

mod common;

use std::sync::{Arc, Mutex};

use common::Proxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SCRIPT: &str = r#"
export default {
  async fetch(request) {
    const u = new URL(request.url);
    const mode = u.pathname.split("/")[1];
    let res;
    if (mode === "same") res = await fetch(request);
    else if (mode === "clone") res = await fetch(request.clone());
    else if (mode === "rebuilt") res = await fetch(new Request(u, request));
    else if (mode === "string") res = await fetch(request.url);
    else if (mode === "edited") { u.searchParams.set("z", "1"); res = await fetch(new Request(u, request)); }
    else return new Response(JSON.stringify({ url: request.url, href: u.href }));
    return new Response(JSON.stringify({ url: request.url, origin: await res.text() }));
  },
};
"#;

/// An origin that answers every request with its raw request line (the
/// bytes as hex where they are not printable ASCII), one request per
/// connection.
async fn raw_origin() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = lines.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    let mut chunk = [0u8; 4096];
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let end = buf.windows(2).position(|w| w == b"\r\n").unwrap();
                let line = buf[..end].to_vec();
                seen.lock().unwrap().push(line);
                let body = "ok";
                let _ = s
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    (format!("http://{addr}"), lines)
}

/// Sends `GET <target>` as raw bytes and returns the status and body.
async fn get_raw(proxy: &Proxy, target: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    let mut req = b"GET ".to_vec();
    req.extend_from_slice(target);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
    s.write_all(&req).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

async fn start(origin: &str) -> Proxy {
    Proxy::builder()
        .script("w.js", SCRIPT)
        .config(&format!(
            "[[workers]]\nname = \"w\"\nmain = \"w.js\"\n\n[[routes]]\npattern = \"site.test/*\"\nworker = \"w\"\norigin = \"{origin}\"\n"
        ))
        .start()
        .await
}

/// The request line the origin saw last.
fn last_line(lines: &Mutex<Vec<Vec<u8>>>) -> Vec<u8> {
    lines.lock().unwrap().last().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn request_url_keeps_the_clients_target() {
    let (origin, _lines) = raw_origin().await;
    let proxy = start(&origin).await;
    let (status, body) = get_raw(&proxy, b"/show/a^b'c|d%7e?q='x'^|`{}&s=%27").await;
    assert_eq!(status, 200, "{body}\n{}", proxy.log());
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    // request.url as sent; a URL parsed from it is the standard's serialisation.
    assert_eq!(v["url"], "http://site.test/show/a^b'c|d%7e?q='x'^|`{}&s=%27");
    assert_eq!(v["href"], "http://site.test/show/a%5Eb'c|d%7e?q=%27x%27^|`{}&s=%27");

    // Non-ASCII bytes cannot be in a URL: request.url has them percent-encoded.
    let (status, body) = get_raw(&proxy, "/show/café?q=é".as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["url"], "http://site.test/show/caf%C3%A9?q=%C3%A9");
    assert_eq!(v["href"], "http://site.test/show/caf%C3%A9?q=%C3%A9");
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_of_the_request_sends_the_clients_target() {
    let (origin, lines) = raw_origin().await;
    let proxy = start(&origin).await;
    let cases: &[(&[u8], &[u8])] = &[
        // The incoming request itself (and its clone): the target as sent.
        (b"/same/a^b'c?q='x'^|", b"GET /same/a^b'c?q='x'^| HTTP/1.1"),
        (b"/clone/a^b?q='x'", b"GET /clone/a^b?q='x' HTTP/1.1"),
        ("/same/café?q=é".as_bytes(), "GET /same/café?q=é HTTP/1.1".as_bytes()),
        // A URL the script made: the URL standard's serialisation (workerd's too).
        (b"/rebuilt/a^b?q='x'", b"GET /rebuilt/a%5Eb?q=%27x%27 HTTP/1.1"),
        (b"/string/a^b?q='x'", b"GET /string/a%5Eb?q=%27x%27 HTTP/1.1"),
        (b"/edited/a^b?q='x'^", b"GET /edited/a%5Eb?q=%27x%27%5E&z=1 HTTP/1.1"),
        // ... unless it is the same URL: then the client's bytes.
        ("/rebuilt/café".as_bytes(), "GET /rebuilt/café HTTP/1.1".as_bytes()),
    ];
    for (target, expected) in cases {
        let (status, body) = get_raw(&proxy, target).await;
        let shown = String::from_utf8_lossy(target);
        assert_eq!(status, 200, "{shown}: {body}\n{}", proxy.log());
        assert_eq!(
            String::from_utf8_lossy(&last_line(&lines)),
            String::from_utf8_lossy(expected),
            "{shown}"
        );
        assert_eq!(last_line(&lines), expected.to_vec(), "{shown}");
    }
}
