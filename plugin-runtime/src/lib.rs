//! The V8 side of isoproxy: isolate threads that run Cloudflare Workers
//! scripts. This crate knows nothing of Pingora: it takes request heads and
//! body streams, and answers with responses whose bodies are streams too.
//! Subrequests (`fetch()` in a script) go out through a [`Fetcher`] that the
//! embedder provides, so the embedder decides how origins are reached.

mod api;
mod error;
mod io;
mod jsg;
mod script;

pub use api::kv;
pub use script::{code_cache, snapshot};

pub use api::websocket::{MAX_CLOSE_REASON_BYTES, MAX_MESSAGE_BYTES, MAX_QUEUED_BYTES, WebSocketPeer, WsEvent};
pub use error::{DispatchError, ScriptError};
pub use io::body::{Body, BodyError, BodyStream, BodyWriter, body_channel, linked_body_channel};
pub use io::http::{
    Answer, BoxFuture, ClientInfo, FetchError, FetchReply, FetchRequest, Fetcher, OriginSocket, Outcome, Pass,
    RequestHead, ResponseHead, UpgradedOrigin, WebSocketEnd, WorkerResponse,
};
pub use io::runtime::{DEFAULT_QUEUE_LIMIT, PROXY_THREAD_CPU_MS, Runtime, RuntimeOptions, Warming};
pub use io::thread::{IsolateEvent, IsolateEvents};
pub use jsg::guard::op_panics;
#[doc(hidden)]
pub use jsg::ops::expose_raw_ops_for_tests;
pub use jsg::wire::{
    ADDED_ON_THE_WIRE, MAX_HEADER_BYTES, MAX_HEADER_COUNT, MAX_METHOD_BYTES, MAX_REASON_BYTES, MAX_URL_BYTES,
};
pub use script::compat::{CompatError, CompatFlags};
pub use script::files::{read_bounded, read_bounded_string};
pub use script::worker::{MIN_REDACTED_LEN, Secret, WorkerCode, WorkerSpec};
