//! The V8 side of isoproxy: isolate threads that run Cloudflare Workers
//! scripts. This crate knows nothing of Pingora: it takes request heads and
//! body streams, and answers with responses whose bodies are streams too.
//! Subrequests (`fetch()` in a script) go out through a [`Fetcher`] that the
//! embedder provides, so the embedder decides how origins are reached.

mod body;
mod cache;
pub mod code_cache;
mod compat;
mod compression;
mod crypto;
mod error;
mod files;
mod guard;
mod headers;
mod html_rewriter;
mod http;
mod isolate;
mod js;
pub mod kv;
mod limits;
mod ops;
mod packages;
mod platform;
mod proxy_thread;
mod runtime;
pub mod snapshot;
mod snapshot_make;
mod thread;
mod websocket;
mod wire;
mod worker;

pub use body::{Body, BodyError, BodyStream, BodyWriter, body_channel, linked_body_channel};
pub use compat::{CompatError, CompatFlags};
pub use error::{DispatchError, ScriptError};
pub use files::{read_bounded, read_bounded_string};
pub use guard::op_panics;
pub use http::{
    Answer, BoxFuture, ClientInfo, FetchError, FetchReply, FetchRequest, Fetcher, OriginSocket, Outcome, Pass,
    RequestHead, ResponseHead, UpgradedOrigin, WebSocketEnd, WorkerResponse,
};
#[doc(hidden)]
pub use ops::expose_raw_ops_for_tests;
pub use runtime::{
    DEFAULT_QUEUE_LIMIT, IsolateEvent, IsolateEvents, PROXY_THREAD_CPU_MS, Runtime, RuntimeOptions, Warming,
};
pub use websocket::{MAX_CLOSE_REASON_BYTES, MAX_MESSAGE_BYTES, MAX_QUEUED_BYTES, WebSocketPeer, WsEvent};
pub use wire::{MAX_HEADER_BYTES, MAX_HEADER_COUNT, MAX_METHOD_BYTES, MAX_REASON_BYTES, MAX_URL_BYTES};
pub use worker::{MIN_REDACTED_LEN, Secret, WorkerCode, WorkerSpec};
