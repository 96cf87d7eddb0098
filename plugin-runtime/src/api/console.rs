//! `console.*`: one log line per call, and what `inspect` asks of a promise.

use crate::jsg::ops::{state, string_arg, throw, u32_arg};
use crate::jsg::wire;

pub(crate) fn op_log(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let level = match u32_arg(scope, args.get(0)) {
        0 => log::Level::Debug,
        1 => log::Level::Info,
        2 => log::Level::Warn,
        _ => log::Level::Error,
    };
    let msg = match string_arg(scope, args.get(1), "a console message") {
        Ok(m) => m,
        Err(e) => return throw(scope, e),
    };
    let worker = state(scope).borrow().worker.clone();
    // One log line per call, whatever the script wrote: newlines and other
    // controls escaped, so no line of isoproxy's log can be forged.
    let msg = wire::escape_log(&msg, MAX_CONSOLE_BYTES);
    log::log!(target: "isoproxy::worker", level, "worker {worker}: {msg}");
}

/// Longest console message logged (the rest is cut, with a note).
const MAX_CONSOLE_BYTES: usize = 64 * 1024;

/// `promiseState(p)` -> `[0]` pending, `[1, value]` fulfilled, `[2, reason]`
/// rejected (for `inspect`); undefined when `p` is not a promise.
pub(crate) fn op_promise_state(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let Ok(promise) = v8::Local::<v8::Promise>::try_from(args.get(0)) else {
        return;
    };
    let state = match promise.state() {
        v8::PromiseState::Pending => 0,
        v8::PromiseState::Fulfilled => 1,
        v8::PromiseState::Rejected => 2,
    };
    let mut elems = vec![v8::Integer::new(scope, state).into()];
    if state != 0 {
        elems.push(promise.result(scope));
    }
    rv.set(v8::Array::new_with_elements(scope, &elems).into());
}
