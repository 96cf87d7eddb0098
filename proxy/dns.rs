//! Name resolution for origins and subrequests: hickory's stub resolver
//! (the name servers of `/etc/resolv.conf`, or `[dns] servers`, and the
//! names of `/etc/hosts`) behind a cache that keeps each answer for its
//! TTL, so a busy origin is not looked up again on every request.
//!
//! One [`Dns`] serves the whole process ([`resolve`]). Each deployment built
//! (at start and on every reload) installs a fresh one ([`configure`]):
//! a reload re-reads `/etc/resolv.conf` and `/etc/hosts` and starts with an
//! empty cache. Requests already resolving finish on the one they started
//! with.
//!
//! The cache in front of hickory's own is what makes hits countable
//! (`isoproxy_dns_lookups_total{result}`) and cheap: a hit is one map
//! lookup under a mutex, where hickory would first build the names of the
//! search list. An answer is kept until the earliest expiry of its records
//! (hickory's `valid_until`, from the TTLs the server sent); a TTL of 0 is
//! never cached. Failures are not kept here (hickory keeps negative answers
//! for their SOA's TTL itself).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::time::Instant;

use arc_swap::ArcSwap;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ProtocolConfig, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;

use crate::config::DnsConfig;

/// The process's resolver, replaced by [`configure`].
static CURRENT: LazyLock<ArcSwap<Dns>> = LazyLock::new(|| ArcSwap::from_pointee(Dns::new(&DnsConfig::default())));

/// Installs a resolver for `config` (a new cache; `/etc/resolv.conf` and
/// `/etc/hosts` are read again on first use).
pub fn configure(config: &DnsConfig) {
    CURRENT.store(Arc::new(Dns::new(config)));
}

/// The addresses of `name` (a DNS name, not an IP literal), from the cache
/// while its TTL lasts. The error is a one-line reason.
pub async fn resolve(name: &str) -> Result<Arc<[IpAddr]>, String> {
    let dns = CURRENT.load_full();
    dns.lookup(name).await
}

/// A resolver and its cache.
pub struct Dns {
    servers: Vec<SocketAddr>,
    capacity: usize,
    /// Built on first use, inside the proxy's tokio runtime.
    resolver: OnceLock<Result<TokioResolver, String>>,
    cache: Mutex<HashMap<Box<str>, Cached>>,
}

struct Cached {
    addrs: Arc<[IpAddr]>,
    until: Instant,
}

impl Dns {
    /// A resolver for `config`; nothing is read until the first lookup.
    pub fn new(config: &DnsConfig) -> Dns {
        Dns {
            servers: config
                .servers
                .iter()
                .filter_map(|s| DnsConfig::server(s).ok())
                .collect(),
            capacity: config.cache_size,
            resolver: OnceLock::new(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    async fn lookup(&self, name: &str) -> Result<Arc<[IpAddr]>, String> {
        let counter = |result: &str| crate::metrics::metrics().dns_lookups.with_label_values(&[result]).inc();
        let now = Instant::now();
        if let Some(hit) = self.cached(name, now) {
            counter("hit");
            return Ok(hit);
        }
        let resolver = match self.resolver.get_or_init(|| self.build()) {
            Ok(r) => r,
            Err(e) => return self.system_lookup(name, e.clone()).await,
        };
        let answer = match resolver.lookup_ip(name).await {
            Ok(answer) => answer,
            Err(e) => return self.system_lookup(name, e.to_string()).await,
        };
        let addrs: Arc<[IpAddr]> = answer.iter().collect();
        if addrs.is_empty() {
            return self.system_lookup(name, "no addresses".into()).await;
        }
        counter("miss");
        let until = answer.valid_until();
        if until > Instant::now() && self.capacity > 0 {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= self.capacity {
                let now = Instant::now();
                cache.retain(|_, c| c.until > now);
                if cache.len() >= self.capacity {
                    // Still full of live answers: make room for this one
                    // (the name dropped is looked up again when next used).
                    if let Some(victim) = cache.keys().next().cloned() {
                        cache.remove(&victim);
                    }
                }
            }
            cache.insert(
                name.into(),
                Cached {
                    addrs: addrs.clone(),
                    until,
                },
            );
        }
        Ok(addrs)
    }

    /// A name hickory could not answer, asked of the C library's resolver
    /// (getaddrinfo: NSS modules such as `myhostname` or mDNS know names
    /// neither /etc/hosts nor DNS has), uncached, as before the cache
    /// existed. Not when `[dns] servers` are set: then those servers are
    /// the whole truth and `why` is the answer.
    async fn system_lookup(&self, name: &str, why: String) -> Result<Arc<[IpAddr]>, String> {
        let counter = |result: &str| crate::metrics::metrics().dns_lookups.with_label_values(&[result]).inc();
        if !self.servers.is_empty() {
            counter("error");
            return Err(why);
        }
        match tokio::net::lookup_host((name, 0)).await {
            Ok(found) => {
                let mut addrs: Vec<IpAddr> = Vec::new();
                for a in found {
                    if !addrs.contains(&a.ip()) {
                        addrs.push(a.ip());
                    }
                }
                if addrs.is_empty() {
                    counter("error");
                    return Err(why);
                }
                counter("miss");
                Ok(addrs.into())
            }
            Err(_) => {
                counter("error");
                Err(why)
            }
        }
    }

    fn cached(&self, name: &str, now: Instant) -> Option<Arc<[IpAddr]>> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(name).filter(|c| c.until > now).map(|c| c.addrs.clone())
    }

    /// hickory's resolver with the system's settings (search list, ndots,
    /// timeouts, `/etc/hosts`), asking `[dns] servers` instead of
    /// `/etc/resolv.conf`'s name servers when there are any.
    fn build(&self) -> Result<TokioResolver, String> {
        let (mut config, mut options) = match hickory_resolver::system_conf::read_system_conf() {
            Ok(system) => system,
            Err(e) if !self.servers.is_empty() => {
                log::warn!("dns: cannot read /etc/resolv.conf ({e}); using [dns] servers with default settings");
                (ResolverConfig::from_name_servers(Vec::new()), ResolverOpts::default())
            }
            Err(e) => {
                let why = format!("cannot read /etc/resolv.conf: {e}");
                log::error!("dns: {why}; names cannot be resolved (IP origins still work)");
                return Err(why);
            }
        };
        if !self.servers.is_empty() {
            config.name_servers = self
                .servers
                .iter()
                .map(|addr| {
                    let connection = |protocol| {
                        let mut c = ConnectionConfig::new(protocol);
                        c.port = addr.port();
                        c
                    };
                    NameServerConfig::new(
                        addr.ip(),
                        true,
                        vec![connection(ProtocolConfig::Udp), connection(ProtocolConfig::Tcp)],
                    )
                })
                .collect();
        }
        // Every address, as getaddrinfo gave them: the egress policy checks
        // them all before a subrequest connects to one.
        options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        // hickory's own cache (search-list misses, negative answers) has the
        // same bound, so `cache_size = 0` really asks every time.
        options.cache_size = self.capacity as u64;
        TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(options)
            .build()
            .map_err(|e| format!("cannot start the resolver: {e}"))
    }
}
