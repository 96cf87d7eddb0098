//! The Web APIs' native halves: what `js/*.js` cannot do in JavaScript
//! (crypto, codecs, the cache store, HTML rewriting, WebSocket channels,
//! KV, URL parsing, text encoding, timers, ...), one file or folder per API.
//!
//! May use `jsg` (to read arguments and answer JS), `io` (the request's
//! context, bodies, limits) and `error`; never `script`, and no API module
//! uses another. Each op is named in `jsg/op_table.rs`.

pub(crate) mod async_context;
pub(crate) mod cache;
pub(crate) mod compression;
pub(crate) mod console;
pub(crate) mod crypto;
pub(crate) mod encoding;
pub(crate) mod fetch;
pub(crate) mod html_rewriter;
pub mod kv;
pub(crate) mod streams;
pub(crate) mod structured_clone;
pub(crate) mod timers;
pub(crate) mod url;
pub(crate) mod websocket;
