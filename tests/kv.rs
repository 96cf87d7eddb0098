//! Workers KV end to end: the real binary, a worker with a KV binding, both
//! backends (the embedded redb file and a real `redis-server`). The API's
//! types, metadata, expiration rules, list pagination over 2,500 keys,
//! limits and errors; the embedded store across a restart and a `kill -9`;
//! three instances sharing one Redis; Redis going away and coming back.

mod common;

use std::time::{Duration, Instant};

use common::{Proxy, Redis, TempDir, client};

const WORKER: &str = r#"
const enc = new TextEncoder();
function err(e) { return `${e.name}: ${e.message}`; }
async function attempt(f) {
  try { const v = await f(); return `ok ${typeof v === "string" ? v : JSON.stringify(v)}`; }
  catch (e) { return err(e); }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = (k) => url.searchParams.get(k);
    const KV = env.FLAGS;
    switch (url.pathname) {
      case "/put": {
        const body = new Uint8Array(await request.arrayBuffer());
        const opts = {};
        if (q("ttl")) opts.expirationTtl = Number(q("ttl"));
        if (q("meta")) opts.metadata = JSON.parse(q("meta"));
        let value;
        switch (q("as") || "string") {
          case "string": value = new TextDecoder().decode(body); break;
          case "buffer": value = body.buffer; break;
          case "view": value = new DataView(body.buffer); break;
          case "stream": {
            const chunks = [body.subarray(0, body.length >> 1), body.subarray(body.length >> 1)];
            value = new ReadableStream({ pull(c) { const n = chunks.shift(); n ? c.enqueue(n) : c.close(); } });
            break;
          }
        }
        await KV.put(q("key"), value, opts);
        return new Response("stored");
      }
      case "/get": {
        const type = q("type") || "text";
        const v = await KV.get(q("key"), type === "text" ? undefined : { type });
        if (v === null) return new Response("null", { status: 404 });
        if (type === "json") return Response.json(v);
        if (type === "arrayBuffer") return new Response(v, { headers: { "x-kind": v.constructor.name } });
        if (type === "stream") return new Response(v, { headers: { "x-kind": v.constructor.name } });
        return new Response(v);
      }
      case "/meta":
        return Response.json(await KV.getWithMetadata(q("key")));
      case "/bulk": {
        const m = await (q("meta") ? KV.getWithMetadata(q("keys").split(","), q("type") || "text")
                                   : KV.get(q("keys").split(","), q("type") || "text"));
        return Response.json({ map: m instanceof Map, entries: [...m] });
      }
      case "/delete":
        await KV.delete(q("key"));
        return new Response("deleted");
      case "/list": {
        const opts = {};
        if (q("prefix")) opts.prefix = q("prefix");
        if (q("limit")) opts.limit = Number(q("limit"));
        if (q("cursor")) opts.cursor = q("cursor");
        return Response.json(await KV.list(opts));
      }
      case "/fill": {
        const n = Number(q("n"));
        const from = Number(q("from") || 0);
        const puts = [];
        for (let i = from; i < from + n; i++) puts.push(KV.put(`k${String(i).padStart(5, "0")}`, String(i)));
        await Promise.all(puts);
        return new Response("filled");
      }
      case "/walk": {
        const names = [];
        let cursor;
        let pages = 0;
        for (;;) {
          const page = await KV.list({ prefix: "k", cursor, limit: Number(q("limit")) });
          pages++;
          for (const k of page.keys) names.push(k.name);
          if (page.list_complete) break;
          cursor = page.cursor;
        }
        return Response.json({ pages, count: names.length, first: names[0], last: names[names.length - 1],
                               sorted: names.every((n, i) => i === 0 || names[i - 1] < n) });
      }
      case "/errors": {
        const out = {};
        out.empty = await attempt(() => KV.get(""));
        out.dot = await attempt(() => KV.put(".", "x"));
        out.dotdot = await attempt(() => KV.delete(".."));
        out.longKey = await attempt(() => KV.get("k".repeat(513)));
        out.okKey = await attempt(() => KV.get("k".repeat(512)));
        out.bigValue = await attempt(() => KV.put("big", new Uint8Array(25 * 1024 * 1024 + 1)));
        out.bigStream = await attempt(() => KV.put("big", new ReadableStream({
          n: 0, pull(c) { this.n++ < 27 ? c.enqueue(new Uint8Array(1024 * 1024)) : c.close(); } })));
        out.bigMeta = await attempt(() => KV.put("m", "x", { metadata: "m".repeat(1100) }));
        out.ttl = await attempt(() => KV.put("t", "x", { expirationTtl: 30 }));
        out.past = await attempt(() => KV.put("t", "x", { expiration: 1000 }));
        out.soon = await attempt(() => KV.put("t", "x", { expiration: Math.floor(Date.now() / 1000) + 5 }));
        out.limit = await attempt(() => KV.list({ limit: 1001 }));
        out.cursor = await attempt(() => KV.list({ cursor: "zz" }));
        out.type = await attempt(() => KV.get("a", "blob"));
        out.value = await attempt(() => KV.put("v", { an: "object" }));
        out.bulk = await attempt(() => KV.get(Array.from({ length: 101 }, (_, i) => `b${i}`)));
        out.bulkStream = await attempt(() => KV.get(["a"], "stream"));
        const cyclic = {}; cyclic.self = cyclic;
        out.cyclic = await attempt(() => KV.put("c", "x", { metadata: cyclic }));
        out.getter = await attempt(() => KV.put("c", "x", { get metadata() { throw new Error("boom"); } }));
        out.stored = await attempt(() => KV.get("big"));
        return Response.json(out);
      }
      case "/many": {
        // Past the per-request limit of 1,000 KV operations.
        const n = Number(q("n"));
        let ok = 0, last = "";
        for (let i = 0; i < n; i++) {
          try { await KV.get("x"); ok++; } catch (e) { last = err(e); }
        }
        return Response.json({ ok, last });
      }
      case "/later": {
        // A KV call left pending when the request ends: its continuation
        // never runs. A closure over the binding stays usable by later requests.
        globalThis.after = "unset";
        KV.get("x").then(() => { globalThis.after = "ran"; });
        globalThis.leak = () => KV.get("x");
        return new Response("set");
      }
      case "/leaked":
        return new Response(`${globalThis.after} ${await attempt(() => globalThis.leak())}`);
    }
    return new Response("no such test", { status: 404 });
  },
};
"#;

/// A proxy whose worker binds `env.FLAGS` to namespace "flags" of `storage`.
async fn start(storage: &str) -> Proxy {
    Proxy::builder()
        .script("kv.js", WORKER)
        .config(&format!(
            "[storage]\n{storage}\n\n[[workers]]\nname = \"kv\"\nmain = \"kv.js\"\nkv_namespaces = [{{ binding = \"FLAGS\", id = \"flags\" }}]\nlimits = {{ cpu_ms = 5000 }}\n\n[[routes]]\npattern = \"kv.test/*\"\nworker = \"kv\"\n"
        ))
        .start()
        .await
}

fn embedded(dir: &TempDir) -> String {
    format!("kv = \"embedded\"\ndata_dir = {:?}", dir.path().join("data"))
}

fn redis(r: &Redis, db: u32) -> String {
    format!("kv = {:?}", r.url(db))
}

async fn send(proxy: &Proxy, method: &str, path: &str, body: Vec<u8>) -> (u16, Vec<u8>, reqwest::header::HeaderMap) {
    let resp = client()
        .request(method.parse().unwrap(), proxy.url(path))
        .header("host", "kv.test")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, resp.bytes().await.unwrap().to_vec(), headers)
}

async fn get(proxy: &Proxy, path: &str) -> (u16, String) {
    let (s, b, _) = send(proxy, "GET", path, Vec::new()).await;
    (s, String::from_utf8_lossy(&b).into_owned())
}

async fn json(proxy: &Proxy, path: &str) -> serde_json::Value {
    let (s, b) = get(proxy, path).await;
    assert_eq!(s, 200, "{path}: {b}\n{}", proxy.log());
    serde_json::from_str(&b).unwrap_or_else(|e| panic!("{path}: {e}: {b}"))
}

async fn put(proxy: &Proxy, query: &str, body: &[u8]) {
    let (s, b, _) = send(proxy, "POST", &format!("/put?{query}"), body.to_vec()).await;
    assert_eq!(s, 200, "put {query}: {}\n{}", String::from_utf8_lossy(&b), proxy.log());
}

/// Every value type in and out, metadata, bulk gets, delete.
async fn round_trip(proxy: &Proxy) {
    let binary: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
    for how in ["buffer", "view", "stream"] {
        put(proxy, &format!("key=bin-{how}&as={how}"), &binary).await;
        let (s, b, h) = send(
            proxy,
            "GET",
            &format!("/get?key=bin-{how}&type=arrayBuffer"),
            Vec::new(),
        )
        .await;
        assert_eq!((s, h["x-kind"].to_str().unwrap()), (200, "ArrayBuffer"));
        assert!(b == binary, "{how}: the bytes came back changed");
        let (s, b, h) = send(proxy, "GET", &format!("/get?key=bin-{how}&type=stream"), Vec::new()).await;
        assert_eq!((s, h["x-kind"].to_str().unwrap()), (200, "ReadableStream"));
        assert!(b == binary, "{how} as a stream");
    }
    put(proxy, "key=text", "héllo wörld".as_bytes()).await;
    assert_eq!(get(proxy, "/get?key=text").await, (200, "héllo wörld".into()));
    put(proxy, "key=doc", br#"{"a":[1,2],"b":"c"}"#).await;
    assert_eq!(
        json(proxy, "/get?key=doc&type=json").await,
        serde_json::json!({"a": [1, 2], "b": "c"})
    );
    assert_eq!(get(proxy, "/get?key=missing").await, (404, "null".into()));
    // Metadata, and its absence.
    put(proxy, "key=tagged&meta=%7B%22v%22%3A2%7D&ttl=3600", b"with meta").await;
    let m = json(proxy, "/meta?key=tagged").await;
    assert_eq!(m["value"], "with meta");
    assert_eq!(m["metadata"], serde_json::json!({"v": 2}));
    assert_eq!(m["cacheStatus"], serde_json::Value::Null);
    let m = json(proxy, "/meta?key=text").await;
    assert_eq!(m["metadata"], serde_json::Value::Null);
    let m = json(proxy, "/meta?key=missing").await;
    assert_eq!(
        (m["value"].clone(), m["metadata"].clone()),
        (serde_json::Value::Null, serde_json::Value::Null)
    );
    // Bulk: a Map in the keys' order, null for missing keys.
    let b = json(proxy, "/bulk?keys=text,missing,tagged").await;
    assert_eq!(b["map"], true);
    assert_eq!(
        b["entries"],
        serde_json::json!([["text", "héllo wörld"], ["missing", null], ["tagged", "with meta"]])
    );
    let b = json(proxy, "/bulk?keys=doc&meta=1&type=json").await;
    assert_eq!(b["entries"][0][1]["value"], serde_json::json!({"a": [1, 2], "b": "c"}));
    let b = json(proxy, "/bulk?keys=tagged,missing&meta=1").await;
    assert_eq!(
        b["entries"][0][1],
        serde_json::json!({"value": "with meta", "metadata": {"v": 2}})
    );
    assert_eq!(b["entries"][1][1], serde_json::Value::Null);
    // The TTL shows in list() as an absolute expiration, with the metadata.
    let l = json(proxy, "/list?prefix=tag").await;
    assert_eq!(l["list_complete"], true);
    assert_eq!(l["keys"].as_array().unwrap().len(), 1);
    let exp = l["keys"][0]["expiration"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(exp > now + 3000 && exp <= now + 3601, "{exp} vs {now}");
    assert_eq!(l["keys"][0]["metadata"], serde_json::json!({"v": 2}));
    assert!(l.get("cursor").is_none());
    let l = json(proxy, "/list?prefix=tex").await;
    assert_eq!(l["keys"], serde_json::json!([{"name": "text"}]));
    // Delete.
    assert_eq!(get(proxy, "/delete?key=text").await, (200, "deleted".into()));
    assert_eq!(get(proxy, "/get?key=text").await.0, 404);
}

/// 2,500 keys listed in pages: every key once, in order.
async fn pagination(proxy: &Proxy) {
    for from in (0..2500).step_by(500) {
        let (s, b) = get(proxy, &format!("/fill?n=500&from={from}")).await;
        assert_eq!(s, 200, "{b}");
    }
    let w = json(proxy, "/walk?limit=1000").await;
    assert_eq!(w["count"], 2500);
    assert_eq!(w["pages"], 3);
    assert_eq!(
        (w["first"].as_str(), w["last"].as_str()),
        (Some("k00000"), Some("k02499"))
    );
    assert_eq!(w["sorted"], true);
    let w = json(proxy, "/walk?limit=333").await;
    assert_eq!((w["count"].as_u64(), w["pages"].as_u64()), (Some(2500), Some(8)));
    let page = json(proxy, "/list?prefix=k&limit=10").await;
    assert_eq!(page["list_complete"], false);
    assert_eq!(page["keys"][9]["name"], "k00009");
    let next = json(
        proxy,
        &format!("/list?prefix=k&limit=2&cursor={}", page["cursor"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        next["keys"],
        serde_json::json!([{"name": "k00010"}, {"name": "k00011"}])
    );
}

async fn errors(proxy: &Proxy) {
    let e = json(proxy, "/errors").await;
    let is = |k: &str, want: &str| assert_eq!(e[k].as_str(), Some(want), "{k}: {e:#}");
    let starts = |k: &str, want: &str| {
        assert!(
            e[k].as_str().is_some_and(|s| s.starts_with(want)),
            "{k}: {} (want {want})",
            e[k]
        )
    };
    is("empty", "TypeError: Key name cannot be empty.");
    is("dot", "TypeError: \".\" is not allowed as a key name.");
    is("dotdot", "TypeError: \"..\" is not allowed as a key name.");
    is(
        "longKey",
        "Error: KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.",
    );
    is("okKey", "ok null");
    is(
        "bigValue",
        "Error: KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400.",
    );
    starts("bigStream", "Error: KV PUT failed: 413 Value length of at least");
    is(
        "bigMeta",
        "Error: KV PUT failed: 413 Metadata length of 1102 exceeds limit of 1024.",
    );
    is(
        "ttl",
        "Error: KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60.",
    );
    starts(
        "past",
        "Error: KV PUT failed: 400 Invalid expiration of 1000. Please specify integer greater than the current number of seconds since the UNIX epoch.",
    );
    starts("soon", "Error: KV PUT failed: 400 Invalid expiration of ");
    assert!(
        e["soon"]
            .as_str()
            .unwrap()
            .ends_with("Expiration times must be at least 60 seconds in the future.")
    );
    is(
        "limit",
        "Error: KV GET failed: 400 Invalid key_count_limit of 1001. Please specify an integer less than 1000.",
    );
    is("cursor", "Error: KV GET failed: 400 Invalid cursor.");
    is(
        "type",
        "TypeError: Unknown response type. Possible types are \"text\", \"arrayBuffer\", \"json\", and \"stream\".",
    );
    is(
        "value",
        "TypeError: KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.",
    );
    is(
        "bulk",
        "Error: KV GET_BULK failed: 400 You can request a maximum of 100 keys",
    );
    starts("bulkStream", "Error: KV GET_BULK failed: 400");
    starts("cyclic", "TypeError: Converting circular structure to JSON");
    is("getter", "Error: boom");
    is("stored", "ok null");
    // The request's limit of 1,000 KV operations.
    let m = json(proxy, "/many?n=1003").await;
    assert_eq!(m["ok"], 1000);
    assert_eq!(m["last"], "Error: Too many KV operations in one request: at most 1000.");
    // A KV call pending when its request ended never settles into its JS;
    // the binding itself works from any later request, as on Workers.
    assert_eq!(get(proxy, "/later").await.0, 200);
    assert_eq!(get(proxy, "/leaked").await, (200, "unset ok null".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_store_serves_the_workers_kv_api() {
    let data = TempDir::new("kv-data");
    let proxy = start(&embedded(&data)).await;
    round_trip(&proxy).await;
    errors(&proxy).await;
    pagination(&proxy).await;
    assert!(data.path().join("data/kv.redb").is_file());
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_store_serves_the_workers_kv_api() {
    let server = Redis::start();
    let proxy = start(&redis(&server, 1)).await;
    round_trip(&proxy).await;
    errors(&proxy).await;
    pagination(&proxy).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_store_survives_a_restart_and_kill_9_after_an_acknowledged_put() {
    let data = TempDir::new("kv-data");
    let storage = embedded(&data);
    let proxy = start(&storage).await;
    put(&proxy, "key=saved&meta=%5B1%5D", b"before restart").await;
    drop(proxy); // SIGKILL
    let proxy = start(&storage).await;
    assert_eq!(get(&proxy, "/get?key=saved").await, (200, "before restart".into()));
    assert_eq!(
        json(&proxy, "/meta?key=saved").await["metadata"],
        serde_json::json!([1])
    );
    // Many acknowledged puts, then kill -9 at once: all of them are there.
    let (s, _) = get(&proxy, "/fill?n=200&from=0").await;
    assert_eq!(s, 200);
    put(&proxy, "key=last", b"acknowledged").await;
    let pid = proxy.pid();
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    drop(proxy);
    let proxy = start(&storage).await;
    assert_eq!(get(&proxy, "/get?key=last").await, (200, "acknowledged".into()));
    assert_eq!(get(&proxy, "/get?key=k00199").await, (200, "199".into()));
    assert_eq!(json(&proxy, "/walk?limit=1000").await["count"], 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn three_instances_share_one_redis() {
    let server = Redis::start();
    let storage = redis(&server, 2);
    let a = start(&storage).await;
    let b = start(&storage).await;
    let c = start(&storage).await;
    put(&a, "key=shared&meta=%7B%22by%22%3A%22a%22%7D", b"written through A").await;
    for p in [&b, &c] {
        assert_eq!(get(p, "/get?key=shared").await, (200, "written through A".into()));
        assert_eq!(json(p, "/meta?key=shared").await["metadata"]["by"], "a");
    }
    // A delete through C is seen by A and B; list agrees everywhere.
    put(&b, "key=shared2", b"from B").await;
    assert_eq!(get(&c, "/delete?key=shared").await.0, 200);
    for p in [&a, &b, &c] {
        assert_eq!(get(p, "/get?key=shared").await.0, 404);
        assert_eq!(
            json(p, "/list?prefix=shared").await["keys"],
            serde_json::json!([{"name": "shared2"}])
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_going_away_gives_errors_then_recovers() {
    let server = Redis::start();
    let port = server.port;
    let proxy = start(&redis(&server, 0)).await;
    put(&proxy, "key=before", b"1").await;
    drop(server);
    // Errors the script can catch; the proxy stays up.
    let (s, b, _) = send(&proxy, "POST", "/put?key=during", b"2".to_vec()).await;
    assert_eq!(s, 500, "{}", String::from_utf8_lossy(&b));
    let (s, _) = get(&proxy, "/get?key=before").await;
    assert_eq!(s, 500);
    // The server comes back on the same port (empty: no persistence).
    let _back = Redis::start_on(port);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, _, _) = send(&proxy, "POST", "/put?key=after", b"3".to_vec()).await;
        if s == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery; log:\n{}", proxy.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(get(&proxy, "/get?key=after").await, (200, "3".into()));
    assert!(
        proxy.log().contains("KV PUT failed: 503 storage unavailable"),
        "{}",
        proxy.log()
    );
}
