//! Origins and subrequests named by DNS name (issue 10, item 7): answers
//! come from a real DNS server (a minimal one in this file, on 127.0.0.1,
//! named by `[dns] servers`) and are kept for their TTL; every address of a
//! subrequest's name still passes the egress policy; failures are the same
//! 502 / TypeError as before; `/etc/hosts` is read before DNS.

mod common;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Origin, Proxy, client, get_host};
use tokio::net::UdpSocket;

/// `A` records served by [`DnsServer`]: name (lower case, no trailing dot)
/// -> addresses and TTL. Names not listed get NXDOMAIN.
type Zone = HashMap<String, (Vec<Ipv4Addr>, u32)>;

/// A minimal authoritative DNS server over UDP: answers `A` queries from
/// its zone, `AAAA` with no records, anything unknown with NXDOMAIN, and
/// counts the queries it gets per (name, type).
struct DnsServer {
    port: u16,
    queries: Arc<Mutex<HashMap<(String, u16), u32>>>,
    task: tokio::task::JoinHandle<()>,
}

impl DnsServer {
    async fn start(zone: Zone) -> DnsServer {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = socket.local_addr().unwrap().port();
        let queries: Arc<Mutex<HashMap<(String, u16), u32>>> = Arc::default();
        let seen = queries.clone();
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            loop {
                let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                    continue;
                };
                if let Some((name, qtype, reply)) = answer(&buf[..n], &zone) {
                    *seen.lock().unwrap().entry((name, qtype)).or_default() += 1;
                    let _ = socket.send_to(&reply, from).await;
                }
            }
        });
        DnsServer { port, queries, task }
    }

    /// How many `A` queries for `name` arrived.
    fn a_queries(&self, name: &str) -> u32 {
        self.queries
            .lock()
            .unwrap()
            .get(&(name.to_string(), 1))
            .copied()
            .unwrap_or(0)
    }

    fn total_queries(&self) -> u32 {
        self.queries.lock().unwrap().values().sum()
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The reply to one query (RFC 1035 §4.1): its name, type and the answer
/// bytes; `None` for what is not a single-question query.
fn answer(query: &[u8], zone: &Zone) -> Option<(String, u16, Vec<u8>)> {
    if query.len() < 12 || query[2] & 0x80 != 0 || u16::from_be_bytes([query[4], query[5]]) != 1 {
        return None;
    }
    // QNAME: length-prefixed labels up to a zero byte.
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = *query.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    let question_end = at + 4;
    let question = query.get(12..question_end)?;
    let name = labels.join(".");
    let (rcode, records): (u8, Vec<([u8; 4], u32)>) = match zone.get(&name) {
        None => (3, Vec::new()),
        Some(_) if qtype != 1 => (0, Vec::new()),
        Some((addrs, ttl)) => (0, addrs.iter().map(|a| (a.octets(), *ttl)).collect()),
    };
    let mut reply = Vec::with_capacity(512);
    reply.extend_from_slice(&query[..2]); // ID
    // QR, opcode 0, AA, RD copied; RA; RCODE.
    reply.push(0x84 | (query[2] & 0x01));
    reply.push(0x80 | rcode);
    reply.extend_from_slice(&1u16.to_be_bytes());
    reply.extend_from_slice(&(records.len() as u16).to_be_bytes());
    reply.extend_from_slice(&[0, 0, 0, 0]); // NSCOUNT, ARCOUNT
    reply.extend_from_slice(question);
    for (octets, ttl) in records {
        reply.extend_from_slice(&[0xC0, 12]); // pointer to the question's name
        reply.extend_from_slice(&1u16.to_be_bytes()); // A
        reply.extend_from_slice(&1u16.to_be_bytes()); // IN
        reply.extend_from_slice(&ttl.to_be_bytes());
        reply.extend_from_slice(&4u16.to_be_bytes());
        reply.extend_from_slice(&octets);
    }
    Some((name, qtype, reply))
}

async fn dns_lookups(proxy: &Proxy, result: &str) -> f64 {
    proxy.metric("isoproxy_dns_lookups_total", &[("result", result)]).await
}

fn zone(entries: &[(&str, &[Ipv4Addr], u32)]) -> Zone {
    entries
        .iter()
        .map(|(name, addrs, ttl)| (name.to_string(), (addrs.to_vec(), *ttl)))
        .collect()
}

const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

#[tokio::test(flavor = "multi_thread")]
async fn a_named_origin_is_resolved_once_per_ttl() {
    let origin = Origin::start("named").await;
    let port = origin.addr.port();
    // Long enough that the five requests below fall within it on any machine.
    let dns = DnsServer::start(zone(&[
        ("origin.dns.test", &[LOOPBACK], 3600),
        ("short.dns.test", &[LOOPBACK], 1),
    ]))
    .await;
    let proxy = Proxy::builder()
        .config(&format!(
            "[dns]\nservers = [\"{}\"]\n\n\
             [[routes]]\npattern = \"long.test/*\"\norigin = \"http://origin.dns.test:{port}\"\n\n\
             [[routes]]\npattern = \"short.test/*\"\norigin = \"http://short.dns.test:{port}\"\n",
            dns.addr()
        ))
        .start()
        .await;

    for i in 0..5 {
        let r = get_host(&proxy.url(&format!("/r{i}")), "long.test").await;
        assert_eq!(r.status(), 200, "{}", proxy.log());
        assert_eq!(r.headers()["x-origin"], "named");
    }
    assert_eq!(origin.seen().len(), 5);
    // One question to the server for five requests; the rest were hits.
    assert_eq!(dns.a_queries("origin.dns.test"), 1);
    assert_eq!(dns_lookups(&proxy, "miss").await, 1.0);
    assert_eq!(dns_lookups(&proxy, "hit").await, 4.0);

    // A TTL of one second: once it has run out, the name is asked again.
    let r = get_host(&proxy.url("/"), "short.test").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(dns.a_queries("short.dns.test"), 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = get_host(&proxy.url("/"), "short.test").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(dns.a_queries("short.dns.test"), 2);
    assert_eq!(dns.a_queries("origin.dns.test"), 1);

    // A reload starts a new resolver with an empty cache.
    proxy.hup();
    proxy.wait_for_log("reload ok", Duration::from_secs(30)).await;
    let r = get_host(&proxy.url("/"), "long.test").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(dns.a_queries("origin.dns.test"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unresolvable_origin_is_a_502() {
    let dns = DnsServer::start(Zone::new()).await;
    let proxy = Proxy::builder()
        .config(&format!(
            "[dns]\nservers = [\"{}\"]\n\n\
             [[routes]]\npattern = \"*/*\"\norigin = \"http://nowhere.dns.test:8080\"\n",
            dns.addr()
        ))
        .start()
        .await;
    let r = get_host(&proxy.url("/"), "a.test").await;
    assert_eq!(r.status(), 502, "{}", proxy.log());
    assert!(dns.total_queries() >= 1, "the server was asked");
    assert!(dns_lookups(&proxy, "error").await >= 1.0);
    assert_eq!(
        proxy
            .metric("isoproxy_origin_errors_total", &[("kind", "connect")])
            .await,
        1.0
    );
}

/// Fetches the URL in the request's `x-target` header: "reached STATUS",
/// or the error's name and message.
const FETCHER: &str = r#"
export default {
  async fetch(request) {
    try {
      const res = await fetch(request.headers.get("x-target"));
      return new Response(`reached ${res.status} ${await res.text()}`);
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`);
    }
  },
};
"#;

#[tokio::test(flavor = "multi_thread")]
async fn subrequests_resolve_through_the_cache_and_every_address_is_checked() {
    let origin = Origin::start("sub").await;
    let port = origin.addr.port();
    let dns = DnsServer::start(zone(&[
        ("api.dns.test", &[LOOPBACK], 3600),
        // Loopback first: a resolver that checked only the address it
        // connects to would let this through.
        ("mixed.dns.test", &[LOOPBACK, Ipv4Addr::new(10, 0, 0, 1)], 3600),
    ]))
    .await;
    let proxy = Proxy::builder()
        .script("fetcher.js", FETCHER)
        .config(&format!(
            "[dns]\nservers = [\"{}\"]\n\n\
             [runtime]\nisolate_threads = 2\negress_allow = [\"loopback\"]\n\n\
             [[workers]]\nname = \"fetcher\"\nmain = \"fetcher.js\"\n\n\
             [[routes]]\npattern = \"fetcher.test/*\"\nworker = \"fetcher\"\n",
            dns.addr()
        ))
        .start()
        .await;
    let fetch = |target: String| {
        let url = proxy.url("/");
        async move {
            let r = client()
                .get(url)
                .header("host", "fetcher.test")
                .header("x-target", target)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    for _ in 0..3 {
        let out = fetch(format!("http://api.dns.test:{port}/x")).await;
        assert!(out.starts_with("reached 200"), "{out}\n{}", proxy.log());
    }
    assert_eq!(origin.seen().len(), 3);
    assert_eq!(dns.a_queries("api.dns.test"), 1);

    // 10.0.0.1 is not allowed: the whole name is refused, from the cache too.
    for _ in 0..2 {
        let out = fetch(format!("http://mixed.dns.test:{port}/")).await;
        assert!(
            out.starts_with("TypeError: fetch to mixed.dns.test (10.0.0.1)") && out.contains("egress policy"),
            "{out}"
        );
    }
    assert_eq!(dns.a_queries("mixed.dns.test"), 1);
    assert_eq!(origin.seen().len(), 3);

    // A name nobody knows fails as before.
    let out = fetch("http://unknown.dns.test/".to_string()).await;
    assert!(
        out.starts_with("TypeError: ") && out.contains("cannot resolve unknown.dns.test"),
        "{out}"
    );
}

/// A name `/etc/hosts` maps to 127.0.0.1, other than `localhost` (which
/// never reaches the resolver).
fn hosts_file_loopback_name() -> Option<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    hosts.lines().find_map(|line| {
        let mut fields = line.split('#').next()?.split_whitespace();
        (fields.next()? == "127.0.0.1")
            .then(|| fields.find(|n| !n.eq_ignore_ascii_case("localhost") && !n.contains("localhost")))
            .flatten()
            .map(str::to_string)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn etc_hosts_comes_before_dns() {
    let Some(name) = hosts_file_loopback_name() else {
        eprintln!("skipped: /etc/hosts maps no name but localhost to 127.0.0.1");
        return;
    };
    let origin = Origin::start("hosts").await;
    // The DNS server knows nothing: only /etc/hosts can answer.
    let dns = DnsServer::start(Zone::new()).await;
    let proxy = Proxy::builder()
        .config(&format!(
            "[dns]\nservers = [\"{}\"]\n\n\
             [[routes]]\npattern = \"*/*\"\norigin = \"http://{name}:{}\"\n",
            dns.addr(),
            origin.addr.port()
        ))
        .start()
        .await;
    let r = get_host(&proxy.url("/"), "a.test").await;
    assert_eq!(r.status(), 200, "{name}: {}", proxy.log());
    assert_eq!(r.headers()["x-origin"], "hosts");
}

#[tokio::test(flavor = "multi_thread")]
async fn cache_size_zero_asks_every_time() {
    let origin = Origin::start("uncached").await;
    let dns = DnsServer::start(zone(&[("origin.dns.test", &[LOOPBACK], 3600)])).await;
    let proxy = Proxy::builder()
        .config(&format!(
            "[dns]\nservers = [\"{}\"]\ncache_size = 0\n\n\
             [[routes]]\npattern = \"*/*\"\norigin = \"http://origin.dns.test:{}\"\n",
            dns.addr(),
            origin.addr.port()
        ))
        .start()
        .await;
    for _ in 0..3 {
        let r = get_host(&proxy.url("/"), "a.test").await;
        assert_eq!(r.status(), 200, "{}", proxy.log());
    }
    assert_eq!(dns.a_queries("origin.dns.test"), 3);
    assert_eq!(dns_lookups(&proxy, "miss").await, 3.0);
    assert_eq!(dns_lookups(&proxy, "hit").await, 0.0);
}
