//! `structuredClone`'s native half: what V8's serializer takes a value for.

/// `cloneKind(value)` -> what V8's serializer (which workerd's
/// structuredClone uses) would take `value` for, from its internal type,
/// never from its prototype or `Symbol.toStringTag` (a script can forge
/// those): `"error"` (an object with [[ErrorData]]), `"proxy"`, `"array"`,
/// `"date"`, `"regexp"`, `"boolean"`/`"number"`/`"string"`/`"bigint"`/
/// `"symbol"` (primitive wrappers), `"map"`, `"set"`, `"arraybuffer"`,
/// `"sharedarraybuffer"`, `"typedarray"`, `"dataview"`, `"refused"` (a
/// built-in V8's serializer refuses: weak collections, promises,
/// generators, iterators, arguments, module namespaces, wasm objects,
/// externals), `"function"`, else `""` (an ordinary object).
pub(crate) fn op_clone_kind(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let v = args.get(0);
    let kind = if v.is_proxy() {
        "proxy"
    } else if v.is_function() {
        "function"
    } else if v.is_native_error() {
        "error"
    } else if v.is_array() {
        "array"
    } else if v.is_date() {
        "date"
    } else if v.is_reg_exp() {
        "regexp"
    } else if v.is_boolean_object() {
        "boolean"
    } else if v.is_number_object() {
        "number"
    } else if v.is_string_object() {
        "string"
    } else if v.is_big_int_object() {
        "bigint"
    } else if v.is_symbol_object() {
        "symbol"
    } else if v.is_map() {
        "map"
    } else if v.is_set() {
        "set"
    } else if v.is_array_buffer() {
        "arraybuffer"
    } else if v.is_shared_array_buffer() {
        "sharedarraybuffer"
    } else if v.is_typed_array() {
        "typedarray"
    } else if v.is_data_view() {
        "dataview"
    } else if v.is_weak_map()
        || v.is_weak_set()
        || v.is_promise()
        || v.is_generator_object()
        || v.is_map_iterator()
        || v.is_set_iterator()
        || v.is_arguments_object()
        || v.is_module_namespace_object()
        || v.is_wasm_memory_object()
        || v.is_wasm_module_object()
        || v.is_external()
    {
        "refused"
    } else {
        ""
    };
    match v8::String::new(scope, kind) {
        Some(s) => rv.set(s.into()),
        None => rv.set_undefined(),
    }
}
