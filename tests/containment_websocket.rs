//! Hostile scripts against worker WebSockets: sends after close, sends
//! over the message limit, a flood to a client that does not read, handlers
//! that spin, WebSockets returned where they do not belong. Each is refused
//! in the script or closes that one socket; the proxy keeps serving. Also:
//! a socket opened before a reload stays on its version until it closes.
#![allow(clippy::result_large_err)]

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const HOSTILE: &str = r#"
let stashed = null;
let stashedServer = null;
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/server-end") {
      const pair = new WebSocketPair();
      return new Response(null, { status: 101, webSocket: pair[1] });
    }
    if (path === "/no-socket") {
      return new Response(null, { status: 101 });
    }
    if (path === "/stash") {
      const pair = new WebSocketPair();
      stashed = pair[0];
      stashedServer = pair[1];
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    if (path === "/cross") {
      const out = [];
      for (const [name, f] of [
        ["accept", () => stashedServer.accept()],
        ["send", () => stashedServer.send("x")],
        ["close", () => stashedServer.close(1000)],
      ]) {
        try { f(); out.push(name + ": ok"); } catch (e) { out.push(name + ": " + e.message.slice(0, 45)); }
      }
      return new Response(out.join("\n"));
    }
    if (path === "/reuse") {
      return new Response(null, { status: 101, webSocket: stashed });
    }
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (event) => {
      const what = event.data;
      if (what === "send-after-close") {
        server.close(1000, "closing");
        try { server.send("late"); console.log("send-after-close: sent"); }
        catch (e) { console.log("send-after-close: " + e.name); }
        try { server.close(1000); console.log("close-twice: ok"); }
        catch (e) { console.log("close-twice: " + e.name); }
        return;
      }
      if (what === "huge") {
        try { server.send("x".repeat(1024 * 1024 + 1)); server.send("huge: sent"); }
        catch (e) { server.send("huge: " + e.name); }
        return;
      }
      if (what === "flood") {
        const chunk = new Uint8Array(1024 * 1024);
        let n = 0;
        try { for (; n < 256; n++) server.send(chunk); console.log("flood: all sent"); }
        catch (e) { console.log("flood: " + e.name + " after " + n); }
        return;
      }
      if (what === "spin") { for (;;) {} }
      server.send("ok " + what);
    });
    return new Response(null, { status: 101, webSocket: client });
  },
};
"#;

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn proxy_with(script: &str) -> Proxy {
    proxy_on_threads(script, 2).await
}

/// `threads` proxy threads: with one, every request of the worker runs in
/// one isolate, so state a request leaves in a global meets the next one.
async fn proxy_on_threads(script: &str, threads: usize) -> Proxy {
    Proxy::builder()
        .proxy_threads(threads)
        .script("w.js", script)
        .config(
            "[[workers]]\nname = \"w\"\nmain = \"w.js\"\ncompatibility_date = \"2025-01-01\"\n\n\
             [[routes]]\npattern = \"ws.test/*\"\nworker = \"w\"\n",
        )
        .start()
        .await
}

async fn open(proxy: &Proxy, path: &str) -> Result<Client, String> {
    let tcp = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    let req = format!("ws://ws.test{path}").into_client_request().unwrap();
    match tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(tcp)).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16().to_string()),
        Err(e) => Err(format!("handshake failed: {e}")),
    }
}

async fn next(ws: &mut Client, proxy: &Proxy, what: &str) -> Message {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Ok(Some(Ok(msg))) => return msg,
            other => panic!("{what}: no message: {other:?}\nproxy log:\n{}", proxy.log()),
        }
    }
}

/// Waits for the socket to end (a close frame, or the connection gone).
async fn ended(ws: &mut Client) -> Option<u16> {
    let end = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                None | Some(Err(_)) => return None,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    end.expect("the socket should have ended")
}

async fn still_serves(proxy: &Proxy) {
    let mut ws = open(proxy, "/").await.expect("a new socket");
    ws.send(Message::text("ping")).await.unwrap();
    assert_eq!(next(&mut ws, proxy, "still serving").await, Message::text("ok ping"));
}

#[tokio::test]
async fn sends_after_close_and_over_the_limit_are_refused_in_the_script() {
    let proxy = proxy_with(HOSTILE).await;
    let mut ws = open(&proxy, "/").await.unwrap();
    ws.send(Message::text("huge")).await.unwrap();
    assert_eq!(next(&mut ws, &proxy, "huge").await, Message::text("huge: RangeError"));
    ws.send(Message::text("send-after-close")).await.unwrap();
    match next(&mut ws, &proxy, "the script's close").await {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1000),
        other => panic!("expected the script's close, got {other:?}"),
    }
    proxy
        .wait_for_log("send-after-close: TypeError", Duration::from_secs(10))
        .await;
    proxy.wait_for_log("close-twice: ok", Duration::from_secs(10)).await;
    still_serves(&proxy).await;
}

#[tokio::test]
async fn a_flood_to_a_client_that_does_not_read_is_bounded() {
    // Reaching the 16 MiB bound copies 16 MiB in one slice: about 10 ms of
    // CPU on a quiet machine, up to the default 50 ms on a busy CI runner.
    // The bound, not the CPU limit (see the spinning handler below), is
    // what this checks, so the worker gets more CPU (and so runs on the
    // isolate threads; the send queue is the same code on either).
    let proxy = Proxy::builder()
        .script("w.js", HOSTILE)
        .config(
            "[[workers]]\nname = \"w\"\nmain = \"w.js\"\ncompatibility_date = \"2025-01-01\"\n\
             limits = { cpu_ms = 1000 }\n\n\
             [[routes]]\npattern = \"ws.test/*\"\nworker = \"w\"\n",
        )
        .start()
        .await;
    let mut ws = open(&proxy, "/").await.unwrap();
    // 256 MiB sent at a client that reads nothing: the script's queue is
    // bounded (16 MiB), so its sends fail well before the end.
    ws.send(Message::text("flood")).await.unwrap();
    let log = proxy.wait_for_log("flood: ", Duration::from_secs(30)).await;
    assert!(log.contains("flood: RangeError after"), "{log}");
    drop(ws);
    still_serves(&proxy).await;
}

#[tokio::test]
async fn a_spinning_handler_ends_its_socket_not_the_proxy() {
    let proxy = proxy_with(HOSTILE).await;
    let mut ws = open(&proxy, "/").await.unwrap();
    ws.send(Message::text("spin")).await.unwrap();
    // The CPU limit stops it; its socket ends (1011, or the connection).
    let code = ended(&mut ws).await;
    assert!(matches!(code, None | Some(1011)), "ended with {code:?}");
    proxy.wait_for_log("CPU time limit", Duration::from_secs(10)).await;
    still_serves(&proxy).await;
}

#[tokio::test]
async fn websockets_returned_where_they_do_not_belong_are_errors() {
    // `/stash` leaves its socket in a global for `/reuse` and `/cross`: one
    // proxy thread, so they all meet the same isolate.
    let proxy = proxy_on_threads(HOSTILE, 1).await;
    // The server end in a Response, a 101 without a WebSocket: the
    // script's exception (500).
    assert_eq!(open(&proxy, "/server-end").await.err().as_deref(), Some("500"));
    assert_eq!(open(&proxy, "/no-socket").await.err().as_deref(), Some("500"));
    // A client end already used in a response, returned again by a later
    // request: refused there.
    let first = open(&proxy, "/stash").await;
    assert!(first.is_ok(), "{:?}", first.err());
    assert_eq!(open(&proxy, "/reuse").await.err().as_deref(), Some("500"));
    // Another request's server end cannot be accepted, sent on or closed.
    let cross = get_host(&proxy.url("/cross"), "ws.test").await.text().await.unwrap();
    assert_eq!(
        cross,
        "accept: Cannot perform I/O on behalf of a different r\n\
         send: You must call one of accept() or state.accept\n\
         close: You must call one of accept() or state.accept"
    );
    // A normal request to a WebSocket-only script path.
    still_serves(&proxy).await;
}

#[tokio::test]
async fn a_socket_stays_on_its_version_across_a_reload() {
    let v1 = HOSTILE.replace("\"ok \" + what", "\"v1 \" + what");
    let proxy = proxy_with(&v1).await;
    let mut old = open(&proxy, "/").await.unwrap();
    old.send(Message::text("a")).await.unwrap();
    assert_eq!(next(&mut old, &proxy, "v1").await, Message::text("v1 a"));
    // A new version of the script, loaded by SIGHUP.
    proxy
        .dir
        .write("w.js", &HOSTILE.replace("\"ok \" + what", "\"v2 \" + what"));
    proxy.hup();
    proxy.wait_for_log("reload ok", Duration::from_secs(20)).await;
    let mut new = None;
    for _ in 0..100 {
        let mut ws = open(&proxy, "/").await.unwrap();
        ws.send(Message::text("b")).await.unwrap();
        if next(&mut ws, &proxy, "after reload").await == Message::text("v2 b") {
            new = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(new.is_some(), "the new version never answered\n{}", proxy.log());
    // The old socket still talks to the old version, across the sweep.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    old.send(Message::text("c")).await.unwrap();
    assert_eq!(
        next(&mut old, &proxy, "old socket after reload").await,
        Message::text("v1 c")
    );
}
