//! Workers KV expiry through the real binary, on both stores at once, with
//! ONE wait shared by every case (about 62 s; the test runs in parallel
//! with the other test binaries): keys put with `expirationTtl` 60 and 61
//! and with an absolute `expiration` 61 s ahead are readable before and
//! gone after (`get`, `getWithMetadata`, `list`); `list()` with `limit` 5
//! still returns full pages when 500 expired keys sit between 10 live
//! ones, and on Redis the expired names leave the namespace's index (swept
//! by puts, without any list). The
//! put rules need no wait: TTL below 60, expirations less than 60 s ahead,
//! NaN, negative and both given.

mod common;

use std::time::Duration;

use common::{Proxy, Redis, TempDir, client};
use serde_json::{Value, json};

const WORKER: &str = r#"
function err(e) { return `${e.name}: ${e.message}`; }
async function attempt(f) {
  try { await f(); return "ok"; } catch (e) { return err(e); }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = (k) => url.searchParams.get(k);
    const KV = env.NS;
    const now = () => Math.floor(Date.now() / 1000);
    switch (url.pathname) {
      case "/setup": {
        // e/ttl60, e/ttl61, e/abs61 expire; e/keep and e/long do not (yet).
        await KV.put("e/ttl60", "sixty", { expirationTtl: 60, metadata: { k: 60 } });
        await KV.put("e/ttl61", "sixty-one", { expirationTtl: 61 });
        await KV.put("e/abs61", "absolute", { expiration: now() + 61, metadata: { k: "abs" } });
        await KV.put("e/keep", "kept", { metadata: { k: "keep" } });
        await KV.put("e/long", "long", { expirationTtl: 3600 });
        // p/000 .. p/509: every 51st lives, the 500 between expire.
        for (let from = 0; from < 510; from += 100) {
          const puts = [];
          for (let i = from; i < Math.min(from + 100, 510); i++) {
            const name = `p/${String(i).padStart(3, "0")}`;
            puts.push(i % 51 === 0 ? KV.put(name, "live") : KV.put(name, "dies", { expirationTtl: 60 }));
          }
          await Promise.all(puts);
        }
        return Response.json("set");
      }
      case "/state": {
        const out = {};
        for (const k of ["e/ttl60", "e/ttl61", "e/abs61", "e/keep", "e/long"]) {
          out[k] = { get: await KV.get(k), meta: await KV.getWithMetadata(k) };
        }
        out.list = await KV.list({ prefix: "e/" });
        out.bulk = [...await KV.get(["e/ttl60", "e/keep", "e/abs61"])];
        return Response.json(out);
      }
      case "/walk": {
        const pages = [];
        let cursor;
        for (;;) {
          const page = await KV.list({ prefix: "p/", limit: Number(q("limit")), cursor });
          pages.push({ names: page.keys.map((k) => k.name), complete: page.list_complete });
          if (page.list_complete) break;
          cursor = page.cursor;
          if (pages.length > 200) break;
        }
        return Response.json(pages);
      }
      case "/rules": {
        const out = {};
        const put = (o) => attempt(() => KV.put("r", "x", o));
        out.ttl59 = await put({ expirationTtl: 59 });
        out.ttl60 = await put({ expirationTtl: 60 });
        out.ttl0 = await put({ expirationTtl: 0 });
        out.ttlNegative = await put({ expirationTtl: -5 });
        out.ttlNaN = await put({ expirationTtl: "soon" });
        out.ttlInfinity = await put({ expirationTtl: Infinity });
        out.ttlString = await put({ expirationTtl: "120" });
        out.ttlFraction = await put({ expirationTtl: 60.9 });
        out.exp59 = await put({ expiration: now() + 59 });
        out.exp61 = await put({ expiration: now() + 61 });
        out.expPast = await put({ expiration: 1000 });
        out.expNegative = await put({ expiration: -1 });
        out.expNaN = await put({ expiration: NaN });
        // Both: the TTL wins, even over an expiration that alone is refused.
        out.bothTtlWins = await put({ expiration: 1000, expirationTtl: 120 });
        out.bothList = (await KV.list({ prefix: "r" })).keys[0].expiration - now();
        out.bothBadTtl = await put({ expiration: now() + 600, expirationTtl: 30 });
        return Response.json(out);
      }
    }
    return new Response("no such test", { status: 404 });
  },
};
"#;

async fn start(storage: &str) -> Proxy {
    Proxy::builder()
        .script("kv.js", WORKER)
        .config(&format!(
            "[storage]\n{storage}\n\n[[workers]]\nname = \"kv\"\nmain = \"kv.js\"\nkv_namespaces = [{{ binding = \"NS\", id = \"exp\" }}]\nlimits = {{ cpu_ms = 5000 }}\n\n[[routes]]\npattern = \"kv.test/*\"\nworker = \"kv\"\n"
        ))
        .start()
        .await
}

async fn json(proxy: &Proxy, path: &str) -> Value {
    let resp = client()
        .get(proxy.url(path))
        .header("host", "kv.test")
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 200, "{path}: {body}\n{}", proxy.log());
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `redis-cli` against the test's server (installed with redis-server).
fn redis_cli(server: &Redis, db: u32, args: &[&str]) -> String {
    let out = std::process::Command::new("redis-cli")
        .args(["-p", &server.port.to_string(), "-n", &db.to_string()])
        .args(args)
        .output()
        .expect("redis-cli is installed with redis-server");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn check_rules(r: &Value) {
    let is = |k: &str, want: &str| assert_eq!(r[k].as_str(), Some(want), "{k}: {r:#}");
    let e = "Error: KV PUT failed: 400";
    is(
        "ttl59",
        &format!("{e} Invalid expiration_ttl of 59. Expiration TTL must be at least 60."),
    );
    is("ttl60", "ok");
    is(
        "ttl0",
        &format!("{e} Invalid expiration_ttl of 0. Please specify integer greater than 0."),
    );
    is(
        "ttlNegative",
        &format!("{e} Invalid expiration_ttl of -5. Please specify integer greater than 0."),
    );
    is(
        "ttlNaN",
        &format!("{e} Invalid expiration_ttl of NaN. Please specify integer greater than 0."),
    );
    is(
        "ttlInfinity",
        &format!("{e} Invalid expiration_ttl of Infinity. Please specify integer greater than 0."),
    );
    is("ttlString", "ok");
    is("ttlFraction", "ok");
    let exp59 = r["exp59"].as_str().unwrap();
    assert!(
        exp59.starts_with(&format!("{e} Invalid expiration of "))
            && exp59.ends_with("Expiration times must be at least 60 seconds in the future."),
        "{exp59}"
    );
    is("exp61", "ok");
    let past = "Please specify integer greater than the current number of seconds since the UNIX epoch.";
    is("expPast", &format!("{e} Invalid expiration of 1000. {past}"));
    is("expNegative", &format!("{e} Invalid expiration of -1. {past}"));
    is("expNaN", &format!("{e} Invalid expiration of NaN. {past}"));
    is("bothTtlWins", "ok");
    let ahead = r["bothList"].as_i64().unwrap();
    assert!((115..=121).contains(&ahead), "the TTL's expiration: {ahead}");
    is(
        "bothBadTtl",
        &format!("{e} Invalid expiration_ttl of 30. Expiration TTL must be at least 60."),
    );
}

fn check_before(s: &Value, put_at: u64) {
    assert_eq!(s["e/ttl60"]["get"], "sixty", "{s:#}");
    assert_eq!(s["e/ttl60"]["meta"]["metadata"], json!({"k": 60}));
    assert_eq!(s["e/ttl61"]["get"], "sixty-one");
    assert_eq!(s["e/abs61"]["meta"]["value"], "absolute");
    assert_eq!(s["e/abs61"]["meta"]["metadata"], json!({"k": "abs"}));
    let names: Vec<&str> = s["list"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["e/abs61", "e/keep", "e/long", "e/ttl60", "e/ttl61"]);
    for k in s["list"]["keys"].as_array().unwrap() {
        let want = match k["name"].as_str().unwrap() {
            "e/ttl60" => Some(60),
            "e/ttl61" | "e/abs61" => Some(61),
            "e/long" => Some(3600),
            _ => None,
        };
        match want {
            None => assert!(k.get("expiration").is_none(), "{k}"),
            Some(ttl) => {
                let exp = k["expiration"].as_u64().unwrap();
                assert!(exp >= put_at + ttl && exp <= now_s() + ttl, "{k} vs {put_at}+{ttl}");
            }
        }
    }
}

fn check_after(s: &Value) {
    for k in ["e/ttl60", "e/ttl61", "e/abs61"] {
        assert_eq!(s[k]["get"], Value::Null, "{k}: {s:#}");
        assert_eq!(s[k]["meta"]["value"], Value::Null, "{k}");
        assert_eq!(s[k]["meta"]["metadata"], Value::Null, "{k}");
    }
    assert_eq!(s["e/keep"]["get"], "kept");
    assert_eq!(s["e/keep"]["meta"]["metadata"], json!({"k": "keep"}));
    assert_eq!(s["e/long"]["get"], "long");
    assert_eq!(
        s["list"],
        json!({"list_complete": true, "keys": [{"name": "e/keep", "metadata": {"k": "keep"}},
               {"name": "e/long", "expiration": s["list"]["keys"][1]["expiration"]}], "cacheStatus": null}),
        "{s:#}"
    );
    assert_eq!(
        s["bulk"],
        json!([["e/ttl60", null], ["e/keep", "kept"], ["e/abs61", null]])
    );
}

/// The 10 live keys among 500 expired ones, in pages of 5.
fn check_walk(pages: &Value) {
    let pages = pages.as_array().unwrap();
    let shape: Vec<(usize, bool)> = pages
        .iter()
        .map(|p| (p["names"].as_array().unwrap().len(), p["complete"].as_bool().unwrap()))
        .collect();
    assert_eq!(shape, [(5, false), (5, true)], "{pages:?}");
    let names: Vec<&str> = pages
        .iter()
        .flat_map(|p| p["names"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()))
        .collect();
    let want: Vec<String> = (0..510).step_by(51).map(|i| format!("p/{i:03}")).collect();
    assert_eq!(names, want);
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_expire_on_both_stores_and_lists_skip_them() {
    let data = TempDir::new("kv-expiry");
    let server = Redis::start();
    let embedded = start(&format!("kv = \"embedded\"\ndata_dir = {:?}", data.path().join("data"))).await;
    let redis = start(&format!("kv = {:?}", server.url(4))).await;
    let stores = [("embedded", &embedded), ("redis", &redis)];

    let put_at = now_s();
    for (_, p) in stores {
        json(p, "/setup").await;
    }
    for (name, p) in stores {
        check_before(&json(p, "/state").await, put_at);
        let first = json(p, "/walk?limit=5").await;
        assert_eq!(first.as_array().unwrap().len(), 102, "{name}: 510 keys in pages of 5");
        check_rules(&json(p, "/rules").await);
    }
    assert_eq!(redis_cli(&server, 4, &["ZCARD", "isoproxy:kv:exp:i"]), "516");

    // The one wait: every expiring key was put at most 61 s before now.
    let wait_from = now_s();
    tokio::time::sleep(Duration::from_secs(62)).await;
    assert!(now_s() >= wait_from + 62);

    // Puts sweep the expired names out of the Redis index, with no list():
    // the rules' five good puts take up to 5 x 128 of the 503.
    check_rules(&json(&redis, "/rules").await);
    assert_eq!(redis_cli(&server, 4, &["ZCARD", "isoproxy:kv:exp:i"]), "13");
    assert_eq!(
        redis_cli(&server, 4, &["ZCARD", "isoproxy:kv:exp:x"]),
        "2",
        "e/long and r expire later"
    );

    for (name, p) in stores {
        let s = json(p, "/state").await;
        check_after(&s);
        let pages = json(p, "/walk?limit=5").await;
        check_walk(&pages);
        // Again: the first walk purged what it passed; the answer is the same.
        assert_eq!(json(p, "/walk?limit=5").await, pages, "{name}");
    }
    // On Redis the expired names left the namespace's index: 10 live p/
    // keys, e/keep, e/long and r (the rules' last good put).
    assert_eq!(redis_cli(&server, 4, &["ZCARD", "isoproxy:kv:exp:i"]), "13");
}
