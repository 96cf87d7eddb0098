//! The per-isolate I/O context native callbacks reach ([`IsolateState`], an
//! isolate slot): the requests in flight, their pending promises and the
//! tasks behind them, native bodies and sinks, and every API's native
//! state by id; plus what an async operation delivers back
//! ([`OpResult`], [`Completion`]) and where a handler's outcome goes
//! ([`Reply`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::api::encoding::DecoderState;
use crate::error::DispatchError;
use crate::io::body::{BodyStream, BodyWriter};
use crate::io::http::{FetchError, Outcome, WorkerResponse};
use crate::io::limits::MemoryBudget;
use crate::io::request::RequestCtx;
use crate::script::worker::WorkerCode;

/// The result of an async operation, delivered on the isolate's thread.
pub(crate) enum OpResult {
    /// A chunk read from a native body (`None`: the end).
    Chunk {
        rid: u32,
        stream: BodyStream,
        chunk: Option<Result<Bytes, crate::io::body::BodyError>>,
    },
    /// A chunk written into a sink, or why not.
    Written(Result<(), crate::io::body::BodyError>),
    /// A subrequest's response head (its body registered as a native body).
    Fetched {
        req_id: u32,
        result: Result<WorkerResponse, FetchError>,
    },
    /// A message (or the close) for a WebSocket's server end.
    WsEvent {
        id: u32,
        rx: tokio::sync::mpsc::Receiver<crate::api::websocket::WsEvent>,
        event: Option<crate::api::websocket::WsEvent>,
    },
    /// A timer fired.
    Timer,
    /// A KV operation finished.
    Kv(crate::api::kv::ops::KvDone),
    /// Settling panics on purpose (`ops.testPanic("settle")`, tests only).
    TestPanic,
}

/// What settles a pending promise.
pub(crate) enum Pending {
    /// A task of the thread's `LocalSet` (`jsg::promise::promise_op`).
    Task(tokio::task::AbortHandle),
    /// Someone outside the isolate (a pass's `fetch()`, settled through
    /// `http::FetchReply`), told by this sender's drop that nobody waits.
    Outside(oneshot::Sender<()>),
}

impl Pending {
    /// The promise's request ended: the work stops (or is told to).
    pub(crate) fn stop(self) {
        match self {
            Pending::Task(task) => task.abort(),
            Pending::Outside(alive) => drop(alive),
        }
    }
}

/// A completed async operation addressed to one promise of one isolate.
pub(crate) struct Completion {
    pub isolate: u64,
    pub promise: u32,
    pub result: OpResult,
}

/// Where the outcome of a handler invocation goes.
pub(crate) enum Reply {
    /// A `fetch` event's request phase: the response or a pass (see
    /// `api::fetch::pass_out`), or why there is neither.
    Fetch(oneshot::Sender<Result<Outcome, DispatchError>>),
    /// A passed request's response phase: the final response.
    Answer(oneshot::Sender<Result<WorkerResponse, DispatchError>>),
    /// A `scheduled` event: done (after its `waitUntil` work), or why not.
    Scheduled(oneshot::Sender<Result<(), DispatchError>>),
}

/// Which limit a script hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    Cpu,
    Memory,
    /// Not a limit: a Rust panic was caught while the isolate ran (a bug
    /// in the runtime), so its state cannot be trusted any more.
    Internal,
}

impl Limit {
    pub(crate) fn error(self) -> DispatchError {
        match self {
            Limit::Cpu => DispatchError::CpuLimit,
            Limit::Memory => DispatchError::MemoryLimit,
            Limit::Internal => DispatchError::Internal("a runtime error was caught; the isolate was discarded".into()),
        }
    }
}

/// Per-isolate state reachable from native callbacks (an isolate slot).
pub(crate) struct IsolateState {
    pub key: u64,
    pub worker: Arc<str>,
    /// The version this isolate runs (weak: isolates must not keep a
    /// retired version alive).
    pub code: std::sync::Weak<WorkerCode>,
    pub subrequest_limit: u32,
    /// False while the script's top level runs: no I/O outside a request.
    pub serving: bool,
    pub completions: mpsc::UnboundedSender<Completion>,
    pub inflight: Arc<AtomicUsize>,
    /// The last id handed out (ids come from [`IsolateState::next_id`]).
    pub next_id: u32,
    /// Pending promises, with the request each belongs to.
    pub promises: HashMap<u32, (v8::Global<v8::PromiseResolver>, Option<u32>)>,
    /// Set by the CPU watchdog when it terminated this isolate's JS.
    pub cpu_fired: Arc<AtomicBool>,
    /// Set by the near-heap-limit callback.
    pub heap_exceeded: Arc<AtomicBool>,
    /// When the current JS slice began (monotonic clock), if one runs.
    pub slice_started: Option<std::time::Instant>,
    /// CPU the current slice spent on one-off work of the isolate (loading
    /// a lazily loaded bootstrap file), which does not count towards making
    /// its worker heavy.
    pub slice_one_off: std::time::Duration,
    /// The client request the running slice is charged to, if any.
    pub slice_request: Option<u32>,
    /// The longest slice of that request, when it ended during this slice
    /// (the slice's own CPU is known only once it returns).
    pub ended_in_slice: Option<std::time::Duration>,
    /// How often this isolate's recent client requests held the thread.
    pub strain: crate::io::runtime::Strain,
    pub bodies: HashMap<u32, BodyStream>,
    /// WebSockets handed to the script (`response.webSocket`), by id, with
    /// the request they came to (they go when it ends).
    pub sockets: HashMap<u32, (crate::io::http::WebSocketEnd, u32)>,
    /// WebSocketPairs' server ends, by id.
    pub ws_servers: HashMap<u32, crate::api::websocket::ServerSocket>,
    pub sinks: HashMap<u32, BodyWriter>,
    pub sink_streams: HashMap<u32, BodyStream>,
    pub requests: HashMap<u32, RequestCtx>,
    pub decoders: HashMap<u32, DecoderState>,
    /// Promises rejected with no handler during the current slice of JS,
    /// with their reasons; reported once the microtask queue has drained
    /// unless a handler was attached by then.
    pub rejections: Vec<(v8::Global<v8::Promise>, v8::Global<v8::Value>)>,
    /// CompressionStream / DecompressionStream codecs by id.
    pub codecs: HashMap<u32, crate::api::compression::Codec>,
    /// `HTMLRewriter.transform()`s in progress, by id.
    pub html_rewriters: HashMap<u32, crate::api::html_rewriter::Rewriter>,
    /// Running hashes of `crypto.DigestStream`s.
    pub digests: HashMap<u32, Box<dyn sha2::digest::DynDigest>>,
    /// ReadableStream values on their way into a KV put, by id.
    pub kv_buffers: HashMap<u32, crate::api::kv::ops::KvBuffer>,
    /// What works on each pending promise, by promise id: stopped when the
    /// request it belongs to ends (timers stop, subrequests are dropped).
    pub tasks: HashMap<u32, Pending>,
    /// The request each sink (a body the script writes) was opened for: a
    /// request lives on, after `requestDone`, while its sinks are open.
    pub sink_owners: HashMap<u32, u32>,
    /// This isolate's memory budget (`memory_mb`).
    pub memory: Arc<MemoryBudget>,
    /// `internals.lazyValue(name)`, which the getter of every lazy global
    /// calls on its first read (set once the bootstrap is in place).
    pub lazy_value: Option<v8::Global<v8::Function>>,
}

impl IsolateState {
    pub fn next_id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.next_id
    }

    /// Whether request `req` is still live: its ops may start I/O and timers.
    pub fn request_live(&self, req: u32) -> bool {
        self.requests.contains_key(&req)
    }

    /// Registers a native body so the script can read or forward it.
    pub fn add_body(&mut self, stream: BodyStream) -> u32 {
        let id = self.next_id();
        self.bodies.insert(id, stream);
        id
    }
}

pub(crate) type SharedState = Rc<RefCell<IsolateState>>;
