"use strict";
// node:util - inspect/format (the console's own), promisify, callbackify,
// inherits, deprecate, types, isDeepStrictEqual.
((globalThis, internals) => {
  const {
    ArrayBuffer,
    ArrayBufferIsView,
    ArrayIsArray,
    BigInt,
    BigInt64Array,
    BigUint64Array,
    Boolean,
    DataView,
    Date,
    Error,
    Float32Array,
    Float64Array,
    Int16Array,
    Int32Array,
    Int8Array,
    Number,
    NumberIsNaN,
    ObjectDefineProperties,
    ObjectDefineProperty,
    ObjectGetOwnPropertyDescriptor,
    ObjectGetOwnPropertyDescriptors,
    ObjectGetOwnPropertySymbols,
    ObjectGetPrototypeOf,
    ObjectIs,
    ObjectKeys,
    ObjectPrototypeHasOwnProperty,
    ObjectPrototypePropertyIsEnumerable,
    ObjectPrototypeToString,
    ObjectSetPrototypeOf,
    Promise,
    ReflectApply,
    ReflectConstruct,
    RegExp,
    SharedArrayBuffer,
    String,
    Symbol,
    SymbolFor,
    SymbolToStringTag,
    Uint16Array,
    Uint32Array,
    Uint8Array,
    Uint8ClampedArray,
    WeakMapPrototypeHas,
    WeakSetPrototypeHas,
  } = internals.primordials;
  const node = (internals.node ??= { __proto__: null });
  const errors = internals.nodeErrors;
  const { inspect, format, formatWithOptions } = internals;

  const kCustomPromisify = SymbolFor("nodejs.util.promisify.custom");
  function promisify(original) {
    if (typeof original !== "function") throw errors.invalidArgType("original", "of type function", original);
    if (original[kCustomPromisify]) {
      const fn = original[kCustomPromisify];
      if (typeof fn !== "function") {
        throw errors.invalidArgType("util.promisify.custom", "of type function", fn);
      }
      return ObjectDefineProperty(fn, kCustomPromisify, { __proto__: null, value: fn, enumerable: false, writable: false, configurable: true });
    }
    function fn(...args) {
      return new Promise((resolve, reject) => {
        ReflectApply(original, this, [
          ...args,
          (err, ...values) => {
            if (err) return reject(err);
            resolve(values[0]);
          },
        ]);
      });
    }
    ObjectSetPrototypeOf(fn, ObjectGetPrototypeOf(original));
    ObjectDefineProperty(fn, kCustomPromisify, { __proto__: null, value: fn, enumerable: false, writable: false, configurable: true });
    return ObjectDefineProperties(fn, ObjectGetOwnPropertyDescriptors(original));
  }
  promisify.custom = kCustomPromisify;

  function callbackify(original) {
    if (typeof original !== "function") throw errors.invalidArgType("original", "of type function", original);
    function callbackified(...args) {
      const cb = args.pop();
      if (typeof cb !== "function") throw errors.invalidArgType("last argument", "of type function", cb);
      const onRejected = (reason) => {
        if (!reason) {
          const e = errors.nodeError(Error, "ERR_FALSY_VALUE_REJECTION", "Promise was rejected with falsy value");
          e.reason = reason;
          reason = e;
        }
        cb(reason);
      };
      ReflectApply(original, this, args).then(
        (v) => queueMicrotask(() => cb(null, v)),
        (r) => queueMicrotask(() => onRejected(r)),
      );
    }
    ObjectSetPrototypeOf(callbackified, ObjectGetPrototypeOf(original));
    ObjectDefineProperties(callbackified, ObjectGetOwnPropertyDescriptors(original));
    return callbackified;
  }

  function inherits(ctor, superCtor) {
    if (ctor === undefined || ctor === null) throw errors.invalidArgType("ctor", "of type function", ctor);
    if (superCtor === undefined || superCtor === null) {
      throw errors.invalidArgType("superCtor", "of type function", superCtor);
    }
    if (superCtor.prototype === undefined) {
      throw errors.invalidArgType("superCtor.prototype", "of type object", superCtor.prototype);
    }
    ObjectDefineProperty(ctor, "super_", { __proto__: null, value: superCtor, writable: true, configurable: true });
    ObjectSetPrototypeOf(ctor.prototype, superCtor.prototype);
  }

  function deprecate(fn, msg, code) {
    let warned = false;
    function deprecated(...args) {
      if (!warned) {
        warned = true;
        console.warn(`[${code ?? "DEP0000"}] DeprecationWarning: ${msg}`);
      }
      return new.target ? ReflectConstruct(fn, args, new.target) : ReflectApply(fn, this, args);
    }
    ObjectSetPrototypeOf(deprecated, fn);
    if (fn.prototype) deprecated.prototype = fn.prototype;
    return deprecated;
  }

  // ---- util.types -----------------------------------------------------------
  const tag = (v) => ObjectPrototypeToString(v).slice(8, -1);
  const TypedArrayProto = ObjectGetPrototypeOf(Uint8Array.prototype);
  const taTag = ObjectGetOwnPropertyDescriptor(TypedArrayProto, SymbolToStringTag).get;
  const isObj = (v) => v !== null && (typeof v === "object" || typeof v === "function");
  function brand(method) {
    return (v) => {
      if (!isObj(v)) return false;
      try {
        method.call(v);
        return true;
      } catch {
        return false;
      }
    };
  }
  const types = {
    isAnyArrayBuffer: (v) => types.isArrayBuffer(v) || types.isSharedArrayBuffer(v),
    isArrayBuffer: brand(ObjectGetOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get),
    isSharedArrayBuffer:
      typeof SharedArrayBuffer === "function"
        ? brand(ObjectGetOwnPropertyDescriptor(SharedArrayBuffer.prototype, "byteLength").get)
        : () => false,
    isArrayBufferView: (v) => ArrayBufferIsView(v),
    isTypedArray: (v) => taTag.call(v) !== undefined,
    isDataView: brand(ObjectGetOwnPropertyDescriptor(DataView.prototype, "byteLength").get),
    isDate: brand(Date.prototype.getTime),
    isRegExp: brand(ObjectGetOwnPropertyDescriptor(RegExp.prototype, "source").get),
    isMap: brand(ObjectGetOwnPropertyDescriptor(Map.prototype, "size").get),
    isSet: brand(ObjectGetOwnPropertyDescriptor(Set.prototype, "size").get),
    isWeakMap: brand(function () {
      WeakMapPrototypeHas(this, {});
    }),
    isWeakSet: brand(function () {
      WeakSetPrototypeHas(this, {});
    }),
    isPromise: (v) => isObj(v) && tag(v) === "Promise" && v instanceof Promise,
    isNativeError: (v) => isObj(v) && (v instanceof Error || tag(v) === "Error"),
    isAsyncFunction: (v) => typeof v === "function" && /^Async/.test(tag(v)),
    isGeneratorFunction: (v) => typeof v === "function" && /GeneratorFunction$/.test(tag(v)),
    isGeneratorObject: (v) => isObj(v) && tag(v) === "Generator",
    isMapIterator: (v) => isObj(v) && tag(v) === "Map Iterator",
    isSetIterator: (v) => isObj(v) && tag(v) === "Set Iterator",
    isBoxedPrimitive: (v) =>
      types.isNumberObject(v) ||
      types.isStringObject(v) ||
      types.isBooleanObject(v) ||
      types.isBigIntObject(v) ||
      types.isSymbolObject(v),
    isNumberObject: brand(Number.prototype.valueOf),
    isStringObject: brand(String.prototype.valueOf),
    isBooleanObject: brand(Boolean.prototype.valueOf),
    isBigIntObject: brand(BigInt.prototype.valueOf),
    isSymbolObject: brand(Symbol.prototype.valueOf),
    isProxy: () => false,
    isModuleNamespaceObject: (v) => isObj(v) && tag(v) === "Module" && ObjectGetPrototypeOf(v) === null,
    isExternal: () => false,
    isArgumentsObject: (v) => isObj(v) && tag(v) === "Arguments",
    isCryptoKey: (v) => typeof CryptoKey === "function" && v instanceof CryptoKey,
    isKeyObject: () => false,
  };
  for (const t of [
    "Uint8Array",
    "Uint8ClampedArray",
    "Uint16Array",
    "Uint32Array",
    "Int8Array",
    "Int16Array",
    "Int32Array",
    "Float32Array",
    "Float64Array",
    "BigInt64Array",
    "BigUint64Array",
  ]) {
    types[`is${t}`] = (v) => taTag.call(v) === t;
  }

  function isDeepStrictEqual(a, b) {
    return deepEqual(a, b, true, new Map());
  }
  function deepEqual(a, b, strict, memo) {
    if (strict ? ObjectIs(a, b) : a == b || (NumberIsNaN(a) && NumberIsNaN(b))) return true;
    if (!isObj(a) || !isObj(b)) return false;
    if (strict && ObjectGetPrototypeOf(a) !== ObjectGetPrototypeOf(b)) return false;
    if (tag(a) !== tag(b)) return false;
    if (memo.get(a) === b) return true;
    memo.set(a, b);
    if (types.isDate(a)) return a.getTime() === b.getTime();
    if (types.isRegExp(a)) return String(a) === String(b) && a.lastIndex === b.lastIndex;
    if (types.isBoxedPrimitive(a)) return ObjectIs(a.valueOf(), b.valueOf());
    if (a instanceof Error && (a.message !== b.message || a.name !== b.name)) return false;
    if (ArrayBufferIsView(a)) {
      if (a.byteLength !== b.byteLength) return false;
      const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    }
    if (types.isMap(a)) {
      if (a.size !== b.size) return false;
      for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k), strict, memo)) return false;
    } else if (types.isSet(a)) {
      if (a.size !== b.size) return false;
      outer: for (const v of a) {
        if (b.has(v)) continue;
        if (isObj(v)) for (const w of b) if (deepEqual(v, w, strict, new Map(memo))) continue outer;
        return false;
      }
    }
    const ka = ObjectKeys(a);
    const kb = ObjectKeys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) {
      if (!ObjectPrototypeHasOwnProperty(b, k)) return false;
      if (ArrayBufferIsView(a) && /^\d+$/.test(k)) continue;
      if (!deepEqual(a[k], b[k], strict, memo)) return false;
    }
    if (strict) {
      const sa = ObjectGetOwnPropertySymbols(a).filter((s) => ObjectPrototypePropertyIsEnumerable(a, s));
      const sb = ObjectGetOwnPropertySymbols(b).filter((s) => ObjectPrototypePropertyIsEnumerable(b, s));
      if (sa.length !== sb.length) return false;
      for (const s of sa) if (!deepEqual(a[s], b[s], strict, memo)) return false;
    }
    return true;
  }
  internals.deepEqual = deepEqual;

  function debuglog() {
    const log = () => {};
    log.enabled = false;
    return log;
  }

  function stripVTControlCharacters(str) {
    // eslint-disable-next-line no-control-regex
    return String(str).replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
  }

  node.util = {
    inspect,
    format,
    formatWithOptions,
    promisify,
    callbackify,
    inherits,
    deprecate,
    debuglog,
    debug: debuglog,
    types,
    isDeepStrictEqual,
    isArray: ArrayIsArray,
    isBoolean: (v) => typeof v === "boolean",
    isNull: (v) => v === null,
    isNullOrUndefined: (v) => v == null,
    isNumber: (v) => typeof v === "number",
    isString: (v) => typeof v === "string",
    isSymbol: (v) => typeof v === "symbol",
    isUndefined: (v) => v === undefined,
    isRegExp: types.isRegExp,
    isObject: (v) => v !== null && typeof v === "object",
    isDate: types.isDate,
    isError: types.isNativeError,
    isFunction: (v) => typeof v === "function",
    isPrimitive: (v) => v === null || (typeof v !== "object" && typeof v !== "function"),
    stripVTControlCharacters,
    toUSVString: (s) => String(s).toWellFormed(),
    TextEncoder: globalThis.TextEncoder,
    TextDecoder: globalThis.TextDecoder,
  };
})
