//! JavaScript on the proxy thread that serves the connection
//! (`runtime.js_on_proxy_threads`, on by default): a light worker's
//! requests never go through an isolate thread, so one busy isolate thread
//! does not hold them up; a worker allowed more CPU, or one that turns
//! heavy, runs on the isolate threads; everything a request does after its
//! first slice (timers, subrequests, the pass, `waitUntil`, cancellation)
//! works from the proxy thread.
//!
//! No timing assertions: the scenes use waits, the checks are statuses,
//! bodies and log lines. "Not held up" is a 200 from a worker whose
//! `request_timeout_s` (1 s) is far shorter than the spin it would queue
//! behind (4 s), which would be a 504.

mod common;

use std::time::Duration;

use common::{Origin, Proxy, get_host};

/// `/spin?ms=N` spins N ms of wall time synchronously; `/wait` sleeps on a
/// timer, then fetches the origin and answers with what it said.
const SPIN: &str = r#"
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/spin") {
      const end = Date.now() + Number(url.searchParams.get("ms"));
      while (Date.now() < end) {}
      return new Response("spun");
    }
    return new Response("fast");
  },
};
"#;

/// Uses a timer, a subrequest to its route's origin (the pass) and one to
/// another URL, reads the origin's body, and leaves `waitUntil` work that
/// logs once it ran.
const LIGHT: &str = r#"
export default {
  async fetch(request, env, ctx) {
    await new Promise((r) => setTimeout(r, 20));
    const res = await fetch(request);
    const text = await res.text();
    const other = await fetch(`${env.ORIGIN}/other`);
    const otherText = await other.text();
    ctx.waitUntil((async () => {
      await new Promise((r) => setTimeout(r, 20));
      console.log("waitUntil ran on", new URL(request.url).pathname);
    })());
    return new Response(`light ${res.status} ${text.length > 0} ${other.status} ${otherText.length > 0}`);
  },
};
"#;

fn config(on_proxy_threads: bool, origin: &Origin) -> String {
    format!(
        "[runtime]\nisolate_threads = 1\njs_on_proxy_threads = {on_proxy_threads}\negress_allow = [\"local\"]\n\n\
         [[workers]]\nname = \"spin\"\nmain = \"spin.js\"\nlimits = {{ cpu_ms = 30000 }}\n\n\
         [[workers]]\nname = \"light\"\nmain = \"light.js\"\nlimits = {{ request_timeout_s = 1 }}\n\
         vars = {{ ORIGIN = \"{0}\" }}\n\n\
         [[routes]]\npattern = \"spin.test/*\"\nworker = \"spin\"\n\n\
         [[routes]]\npattern = \"light.test/*\"\nworker = \"light\"\norigin = \"{0}\"\n",
        origin.url()
    )
}

async fn start(on_proxy_threads: bool, origin: &Origin) -> Proxy {
    Proxy::builder()
        .script("spin.js", SPIN)
        .script("light.js", LIGHT)
        .config(&config(on_proxy_threads, origin))
        .start()
        .await
}

/// Keeps the only isolate thread busy for 4 s (`spin` is allowed 30 s of
/// CPU, so it runs there), then gives it time to start.
async fn busy_isolate_thread(proxy: &Proxy) -> tokio::task::JoinHandle<u16> {
    let url = proxy.url("/spin?ms=4000");
    let task = tokio::spawn(async move { get_host(&url, "spin.test").await.status().as_u16() });
    tokio::time::sleep(Duration::from_millis(500)).await;
    task
}

#[tokio::test(flavor = "multi_thread")]
async fn a_light_worker_is_not_held_up_by_a_busy_isolate_thread() {
    let origin = Origin::start("o").await;
    let proxy = start(true, &origin).await;
    let spinning = busy_isolate_thread(&proxy).await;
    for i in 0..4 {
        let r = get_host(&proxy.url(&format!("/r{i}")), "light.test").await;
        assert_eq!(r.status(), 200, "{}", proxy.log());
        assert_eq!(r.text().await.unwrap(), "light 200 true 200 true");
    }
    assert_eq!(spinning.await.unwrap(), 200);
    for i in 0..4 {
        proxy
            .wait_for_log(&format!("waitUntil ran on /r{i}"), Duration::from_secs(10))
            .await;
    }
    // The pass went out from the serving task, as on an isolate thread.
    assert!(
        proxy.metric("isoproxy_passthrough_total", &[("path", "in_task")]).await >= 4.0,
        "{}",
        proxy.metrics().await
    );
}

/// Its first request touches much of the runtime for the first time
/// (compiled then) and loads the lazily loaded files: the streams (through
/// `res.body`), Blob/FormData, compression and URLPattern.
const WARMING: &str = r#"
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const req = new Request(url, request);
    req.headers.set("x-edge", "1");
    const res = await fetch(req);
    const out = new Response(res.body, res);
    out.headers.set("x-served-by", "isoproxy");
    const form = new FormData();
    form.append("file", new Blob(["abc"]), "a.txt");
    const zipped = new Response("hello").body.pipeThrough(new CompressionStream("gzip"));
    const bytes = (await new Response(zipped).arrayBuffer()).byteLength;
    const match = new URLPattern({ pathname: "/w/:n" }).test(url);
    out.headers.set("x-extra", `${form.has("file")} ${bytes > 0} ${match}`);
    return out;
  },
};
"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_one_off_costs_of_an_isolates_first_request_do_not_make_a_light_worker_heavy() {
    // The first request of each proxy thread's isolate compiles what it
    // touches and loads several lazily loaded files: that took 14 ms and
    // more of CPU in one slice, and made the worker heavy at random.
    let origin = Origin::start("o").await;
    let proxy = Proxy::builder()
        .script("spin.js", SPIN)
        .script("light.js", LIGHT)
        .script("warming.js", WARMING)
        .config(&format!(
            "{}\n[[workers]]\nname = \"warming\"\nmain = \"warming.js\"\nlimits = {{ request_timeout_s = 1 }}\n\n\
             [[routes]]\npattern = \"warming.test/*\"\nworker = \"warming\"\norigin = \"{}\"\n",
            config(true, &origin),
            origin.url()
        ))
        .start()
        .await;
    // New connections: each proxy thread's isolate gets its first request.
    for i in 0..6 {
        let r = get_host(&proxy.url(&format!("/w/{i}")), "warming.test").await;
        assert_eq!(r.status(), 200, "{}", proxy.log());
        assert_eq!(r.headers()["x-served-by"], "isoproxy");
        assert_eq!(r.headers()["x-extra"], "true true true");
    }
    assert!(
        !proxy.log().contains("worker warming: a slice of its JS used"),
        "{}",
        proxy.log()
    );
    // Still light: it answers on the proxy threads while the only isolate
    // thread is busy (queued behind the spin it would time out: 504).
    let spinning = busy_isolate_thread(&proxy).await;
    for i in 0..4 {
        let r = get_host(&proxy.url(&format!("/w/{i}")), "warming.test").await;
        assert_eq!(r.status(), 200, "{}", proxy.log());
    }
    assert_eq!(spinning.await.unwrap(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_js_on_proxy_threads_off_every_worker_queues_for_the_isolate_threads() {
    // The same scene as above, the key off: `light` waits behind the spin
    // and times out. (This is what the test above would see if its
    // requests went through the isolate thread.)
    let origin = Origin::start("o").await;
    let proxy = start(false, &origin).await;
    let spinning = busy_isolate_thread(&proxy).await;
    let r = get_host(&proxy.url("/queued"), "light.test").await;
    assert_eq!(r.status(), 504, "{}", proxy.log());
    assert_eq!(spinning.await.unwrap(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_light_worker_that_turns_heavy_moves_to_the_isolate_threads() {
    // `hog` is light (default cpu_ms 50) until a slice of it runs past
    // 10 ms of CPU or hits its limit; from then on its requests queue for
    // the isolate thread (a 504 behind the spin, with its 1 s timeout),
    // while `light` keeps answering on the proxy threads.
    let origin = Origin::start("o").await;
    let proxy = Proxy::builder()
        .script("spin.js", SPIN)
        .script("light.js", LIGHT)
        .config(&format!(
            "{}\n[[workers]]\nname = \"hog\"\nmain = \"spin.js\"\nlimits = {{ request_timeout_s = 1 }}\n\n\
             [[routes]]\npattern = \"hog.test/*\"\nworker = \"hog\"\n",
            config(true, &origin)
        ))
        .start()
        .await;
    // Light so far: served on a proxy thread, not behind the spin.
    let spinning = busy_isolate_thread(&proxy).await;
    let r = get_host(&proxy.url("/"), "hog.test").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(spinning.await.unwrap(), 200);
    // 200 ms of spinning: past 10 ms of CPU, or at its 50 ms limit (503).
    let r = get_host(&proxy.url("/spin?ms=200"), "hog.test").await;
    assert!([200, 503].contains(&r.status().as_u16()), "{}", proxy.log());
    proxy
        .wait_for_log("worker hog: a slice of its JS used", Duration::from_secs(10))
        .await;
    let spinning = busy_isolate_thread(&proxy).await;
    let r = get_host(&proxy.url("/"), "hog.test").await;
    assert_eq!(r.status(), 504, "{}", proxy.log());
    let r = get_host(&proxy.url("/x"), "light.test").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(spinning.await.unwrap(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_whose_client_left_is_cancelled_on_the_proxy_thread() {
    let proxy = Proxy::builder()
        .script(
            "slow.js",
            "export default { async fetch() { await new Promise((r) => setTimeout(r, 60000)); return new Response('late'); } };",
        )
        .config("[runtime]\njs_on_proxy_threads = true\n\n[[workers]]\nname = \"slow\"\nmain = \"slow.js\"\n\n[[routes]]\npattern = \"slow.test/*\"\nworker = \"slow\"\n")
        .start()
        .await;
    let request = {
        let url = proxy.url("/");
        tokio::spawn(async move { get_host(&url, "slow.test").await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    request.abort();
    proxy
        .wait_for_log(
            "worker slow: request cancelled before the script responded",
            Duration::from_secs(10),
        )
        .await;
}
