//! The Cache API end to end: a worker that answers from `caches.default`
//! on a hit and fetches the origin (then puts) on a miss. The store is
//! shared by the process's isolate threads, so a response cached by one
//! isolate is a hit in another.

mod common;

use std::collections::HashSet;

use common::{Origin, Proxy, get_host};

const WORKER: &str = r#"
let isolate;
export default {
  async fetch(request, env) {
    isolate ??= crypto.randomUUID();
    const url = new URL(request.url);
    const hold = Number(url.searchParams.get("hold") || 0);
    if (hold) await scheduler.wait(hold);
    const key = new Request(url.origin + url.pathname);
    let res = await caches.default.match(key);
    if (res) {
      res = new Response(res.body, res);
      res.headers.set("x-isolate", isolate);
      return res;
    }
    const upstream = await fetch(env.ORIGIN + url.pathname);
    res = new Response(upstream.body, upstream);
    res.headers.set("cache-control", "max-age=60");
    res.headers.delete("set-cookie");
    await caches.default.put(key, res.clone());
    res.headers.set("cf-cache-status", "MISS");
    res.headers.set("x-isolate", isolate);
    return res;
  },
};
"#;

async fn start(origin: &Origin) -> Proxy {
    Proxy::builder()
        .isolate_threads(2)
        .script("cache.js", WORKER)
        .config(&format!(
            "[[workers]]\nname = \"cache\"\nmain = \"cache.js\"\nvars = {{ ORIGIN = \"{}\" }}\negress_allow = [\"local\"]\n\n[[routes]]\npattern = \"cache.test/*\"\nworker = \"cache\"\n",
            origin.url()
        ))
        .start()
        .await
}

fn origin_hits(origin: &Origin, path: &str) -> usize {
    origin.seen().iter().filter(|s| s.ends_with(path)).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn second_request_is_served_from_cache() {
    let origin = Origin::start("cached").await;
    let proxy = start(&origin).await;

    let first = get_host(&proxy.url("/item/1"), "cache.test").await;
    assert_eq!(first.status(), 200, "{}", proxy.log());
    assert_eq!(first.headers()["cf-cache-status"], "MISS");
    let first_body = first.text().await.unwrap();
    assert_eq!(origin_hits(&origin, "/item/1"), 1);

    let second = get_host(&proxy.url("/item/1"), "cache.test").await;
    assert_eq!(second.status(), 200);
    assert_eq!(second.headers()["cf-cache-status"], "HIT");
    assert_eq!(
        second.headers()["x-origin"],
        "cached",
        "the origin's headers were stored"
    );
    assert!(second.headers().contains_key("age"));
    assert_eq!(second.text().await.unwrap(), first_body);
    assert_eq!(origin_hits(&origin, "/item/1"), 1, "the hit did not reach the origin");

    // Another URL is another entry.
    let other = get_host(&proxy.url("/item/2"), "cache.test").await;
    assert_eq!(other.headers()["cf-cache-status"], "MISS");
    assert_eq!(origin_hits(&origin, "/item/2"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn isolates_on_different_threads_share_the_cache() {
    let origin = Origin::start("shared").await;
    let proxy = start(&origin).await;
    let first = get_host(&proxy.url("/shared"), "cache.test").await;
    assert_eq!(first.headers()["cf-cache-status"], "MISS", "{}", proxy.log());

    // Enough concurrent slow requests that the runtime spreads the worker
    // to the second thread; every one must be a hit.
    let mut isolates = HashSet::new();
    let url = proxy.url("/shared?hold=300");
    for _ in 0..3 {
        let requests = (0..12).map(|_| get_host(&url, "cache.test"));
        for r in futures_util::future::join_all(requests).await {
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["cf-cache-status"], "HIT");
            isolates.insert(r.headers()["x-isolate"].to_str().unwrap().to_string());
        }
        if isolates.len() > 1 {
            break;
        }
    }
    assert!(
        isolates.len() > 1,
        "requests were served by {} isolate(s)",
        isolates.len()
    );
    assert_eq!(
        origin_hits(&origin, "/shared"),
        1,
        "only the first request reached the origin"
    );
}
