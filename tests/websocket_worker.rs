//! WebSockets on worker routes: a real WebSocket client (tokio-tungstenite)
//! through the real binary. A pass-through worker (`fetch(request)`, or a
//! 101 it builds around `res.webSocket`) gets the origin's 101 and the
//! connections are spliced; a worker that terminates the socket itself
//! (`new WebSocketPair()`) echoes and transforms messages of 1 byte to
//! 1 MiB, sees and sends close codes, refuses a message over 1 MiB with
//! 1009, and closes with 1011 when its handler throws.

mod common;

use std::time::Duration;

use common::ws::*;
use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// A WebSocket echo origin (`common::ws::WsOrigin`: text and binary come
/// back as sent; the text `close CODE REASON` makes it close so). Its URL.
async fn echo_origin() -> (String, WsOrigin) {
    let origin = WsOrigin::start().await;
    (origin.url.clone(), origin)
}

/// The worker-terminated echo server: text and binary come back as sent,
/// `upper TEXT` comes back upper-cased, `close CODE REASON` closes,
/// `throw` throws in the handler, `checks` answers with what the API
/// refused (JSON). A close from the client is answered with its code.
const PAIR_WORKER: &str = r#"
export default {
  fetch(request) {
    if (request.headers.get("Upgrade") !== "websocket") {
      return new Response("expected a WebSocket", { status: 426 });
    }
    const pair = new WebSocketPair();
    const [client, server] = Object.values(pair);
    server.accept();
    server.addEventListener("message", (event) => {
      const data = event.data;
      if (typeof data !== "string") {
        server.send(data);
        return;
      }
      if (data.startsWith("upper ")) return server.send(data.slice(6).toUpperCase());
      if (data.startsWith("close ")) {
        const [, code, reason] = data.split(" ");
        return server.close(Number(code), reason ?? "");
      }
      if (data === "throw") throw new Error("handler failed on purpose");
      if (data === "checks") {
        const out = {};
        const attempt = (name, f) => {
          try { f(); out[name] = "ok"; } catch (e) { out[name] = e.name; }
        };
        attempt("close1005", () => server.close(1005));
        attempt("close999", () => server.close(999));
        attempt("closeLongReason", () => server.close(1000, "x".repeat(124)));
        attempt("reasonWithoutCode", () => server.close(undefined, "r"));
        attempt("acceptTwice", () => server.accept());
        attempt("acceptClient", () => client.accept());
        attempt("constructor", () => new WebSocket("http://x"));
        out.readyState = server.readyState;
        out.pairKeys = Object.keys(pair).join(",");
        out.isWebSocket = client instanceof WebSocket;
        return server.send(JSON.stringify(out));
      }
      server.send(data);
    });
    server.addEventListener("close", (event) => {
      server.close(event.code === 1005 ? 1000 : event.code, "bye");
    });
    return new Response(null, { status: 101, webSocket: client });
  },
};
"#;

/// A pass-through worker: each path shows one way to return the origin's
/// WebSocket, and one way not to.
const PASS_WORKER: &str = r#"
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/plain") return fetch(request);
    if (url.pathname === "/rewritten") {
      url.pathname = "/elsewhere";
      return fetch(new Request(url, request));
    }
    if (url.pathname === "/rebuilt") {
      const res = await fetch(request);
      if (res.status !== 101 || !(res.webSocket instanceof WebSocket) || res.body !== null) {
        return new Response("unexpected 101: " + res.status, { status: 500 });
      }
      return new Response(null, { status: 101, webSocket: res.webSocket, headers: { "x-rebuilt": "yes" } });
    }
    if (url.pathname === "/refused") {
      return new Response("no WebSockets here", { status: 403 });
    }
    if (url.pathname === "/inspect") {
      const res = await fetch(request);
      return new Response(`status ${res.status} webSocket ${res.webSocket !== null} upgrade ${request.headers.get("upgrade")}`);
    }
    return new Response("unknown path", { status: 404 });
  },
};
"#;

async fn proxy_with(origin: Option<&str>, script: &str, server: &str) -> Proxy {
    proxy_on(origin, script, server, "").await
}

/// `runtime`: a `[runtime]` table, or nothing for the harness's.
async fn proxy_on(origin: Option<&str>, script: &str, server: &str, runtime: &str) -> Proxy {
    let origin = origin.map(|o| format!("origin = \"{o}\"\n")).unwrap_or_default();
    Proxy::builder()
        .server(server)
        .config(runtime)
        .script("w.js", script)
        .config(&format!(
            "[[workers]]\nname = \"w\"\nmain = \"w.js\"\ncompatibility_date = \"2025-01-01\"\n\n\
             [[routes]]\npattern = \"ws.test/*\"\nworker = \"w\"\n{origin}"
        ))
        .start()
        .await
}

/// Opens `ws://ws.test{path}` through the proxy; the handshake's response.
async fn open(proxy: &Proxy, path: &str) -> Result<(WsClient, http::Response<Option<Vec<u8>>>), String> {
    ws_open(proxy, &format!("ws://ws.test{path}")).await
}

async fn connect(proxy: &Proxy, path: &str) -> WsClient {
    ws_connect(proxy, &format!("ws://ws.test{path}")).await
}

/// Binary and text messages of 1 byte to 1 MiB come back unchanged.
async fn echo_every_size(ws: &mut WsClient, proxy: &Proxy) {
    for size in [1usize, 125, 126, 65_535, 65_536, 1 << 20] {
        let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        ws.send(Message::binary(bytes.clone())).await.unwrap();
        match ws_next(ws, proxy, &format!("binary echo of {size} bytes")).await {
            Message::Binary(got) => assert!(got[..] == bytes[..], "binary message of {size} bytes changed"),
            other => panic!("expected binary, got {other:?}"),
        }
        let text: String = (0..size).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        ws.send(Message::text(text.clone())).await.unwrap();
        match ws_next(ws, proxy, &format!("text echo of {size} bytes")).await {
            Message::Text(got) => assert!(got.as_str() == text, "text message of {size} bytes changed"),
            other => panic!("expected text, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_pass_through_worker_splices_client_and_origin() {
    let (origin, _task) = echo_origin().await;
    let proxy = proxy_with(Some(&origin), PASS_WORKER, "").await;

    let mut ws = connect(&proxy, "/plain").await;
    echo_every_size(&mut ws, &proxy).await;
    // A close from the client comes back (echoed by the origin) with its code.
    ws.close(Some(CloseFrame {
        code: CloseCode::from(4000),
        reason: "client done".into(),
    }))
    .await
    .unwrap();
    ws_expect_close(&mut ws, &proxy, 4000, None).await;

    // The origin's close codes reach the client.
    for (code, reason) in [(4001u16, "custom"), (1011, "oops")] {
        let mut ws = connect(&proxy, "/rewritten").await;
        ws.send(Message::text(format!("close {code} {reason}"))).await.unwrap();
        ws_expect_close(&mut ws, &proxy, code, Some(reason)).await;
    }

    // A 101 the script builds around `res.webSocket` splices the same way.
    let (mut ws, resp) = open(&proxy, "/rebuilt").await.expect("handshake for /rebuilt");
    assert_eq!(resp.headers().get("x-rebuilt").map(|v| v.as_bytes()), Some(&b"yes"[..]));
    ws.send(Message::text("through a rebuilt 101")).await.unwrap();
    assert_eq!(
        ws_next(&mut ws, &proxy, "echo through /rebuilt").await,
        Message::text("through a rebuilt 101")
    );

    // The requests were passes answered 101.
    let log = proxy.wait_for_log("/plain 101 w passed", Duration::from_secs(10)).await;
    assert!(log.contains("GET ws.test /plain 101 w passed"), "{log}");
}

#[tokio::test]
async fn a_worker_that_answers_an_upgrade_normally_is_heard() {
    let (origin, _task) = echo_origin().await;
    let proxy = proxy_with(Some(&origin), PASS_WORKER, "").await;
    // The client gets the script's answer, not a WebSocket.
    let refused = open(&proxy, "/refused").await.expect_err("a refused upgrade");
    assert!(refused.starts_with("403"), "{refused}");
    // The script saw the origin's 101 with a WebSocket, and the Upgrade
    // header of the client's request; its own answer went to the client.
    let inspected = open(&proxy, "/inspect").await.expect_err("no upgrade for /inspect");
    assert_eq!(inspected, "200 status 101 webSocket true upgrade websocket");
    // The proxy is still fine.
    let mut ws = connect(&proxy, "/plain").await;
    ws.send(Message::text("still here")).await.unwrap();
    assert_eq!(
        ws_next(&mut ws, &proxy, "echo after refusals").await,
        Message::text("still here")
    );
}

#[tokio::test]
async fn a_worker_terminates_websockets_itself() {
    let proxy = proxy_with(None, PAIR_WORKER, "").await;
    let mut ws = connect(&proxy, "/echo").await;
    echo_every_size(&mut ws, &proxy).await;
    ws.send(Message::text("upper shout")).await.unwrap();
    assert_eq!(ws_next(&mut ws, &proxy, "transformed").await, Message::text("SHOUT"));
    // A client close reaches the script's close listener, which answers
    // with the same code.
    ws.close(Some(CloseFrame {
        code: CloseCode::from(4002),
        reason: "client done".into(),
    }))
    .await
    .unwrap();
    ws_expect_close(&mut ws, &proxy, 4002, None).await;

    // The script closes with its own code and reason.
    let mut ws = connect(&proxy, "/echo").await;
    ws.send(Message::text("close 4321 bye-bye")).await.unwrap();
    ws_expect_close(&mut ws, &proxy, 4321, Some("bye-bye")).await;

    // Two clients at once, each with its own socket in the same isolate.
    let mut a = connect(&proxy, "/a").await;
    let mut b = connect(&proxy, "/b").await;
    a.send(Message::text("upper a")).await.unwrap();
    b.send(Message::text("upper b")).await.unwrap();
    assert_eq!(ws_next(&mut b, &proxy, "b").await, Message::text("B"));
    assert_eq!(ws_next(&mut a, &proxy, "a").await, Message::text("A"));
}

#[tokio::test]
async fn the_websocket_api_checks_what_workerd_checks() {
    let proxy = proxy_with(None, PAIR_WORKER, "").await;
    let mut ws = connect(&proxy, "/").await;
    ws.send(Message::text("checks")).await.unwrap();
    let Message::Text(t) = ws_next(&mut ws, &proxy, "checks").await else {
        panic!("expected the checks' JSON");
    };
    let got: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
    assert_eq!(got["close1005"], "InvalidAccessError", "{got}");
    assert_eq!(got["close999"], "InvalidAccessError", "{got}");
    assert_eq!(got["closeLongReason"], "SyntaxError", "{got}");
    assert_eq!(got["reasonWithoutCode"], "InvalidAccessError", "{got}");
    assert_eq!(got["acceptTwice"], "ok", "{got}");
    assert_eq!(got["acceptClient"], "TypeError", "{got}");
    assert_eq!(got["constructor"], "SyntaxError", "{got}");
    assert_eq!(got["readyState"], 1, "{got}");
    assert_eq!(got["pairKeys"], "0,1", "{got}");
    assert_eq!(got["isWebSocket"], true, "{got}");
    // A non-upgrade request to the same worker gets its normal answer.
    let resp = get_host(&proxy.url("/"), "ws.test").await;
    assert_eq!(resp.status(), 426);
}

#[tokio::test]
async fn a_message_over_one_mib_is_refused_with_1009() {
    let proxy = proxy_with(None, PAIR_WORKER, "").await;
    let mut ws = connect(&proxy, "/").await;
    ws.send(Message::binary(vec![7u8; (1 << 20) + 1])).await.unwrap();
    ws_expect_close(&mut ws, &proxy, 1009, None).await;
    // One in several frames too (the limit is on the message).
    let mut ws = connect(&proxy, "/").await;
    let half = vec![b'x'; 600 * 1024];
    let frame = |fin: bool, opcode: u8| {
        use tokio_tungstenite::tungstenite::protocol::frame::{Frame, coding};
        let mut f = Frame::message(
            half.clone(),
            if opcode == 1 {
                coding::OpCode::Data(coding::Data::Text)
            } else {
                coding::OpCode::Data(coding::Data::Continue)
            },
            fin,
        );
        f.header_mut().is_final = fin;
        Message::Frame(f)
    };
    ws.send(frame(false, 1)).await.unwrap();
    let _ = ws.send(frame(true, 0)).await;
    ws_expect_close(&mut ws, &proxy, 1009, None).await;
    // The worker still serves.
    let mut ws = connect(&proxy, "/").await;
    ws.send(Message::text("upper ok")).await.unwrap();
    assert_eq!(ws_next(&mut ws, &proxy, "after 1009").await, Message::text("OK"));
}

#[tokio::test]
async fn a_handler_that_throws_closes_with_1011() {
    let proxy = proxy_with(None, PAIR_WORKER, "").await;
    let mut ws = connect(&proxy, "/").await;
    ws.send(Message::text("throw")).await.unwrap();
    ws_expect_close(&mut ws, &proxy, 1011, None).await;
    proxy
        .wait_for_log("handler failed on purpose", Duration::from_secs(10))
        .await;
    // Nothing else is hurt: a new socket and a plain request work.
    let mut ws = connect(&proxy, "/").await;
    ws.send(Message::text("upper fine")).await.unwrap();
    assert_eq!(ws_next(&mut ws, &proxy, "after the throw").await, Message::text("FINE"));
    assert_eq!(get_host(&proxy.url("/"), "ws.test").await.status(), 426);
}

#[tokio::test]
async fn websocket_idle_timeout_closes_a_silent_worker_socket() {
    let proxy = proxy_with(None, PAIR_WORKER, "websocket_idle_timeout_s = 2").await;
    let mut ws = connect(&proxy, "/").await;
    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(ws_next(&mut ws, &proxy, "hello").await, Message::text("hello"));
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
        "a silent worker WebSocket stayed open past websocket_idle_timeout_s"
    );
}

/// With light workers' JS on the proxy threads, both kinds of WebSocket
/// work the same (the socket's task and the isolate share a thread).
#[tokio::test]
async fn websockets_work_with_js_on_proxy_threads() {
    let runtime = "[runtime]\nisolate_threads = 1\njs_on_proxy_threads = true\n";
    let (origin, _task) = echo_origin().await;
    let proxy = proxy_on(Some(&origin), PASS_WORKER, "", runtime).await;
    let mut ws = connect(&proxy, "/rebuilt").await;
    ws.send(Message::text("passed")).await.unwrap();
    assert_eq!(
        ws_next(&mut ws, &proxy, "pass on a proxy thread").await,
        Message::text("passed")
    );
    drop(proxy);

    let proxy = proxy_on(None, PAIR_WORKER, "", runtime).await;
    let mut ws = connect(&proxy, "/").await;
    echo_every_size(&mut ws, &proxy).await;
    ws.send(Message::text("throw")).await.unwrap();
    ws_expect_close(&mut ws, &proxy, 1011, None).await;
    let mut ws = connect(&proxy, "/").await;
    ws.send(Message::text("upper again")).await.unwrap();
    assert_eq!(
        ws_next(&mut ws, &proxy, "after the throw").await,
        Message::text("AGAIN")
    );
}
