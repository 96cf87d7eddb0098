//! Workers KV under concurrency, with JS on the proxy threads (the
//! default): 200 requests over 32 keep-alive connections doing put, get,
//! list and delete on overlapping keys, on both stores — every answer
//! right, none lost, the proxy healthy after. And a KV store that stops
//! answering (redis-server paused with SIGSTOP) holds only the requests
//! waiting on it: a hello worker on the same (single) proxy thread keeps
//! answering meanwhile, and the KV calls end with the store's timeout
//! error instead of hanging.

mod common;

use std::time::Duration;

use common::{Proxy, Redis, TempDir};
use serde_json::Value;

const KV_WORKER: &str = r#"
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const KV = env.NS;
    const i = Number(url.searchParams.get("i"));
    if (url.pathname === "/op") {
      const bad = [];
      // A key shared by every tenth request, and one of this request's own.
      const shared = `k${i % 20}`;
      await KV.put(shared, `v${i}`, { metadata: { i } });
      const mine = `u${i}`;
      const payload = `payload-${i}-`.repeat(50);
      await KV.put(mine, payload);
      if ((await KV.get(mine)) !== payload) bad.push("own value");
      const v = await KV.getWithMetadata(shared);
      if (v.value === null || Number(v.value.slice(1)) % 20 !== i % 20) bad.push(`shared ${v.value}`);
      if (v.metadata === null || v.metadata.i % 20 !== i % 20) bad.push("shared metadata");
      const page = await KV.list({ prefix: "k" });
      const names = page.keys.map((k) => k.name);
      if (!page.list_complete || names.length > 20 || names.some((n, j) => j > 0 && names[j - 1] >= n)) {
        bad.push(`list ${names}`);
      }
      await KV.delete(mine);
      if ((await KV.get(mine)) !== null) bad.push("deleted value still there");
      return new Response(bad.length ? bad.join("; ") : "ok");
    }
    if (url.pathname === "/slow") {
      try {
        return new Response(`got ${await KV.get("k1")}`);
      } catch (e) {
        return new Response(`${e.name}: ${e.message}`, { status: 503 });
      }
    }
    if (url.pathname === "/final") {
      const out = {};
      for (const k of (await KV.list()).keys) out[k.name] = await KV.get(k.name);
      return Response.json(out);
    }
    return new Response("no such test", { status: 404 });
  },
};
"#;

const HELLO: &str = r#"export default { fetch() { return new Response("hello"); } };"#;

async fn start(storage: &str, threads: usize) -> Proxy {
    Proxy::builder()
        .script("kv.js", KV_WORKER)
        .script("hello.js", HELLO)
        .proxy_threads(threads)
        .config(&format!(
            "[storage]\n{storage}\n\n[[workers]]\nname = \"kv\"\nmain = \"kv.js\"\nkv_namespaces = [{{ binding = \"NS\", id = \"busy\" }}]\n\n\
             [[workers]]\nname = \"hello\"\nmain = \"hello.js\"\n\n\
             [[routes]]\npattern = \"kv.test/*\"\nworker = \"kv\"\n\n[[routes]]\npattern = \"hello.test/*\"\nworker = \"hello\"\n"
        ))
        .start()
        .await
}

/// A client with one connection (keep-alive), so 32 of them are 32 connections.
fn one_connection() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap()
}

async fn call(c: &reqwest::Client, proxy: &Proxy, host: &str, path: &str) -> (u16, String) {
    let r = c.get(proxy.url(path)).header("host", host).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn many(proxy: &Proxy) {
    const CONNECTIONS: usize = 32;
    const REQUESTS: usize = 200;
    let mut tasks = Vec::new();
    for conn in 0..CONNECTIONS {
        let url = proxy.url("");
        tasks.push(tokio::spawn(async move {
            let c = one_connection();
            let mut answers = Vec::new();
            for i in (conn..REQUESTS).step_by(CONNECTIONS) {
                let r = c
                    .get(format!("{url}/op?i={i}"))
                    .header("host", "kv.test")
                    .send()
                    .await
                    .unwrap();
                answers.push((i, r.status().as_u16(), r.text().await.unwrap()));
            }
            answers
        }));
    }
    let mut seen = Vec::new();
    for t in tasks {
        for (i, status, body) in t.await.unwrap() {
            assert_eq!((status, body.as_str()), (200, "ok"), "request {i}\n{}", proxy.log());
            seen.push(i);
        }
    }
    seen.sort();
    assert_eq!(seen, (0..REQUESTS).collect::<Vec<_>>(), "every request answered once");
    // The shared keys hold one of their writers' values; the own keys are gone.
    let c = one_connection();
    let (s, body) = call(&c, proxy, "kv.test", "/final").await;
    assert_eq!(s, 200, "{body}");
    let last: Value = serde_json::from_str(&body).unwrap();
    let last = last.as_object().unwrap();
    assert_eq!(last.len(), 20, "{last:?}");
    for (k, v) in last {
        let n: usize = k[1..].parse().unwrap();
        let i: usize = v.as_str().unwrap()[1..].parse().unwrap();
        assert_eq!(i % 20, n, "{k} = {v}");
    }
    assert_eq!(call(&c, proxy, "hello.test", "/").await, (200, "hello".into()));
    let health = reqwest::get(proxy.admin_url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_store_serves_many_concurrent_requests() {
    let data = TempDir::new("kv-busy");
    let proxy = start(
        &format!("kv = \"embedded\"\ndata_dir = {:?}", data.path().join("data")),
        2,
    )
    .await;
    many(&proxy).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_store_serves_many_concurrent_requests_and_a_paused_redis_stalls_only_kv() {
    let server = Redis::start();
    let proxy = start(&format!("kv = {:?}", server.url(5)), 2).await;
    many(&proxy).await;
    drop(proxy);

    // One proxy thread: the hello worker and the waiting KV calls share it.
    let proxy = start(&format!("kv = {:?}", server.url(5)), 1).await;
    let c = one_connection();
    assert_eq!(call(&c, &proxy, "kv.test", "/slow").await.0, 200);
    let signal = |sig: &str| {
        let ok = std::process::Command::new("kill")
            .args([sig, &server.pid().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    };
    signal("-STOP");
    let mut slow = Vec::new();
    for _ in 0..4 {
        let url = proxy.url("/slow");
        slow.push(tokio::spawn(async move {
            let r = one_connection()
                .get(url)
                .header("host", "kv.test")
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }));
    }
    // The KV calls are waiting on the store; hello answers all the same.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..20 {
        assert_eq!(
            call(&one_connection(), &proxy, "hello.test", "/").await,
            (200, "hello".into())
        );
    }
    assert!(
        slow.iter().all(|t| !t.is_finished()),
        "the KV calls wait for the paused store (the store's timeout is seconds)"
    );
    // They end with the store's error (not a hang): bounded here only to
    // fail instead of hanging if they never did.
    for t in slow {
        let (status, body) = tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .expect("a KV call on a paused Redis never ended")
            .unwrap();
        assert_eq!(status, 503, "{body}");
        assert!(
            body.starts_with("Error: KV GET failed: 503 storage unavailable"),
            "{body}"
        );
    }
    signal("-CONT");
    // The store answers again once Redis does.
    let mut back = false;
    for _ in 0..100 {
        if call(&c, &proxy, "kv.test", "/slow").await.0 == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "{}", proxy.log());
}
