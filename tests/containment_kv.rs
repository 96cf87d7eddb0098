//! Containment: hostile scripts against Workers KV. Huge keys, values and
//! metadata are refused without being copied whole; cyclic metadata and
//! option getters that throw become the script's own exceptions; a script
//! that replaced the built-ins the bootstrap could call (iterators,
//! `Map.prototype.set`, `JSON.parse`, `TextDecoder`) still gets the right
//! answers; streams that lie about their chunks are refused in Rust; a
//! call pending when its request ends never runs the script again. The
//! proxy stays up and serves the next request.

mod common;

use common::{Proxy, TempDir, client};

const HOSTILE: &str = r#"
function err(e) { return e instanceof Error ? `${e.name}: ${e.message}` : `thrown ${String(e)}`; }
async function attempt(f) {
  try { const v = await f(); return `ok ${typeof v === "string" ? v : JSON.stringify(v)}`; }
  catch (e) { return err(e); }
}
export default {
  async fetch(request, env) {
    const KV = env.NS;
    const path = new URL(request.url).pathname;
    const out = {};
    if (path === "/sizes") {
      // 64 MiB of key: refused from its length, never copied whole.
      out.hugeKey = await attempt(() => KV.get("k".repeat(64 * 1024 * 1024)));
      out.hugeString = await attempt(() => KV.put("v", "v".repeat(30 * 1024 * 1024)));
      out.hugeMeta = await attempt(() => KV.put("m", "x", { metadata: { a: "m".repeat(1024 * 1024) } }));
      out.hugePrefix = await attempt(() => KV.list({ prefix: "p".repeat(10000) }));
      out.hugeCursor = await attempt(() => KV.list({ cursor: "c".repeat(10 * 1024 * 1024) }));
      out.bulkHuge = await attempt(() => KV.get(new Array(100000).fill("a")));
      return Response.json(out);
    }
    if (path === "/getters") {
      const cyclic = { a: [] }; cyclic.a.push(cyclic);
      out.cyclic = await attempt(() => KV.put("c", "x", { metadata: cyclic }));
      out.toJSON = await attempt(() => KV.put("c", "x", { metadata: { toJSON() { throw new RangeError("no json"); } } }));
      out.ttlGetter = await attempt(() => KV.put("c", "x", { get expirationTtl() { throw "ttl"; } }));
      out.ttlValueOf = await attempt(() => KV.put("c", "x", { expirationTtl: { valueOf() { return 30; } } }));
      out.keyToString = await attempt(() => KV.get({ toString() { throw new TypeError("no key"); } }));
      out.listGetter = await attempt(() => KV.list({ get prefix() { throw new Error("prefix"); } }));
      out.typeGetter = await attempt(() => KV.get("c", { get type() { throw new Error("type"); } }));
      // A stream whose chunks are not bytes.
      out.badChunk = await attempt(() => KV.put("s", new ReadableStream({ start(c) { c.enqueue("text"); c.close(); } })));
      out.erroring = await attempt(() => KV.put("s", new ReadableStream({ pull(c) { c.error(new Error("stream broke")); } })));
      // A detached buffer is an empty value, not a crash.
      const buf = new ArrayBuffer(8); structuredClone(buf, { transfer: [buf] });
      out.detached = await attempt(async () => { await KV.put("d", buf); return KV.get("d"); });
      out.notMine = await attempt(() => Object.getPrototypeOf(KV).get.call({}, "x"));
      return Response.json(out);
    }
    if (path === "/tamper") {
      await KV.put("t1", "one", { metadata: { n: 1 } });
      await KV.put("t2", "{\"two\":2}");
      // Replace what the bootstrap could have called.
      Array.prototype[Symbol.iterator] = function* () { yield "poisoned"; };
      Map.prototype.set = function () { throw new Error("Map.prototype.set poisoned"); };
      JSON.parse = () => "poisoned";
      TextDecoder.prototype.decode = () => "poisoned";
      Object.defineProperty(Object.prototype, "then", { get() { return undefined; }, configurable: true });
      Object.defineProperty(Array.prototype, "0", { set() { throw new Error("index setter"); }, configurable: true });
      const got = await KV.get("t1");
      const json = await KV.get("t2", "json");
      const meta = await KV.getWithMetadata("t1");
      const list = await KV.list({ prefix: "t" });
      const bulk = await KV.get(["t1", "t2"]);
      delete Object.prototype.then;
      delete Array.prototype[0];
      return new Response([got, json.two, meta.metadata.n, list.keys.length, list.keys[0].name,
                           Map.prototype.get.call(bulk, "t2")].join(","));
    }
    if (path === "/abandon") {
      // Left pending: the request ends first, the continuation never runs.
      KV.put("late", "x").then(() => { globalThis.late = "ran"; });
      return new Response("ok");
    }
    if (path === "/late") return new Response(String(globalThis.late));
    return new Response("?", { status: 404 });
  },
};
"#;

async fn start() -> (Proxy, TempDir) {
    let data = TempDir::new("kv-hostile");
    let proxy = Proxy::builder()
        .script("hostile.js", HOSTILE)
        .config(&format!(
            "[storage]\ndata_dir = {:?}\n\n[[workers]]\nname = \"hostile\"\nmain = \"hostile.js\"\nkv_namespaces = [{{ binding = \"NS\", id = \"hostile\" }}]\nlimits = {{ cpu_ms = 5000, memory_mb = 512 }}\n\n[[routes]]\npattern = \"kv.test/*\"\nworker = \"hostile\"\n",
            data.path()
        ))
        .start()
        .await;
    (proxy, data)
}

async fn get(proxy: &Proxy, path: &str) -> (u16, String) {
    let r = client()
        .get(proxy.url(path))
        .header("host", "kv.test")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn json(proxy: &Proxy, path: &str) -> serde_json::Value {
    let (s, b) = get(proxy, path).await;
    assert_eq!(s, 200, "{path}: {b}\n{}", proxy.log());
    serde_json::from_str(&b).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_sizes_are_refused_without_copies() {
    let (proxy, _data) = start().await;
    let o = json(&proxy, "/sizes").await;
    let has = |k: &str, want: &str| assert!(o[k].as_str().is_some_and(|s| s.contains(want)), "{k}: {}", o[k]);
    has(
        "hugeKey",
        "KV GET failed: 414 UTF-8 encoded length of 67108864 exceeds key length limit of 512.",
    );
    has(
        "hugeString",
        "KV PUT failed: 413 Value length of 31457280 exceeds limit of 26214400.",
    );
    has("hugeMeta", "KV PUT failed: 413 Metadata length of");
    has("hugePrefix", "KV GET failed: 414");
    has("hugeCursor", "KV GET failed: 400 Invalid cursor.");
    has("bulkHuge", "You can request a maximum of 100 keys");
    assert_eq!(get(&proxy, "/late").await, (200, "undefined".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn script_getters_and_broken_streams_are_the_scripts_own_exceptions() {
    let (proxy, _data) = start().await;
    let o = json(&proxy, "/getters").await;
    let is = |k: &str, want: &str| assert_eq!(o[k].as_str(), Some(want), "{k}: {o:#}");
    assert!(
        o["cyclic"]
            .as_str()
            .unwrap()
            .starts_with("TypeError: Converting circular structure to JSON")
    );
    is("toJSON", "RangeError: no json");
    is("ttlGetter", "thrown ttl");
    is(
        "ttlValueOf",
        "Error: KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60.",
    );
    is("keyToString", "TypeError: no key");
    is("listGetter", "Error: prefix");
    is("typeGetter", "Error: type");
    is(
        "badChunk",
        "TypeError: KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.",
    );
    is("erroring", "Error: stream broke");
    is("detached", "ok ");
    is("notMine", "TypeError: Illegal invocation");
    // Still serving.
    assert_eq!(get(&proxy, "/late").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_built_ins_do_not_change_kv_answers() {
    let (proxy, _data) = start().await;
    assert_eq!(get(&proxy, "/tamper").await, (200, "one,2,1,2,t1,{\"two\":2}".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_pending_when_its_request_ends_never_runs_the_script_again() {
    let (proxy, _data) = start().await;
    assert_eq!(get(&proxy, "/abandon").await, (200, "ok".into()));
    // The put's continuation belonged to an ended request.
    for _ in 0..3 {
        assert_eq!(get(&proxy, "/late").await, (200, "undefined".into()));
    }
    assert_eq!(proxy.log().matches("panicked").count(), 0, "{}", proxy.log());
}
