//! The egress policy: which addresses a worker's subrequests may connect to.
//!
//! As workerd's default network (`allow = ["public"]`), a worker reaches
//! publicly routable addresses only. Loopback, private, link-local
//! (cloud metadata), unspecified, multicast, broadcast, documentation and
//! other reserved addresses are refused, in every spelling: the URL parser
//! has already turned `127.1`, `0x7f.1`, `2130706433` and `017700000001` into
//! `127.0.0.1`; here IPv4-mapped (`::ffff:127.0.0.1`), IPv4-compatible
//! (`::127.0.0.1`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) IPv6
//! addresses are judged by the IPv4 address they carry, and `localhost` and
//! `*.localhost` are loopback by name (RFC 6761), never looked up.
//!
//! isoproxy's own proxy listeners are refused unless the policy allows
//! `"self"`, and its admin listener always (a route `origin` may still name
//! it). Route origins are allowed whatever the policy says; the fetcher
//! checks that before asking the policy.
//!
//! The fetcher resolves a name once, checks every address it got and then
//! connects to the checked address, so a name that resolves differently on
//! a second look (DNS rebinding) cannot slip past.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

/// What an address is, as far as egress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Publicly routable: in `"public"` and `"network"`.
    Public,
    /// Loopback or unspecified: only the local machine (`"local"`; also in `"private"`).
    Local,
    /// Reserved for private networks, including link-local (`"private"`, `"network"`).
    Private,
    /// Reserved for other uses (multicast, documentation, ...): only an
    /// explicit CIDR in the allow list reaches it.
    Reserved,
}

/// An address's classification: its kind, a short name for messages and
/// the metric, and the prefix length of the range that decided it (how
/// specific a `"private"`/`"local"` deny entry is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    /// The kind.
    pub kind: Kind,
    /// E.g. `loopback`, `link-local`, `private`, `documentation`.
    pub label: &'static str,
    /// How the address carries the IPv4 address that decided, if it does
    /// (`IPv4-mapped`, `NAT64`, `6to4`, `IPv4-compatible`).
    pub via: Option<&'static str>,
    /// Prefix length of the deciding range.
    pub prefix: u8,
}

const fn class(kind: Kind, label: &'static str, prefix: u8) -> Class {
    Class {
        kind,
        label,
        via: None,
        prefix,
    }
}

/// Classifies an IPv4 address.
fn classify_v4(ip: Ipv4Addr) -> Class {
    use Kind::*;
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        _ if ip.is_unspecified() => class(Local, "unspecified", 32),
        (127, _, _) => class(Local, "loopback", 8),
        (0, _, _) => class(Reserved, "reserved (\"this network\")", 8),
        (10, _, _) => class(Private, "private", 8),
        (100, 64..=127, _) => class(Private, "shared (carrier-grade NAT)", 10),
        (169, 254, _) => class(Private, "link-local", 16),
        (172, 16..=31, _) => class(Private, "private", 12),
        (192, 168, _) => class(Private, "private", 16),
        (192, 0, 0) => class(Reserved, "reserved (IETF protocol assignments)", 24),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => class(Reserved, "documentation", 24),
        (198, 18..=19, _) => class(Reserved, "reserved (benchmarking)", 15),
        _ if ip.is_broadcast() => class(Reserved, "broadcast", 32),
        (224..=239, _, _) => class(Reserved, "multicast", 4),
        (240..=255, _, _) => class(Reserved, "reserved", 4),
        _ => class(Public, "public", 0),
    }
}

/// The IPv4 address an IPv6 address stands for, and how it carries it:
/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated),
/// NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::/48`).
pub fn embedded_v4(ip: Ipv6Addr) -> Option<(Ipv4Addr, &'static str)> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some((v4, "IPv4-mapped"));
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] && !(s[6] == 0 && s[7] <= 1) {
        return Some((tail, "IPv4-compatible"));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some((tail, "NAT64"));
    }
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return Some((v4, "6to4"));
    }
    None
}

/// Classifies an IPv6 address (those carrying an IPv4 address by that one).
fn classify_v6(ip: Ipv6Addr) -> Class {
    use Kind::*;
    if let Some((v4, via)) = embedded_v4(ip) {
        let mut c = classify_v4(v4);
        c.via = Some(via);
        // A deprecated IPv4-compatible address of a public host is still odd.
        if via == "IPv4-compatible" && c.kind == Public {
            c = class(Reserved, "reserved (IPv4-compatible)", 96);
        }
        return c;
    }
    let s = ip.segments();
    match s[0] {
        _ if ip.is_unspecified() => class(Local, "unspecified", 128),
        _ if ip.is_loopback() => class(Local, "loopback", 128),
        0x0064 if s[1] == 0xff9b && s[2] == 1 => class(Private, "private (local-use NAT64)", 48),
        0x0100 if s[1..4] == [0, 0, 0] => class(Reserved, "reserved (discard-only)", 64),
        0x2001 if s[1] == 0x0db8 => class(Reserved, "documentation", 32),
        0x2001 if s[1] < 0x0200 => class(Reserved, "reserved (IETF protocol assignments)", 23),
        0x3fff if s[1] < 0x1000 => class(Reserved, "documentation", 20),
        0xfc00..=0xfdff => class(Private, "private (unique local)", 7),
        0xfe80..=0xfebf => class(Private, "link-local", 10),
        0xfec0..=0xfeff => class(Private, "private (site-local)", 10),
        0xff00..=0xffff => class(Reserved, "multicast", 8),
        _ => class(Public, "public", 0),
    }
}

/// Classifies an address.
pub fn classify(ip: IpAddr) -> Class {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// `::ffff:a.b.c.d` as `a.b.c.d` (the socket reaches the IPv4 host), so a
/// CIDR written for IPv4 covers both spellings.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// True for `localhost`, `*.localhost` (RFC 6761: loopback by definition).
pub fn is_localhost_name(host: &str) -> bool {
    let h = host.strip_suffix('.').unwrap_or(host);
    h.eq_ignore_ascii_case("localhost")
        || h.len() > ".localhost".len() && h[h.len() - ".localhost".len()..].eq_ignore_ascii_case(".localhost")
}

/// One entry of an `egress_allow` / `egress_deny` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// `"public"`: publicly routable addresses.
    Public,
    /// `"private"`: private networks, link-local, and `"local"`.
    Private,
    /// `"local"` (or `"loopback"`): loopback and unspecified addresses.
    Local,
    /// `"network"`: everything but `"local"` and reserved ranges.
    Network,
    /// `"self"`: isoproxy's own proxy listeners (allow only).
    SelfListeners,
    /// A CIDR block (`10.1.0.0/16`, `fd00::/8`) or one address.
    Cidr(IpNet),
}

impl Rule {
    /// Parses one entry; `deny` entries cannot be `public`, `network` or
    /// `self` (deny `private`/`local` or a CIDR instead, as workerd says).
    pub fn parse(text: &str, deny: bool) -> Result<Rule, String> {
        let rule = match text {
            "public" => Rule::Public,
            "private" => Rule::Private,
            "local" | "loopback" => Rule::Local,
            "network" => Rule::Network,
            "self" => Rule::SelfListeners,
            _ => {
                let net = match text.parse::<IpNet>() {
                    Ok(n) => n,
                    Err(_) => match text.parse::<IpAddr>() {
                        Ok(ip) => IpNet::from(ip),
                        Err(_) => {
                            return Err(format!(
                                "{text:?} is not a CIDR block (like \"10.1.0.0/16\"), an address, or one of \
                                 \"public\", \"private\", \"local\", \"network\", \"self\""
                            ));
                        }
                    },
                };
                let net = match net {
                    IpNet::V6(n) => match n.addr().to_ipv4_mapped() {
                        // `::ffff:10.0.0.0/104` is `10.0.0.0/8`.
                        Some(v4) if n.prefix_len() >= 96 => {
                            IpNet::V4(ipnet::Ipv4Net::new(v4, n.prefix_len() - 96).map_err(|e| e.to_string())?)
                        }
                        _ => IpNet::V6(n),
                    },
                    n => n,
                };
                Rule::Cidr(net.trunc())
            }
        };
        if deny && matches!(rule, Rule::Public | Rule::Network | Rule::SelfListeners) {
            return Err(format!(
                "{text:?} cannot be denied: allow less instead (deny \"private\", \"local\" or a CIDR block)"
            ));
        }
        Ok(rule)
    }
}

/// isoproxy's own listening addresses.
#[derive(Debug, Default)]
pub struct Listeners {
    /// `server.listen` (and any other downstream listener).
    pub proxy: Vec<SocketAddr>,
    /// `server.admin`.
    pub admin: Option<SocketAddr>,
}

impl Listeners {
    /// Which of our listeners `addr` reaches, if any: `"self"` or `"admin"`.
    fn reached_by(&self, addr: SocketAddr) -> Option<&'static str> {
        let ip = canonical(addr.ip());
        let hit = |l: &SocketAddr| {
            l.port() == addr.port() && (canonical(l.ip()) == ip || (l.ip().is_unspecified() && is_local_address(ip)))
        };
        if self.admin.as_ref().is_some_and(hit) {
            Some("admin")
        } else if self.proxy.iter().any(hit) {
            Some("self")
        } else {
            None
        }
    }
}

/// True if `ip` is an address of this machine (a listener on `0.0.0.0` or
/// `::` answers on it): loopback, unspecified, or one we can bind to.
fn is_local_address(ip: IpAddr) -> bool {
    ip.is_loopback() || ip.is_unspecified() || std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// Route origins named in the config: subrequests to them are always allowed.
#[derive(Debug, Default)]
pub struct RouteOrigins {
    /// `(host, port)` as written (host lower-case, IPv6 without brackets).
    names: BTreeSet<(String, u16)>,
    /// Origins written as IP addresses: a name resolving to one is allowed too.
    addrs: BTreeSet<SocketAddr>,
}

impl RouteOrigins {
    /// Adds an origin.
    pub fn add(&mut self, host: &str, port: u16) {
        let host = host.to_ascii_lowercase();
        if let Ok(ip) = host.parse::<IpAddr>() {
            self.addrs.insert(SocketAddr::new(canonical(ip), port));
        }
        self.names.insert((host, port));
    }

    /// True if `host:port` is a route origin by name.
    pub fn names(&self, host: &str, port: u16) -> bool {
        self.names.contains(&(host.to_ascii_lowercase(), port))
    }

    /// True if `addr` is a route origin's address.
    pub fn has_addr(&self, addr: SocketAddr) -> bool {
        self.addrs.contains(&SocketAddr::new(canonical(addr.ip()), addr.port()))
    }
}

/// Why a subrequest was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The metric's `reason` label: `loopback`, `private`, `self`, ...
    pub reason: &'static str,
    /// For the message: "address is loopback", "address is isoproxy's own listener", ...
    pub detail: String,
}

/// One worker's egress policy: `[runtime]`'s lists extended by its own.
#[derive(Debug)]
pub struct EgressPolicy {
    allow: Vec<Rule>,
    deny: Vec<Rule>,
    /// The process's listeners (the same for every deployment).
    pub listeners: Arc<Listeners>,
    /// The deployment's route origins.
    pub origins: Arc<RouteOrigins>,
}

impl EgressPolicy {
    /// A policy from allow/deny entries (validated by the config already;
    /// an entry that does not parse is skipped).
    pub fn new(
        allow: &[String],
        deny: &[String],
        listeners: Arc<Listeners>,
        origins: Arc<RouteOrigins>,
    ) -> EgressPolicy {
        EgressPolicy {
            allow: allow.iter().filter_map(|r| Rule::parse(r, false).ok()).collect(),
            deny: deny.iter().filter_map(|r| Rule::parse(r, true).ok()).collect(),
            listeners,
            origins,
        }
    }

    /// Decides whether a subrequest may connect to `addr` (which is not a
    /// route origin: the caller has checked that).
    pub fn check(&self, addr: SocketAddr) -> Result<(), Refusal> {
        match self.listeners.reached_by(addr) {
            Some("admin") => {
                return Err(Refusal {
                    reason: "admin",
                    detail: "address is isoproxy's admin listener".into(),
                });
            }
            Some(_) => {
                if self.allow.contains(&Rule::SelfListeners) {
                    return Ok(());
                }
                return Err(Refusal {
                    reason: "self",
                    detail: "address is isoproxy's own listener; allow \"self\" to reach it".into(),
                });
            }
            None => {}
        }
        let ip = canonical(addr.ip());
        let c = classify(ip);
        // The most specific allow entry that matches (keywords count as /0).
        let mut allowed: Option<u8> = None;
        for rule in &self.allow {
            let hit = match rule {
                Rule::Public => c.kind == Kind::Public,
                Rule::Network => matches!(c.kind, Kind::Public | Kind::Private),
                Rule::Private => matches!(c.kind, Kind::Private | Kind::Local),
                Rule::Local => c.kind == Kind::Local,
                Rule::SelfListeners => false,
                Rule::Cidr(net) => net.contains(&ip),
            };
            if hit {
                let specificity = match rule {
                    Rule::Cidr(net) => net.prefix_len(),
                    _ => 0,
                };
                allowed = Some(allowed.map_or(specificity, |s| s.max(specificity)));
            }
        }
        let what = match c.via {
            Some(via) => format!("{} ({via})", c.label),
            None => c.label.to_string(),
        };
        let reason = match c.kind {
            Kind::Local if c.label == "unspecified" => "unspecified",
            Kind::Local => "loopback",
            Kind::Private if c.label == "link-local" => "link_local",
            Kind::Private => "private",
            Kind::Reserved => "reserved",
            Kind::Public => "public",
        };
        let Some(specificity) = allowed else {
            return Err(Refusal {
                reason,
                detail: format!("address is {what}"),
            });
        };
        // A deny entry wins unless a more specific allow entry matched.
        for rule in &self.deny {
            let deny_specificity = match rule {
                Rule::Private if matches!(c.kind, Kind::Private) => Some(c.prefix),
                Rule::Local if c.kind == Kind::Local => Some(c.prefix),
                Rule::Cidr(net) if net.contains(&ip) => Some(net.prefix_len()),
                _ => None,
            };
            if deny_specificity.is_some_and(|d| d >= specificity) {
                return Err(Refusal {
                    reason: "denied",
                    detail: format!("address is {what}, denied by egress_deny"),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &[&str], deny: &[&str]) -> EgressPolicy {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        EgressPolicy::new(
            &s(allow),
            &s(deny),
            Arc::new(Listeners {
                proxy: vec!["127.0.0.1:8080".parse().unwrap(), "0.0.0.0:8443".parse().unwrap()],
                admin: Some("127.0.0.1:9090".parse().unwrap()),
            }),
            Arc::default(),
        )
    }

    fn at(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 80)
    }

    #[test]
    fn default_policy_refuses_everything_not_public() {
        let p = policy(&["public"], &[]);
        for ip in [
            "127.0.0.1",
            "127.255.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "169.254.169.254",
            "192.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:7f00:1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::8.8.8.8",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "2002:c0a8:101::",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "2001::1",
            "100::1",
        ] {
            assert!(p.check(at(ip)).is_err(), "{ip} should be refused");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "172.32.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
            "2606:4700::1111",
        ] {
            assert_eq!(p.check(at(ip)), Ok(()), "{ip} should be allowed");
        }
    }

    #[test]
    fn messages_name_the_class() {
        let p = policy(&["public"], &[]);
        let r = p.check(at("127.0.0.1")).unwrap_err();
        assert_eq!((r.reason, r.detail.as_str()), ("loopback", "address is loopback"));
        let r = p.check(at("169.254.169.254")).unwrap_err();
        assert_eq!((r.reason, r.detail.as_str()), ("link_local", "address is link-local"));
        let r = p.check(at("::ffff:10.1.2.3")).unwrap_err();
        assert_eq!(r.detail, "address is private");
        let r = p.check(at("2002:7f00:1::1")).unwrap_err();
        assert_eq!(r.detail, "address is loopback (6to4)");
        let r = p.check(at("64:ff9b::a9fe:a9fe")).unwrap_err();
        assert_eq!(r.detail, "address is link-local (NAT64)");
    }

    #[test]
    fn keywords_and_cidrs() {
        let p = policy(&["public", "10.1.0.0/16"], &[]);
        assert!(p.check(at("10.1.2.3")).is_ok());
        assert!(p.check(at("::ffff:10.1.2.3")).is_ok());
        assert!(p.check(at("10.2.0.1")).is_err());
        let p = policy(&["private"], &[]);
        assert!(p.check(at("10.2.0.1")).is_ok());
        assert!(
            p.check(at("127.0.0.1")).is_ok(),
            "private includes local, as in workerd"
        );
        assert!(p.check(at("8.8.8.8")).is_err());
        let p = policy(&["local"], &[]);
        assert!(p.check(at("127.0.0.2")).is_ok());
        assert!(p.check(at("10.0.0.1")).is_err());
        let p = policy(&["network"], &[]);
        assert!(p.check(at("10.0.0.1")).is_ok());
        assert!(p.check(at("8.8.8.8")).is_ok());
        assert!(p.check(at("127.0.0.1")).is_err());
        assert!(p.check(at("224.0.0.1")).is_err());
        // Reserved ranges only through an explicit CIDR.
        let p = policy(&["public", "192.0.2.0/24"], &[]);
        assert!(p.check(at("192.0.2.5")).is_ok());
        let p = policy(&["public", "::ffff:10.0.0.0/104"], &[]);
        assert!(p.check(at("10.9.9.9")).is_ok());
    }

    #[test]
    fn deny_wins_unless_a_more_specific_allow_matches() {
        let p = policy(&["public", "private"], &["10.0.0.0/8"]);
        assert!(p.check(at("10.1.1.1")).is_err());
        assert!(p.check(at("192.168.0.1")).is_ok());
        let p = policy(&["public", "10.1.0.0/16"], &["private"]);
        assert!(p.check(at("10.1.1.1")).is_ok());
        let p = policy(&["public", "10.0.0.0/8"], &["private"]);
        assert!(p.check(at("10.1.1.1")).is_err());
        let p = policy(&["public"], &["8.8.8.0/24"]);
        assert_eq!(p.check(at("8.8.8.8")).unwrap_err().reason, "denied");
        assert!(p.check(at("8.8.4.4")).is_ok());
    }

    #[test]
    fn own_listeners() {
        let p = policy(&["public", "local"], &[]);
        let r = p.check("127.0.0.1:8080".parse().unwrap()).unwrap_err();
        assert_eq!(r.reason, "self");
        let r = p.check("[::ffff:127.0.0.1]:8080".parse().unwrap()).unwrap_err();
        assert_eq!(r.reason, "self");
        // A listener on 0.0.0.0 answers on every local address.
        assert_eq!(p.check("127.0.0.3:8443".parse().unwrap()).unwrap_err().reason, "self");
        assert!(p.check("127.0.0.1:8081".parse().unwrap()).is_ok());
        let p = policy(&["self"], &[]);
        assert!(p.check("127.0.0.1:8080".parse().unwrap()).is_ok());
        assert!(p.check("127.0.0.1:8081".parse().unwrap()).is_err());
        assert_eq!(p.check("127.0.0.1:9090".parse().unwrap()).unwrap_err().reason, "admin");
    }

    #[test]
    fn rules_parse() {
        assert_eq!(Rule::parse("loopback", false), Ok(Rule::Local));
        assert_eq!(
            Rule::parse("10.1.2.3/16", false),
            Ok(Rule::Cidr("10.1.0.0/16".parse().unwrap()))
        );
        assert_eq!(
            Rule::parse("fd00::1", false),
            Ok(Rule::Cidr("fd00::1/128".parse().unwrap()))
        );
        assert!(Rule::parse("public", true).is_err());
        assert!(Rule::parse("self", true).is_err());
        assert!(Rule::parse("10.0.0.0/33", false).is_err());
        assert!(Rule::parse("intranet", false).is_err());
    }

    #[test]
    fn localhost_names() {
        for h in ["localhost", "LOCALHOST.", "a.localhost", "x.y.Localhost."] {
            assert!(is_localhost_name(h), "{h}");
        }
        for h in ["localhost.com", "notlocalhost", "localhostx", ".localhost.example"] {
            assert!(!is_localhost_name(h), "{h}");
        }
    }
}
