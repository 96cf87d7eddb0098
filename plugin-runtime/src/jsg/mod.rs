//! The one place where values cross between Rust and JavaScript: the op
//! table and its registration, argument readers and exceptions ([`ops`]),
//! the panic net around every V8 callback ([`guard`]), the checks on what
//! a script puts on the wire ([`wire`]) and copy-on-write headers
//! ([`headers`]).
//!
//! May use `error` and `io` types, and `script::snapshot_make` (shared with
//! build.rs). Reaches `api` and `script` only as a registry: the op table
//! names every layer's ops, and [`promise::settle`] hands KV and WebSocket
//! results to their API.

pub(crate) mod guard;
pub(crate) mod headers;
pub(crate) mod ops;
pub(crate) mod promise;
pub(crate) mod wire;
