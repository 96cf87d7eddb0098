//! TLS termination through the real binary: certificates made here
//! (rcgen), chosen by SNI; `request.cf` and `request.url` on TLS; reload of
//! certificates on SIGHUP (open connections keep going, bad ones refused);
//! the client limits on TLS connections; `--test` checking certificates.

mod common;
mod tls_support;

use std::time::Duration;

use common::{Origin, Proxy, check_config, free_port};
use tls_support::{cert, connect, https_client, served_cert, start_tls, write_cert};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const INFO: &str = r#"
export default {
  async fetch(request) {
    return Response.json({
      url: request.url,
      tlsVersion: request.cf.tlsVersion ?? null,
      tlsCipher: request.cf.tlsCipher ?? null,
      httpProtocol: request.cf.httpProtocol,
    });
  },
};
"#;

fn info_config(origin: &Origin) -> String {
    format!(
        r#"
[[workers]]
name = "info"
main = "info.js"

[[routes]]
pattern = "a.test/*"
worker = "info"

[[routes]]
pattern = "*.b.test/*"
worker = "info"

[[routes]]
pattern = "x.b.test/*"
origin = "{}"
"#,
        origin.url()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sni_picks_the_certificate_and_the_worker_sees_tls() {
    let origin = Origin::start("o").await;
    let a = cert(&["a.test"]);
    let b = cert(&["*.b.test", "b.test"]);
    let builder = Proxy::builder().script("info.js", INFO).config(&info_config(&origin));
    let (proxy, port) = start_tls(builder, &[&a, &b]).await;

    // By SNI: exact names, wildcards; no SNI or an unknown name: the first.
    assert_eq!(served_cert(port, "a.test").await, a.der);
    assert_eq!(served_cert(port, "b.test").await, b.der);
    assert_eq!(served_cert(port, "y.b.test").await, b.der);
    assert_eq!(served_cert(port, "nope.test").await, a.der);
    assert_eq!(served_cert(port, "127.0.0.1").await, a.der);

    // A verifying client, TLS 1.3 by default.
    let client = https_client(&[&a, &b], &["a.test", "y.b.test", "x.b.test"], port)
        .build()
        .unwrap();
    let url = format!("https://a.test:{port}/hello?x=1");
    let res = client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["url"], url.as_str());
    assert_eq!(v["tlsVersion"], "TLSv1.3");
    assert!(v["tlsCipher"].as_str().unwrap().starts_with("AEAD-"), "{v}");
    assert_eq!(v["httpProtocol"], "HTTP/1.1");

    let v: serde_json::Value = client
        .get(format!("https://y.b.test:{port}/w"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["url"], format!("https://y.b.test:{port}/w").as_str());

    // TLS 1.2.
    let tls12 = https_client(&[&a], &["a.test"], port)
        .max_tls_version(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap();
    let v: serde_json::Value = tls12.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["tlsVersion"], "TLSv1.2");
    assert!(v["tlsCipher"].as_str().unwrap().starts_with("ECDHE-ECDSA-"), "{v}");

    // A plain route over TLS.
    let res = client
        .post(format!("https://x.b.test:{port}/echo"))
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["path"], "/echo");
    assert_eq!(v["body"], "payload");
    assert_eq!(origin.seen(), vec!["POST /echo"]);

    // The plain listener is unchanged: no TLS fields, http: URLs.
    let res = common::get_host(&proxy.url("/p"), "a.test").await;
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["url"], "http://a.test/p");
    assert_eq!(v["tlsVersion"], serde_json::Value::Null);
}

/// One HTTP/1.1 request on an open stream; returns the status line and body.
async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(s: &mut S, path: &str) -> (String, String) {
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: a.test\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed mid-response: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap();
            if buf.len() >= end + 4 + len {
                let status = text.lines().next().unwrap().to_string();
                return (status, text[end + 4..end + 4 + len].to_string());
            }
        }
    }
}

/// Waits until the sum of a metric's samples with `labels` reaches
/// `at_least`. The scrape is retried: with a low `max_connections` the
/// admin listener may refuse one while the previous scrape's connection
/// is still closing.
async fn wait_metric(proxy: &Proxy, name: &str, labels: &[(&str, &str)], at_least: f64) {
    let start = std::time::Instant::now();
    loop {
        let text = match common::client().get(proxy.admin_url("/metrics")).send().await {
            Ok(r) if r.status() == 200 => r.text().await.unwrap_or_default(),
            _ => String::new(),
        };
        let value: f64 = text
            .lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .filter(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        if value >= at_least {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{name}{labels:?} never reached {at_least}; log:\n{}",
            proxy.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_reload_on_sighup_and_open_connections_keep_going() {
    let origin = Origin::start("o").await;
    let old = cert(&["a.test"]);
    let builder = Proxy::builder().script("info.js", INFO).config(&info_config(&origin));
    let (proxy, port) = start_tls(builder, &[&old]).await;
    assert_eq!(served_cert(port, "a.test").await, old.der);

    let mut open = connect(port, "a.test", &[&old], &[b"http/1.1"]).await.unwrap();
    assert_eq!(exchange(&mut open, "/before").await.0, "HTTP/1.1 200 OK");

    let new = cert(&["a.test"]);
    write_cert(proxy.dir.path(), 0, &new);
    proxy.hup();
    wait_metric(&proxy, "isoproxy_reloads_total", &[("result", "ok")], 1.0).await;
    assert_eq!(served_cert(port, "a.test").await, new.der);
    assert!(
        connect(port, "a.test", &[&old], &[]).await.is_err(),
        "the old certificate is still served"
    );
    let mut fresh = connect(port, "a.test", &[&new], &[]).await.unwrap();
    assert_eq!(exchange(&mut fresh, "/new").await.0, "HTTP/1.1 200 OK");
    // The connection opened before the reload still serves requests.
    let (status, body) = exchange(&mut open, "/after").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("https://a.test/after"), "{body}");

    // A broken certificate fails the reload and changes nothing.
    std::fs::write(proxy.dir.path().join("certs/0.pem"), "not a certificate\n").unwrap();
    proxy.hup();
    wait_metric(&proxy, "isoproxy_reloads_total", &[("result", "failed")], 1.0).await;
    let log = proxy
        .wait_for_log("server.certificates[0].cert", Duration::from_secs(10))
        .await;
    assert!(log.contains("isoproxy.toml:"), "{log}");
    assert_eq!(served_cert(port, "a.test").await, new.der);

    // So does a key that is not the certificate's.
    let other = cert(&["a.test"]);
    std::fs::write(proxy.dir.path().join("certs/0.pem"), &other.pem).unwrap();
    proxy.hup();
    wait_metric(&proxy, "isoproxy_reloads_total", &[("result", "failed")], 2.0).await;
    proxy
        .wait_for_log("server.certificates[0].key", Duration::from_secs(10))
        .await;
    assert_eq!(served_cert(port, "a.test").await, new.der);
    assert_eq!(exchange(&mut fresh, "/still").await.0, "HTTP/1.1 200 OK");
}

/// Reads until the peer closes (or errs); what it sent before.
async fn read_to_close<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> String {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        let mut chunk = [0u8; 4096];
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the proxy never closed the connection");
    String::from_utf8_lossy(&buf).into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_clients_get_the_header_deadline_and_size_limits() {
    let origin = Origin::start("o").await;
    let a = cert(&["a.test"]);
    let builder = Proxy::builder()
        .script("info.js", INFO)
        .config(&info_config(&origin))
        .server("header_read_timeout_s = 1\nmax_header_bytes = 2048");
    let (proxy, port) = start_tls(builder, &[&a]).await;

    // A client that connects and never starts the handshake.
    let mut silent = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert_eq!(read_to_close(&mut silent).await, "");
    // One that stops in the middle of its ClientHello.
    let mut partial = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    partial.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).await.unwrap();
    assert_eq!(read_to_close(&mut partial).await, "");
    wait_metric(
        &proxy,
        "isoproxy_client_errors_total",
        &[("kind", "tls_handshake_timeout")],
        2.0,
    )
    .await;

    // After the handshake: a header that never ends gets 408.
    let mut slow = connect(port, "a.test", &[&a], &[]).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: a.test\r\n").await.unwrap();
    let got = read_to_close(&mut slow).await;
    assert!(got.starts_with("HTTP/1.1 408"), "{got:?}");

    // A header over max_header_bytes gets 431.
    let mut big = connect(port, "a.test", &[&a], &[]).await.unwrap();
    let req = format!("GET / HTTP/1.1\r\nHost: a.test\r\nX-Big: {}\r\n\r\n", "x".repeat(4000));
    big.write_all(req.as_bytes()).await.unwrap();
    let got = read_to_close(&mut big).await;
    assert!(got.starts_with("HTTP/1.1 431"), "{got:?}");

    // Well-behaved clients are served.
    let mut ok = connect(port, "a.test", &[&a], &[]).await.unwrap();
    assert_eq!(exchange(&mut ok, "/").await.0, "HTTP/1.1 200 OK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_counts_plain_and_tls_connections_together() {
    let origin = Origin::start("o").await;
    let a = cert(&["a.test"]);
    let builder = Proxy::builder()
        .script("info.js", INFO)
        .config(&info_config(&origin))
        .server("max_connections = 1");
    let (proxy, port) = start_tls(builder, &[&a]).await;

    // One plain connection, its request header under way, holds the only place.
    let mut held = tokio::net::TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    held.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    wait_metric(&proxy, "isoproxy_client_connections", &[("listener", "proxy")], 1.0).await;
    assert!(
        connect(port, "a.test", &[&a], &[]).await.is_err(),
        "a TLS connection past max_connections"
    );
    wait_metric(
        &proxy,
        "isoproxy_client_errors_total",
        &[("kind", "connection_limit")],
        1.0,
    )
    .await;
    // Once it is gone, TLS clients get in.
    drop(held);
    let start = std::time::Instant::now();
    loop {
        if let Ok(mut s) = connect(port, "a.test", &[&a], &[]).await {
            s.write_all(b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let got = read_to_close(&mut s).await;
            if got.starts_with("HTTP/1.1 200") {
                break;
            }
        }
        assert!(start.elapsed() < Duration::from_secs(30), "TLS never served again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn config_test_checks_certificates() {
    let dir = common::TempDir::new("tls-conf");
    let a = cert(&["a.test"]);
    let other = cert(&["a.test"]);
    write_cert(dir.path(), 0, &a);
    std::fs::write(dir.path().join("certs/other.key"), &other.key_pem).unwrap();
    let (plain, tls) = (free_port(), free_port());
    let head = format!("[server]\nlisten = [\"127.0.0.1:{plain}\"]\ntls_listen = [\"127.0.0.1:{tls}\"]\n");
    let check = |body: &str| {
        let conf = dir.write("isoproxy.toml", &format!("{head}{body}"));
        check_config(&conf)
    };

    let (code, out) = check("[[server.certificates]]\ncert = \"certs/0.pem\"\nkey = \"certs/0.key\"\n");
    assert_eq!(code, 0, "{out}");

    let (code, out) = check("[[server.certificates]]\ncert = \"certs/missing.pem\"\nkey = \"certs/0.key\"\n");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("isoproxy.toml:5:8: server.certificates[0].cert: cannot read"),
        "{out}"
    );

    let (code, out) = check("[[server.certificates]]\ncert = \"certs/0.pem\"\nkey = \"certs/other.key\"\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("isoproxy.toml:6:7: server.certificates[0].key:"), "{out}");

    let (code, out) = check("[[server.certificates]]\ncert = \"certs/0.key\"\nkey = \"certs/0.key\"\n");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("server.certificates[0].cert:") && out.contains("no PEM certificate"),
        "{out}"
    );

    let (code, out) = check("");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("isoproxy.toml:3:14: server.tls_listen:"), "{out}");

    let (code, out) = check(&format!("admin = \"127.0.0.1:{plain}\"\n"));
    assert_eq!(code, 1, "{out}");

    let (code, out) = check("[[server.certificates]]\ncert = \"certs/0.pem\"\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("key"), "{out}");
}
