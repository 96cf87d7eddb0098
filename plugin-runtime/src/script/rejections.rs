//! Promises rejected with no handler, noted as V8 reports them; reported
//! (the `unhandledrejection` event, then the log) by
//! `WorkerIsolate::report_rejections` once the microtask queue drains.

use crate::io::context::SharedState;

/// V8's promise reject callback (see `WorkerIsolate::report_rejections`),
/// behind the panic guard: a panic loses one report, nothing more.
pub(crate) extern "C" fn promise_reject_callback(msg: v8::PromiseRejectMessage) {
    // SAFETY: V8 invokes this callback on the isolate's thread inside a context.
    v8::callback_scope!(unsafe scope, &msg);
    v8::scope!(let scope, scope);
    if let Err(payload) = crate::jsg::guard::catch(|| note_rejection(scope, &msg)) {
        crate::jsg::guard::record(
            &crate::jsg::guard::worker_name(scope),
            "the promise reject callback",
            &*payload,
        );
    }
}

fn note_rejection(scope: &mut v8::PinScope, msg: &v8::PromiseRejectMessage) {
    let Some(st) = scope.get_slot::<SharedState>().cloned() else {
        return;
    };
    let promise = msg.get_promise();
    match msg.get_event() {
        v8::PromiseRejectEvent::PromiseRejectWithNoHandler => {
            let reason = msg.get_value().unwrap_or_else(|| v8::undefined(scope).into());
            let entry = (v8::Global::new(scope, promise), v8::Global::new(scope, reason));
            st.borrow_mut().rejections.push(entry);
        }
        v8::PromiseRejectEvent::PromiseHandlerAddedAfterReject => {
            // Handled before the microtask queue drained: not unhandled after all.
            let pending = std::mem::take(&mut st.borrow_mut().rejections);
            let kept: Vec<_> = pending
                .into_iter()
                .filter(|(p, _)| v8::Local::new(scope, p) != promise)
                .collect();
            st.borrow_mut().rejections = kept;
        }
        _ => {}
    }
}
