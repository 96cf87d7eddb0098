//! WebSockets through a plain route: a real WebSocket client
//! (tokio-tungstenite) through the real binary to a real WebSocket origin.
//! The upgrade passes through, the 101 connection is spliced both ways,
//! frames of any size cross unchanged, close codes arrive, an idle socket
//! outlives the request-body idle timeout, and
//! `websocket_idle_timeout_s` closes one that stays silent. (These check
//! behaviour, not timing: the bounds are generous.)
mod common;

use std::time::Duration;

use common::ws::*;
use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// A WebSocket echo origin (`common::ws::WsOrigin`): its URL, the
/// handshakes it saw, and the origin itself (stopped on drop).
async fn ws_origin() -> (String, Seen, WsOrigin) {
    let origin = WsOrigin::start().await;
    (origin.url.clone(), origin.seen_handle(), origin)
}

async fn proxy_to(origin: &str, server: &str) -> Proxy {
    Proxy::builder()
        .server(server)
        .config(&format!("[[routes]]\npattern = \"ws.test/*\"\norigin = \"{origin}\"\n"))
        .start()
        .await
}

/// Opens a WebSocket to `ws://ws.test/PATH` through the proxy, and checks
/// the tunnel with a ping (the origin's pong must come back).
async fn connect(proxy: &Proxy, path: &str) -> WsClient {
    let mut ws = ws_connect(proxy, &format!("ws://ws.test{path}")).await;
    ws.send(Message::Ping(b"probe".to_vec().into())).await.unwrap();
    match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
        Ok(Some(Ok(Message::Pong(p)))) if p[..] == b"probe"[..] => ws,
        other => panic!(
            "expected the pong through the tunnel, got {other:?}\nproxy log:\n{}",
            proxy.log()
        ),
    }
}

/// Every tunnel stays open after its 101. Pingora 0.9.1 closed about one
/// in three (the upgrade request's own end of body, handled after the
/// origin's 101, ended the tunnel: cloudflare/pingora#946); the patched
/// copy in vendor/pingora-proxy keeps it open. Many tunnels in a row, each
/// made to carry a message both ways.
#[tokio::test]
async fn every_tunnel_stays_open_after_its_101() {
    let (origin, _seen, _task) = ws_origin().await;
    let proxy = proxy_to(&origin, "").await;
    for i in 0..60 {
        let mut ws = connect(&proxy, &format!("/n{i}")).await;
        ws.send(Message::Text(format!("m{i}").into())).await.unwrap();
        match ws_next(&mut ws, &proxy, "echo after the 101").await {
            Message::Text(t) => assert_eq!(t.as_str(), format!("m{i}")),
            other => panic!("tunnel {i}: expected the echo, got {other:?}"),
        }
        ws.close(None).await.unwrap();
    }
}

#[tokio::test]
async fn echo_frames_of_every_size_through_a_plain_route() {
    let (origin, seen, _task) = ws_origin().await;
    let proxy = proxy_to(&origin, "").await;
    let mut ws = connect(&proxy, "/chat?room=1").await;

    // The handshake reached the origin as a WebSocket upgrade, with the
    // forwarding headers.
    {
        let seen = seen.lock().unwrap();
        let h = &seen[0];
        let get = |name: &str| h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(
            get("upgrade").map(str::to_ascii_lowercase).as_deref(),
            Some("websocket")
        );
        assert_eq!(get("x-forwarded-for"), Some("127.0.0.1"));
        assert_eq!(get("x-forwarded-host"), Some("ws.test"));
        assert!(get("sec-websocket-key").is_some());
    }

    for size in [1usize, 125, 126, 65_535, 65_536, 1 << 20] {
        let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        ws.send(Message::binary(bytes.clone())).await.unwrap();
        match ws_next(&mut ws, &proxy, &format!("binary echo of {size} bytes")).await {
            Message::Binary(got) => assert!(got[..] == bytes[..], "binary frame of {size} bytes changed"),
            other => panic!("expected binary, got {other:?}"),
        }
        let text: String = (0..size).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        ws.send(Message::text(text.clone())).await.unwrap();
        match ws_next(&mut ws, &proxy, &format!("text echo of {size} bytes")).await {
            Message::Text(got) => assert_eq!(got.as_str(), text, "text frame of {size} bytes changed"),
            other => panic!("expected text, got {other:?}"),
        }
    }
    // Many small frames in flight at once keep their order.
    for i in 0..200 {
        ws.feed(Message::text(format!("m{i}"))).await.unwrap();
    }
    ws.flush().await.unwrap();
    for i in 0..200 {
        assert_eq!(
            ws_next(&mut ws, &proxy, &format!("small frame {i}")).await,
            Message::text(format!("m{i}"))
        );
    }

    // A close from the client comes back with its code.
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "done".into(),
    }))
    .await
    .unwrap();
    match ws_next(&mut ws, &proxy, "the echoed close").await {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Normal),
        other => panic!("expected the close echoed, got {other:?}"),
    }
}

#[tokio::test]
async fn origin_close_codes_reach_the_client() {
    let (origin, _seen, _task) = ws_origin().await;
    let proxy = proxy_to(&origin, "").await;
    for (code, reason) in [(4001u16, "custom"), (1008, "policy"), (1011, "oops")] {
        let mut ws = connect(&proxy, "/").await;
        ws.send(Message::text(format!("close {code} {reason}"))).await.unwrap();
        match ws_next(&mut ws, &proxy, &format!("close {code}")).await {
            Message::Close(Some(frame)) => {
                assert_eq!(u16::from(frame.code), code);
                assert_eq!(frame.reason.as_str(), reason);
            }
            other => panic!("expected close {code}, got {other:?}"),
        }
    }
    // The upgraded connections were counted as proxied requests with 101.
    let log = proxy.wait_for_log(" 101 - proxied ", Duration::from_secs(10)).await;
    assert!(log.contains("GET ws.test / 101 - proxied"), "{log}");
}

#[tokio::test]
async fn an_idle_socket_outlives_the_body_idle_timeout() {
    let (origin, _seen, _task) = ws_origin().await;
    // The request-body idle timeout is 1 s; an upgraded connection has
    // websocket_idle_timeout_s (default 600) instead.
    let proxy = proxy_to(&origin, "body_idle_timeout_s = 1").await;
    let mut ws = connect(&proxy, "/").await;
    ws.send(Message::text("before")).await.unwrap();
    assert_eq!(ws_next(&mut ws, &proxy, "before").await, Message::text("before"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    ws.send(Message::text("after")).await.unwrap();
    assert_eq!(ws_next(&mut ws, &proxy, "after idling").await, Message::text("after"));
}

#[tokio::test]
async fn websocket_idle_timeout_closes_a_silent_socket() {
    let (origin, _seen, _task) = ws_origin().await;
    let proxy = proxy_to(&origin, "websocket_idle_timeout_s = 2").await;
    let mut ws = connect(&proxy, "/").await;
    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(ws_next(&mut ws, &proxy, "hello").await, Message::text("hello"));
    // Nothing in either direction: the proxy closes the tunnel.
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "a silent WebSocket stayed open past websocket_idle_timeout_s"
    );
}
