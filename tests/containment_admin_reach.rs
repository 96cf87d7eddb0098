//! The admin listener is never reachable through the proxy listeners,
//! whatever a client writes: a Host, an X-Forwarded-Host, an absolute-form
//! request target or a CONNECT naming the admin address (in several
//! spellings), over HTTP/1.1 and (`:authority`) HTTP/2, to a plain route
//! and to a worker that passes the request on with `fetch(request)`.

mod common;
mod tls_support;

use common::{Origin, Proxy};
use tls_support::{cert, connect, start_tls};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PASS: &str = "export default { fetch(request) { return fetch(request); } };";

/// What only the admin listener answers (its metrics and workers pages).
fn is_admin(body: &str) -> bool {
    body.contains("isoproxy_requests_total") || body.contains("\"reloads\"") || body.contains("# TYPE isoproxy_")
}

async fn raw(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_is_unreachable_through_the_proxy() {
    let origin = Origin::start("o").await;
    let a = cert(&["pass.test", "plain.test"]);
    let builder = Proxy::builder().script("pass.js", PASS).config(&format!(
        "[[workers]]\nname = \"pass\"\nmain = \"pass.js\"\n\n\
         [[routes]]\npattern = \"pass.test/*\"\nworker = \"pass\"\norigin = \"{0}\"\n\n\
         [[routes]]\npattern = \"*/*\"\norigin = \"{0}\"\n",
        origin.url()
    ));
    let (proxy, tls_port) = start_tls(builder, &[&a]).await;
    let admin = proxy.admin_port;
    let hosts = [
        format!("127.0.0.1:{admin}"),
        format!("localhost:{admin}"),
        format!("[::1]:{admin}"),
        format!("127.1:{admin}"),
        format!("2130706433:{admin}"),
        format!("0.0.0.0:{admin}"),
        format!("[::ffff:127.0.0.1]:{admin}"),
        format!("LOCALHOST.:{admin}"),
    ];
    let mut answers = Vec::new();
    for host in &hosts {
        for path in ["/metrics", "/workers"] {
            // Host, absolute form, X-Forwarded-Host to a plain and a worker route.
            answers.push(
                raw(
                    proxy.port,
                    &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
                )
                .await,
            );
            answers.push(
                raw(
                    proxy.port,
                    &format!("GET http://{host}{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
                )
                .await,
            );
            for route in ["plain.test", "pass.test"] {
                answers.push(
                    raw(
                        proxy.port,
                        &format!(
                            "GET {path} HTTP/1.1\r\nHost: {route}\r\nX-Forwarded-Host: {host}\r\nForwarded: host={host}\r\nConnection: close\r\n\r\n"
                        ),
                    )
                    .await,
                );
                answers.push(
                    raw(
                        proxy.port,
                        &format!("GET http://{host}{path} HTTP/1.1\r\nHost: {route}\r\nConnection: close\r\n\r\n"),
                    )
                    .await,
                );
            }
        }
        answers.push(
            raw(
                proxy.port,
                &format!("CONNECT {host} HTTP/1.1\r\nHost: {host}\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            )
            .await,
        );
    }
    for (i, answer) in answers.iter().enumerate() {
        assert!(!is_admin(answer), "answer {i} came from the admin listener:\n{answer}");
        assert!(answer.starts_with("HTTP/1.1 "), "answer {i}: {answer:?}");
    }
    let mut statuses: Vec<&str> = answers.iter().map(|a| a.get(9..12).unwrap_or("")).collect();
    statuses.sort();
    statuses.dedup();
    eprintln!("statuses seen: {statuses:?}");
    // Every request that got through went to the route origin, never to the admin.
    assert!(!origin.seen().is_empty());

    // HTTP/2 with an :authority naming the admin listener.
    let tls = connect(tls_port, "plain.test", &[&a], &[b"h2"]).await.unwrap();
    let (mut h2c, conn) = h2::client::handshake(tls).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    for host in &hosts {
        for path in ["/metrics", "/workers"] {
            let req = http::Request::builder()
                .uri(format!("https://{host}{path}"))
                .body(())
                .unwrap();
            h2c = h2c.ready().await.unwrap();
            let (resp, _) = h2c.send_request(req, true).unwrap();
            let Ok(resp) = resp.await else { continue };
            let mut body = resp.into_body();
            let mut bytes = Vec::new();
            while let Some(Ok(chunk)) = body.data().await {
                let _ = body.flow_control().release_capacity(chunk.len());
                bytes.extend_from_slice(&chunk);
            }
            let text = String::from_utf8_lossy(&bytes);
            assert!(!is_admin(&text), "h2 {host}{path} reached the admin listener: {text}");
        }
    }

    // The admin listener itself still answers on its own port.
    let r = common::client().get(proxy.admin_url("/metrics")).send().await.unwrap();
    assert!(is_admin(&r.text().await.unwrap()));
}
