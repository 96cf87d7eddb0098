//! Outbound WebSockets from a worker, as on Workers: `fetch()` with
//! `Upgrade: websocket` answers the origin's 101 with `res.webSocket`, which
//! the script `accept()`s and speaks on itself; `new WebSocket(url,
//! protocols)` does the same with an `open` event, `binaryType`, `protocol`.
//! A real WebSocket client, the real binary and a real WebSocket origin:
//! a worker bridges a WebSocketPair client to an origin socket, transforming
//! messages both ways, for 1 byte to 1 MiB and close codes either way.

mod common;

use common::ws::*;
use common::*;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Bridges a client (a WebSocketPair) to the origin: `/bridge-fetch` gets
/// the origin's socket with `fetch()` (the route's own origin: the request's
/// pass), `/bridge-new` with `new WebSocket()` (by address: a subrequest).
/// Text from the client reaches the origin as `c:TEXT` (`close ...` as is),
/// text from the origin reaches the client as `o:TEXT`; binary crosses as
/// is; a close either way is passed on with its code and reason.
const BRIDGE_WORKER: &str = r#"
export default {
  async fetch(request, env) {
    if (request.headers.get("Upgrade") !== "websocket") {
      return new Response("expected a WebSocket", { status: 426 });
    }
    const url = new URL(request.url);
    let upstream;
    if (url.pathname === "/bridge-fetch") {
      const res = await fetch(url.origin + "/upstream", { headers: { Upgrade: "websocket" } });
      if (res.status !== 101 || !(res.webSocket instanceof WebSocket)) {
        return new Response("no 101 from the origin: " + res.status, { status: 502 });
      }
      upstream = res.webSocket;
      upstream.accept();
    } else {
      upstream = new WebSocket(env.ORIGIN_WS + "/upstream");
      await new Promise((resolve, reject) => {
        upstream.addEventListener("open", resolve);
        upstream.addEventListener("error", (e) => reject(new Error("origin socket: " + e.message)));
      });
      upstream.binaryType = "arraybuffer";
    }
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (e) => {
      if (typeof e.data !== "string") return upstream.send(e.data);
      upstream.send(e.data.startsWith("close ") ? e.data : "c:" + e.data);
    });
    upstream.addEventListener("message", (e) => {
      server.send(typeof e.data === "string" ? "o:" + e.data : e.data);
    });
    server.addEventListener("close", (e) => upstream.close(e.code === 1005 ? 1000 : e.code, e.reason));
    upstream.addEventListener("close", (e) => server.close(e.code === 1005 ? 1000 : e.code, e.reason));
    return new Response(null, { status: 101, webSocket: client });
  },
};
"#;

/// An HTTP request that talks to `?to=` over a WebSocket of its own and
/// answers with what it saw (JSON).
const TALK_WORKER: &str = r##"
export default {
  async fetch(request) {
    const target = new URL(request.url).searchParams.get("to");
    const attempt = (f) => { try { f(); return "ok"; } catch (e) { return e.name; } };
    const out = {
      badScheme: attempt(() => new WebSocket("http://example.com/")),
      fragment: attempt(() => new WebSocket(target + "#x")),
      repeatedProtocols: attempt(() => new WebSocket(target, ["a", "a"])),
      badProtocol: attempt(() => new WebSocket(target, "a b")),
    };
    const ws = new WebSocket(target, ["chat", "superchat"]);
    out.url = ws.url;
    out.states = [ws.readyState];
    out.protocolBefore = ws.protocol;
    out.binaryType = ws.binaryType;
    ws.binaryType = "bogus";
    out.binaryTypeAfterBogus = ws.binaryType;
    out.sendEarly = attempt(() => ws.send("too early"));
    out.acceptEarly = attempt(() => ws.accept());
    const events = [];
    await new Promise((resolve) => {
      ws.addEventListener("open", () => {
        events.push("open");
        out.states.push(ws.readyState);
        out.protocol = ws.protocol;
        out.extensions = ws.extensions;
        ws.send("hello");
        ws.send(new Uint8Array([1, 2, 3]));
      });
      ws.addEventListener("message", (e) => {
        if (typeof e.data === "string") {
          events.push("text:" + e.data);
        } else if (e.data instanceof Blob) {
          events.push("blob:" + e.data.size);
          ws.binaryType = "arraybuffer";
          ws.send(new Uint8Array([4, 5]).buffer);
        } else {
          events.push("arraybuffer:" + (e.data instanceof ArrayBuffer) + ":" + e.data.byteLength);
          ws.close(4321, "done");
          out.states.push(ws.readyState);
        }
      });
      ws.addEventListener("error", (e) => { events.push("error:" + e.message); });
      ws.addEventListener("close", (e) => {
        events.push(`close:${e.code}:${e.reason}:${e.wasClean}`);
        resolve();
      });
    });
    out.states.push(ws.readyState);
    out.events = events;
    return Response.json(out);
  },
};
"##;

async fn proxy_for(origin: &WsOrigin, script: &str, date: &str) -> Proxy {
    Proxy::builder()
        .script("w.js", script)
        .config(&format!(
            "[[workers]]\nname = \"w\"\nmain = \"w.js\"\ncompatibility_date = \"{date}\"\n\
             vars = {{ ORIGIN_WS = \"ws://{addr}\" }}\n\n\
             [[routes]]\npattern = \"ws.test/*\"\nworker = \"w\"\norigin = \"{url}\"\n",
            addr = origin.addr,
            url = origin.url,
        ))
        .start()
        .await
}

/// Sizes from 1 byte to 1 MiB cross the bridge both ways unchanged.
async fn binary_every_size(ws: &mut WsClient, proxy: &Proxy) {
    for size in [1usize, 125, 126, 65_535, 65_536, 1 << 20] {
        let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        ws.send(Message::binary(bytes.clone())).await.unwrap();
        match ws_next(ws, proxy, &format!("binary of {size} bytes")).await {
            Message::Binary(got) => assert!(got[..] == bytes[..], "binary message of {size} bytes changed"),
            other => panic!("expected binary, got {other:?}"),
        }
    }
    // Text near the limit: the bridge adds 4 bytes ("c:" and "o:").
    let text: String = (0..(1 << 20) - 4).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    ws.send(Message::text(text.clone())).await.unwrap();
    match ws_next(ws, proxy, "text of 1 MiB").await {
        Message::Text(got) => assert!(got.as_str() == format!("o:c:{text}"), "1 MiB text changed"),
        other => panic!("expected text, got {other:?}"),
    }
}

#[tokio::test]
async fn a_worker_bridges_a_client_to_an_origin_socket_it_accepted() {
    let origin = WsOrigin::start().await;
    let proxy = proxy_for(&origin, BRIDGE_WORKER, "2025-01-01").await;
    for path in ["/bridge-fetch", "/bridge-new"] {
        let mut ws = ws_connect(&proxy, &format!("ws://ws.test{path}")).await;
        ws_round_trip(&mut ws, &proxy, "hi", "o:c:hi").await;
        ws_round_trip(&mut ws, &proxy, "", "o:c:").await;
        binary_every_size(&mut ws, &proxy).await;
        // The origin closes with a code: the worker passes it on.
        ws.send(Message::text("close 4001 origin-bye")).await.unwrap();
        ws_expect_close(&mut ws, &proxy, 4001, Some("origin-bye")).await;

        // The client closes with a code: it reaches the origin, whose echo
        // of it comes back through the worker.
        let mut ws = ws_connect(&proxy, &format!("ws://ws.test{path}")).await;
        ws_round_trip(&mut ws, &proxy, "again", "o:c:again").await;
        ws.close(Some(CloseFrame {
            code: CloseCode::from(4002),
            reason: "client-bye".into(),
        }))
        .await
        .unwrap();
        ws_expect_close(&mut ws, &proxy, 4002, None).await;
    }
    // The origin saw both handshakes as WebSocket upgrades the proxy made:
    // a fresh key each time, version 13, and the worker's path.
    let seen = origin.seen();
    assert_eq!(seen.len(), 4, "{seen:?}");
    for headers in &seen {
        let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(get("sec-websocket-version").as_deref(), Some("13"), "{headers:?}");
        assert!(get("sec-websocket-key").is_some_and(|k| k.len() == 24), "{headers:?}");
        assert!(
            get("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket")),
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn new_websocket_opens_sends_receives_and_closes() {
    let origin = WsOrigin::start().await;
    // At 2026-11-01 binary messages arrive as Blobs unless asked otherwise.
    let proxy = proxy_for(&origin, TALK_WORKER, "2026-11-01").await;
    let target = format!("ws://{}/talk?x=1", origin.addr);
    let r = client()
        .get(proxy.url(&format!("/?to={target}")))
        .header("host", "ws.test")
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "{text}\nproxy log:\n{}", proxy.log());
    let got: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(got["badScheme"], "SyntaxError", "{got}");
    assert_eq!(got["fragment"], "SyntaxError", "{got}");
    assert_eq!(got["repeatedProtocols"], "SyntaxError", "{got}");
    assert_eq!(got["badProtocol"], "SyntaxError", "{got}");
    assert_eq!(got["url"], target.as_str(), "{got}");
    assert_eq!(got["protocolBefore"], "", "{got}");
    assert_eq!(got["binaryType"], "blob", "{got}");
    assert_eq!(got["binaryTypeAfterBogus"], "blob", "{got}");
    assert_eq!(got["sendEarly"], "TypeError", "{got}");
    assert_eq!(got["acceptEarly"], "TypeError", "{got}");
    // CONNECTING, OPEN, CLOSING after close(), CLOSED at the end.
    assert_eq!(got["states"], serde_json::json!([0, 1, 2, 3]), "{got}");
    assert_eq!(got["protocol"], "chat", "{got}");
    assert_eq!(got["extensions"], serde_json::Value::Null, "{got}");
    assert_eq!(
        got["events"],
        serde_json::json!([
            "open",
            "text:hello",
            "blob:3",
            "arraybuffer:true:2",
            "close:4321:done:true"
        ]),
        "{got}"
    );
    // The origin saw the protocols offered, and no extension (none is built in).
    let seen = origin.seen();
    let headers = seen.last().unwrap();
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(get("sec-websocket-protocol").as_deref(), Some("chat, superchat"));
    assert_eq!(get("sec-websocket-extensions"), None);
}
