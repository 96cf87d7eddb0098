//! What the startup snapshot's creator (`build.rs`, at build time) and
//! the process that restores it (`snapshot.rs`, `ops.rs`) must agree on:
//! V8's flags, the order of the external references, how the `ops` object
//! and lazy globals are made.
//!
//! This file is compiled twice, into the crate and into `build.rs` (which
//! runs the bootstrap with a stand-in for each op and the crate embeds the
//! blob), so it may use only `v8` and `js.rs`.
//!
//! Native functions are not serialised: V8 stores each as its index in the
//! external references ([`Natives::references`]). The build script's
//! stand-ins and the process's real ops come from the same list in the
//! same order (`op_table.rs`), so an index made at build time names the
//! same op at run time. The stand-ins throw if the bootstrap calls them
//! (no op may run at a bootstrap file's top level, except `defineLazy`,
//! which the build script does with [`define_lazy`] as the crate does).

use super::js;

/// V8's flags, the same for the build-time creator and every process
/// (`platform.rs`): Workers forbid code generation from strings (a
/// context's setting, made into the snapshot's context); `--stack-size`
/// keeps deep recursion a catchable RangeError inside our thread stacks.
pub(crate) const V8_FLAGS: &str = "--stack-size=984 --disallow-code-generation-from-strings";

/// The native callbacks a bootstrap context holds.
pub(crate) struct Natives {
    /// The op table (`op_table.rs`), in its order.
    pub ops: Vec<(&'static str, v8::FunctionCallback)>,
    /// The getter `defineLazy` puts on lazy globals.
    pub lazy_getter: v8::AccessorNameGetterCallback,
}

impl Natives {
    /// The snapshot's external references, in a fixed order (V8 matches
    /// them by index): the ops, the lazy getter, then the bootstrap
    /// sources' string resources (external strings: each isolate refers to
    /// the bytes in the binary instead of a copy).
    pub(crate) fn references(&self) -> Vec<v8::ExternalReference> {
        let ops = self.ops.iter().map(|(_, f)| v8::ExternalReference { function: *f });
        let lazy = std::iter::once(v8::ExternalReference {
            pointer: self.lazy_getter as *mut std::ffi::c_void,
        });
        let sources = js::BOOTSTRAP.iter().map(|f| v8::ExternalReference {
            pointer: f.source as *const v8::OneByteConst as *mut std::ffi::c_void,
        });
        ops.chain(lazy).chain(sources).collect()
    }
}

/// Sets one function per op on `obj`, under its name.
pub(crate) fn install_ops<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    obj: v8::Local<'s, v8::Object>,
    ops: impl Iterator<Item = (&'static str, v8::FunctionCallback)>,
) {
    for (name, callback) in ops {
        // Only fails when V8 is out of memory, and then the isolate is
        // unusable anyway: the missing op shows up as a TypeError.
        if let (Some(f), Some(key)) = (v8::Function::new_raw(scope, callback), v8::String::new(scope, name)) {
            obj.set(scope, key.into(), f.into());
        }
    }
}

/// `defineLazy(target, name)`: a lazy data property `name` on `target`,
/// read through `getter` (which replaces it with the value); false if the
/// arguments are not an object and a name.
pub(crate) fn define_lazy(
    scope: &mut v8::PinScope,
    args: &v8::FunctionCallbackArguments,
    getter: impl v8::MapFnTo<v8::AccessorNameGetterCallback>,
) -> bool {
    let (Ok(target), Ok(name)) = (
        v8::Local::<v8::Object>::try_from(args.get(0)),
        v8::Local::<v8::Name>::try_from(args.get(1)),
    ) else {
        return false;
    };
    let undefined = v8::undefined(scope).into();
    target.set_lazy_data_property_with_data(
        scope,
        name,
        getter,
        undefined,
        v8::PropertyAttribute::DONT_ENUM,
        v8::SideEffectType::HasSideEffect,
        v8::SideEffectType::HasSideEffect,
    );
    true
}
