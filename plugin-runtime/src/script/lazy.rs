//! Lazily loaded bootstrap files and lazy globals: `loadBootstrap` runs a
//! file of `js::LAZY` on first use, `defineLazy` makes a global whose first
//! read asks `internals.lazyValue(name)`.

use crate::error::OpError;
use crate::io::context::SharedState;
use crate::jsg::ops::{str_arg, throw, throw_type_error};
use crate::jsg::wire;

/// Logs promises rejected with no handler (as workerd does, with the stack).
/// `loadBootstrap(file, internals)`: runs one of the lazily loaded
/// bootstrap files (`js::LAZY`) in this isolate, as the eager ones run at
/// startup. `95_lazy.js` calls it at most once per file.
pub(crate) fn op_load_bootstrap(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let Ok(name) = str_arg(scope, args.get(0), "name", 64) else {
        return throw_type_error(scope, "no such lazily loaded bootstrap file");
    };
    // The load is the isolate's one-off work, not the request's: its CPU
    // is noted for the slice (`WorkerIsolate::guarded`). A file that loads
    // another as it runs counts once, as the outer load.
    let Some(st) = scope.get_slot::<crate::io::context::SharedState>().cloned() else {
        return load(scope, &name, args.get(1));
    };
    let before = st.borrow().slice_one_off;
    let started = crate::io::limits::thread_cpu();
    load(scope, &name, args.get(1));
    let spent = crate::io::limits::thread_cpu().saturating_sub(started);
    st.borrow_mut().slice_one_off = before + spent;
}

fn load(scope: &mut v8::PinScope, name: &str, internals: v8::Local<v8::Value>) {
    if name == "node" {
        // The Node.js modules, all of them in order (they build on each other).
        for file in crate::script::js::NODE {
            if !crate::script::isolate::run_bootstrap_file(scope, file, internals) {
                return;
            }
        }
        return;
    }
    let Some(file) = crate::script::js::LAZY.iter().find(|f| f.name == name) else {
        let msg = format!("no lazily loaded bootstrap file {}", wire::excerpt(name));
        return throw_type_error(scope, &msg);
    };
    crate::script::isolate::run_bootstrap_file(scope, file, internals);
}

/// `defineLazy(target, name)`: a non-enumerable V8 lazy data property: it
/// reads as an ordinary data property, and the first read asks
/// `internals.lazyValue(name)` (95_lazy.js) for its value and stores it in
/// place of the property. The getter carries no data: lazy properties are
/// made into the startup snapshot, where the getter's data would be
/// serialised with the isolate rather than the context.
pub(crate) fn op_define_lazy(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    if !crate::script::snapshot_make::define_lazy(scope, &args, lazy_property_getter) {
        throw_type_error(scope, "defineLazy(target, name)");
    }
}

/// The getter of a `defineLazy` property, behind the panic guard.
pub(crate) fn lazy_property_getter(
    scope: &mut v8::PinScope,
    name: v8::Local<v8::Name>,
    args: v8::PropertyCallbackArguments,
    rv: v8::ReturnValue<v8::Value>,
) {
    let outcome = crate::jsg::guard::catch(|| lazy_property_get(scope, name, args, rv));
    if let Err(payload) = outcome {
        crate::jsg::guard::record(
            &crate::jsg::guard::worker_name(scope),
            "a lazy property getter",
            &*payload,
        );
        throw(scope, OpError::type_error("internal error in a lazy property getter"));
    }
}

fn lazy_property_get(
    scope: &mut v8::PinScope,
    name: v8::Local<v8::Name>,
    _args: v8::PropertyCallbackArguments,
    mut rv: v8::ReturnValue<v8::Value>,
) {
    let loader = scope
        .get_slot::<SharedState>()
        .and_then(|st| st.borrow().lazy_value.clone());
    let Some(loader) = loader else {
        return throw_type_error(scope, "lazy globals are not available here");
    };
    let loader = v8::Local::new(scope, loader);
    let undefined = v8::undefined(scope).into();
    // On failure an exception is pending: the read throws and the property
    // stays lazy.
    if let Some(value) = loader.call(scope, undefined, &[name.into()]) {
        rv.set(value);
    }
}
