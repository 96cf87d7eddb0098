//! Streams' native halves: native bodies the script reads (`bodyRead`) and
//! sinks it writes into (`sinkNew`), which Rust reads as a [`Body`].

use bytes::Bytes;

use crate::error::OpError;
use crate::io::body::{BodyError, body_channel};
use crate::io::context::OpResult;
use crate::jsg::ops::{bytes_arg, current_request, number_arg, state, string_arg, u32_arg};
use crate::jsg::promise::{promise_op, rejected_promise};
use crate::jsg::wire;

/// `bodyRead(rid)` -> Promise<Uint8Array | null>.
pub(crate) fn op_body_read(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let rid = u32_arg(scope, args.get(0));
    let Some(mut stream) = st.borrow_mut().bodies.remove(&rid) else {
        return rejected_promise(scope, &mut rv, OpError::type_error("This body has already been used."));
    };
    promise_op(scope, &mut rv, async move {
        let chunk = stream.next().await;
        OpResult::Chunk { rid, stream, chunk }
    });
}

/// `bodyCancel(rid)`: the script no longer wants this body.
pub(crate) fn op_body_cancel(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let rid = u32_arg(scope, args.get(0));
    st.borrow_mut().bodies.remove(&rid);
}

/// `bodyAlive(rid)` -> whether Rust still holds the rest of this native
/// body (not read to its end, cancelled or handed on, nor being read now):
/// what `passThroughOnException()` can still send to the origin.
pub(crate) fn op_body_alive(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let rid = u32_arg(scope, args.get(0));
    let alive = st.borrow().bodies.contains_key(&rid);
    rv.set(v8::Boolean::new(scope, alive).into());
}

/// `sinkNew(length?)` -> id: a pipe the script writes into and Rust reads
/// from; `length`, a non-negative integer, is the body's known length (a
/// FixedLengthStream's), sent as Content-Length.
pub(crate) fn op_sink_new(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    // Only a number is a length (converting anything else would run the
    // script's code); it goes out as Content-Length, so it must be exact.
    let length = number_arg(scope, args.get(0))
        .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n <= 9_007_199_254_740_991.0)
        .map(|n| n as u64);
    let (writer, stream) = body_channel(length);
    let id = {
        let mut s = st.borrow_mut();
        let id = s.next_id();
        s.sinks.insert(id, writer);
        s.sink_streams.insert(id, stream);
        id
    };
    let owner = current_request(scope);
    crate::io::request::sink_opened(&st, id, owner);
    rv.set(v8::Integer::new_from_unsigned(scope, id).into());
}

/// `sinkWrite(id, bytes)` -> Promise, settled once the consumer has room.
pub(crate) fn op_sink_write(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let Some(writer) = st.borrow().sinks.get(&id).cloned() else {
        return rejected_promise(scope, &mut rv, OpError::type_error("the body's consumer went away"));
    };
    let Some(bytes) = bytes_arg(args.get(1)) else {
        return rejected_promise(
            scope,
            &mut rv,
            OpError::type_error("body chunks must be ArrayBuffer or ArrayBufferView"),
        );
    };
    promise_op(scope, &mut rv, async move {
        OpResult::Written(writer.send(Bytes::from(bytes)).await)
    });
}

/// `sinkClose(id, error?)`: ends the body, with an error if one is given.
pub(crate) fn op_sink_close(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let writer = st.borrow_mut().sinks.remove(&id);
    st.borrow_mut().sink_streams.remove(&id);
    crate::io::request::sink_closed(&st, id);
    if let Some(writer) = writer
        && !args.get(1).is_undefined()
    {
        // The reason travels to whoever reads the body, and into logs: one
        // bounded line.
        let msg = string_arg(scope, args.get(1), "the error").unwrap_or_else(|_| "the body stream failed".into());
        let msg = wire::escape_log(&msg, 1024).into_owned();
        tokio::task::spawn_local(async move { writer.fail(BodyError(msg)).await });
    }
}
