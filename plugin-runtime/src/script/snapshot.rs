//! The V8 startup snapshot of the bootstrap JavaScript.
//!
//! Made at build time: `build.rs` runs [`crate::script::js::BOOTSTRAP`] in a
//! snapshot-creator isolate (`snapshot_make.rs`) and the blob is embedded
//! in the binary, so a process starts with it. Every isolate is created
//! from it: the Web APIs are deserialised, not run again. The snapshot is
//! taken before any worker script has run, so the built-ins
//! `00_primordials.js` captured in it are the pristine ones.
//!
//! Native functions cannot be serialised: V8 stores each as an index into
//! the *external references* given to both the creator and every restored
//! isolate ([`external_references`]). The build script makes them from a
//! stand-in per op of `op_table.rs`, this crate from the real ops of the
//! same list (`ops::OPS`, the table the `ops` object is made from), in the
//! same order, then the `defineLazy` getter and the bootstrap sources.
//!
//! What a worker changes (its compatibility flags, env, the time it starts)
//! is set after the restore (`WorkerIsolate::init`, `internals.initWorker`).
//! Rust state (the isolate slot, callbacks, the memory budget) is per
//! isolate and never in the snapshot.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};

/// The context data index of `internals` in the snapshot.
const INTERNALS: usize = 0;

static ENABLED: AtomicBool = AtomicBool::new(true);

/// The blob `build.rs` made.
static BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/snapshot.bin"));

/// Turns creating isolates from the startup snapshot on or off (off: every
/// isolate runs the bootstrap itself, from the code cache). On by default;
/// the startup benchmark turns it off to measure the old path.
#[doc(hidden)]
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether isolates are made from the startup snapshot.
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The size of the startup snapshot in bytes.
#[doc(hidden)]
pub fn size() -> Option<usize> {
    Some(BLOB.len())
}

/// The external references of the snapshot, in a fixed order (V8 matches
/// them by index): those of the build script's creator
/// (`snapshot_make::Natives::references`: ops, lazy getter, sources) with
/// the real callbacks, then the test-only ops (added to `ops` after a
/// restore, so never in the snapshot).
pub(crate) fn external_references() -> Cow<'static, [v8::ExternalReference]> {
    let mut refs = crate::jsg::ops::natives().references();
    refs.extend(crate::jsg::ops::test_op_references());
    Cow::Owned(refs)
}

/// `params` set up to restore the snapshot, and whether they are (the
/// snapshot is on).
pub(crate) fn restoring(params: v8::CreateParams) -> (v8::CreateParams, bool) {
    if !ENABLED.load(Ordering::Relaxed) {
        return (params, false);
    }
    let params = params
        .snapshot_blob(v8::StartupData::from(BLOB))
        .external_references(external_references());
    (params, true)
}

/// A new isolate, restored from the startup snapshot when it is on (and
/// whether it was). Every isolate of the process is made here: V8 shares
/// one read-only heap between all the isolates alive in a process, set up
/// from the blob of the first of them, so an isolate from V8's built-in
/// blob alive beside one from ours gives the later one a read-only space
/// that is not its own (V8 aborted, or worse, when a reload's scratch
/// isolate met worker isolates). With the snapshot off (the startup
/// benchmark only) every isolate comes from the built-in blob.
pub(crate) fn new_isolate(params: v8::CreateParams) -> (v8::OwnedIsolate, bool) {
    let (params, restored) = restoring(params);
    (v8::Isolate::new(params), restored)
}

/// `internals` of a context just restored from the snapshot.
pub(crate) fn internals<'s>(scope: &mut v8::PinScope<'s, '_>) -> Option<v8::Local<'s, v8::Object>> {
    scope.get_context_data_from_snapshot_once::<v8::Object>(INTERNALS).ok()
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
        crate::script::platform::platform();
        crate::jsg::ops::expose_raw_ops_for_tests();
        let refs = external_references();
        let is_ref = |f: v8::FunctionCallback| refs.iter().any(|r| r == &v8::ExternalReference { function: f });
        for op in crate::jsg::ops::OPS.iter() {
            assert!(is_ref(op.callback), "op {} is not an external reference", op.name);
        }
        let (mut isolate, _) = new_isolate(v8::CreateParams::default());
        v8::scope!(let scope, &mut isolate);
        let context = v8::Context::new(scope, Default::default());
        let scope = &mut v8::ContextScope::new(scope, context);
        let ops = crate::jsg::ops::build(scope);
        crate::jsg::ops::install_test_ops(scope, ops);
        let names = ops
            .get_own_property_names(scope, v8::GetPropertyNamesArgs::default())
            .unwrap();
        let table: Vec<&str> = crate::jsg::ops::OPS.iter().map(|op| op.name).collect();
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
        crate::script::platform::platform();
        assert!(size().is_some_and(|n| n > 0));
        let (mut isolate, restored) = new_isolate(v8::CreateParams::default());
        assert!(restored);
        v8::scope!(let scope, &mut isolate);
        let context = v8::Context::new(scope, Default::default());
        let scope = &mut v8::ContextScope::new(scope, context);
        let internals = internals(scope).expect("internals in the snapshot");
        let key = v8::String::new(scope, "ops").unwrap();
        let ops = v8::Local::<v8::Object>::try_from(internals.get(scope, key.into()).unwrap()).unwrap();
        for op in crate::jsg::ops::OPS.iter() {
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
