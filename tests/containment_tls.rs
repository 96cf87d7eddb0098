//! Hostile TLS and HTTP/2 clients against the real binary: handshakes that
//! stall or are garbage, ClientHellos with odd SNI names or only TLS 1.0 /
//! 1.1, and HTTP/2 connections that abuse the protocol with hand-made
//! frames (rapid reset, CONTINUATION floods, SETTINGS and PING floods).
//! Each case checks what the client gets, the count in
//! `isoproxy_client_errors_total`, that the proxy's memory stays bounded,
//! and that it keeps serving other clients afterwards.

mod common;
mod tls_support;

use std::time::{Duration, Instant};

use common::h2raw::*;
use common::{Origin, Proxy};
use tls_support::{TestCert, cert, connect, https_client, start_tls};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WORKER: &str = r#"
export default {
  async fetch(request) {
    return new Response("worker " + new URL(request.url).pathname);
  },
};
"#;

async fn start(origin: &Origin, extra: &str) -> (Proxy, u16, TestCert) {
    let a = cert(&["a.test", "plain.test"]);
    let builder = Proxy::builder().script("w.js", WORKER).server(extra).config(&format!(
        r#"
[[workers]]
name = "w"
main = "w.js"

[[routes]]
pattern = "a.test/*"
worker = "w"

[[routes]]
pattern = "plain.test/*"
origin = "{0}"
"#,
        origin.url()
    ));
    let (proxy, port) = start_tls(builder, &[&a]).await;
    (proxy, port, a)
}

/// A plain HTTPS request through the worker and through the plain route
/// both answer: the proxy is still serving.
async fn still_serves(port: u16, a: &TestCert) {
    let client = https_client(&[a], &["a.test", "plain.test"], port).build().unwrap();
    let r = client.get(format!("https://a.test:{port}/ok")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "worker /ok");
    let r = client
        .get(format!("https://plain.test:{port}/bytes/10"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn wait_metric(proxy: &Proxy, name: &str, labels: &[(&str, &str)], at_least: f64) {
    let start = Instant::now();
    loop {
        let v = proxy.metric(name, labels).await;
        if v >= at_least {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{name}{labels:?} = {v}, want >= {at_least}; log:\n{}",
            proxy.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TLS ClientHello record offering only `versions` (legacy_version is
/// the lowest), with an SNI extension holding `sni` as raw bytes.
fn client_hello(sni: Option<&[u8]>, tls13: bool, legacy_version: u16) -> Vec<u8> {
    let mut ext = Vec::new();
    if let Some(name) = sni {
        let mut list = vec![0u8]; // host_name
        list.extend_from_slice(&(name.len() as u16).to_be_bytes());
        list.extend_from_slice(name);
        let mut body = (list.len() as u16).to_be_bytes().to_vec();
        body.extend_from_slice(&list);
        ext.extend_from_slice(&0u16.to_be_bytes());
        ext.extend_from_slice(&(body.len() as u16).to_be_bytes());
        ext.extend_from_slice(&body);
    }
    // supported_groups: x25519, secp256r1
    ext.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]);
    // ec_point_formats: uncompressed
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
    ext.extend_from_slice(&[0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01]);
    if tls13 {
        // supported_versions: TLS 1.3, key_share: x25519 with a fixed point.
        ext.extend_from_slice(&[0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04]);
        ext.extend_from_slice(&[0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20]);
        ext.extend_from_slice(&[9u8; 32]);
    }
    let mut hello = Vec::new();
    hello.extend_from_slice(&legacy_version.to_be_bytes());
    hello.extend_from_slice(&[7u8; 32]); // random
    hello.push(32);
    hello.extend_from_slice(&[5u8; 32]); // legacy session id
    // Cipher suites: TLS 1.3 AES-128-GCM, ECDHE-ECDSA/RSA-AES128-GCM, and
    // two TLS 1.0-era CBC suites.
    let suites: [u16; 5] = [0x1301, 0xc02b, 0xc02f, 0xc013, 0x002f];
    hello.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        hello.extend_from_slice(&s.to_be_bytes());
    }
    hello.extend_from_slice(&[1, 0]); // compression: null
    hello.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    hello.extend_from_slice(&ext);
    let mut handshake = vec![1u8]; // client_hello
    handshake.extend_from_slice(&(hello.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&hello);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

/// Sends `bytes` on a new TCP connection to the TLS port and returns what
/// the server sent before closing.
async fn raw_exchange(port: u16, bytes: &[u8], then_wait: bool) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(bytes).await.unwrap();
    if then_wait {
        closed_by_server(&mut s).await
    } else {
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf))
            .await
            .expect("no answer to a ClientHello")
            .unwrap_or(0);
        buf.truncate(n);
        buf
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_handshakes_are_refused_and_counted() {
    let origin = Origin::start("o").await;
    let (proxy, port, a) = start(&origin, "header_read_timeout_s = 1\n").await;

    // Garbage instead of a ClientHello: closed, counted as a failed handshake.
    let got = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", true).await;
    assert!(!String::from_utf8_lossy(&got).contains("200"), "{got:?}");
    let got = raw_exchange(port, &[0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00, 0xff, 0xfb], true).await;
    assert!(got.is_empty() || got[0] == 0x15, "an alert or nothing: {got:?}");
    wait_metric(
        &proxy,
        "isoproxy_client_errors_total",
        &[("kind", "tls_handshake")],
        2.0,
    )
    .await;

    // Stalls: nothing at all, half a ClientHello, a whole one and then
    // silence. Each is closed at header_read_timeout_s and counted.
    let hello = client_hello(Some(b"a.test"), true, 0x0303);
    let before = proxy
        .metric("isoproxy_client_errors_total", &[("kind", "tls_handshake_timeout")])
        .await;
    for sent in [&b""[..], &hello[..hello.len() / 2]] {
        raw_exchange(port, sent, true).await;
    }
    wait_metric(
        &proxy,
        "isoproxy_client_errors_total",
        &[("kind", "tls_handshake_timeout")],
        before + 2.0,
    )
    .await;
    let got = raw_exchange(port, &hello, true).await;
    assert_eq!(got.first(), Some(&0x16), "a ServerHello, then closed: {got:?}");

    // Only TLS 1.0 or 1.1 offered: refused with a protocol_version alert.
    for legacy in [0x0301u16, 0x0302] {
        let got = raw_exchange(port, &client_hello(Some(b"a.test"), false, legacy), false).await;
        assert_eq!(got.first(), Some(&0x15), "TLS {legacy:#06x}: an alert: {got:?}");
        assert_eq!(got.get(6), Some(&70), "protocol_version (70): {got:?}");
    }

    // Odd SNI names: very long, non-ASCII, an IP literal, a trailing dot,
    // NUL bytes, empty. Each gets an answer (a ServerHello or an alert),
    // never a hang or a crash.
    let long = "a".repeat(63) + "." + &"b".repeat(63) + "." + &"c".repeat(63) + ".test";
    let huge = vec![b'x'; 60_000];
    for sni in [
        long.as_bytes(),
        &huge[..],
        "bücher.test".as_bytes(),
        b"127.0.0.1",
        b"[::1]",
        b"a.test.",
        b"A.TEST",
        b"a.te\0st",
        b"",
        b"\xff\xfe",
    ] {
        let mut hello = client_hello(Some(sni), true, 0x0303);
        if sni.len() > 16_000 {
            // Beyond one record: split the handshake over records as TLS allows.
            let body = hello.split_off(5);
            hello.clear();
            for chunk in body.chunks(16_000) {
                hello.extend_from_slice(&[0x16, 0x03, 0x01]);
                hello.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
                hello.extend_from_slice(chunk);
            }
        }
        let got = raw_exchange(port, &hello, false).await;
        assert!(
            matches!(got.first(), Some(0x16 | 0x15) | None),
            "SNI {:?}: {got:?}",
            String::from_utf8_lossy(&sni[..sni.len().min(40)])
        );
    }

    // A trailing dot and upper case find the certificate as a real client
    // sends them.
    for sni in ["a.test.", "A.TEST"] {
        let tls = connect(port, sni, &[&a], &[b"http/1.1"]).await;
        assert!(tls.is_ok(), "{sni}: {tls:?}");
    }
    still_serves(port, &a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_stalled_in_the_handshake_are_capped() {
    let origin = Origin::start("o").await;
    let (proxy, port, a) = start(&origin, "max_connections = 20\nheader_read_timeout_s = 10\n").await;
    // 20 connections that never finish their handshake fill the cap...
    let mut stalled = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(&client_hello(Some(b"a.test"), true, 0x0303)[..20])
            .await
            .unwrap();
        stalled.push(s);
    }
    wait_metric(&proxy, "isoproxy_client_connections", &[], 20.0).await;
    // ...so the 21st is closed at once, without a handshake...
    let start = Instant::now();
    loop {
        let got = raw_exchange(port, &client_hello(Some(b"a.test"), true, 0x0303), false).await;
        if got.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never refused: {}",
            proxy.log()
        );
    }
    wait_metric(
        &proxy,
        "isoproxy_client_errors_total",
        &[("kind", "connection_limit")],
        1.0,
    )
    .await;
    // ...and once the stalled ones are cut off at header_read_timeout_s,
    // new clients are served again.
    for s in &mut stalled {
        closed_by_server(s).await;
    }
    still_serves(port, &a).await;
}

// ---- HTTP/2 frames by hand ----

/// HPACK for `GET https://a.test{path}` (no Huffman, no indexing).
fn get_block(path: &str) -> Vec<u8> {
    get_block_for("a.test", path)
}

/// A TLS connection that negotiated h2, with the preface and an empty
/// SETTINGS sent.
async fn h2_raw(port: u16, a: &TestCert) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut tls = connect(port, "a.test", &[a], &[b"h2"]).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    tls.write_all(PREFACE).await.unwrap();
    tls.write_all(&frame(4, 0, 0, &[])).await.unwrap();
    tls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_floods_are_cut_off_and_memory_stays_bounded() {
    let origin = Origin::start("o").await;
    let (proxy, port, a) = start(&origin, "header_read_timeout_s = 5\n").await;
    still_serves(port, &a).await;

    // CONTINUATION flood (CVE-2024-27316): a HEADERS frame without
    // END_HEADERS, then CONTINUATION frames of 16 KiB of headers without end.
    // 256 MiB would be sent; the server must stop it long before.
    let mut tls = h2_raw(port, &a).await;
    let block = get_block("/c");
    let junk: Vec<u8> = {
        let mut h = Vec::new();
        while h.len() < 16_000 {
            h.extend_from_slice(&[0x00, 0x01, b'x', 0x7f, 0x00]); // literal "x": 127-byte value
            h.extend_from_slice(&[b'y'; 127]);
        }
        h
    };
    let flood = std::iter::once(frame(1, END_STREAM, 1, &block))
        .chain(std::iter::repeat_with(|| frame(9, 0, 1, &junk)).take(16 * 1024));
    let (mut rd, mut wr) = tokio::io::split(tls);
    let reader = tokio::spawn(async move { closed_by_server(&mut rd).await });
    let sent = write_until_closed(&mut wr, flood).await;
    let got = reader.await.unwrap();
    assert!(
        sent < 64 << 20,
        "the server read {} MiB of CONTINUATION frames",
        sent >> 20
    );
    eprintln!(
        "CONTINUATION flood: {} KiB sent before the server closed, GOAWAY: {}",
        sent >> 10,
        has_goaway(&got)
    );
    assert!(has_goaway(&got), "no GOAWAY for a CONTINUATION flood");

    // Rapid reset (CVE-2023-44487): streams opened and reset at once, in
    // batches, 20 000 in all.
    tls = h2_raw(port, &a).await;
    let (mut rd, mut wr) = tokio::io::split(tls);
    let reader = tokio::spawn(async move { closed_by_server(&mut rd).await });
    let block = get_block("/reset");
    let resets = rapid_resets(&block, 20_000);
    write_until_closed(&mut wr, resets).await;
    drop(wr);
    let got = reader.await.unwrap();
    assert!(has_goaway(&got), "no GOAWAY after 20 000 reset streams");
    eprintln!("rapid reset: {} bytes back, then GOAWAY and close", got.len());

    // SETTINGS and PING floods from a client that never reads the ACKs.
    for (kind, payload) in [(4u8, Vec::new()), (6u8, vec![0u8; 8])] {
        let mut tls = h2_raw(port, &a).await;
        let f = frame(kind, 0, 0, &payload);
        let flood = std::iter::repeat_n(f, 2_000_000 / (9 + payload.len()) * 10);
        let sent = tokio::time::timeout(Duration::from_secs(10), write_until_closed(&mut tls, flood)).await;
        eprintln!("frame type {kind} flood: {sent:?} (Err: the server stopped reading)");
        drop(tls);
    }

    let peak = proxy.peak_rss_bytes();
    eprintln!("peak RSS after the floods: {} MiB", peak >> 20);
    assert!(peak < 1 << 30, "peak RSS {} MiB", peak >> 20);
    still_serves(port, &a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_flow_control_abuse_is_refused_and_unread_streams_stay_bounded() {
    let origin = Origin::start("o").await;
    let (proxy, port, a) = start(&origin, "").await;

    // WINDOW_UPDATE abuse: an increment of 0, and increments that overflow
    // the 2^31-1 window, on the connection and on a stream. Each connection
    // gets a GOAWAY (or a RST_STREAM) and is not served further.
    for (stream, increments) in [
        (0u32, vec![0u32]),
        (0, vec![0x7fff_ffff, 0x7fff_ffff]),
        (1, vec![0x7fff_ffff, 0x7fff_ffff]),
    ] {
        let mut tls = h2_raw(port, &a).await;
        if stream == 1 {
            tls.write_all(&frame(1, END_HEADERS, 1, &get_block("/slow")))
                .await
                .unwrap();
        }
        for inc in increments {
            tls.write_all(&frame(8, 0, stream, &inc.to_be_bytes())).await.unwrap();
        }
        let got = closed_or_reset(&mut tls).await;
        assert!(
            got,
            "WINDOW_UPDATE abuse on stream {stream} was neither a GOAWAY nor a RST_STREAM"
        );
    }

    // A stream whose client never reads while the origin sends 512 MB: the
    // proxy forwards only what HTTP/2 flow control lets it and stops
    // reading from the origin, instead of buffering the body.
    let mut tls = h2_raw(port, &a).await;
    tls.write_all(&frame(
        1,
        END_STREAM | END_HEADERS,
        1,
        &get_block_for("plain.test", "/bytes/512000000"),
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let peak = proxy.peak_rss_bytes();
    eprintln!("unread 512 MB HTTP/2 stream: proxy peak RSS {} MiB", peak >> 20);
    assert!(peak < 256 << 20, "peak RSS {} MiB with an unread stream", peak >> 20);
    drop(tls);
    still_serves(port, &a).await;
}

/// Reads frames until a GOAWAY or RST_STREAM arrives (true) or the
/// connection ends without one (false); panics after a minute.
async fn closed_or_reset<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> bool {
    let mut got = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        let mut buf = [0u8; 16384];
        loop {
            let mut i = 0;
            while i + 9 <= got.len() {
                let len = u32::from_be_bytes([0, got[i], got[i + 1], got[i + 2]]) as usize;
                if got[i + 3] == 7 || got[i + 3] == 3 {
                    return true;
                }
                i += 9 + len;
            }
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    found.expect("no answer to WINDOW_UPDATE abuse")
}
