//! No Rust panic crosses into V8.
//!
//! Every callback the runtime registers with V8 (each op, the lazy property
//! getter, the promise reject callback, module resolution, the near-heap-
//! limit callback) runs inside [`std::panic::catch_unwind`]. A panic can't
//! unwind through V8's C++ frames: left alone it aborts the whole process,
//! every worker with it. Caught, it becomes a JS exception naming the op
//! (`TypeError: internal error in op respond`), a log line with the
//! worker's name and a process-wide count ([`op_panics`], exported by the
//! proxy as `isoproxy_op_panics_total`). The ops are written not to panic
//! on any input; this is the net under them.
//!
//! The wrappers are generic functions called from zero-sized fn items (see
//! `op_table!` in jsg/ops.rs): V8 callbacks must be zero-sized types, because
//! the v8 crate turns the callback's *type* into a C function pointer
//! (`MapFnTo` / `UnitType`), not a value.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::io::context::SharedState;

static PANICS: AtomicU64 = AtomicU64::new(0);

/// Rust panics caught at the V8 boundary or in an isolate thread's loop
/// since the process started (each one a bug in the runtime, contained).
pub fn op_panics() -> u64 {
    PANICS.load(Ordering::Relaxed)
}

/// The panic's message (`panic!` payloads are `&str` or `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// Counts and logs a caught panic: `worker NAME: internal error in WHERE: MESSAGE`.
pub(crate) fn record(worker: &str, place: &str, payload: &(dyn Any + Send)) {
    PANICS.fetch_add(1, Ordering::Relaxed);
    let text = panic_message(payload);
    let msg = crate::jsg::wire::escape_log(&text, 1024);
    log::error!(target: "isoproxy::worker", "worker {worker}: internal error in {place}: {msg}");
}

/// The name of the worker whose isolate `scope` belongs to ("-" if unknown).
pub(crate) fn worker_name(isolate: &v8::Isolate) -> String {
    isolate
        .get_slot::<SharedState>()
        .and_then(|st| st.try_borrow().ok().map(|s| s.worker.to_string()))
        .unwrap_or_else(|| "-".to_string())
}

/// Runs op `name`'s body; a panic becomes a `TypeError` in the calling
/// script (plus the log line and the count).
pub(crate) fn op<'s, 'i, 'a, 'r, F>(
    name: &'static str,
    scope: &mut v8::PinScope<'s, 'i>,
    args: v8::FunctionCallbackArguments<'a>,
    rv: v8::ReturnValue<'r, v8::Value>,
    body: F,
) where
    F: FnOnce(&mut v8::PinScope<'s, 'i>, v8::FunctionCallbackArguments<'a>, v8::ReturnValue<'r, v8::Value>),
{
    let outcome = catch_unwind(AssertUnwindSafe(|| body(scope, args, rv)));
    if let Err(payload) = outcome {
        record(&worker_name(scope), &format!("op {name}"), &*payload);
        crate::jsg::ops::throw(
            scope,
            crate::error::OpError::Type(format!("internal error in op {name}")),
        );
    }
}

/// Runs `body`, catching a panic: for callbacks that have no JS caller to
/// throw at (the promise reject callback, module resolution, the heap-limit
/// callback) and for the isolate thread's own work. The caller decides
/// what a panic means there and calls [`record`].
pub(crate) fn catch<T>(body: impl FnOnce() -> T) -> Result<T, Box<dyn Any + Send>> {
    catch_unwind(AssertUnwindSafe(body))
}
