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
    BigInt,
    BigInt64Array,
    BigUint64Array,
    Boolean,
    DataView,
    Date,
    DateNow,
    Error,
    EvalError,
    Int16Array,
    Int32Array,
    Int8Array,
    Number,
    Object,
    ObjectCreate,
    ObjectDefineProperty,
    ObjectGetPrototypeOf,
    ObjectKeys,
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
    Uint16Array,
    Uint32Array,
    Uint8Array,
    Uint8ClampedArray,
  } = internals.primordials;
  const ops = internals.ops;
  const defineGlobal = internals.defineGlobal;
  const DOMEx = (msg, name) => (internals.makeDOMException ? internals.makeDOMException(msg, name) : new Error(msg));

  // ---- crypto (the random parts; crypto.subtle is in 41_subtle.js) ----
  const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];
  class Crypto {
    constructor() {
      throw new TypeError("Illegal constructor");
    }
    getRandomValues(array) {
      if (!INTEGER_ARRAYS.some((C) => array instanceof C)) {
        throw DOMEx("The data argument must be an integer-type TypedArray", "TypeMismatchError");
      }
      if (array.byteLength > 65536) {
        throw DOMEx(
          `The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`,
          "QuotaExceededError",
        );
      }
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(ops.randomBytes(array.byteLength));
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
  function structuredClone(value, options = undefined) {
    if (arguments.length === 0) {
      throw new TypeError(
        "Failed to execute 'structuredClone' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'Value'.",
      );
    }
    const memory = new SafeMap();
    // Transferred ArrayBuffers move: the clone gets the contents, the
    // original is detached.
    const transfer = options !== undefined && options !== null ? options.transfer : undefined;
    if (transfer !== undefined) {
      for (const ab of transfer) {
        if (!(ab instanceof ArrayBuffer)) throw cloneError(String(ab));
        if (!memory.has(ab)) memory.set(ab, typeof ab.transfer === "function" ? ab.transfer() : ab.slice(0));
      }
    }
    const B = internals.blob;
    const clone = (v) => {
      if (v === null || (typeof v !== "object" && typeof v !== "function")) {
        if (typeof v === "symbol") throw cloneError(String(v));
        return v;
      }
      if (typeof v === "function") throw cloneError(String(v).slice(0, 40));
      if (memory.has(v)) return memory.get(v);
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
      else if (v instanceof ArrayBuffer) out = v.slice(0);
      else if (ArrayBufferIsView(v)) {
        const buf = clone(v.buffer);
        out = v instanceof DataView ? new DataView(buf, v.byteOffset, v.byteLength) : new v.constructor(buf, v.byteOffset, v.length);
      } else if (v instanceof Map) {
        out = new Map();
        memory.set(v, out);
        for (const [k, x] of v) out.set(clone(k), clone(x));
        return out;
      } else if (v instanceof Set) {
        out = new Set();
        memory.set(v, out);
        for (const x of v) out.add(clone(x));
        return out;
      } else if (v instanceof Error) {
        const Ctor = { EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError }[v.name] || Error;
        out = new Ctor(v.message);
        if (v.stack !== undefined) out.stack = v.stack;
      } else if (ArrayIsArray(v)) {
        out = new Array(v.length);
        memory.set(v, out);
        for (const k of ObjectKeys(v)) out[k] = clone(v[k]);
        return out;
      } else {
        const proto = ObjectGetPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) {
          const tag = ObjectPrototypeToString(v).slice(8, -1);
          // workerd: Headers and Request clone as plain objects with their
          // (no) own properties; other API objects do not serialize.
          if (tag !== "Object" && tag !== "Headers" && tag !== "Request") {
            throw DOMEx(
              `Could not serialize object of type "${tag}". This type does not support serialization.`,
              "DataCloneError",
            );
          }
        }
        out = {};
        memory.set(v, out);
        for (const k of ObjectKeys(v)) out[k] = clone(v[k]);
        return out;
      }
      memory.set(v, out);
      return out;
    };
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
