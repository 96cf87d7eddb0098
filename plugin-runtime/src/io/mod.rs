//! The per-request I/O context and the event loop: where each worker's
//! requests run ([`runtime`]), a thread's isolates and their loop
//! ([`thread`], [`proxy_thread`]), CPU and memory limits, bodies, and the
//! HTTP types the embedder speaks.
//!
//! May use `jsg` and `error`; `script` to create and drive isolates; `api`
//! only for the types of the native state the context holds (codecs,
//! rewriters, WebSocket ends, KV buffers) and the WebSocket a response
//! carries. `request.rs` owns one request's life from dispatch to done.

pub(crate) mod body;
pub(crate) mod context;
pub(crate) mod http;
pub(crate) mod limits;
pub(crate) mod proxy_thread;
pub(crate) mod request;
pub(crate) mod runtime;
pub(crate) mod sysbuf;
pub(crate) mod thread;
