"use strict";
// What 20_streams.js and 25_blob_formdata.js take from the pristine
// built-ins. Those files are loaded on first use (95_lazy.js), after the
// worker's script may have replaced built-ins (`Promise.prototype.then`,
// `ArrayBuffer.prototype.slice`, accessors such as `byteLength`, the typed
// array globals, `Reflect.apply`, queueMicrotask, TextDecoder...); these
// are captured here, into the startup snapshot, and they read them from
// `internals.pristine`.
((globalThis, internals) => {
  const { ObjectGetOwnPropertyDescriptor, ObjectGetPrototypeOf } = internals.primordials;
  const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype);
  const getter = (proto, key) => {
    const d = ObjectGetOwnPropertyDescriptor(proto, key);
    return d === undefined ? undefined : d.get;
  };
  const TYPED_ARRAYS = { __proto__: null };
  const names = [
    "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
    "Uint32Array", "Float16Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
  ];
  for (let i = 0; i < names.length; i++) {
    if (typeof globalThis[names[i]] === "function") TYPED_ARRAYS[names[i]] = globalThis[names[i]];
  }
  internals.pristine = {
    __proto__: null,
    ReflectApply: Reflect.apply,
    PromiseThen: Promise.prototype.then,
    ArrayBufferPrototypeSlice: ArrayBuffer.prototype.slice,
    ArrayBufferByteLengthGetter: getter(ArrayBuffer.prototype, "byteLength"),
    ArrayBufferDetachedGetter: getter(ArrayBuffer.prototype, "detached"),
    ArrayBufferTransfer: ArrayBuffer.prototype.transfer,
    TypedArrayPrototype,
    TypedArrayNameGetter: getter(TypedArrayPrototype, Symbol.toStringTag),
    TypedArrayBufferGetter: getter(TypedArrayPrototype, "buffer"),
    TypedArrayByteOffsetGetter: getter(TypedArrayPrototype, "byteOffset"),
    TypedArrayByteLengthGetter: getter(TypedArrayPrototype, "byteLength"),
    TypedArrayLengthGetter: getter(TypedArrayPrototype, "length"),
    TypedArraySet: TypedArrayPrototype.set,
    DataViewBufferGetter: getter(DataView.prototype, "buffer"),
    DataViewByteOffsetGetter: getter(DataView.prototype, "byteOffset"),
    DataViewByteLengthGetter: getter(DataView.prototype, "byteLength"),
    AsyncIteratorPrototype: ObjectGetPrototypeOf(ObjectGetPrototypeOf(async function* () {}).prototype),
    queueMicrotask: globalThis.queueMicrotask,
    TYPED_ARRAYS,
  };
})
