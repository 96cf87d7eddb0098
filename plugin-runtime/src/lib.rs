//! The V8 side of isoproxy: isolate threads that run Cloudflare Workers
//! scripts. This crate knows nothing of Pingora: it takes request heads and
//! body streams, and answers with responses whose bodies are streams too.
//! Subrequests (`fetch()` in a script) go out through a [`Fetcher`] that the
//! embedder provides, so the embedder decides how origins are reached.

mod body;
mod crypto;
mod error;
mod http;
mod isolate;
mod js;
mod limits;
mod ops;
mod platform;
mod runtime;
mod thread;
mod worker;

pub use body::{Body, BodyError, BodyStream, BodyWriter, body_channel};
pub use error::{DispatchError, ScriptError};
pub use http::{BoxFuture, FetchError, FetchRequest, Fetcher, RequestHead, ResponseHead, WorkerResponse};
pub use runtime::{IsolateEvent, IsolateEvents, Runtime, RuntimeOptions};
pub use worker::{WorkerCode, WorkerSpec};
