//! Workers KV values put as streams, through the real binary on both
//! stores: a 25 MiB `ReadableStream` goes to the store piece by piece (the
//! proxy's peak RSS, once a smaller stream put has warmed the path, grows by
//! under 20 MiB, against 1-11 MiB measured: a generous bound, not a
//! measurement), reads back whole through `get(key,
//! "stream")`; a stream that errors half-way, a client that goes away
//! mid-upload, a script stopped by its CPU limit mid-stream, and a stream
//! over 25 MiB all leave the old value in place (no partial value is ever
//! seen) and, on Redis, no staged pieces behind.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Proxy, Redis, TempDir, client};

const WORKER: &str = r#"
// Byte o of a generated value is o % 251. The source refills one 64 KiB
// buffer (pulled only when read: highWaterMark 0, and KV copies each chunk
// before it reads the next), so JS garbage does not blur the memory the
// put itself takes.
function generated(total, failAt, spinAt) {
  let off = 0;
  const buf = new Uint8Array(64 * 1024);
  return new ReadableStream({
    pull(c) {
      if (off >= total) return c.close();
      if (failAt !== null && off >= failAt) return c.error(new Error("the source broke"));
      if (spinAt !== null && off >= spinAt) for (;;) {}
      const n = Math.min(buf.length, total - off);
      for (let j = 0; j < n; j++) buf[j] = (off + j) % 251;
      off += n;
      c.enqueue(n === buf.length ? buf : buf.subarray(0, n));
    },
  }, { highWaterMark: 0 });
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = (k) => url.searchParams.get(k);
    const num = (k) => (q(k) === null ? null : Number(q(k)));
    const KV = env.NS;
    try {
      switch (url.pathname) {
        case "/put-text":
          await KV.put(q("key"), q("value"));
          return new Response("stored");
        case "/put-stream":
          await KV.put(q("key"), generated(num("total"), num("fail"), num("spin")), { metadata: { s: 1 } });
          return new Response("stored");
        case "/put-body":
          await KV.put(q("key"), request.body);
          return new Response("stored");
        case "/get-text":
          return new Response(String(await KV.get(q("key"))));
        case "/get-stream": {
          const got = await KV.getWithMetadata(q("key"), "stream");
          if (got.value === null) return new Response("null", { status: 404 });
          return new Response(got.value, { headers: { "x-meta": JSON.stringify(got.metadata) } });
        }
        case "/get-length":
          return new Response(String((await KV.get(q("key"), "arrayBuffer")).byteLength));
      }
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
    return new Response("no such test", { status: 404 });
  },
};
"#;

const MIB: u64 = 1024 * 1024;

async fn start(storage: &str) -> Proxy {
    Proxy::builder()
        .script("kv.js", WORKER)
        .config(&format!(
            "[storage]\n{storage}\n\n[[workers]]\nname = \"kv\"\nmain = \"kv.js\"\nkv_namespaces = [{{ binding = \"NS\", id = \"big\" }}]\nlimits = {{ cpu_ms = 3000 }}\n\n[[routes]]\npattern = \"kv.test/*\"\nworker = \"kv\"\n"
        ))
        .start()
        .await
}

async fn get(proxy: &Proxy, path: &str) -> (u16, Vec<u8>) {
    let r = client()
        .get(proxy.url(path))
        .header("host", "kv.test")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
}

async fn text(proxy: &Proxy, path: &str) -> (u16, String) {
    let (s, b) = get(proxy, path).await;
    (s, String::from_utf8_lossy(&b).into_owned())
}

fn is_generated(bytes: &[u8]) -> bool {
    bytes.iter().enumerate().all(|(o, b)| *b as usize == o % 251)
}

/// Sends a PUT whose body announces `announced` bytes but stops after
/// `sent`, then goes away.
fn upload_and_vanish(proxy: &Proxy, path: &str, announced: u64, sent: u64) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
    write!(
        s,
        "PUT {path} HTTP/1.1\r\nhost: kv.test\r\ncontent-length: {announced}\r\n\r\n"
    )
    .unwrap();
    let chunk = vec![7u8; 64 * 1024];
    let mut left = sent;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        if s.write_all(&chunk[..n]).is_err() {
            break;
        }
        left -= n as u64;
    }
    let _ = s.flush();
    std::thread::sleep(Duration::from_millis(200));
    drop(s);
}

async fn streams(proxy: &Proxy) -> u64 {
    // Warm: the worker's isolates exist, a small value round-trips, and a
    // stream put of a few pieces has run once (the streams' code loads on
    // first use, and the first run of a path touches its machine code for
    // the first time: several MiB of resident pages that are no buffer).
    assert_eq!(text(proxy, "/put-text?key=small&value=x").await, (200, "stored".into()));
    assert_eq!(text(proxy, "/get-text?key=small").await, (200, "x".into()));
    let warm = 3 * MIB + 5;
    assert_eq!(
        text(proxy, &format!("/put-stream?key=warm&total={warm}")).await,
        (200, "stored".into())
    );
    assert_eq!(text(proxy, "/get-length?key=warm").await, (200, warm.to_string()));
    let total = 25 * MIB;
    let before = proxy.peak_rss_bytes();
    assert_eq!(
        text(proxy, &format!("/put-stream?key=big&total={total}")).await,
        (200, "stored".into()),
        "{}",
        proxy.log()
    );
    let grew = proxy.peak_rss_bytes().saturating_sub(before);
    let (s, body) = get(proxy, "/get-stream?key=big").await;
    assert_eq!(s, 200);
    assert_eq!(body.len() as u64, total);
    assert!(is_generated(&body), "the value came back changed");
    assert_eq!(text(proxy, "/get-length?key=big").await, (200, total.to_string()));

    // Aborted puts leave the old value.
    assert_eq!(text(proxy, "/put-text?key=kept&value=old").await.0, 200);
    let (s, b) = text(proxy, &format!("/put-stream?key=kept&total={total}&fail={}", 10 * MIB)).await;
    assert_eq!((s, b.as_str()), (500, "Error: the source broke"));
    assert_eq!(text(proxy, "/get-text?key=kept").await, (200, "old".into()));
    let (s, b) = text(proxy, &format!("/put-stream?key=kept&total={}", 25 * MIB + 1)).await;
    assert_eq!(s, 500);
    assert!(
        b.starts_with("Error: KV PUT failed: 413 Value length of at least"),
        "{b}"
    );
    assert_eq!(text(proxy, "/get-text?key=kept").await, (200, "old".into()));
    // The CPU limit ends the script half-way.
    let (s, _) = text(proxy, &format!("/put-stream?key=kept&total={total}&spin={}", 5 * MIB)).await;
    assert_ne!(s, 200);
    assert_eq!(text(proxy, "/get-text?key=kept").await, (200, "old".into()));
    // The client goes away half-way through its upload.
    upload_and_vanish(proxy, "/put-body?key=kept", 20 * MIB, 6 * MIB);
    assert_eq!(text(proxy, "/get-text?key=kept").await, (200, "old".into()));
    // A whole upload of the same kind is stored.
    let r = client()
        .put(proxy.url("/put-body?key=uploaded"))
        .header("host", "kv.test")
        .body(vec![9u8; (3 * MIB + 5) as usize])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        text(proxy, "/get-length?key=uploaded").await,
        (200, (3 * MIB + 5).to_string())
    );
    // The big value is still whole.
    let (_, body) = get(proxy, "/get-stream?key=big").await;
    assert!(body.len() as u64 == total && is_generated(&body));
    grew
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_store_takes_streams_piece_by_piece() {
    let data = TempDir::new("kv-stream");
    let storage = format!("kv = \"embedded\"\ndata_dir = {:?}", data.path().join("data"));
    let proxy = start(&storage).await;
    let grew = streams(&proxy).await;
    eprintln!(
        "peak RSS growth for a 25 MiB stream put: {:.1} MiB",
        grew as f64 / MIB as f64
    );
    assert!(
        grew < 20 * MIB,
        "peak RSS grew by {} MiB for a 25 MiB stream put",
        grew / MIB
    );
    // Reopened, the value is there, whole.
    drop(proxy);
    let proxy = start(&storage).await;
    let (_, body) = get(&proxy, "/get-stream?key=big").await;
    assert!(body.len() as u64 == 25 * MIB && is_generated(&body));
    assert_eq!(text(&proxy, "/get-text?key=kept").await, (200, "old".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_store_takes_streams_piece_by_piece() {
    let server = Redis::start();
    let proxy = start(&format!("kv = {:?}", server.url(6))).await;
    let grew = streams(&proxy).await;
    eprintln!(
        "peak RSS growth for a 25 MiB stream put: {:.1} MiB",
        grew as f64 / MIB as f64
    );
    assert!(
        grew < 20 * MIB,
        "peak RSS grew by {} MiB for a 25 MiB stream put",
        grew / MIB
    );
    // No staged pieces stay behind once the aborted puts are cleaned up.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = std::process::Command::new("redis-cli")
            .args([
                "-p",
                &server.port.to_string(),
                "-n",
                "6",
                "--scan",
                "--pattern",
                "isoproxy:kv-upload:*",
            ])
            .output()
            .expect("redis-cli is installed with redis-server");
        let left = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "staged pieces left: {left}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
