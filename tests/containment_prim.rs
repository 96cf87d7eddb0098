//! Containment: a script that replaces the built-ins the runtime's own
//! JavaScript could rely on (Array/Map/Set/Promise/Function/String/RegExp
//! prototypes, iterators, typed-array accessors, getters and setters on
//! Object.prototype and Array.prototype indices, Symbol.hasInstance, the
//! globals themselves) must not change what reaches the wire, must never get
//! hold of `internals` or the ops, and must not take the proxy down.
//! The bootstrap captures its built-ins first (plugin-runtime/js/00_primordials.js).
//!
//! The hostile worker is tests/containment/prim_tamper.js; the same script
//! with `MODE = "clean"` gives the reference answer.

mod common;

use std::time::Duration;

use common::{Origin, Proxy, client};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TAMPER: &str = include_str!("containment/prim_tamper.js");

/// The host of a mode's worker: `cle.test`, `rec.test`, `cor.test` (one
/// length, so echoed requests have one length).
fn host(mode: &str) -> String {
    format!("{}.test", &mode[..3])
}

/// Workers `clean`, `record` and `corrupt` (the same script, three modes) on
/// their hosts, plus a plain normal worker on `normal.test`.
async fn proxy(origin: &Origin) -> Proxy {
    let mut conf = String::new();
    for mode in ["clean", "record", "corrupt"] {
        conf += &format!(
            "[[workers]]\nname = \"{mode}\"\nmain = \"tamper.js\"\nvars = {{ MODE = \"{mode}\", ORIGIN = \"{}\" }}\n\n\
             [[routes]]\npattern = \"{}/*\"\nworker = \"{mode}\"\norigin = \"{}\"\n\n",
            origin.url(),
            host(mode),
            origin.url()
        );
    }
    conf += &format!(
        "[[workers]]\nname = \"normal\"\nmain = \"normal.js\"\n\n\
         [[routes]]\npattern = \"normal.test/*\"\nworker = \"normal\"\norigin = \"{}\"\n",
        origin.url()
    );
    Proxy::builder()
        .script("tamper.js", TAMPER)
        .script(
            "normal.js",
            "export default { fetch() { return new Response('normal ok', { headers: { 'x-normal': '1' } }); } };",
        )
        .config(&conf)
        .isolate_threads(1)
        .start()
        .await
}

/// The raw bytes of the answer to one HTTP/1.1 request (Connection: close).
async fn raw(proxy: &Proxy, method: &str, host: &str, path: &str, body: &str) -> String {
    let url = proxy.url("/");
    let addr = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out))
        .await
        .unwrap_or_else(|_| panic!("no answer to {method} {host}{path} within 30 s; log:\n{}", proxy.log()))
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// Status line, headers (lower-cased, without `date`, sorted) and body of
/// a raw answer, chunked encoding removed.
fn normalise(answer: &str) -> (String, Vec<String>, String) {
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().to_string();
    let mut headers: Vec<String> = lines
        .map(|l| l.to_ascii_lowercase())
        .filter(|l| !l.starts_with("date:"))
        .collect();
    headers.sort();
    let chunked = headers.iter().any(|h| h == "transfer-encoding: chunked");
    let body = if chunked { dechunk(body) } else { body.to_string() };
    // The origin echoes the loop-protection header, whose chain id and MAC
    // differ per request by design: compare everything but its value.
    let body = match body.find("\"x-isoproxy-loop\":\"") {
        Some(i) => {
            let start = i + "\"x-isoproxy-loop\":\"".len();
            let end = body[start..].find('"').map_or(body.len(), |e| start + e);
            format!("{}<loop header>{}", &body[..start], &body[end..])
        }
        None => body,
    };
    (status, headers, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

async fn probe(proxy: &Proxy, host: &str) -> Value {
    let answer = raw(proxy, "GET", host, "/probe", "").await;
    let (status, _, body) = normalise(&answer);
    assert!(status.starts_with("HTTP/1.1 200"), "{answer}\n{}", proxy.log());
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_builtins_change_nothing_on_the_wire_and_reach_no_internals() {
    let origin = Origin::start("o").await;
    let proxy = proxy(&origin).await;

    let cases = [
        ("POST", "/api?q=42", "payload"),
        ("GET", "/api?q=x", ""),
        ("POST", "/plain", "just text"),
        ("GET", "/pass?x=1", ""),
        ("POST", "/pass", "to the origin"),
        ("GET", "/crypto", ""),
    ];
    for (method, path, body) in cases {
        let clean = raw(&proxy, method, &host("clean"), path, body).await;
        let clean_n = normalise(&clean);
        assert!(
            clean_n.0.starts_with("HTTP/1.1 2"),
            "clean {method} {path}: {clean}\n{}",
            proxy.log()
        );
        for mode in ["record", "corrupt"] {
            let answer = raw(&proxy, method, &host(mode), path, body).await;
            // Nothing the tampering tried to inject reaches the wire.
            assert!(
                !answer.to_ascii_lowercase().contains("injected")
                    && !answer.contains("Evil")
                    && !answer.contains("x-split"),
                "{mode} {method} {path} carries the injection:\n{answer}\n{}",
                proxy.log()
            );
            let mut n = normalise(&answer);
            // The pass-through echo names the Host the origin saw.
            if path.starts_with("/pass") {
                n.2 = n.2.replace(&host(mode), &host("clean"));
            }
            assert_eq!(
                n,
                clean_n,
                "{mode} {method} {path} differs from the clean answer\n{}",
                proxy.log()
            );
        }
    }
    // The composite answer really exercised the APIs.
    let (status, headers, body) = normalise(&raw(&proxy, "POST", &host("corrupt"), "/api?q=42", "payload").await);
    assert_eq!(status, "HTTP/1.1 201 Made");
    assert!(
        headers.contains(&"set-cookie: a=1".to_string()) && headers.contains(&"set-cookie: b=2".to_string()),
        "{headers:?}"
    );
    assert!(
        headers.contains(&"x-list: one".to_string()) && headers.contains(&"x-list: two".to_string()),
        "{headers:?}"
    );
    assert!(body.starts_with("q=42 text=payload len=14 sha="), "{body}");
    assert!(body.contains("upmethod=POST upbody=payload upsent=yes"), "{body}");
    assert!(body.ends_with("chunk0;chunk1;chunk2;"), "{body}");

    // crypto.subtle read the PBKDF2 iteration count once (1000, not the
    // 2^32-1 a second read would have given).
    let (_, _, body) = normalise(&raw(&proxy, "GET", &host("corrupt"), "/crypto", "").await);
    assert!(body.starts_with("reads=1 bits="), "{body}");

    // What the hooks received, and what globalThis leads to.
    for mode in ["record", "corrupt"] {
        let p = probe(&proxy, &host(mode)).await;
        assert_eq!(p["detector"], true, "{mode}: the leak detector is broken: {p}");
        assert!(
            p["recorded"].as_u64().unwrap() > 0,
            "{mode}: the hooks saw nothing at all: {p}"
        );
        assert_eq!(p["leaked"], 0, "{mode}: a hook received internals or the ops: {p}");
        assert_eq!(
            p["reachable"], 0,
            "{mode}: internals or the ops are reachable from globalThis: {p}"
        );
    }

    // The proxy survived and a normal worker still answers.
    let r = client()
        .get(proxy.url("/"))
        .header("host", "normal.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-normal"], "1");
    assert_eq!(r.text().await.unwrap(), "normal ok");
}
