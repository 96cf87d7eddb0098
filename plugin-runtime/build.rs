//! Makes the V8 startup snapshot of the bootstrap JavaScript at build time
//! (`src/script/snapshot_make.rs`), for `src/script/snapshot.rs` to embed: a process then
//! starts with it instead of spending its start-up making it.
//!
//! The ops are stand-ins, one per entry of `src/jsg/op_table.rs` in its order
//! (V8 stores a native function as its index in the external references,
//! and the process gives the real ops of the same list at those indices).
//! A stand-in throws: no op may run while the bootstrap's files run their
//! top level, except `defineLazy`, done here as the crate does it.

#[allow(dead_code)]
#[path = "src/script/js.rs"]
mod js;
#[allow(dead_code)]
#[path = "src/script/snapshot_make.rs"]
mod snapshot_make;

use std::collections::HashSet;
use std::path::PathBuf;

/// A stand-in per op: throws, naming the op.
macro_rules! op_table {
    ($($name:literal => $op:path),* $(,)?) => {
        vec![$({
            fn stand_in(scope: &mut v8::PinScope, _args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
                let text = concat!("op ", $name, " ran at a bootstrap file's top level (not allowed: see snapshot_make.rs)");
                if let Some(msg) = v8::String::new(scope, text) {
                    let exc = v8::Exception::error(scope, msg);
                    scope.throw_exception(exc);
                }
            }
            ($name, v8::MapFnTo::<v8::FunctionCallback>::map_fn_to(stand_in))
        }),*]
    };
}

fn define_lazy(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    if !snapshot_make::define_lazy(scope, &args, lazy_getter) {
        panic!("defineLazy(target, name) called with other arguments while the snapshot was made");
    }
}

fn lazy_getter(
    _scope: &mut v8::PinScope,
    _name: v8::Local<v8::Name>,
    _args: v8::PropertyCallbackArguments,
    _rv: v8::ReturnValue<v8::Value>,
) {
    panic!("a lazy global was read while the snapshot was made");
}

fn main() {
    for input in [
        "build.rs",
        "js",
        "src/script/js.rs",
        "src/jsg/op_table.rs",
        "src/script/snapshot_make.rs",
    ] {
        println!("cargo:rerun-if-changed={input}");
    }
    v8::V8::set_flags_from_string(snapshot_make::V8_FLAGS);
    let platform = v8::new_default_platform(0, false).make_shared();
    v8::V8::initialize_platform(platform);
    v8::V8::initialize();

    let mut ops: Vec<(&'static str, v8::FunctionCallback)> = include!("src/jsg/op_table.rs");
    let lazy = ops
        .iter_mut()
        .find(|(name, _)| *name == "defineLazy")
        .expect("op_table.rs has defineLazy");
    lazy.1 = v8::MapFnTo::map_fn_to(define_lazy);
    let natives = snapshot_make::Natives {
        ops,
        lazy_getter: v8::MapFnTo::map_fn_to(lazy_getter),
    };
    // Each reference must be its own function: V8 maps an address to one index.
    let mut seen = HashSet::new();
    for r in natives.references() {
        // SAFETY: every field of the union is a pointer of the same size.
        let address = unsafe { r.pointer } as usize;
        assert!(seen.insert(address), "two external references share an address");
    }
    let blob = make(&natives).unwrap_or_else(|e| panic!("the startup snapshot could not be made: {e}"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let caches = lazy_caches(&natives, &blob);
    let out = out_dir.join("snapshot.bin");
    std::fs::write(&out, blob).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
    let out = out_dir.join("lazy_caches.bin");
    std::fs::write(&out, caches).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}

/// The code caches of the files loaded after an isolate is restored
/// (`js::LAZY`, `js::KV`, `js::NODE`), compiled in an isolate restored
/// from `blob` with the process's flags, as `code_cache::compile` compiles
/// them: what `code_cache::built` reads, so the process's first use of one
/// (streams, for a worker that passes `res.body` on) does not parse it.
/// Each file is then run as `ops.loadBootstrap` runs it, and the cache is
/// made after: it holds the functions its top level ran too, as the cache
/// the process would make after that first use (which then makes none).
/// A file whose top level throws here (it needs a real op, or a worker)
/// gets the cache of its top level only, and the process makes the fuller
/// one after its first use, as before.
/// Entries: name length (u16 LE), name, ran (u8: 1 if the file ran),
/// cache length (u32 LE), cache.
fn lazy_caches(natives: &snapshot_make::Natives, blob: &[u8]) -> Vec<u8> {
    let blob: &'static [u8] = Box::leak(blob.to_vec().into_boxed_slice());
    let params = v8::CreateParams::default()
        .snapshot_blob(v8::StartupData::from(blob))
        .external_references(natives.references().into());
    let mut isolate = v8::Isolate::new(params);
    let mut out = Vec::new();
    v8::scope!(let scope, &mut isolate);
    let context = v8::Context::new(scope, Default::default());
    let scope = &mut v8::ContextScope::new(scope, context);
    let internals = scope
        .get_context_data_from_snapshot_once::<v8::Object>(0)
        .expect("the snapshot's internals");
    let global = context.global(scope);
    for file in js::LAZY.iter().chain(js::KV).chain(js::NODE) {
        let source = file.source(scope).expect("a bootstrap source");
        let name = v8::String::new(scope, &format!("internal:{}", file.name)).expect("a file name");
        let origin = v8::ScriptOrigin::new(scope, name.into(), 0, 0, false, 0, None, false, false, false, None);
        let mut source = v8::script_compiler::Source::new(source, Some(&origin));
        let script = v8::script_compiler::compile(
            scope,
            &mut source,
            v8::script_compiler::CompileOptions::NoCompileOptions,
            v8::script_compiler::NoCacheReason::NoReason,
        )
        .unwrap_or_else(|| panic!("{} does not compile", file.name));
        let ran = run_lazy(scope, script, global, internals);
        let cache = script
            .get_unbound_script(scope)
            .create_code_cache()
            .unwrap_or_else(|| panic!("V8 made no code cache for {}", file.name));
        out.extend_from_slice(&u16::try_from(file.name.len()).expect("a short name").to_le_bytes());
        out.extend_from_slice(file.name.as_bytes());
        out.push(u8::from(ran));
        out.extend_from_slice(&u32::try_from(cache.len()).expect("a cache under 4 GiB").to_le_bytes());
        out.extend_from_slice(&cache);
    }
    out
}

/// Runs a lazily loaded file's `script` as `ops.loadBootstrap` does (its
/// function called with `(globalThis, internals)`, the globals it defines
/// going to a fresh `internals.lazyTarget`); whether it ran without
/// throwing.
fn run_lazy<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    script: v8::Local<'s, v8::Script>,
    global: v8::Local<'s, v8::Object>,
    internals: v8::Local<'s, v8::Object>,
) -> bool {
    v8::tc_scope!(let tc, scope);
    let ran = (|| {
        let key = v8::String::new(tc, "lazyTarget")?;
        let target = v8::Map::new(tc);
        internals.set(tc, key.into(), target.into())?;
        let f = v8::Local::<v8::Function>::try_from(script.run(tc)?).ok()?;
        f.call(tc, global.into(), &[global.into(), internals.into()])
    })();
    tc.perform_microtask_checkpoint();
    ran.is_some() && !tc.has_caught()
}

/// Runs the bootstrap in a snapshot-creator isolate and serialises it; the
/// error is the exception a bootstrap file threw.
fn make(natives: &snapshot_make::Natives) -> Result<Vec<u8>, String> {
    let mut creator = v8::Isolate::snapshot_creator(Some(natives.references().into()), None);
    creator.set_microtasks_policy(v8::MicrotasksPolicy::Explicit);
    let made = {
        v8::scope!(let scope, &mut creator);
        let context = v8::Context::new(scope, Default::default());
        let made = {
            let scope = &mut v8::ContextScope::new(scope, context);
            v8::tc_scope!(let tc, scope);
            match bootstrap(tc, natives) {
                Some(internals) => {
                    tc.perform_microtask_checkpoint();
                    Ok(v8::Global::new(tc, internals))
                }
                None => {
                    let text = tc
                        .exception()
                        .map_or("an exception".into(), |e| e.to_rust_string_lossy(tc));
                    let at = tc.message().map_or(String::new(), |m| {
                        let file = m
                            .get_script_resource_name(tc)
                            .map_or(String::new(), |n| n.to_rust_string_lossy(tc));
                        format!(" ({file}:{})", m.get_line_number(tc).unwrap_or(0))
                    });
                    Err(format!("{text}{at}"))
                }
            }
        };
        // V8 needs a default context to make a blob, even a discarded one.
        scope.set_default_context(context);
        made.map(|internals| {
            let internals = v8::Local::new(scope, internals);
            // Index 0: `snapshot::internals` reads it back.
            scope.add_context_data(context, internals);
        })
    };
    // The creator must make its blob before it goes, even after a failure.
    let blob = creator.create_blob(v8::FunctionCodeHandling::Keep);
    made?;
    blob.map(|b| b.to_vec()).ok_or_else(|| "V8 made no snapshot".into())
}

/// `internals` with the ops, then every bootstrap file run with
/// `(globalThis, internals)`; `None`, with the exception pending, if one threw.
fn bootstrap<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    natives: &snapshot_make::Natives,
) -> Option<v8::Local<'s, v8::Object>> {
    let internals = v8::Object::new(scope);
    let ops = v8::Object::new(scope);
    snapshot_make::install_ops(scope, ops, natives.ops.iter().copied());
    let key = v8::String::new(scope, "ops")?;
    internals.set(scope, key.into(), ops.into());
    let global = scope.get_current_context().global(scope);
    for file in js::BOOTSTRAP {
        let source = file.source(scope)?;
        let name = v8::String::new(scope, &format!("internal:{}", file.name))?;
        let origin = v8::ScriptOrigin::new(scope, name.into(), 0, 0, false, 0, None, false, false, false, None);
        let mut source = v8::script_compiler::Source::new(source, Some(&origin));
        let options = if file.eager {
            v8::script_compiler::CompileOptions::EagerCompile
        } else {
            v8::script_compiler::CompileOptions::NoCompileOptions
        };
        let script = v8::script_compiler::compile(
            scope,
            &mut source,
            options,
            v8::script_compiler::NoCacheReason::NoReason,
        )?;
        let f = v8::Local::<v8::Function>::try_from(script.run(scope)?).ok()?;
        f.call(scope, global.into(), &[global.into(), internals.into()])?;
    }
    Some(internals)
}
