//! The V8 startup snapshot of the bootstrap JavaScript.
//!
//! Once per process, on first need (the first isolate a worker gets, which
//! at start-up is the validation isolate of `Runtime::load_worker`), a
//! snapshot-creator isolate runs [`crate::js::BOOTSTRAP`] into a fresh
//! context and V8 serialises that context's heap. Every worker isolate is
//! then created from the blob: the Web APIs are deserialised, not run
//! again. The snapshot is taken before any worker script has run, so the
//! built-ins `00_primordials.js` captured in it are the pristine ones.
//!
//! Native functions cannot be serialised: V8 stores each as an index into
//! the *external references* given to both the creator and every restored
//! isolate ([`external_references`]). They are built from the op table
//! (`ops::OPS`, the same table the `ops` object is made from), the
//! `defineLazy` getter, and the bootstrap sources (external strings, so
//! each isolate refers to the bytes in the binary instead of a copy).
//!
//! What a worker changes (its compatibility flags, env, the time it starts)
//! is set after the restore (`WorkerIsolate::init`, `internals.initWorker`).
//! Rust state (the isolate slot, callbacks, the memory budget) is per
//! isolate and never in the snapshot.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::ScriptError;

/// The context data index of `internals` in the snapshot.
const INTERNALS: usize = 0;

static ENABLED: AtomicBool = AtomicBool::new(true);
static BLOB: OnceLock<Option<Box<[u8]>>> = OnceLock::new();

/// Turns creating isolates from the startup snapshot on or off (off: every
/// isolate runs the bootstrap itself, from the code cache). On by default;
/// the startup benchmark turns it off to measure the old path.
#[doc(hidden)]
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// The size of the startup snapshot in bytes, making it if needed (`None`
/// if it could not be made; isolates then run the bootstrap themselves).
#[doc(hidden)]
pub fn size() -> Option<usize> {
    blob().map(<[u8]>::len)
}

/// The external references of the snapshot, in a fixed order (V8 matches
/// them by index): every native callback a bootstrap context can hold and
/// the bootstrap sources' string resources.
pub(crate) fn external_references() -> Cow<'static, [v8::ExternalReference]> {
    let sources = crate::js::BOOTSTRAP.iter().map(|f| v8::ExternalReference {
        pointer: f.source as *const v8::OneByteConst as *mut std::ffi::c_void,
    });
    Cow::Owned(crate::ops::external_references().chain(sources).collect())
}

/// `params` set up to restore the snapshot, and whether they are (the
/// snapshot is on and could be made).
pub(crate) fn restoring(params: v8::CreateParams) -> (v8::CreateParams, bool) {
    if !ENABLED.load(Ordering::Relaxed) {
        return (params, false);
    }
    match blob() {
        Some(bytes) => {
            let params = params
                .snapshot_blob(v8::StartupData::from(bytes))
                .external_references(external_references());
            (params, true)
        }
        None => (params, false),
    }
}

/// A new isolate, restored from the startup snapshot when it is on (and
/// whether it was). Every isolate of the process except the snapshot
/// creator is made here: V8 shares one read-only heap between all the
/// isolates alive in a process, set up from the blob of the first of them,
/// so an isolate from V8's built-in blob alive beside one from ours gives
/// the later one a read-only space that is not its own (V8 aborted, or
/// worse, when a reload's scratch isolate met worker isolates). Making the
/// blob first also keeps the creator, the only isolate from the built-in
/// blob, alone in the process while it runs.
pub(crate) fn new_isolate(params: v8::CreateParams) -> (v8::OwnedIsolate, bool) {
    let (params, restored) = restoring(params);
    (v8::Isolate::new(params), restored)
}

/// `internals` of a context just restored from the snapshot.
pub(crate) fn internals<'s>(scope: &mut v8::PinScope<'s, '_>) -> Option<v8::Local<'s, v8::Object>> {
    scope.get_context_data_from_snapshot_once::<v8::Object>(INTERNALS).ok()
}

fn blob() -> Option<&'static [u8]> {
    BLOB.get_or_init(|| {
        let started = std::time::Instant::now();
        match create() {
            Ok(bytes) => {
                log::debug!("startup snapshot: {} KiB in {:?}", bytes.len() >> 10, started.elapsed());
                Some(bytes)
            }
            Err(e) => {
                // A bug in the bootstrap, not in a worker: say so once, and
                // let isolates run the bootstrap themselves (they will fail
                // the same way, with the error in each worker's load).
                log::error!("the startup snapshot could not be made: {e}");
                None
            }
        }
    })
    .as_deref()
}

/// Runs the bootstrap in a snapshot-creator isolate and serialises it.
fn create() -> Result<Box<[u8]>, ScriptError> {
    crate::platform::platform();
    let mut creator = v8::Isolate::snapshot_creator(Some(external_references()), None);
    creator.set_microtasks_policy(v8::MicrotasksPolicy::Explicit);
    let made = {
        v8::scope!(let scope, &mut creator);
        let context = v8::Context::new(scope, Default::default());
        let made = {
            let scope = &mut v8::ContextScope::new(scope, context);
            v8::tc_scope!(let tc, scope);
            match crate::isolate::bootstrap(tc, false) {
                Some(internals) => {
                    tc.perform_microtask_checkpoint();
                    Ok(v8::Global::new(tc, internals))
                }
                None => {
                    let (e, m) = (tc.exception(), tc.message());
                    Err(crate::isolate::describe_exception(tc, e, m))
                }
            }
        };
        // V8 needs a default context to make a blob, even a discarded one.
        scope.set_default_context(context);
        made.map(|internals| {
            let internals = v8::Local::new(scope, internals);
            scope.add_context_data(context, internals);
        })
    };
    // The creator must make its blob before it goes, even after a failure.
    let blob = creator.create_blob(v8::FunctionCodeHandling::Keep);
    made?;
    let blob = blob.ok_or_else(|| ScriptError::Shape {
        path: "<startup snapshot>".into(),
        reason: "V8 made no snapshot".into(),
    })?;
    Ok(Box::from(&blob[..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every native function in a bootstrap context is one of the
    /// snapshot's external references: the `ops` object holds exactly the
    /// op table (an op installed some other way would be missing from the
    /// references, and V8 aborts the process serialising it), and every
    /// op of the table is a reference.
    #[test]
    fn every_op_is_an_external_reference() {
        crate::platform::platform();
        crate::ops::expose_raw_ops_for_tests();
        let refs = external_references();
        let is_ref = |f: v8::FunctionCallback| refs.iter().any(|r| r == &v8::ExternalReference { function: f });
        for op in crate::ops::OPS.iter() {
            assert!(is_ref(op.callback), "op {} is not an external reference", op.name);
        }
        let (mut isolate, _) = new_isolate(v8::CreateParams::default());
        v8::scope!(let scope, &mut isolate);
        let context = v8::Context::new(scope, Default::default());
        let scope = &mut v8::ContextScope::new(scope, context);
        let ops = crate::ops::build(scope);
        crate::ops::install_test_ops(scope, ops);
        let names = ops
            .get_own_property_names(scope, v8::GetPropertyNamesArgs::default())
            .unwrap();
        let table: Vec<&str> = crate::ops::OPS.iter().map(|op| op.name).collect();
        let mut seen = 0;
        for i in 0..names.length() {
            let name = names.get_index(scope, i).unwrap().to_rust_string_lossy(scope);
            if name == "testPanic" {
                continue;
            }
            assert!(table.contains(&name.as_str()), "op {name} is not in the op table");
            seen += 1;
        }
        assert_eq!(seen, table.len());
    }

    /// The snapshot is made, and an isolate restored from it has the Web
    /// APIs and `internals` with every op, callable.
    #[test]
    fn an_isolate_restores_the_bootstrap() {
        crate::platform::platform();
        assert!(size().is_some_and(|n| n > 0));
        let (mut isolate, restored) = new_isolate(v8::CreateParams::default());
        assert!(restored);
        v8::scope!(let scope, &mut isolate);
        let context = v8::Context::new(scope, Default::default());
        let scope = &mut v8::ContextScope::new(scope, context);
        let internals = internals(scope).expect("internals in the snapshot");
        let key = v8::String::new(scope, "ops").unwrap();
        let ops = v8::Local::<v8::Object>::try_from(internals.get(scope, key.into()).unwrap()).unwrap();
        for op in crate::ops::OPS.iter() {
            let key = v8::String::new(scope, op.name).unwrap();
            let f = ops.get(scope, key.into()).unwrap();
            assert!(f.is_function(), "op {} missing after restore", op.name);
        }
        // An op runs through its restored callback: urlParse needs no isolate state.
        let src = v8::String::new(
            scope,
            "typeof Response === 'function' && new URL('http://a.example/x?y').pathname",
        )
        .unwrap();
        let script = v8::Script::compile(scope, src, None).unwrap();
        let result = script.run(scope).unwrap();
        assert_eq!(result.to_rust_string_lossy(scope), "/x");
    }
}
