"use strict";
// Small globals Workers scripts reach for: crypto.getRandomValues /
// randomUUID, structuredClone, performance, scheduler.wait.
((globalThis, internals) => {
  const {
    Array,
    ArrayBuffer,
    ArrayBufferIsView,
    ArrayFrom,
    Map,
    Set,
    ArrayIsArray,
    ArrayBufferPrototypeGetByteLength,
    ArrayBufferPrototypeGetDetached,
    ArrayBufferPrototypeGetMaxByteLength,
    ArrayBufferPrototypeGetResizable,
    ArrayBufferPrototypeSlice,
    ArrayBufferPrototypeTransfer,
    ArrayPrototypeIncludes,
    ArrayPrototypePush,
    AggregateError,
    BigIntPrototypeValueOf,
    BooleanPrototypeValueOf,
    DataViewPrototypeGetBuffer,
    DataViewPrototypeGetByteLength,
    DataViewPrototypeGetByteOffset,
    DatePrototypeGetTime,
    FunctionPrototypeToString,
    NumberPrototypeValueOf,
    ObjectGetOwnPropertyDescriptor,
    RegExpPrototypeGetDotAll,
    RegExpPrototypeGetGlobal,
    RegExpPrototypeGetHasIndices,
    RegExpPrototypeGetIgnoreCase,
    RegExpPrototypeGetMultiline,
    RegExpPrototypeGetSource,
    RegExpPrototypeGetSticky,
    RegExpPrototypeGetUnicode,
    RegExpPrototypeGetUnicodeSets,
    StringPrototypeSlice,
    StringPrototypeValueOf,
    TypedArrayPrototypeGetLength,
    ObjectPrototypeHasOwnProperty,
    ReflectGet,
    TypedArrayPrototypeGetBuffer,
    TypedArrayPrototypeGetByteLength,
    TypedArrayPrototypeGetByteOffset,
    TypedArrayPrototypeGetSymbolToStringTag,
    TypedArrayPrototypeSet,
    BigInt,
    Boolean,
    DataView,
    Date,
    DateNow,
    Error,
    EvalError,
    Number,
    Object,
    ObjectCreate,
    ObjectDefineProperty,
    ObjectGetPrototypeOf,
    ObjectKeys,
    MapPrototypeEntries,
    MapIteratorPrototypeNext,
    MapPrototypeSet,
    SetPrototypeValues,
    SetIteratorPrototypeNext,
    SetPrototypeAdd,
    ObjectPrototypeToString,
    Promise,
    PromiseReject,
    RangeError,
    ReferenceError,
    RegExp,
    SafeMap,
    SafeSet,
    String,
    SymbolToStringTag,
    SyntaxError,
    TypeError,
    URIError,
    Uint8Array,
  } = internals.primordials;
  const ops = internals.ops;
  const defineGlobal = internals.defineGlobal;
  const DOMEx = (msg, name) => (internals.makeDOMException ? internals.makeDOMException(msg, name) : new Error(msg));

  // ---- crypto (the random parts; crypto.subtle is in 41_subtle.js) ----
  const INTEGER_ARRAYS = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "BigInt64Array", "BigUint64Array"];
  class Crypto {
    constructor() {
      throw new TypeError("Illegal constructor");
    }
    getRandomValues(array) {
      // workerd: a non-view fails the IDL conversion (TypeError); a view
      // that is not an integer typed array is a TypeMismatchError.
      if (!ArrayBufferIsView(array)) {
        throw new TypeError("Failed to execute 'getRandomValues' on 'Crypto': parameter 1 is not of type 'ArrayBufferView'.");
      }
      const tag = TypedArrayPrototypeGetSymbolToStringTag(array);
      if (tag === undefined || !ArrayPrototypeIncludes(INTEGER_ARRAYS, tag)) {
        throw DOMEx("ArrayBufferView argument to getRandomValues() must be an integer-typed view.", "TypeMismatchError");
      }
      const byteLength = TypedArrayPrototypeGetByteLength(array);
      if (byteLength > 65536) {
        throw DOMEx(
          `getRandomValues() only accepts buffers of size <= 64K but provided ${byteLength} bytes.`,
          "QuotaExceededError",
        );
      }
      const bytes = new Uint8Array(TypedArrayPrototypeGetBuffer(array), TypedArrayPrototypeGetByteOffset(array), byteLength);
      TypedArrayPrototypeSet(bytes, ops.randomBytes(byteLength));
      return array;
    }
    randomUUID() {
      const b = ops.randomBytes(16);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = ArrayFrom(b, (x) => x.toString(16).padStart(2, "0")).join("");
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    get [SymbolToStringTag]() {
      return "Crypto";
    }
  }
  defineGlobal("Crypto", Crypto);
  defineGlobal("crypto", ObjectCreate(Crypto.prototype));

  // ---- structuredClone (the HTML structured-clone algorithm, in JS) ------
  // What V8's ValueSerializer does for workerd, done directly on the heap:
  // strings and other primitives are shared rather than copied into a
  // serialized buffer (so a graph that repeats a large string costs
  // nothing), the new objects are V8 heap the isolate's budget sees, and
  // deep nesting ends in the RangeError of JS recursion. Which kind of
  // object a value is comes from its internal type (`ops.cloneKind`), never
  // from its prototype or tag.
  function cloneError(what) {
    return DOMEx(`${what} could not be cloned.`, "DataCloneError");
  }
  const ERROR_CONSTRUCTORS = new SafeMap();
  {
    const list = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError];
    for (let i = 0; i < list.length; i++) ERROR_CONSTRUCTORS.set(list[i].name, list[i]);
  }
  const NOT_CLONEABLE_BUILTINS = new SafeSet(["WeakRef", "FinalizationRegistry"]);
  // Native iterators V8's message names by their tag (`[object Array Iterator]`).
  const NATIVE_ITERATOR_TAGS = new SafeSet([
    "Array Iterator", "String Iterator", "RegExp String Iterator", "Iterator Helper", "Generator",
    "AsyncGenerator", "Map Iterator", "Set Iterator", "Async-from-Sync Iterator", "Segmenter String Iterator",
  ]);
  // Runtime API objects workerd refuses with its own wording.
  const API_REFUSALS = new SafeMap([
    ["ReadableStream", "ReadableStream can only be serialized for RPC."],
    ["Response", "ReadableStream can only be serialized for RPC."],
    ["WritableStream", "WritableStream can only be serialized for RPC."],
    ["AbortSignal", "AbortSignal serialization is not enabled."],
  ]);
  const TYPED_ARRAYS = new SafeMap();
  {
    const names = [
      "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array",
      "Float16Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
    ];
    for (let i = 0; i < names.length; i++) {
      const C = globalThis[names[i]];
      if (typeof C === "function") TYPED_ARRAYS.set(names[i], C);
    }
    // V8 installs Float16Array in a restored context, not in the snapshot's:
    // taken before the worker's script runs.
    internals.onWorkerInit((() => {
      if (!TYPED_ARRAYS.has("Float16Array") && typeof globalThis.Float16Array === "function") {
        TYPED_ARRAYS.set("Float16Array", globalThis.Float16Array);
      }
    }));
  }
  const ObjectPrototypeRaw = ObjectGetPrototypeOf({});
  const ObjectToStringRaw = ObjectGetOwnPropertyDescriptor(ObjectPrototypeRaw, "toString").value;
  function defineOwn(o, k, value, enumerable) {
    ObjectDefineProperty(o, k, { __proto__: null, value, writable: true, enumerable, configurable: true });
  }
  // A data property along the prototype chain, as V8's GetDataProperty:
  // accessors and proxies end the search without running anything.
  function dataProperty(o, key) {
    for (let p = o; p !== null; p = ObjectGetPrototypeOf(p)) {
      if (ops.cloneKind(p) === "proxy") return undefined;
      const d = ObjectGetOwnPropertyDescriptor(p, key);
      if (d !== undefined) return "value" in d ? d.value : undefined;
    }
    return undefined;
  }
  // How V8 names an object in a DataCloneError (NoSideEffectsToString):
  // `#<Constructor>` for objects using Object.prototype.toString with a
  // named constructor, else `[object Tag]`.
  function describeObject(v) {
    if (dataProperty(v, "toString") === ObjectToStringRaw) {
      const ctor = dataProperty(v, "constructor");
      if (typeof ctor === "function") {
        const d = ObjectGetOwnPropertyDescriptor(ctor, "name");
        const name = d !== undefined && typeof d.value === "string" ? d.value : "";
        if (name !== "") return `#<${name}>`;
      }
    }
    const tag = dataProperty(v, SymbolToStringTag);
    return `[object ${typeof tag === "string" ? tag : "Object"}]`;
  }
  function regExpFlags(re) {
    return (RegExpPrototypeGetHasIndices(re) ? "d" : "") + (RegExpPrototypeGetGlobal(re) ? "g" : "") +
      (RegExpPrototypeGetIgnoreCase(re) ? "i" : "") + (RegExpPrototypeGetMultiline(re) ? "m" : "") +
      (RegExpPrototypeGetDotAll(re) ? "s" : "") + (RegExpPrototypeGetUnicode(re) ? "u" : "") +
      (RegExpPrototypeGetUnicodeSets(re) ? "v" : "") + (RegExpPrototypeGetSticky(re) ? "y" : "");
  }
  // A copy of an ArrayBuffer (resizable ones stay resizable); a detached
  // one cannot be cloned.
  function cloneArrayBuffer(ab) {
    if (ArrayBufferPrototypeGetDetached(ab)) {
      throw DOMEx("An ArrayBuffer is detached and could not be cloned.", "DataCloneError");
    }
    const length = ArrayBufferPrototypeGetByteLength(ab);
    if (!ArrayBufferPrototypeGetResizable(ab)) return ArrayBufferPrototypeSlice(ab, 0, length);
    const out = new ArrayBuffer(length, { __proto__: null, maxByteLength: ArrayBufferPrototypeGetMaxByteLength(ab) });
    TypedArrayPrototypeSet(new Uint8Array(out), new Uint8Array(ab));
    return out;
  }
  function structuredClone(value, options = undefined) {
    if (arguments.length === 0) {
      throw new TypeError(
        "Failed to execute 'structuredClone' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'Value'.",
      );
    }
    if (options !== undefined && options !== null && typeof options !== "object" && typeof options !== "function") {
      throw new TypeError(
        "Failed to execute 'structuredClone' on 'ServiceWorkerGlobalScope': parameter 2 is not of type 'StructuredCloneOptions'.",
      );
    }
    const memory = new SafeMap();
    // Transferred ArrayBuffers (a view names its buffer) are detached once
    // the whole value has cloned, as V8 detaches them after serializing: a
    // failed clone detaches nothing, and every view of a transferred buffer
    // met during the clone still has its geometry. workerd takes
    // `transfer` as an Array only; a detached buffer there is ignored.
    const transferred = [];
    const transfer = options !== undefined && options !== null ? options.transfer : undefined;
    if (transfer !== undefined) {
      if (!ArrayIsArray(transfer)) {
        throw new TypeError(
          "Incorrect type for the 'transfer' field on 'StructuredCloneOptions': the provided value is not of type 'Array'.",
        );
      }
      const seen = new SafeSet();
      for (let i = 0; i < transfer.length; i++) {
        const t = transfer[i];
        if (t === null || (typeof t !== "object" && typeof t !== "function")) {
          throw new TypeError("Object is not transferable");
        }
        const kind = ops.cloneKind(t);
        let ab;
        if (kind === "arraybuffer") ab = t;
        else if (kind === "typedarray") ab = TypedArrayPrototypeGetBuffer(t);
        else if (kind === "dataview") ab = DataViewPrototypeGetBuffer(t);
        else throw DOMEx("Object is not transferable.", "DataCloneError");
        if (seen.has(ab)) continue;
        seen.add(ab);
        ArrayPrototypePush(transferred, ab);
      }
    }
    // Errors being cloned: a cause that leads back to its error cannot be
    // rebuilt (workerd's deserializer fails the same way).
    const errorsInProgress = new SafeSet();
    const B = internals.blob;
    const H = internals.headers;
    const F = internals.fetchClasses;
    // Own enumerable string keys, read once; a key a getter removed before
    // its turn is skipped (V8 looks each one up again).
    const copyKeys = (v, out) => {
      const keys = ObjectKeys(v);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        if (!ObjectPrototypeHasOwnProperty(v, k)) continue;
        defineOwn(out, k, clone(ReflectGet(v, k)), true);
      }
      return out;
    };
    const clone = (v) => {
      if (v === null || (typeof v !== "object" && typeof v !== "function")) {
        if (typeof v === "symbol") throw cloneError(String(v));
        return v;
      }
      if (memory.has(v)) return memory.get(v);
      const kind = ops.cloneKind(v);
      let out;
      switch (kind) {
        case "function":
          throw cloneError(StringPrototypeSlice(FunctionPrototypeToString(v), 0, 40));
        case "proxy":
          throw cloneError("#<Object>");
        case "refused":
          throw cloneError(describeObject(v));
        case "symbol":
          throw cloneError("[object Symbol]");
        case "date":
          out = new Date(DatePrototypeGetTime(v));
          break;
        case "regexp":
          out = new RegExp(RegExpPrototypeGetSource(v), regExpFlags(v));
          break;
        case "boolean":
          out = new Boolean(BooleanPrototypeValueOf(v));
          break;
        case "number":
          out = new Number(NumberPrototypeValueOf(v));
          break;
        case "string":
          out = new String(StringPrototypeValueOf(v));
          break;
        case "bigint":
          out = Object(BigIntPrototypeValueOf(v));
          break;
        case "arraybuffer":
          out = cloneArrayBuffer(v);
          break;
        case "sharedarraybuffer":
          throw cloneError(describeObject(v));
        case "typedarray": {
          // Geometry first: cloning the buffer cannot change it.
          const offset = TypedArrayPrototypeGetByteOffset(v);
          const length = TypedArrayPrototypeGetLength(v);
          const C = TYPED_ARRAYS.get(TypedArrayPrototypeGetSymbolToStringTag(v));
          const buf = clone(TypedArrayPrototypeGetBuffer(v));
          out = new C(buf, offset, length);
          break;
        }
        case "dataview": {
          const offset = DataViewPrototypeGetByteOffset(v);
          const length = DataViewPrototypeGetByteLength(v);
          out = new DataView(clone(DataViewPrototypeGetBuffer(v)), offset, length);
          break;
        }
        case "map": {
          // The captured iterators and setters: a script's Map.prototype,
          // iterator `next` or index setters never run (the standard reads
          // [[MapData]] / [[SetData]] directly).
          out = new Map();
          memory.set(v, out);
          const it = MapPrototypeEntries(v);
          for (let e = MapIteratorPrototypeNext(it); !e.done; e = MapIteratorPrototypeNext(it)) {
            MapPrototypeSet(out, clone(e.value[0]), clone(e.value[1]));
          }
          return out;
        }
        case "set": {
          out = new Set();
          memory.set(v, out);
          const it = SetPrototypeValues(v);
          for (let e = SetIteratorPrototypeNext(it); !e.done; e = SetIteratorPrototypeNext(it)) {
            SetPrototypeAdd(out, clone(e.value));
          }
          return out;
        }
        case "error":
          return cloneErrorObject(v);
        case "array":
          // Holes stay holes; own data properties are defined, so no setter
          // on Array.prototype or Object.prototype runs.
          out = new Array(v.length);
          memory.set(v, out);
          return copyKeys(v, out);
        default:
          out = cloneOrdinary(v);
          if (out === undefined) {
            out = {};
            memory.set(v, out);
            return copyKeys(v, out);
          }
      }
      memory.set(v, out);
      return out;
    };
    // The runtime's API objects (workerd's serializable ones are copied,
    // the rest refused with its wording); undefined for any other object,
    // which clones as a plain one.
    function cloneOrdinary(v) {
      if (B && B.isBlob(v) && !B.isFile(v)) return B.makeBlob(B.blobBytes(v).slice(), B.blobType(v));
      if (H && H.isHeaders(v)) return new H.Headers(v);
      if (F && F.isRequest(v)) {
        if (F.requestHasBody(v)) {
          throw DOMEx("ReadableStream can only be serialized for RPC.", "DataCloneError");
        }
        return new F.Request(v);
      }
      if (typeof DOMException === "function" && v instanceof DOMException) {
        const out = new DOMException(v.message, v.name);
        if (v.stack !== undefined) ObjectDefineProperty(out, "stack", { __proto__: null, value: v.stack, enumerable: true, configurable: true, writable: true });
        return out;
      }
      const proto = ObjectGetPrototypeOf(v);
      if (proto === ObjectPrototypeRaw || proto === null) return undefined;
      const tag = StringPrototypeSlice(ObjectPrototypeToString(v), 8, -1);
      if (tag === "Object") return undefined;
      if (NATIVE_ITERATOR_TAGS.has(tag)) throw cloneError(`[object ${tag}]`);
      if (NOT_CLONEABLE_BUILTINS.has(tag)) throw cloneError(`#<${tag}>`);
      const refusal = API_REFUSALS.get(tag);
      if (refusal !== undefined) throw DOMEx(refusal, "DataCloneError");
      if (tag === "ServiceWorkerGlobalScope") throw cloneError(`#<${tag}>`);
      throw DOMEx(
        `Could not serialize object of type "${tag}". This type does not support serialization.`,
        "DataCloneError",
      );
    }
    // An Error as workerd's serializer rebuilds it: the prototype from
    // `name` (read with inherited members; one of the standard
    // constructors, else Error, and then `name` an own enumerable
    // property), `message` an own non-enumerable string, `stack` and
    // `cause` own enumerable, then the other own enumerable properties.
    function cloneErrorObject(e) {
      if (errorsInProgress.has(e)) throw new Error("Unable to deserialize cloned data.");
      const name = String(ReflectGet(e, "name"));
      const Ctor = ERROR_CONSTRUCTORS.get(name);
      const message = ReflectGet(e, "message");
      if (message !== undefined && typeof message !== "string") {
        throw DOMEx("Deserialization failed: error message is not a string", "DataCloneError");
      }
      const out = Ctor === AggregateError ? new AggregateError([], message) : new (Ctor === undefined ? Error : Ctor)(message);
      if (message === undefined) defineOwn(out, "message", "", false);
      errorsInProgress.add(e);
      try {
        if (ObjectPrototypeHasOwnProperty(e, "stack")) {
          const stack = ReflectGet(e, "stack");
          if (stack !== undefined) defineOwn(out, "stack", clone(stack), true);
        }
        if (Ctor === undefined) defineOwn(out, "name", name, true);
        if (ObjectPrototypeHasOwnProperty(e, "cause")) defineOwn(out, "cause", clone(ReflectGet(e, "cause")), true);
        if (Ctor === AggregateError && ObjectPrototypeHasOwnProperty(e, "errors")) {
          defineOwn(out, "errors", clone(ReflectGet(e, "errors")), false);
        }
        const keys = ObjectKeys(e);
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i];
          if (k === "message" || k === "stack" || k === "cause" || k === "name") continue;
          if (!ObjectPrototypeHasOwnProperty(e, k)) continue;
          defineOwn(out, k, clone(ReflectGet(e, k)), true);
        }
      } finally {
        errorsInProgress.delete(e);
      }
      memory.set(e, out);
      return out;
    }
    const result = clone(value);
    for (let i = 0; i < transferred.length; i++) {
      if (!ArrayBufferPrototypeGetDetached(transferred[i])) ArrayBufferPrototypeTransfer(transferred[i], 0);
    }
    return result;
  }
  defineGlobal("structuredClone", structuredClone);

  // ---- performance, scheduler ---------------------------------------------
  // When this isolate started (not when the snapshot was made).
  let timeOrigin = DateNow();
  internals.onWorkerInit((() => {
    timeOrigin = DateNow();
  }));
  class Performance {
    constructor() {
      throw new TypeError("Illegal constructor");
    }
    get timeOrigin() {
      return timeOrigin;
    }
    now() {
      return DateNow() - timeOrigin;
    }
    toJSON() {
      return { timeOrigin };
    }
    get [SymbolToStringTag]() {
      return "Performance";
    }
  }
  defineGlobal("Performance", Performance);
  defineGlobal("performance", ObjectCreate(Performance.prototype));

  class Scheduler {
    constructor() {
      throw new TypeError("Illegal constructor");
    }
    wait(ms, options = undefined) {
      const signal = options && options.signal;
      if (signal && signal.aborted) return PromiseReject(signal.reason);
      const p = internals.sleep(Number(ms) || 0);
      if (!signal) return p;
      return new Promise((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        p.then(() => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    }
    get [SymbolToStringTag]() {
      return "Scheduler";
    }
  }
  defineGlobal("scheduler", ObjectCreate(Scheduler.prototype));
})
