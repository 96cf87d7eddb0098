//! A worker-terminated WebSocket whose `binaryType` is "blob" (the default
//! from compatibility date 2026-03-17) gets binary messages as Blobs, even
//! when nothing in the isolate has loaded Blob yet (Blob and the WebSockets
//! load on first use: 95_lazy.js).

mod common;

use common::ws::*;
use common::*;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

const WORKER: &str = r#"
export default {
  fetch(request) {
    const pair = new WebSocketPair();
    const [client, server] = Object.values(pair);
    server.accept();
    server.addEventListener("message", async (event) => {
      const data = event.data;
      const out = { binaryType: server.binaryType, blob: data instanceof Blob };
      if (out.blob) out.bytes = [...new Uint8Array(await data.arrayBuffer())];
      server.send(JSON.stringify(out));
    });
    return new Response(null, { status: 101, webSocket: client });
  },
};
"#;

#[tokio::test(flavor = "multi_thread")]
async fn binary_messages_arrive_as_blobs_before_anything_loaded_blob() {
    let proxy = Proxy::builder()
        .script("w.js", WORKER)
        .config(
            "[[workers]]\nname = \"w\"\nmain = \"w.js\"\ncompatibility_date = \"2026-06-01\"\n\n\
             [[routes]]\npattern = \"ws.test/*\"\nworker = \"w\"\n",
        )
        .start()
        .await;
    let mut ws = ws_connect(&proxy, "ws://ws.test/").await;
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    let got = match ws_next(&mut ws, &proxy, "the worker's answer").await {
        Message::Text(t) => t.to_string(),
        other => panic!("expected a text answer, got {other:?}"),
    };
    assert_eq!(got, r#"{"binaryType":"blob","blob":true,"bytes":[1,2,3]}"#);
}
