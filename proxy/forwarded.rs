//! Forwarding headers: what an origin (and a worker) is told about the
//! client. Every request that reaches a route's origin — a plain route's,
//! a worker's pass, a worker's subrequest to its route's origin — carries
//! `X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Host` and
//! `CF-Connecting-IP`, set by the proxy whatever the client or the script
//! put there.
//!
//! `[server] trusted_proxies` decides what a client's own copies are worth
//! (as nginx's `set_real_ip_from` with `real_ip_recursive on`, or Envoy's
//! `xff_num_trusted_hops`): from a peer inside one of its blocks the
//! incoming `X-Forwarded-For` is kept and extended with the peer, the
//! incoming `X-Forwarded-Proto`/`-Host` and RFC 7239 `Forwarded` are kept,
//! and the client is the right-most address of the chain that is not
//! itself a trusted proxy. From any other peer the incoming values are
//! replaced: the chain starts at the peer, which is the client.

use std::net::IpAddr;

use http::{HeaderMap, HeaderName, HeaderValue};
use ipnet::IpNet;

/// `X-Forwarded-For`.
pub const XFF: HeaderName = HeaderName::from_static("x-forwarded-for");
/// `X-Forwarded-Proto`.
pub const XFP: HeaderName = HeaderName::from_static("x-forwarded-proto");
/// `X-Forwarded-Host`.
pub const XFH: HeaderName = HeaderName::from_static("x-forwarded-host");
/// `CF-Connecting-IP`: the client's address, as Cloudflare sends it.
pub const CF_CONNECTING_IP: HeaderName = HeaderName::from_static("cf-connecting-ip");
/// RFC 7239 `Forwarded` (kept from trusted peers, dropped from others; not generated).
pub const FORWARDED: HeaderName = HeaderName::from_static("forwarded");

/// Longest incoming `X-Forwarded-For` kept from a trusted peer; a longer one
/// is replaced (it cannot be a real chain of proxies).
const MAX_CHAIN_BYTES: usize = 4096;

/// `[server] trusted_proxies`, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses the config's entries: CIDR blocks or single addresses.
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, String> {
        entries
            .iter()
            .map(|e| parse_entry(e))
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// One `trusted_proxies` entry.
pub fn parse_entry(entry: &str) -> Result<IpNet, String> {
    if let Ok(net) = entry.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    entry
        .parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("{entry:?} is neither an IP address nor a CIDR block (such as \"10.0.0.0/8\")"))
}

/// IPv4-mapped IPv6 addresses (a dual-stack listener's view of IPv4
/// clients) are their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// What the proxy tells an origin about one request's client.
#[derive(Debug, Clone)]
pub struct Forwarded {
    /// The client's address (`CF-Connecting-IP`), if known.
    pub client: Option<IpAddr>,
    /// `client` as a header value, formatted once per request.
    client_value: Option<HeaderValue>,
    /// `X-Forwarded-For` as sent on.
    pub chain: Option<HeaderValue>,
    /// `X-Forwarded-Proto` as sent on.
    pub proto: HeaderValue,
    /// `X-Forwarded-Host` as sent on.
    pub host: Option<HeaderValue>,
    /// Whether the peer is a trusted proxy (its own forwarding fields, RFC
    /// 7239 `Forwarded` included, are then kept).
    pub from_trusted: bool,
}

impl Forwarded {
    /// Works out a request's forwarding headers from what it arrived with:
    /// `headers` (the client's), `peer` (the connection's address), whether
    /// the connection is TLS, and the authority it was routed by.
    pub fn compute(
        headers: &HeaderMap,
        peer: Option<IpAddr>,
        tls: bool,
        authority: &str,
        trusted: &TrustedProxies,
    ) -> Forwarded {
        let peer = peer.map(canonical);
        let from_trusted = peer.is_some_and(|p| trusted.contains(p));
        let own_proto = HeaderValue::from_static(if tls { "https" } else { "http" });
        let own_host = HeaderValue::from_str(authority).ok();
        let Some(peer) = peer else {
            return Forwarded {
                client: None,
                client_value: None,
                chain: None,
                proto: own_proto,
                host: own_host,
                from_trusted: false,
            };
        };
        if !from_trusted {
            let value = header_value(peer);
            return Forwarded {
                client: Some(peer),
                chain: value.clone(),
                client_value: value,
                proto: own_proto,
                host: own_host,
                from_trusted: false,
            };
        }
        // A trusted peer: its chain is believed, and extended with it.
        let incoming: Vec<&str> = headers
            .get_all(&XFF)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let joined = incoming.join(", ");
        let chain = if incoming.is_empty() || joined.len() > MAX_CHAIN_BYTES {
            peer.to_string()
        } else {
            format!("{joined}, {peer}")
        };
        // The client: walking from the right, the first address that is not
        // a trusted proxy; an entry that is not an address ends the walk
        // (what lies left of it cannot be checked).
        let mut client = peer;
        if joined.len() <= MAX_CHAIN_BYTES {
            for entry in incoming.iter().rev() {
                let Some(ip) = parse_chain_entry(entry) else { break };
                client = ip;
                if !trusted.contains(ip) {
                    break;
                }
            }
        }
        let first = |name: &HeaderName| {
            headers
                .get(name)
                .filter(|v| !v.is_empty() && v.to_str().is_ok())
                .cloned()
        };
        Forwarded {
            client: Some(client),
            client_value: header_value(client),
            chain: HeaderValue::from_str(&chain).ok(),
            proto: first(&XFP).unwrap_or(own_proto),
            host: first(&XFH).or(own_host),
            from_trusted: true,
        }
    }

    /// The fields to set on a request, each replacing any copy already
    /// there (`None`: remove it). `with_host`: also `X-Forwarded-Host`
    /// (requests to origins; a script reads the host from `request.url`).
    pub fn fields(&self, with_host: bool) -> [(HeaderName, Option<HeaderValue>); 5] {
        [
            (CF_CONNECTING_IP, self.client_value.clone()),
            (XFF, self.chain.clone()),
            (XFP, Some(self.proto.clone())),
            (XFH, self.host.clone().filter(|_| with_host)),
            // The client's RFC 7239 field is kept only from a trusted peer.
            (FORWARDED, None),
        ]
    }

    /// Sets the forwarding headers on `headers`, replacing what was there.
    pub fn apply(&self, headers: &mut HeaderMap, with_host: bool) {
        // One growth of the map at most, not one per added field (the
        // profile of the pass-through worker showed the map re-hashing).
        headers.reserve(4);
        for (name, value) in self.fields(with_host) {
            match value {
                Some(v) => {
                    headers.insert(name, v);
                }
                None if name == FORWARDED && self.from_trusted => {}
                None => {
                    headers.remove(name);
                }
            }
        }
    }

    /// What a worker's `request.headers` holds: `CF-Connecting-IP`, as on
    /// Cloudflare (and no X-Forwarded-* of its own: workerd adds none); a
    /// client's own forwarding fields only when its peer is trusted.
    pub fn apply_for_script(&self, headers: &mut HeaderMap) {
        match &self.client_value {
            Some(v) => {
                headers.insert(CF_CONNECTING_IP, v.clone());
            }
            None => {
                headers.remove(CF_CONNECTING_IP);
            }
        }
        if !self.from_trusted {
            for name in [XFF, XFP, XFH, FORWARDED] {
                headers.remove(name);
            }
        }
    }

    /// [`Forwarded::apply`] on a Pingora request head (which keeps the
    /// case of header names beside the map).
    pub fn apply_to_request(&self, req: &mut pingora_http::RequestHeader, with_host: bool) -> pingora::Result<()> {
        for (name, value) in self.fields(with_host) {
            match value {
                Some(v) => {
                    req.insert_header(name, v)?;
                }
                None if name == FORWARDED && self.from_trusted => {}
                None => {
                    req.remove_header(&name);
                }
            }
        }
        Ok(())
    }
}

/// An address as a header value (always valid: digits, dots, colons and hex).
fn header_value(ip: IpAddr) -> Option<HeaderValue> {
    HeaderValue::from_str(&ip.to_string()).ok()
}

/// An `X-Forwarded-For` entry: an address, optionally `[v6]:port` or `v4:port`.
fn parse_chain_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    entry.parse::<std::net::SocketAddr>().ok().map(|s| canonical(s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(XFF, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn untrusted_peer_replaces_the_chain() {
        let f = Forwarded::compute(&xff(&["1.2.3.4"]), ip("203.0.113.9"), false, "a.test", &trusted(&[]));
        assert_eq!(f.client, ip("203.0.113.9"));
        assert_eq!(f.chain.unwrap(), "203.0.113.9");
        assert_eq!(f.proto, "http");
        assert_eq!(f.host.unwrap(), "a.test");
    }

    #[test]
    fn trusted_peer_extends_and_walks_the_chain() {
        let t = trusted(&["10.0.0.0/8", "::1"]);
        let f = Forwarded::compute(
            &xff(&["198.51.100.7, 10.1.1.1", "10.2.2.2"]),
            ip("10.3.3.3"),
            false,
            "a",
            &t,
        );
        assert_eq!(f.chain.unwrap(), "198.51.100.7, 10.1.1.1, 10.2.2.2, 10.3.3.3");
        assert_eq!(f.client, ip("198.51.100.7"));
        // A spoofed left-most entry is not the client when an untrusted hop follows it.
        let f = Forwarded::compute(&xff(&["6.6.6.6, 198.51.100.7"]), ip("10.3.3.3"), false, "a", &t);
        assert_eq!(f.client, ip("198.51.100.7"));
        // Garbage ends the walk.
        let f = Forwarded::compute(&xff(&["nonsense, 10.1.1.1"]), ip("10.3.3.3"), false, "a", &t);
        assert_eq!(f.client, ip("10.1.1.1"));
        // IPv4-mapped peers count as IPv4; ports in entries are ignored.
        let f = Forwarded::compute(&xff(&["[2001:db8::1]:443"]), ip("::ffff:10.0.0.1"), false, "a", &t);
        assert_eq!(f.client, ip("2001:db8::1"));
        assert_eq!(f.chain.unwrap(), "[2001:db8::1]:443, 10.0.0.1");
    }

    #[test]
    fn trusted_peer_keeps_proto_and_host() {
        let mut h = HeaderMap::new();
        h.insert(XFP, HeaderValue::from_static("https"));
        h.insert(XFH, HeaderValue::from_static("public.example"));
        let f = Forwarded::compute(&h, ip("127.0.0.1"), false, "inner", &trusted(&["127.0.0.1"]));
        assert_eq!(f.proto, "https");
        assert_eq!(f.host.unwrap(), "public.example");
        let f = Forwarded::compute(&h, ip("127.0.0.2"), false, "inner", &trusted(&["127.0.0.1"]));
        assert_eq!(f.proto, "http");
        assert_eq!(f.host.unwrap(), "inner");
    }

    #[test]
    fn entries_parse() {
        assert!(parse_entry("10.0.0.0/8").is_ok());
        assert!(parse_entry("fd00::/8").is_ok());
        assert!(parse_entry("192.0.2.1").is_ok());
        assert!(parse_entry("10.0.0.0/33").is_err());
        assert!(parse_entry("example.com").is_err());
        // Host bits are dropped: 10.1.2.3/8 is 10.0.0.0/8.
        assert!(trusted(&["10.1.2.3/8"]).contains("10.200.0.1".parse().unwrap()));
    }
}
