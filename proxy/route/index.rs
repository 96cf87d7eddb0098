//! The [`Router`](super::Router)'s lookup structure: finding the most
//! specific route costs the same with 10 routes as with 10,000.
//!
//! The precedence rules (module docs of `route.rs`) reduce to three facts
//! that the index is built on:
//!
//! - An exact host beats every wildcard, so exact hosts sit in a hash map
//!   and are tried first.
//! - Two wildcard hosts that match the same host never have the same length
//!   (`*.d` is written with the `.` that a suffix pattern `*s` never starts
//!   with), so "the longer wildcard wins" is "the longer matched suffix of
//!   the host wins". `*.d` is kept under the key `.d` and `*s` under `s`;
//!   both rank by key length (pattern length - 1), and `*` is the empty key.
//!   The keys live in a trie over the host's bytes read from the end: one
//!   walk down finds every wildcard matching the host, and walking back up
//!   visits them longest first.
//! - For one host pattern, an exact path that matches beats every prefix
//!   that matches (it is at least as long, and exact wins ties), and among
//!   prefixes the longest wins. So exact paths sit in a hash map and
//!   prefixes in a forward byte trie: a walk down yields the longest one.
//!
//! Ties between equal patterns go to the earlier route, as in the linear
//! order: values are indices into the router's precedence-sorted list and
//! the first one inserted for a key stays.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::{HostPattern, PathPattern, RoutePattern};

/// The index's hash maps. Their keys come from the configuration, never
/// from clients (a lookup inserts nothing), so the flooding that SipHash
/// guards against cannot be aimed at them; FNV-1a is a few times faster on
/// keys as short as hosts and paths.
type Map<V> = HashMap<Box<[u8]>, V, BuildHasherDefault<Fnv1a>>;

/// 64-bit FNV-1a.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Longest host the lookup lowercases on the stack; longer ones (never
/// seen from `authority.rs`, which lowercases hosts itself) allocate.
const STACK_HOST: usize = 256;

/// The index over a router's routes; values are positions in its
/// precedence-sorted list.
#[derive(Debug, Clone, Default)]
pub(super) struct RouteIndex {
    /// Exact hosts (lowercase) and their paths.
    exact: Map<PathIndex>,
    /// Wildcard hosts: keys `.d` (for `*.d`), `s` (for `*s`) and the empty
    /// key (for `*`), stored reversed. Node values index `wildcards`.
    suffixes: ByteTrie,
    /// The wildcard hosts' paths.
    wildcards: Vec<Wildcard>,
}

#[derive(Debug, Clone)]
struct Wildcard {
    /// `*.d`: the host must have at least one byte before the matched `.d`.
    subdomains: bool,
    paths: PathIndex,
}

/// The path patterns of one host pattern.
#[derive(Debug, Clone, Default)]
struct PathIndex {
    /// Exact paths (case-sensitive).
    exact: Map<usize>,
    /// Prefix paths, forward; the deepest value on a request path's walk
    /// is the longest prefix.
    prefixes: ByteTrie,
}

impl PathIndex {
    fn insert(&mut self, path: &PathPattern, value: usize) {
        match path {
            PathPattern::Exact(p) => {
                self.exact.entry(p.as_bytes().into()).or_insert(value);
            }
            PathPattern::Prefix(p) => self.prefixes.insert(p.bytes(), value),
        }
    }

    /// The best route for `path`: an exact path, else the longest prefix.
    fn find(&self, path: &[u8]) -> Option<usize> {
        if let Some(&value) = self.exact.get(path) {
            return Some(value);
        }
        self.prefixes.longest(path.iter().copied())
    }
}

impl RouteIndex {
    /// Indexes `patterns`, given in precedence order (the router's sorted
    /// list): equal patterns keep the first.
    pub(super) fn new<'a>(patterns: impl IntoIterator<Item = &'a RoutePattern>) -> RouteIndex {
        let mut index = RouteIndex::default();
        for (value, pattern) in patterns.into_iter().enumerate() {
            let (key, subdomains) = match pattern.host() {
                HostPattern::Exact(h) => {
                    index
                        .exact
                        .entry(h.as_bytes().into())
                        .or_default()
                        .insert(pattern.path(), value);
                    continue;
                }
                HostPattern::Any => (String::new(), false),
                HostPattern::Subdomains(d) => (format!(".{d}"), true),
                HostPattern::Suffix(s) => (s.clone(), false),
            };
            let node = index.suffixes.node_for(key.bytes().rev());
            let slot = match index.suffixes.nodes[node].value {
                Some(slot) => slot,
                None => {
                    index.wildcards.push(Wildcard {
                        subdomains,
                        paths: PathIndex::default(),
                    });
                    let slot = index.wildcards.len() - 1;
                    index.suffixes.nodes[node].value = Some(slot);
                    slot
                }
            };
            index.wildcards[slot].paths.insert(pattern.path(), value);
        }
        index
    }

    /// The position of the most specific route for a normalised `host`
    /// (no port, no trailing dot, any case) and `path` (not empty).
    pub(super) fn find(&self, host: &str, path: &str) -> Option<usize> {
        let path = path.as_bytes();
        if !host.bytes().any(|b| b.is_ascii_uppercase()) {
            return self.find_lowercase(host.as_bytes(), path);
        }
        if host.len() <= STACK_HOST {
            let mut buf = [0u8; STACK_HOST];
            let buf = &mut buf[..host.len()];
            buf.copy_from_slice(host.as_bytes());
            buf.make_ascii_lowercase();
            return self.find_lowercase(buf, path);
        }
        self.find_lowercase(host.to_ascii_lowercase().as_bytes(), path)
    }

    fn find_lowercase(&self, host: &[u8], path: &[u8]) -> Option<usize> {
        if let Some(found) = self.exact.get(host).and_then(|paths| paths.find(path)) {
            return Some(found);
        }
        // Down the reversed host as far as the trie goes, then back up:
        // every node with a value on the way is a matching wildcard, and
        // deeper is longer, i.e. more specific.
        let (mut node, mut depth) = self.suffixes.walk(host.iter().rev().copied());
        loop {
            if let Some(slot) = self.suffixes.nodes[node].value {
                let wildcard = &self.wildcards[slot];
                if (!wildcard.subdomains || depth < host.len())
                    && let Some(found) = wildcard.paths.find(path)
                {
                    return Some(found);
                }
            }
            if node == ROOT {
                return None;
            }
            node = self.suffixes.nodes[node].parent;
            depth -= 1;
        }
    }
}

const ROOT: usize = 0;

/// A trie over bytes whose nodes may hold a value.
#[derive(Debug, Clone)]
struct ByteTrie {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
struct Node {
    /// Children sorted by byte.
    children: Vec<(u8, usize)>,
    parent: usize,
    value: Option<usize>,
}

impl Default for ByteTrie {
    fn default() -> Self {
        ByteTrie {
            nodes: vec![Node {
                children: Vec::new(),
                parent: ROOT,
                value: None,
            }],
        }
    }
}

impl ByteTrie {
    fn child(&self, node: usize, byte: u8) -> Option<usize> {
        let children = &self.nodes[node].children;
        children
            .binary_search_by_key(&byte, |&(b, _)| b)
            .ok()
            .map(|i| children[i].1)
    }

    /// The node for `key`, created with its missing ancestors.
    fn node_for(&mut self, key: impl Iterator<Item = u8>) -> usize {
        let mut node = ROOT;
        for byte in key {
            node = match self.nodes[node].children.binary_search_by_key(&byte, |&(b, _)| b) {
                Ok(i) => self.nodes[node].children[i].1,
                Err(i) => {
                    let child = self.nodes.len();
                    self.nodes.push(Node {
                        children: Vec::new(),
                        parent: node,
                        value: None,
                    });
                    self.nodes[node].children.insert(i, (byte, child));
                    child
                }
            };
        }
        node
    }

    /// Sets `key`'s value unless it has one.
    fn insert(&mut self, key: impl Iterator<Item = u8>, value: usize) {
        let node = self.node_for(key);
        self.nodes[node].value.get_or_insert(value);
    }

    /// Follows `key` as far as the trie goes: the last node reached and its
    /// depth (bytes consumed).
    fn walk(&self, key: impl Iterator<Item = u8>) -> (usize, usize) {
        let mut node = ROOT;
        let mut depth = 0;
        for byte in key {
            match self.child(node, byte) {
                Some(next) => {
                    node = next;
                    depth += 1;
                }
                None => break,
            }
        }
        (node, depth)
    }

    /// The value of the deepest node with one along `key` (the longest
    /// key that is a prefix of it).
    fn longest(&self, key: impl Iterator<Item = u8>) -> Option<usize> {
        let mut node = ROOT;
        let mut best = self.nodes[ROOT].value;
        for byte in key {
            match self.child(node, byte) {
                Some(next) => {
                    node = next;
                    best = self.nodes[node].value.or(best);
                }
                None => break,
            }
        }
        best
    }
}
