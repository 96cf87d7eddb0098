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
    AggregateError,
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
  function cloneError(name) {
    return DOMEx(`${name} could not be cloned.`, "DataCloneError");
  }
  const ERROR_CONSTRUCTORS = new SafeMap();
  {
    const list = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError];
    for (let i = 0; i < list.length; i++) ERROR_CONSTRUCTORS.set(list[i].name, list[i]);
  }
  const NOT_CLONEABLE_BUILTINS = new SafeSet([
    "Promise", "WeakMap", "WeakSet", "WeakRef", "FinalizationRegistry", "Generator", "AsyncGenerator",
  ]);
  function defineOwn(o, k, value, enumerable) {
    ObjectDefineProperty(o, k, { __proto__: null, value, writable: true, enumerable, configurable: true });
  }
  function isArrayBuffer(v) {
    try {
      ArrayBufferPrototypeGetByteLength(v);
      return true;
    } catch {
      return false;
    }
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
    // Transferred ArrayBuffers move: the clone gets the contents, the
    // original is detached. workerd takes `transfer` as an Array only.
    const transfer = options !== undefined && options !== null ? options.transfer : undefined;
    if (transfer !== undefined) {
      if (!ArrayIsArray(transfer)) {
        throw new TypeError(
          "Incorrect type for the 'transfer' field on 'StructuredCloneOptions': the provided value is not of type 'Array'.",
        );
      }
      for (let i = 0; i < transfer.length; i++) {
        const ab = transfer[i];
        if (!isArrayBuffer(ab)) throw DOMEx("Object is not transferable.", "DataCloneError");
        if (memory.has(ab)) continue;
        if (ArrayBufferPrototypeGetDetached(ab)) {
          throw DOMEx("An ArrayBuffer is detached and could not be cloned.", "DataCloneError");
        }
        memory.set(ab, ArrayBufferPrototypeTransfer(ab));
      }
    }
    // Errors being cloned: a cause that leads back to its error cannot be
    // rebuilt (workerd's deserializer fails the same way).
    const errorsInProgress = new SafeSet();
    const B = internals.blob;
    const clone = (v) => {
      if (v === null || (typeof v !== "object" && typeof v !== "function")) {
        if (typeof v === "symbol") throw cloneError(String(v));
        return v;
      }
      if (typeof v === "function") throw cloneError(String(v).slice(0, 40));
      if (memory.has(v)) return memory.get(v);
      const kind = ops.cloneKind(v);
      if (kind === "proxy") throw DOMEx("#<Object> could not be cloned.", "DataCloneError");
      let out;
      if (v instanceof Date) out = new Date(v.getTime());
      else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
      else if (v instanceof Boolean || v instanceof Number || v instanceof String || v instanceof BigInt) {
        out = Object(v.valueOf());
      } else if (B && B.isBlob(v) && !B.isFile(v)) {
        // workerd clones a Blob (not a File).
        out = B.makeBlob(B.blobBytes(v).slice(), B.blobType(v));
      } else if (typeof DOMException === "function" && v instanceof DOMException) {
        out = new DOMException(v.message, v.name);
        if (v.stack !== undefined) ObjectDefineProperty(out, "stack", { __proto__: null, value: v.stack, enumerable: true, configurable: true, writable: true });
      }
      else if (isArrayBuffer(v)) out = cloneArrayBuffer(v);
      else if (ArrayBufferIsView(v)) {
        const buf = clone(v.buffer);
        out = v instanceof DataView ? new DataView(buf, v.byteOffset, v.byteLength) : new v.constructor(buf, v.byteOffset, v.length);
      } else if (v instanceof Map) {
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
      } else if (v instanceof Set) {
        out = new Set();
        memory.set(v, out);
        const it = SetPrototypeValues(v);
        for (let e = SetIteratorPrototypeNext(it); !e.done; e = SetIteratorPrototypeNext(it)) {
          SetPrototypeAdd(out, clone(e.value));
        }
        return out;
      } else if (kind === "error") {
        return cloneErrorObject(v);
      } else if (ArrayIsArray(v)) {
        out = new Array(v.length);
        memory.set(v, out);
        // Own data properties, defined: no setter on Array.prototype or
        // Object.prototype runs for an index or a key.
        const keys = ObjectKeys(v);
        for (let i = 0; i < keys.length; i++) defineOwn(out, keys[i], clone(v[keys[i]]), true);
        return out;
      } else {
        const proto = ObjectGetPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) {
          const tag = ObjectPrototypeToString(v).slice(8, -1);
          // workerd: Headers and Request clone as plain objects with their
          // (no) own properties; other API objects do not serialize.
          if (NOT_CLONEABLE_BUILTINS.has(tag)) throw DOMEx(`#<${tag}> could not be cloned.`, "DataCloneError");
          if (tag === "ReadableStream" || tag === "Response") {
            throw DOMEx("ReadableStream can only be serialized for RPC.", "DataCloneError");
          }
          if (tag !== "Object" && tag !== "Headers" && tag !== "Request") {
            throw DOMEx(
              `Could not serialize object of type "${tag}". This type does not support serialization.`,
              "DataCloneError",
            );
          }
        }
        out = {};
        memory.set(v, out);
        const keys = ObjectKeys(v);
        for (let i = 0; i < keys.length; i++) defineOwn(out, keys[i], clone(v[keys[i]]), true);
        return out;
      }
      memory.set(v, out);
      return out;
    };
    // An Error as workerd's serializer rebuilds it: the prototype from
    // `name` (one of the standard constructors, else Error; a name that is
    // not the standard one stays an own property), `message` an own
    // non-enumerable string, `stack` and `cause` own enumerable, then the
    // other own enumerable properties.
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
        if (ObjectPrototypeHasOwnProperty(e, "cause")) defineOwn(out, "cause", clone(ReflectGet(e, "cause")), true);
        if (Ctor === AggregateError && ObjectPrototypeHasOwnProperty(e, "errors")) {
          defineOwn(out, "errors", clone(ReflectGet(e, "errors")), false);
        }
        const keys = ObjectKeys(e);
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i];
          if (k === "message" || k === "stack" || k === "cause") continue;
          if (k === "name" && Ctor !== undefined) continue;
          defineOwn(out, k, clone(ReflectGet(e, k)), true);
        }
      } finally {
        errorsInProgress.delete(e);
      }
      memory.set(e, out);
      return out;
    }
    return clone(value);
  }
  defineGlobal("structuredClone", structuredClone);

  // ---- performance, scheduler ---------------------------------------------
  // When this isolate started (not when the snapshot was made).
  let timeOrigin = DateNow();
  internals.onWorkerInit(() => {
    timeOrigin = DateNow();
  });
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
