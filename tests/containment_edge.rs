//! Containment of the client-facing side (issue 9): what a client can send
//! the proxy and its admin listener. Raw TCP clients write the malformed
//! and adversarial requests byte for byte; every test ends by showing the
//! process still serves a normal request.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{BIN, Origin, Proxy, check_config, client};

const PASSTHROUGH: &str = include_str!("containment/edge_passthrough.js");
const ECHO_URL: &str = include_str!("containment/edge_echo_url.js");
const BODY_READER: &str = include_str!("containment/edge_body_reader.js");
const SLOW_SCHEDULED: &str = include_str!("containment/edge_slow_scheduled.js");

/// Writes `bytes` on a fresh connection in one write and reads until the
/// server closes it (or `limit` passes). Returns what was read and when
/// the connection ended, from the write.
fn exchange_sync(port: u16, bytes: Vec<u8>, limit: Duration) -> (String, Duration) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let start = Instant::now();
    // The proxy may close before reading everything (an over-large header).
    let _ = s.write_all(&bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 16384];
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

async fn exchange(port: u16, bytes: impl Into<Vec<u8>>) -> String {
    let bytes = bytes.into();
    tokio::task::spawn_blocking(move || exchange_sync(port, bytes, Duration::from_secs(10)).0)
        .await
        .unwrap()
}

/// The status codes of every response in `text`, in order.
fn statuses(text: &str) -> Vec<u16> {
    text.match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| text.get(i + 9..i + 12)?.parse().ok())
        .collect()
}

/// The sum of a Prometheus counter's series whose labels contain all of `labels`.
async fn metric(proxy: &Proxy, name: &str, labels: &[&str]) -> f64 {
    // The token is ignored by a proxy that has none.
    let text = client()
        .get(proxy.admin_url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && labels.iter().all(|lab| l.contains(lab)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A worker that answers `fine` on `fine.test`, to show the process is fine.
const FINE: &str = "export default { fetch: () => new Response(\"fine\") };\n";

async fn still_serves(proxy: &Proxy) {
    let r = common::get_host(&proxy.url("/"), "fine.test").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(r.text().await.unwrap(), "fine");
}

fn workers_and_routes(origin: &Origin) -> String {
    format!(
        r#"
[[workers]]
name = "pass"
main = "pass.js"

[[workers]]
name = "echo"
main = "echo.js"

[[workers]]
name = "body"
main = "body.js"

[[workers]]
name = "fine"
main = "fine.js"

[[routes]]
pattern = "*/*"
worker = "pass"
origin = "{origin}"

[[routes]]
pattern = "echo.test/*"
worker = "echo"

[[routes]]
pattern = "[0:0::1]/*"
worker = "echo"

[[routes]]
pattern = "body.test/*"
worker = "body"

[[routes]]
pattern = "fine.test/*"
worker = "fine"

[[routes]]
pattern = "plain.test/*"
origin = "{origin}"
"#,
        origin = origin.url()
    )
}

async fn start(origin: &Origin, server: &str) -> Proxy {
    Proxy::builder()
        .script("pass.js", PASSTHROUGH)
        .script("echo.js", ECHO_URL)
        .script("body.js", BODY_READER)
        .script("fine.js", FINE)
        .server(server)
        .config(&workers_and_routes(origin))
        .start()
        .await
}

fn get(host_line: &str) -> Vec<u8> {
    format!("GET /x?y HTTP/1.1\r\n{host_line}Connection: close\r\n\r\n").into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn host_header_is_parsed_once_and_anything_else_is_400() {
    let origin = Origin::start("origin").await;
    let proxy = start(&origin, "").await;
    let admin = proxy.admin_port;

    let mut bad: Vec<(String, Vec<u8>)> = [
        // The issue's repro: the pass-through worker fetched the admin listener.
        format!("Host: 127.0.0.1:{admin}/metrics?\r\n"),
        format!("Host: 127.0.0.1:{admin}#\r\n"),
        "Host: a.test:abc\r\n".into(),
        "Host: a.test/x\r\n".into(),
        "Host: a.test?x\r\n".into(),
        "Host: a.test#x\r\n".into(),
        "Host: a.test\\x\r\n".into(),
        "Host: user@a.test\r\n".into(),
        "Host: user:pw@a.test\r\n".into(),
        "Host: [::1\r\n".into(),
        "Host: [::1]x\r\n".into(),
        "Host: [v1.fe]\r\n".into(),
        "Host: [::1%25lo]\r\n".into(),
        "Host: ::1\r\n".into(),
        "Host: a.test:99999\r\n".into(),
        "Host: a.test:65536\r\n".into(),
        "Host: a.test:-1\r\n".into(),
        "Host: a.test:80:80\r\n".into(),
        "Host: \r\n".into(),
        "Host: a. test\r\n".into(),
        "Host: a.test x\r\n".into(),
        "Host: a..test\r\n".into(),
        "Host: .\r\n".into(),
        "Host: a%2etest\r\n".into(),
        "Host: a,b.test\r\n".into(),
        "Host: *.test\r\n".into(),
        "Host: 2130706433\r\n".into(),
        "Host: 127.1\r\n".into(),
        "Host: 0x7f.0.0.1\r\n".into(),
        "Host: 127.0.0.01\r\n".into(),
        format!("Host: {}\r\n", "a".repeat(300)),
        // Two Host fields, and none at all.
        "Host: a.test\r\nHost: b.test\r\n".into(),
        "Host: a.test\r\nHost: a.test\r\n".into(),
        String::new(),
    ]
    .into_iter()
    .map(|h| (h.clone(), get(&h)))
    .collect();
    // Non-ASCII bytes, raw.
    let mut raw = b"GET / HTTP/1.1\r\nHost: b\xc3\xbccher.test\r\nConnection: close\r\n\r\n".to_vec();
    bad.push(("Host: b\\xc3\\xbccher.test".into(), raw.clone()));
    raw = b"GET / HTTP/1.1\r\nHost: a.test\x01\r\nConnection: close\r\n\r\n".to_vec();
    bad.push(("Host: a.test\\x01".into(), raw));
    // Request targets: asterisk-form, authority-form, odd schemes, absolute-form
    // whose authority is bad or disagrees with Host, absolute-form without Host.
    for req in [
        "OPTIONS * HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n",
        "GET a.test:80 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n",
        "GET ftp://a.test/ HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n",
        "GET http://u@echo.test/ HTTP/1.1\r\nHost: echo.test\r\nConnection: close\r\n\r\n",
        "GET http://echo.test:abc/ HTTP/1.1\r\nHost: echo.test:abc\r\nConnection: close\r\n\r\n",
        "GET http://echo.test/ HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n",
        "GET http://echo.test/ HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
    ] {
        bad.push((req.lines().next().unwrap().to_string(), req.as_bytes().to_vec()));
    }
    let before = metric(&proxy, "isoproxy_requests_total", &["outcome=\"bad_request\""]).await;
    for (what, bytes) in &bad {
        let resp = exchange(proxy.port, bytes.clone()).await;
        assert_eq!(
            statuses(&resp),
            vec![400],
            "{what:?} got:\n{resp}\nlog:\n{}",
            proxy.log()
        );
        assert!(
            !resp.contains("isoproxy_"),
            "{what:?} reached the admin listener:\n{resp}"
        );
    }
    // None reached the pass-through worker's origin.
    assert_eq!(origin.seen(), Vec::<String>::new(), "{}", proxy.log());
    // Every one was counted and logged.
    let after = metric(&proxy, "isoproxy_requests_total", &["outcome=\"bad_request\""]).await;
    assert_eq!(after - before, bad.len() as f64, "{}", proxy.log());
    let log = proxy.log();
    assert!(log.contains("bad request from 127.0.0.1:"), "{log}");
    assert!(log.contains("invalid Host header: port is not a number"), "{log}");
    assert!(
        log.contains("malformed request refused by the HTTP parser with 400"),
        "{log}"
    );

    // What is accepted routes and reads back the same host.
    for (host_line, url) in [
        ("Host: echo.test\r\n", "http://echo.test/x?y"),
        ("Host: ECHO.Test\r\n", "http://echo.test/x?y"),
        ("Host: echo.test.\r\n", "http://echo.test/x?y"),
        ("Host: echo.test:8080\r\n", "http://echo.test:8080/x?y"),
        ("Host: echo.test.:8080\r\n", "http://echo.test:8080/x?y"),
        ("Host: echo.test:80\r\n", "http://echo.test/x?y"),
        ("Host: echo.test:\r\n", "http://echo.test/x?y"),
        ("Host:    echo.test   \r\n", "http://echo.test/x?y"),
        ("Host: [::1]:8080\r\n", "http://[::1]:8080/x?y"),
        ("Host: [0:0:0:0:0:0:0:1]\r\n", "http://[::1]/x?y"),
        ("Host: [::1]:\r\n", "http://[::1]/x?y"),
    ] {
        let resp = exchange(proxy.port, get(host_line)).await;
        assert_eq!(statuses(&resp), vec![200], "{host_line:?}:\n{resp}");
        assert!(resp.contains(&format!("\"url\":\"{url}\"")), "{host_line:?}:\n{resp}");
    }
    // Absolute-form: the target's authority is the one (Host, when sent, must equal it).
    for (req, url) in [
        (
            "GET http://echo.test:81/abs?q=1 HTTP/1.1\r\nHost: echo.test:81\r\nConnection: close\r\n\r\n",
            "http://echo.test:81/abs?q=1",
        ),
        (
            "GET http://echo.test HTTP/1.1\r\nHost: echo.test\r\nConnection: close\r\n\r\n",
            "http://echo.test/",
        ),
        ("GET http://echo.test/ten HTTP/1.0\r\n\r\n", "http://echo.test/ten"),
    ] {
        let resp = exchange(proxy.port, req).await;
        assert_eq!(statuses(&resp), vec![200], "{req:?}:\n{resp}");
        assert!(resp.contains(&format!("\"url\":\"{url}\"")), "{req:?}:\n{resp}");
    }
    // The pass-through route itself works for a good Host.
    let resp = exchange(proxy.port, get("Host: a.test\r\n")).await;
    assert_eq!(statuses(&resp), vec![200], "{resp}");
    assert_eq!(origin.seen(), vec!["GET /x?y".to_string()]);
    still_serves(&proxy).await;
}

/// Two or three requests in one write: each gets its answer, in order.
#[tokio::test(flavor = "multi_thread")]
async fn pipelined_requests_are_all_answered_in_order() {
    let origin = Origin::start("origin").await;
    let proxy = start(&origin, "").await;
    let req = |path: &str, host: &str, last: bool| {
        let close = if last { "Connection: close\r\n" } else { "" };
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{close}\r\n")
    };
    let cases = [
        ("plain route", vec![("/one", "plain.test"), ("/two", "plain.test")]),
        ("worker route", vec![("/one", "echo.test"), ("/two", "echo.test")]),
        (
            "mixed",
            vec![("/one", "echo.test"), ("/two", "plain.test"), ("/three", "echo.test")],
        ),
        ("no route first", vec![("/one", "fine.test"), ("/two", "plain.test")]),
    ];
    for (what, reqs) in cases {
        let n = reqs.len();
        let bytes: String = reqs
            .iter()
            .enumerate()
            .map(|(i, (p, h))| req(p, h, i + 1 == n))
            .collect();
        let resp = exchange(proxy.port, bytes).await;
        assert_eq!(statuses(&resp), vec![200; n], "{what}:\n{resp}\nlog:\n{}", proxy.log());
        // Each answer names its path (`"path":"/one"`), in request order.
        let mut at = 0;
        for (path, host) in &reqs {
            if *host == "fine.test" {
                continue;
            }
            let Some(i) = resp[at..].find(&format!("\"{path}\"")) else {
                panic!("{what}: {path} missing or out of order:\n{resp}");
            };
            at += i;
        }
    }
    // A request with a body the worker reads, then a GET, in one write.
    let bytes = "POST /in HTTP/1.1\r\nHost: body.test\r\nContent-Length: 5\r\n\r\nhello\
                 GET /after HTTP/1.1\r\nHost: echo.test\r\nConnection: close\r\n\r\n";
    let resp = exchange(proxy.port, bytes).await;
    assert_eq!(statuses(&resp), vec![200, 200], "{resp}");
    assert!(resp.contains("read 5 bytes"), "{resp}");
    assert!(resp.contains("\"url\":\"http://echo.test/after\""), "{resp}");
    // A bad request after a good one: the good one is answered, then the 400.
    let bytes = "GET /ok HTTP/1.1\r\nHost: echo.test\r\n\r\nGET /bad HTTP/1.1\r\nHost: a.test:x\r\n\r\n";
    let resp = exchange(proxy.port, bytes).await;
    assert_eq!(statuses(&resp), vec![200, 400], "{resp}");
    still_serves(&proxy).await;
}

const LIMITS: &str =
    "header_read_timeout_s = 2\nbody_idle_timeout_s = 2\nmax_header_bytes = 4096\nmax_header_count = 20\n";

/// A client sending its header one byte every 300 ms is cut off with 408
/// once `header_read_timeout_s` has passed since its first byte; other
/// clients are served meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn slow_loris_header_is_cut_off_with_408() {
    let origin = Origin::start("origin").await;
    let proxy = start(&origin, LIMITS).await;
    let port = proxy.port;
    let loris = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let header = b"GET / HTTP/1.1\r\nHost: fine.test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let start = Instant::now();
        let mut out = Vec::new();
        let mut buf = [0u8; 1024];
        for b in header.iter().cycle() {
            if s.write_all(&[*b]).is_err() {
                break;
            }
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
            if start.elapsed() > Duration::from_secs(15) {
                break;
            }
        }
        // Collect whatever is left.
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
    });
    // Meanwhile a normal client is served.
    tokio::time::sleep(Duration::from_millis(500)).await;
    still_serves(&proxy).await;
    let (resp, took) = loris.await.unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 408 Request Timeout"),
        "{resp}\n{}",
        proxy.log()
    );
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(5),
        "cut off after {took:?}"
    );
    proxy
        .wait_for_log("request header not complete after 2s", Duration::from_secs(5))
        .await;
    assert_eq!(
        metric(&proxy, "isoproxy_client_errors_total", &["kind=\"header_timeout\""]).await,
        1.0
    );

    // A connection that sends nothing is closed after the same time, silently.
    let (resp, took) = tokio::task::spawn_blocking(move || exchange_sync(port, Vec::new(), Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(resp, "");
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    still_serves(&proxy).await;
}

/// Over-large or too many header fields: 431; at the limits: served.
#[tokio::test(flavor = "multi_thread")]
async fn oversized_headers_get_431() {
    let origin = Origin::start("origin").await;
    let proxy = start(&origin, LIMITS).await;
    let with = |extra: &str| format!("GET / HTTP/1.1\r\nHost: fine.test\r\n{extra}Connection: close\r\n\r\n");
    // 4096 bytes of header in all: fine. One more: 431.
    let base = with("X-Pad: \r\n").len();
    let exactly = with(&format!("X-Pad: {}\r\n", "p".repeat(4096 - base)));
    assert_eq!(exactly.len(), 4096);
    let resp = exchange(proxy.port, exactly.clone()).await;
    assert_eq!(statuses(&resp), vec![200], "{resp}");
    let over = with(&format!("X-Pad: {}\r\n", "p".repeat(4097 - base)));
    let resp = exchange(proxy.port, over).await;
    assert!(
        resp.starts_with("HTTP/1.1 431 Request Header Fields Too Large"),
        "{resp}"
    );
    assert!(resp.contains("header too large"), "{resp}");
    // Far over (1 MiB, Pingora's own ceiling): still our 431, not a reset.
    let huge = with(&format!("X-Pad: {}\r\n", "p".repeat(1 << 20)));
    let resp = exchange(proxy.port, huge).await;
    assert!(resp.starts_with("HTTP/1.1 431"), "{resp}");
    // 20 fields (Host, Connection and 18 more): fine; 21: 431.
    let fields = |n: usize| (0..n).map(|i| format!("X-F{i}: v\r\n")).collect::<String>();
    let resp = exchange(proxy.port, with(&fields(18))).await;
    assert_eq!(statuses(&resp), vec![200], "{resp}");
    let resp = exchange(proxy.port, with(&fields(19))).await;
    assert!(resp.starts_with("HTTP/1.1 431"), "{resp}");
    assert!(resp.contains("too many headers"), "{resp}");
    // Past Pingora's own 256 fields: still ours.
    let resp = exchange(proxy.port, with(&fields(300))).await;
    assert!(resp.starts_with("HTTP/1.1 431"), "{resp}");
    // Behind another request in the same write (pipelined), checked too.
    let first = "GET / HTTP/1.1\r\nHost: fine.test\r\n\r\n";
    let resp = exchange(proxy.port, format!("{first}{}", with(&fields(30)))).await;
    assert_eq!(statuses(&resp), vec![200, 431], "{resp}");
    let pad = format!("X-Pad: {}\r\n", "p".repeat(4100));
    let resp = exchange(proxy.port, format!("{first}{}", with(&pad))).await;
    assert_eq!(statuses(&resp), vec![200, 431], "{resp}");
    let resp = exchange(proxy.port, format!("{first}{}", with(&fields(5)))).await;
    assert_eq!(statuses(&resp), vec![200, 200], "{resp}");
    assert_eq!(
        metric(&proxy, "isoproxy_client_errors_total", &["kind=\"header_too_large\""]).await,
        3.0
    );
    assert_eq!(
        metric(&proxy, "isoproxy_client_errors_total", &["kind=\"too_many_headers\""]).await,
        3.0
    );
    let log = proxy.log();
    assert!(
        log.contains("request header over 4096 bytes (max_header_bytes)"),
        "{log}"
    );
    assert!(log.contains("more than 20 header fields (max_header_count)"), "{log}");

    // The limits reload live.
    let conf = proxy.dir.path().join("isoproxy.toml");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, text.replace("max_header_count = 20", "max_header_count = 5")).unwrap();
    proxy.hup();
    proxy.wait_for_log("reload ok", Duration::from_secs(20)).await;
    let resp = exchange(proxy.port, with(&fields(10))).await;
    assert!(resp.starts_with("HTTP/1.1 431"), "{resp}");
    let resp = exchange(proxy.port, with(&fields(3))).await;
    assert_eq!(statuses(&resp), vec![200], "{resp}");
    still_serves(&proxy).await;
}

/// A client that stops sending its body mid-way is cut off after
/// `body_idle_timeout_s`: the worker's `request.text()` rejects; a plain
/// route answers 408.
#[tokio::test(flavor = "multi_thread")]
async fn stalled_body_is_cut_off() {
    let origin = Origin::start("origin").await;
    let proxy = start(&origin, LIMITS).await;
    let port = proxy.port;
    let stall = |host: &'static str| {
        let req = format!("POST /upload HTTP/1.1\r\nHost: {host}\r\nContent-Length: 100\r\n\r\n0123456789");
        tokio::task::spawn_blocking(move || exchange_sync(port, req.into_bytes(), Duration::from_secs(15)))
    };
    let (worker, plain) = tokio::join!(stall("body.test"), stall("plain.test"));
    let (resp, took) = worker.unwrap();
    assert_eq!(statuses(&resp), vec![400], "{resp}\n{}", proxy.log());
    assert!(
        resp.contains("body rejected: ") && resp.contains("client request body stalled (body_idle_timeout_s)"),
        "{resp}"
    );
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(6),
        "{took:?}"
    );
    let (resp, took) = plain.unwrap();
    assert_eq!(statuses(&resp), vec![408], "{resp}\n{}", proxy.log());
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert_eq!(
        metric(&proxy, "isoproxy_client_errors_total", &["kind=\"body_timeout\""]).await,
        2.0
    );
    assert!(
        proxy
            .log()
            .contains("request body stalled for 2s (body_idle_timeout_s)")
    );
    // A body that keeps coming, slowly but within the idle timeout, is read whole.
    let slow = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nHost: body.test\r\nContent-Length: 4\r\nConnection: close\r\n\r\n")
            .unwrap();
        for b in b"abcd" {
            std::thread::sleep(Duration::from_millis(800));
            s.write_all(&[*b]).unwrap();
        }
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    });
    let resp = slow.await.unwrap();
    assert!(resp.contains("read 4 bytes"), "{resp}");
    still_serves(&proxy).await;
}

/// A client that stops reading its response is cut off after
/// `send_timeout_s`, on a worker route (its response stream is dropped)
/// and on a plain route.
#[tokio::test(flavor = "multi_thread")]
async fn client_that_stops_reading_is_cut_off() {
    let origin = Origin::start("origin").await;
    let proxy = start(&origin, "send_timeout_s = 2").await;
    let port = proxy.port;
    const TOTAL: u64 = 1 << 30;
    let stop_reading = |host: &'static str| {
        tokio::task::spawn_blocking(move || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(format!("GET /bytes/{TOTAL} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
                .unwrap();
            std::thread::sleep(Duration::from_secs(5));
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let start = Instant::now();
            let mut total = 0u64;
            let mut buf = vec![0u8; 1 << 16];
            let ended = loop {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break true,
                    Ok(n) => total += n as u64,
                }
                if start.elapsed() > Duration::from_secs(20) {
                    break false;
                }
            };
            (ended, total)
        })
    };
    let (worker, plain) = tokio::join!(stop_reading("a.test"), stop_reading("plain.test"));
    for (what, (ended, total)) in [("worker", worker.unwrap()), ("plain", plain.unwrap())] {
        assert!(ended, "{what}: the connection stayed open");
        assert!(total < TOTAL / 4, "{what}: {total} bytes");
    }
    proxy
        .wait_for_log("stopped reading its response (send_timeout_s)", Duration::from_secs(5))
        .await;
    assert_eq!(
        metric(&proxy, "isoproxy_client_errors_total", &["kind=\"send_timeout\""]).await,
        2.0,
        "{}",
        proxy.log()
    );
    still_serves(&proxy).await;
}

/// Past `max_connections` a new connection gets 503 at once and is
/// closed; the connections already open are served normally.
#[tokio::test(flavor = "multi_thread")]
async fn connections_past_the_cap_are_refused() {
    let origin = Origin::start("origin").await;
    let proxy = start(&origin, "max_connections = 3\nheader_read_timeout_s = 10\n").await;
    let port = proxy.port;
    // The harness's readiness probe opened (and dropped) a connection: let
    // the proxy see it close first, or it takes one of the three places.
    let start = Instant::now();
    while metric(&proxy, "isoproxy_client_connections", &["listener=\"proxy\""]).await != 0.0 {
        assert!(start.elapsed() < Duration::from_secs(5), "{}", proxy.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let held: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    // Wait until the proxy has accepted and counted all three.
    let start = Instant::now();
    while metric(&proxy, "isoproxy_client_connections", &["listener=\"proxy\""]).await != 3.0 {
        assert!(start.elapsed() < Duration::from_secs(5), "{}", proxy.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let resp = tokio::task::spawn_blocking(move || {
        let (refused, took) = exchange_sync(
            port,
            b"GET / HTTP/1.1\r\nHost: fine.test\r\nConnection: close\r\n\r\n".to_vec(),
            Duration::from_secs(5),
        );
        // The held connections still work.
        let mut served = Vec::new();
        for mut s in held {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: fine.test\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            served.push(out);
        }
        (refused, took, served)
    })
    .await
    .unwrap();
    let (refused, took, served) = resp;
    assert!(refused.starts_with("HTTP/1.1 503 Service Unavailable"), "{refused}");
    assert!(refused.contains("too many connections"), "{refused}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    for out in served {
        assert_eq!(statuses(&out), vec![200], "{out}");
        assert!(out.ends_with("fine"), "{out}");
    }
    assert!(metric(&proxy, "isoproxy_client_errors_total", &["kind=\"connection_limit\""]).await >= 1.0);
    assert!(proxy.log().contains("max_connections is 3: refusing new ones with 503"));
    // Once they closed, new connections are accepted again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    still_serves(&proxy).await;
}

/// A non-loopback admin address without a token: `--test` and a real
/// start both fail with exit 1 and say why.
#[tokio::test(flavor = "multi_thread")]
async fn public_admin_listener_needs_a_token() {
    let dir = common::TempDir::new("admin");
    dir.write("fine.js", FINE);
    let body = "[[workers]]\nname = \"fine\"\nmain = \"fine.js\"\n[[routes]]\npattern = \"*/*\"\nworker = \"fine\"\n";
    let conf = dir.write(
        "isoproxy.toml",
        &format!(
            "[server]\nlisten = [\"127.0.0.1:{}\"]\nadmin = \"0.0.0.0:{}\"\n{body}",
            common::free_port(),
            common::free_port()
        ),
    );
    let (code, out) = check_config(&conf);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("server.admin: ") && out.contains("is not a loopback address: set server.admin_token"),
        "{out}"
    );
    let run = std::process::Command::new(BIN)
        .arg("--conf")
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("is not a loopback address"), "{stderr}");
    // With a token, the same file passes.
    let conf = dir.write(
        "isoproxy.toml",
        &format!(
            "[server]\nlisten = [\"127.0.0.1:{}\"]\nadmin = \"0.0.0.0:{}\"\nadmin_token = \"abcdefghijklmnopqrstuvwxyz012345\"\n{body}",
            common::free_port(),
            common::free_port()
        ),
    );
    let (code, out) = check_config(&conf);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("abcdefghijklmnop"), "{out}");
}

const TOKEN: &str = "t0p-s3cret_admin.token~0123456789";

#[tokio::test(flavor = "multi_thread")]
async fn admin_token_guards_everything_but_healthz() {
    let origin = Origin::start("origin").await;
    let proxy = start(&origin, &format!("admin_token = \"{TOKEN}\"")).await;
    let c = client();
    // /healthz stays open.
    let r = c.get(proxy.admin_url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    for (method, path) in [
        ("GET", "/metrics"),
        ("GET", "/workers"),
        ("POST", "/__scheduled?worker=fine"),
        ("GET", "/nope"),
        ("POST", "/healthz"),
    ] {
        let m: reqwest::Method = method.parse().unwrap();
        // No token, a wrong one, the right one in the wrong scheme, a prefix, a longer one.
        for auth in [
            None,
            Some("Bearer wrong".to_string()),
            Some(format!("Basic {TOKEN}")),
            Some(format!("Bearer {}", &TOKEN[..TOKEN.len() - 1])),
            Some(format!("Bearer {TOKEN}x")),
            Some(TOKEN.to_string()),
        ] {
            let mut req = c.request(m.clone(), proxy.admin_url(path));
            if let Some(a) = &auth {
                req = req.header("authorization", a);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 401, "{method} {path} with {auth:?}");
            let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_string();
            assert!(challenge.starts_with("Bearer realm="), "{challenge}");
            assert_eq!(
                challenge.contains("invalid_token"),
                auth.as_deref().is_some_and(|a| a.starts_with("Bearer ")),
                "{challenge}"
            );
        }
    }
    // The right token, any case of the scheme.
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let r = c
            .get(proxy.admin_url("/metrics"))
            .header("authorization", format!("{scheme} {TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let workers = c
        .get(proxy.admin_url("/workers"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(workers.contains("\"fine\""), "{workers}");
    assert!(!workers.contains(TOKEN), "{workers}");
    let r = c
        .post(proxy.admin_url("/__scheduled?worker=fine"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let metrics = c
        .get(proxy.admin_url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("isoproxy_client_errors_total"), "{metrics}");
    assert_eq!(
        metric(
            &proxy,
            "isoproxy_client_errors_total",
            &["kind=\"unauthorized\"", "listener=\"admin\""]
        )
        .await,
        30.0
    );
    let log = proxy.log();
    assert!(log.contains("without a valid bearer token: 401"), "{log}");
    assert!(!log.contains(TOKEN), "the token was logged:\n{log}");
    still_serves(&proxy).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_trigger_refuses_cross_site_requests_and_overlap() {
    let origin = Origin::start("origin").await;
    let proxy = Proxy::builder()
        .script("slow.js", SLOW_SCHEDULED)
        .script("fine.js", FINE)
        .config(&format!(
            "[[workers]]\nname = \"slow\"\nmain = \"slow.js\"\n[[workers]]\nname = \"fine\"\nmain = \"fine.js\"\n\
             [[routes]]\npattern = \"fine.test/*\"\nworker = \"fine\"\n[[routes]]\npattern = \"*/*\"\norigin = \"{}\"\n",
            origin.url()
        ))
        .start()
        .await;
    let c = client();
    let url = proxy.admin_url("/__scheduled?worker=fine");
    let own = format!("http://127.0.0.1:{}", proxy.admin_port);
    // GET (and others) on it: 405.
    for m in ["GET", "HEAD", "PUT", "DELETE"] {
        let r = c.request(m.parse().unwrap(), &url).send().await.unwrap();
        assert_eq!(r.status(), 405, "{m}");
        assert_eq!(r.headers()["allow"], "POST");
    }
    let post = |headers: &[(&str, &str)]| {
        let mut req = c.post(&url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send()
    };
    for (headers, status) in [
        (vec![("origin", "http://evil.test")], 403),
        (vec![("origin", "null")], 403),
        (vec![("origin", "http://127.0.0.1:1")], 403),
        (vec![("sec-fetch-site", "cross-site")], 403),
        (vec![("sec-fetch-site", "same-site")], 403),
        (vec![("content-type", "text/plain")], 415),
        (vec![("content-type", "application/x-www-form-urlencoded")], 415),
        (vec![("content-type", "Multipart/Form-Data; boundary=x")], 415),
        (vec![("content-type", "text/plain;charset=UTF-8")], 415),
        // What curl or a script sends, and a same-origin page.
        (vec![], 200),
        (vec![("content-type", "application/json")], 200),
        (vec![("origin", own.as_str()), ("sec-fetch-site", "same-origin")], 200),
        (vec![("sec-fetch-site", "none")], 200),
    ] {
        let r = post(&headers).await.unwrap();
        assert_eq!(r.status(), status, "{headers:?}: {}", r.text().await.unwrap());
    }
    // DNS rebinding: the listener answers only IP-literal or localhost hosts.
    let r = c
        .get(proxy.admin_url("/metrics"))
        .header("host", format!("evil.test:{}", proxy.admin_port))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 421);
    let r = c
        .post(&url)
        .header("host", format!("evil.test:{}", proxy.admin_port))
        .header("origin", format!("http://evil.test:{}", proxy.admin_port))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 421);
    let r = c
        .get(proxy.admin_url("/metrics"))
        .header("host", format!("localhost:{}", proxy.admin_port))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // One run per trigger: a second trigger while the first runs is skipped;
    // another cron of the same worker runs alongside.
    let slow = |cron: &'static str| {
        let url = proxy.admin_url(&format!("/__scheduled?worker=slow&cron={cron}"));
        let c = c.clone();
        tokio::spawn(async move {
            let r = c.post(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    };
    let first = slow("*+*+*+*+*");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = slow("*+*+*+*+*");
    let other = slow("0+*+*+*+*");
    let (second, other, first) = (second.await.unwrap(), other.await.unwrap(), first.await.unwrap());
    assert_eq!(second.0, 409, "{second:?}");
    assert!(second.1.contains("\"outcome\":\"skipped\""), "{second:?}");
    assert_eq!(other, (200, "{\"outcome\":\"ok\"}".to_string()));
    assert_eq!(first, (200, "{\"outcome\":\"ok\"}".to_string()));
    // Once it finished, the trigger runs again.
    let again = slow("*+*+*+*+*").await.unwrap();
    assert_eq!(again.0, 200, "{again:?}");
    assert_eq!(
        metric(
            &proxy,
            "isoproxy_scheduled_runs_total",
            &["worker=\"slow\"", "outcome=\"skipped\""]
        )
        .await,
        1.0
    );
    let log = proxy.log();
    assert!(
        log.contains("fired while its previous run is still going; skipped"),
        "{log}"
    );
    assert!(log.contains("refused: cross-origin request (Origin)"), "{log}");
    still_serves(&proxy).await;
}
