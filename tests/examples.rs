//! Every example in scripts/ runs here, behind the real binary, with the
//! routes of conf/isoproxy.toml (ports and origin replaced by the test's).

mod common;

use common::{Origin, Proxy, client, get_host};
use serde_json::Value;

fn script(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
        .display()
        .to_string()
}

async fn examples(origin: &Origin) -> Proxy {
    examples_on(origin, 2).await
}

/// The examples with `threads` proxy threads (each has its own isolate of
/// a worker: state in a global, like json-api.js's store, is per isolate).
async fn examples_on(origin: &Origin, threads: usize) -> Proxy {
    Proxy::builder()
        .proxy_threads(threads)
        .config(&format!(
            r#"
[[workers]]
name = "hello"
main = "{hello}"

[[workers]]
name = "rewrite"
main = "{rewrite}"
vars = {{ NODE_NAME = "edge-1" }}

[[workers]]
name = "api"
main = "{api}"
vars = {{ SERVICE = "items" }}

[[workers]]
name = "ws-echo"
main = "{ws_echo}"

[[routes]]
pattern = "hello.localhost/*"
worker = "hello"

[[routes]]
pattern = "ws.localhost/*"
worker = "ws-echo"

[[routes]]
pattern = "api.localhost/*"
worker = "api"

[[routes]]
pattern = "static.localhost/*"
origin = "{origin}"

[[routes]]
pattern = "*/*"
worker = "rewrite"
origin = "{origin}"
"#,
            hello = script("hello.js"),
            rewrite = script("rewrite.js"),
            api = script("json-api.js"),
            ws_echo = script("websocket_echo.js"),
            origin = origin.url()
        ))
        .start()
        .await
}

#[test]
fn every_example_script_is_exercised_here() {
    let this = include_str!("examples.rs");
    for entry in std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".js") {
            assert!(
                this.contains(&format!("script(\"{name}\")")),
                "scripts/{name} has no test"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hello_world() {
    let origin = Origin::start("o").await;
    let proxy = examples(&origin).await;
    let r = get_host(&proxy.url("/anything"), "hello.localhost").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain;charset=UTF-8");
    assert_eq!(r.text().await.unwrap(), "Hello from isoproxy!\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn rewrite_middleware() {
    let origin = Origin::start("o").await;
    let proxy = examples(&origin).await;
    let r = client().get(proxy.url("/health")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "ok");
    let r = client().get(proxy.url("/users/1?full=1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-served-by"], "edge-1");
    let echo: Value = r.json().await.unwrap();
    assert_eq!(echo["path"], "/v2/users/1");
    assert_eq!(echo["query"], "full=1");
    assert_eq!(echo["headers"]["x-forwarded-by"], "isoproxy");
    // Already under /v2: not rewritten twice.
    let echo: Value = client()
        .get(proxy.url("/v2/x"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(echo["path"], "/v2/x");
    // The plain route next to it.
    let r = get_host(&proxy.url("/file"), "static.localhost").await;
    assert!(r.headers().get("x-served-by").is_none());
    let echo: Value = r.json().await.unwrap();
    assert_eq!(echo["path"], "/file");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_api() {
    let origin = Origin::start("o").await;
    // The store lives in one isolate: one proxy thread, so every request
    // (whatever its connection) meets the same one.
    let proxy = examples_on(&origin, 1).await;
    let c = client();
    let url = |p: &str| proxy.url(p);
    let send = |req: reqwest::RequestBuilder| async move { req.header("host", "api.localhost").send().await.unwrap() };

    let r = send(c.get(url("/api/items"))).await;
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    assert_eq!(v["service"], "items");

    let r = send(c.post(url("/api/items")).body(r#"{"name":"plum"}"#)).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["location"], "/api/items/3");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"id": 3, "name": "plum"})
    );

    let v: Value = send(c.get(url("/api/items?q=um"))).await.json().await.unwrap();
    assert_eq!(v["items"], serde_json::json!([{"id": 3, "name": "plum"}]));
    assert_eq!(
        send(c.get(url("/api/items/3"))).await.json::<Value>().await.unwrap()["name"],
        "plum"
    );
    assert_eq!(send(c.delete(url("/api/items/3"))).await.status(), 204);
    assert_eq!(send(c.get(url("/api/items/3"))).await.status(), 404);
    assert_eq!(send(c.post(url("/api/items")).body("not json")).await.status(), 400);
    assert_eq!(send(c.post(url("/api/items")).body("{}")).await.status(), 422);
    assert_eq!(send(c.patch(url("/api/items"))).await.status(), 405);
    let r = send(c.get(url("/nope"))).await;
    assert_eq!(r.status(), 404);
    assert!(
        r.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("/nope")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_echo() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    let origin = Origin::start("o").await;
    let proxy = examples(&origin).await;
    // Without an upgrade: how to use it.
    assert_eq!(get_host(&proxy.url("/"), "ws.localhost").await.status(), 426);
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    let req = "ws://ws.localhost/chat".into_client_request().unwrap();
    let (mut ws, resp) = tokio_tungstenite::client_async(req, tcp).await.expect("handshake");
    assert_eq!(resp.status(), 101);
    ws.send(Message::text("hi")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("echo: hi"));
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(vec![1u8, 2, 3]));
    ws.close(Some(CloseFrame {
        code: CloseCode::Away,
        reason: "".into(),
    }))
    .await
    .unwrap();
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Away),
        other => panic!("expected the close echoed, got {other:?}"),
    }
}
