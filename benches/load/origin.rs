//! The benchmark's origin: a minimal hyper server on 127.0.0.1 answering
//! `/big` with `BIG_BODY` (64 KiB) and anything else with `SMALL_BODY`
//! (64 bytes), both with Content-Length. Every proxy under test is pointed
//! at the same origin, so they move identical bytes and the origin's own
//! cost stays small and constant.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use tokio::net::TcpListener;

/// The origin's small constant answer (64 bytes).
pub const SMALL_BODY: &[u8] = b"isoproxy bench origin: a small constant body of sixty-four bytes\n";

/// The origin's large answer for `/big`: 64 KiB of `i % 251`.
pub static BIG_BODY: LazyLock<Bytes> =
    LazyLock::new(|| Bytes::from((0..64 * 1024).map(|i| (i % 251) as u8).collect::<Vec<u8>>()));

/// Connections the origin accepted so far (shows whether a proxy reuses
/// its upstream connections).
pub static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

pub fn connections() -> u64 {
    CONNECTIONS.load(Ordering::Relaxed)
}

pub async fn start() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            CONNECTIONS.fetch_add(1, Ordering::Relaxed);
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let svc = hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let big = req.uri().path() == "/big";
                    // Drain whatever body the request has (none for GET).
                    let _ = req.into_body().collect().await;
                    let body = if big {
                        BIG_BODY.clone()
                    } else {
                        Bytes::from_static(SMALL_BODY)
                    };
                    Ok::<_, Infallible>(
                        Response::builder()
                            .header("content-type", "text/plain")
                            .body(Full::new(body))
                            .unwrap(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, svc)
                    .await;
            });
        }
    });
    addr
}
