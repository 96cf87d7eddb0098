//! Errors of the runtime, classified by where the fault is.

/// A script that cannot be loaded: it does not parse, an import cannot be
/// resolved, or its top level throws.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// A module file could not be read.
    #[error("{path}: {reason}")]
    Read {
        /// The file that could not be read.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// A module failed to compile, link or evaluate; the message carries
    /// `file:line:column: reason`.
    #[error("{location}: {message}")]
    Compile {
        /// `file:line:column` of the fault.
        location: String,
        /// V8's one-line message.
        message: String,
    },
    /// The worker's compatibility flags are not valid.
    #[error("{0}")]
    Compat(#[from] crate::script::compat::CompatError),
    /// The module has no usable default export.
    #[error("{path}: {reason}")]
    Shape {
        /// The main module.
        path: String,
        /// What is wrong with its exports.
        reason: String,
    },
}

/// Why a request could not be answered by the worker.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DispatchError {
    /// The script threw (or its returned promise rejected), or it returned
    /// something that is not a `Response`. Served as 500.
    #[error("uncaught exception: {0}")]
    Exception(String),
    /// The script's uncaught exception was a failed subrequest: the origin
    /// could not be reached or timed out. Served as 502 or 504.
    #[error("subrequest failed: {0}")]
    Origin(crate::io::http::FetchError),
    /// The request's JS used more CPU time than its limit; the isolate was
    /// discarded. Served as 503.
    #[error("worker exceeded CPU time limit")]
    CpuLimit,
    /// The isolate ran out of memory; it was discarded. Served as 503.
    #[error("worker exceeded memory limit")]
    MemoryLimit,
    /// The worker did not start its response within the request timeout.
    /// Served as 504.
    #[error("the worker did not start its response in time")]
    TimedOut,
    /// The worker's isolate could not be created (its script fails at load).
    #[error("worker failed to start: {0}")]
    Startup(#[from] ScriptError),
    /// The runtime is shutting down or its thread is gone.
    #[error("the isolate thread is unavailable")]
    Unavailable,
    /// The queue in front of the worker's isolate thread is full (see
    /// `Runtime::set_queue_limit`): refused at once rather than left to
    /// wait for a timeout. Served as 503 with `Retry-After`.
    #[error("the worker is overloaded: {queued} requests already wait for its isolate thread")]
    Overloaded {
        /// The queue's length when this request was refused.
        queued: usize,
    },
    /// A bug in the runtime (a Rust panic) was caught while this request
    /// ran; the isolate was discarded. Served as 500.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why an op refused what a script handed it. Each variant is the JS
/// exception it becomes (thrown by `ops::throw`), so the mapping from Rust
/// error to JS class lives in one place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OpError {
    /// A value of the wrong type or shape: a `TypeError`.
    #[error("{0}")]
    Type(String),
    /// A value outside what is allowed (a status, a size, a count): a
    /// `RangeError`.
    #[error("{0}")]
    Range(String),
    /// Reading an argument ran script code that threw (a getter, a
    /// `toString`): that exception is already pending and stays the one
    /// the script sees.
    #[error("an exception is pending")]
    Pending,
}

impl OpError {
    pub(crate) fn type_error(msg: impl Into<String>) -> OpError {
        OpError::Type(msg.into())
    }

    pub(crate) fn range_error(msg: impl Into<String>) -> OpError {
        OpError::Range(msg.into())
    }

    /// A string longer than V8 (or a bound of ours) allows.
    pub(crate) fn too_long() -> OpError {
        OpError::Range("Invalid string length".into())
    }
}
