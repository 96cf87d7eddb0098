//! The request a continuation belongs to, carried by V8 as the
//! continuation-preserved embedder data: what `AsyncLocalStorage`
//! (js/node/async_hooks.js) and every op that starts I/O read.

use crate::jsg::ops::current_request;

/// `currentRequest()` -> the id of the request whose handler (or a
/// continuation of it) is running, or undefined.
pub(crate) fn op_current_request(
    scope: &mut v8::PinScope,
    _args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    if let Some(id) = current_request(scope) {
        rv.set(v8::Integer::new_from_unsigned(scope, id).into());
    }
}

/// `getContext()` -> the continuation-preserved embedder data: the
/// request id or an `AsyncLocalStorage` frame (undefined outside both).
pub(crate) fn op_get_context(scope: &mut v8::PinScope, _args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    rv.set(scope.get_continuation_preserved_embedder_data());
}

/// `setContext(value)`: replaces it; promise reactions created from now on
/// run with `value` (the bootstrap only passes what `getContext` returned
/// or a frame built from it, so the request id is kept).
pub(crate) fn op_set_context(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    scope.set_continuation_preserved_embedder_data(args.get(0));
}
