//! Loop protection: how many times a request has passed through this
//! process, and the subrequest budget shared along the chain.
//!
//! Every request this proxy sends on (a worker's subrequest, a plain
//! route's upstream request) carries `x-isoproxy-loop: DEPTH/BUDGET/CHAIN/MAC`:
//! DEPTH is how many times the chain has passed through isoproxy, BUDGET
//! the subrequests the chain had left when it was sent, CHAIN a random id
//! and MAC an HMAC-SHA256 of the rest under a key drawn at start-up, so only
//! this process can write a header it will believe. Incoming copies are
//! always removed before routing; a valid one makes the request part of its
//! chain, anything else is ignored. A request arriving with DEPTH >=
//! [`MAX_DEPTH`] gets 508 Loop Detected instead of being served (Cloudflare
//! allows a Worker to be invoked 16 times in a chain, its `CF-EW-Via`).
//!
//! The budget: a chain starts with its first worker's `subrequests` limit;
//! every subrequest anywhere in the chain takes one from the same counter
//! (chains are looked up by id while any request of theirs is alive, so
//! fan-out through several workers cannot multiply it), and each request
//! also keeps its own per-request limit, so it gets the smaller of the two.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, Weak};

use hmac::{Hmac, Mac};
use http::HeaderValue;
use sha2::Sha256;

/// The header that carries a chain between hops.
pub const HEADER: &str = "x-isoproxy-loop";

/// A request that has already passed through isoproxy this many times is
/// answered 508 instead of being served.
pub const MAX_DEPTH: u32 = 16;

/// Bytes of the HMAC kept in the header.
const MAC_LEN: usize = 16;

/// The per-process key: headers written by another process (or an earlier
/// run of this one) are not trusted.
static KEY: LazyLock<[u8; 32]> = LazyLock::new(|| {
    let mut key = [0u8; 32];
    if getrandom::fill(&mut key).is_err() {
        // No OS randomness: fall back to something no client can guess
        // from outside (time and addresses of this process).
        let seed = format!("{:?}{:p}{}", std::time::SystemTime::now(), &key, std::process::id());
        key = sha2::Digest::finalize(<Sha256 as sha2::Digest>::new_with_prefix(seed)).into();
    }
    key
});

/// Chains alive in this process, by id.
static CHAINS: LazyLock<Mutex<HashMap<u64, Weak<Chain>>>> = LazyLock::new(Default::default);

/// One chain of requests through this process and its shared budget.
#[derive(Debug)]
pub struct Chain {
    id: u64,
    remaining: AtomicU32,
}

/// A fresh chain id: unique in this process (the MAC, not the id, is what
/// a client cannot forge), so a counter from a random start will do.
fn next_id() -> u64 {
    static NEXT: LazyLock<AtomicU64> = LazyLock::new(|| {
        let mut seed = [0u8; 8];
        let _ = getrandom::fill(&mut seed);
        AtomicU64::new(u64::from_le_bytes(seed))
    });
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Chain {
    /// A new chain with `budget` subrequests.
    fn start(budget: u32) -> Arc<Chain> {
        Chain::join(next_id(), budget)
    }

    /// The live chain `id`, or (if it has ended meanwhile) a new one under
    /// that id with the `remaining` budget the header said.
    fn join(id: u64, remaining: u32) -> Arc<Chain> {
        let mut chains = CHAINS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(chain) = chains.get(&id).and_then(Weak::upgrade) {
            return chain;
        }
        let chain = Arc::new(Chain {
            id,
            remaining: AtomicU32::new(remaining),
        });
        chains.insert(id, Arc::downgrade(&chain));
        chain
    }

    /// Takes one subrequest from the budget: what is left after it, or
    /// `None` when the budget was already spent.
    fn take_one(&self) -> Option<u32> {
        self.remaining
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .ok()
            .map(|before| before - 1)
    }

    fn remaining(&self) -> u32 {
        self.remaining.load(Ordering::Acquire)
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        let mut chains = CHAINS.lock().unwrap_or_else(|p| p.into_inner());
        // A chain re-joined under the same id after this one ended stays.
        if chains.get(&self.id).is_some_and(|w| w.strong_count() == 0) {
            chains.remove(&self.id);
        }
    }
}

/// The HMAC with the process's key already absorbed: each tag clones it
/// instead of hashing the key's two pads again.
fn keyed() -> Hmac<Sha256> {
    static KEYED: LazyLock<Hmac<Sha256>> =
        LazyLock::new(|| <Hmac<Sha256> as Mac>::new_from_slice(&KEY[..]).expect("HMAC takes any key length"));
    KEYED.clone()
}

fn mac(text: &str) -> [u8; 32] {
    let mut m = keyed();
    m.update(text.as_bytes());
    m.finalize().into_bytes().into()
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// A header value for a hop at `depth` of `chain` with `remaining` budget.
fn encode(depth: u32, remaining: u32, chain: u64) -> HeaderValue {
    use std::fmt::Write;
    // One buffer for the text, then its tag (every upstream request sends one).
    let mut out = String::with_capacity(64);
    let _ = write!(out, "{depth}/{remaining}/{chain:016x}");
    let tag = mac(&out);
    out.push('/');
    push_hex(&mut out, &tag[..MAC_LEN]);
    HeaderValue::try_from(out).expect("ASCII digits and hex")
}

/// Reads a header value written by this process: `(depth, remaining, chain)`.
fn decode(value: &[u8]) -> Option<(u32, u32, u64)> {
    let value = std::str::from_utf8(value).ok()?;
    let (text, tag) = value.rsplit_once('/')?;
    let tag = unhex(tag)?;
    let mut m = keyed();
    m.update(text.as_bytes());
    // Constant-time comparison of the truncated tag.
    if tag.len() != MAC_LEN || m.verify_truncated_left(&tag).is_err() {
        return None;
    }
    let mut parts = text.split('/');
    let depth = parts.next()?.parse().ok()?;
    let remaining = parts.next()?.parse().ok()?;
    let chain = u64::from_str_radix(parts.next()?, 16).ok()?;
    parts.next().is_none().then_some((depth, remaining, chain))
}

/// Where an incoming request stands in its chain.
#[derive(Debug, Clone, Default)]
pub struct Hop {
    /// Times the chain had passed through this process before this request.
    pub depth: u32,
    /// The chain, when the request arrived with a valid header.
    chain: Option<Arc<Chain>>,
}

impl Hop {
    /// Removes every copy of the loop header from `req` and returns the hop
    /// it proves; a missing, repeated or forged header proves nothing.
    pub fn take(req: &mut pingora_http::RequestHeader) -> Hop {
        let mut values = req.headers.get_all(HEADER).iter();
        let first = values.next().cloned();
        let single = values.next().is_none();
        if first.is_none() {
            return Hop::default();
        }
        req.remove_header(HEADER);
        match first.filter(|_| single).and_then(|v| decode(v.as_bytes())) {
            Some((depth, remaining, id)) => Hop {
                depth,
                chain: Some(Chain::join(id, remaining)),
            },
            None => Hop::default(),
        }
    }

    /// True when this request has passed through too many times.
    pub fn exhausted(&self) -> bool {
        self.depth >= MAX_DEPTH
    }

    /// The header for a plain route's upstream request (which is not a
    /// subrequest: it takes nothing from the budget). A request without a
    /// chain names a new one with `budget`, registered only if the request
    /// comes back (a plain route makes no subrequests of its own).
    pub fn forward(&self, budget: u32) -> HeaderValue {
        match &self.chain {
            Some(chain) => encode(self.depth + 1, chain.remaining(), chain.id),
            None => encode(self.depth + 1, budget, next_id()),
        }
    }
}

/// A worker request's side of its chain: counts its subrequests against
/// the chain's budget and labels each with the next hop's header.
#[derive(Debug)]
pub struct Outgoing {
    depth: u32,
    chain: OnceLock<Arc<Chain>>,
    /// The budget a chain that starts here gets: the worker's own limit.
    budget: u32,
}

impl Outgoing {
    /// The outgoing side of `hop` for a worker whose limit is `budget`.
    pub fn new(hop: &Hop, budget: u32) -> Outgoing {
        let chain = OnceLock::new();
        if let Some(c) = &hop.chain {
            let _ = chain.set(c.clone());
        }
        Outgoing {
            depth: hop.depth,
            chain,
            budget,
        }
    }

    /// Takes one subrequest from the chain's budget and returns the header
    /// to send with it, or `None` when the chain has no budget left.
    pub fn next(&self) -> Option<HeaderValue> {
        let chain = self.chain.get_or_init(|| Chain::start(self.budget));
        let remaining = chain.take_one()?;
        Some(encode(self.depth + 1, remaining, chain.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(values: &[&str]) -> pingora_http::RequestHeader {
        let mut req = pingora_http::RequestHeader::build("GET", b"/", None).unwrap();
        for v in values {
            req.append_header(HEADER, *v).unwrap();
        }
        req
    }

    #[test]
    fn a_header_we_wrote_is_believed_and_removed() {
        let out = Outgoing::new(&Hop::default(), 5);
        let v = out.next().unwrap();
        let mut req = request_with(&[v.to_str().unwrap()]);
        let hop = Hop::take(&mut req);
        assert!(req.headers.get(HEADER).is_none());
        assert_eq!(hop.depth, 1);
        // Same chain: the budget is shared.
        let child = Outgoing::new(&hop, 50);
        for _ in 0..4 {
            assert!(child.next().is_some());
        }
        assert!(out.next().is_none(), "5 taken in all");
        assert!(child.next().is_none());
    }

    #[test]
    fn forged_or_repeated_headers_prove_nothing() {
        let good = Outgoing::new(&Hop::default(), 5).next().unwrap();
        let good = good.to_str().unwrap().to_string();
        let (text, tag) = good.rsplit_once('/').unwrap();
        let bumped = text.replacen("1/", "16/", 1);
        for forged in [
            format!("{bumped}/{tag}"),
            format!("{text}/{}", "0".repeat(32)),
            "16/50/0000000000000001/".to_string(),
            format!("{text}/{}", &tag[..30]),
            "garbage".to_string(),
            String::new(),
        ] {
            let mut req = request_with(&[&forged]);
            let hop = Hop::take(&mut req);
            assert_eq!(hop.depth, 0, "{forged}");
            assert!(hop.chain.is_none());
            assert!(req.headers.get(HEADER).is_none());
        }
        let mut req = request_with(&[&good, &good]);
        assert_eq!(Hop::take(&mut req).depth, 0);
        assert!(req.headers.get(HEADER).is_none());
    }

    #[test]
    fn depth_grows_by_one_per_hop_and_is_bounded() {
        let mut hop = Hop::default();
        for depth in 0..MAX_DEPTH {
            assert_eq!(hop.depth, depth);
            assert!(!hop.exhausted());
            let v = Outgoing::new(&hop, 100).next().unwrap();
            hop = Hop::take(&mut request_with(&[v.to_str().unwrap()]));
        }
        assert!(hop.exhausted());
        let v = Hop::default().forward(10);
        let first = Hop::take(&mut request_with(&[v.to_str().unwrap()]));
        assert_eq!(first.depth, 1);
        let v = hop.forward(10);
        let next = Hop::take(&mut request_with(&[v.to_str().unwrap()]));
        assert_eq!(next.depth, MAX_DEPTH + 1);
    }

    #[test]
    fn ended_chains_leave_the_registry() {
        let out = Outgoing::new(&Hop::default(), 3);
        let v = out.next().unwrap();
        let id = out.chain.get().unwrap().id;
        drop(out);
        assert!(!CHAINS.lock().unwrap().contains_key(&id));
        // A late hop of an ended chain starts over with the budget it carried.
        let hop = Hop::take(&mut request_with(&[v.to_str().unwrap()]));
        let child = Outgoing::new(&hop, 50);
        assert!(child.next().is_some());
        assert!(child.next().is_some());
        assert!(child.next().is_none());
    }
}
