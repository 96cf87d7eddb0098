//! Timers' native half: one sleep per `setTimeout` / `setInterval` tick,
//! owned by the request that set it (it stops when the request ends).

use crate::io::context::OpResult;
use crate::jsg::ops::number_arg;
use crate::jsg::promise::promise_op;

/// `timer(ms)` -> Promise resolved after `ms` milliseconds.
pub(crate) fn op_timer(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    // Non-numbers, NaN and negatives are 0; the longest wait is u32::MAX ms
    // (49 days: no request lives that long).
    let ms = number_arg(scope, args.get(0)).unwrap_or(0.0);
    let ms = if ms > 0.0 {
        ms.min(f64::from(u32::MAX)) as u64
    } else {
        0
    };
    promise_op(scope, &mut rv, async move {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        OpResult::Timer
    });
}
