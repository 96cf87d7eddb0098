"use strict";
// Primordials: the built-ins the bootstrap relies on, captured before any
// script runs (the approach of Node.js's lib/internal/per_context/primordials.js
// and deno_core's 00_primordials.js). A script may replace
// Array.prototype[Symbol.iterator], Promise.prototype.then, Map.prototype.get,
// Function.prototype.call or plant setters on Object.prototype; the bootstrap
// keeps calling the originals:
//   - prototype methods are uncurried: `ArrayPrototypePush(arr, x)` is the
//     original `Array.prototype.push` called on `arr`;
//   - getters/setters: `TypedArrayPrototypeGetByteLength(u8)`;
//   - static members keep their name: `ObjectDefineProperty`, `JSONParse`,
//     `SymbolIterator`; static functions are bound to their constructor;
//   - SafeMap / SafeSet / SafeWeakMap / SafeWeakSet / SafePromise: subclasses
//     whose prototypes hold the original methods (and iterators whose `next`
//     is captured), so `new SafeMap().get(k)` never looks at Map.prototype.
// The rule for bootstrap authors is in ARCHITECTURE.md ("Primordials").
// This file also takes `internals` and the ops object off Object.prototype:
// an inherited getter or setter must never see them as `this`.
((globalThis, internals) => {
  const { apply, bind, call } = Function.prototype;
  const uncurryThis = bind.bind(call);
  const applyBind = bind.bind(apply);
  const ReflectOwnKeys = Reflect.ownKeys;
  const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const ObjectDefinePropertyRaw = Object.defineProperty;
  const ObjectSetPrototypeOfRaw = Object.setPrototypeOf;
  const ObjectFreezeRaw = Object.freeze;
  const ObjectGetPrototypeOfRaw = Object.getPrototypeOf;
  const StringRaw = String;
  const StringPrototypeToUpperCaseRaw = uncurryThis(String.prototype.toUpperCase);
  const StringPrototypeSliceRaw = uncurryThis(String.prototype.slice);

  const primordials = { __proto__: null };
  primordials.uncurryThis = uncurryThis;
  primordials.applyBind = applyBind;

  function define(name, value) {
    primordials[name] = value; // null prototype: no setter can intervene
  }

  // "iterator" -> "Iterator"; Symbol.iterator -> "SymbolIterator".
  function keyName(key) {
    if (typeof key === "symbol") {
      const d = key.description; // "Symbol.iterator"
      if (d === undefined || StringPrototypeSliceRaw(d, 0, 7) !== "Symbol.") return undefined;
      return `Symbol${StringPrototypeToUpperCaseRaw(d[7])}${StringPrototypeSliceRaw(d, 8)}`;
    }
    return `${StringPrototypeToUpperCaseRaw(key[0])}${StringPrototypeSliceRaw(key, 1)}`;
  }

  // The members the bootstrap uses (a new use needs its name here): an
  // isolate captures these, not every built-in, which keeps it small.
  const WANTED = {
    __proto__: null,
     Array: true, ArrayAppend: true, ArrayBuffer: true, ArrayBufferIsView: true,
     ArrayBufferPrototypeGetByteLength: true, ArrayBufferPrototypeGetDetached: true,
     ArrayBufferPrototypeGetMaxByteLength: true, ArrayBufferPrototypeGetResizable: true, ArrayBufferPrototypeSlice: true, ArrayBufferPrototypeTransfer: true, ArrayFrom: true,
     ArrayFromIndexed: true, ArrayIsArray: true, ArrayIteratorPrototypeNext: true,
     ArrayPrototypeIncludes: true, ArrayPrototypeIndexOf: true, ArrayPrototypeJoin: true,
     ArrayPrototypeMap: true, ArrayPrototypePush: true, ArrayPrototypeShift: true, ArrayPrototypeSlice: true,
     ArrayPrototypeSort: true, ArrayPrototypeSplice: true, ArrayPrototypeSymbolIterator: true,
     ArraySetOwn: true, AsyncIteratorPrototype: true, BigInt: true, BigInt64Array: true, BigUint64Array: true,
     Boolean: true, DataView: true, DataViewPrototypeGetBuffer: true, DataViewPrototypeGetByteLength: true,
     DataViewPrototypeGetByteOffset: true, Date: true, DateNow: true, DatePrototypeGetTime: true,
     DatePrototypeToISOString: true, DatePrototypeToString: true, Error: true, ErrorCaptureStackTrace: true,
     ErrorPrototypeToString: true, EvalError: true, FinalizationRegistry: true, Float32Array: true,
     Float64Array: true, Function: true, FunctionPrototypeToString: true, Int16Array: true, Int32Array: true,
     Int8Array: true, IteratorPrototype: true, JSON: true, JSONParse: true, JSONStringify: true, Map: true,
     MapIteratorPrototypeNext: true, MapPrototypeEntries: true, MapPrototypeSet: true, MathAbs: true,
     MathCeil: true, MathFloor: true, MathMax: true, MathMin: true, MathRandom: true, MathRound: true,
     MathSqrt: true, MathTrunc: true, Number: true, NumberIsFinite: true, NumberIsInteger: true,
     NumberIsNaN: true, NumberMAX_SAFE_INTEGER: true, NumberMIN_SAFE_INTEGER: true, NumberParseFloat: true,
     NumberParseInt: true, Object: true, ObjectAssign: true, ObjectCreate: true, ObjectDefineProperties: true,
     ObjectDefineProperty: true, ObjectEntries: true, ObjectFreeze: true, ObjectGetOwnPropertyDescriptor: true,
     ObjectGetOwnPropertyDescriptors: true, ObjectGetOwnPropertyNames: true, ObjectGetOwnPropertySymbols: true,
     ObjectGetPrototypeOf: true, ObjectHasOwn: true, ObjectIs: true, ObjectKeys: true,
     ObjectPrototypeHasOwnProperty: true, ObjectPrototypePropertyIsEnumerable: true,
     ObjectPrototypeToString: true, ObjectSetPrototypeOf: true, ObjectValues: true, Promise: true,
     PromiseAllSettled: true, PromisePrototypeThen: true, PromiseRace: true, PromiseReject: true,
     PromiseResolve: true, Proxy: true, RangeError: true, ReferenceError: true, Reflect: true,
     ReflectApply: true, ReflectConstruct: true, ReflectGet: true, ReflectGetOwnPropertyDescriptor: true,
     ReflectOwnKeys: true, RegExp: true, RegExpPrototypeExec: true, RegExpPrototypeToString: true,
     RegExpPrototypeGetSource: true, RegExpPrototypeGetHasIndices: true, RegExpPrototypeGetGlobal: true,
     RegExpPrototypeGetIgnoreCase: true, RegExpPrototypeGetMultiline: true, RegExpPrototypeGetDotAll: true,
     RegExpPrototypeGetUnicode: true, RegExpPrototypeGetUnicodeSets: true, RegExpPrototypeGetSticky: true,
     BooleanPrototypeValueOf: true, NumberPrototypeValueOf: true, StringPrototypeValueOf: true,
     BigIntPrototypeValueOf: true,
     SafeArrayIterator: true, SafeMap: true, SafePromiseAll: true, SafePromiseAllSettled: true,
     SafePromiseRace: true, SafePromiseResolve: true, SafeSet: true, SafeWeakMap: true, Set: true,
     SetIteratorPrototypeNext: true, SetPrototypeAdd: true, SetPrototypeValues: true, SharedArrayBuffer: true,
     SharedArrayBufferPrototypeGetByteLength: true, SharedArrayBufferPrototypeSlice: true, String: true,
     StringFromCharCode: true, StringIteratorPrototypeNext: true, StringPrototypeCharCodeAt: true,
     StringPrototypeIndexOf: true, StringPrototypeIsWellFormed: true, StringPrototypeReplace: true,
     StringPrototypeReplaceAll: true, StringPrototypeSlice: true, StringPrototypeSplit: true,
     StringPrototypeStartsWith: true, StringPrototypeSymbolIterator: true, StringPrototypeToLowerCase: true,
     StringPrototypeToUpperCase: true, StringPrototypeToWellFormed: true, Symbol: true,
     SymbolAsyncIterator: true, SymbolDispose: true, SymbolFor: true, SymbolIterator: true, SymbolToPrimitive: true,
     SymbolToStringTag: true, SyntaxError: true, TypeError: true, TypedArray: true,
     TypedArrayPrototypeGetBuffer: true, TypedArrayPrototypeGetByteLength: true,
     TypedArrayPrototypeGetByteOffset: true, TypedArrayPrototypeGetLength: true,
     TypedArrayPrototypeGetSymbolToStringTag: true, TypedArrayPrototypeSet: true,
     TypedArrayPrototypeSlice: true, URIError: true, Uint16Array: true, Uint32Array: true, Uint8Array: true,
     Uint8ClampedArray: true, WeakMap: true, WeakMapPrototypeHas: true, WeakSet: true,
     WeakSetPrototypeHas: true, decodeURIComponent: true, encodeURIComponent: true, isFinite: true,
     parseInt: true,
  };
  const wanted = (prefix, name) =>
    WANTED[`${prefix}${name}`] === true || WANTED[`${prefix}Get${name}`] === true || WANTED[`${prefix}Set${name}`] === true;

  function copyStatic(src, prefix, thisArg) {
    const keys = ReflectOwnKeys(src);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key === "prototype" || key === "length" || key === "name" || key === "caller" || key === "arguments") continue;
      const name = keyName(key);
      if (name === undefined || !wanted(prefix, name)) continue;
      const d = ObjectGetOwnPropertyDescriptor(src, key);
      if ("value" in d) {
        const v = d.value;
        define(`${prefix}${name}`, typeof v === "function" && thisArg !== undefined ? bind.call(v, thisArg) : v);
      } else {
        if (d.get) define(`${prefix}Get${name}`, uncurryThis(d.get));
        if (d.set) define(`${prefix}Set${name}`, uncurryThis(d.set));
      }
    }
  }

  function copyPrototype(src, prefix) {
    const keys = ReflectOwnKeys(src);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key === "constructor") continue;
      const name = keyName(key);
      if (name === undefined || !wanted(prefix, name)) continue;
      const d = ObjectGetOwnPropertyDescriptor(src, key);
      if ("value" in d) {
        if (typeof d.value === "function") {
          define(`${prefix}${name}`, uncurryThis(d.value));
        }
      } else {
        if (d.get) define(`${prefix}Get${name}`, uncurryThis(d.get));
        if (d.set) define(`${prefix}Set${name}`, uncurryThis(d.set));
      }
    }
  }

  // Namespaces: static members only.
  const NAMESPACES = ["JSON", "Math", "Reflect", "Atomics"];
  for (let i = 0; i < NAMESPACES.length; i++) {
    const name = NAMESPACES[i];
    const ns = globalThis[name];
    if (ns === undefined) continue;
    define(name, ns);
    copyStatic(ns, name, undefined);
  }

  // Constructors: the constructor itself, statics (bound) and the prototype.
  const CONSTRUCTORS = [
    "AggregateError", "Array", "ArrayBuffer", "BigInt", "BigInt64Array", "BigUint64Array", "Boolean",
    "DataView", "Date", "Error", "EvalError", "FinalizationRegistry", "Float32Array", "Float64Array",
    "Function", "Int16Array", "Int32Array", "Int8Array", "Map", "Number", "Object", "Promise", "Proxy",
    "RangeError", "ReferenceError", "RegExp", "Set", "SharedArrayBuffer", "String", "Symbol",
    "SyntaxError", "TypeError", "URIError", "Uint16Array", "Uint32Array", "Uint8Array",
    "Uint8ClampedArray", "WeakMap", "WeakRef", "WeakSet",
  ];
  for (let i = 0; i < CONSTRUCTORS.length; i++) {
    const name = CONSTRUCTORS[i];
    const C = globalThis[name];
    if (typeof C !== "function") continue;
    define(name, C);
    copyStatic(C, name, C);
    if (C.prototype) copyPrototype(C.prototype, `${name}Prototype`);
  }
  // %TypedArray%: shared by the typed arrays (byteLength, buffer, subarray...).
  const TypedArray = Object.getPrototypeOf(Uint8Array);
  define("TypedArray", TypedArray);
  copyStatic(TypedArray, "TypedArray", TypedArray);
  copyPrototype(TypedArray.prototype, "TypedArrayPrototype");
  // Iterator prototypes, for the safe iterators below.
  const ArrayIteratorPrototype = Object.getPrototypeOf([][Symbol.iterator]());
  copyPrototype(ArrayIteratorPrototype, "ArrayIteratorPrototype");
  copyPrototype(Object.getPrototypeOf(new Map()[Symbol.iterator]()), "MapIteratorPrototype");
  copyPrototype(Object.getPrototypeOf(new Set()[Symbol.iterator]()), "SetIteratorPrototype");
  copyPrototype(Object.getPrototypeOf(""[Symbol.iterator]()), "StringIteratorPrototype");
  const AsyncIteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf(async function* () {}).prototype);
  define("AsyncIteratorPrototype", AsyncIteratorPrototype);
  define("IteratorPrototype", Object.getPrototypeOf(ArrayIteratorPrototype));

  // Global functions.
  const FUNCTIONS = [
    "decodeURI", "decodeURIComponent", "encodeURI", "encodeURIComponent", "escape", "unescape",
    "isFinite", "isNaN", "parseFloat", "parseInt", "queueMicrotask",
  ];
  for (let i = 0; i < FUNCTIONS.length; i++) {
    const f = globalThis[FUNCTIONS[i]];
    if (typeof f === "function") define(FUNCTIONS[i], f);
  }

  const P = primordials;

  // `arr[i] = v` and `push` on an index the array does not own consult
  // setters on Array.prototype / Object.prototype; this defines it instead.
  // One descriptor, reused: defining an index on an ordinary array runs no
  // script code, so nothing can observe it between the two statements.
  const ownDescriptor = { __proto__: null, value: undefined, writable: true, enumerable: true, configurable: true };
  const ArraySetOwn = (arr, i, value) => {
    ownDescriptor.value = value;
    ObjectDefinePropertyRaw(arr, i, ownDescriptor);
    ownDescriptor.value = undefined;
  };
  define("ArraySetOwn", ArraySetOwn);
  const ArrayPrototypeRaw = Array.prototype;
  const ObjectPrototypeRaw = Object.prototype;
  // Whether a plain store of index `i` into an array whose prototype is
  // Array.prototype can only create the array's own element: the chain is
  // the ordinary one (Array.prototype, then Object.prototype, both ordinary
  // objects: asking them runs no script code) and has no such index.
  const plainIndexStore = (i) =>
    ObjectGetPrototypeOfRaw(ArrayPrototypeRaw) === ObjectPrototypeRaw && !(i in ArrayPrototypeRaw);
  /**
   * `arr.push(v)` that never calls an inherited index setter. Defining the
   * element goes through V8's C++ runtime (about a microsecond), so where
   * `plainIndexStore` allows it the element is stored plainly instead.
   */
  const ArrayAppend = (arr, value) => {
    const n = arr.length;
    if (ObjectGetPrototypeOfRaw(arr) === ArrayPrototypeRaw && plainIndexStore(n)) {
      arr[n] = value;
    } else {
      ArraySetOwn(arr, n, value);
    }
  };
  define("ArrayAppend", ArrayAppend);
  // The uncurried `Array.prototype.push` would run a setter a script planted
  // on `Array.prototype["0"]` (push is [[Set]]): `ArrayPrototypePush` is
  // ArrayAppend for each argument instead, returning the new length.
  define("ArrayPrototypePush", function ArrayPrototypePush(arr) {
    let n = arr.length;
    const plain = ObjectGetPrototypeOfRaw(arr) === ArrayPrototypeRaw;
    for (let i = 1; i < arguments.length; i++, n++) {
      if (plain && plainIndexStore(n)) arr[n] = arguments[i];
      else ArraySetOwn(arr, n, arguments[i]);
    }
    return n;
  });

  // An iterator class whose `next` is the captured one: `for...of` over it
  // never consults %ArrayIteratorPrototype%.next or the like.
  function createSafeIterator(factory, next) {
    class SafeIterator {
      #it;
      constructor(iterable) {
        this.#it = factory(iterable);
      }
      next() {
        return next(this.#it);
      }
      [P.SymbolIterator]() {
        return this;
      }
    }
    ObjectSetPrototypeOfRaw(SafeIterator.prototype, null);
    ObjectFreezeRaw(SafeIterator.prototype);
    ObjectFreezeRaw(SafeIterator);
    return SafeIterator;
  }
  // `for (const x of new SafeArrayIterator(arr))` and `f(...new SafeArrayIterator(arr))`.
  define("SafeArrayIterator", createSafeIterator(P.ArrayPrototypeSymbolIterator, P.ArrayIteratorPrototypeNext));
  define("SafeStringIterator", createSafeIterator(P.StringPrototypeSymbolIterator, P.StringIteratorPrototypeNext));

  // A subclass of a built-in collection whose prototype owns the original
  // methods (iterators wrapped to capture `next`), frozen.
  function makeSafe(unsafe, safe, iteratorNext) {
    const proto = unsafe.prototype;
    const keys = ReflectOwnKeys(proto);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key === "constructor") continue;
      const d = ObjectGetOwnPropertyDescriptor(proto, key);
      if (iteratorNext !== undefined && typeof d.value === "function" && d.value.length === 0 &&
          (key === P.SymbolIterator || key === "entries" || key === "keys" || key === "values")) {
        const createIterator = uncurryThis(d.value);
        const SafeIt = createSafeIterator(createIterator, iteratorNext);
        d.value = function () {
          return new SafeIt(this);
        };
      }
      ObjectDefinePropertyRaw(safe.prototype, key, d);
    }
    ObjectSetPrototypeOfRaw(safe.prototype, null);
    ObjectFreezeRaw(safe.prototype);
    ObjectFreezeRaw(safe);
    return safe;
  }
  // An initial array is read by index: `new SafeMap([[k, v]])`, `new SafeSet([a, b])`.
  const MapPrototypeSet = P.MapPrototypeSet;
  const SetPrototypeAdd = P.SetPrototypeAdd;
  define("SafeMap", makeSafe(Map, class SafeMap extends Map {
    constructor(entries) {
      super();
      if (entries !== undefined && entries !== null) {
        for (let i = 0; i < entries.length; i++) MapPrototypeSet(this, entries[i][0], entries[i][1]);
      }
    }
  }, P.MapIteratorPrototypeNext));
  define("SafeSet", makeSafe(Set, class SafeSet extends Set {
    constructor(values) {
      super();
      if (values !== undefined && values !== null) {
        for (let i = 0; i < values.length; i++) SetPrototypeAdd(this, values[i]);
      }
    }
  }, P.SetIteratorPrototypeNext));
  define("SafeWeakMap", makeSafe(WeakMap, class SafeWeakMap extends WeakMap {
    constructor() {
      super();
    }
  }));
  define("SafeWeakSet", makeSafe(WeakSet, class SafeWeakSet extends WeakSet {
    constructor() {
      super();
    }
  }));
  // A slot per object, for the runtime's private state of the objects it
  // makes (a Request's, a Response's): `slot.get(o)`, `slot.set(o, v)`,
  // `slot.has(o)`, as a WeakMap would do it, but kept as a private field
  // stamped on `o` (a class whose base constructor returns `o`). Setting
  // and reading are property accesses, and nothing is left for the GC's
  // ephemeron processing. `set` needs an object; get/has of anything else
  // answer undefined/false. A script can neither see nor reach the field.
  class Stamp {
    constructor(o) {
      return o;
    }
  }
  ObjectSetPrototypeOfRaw(Stamp.prototype, null);
  ObjectFreezeRaw(Stamp.prototype);
  define("PrivateSlot", () => {
    class Slot extends Stamp {
      #value;
      static has(o) {
        return o !== null && (typeof o === "object" || typeof o === "function") && #value in o;
      }
      static get(o) {
        return o !== null && (typeof o === "object" || typeof o === "function") && #value in o ? o.#value : undefined;
      }
      static set(o, v) {
        if (!(#value in o)) new Slot(o);
        o.#value = v;
      }
    }
    ObjectSetPrototypeOfRaw(Slot.prototype, null);
    ObjectFreezeRaw(Slot.prototype);
    return ObjectFreezeRaw({ __proto__: null, get: Slot.get, set: Slot.set, has: Slot.has });
  });
  define("SafeFinalizationRegistry", makeSafe(FinalizationRegistry, class SafeFinalizationRegistry extends FinalizationRegistry {
    constructor(cleanup) {
      super(cleanup);
    }
  }));

  // Promises. `PromisePrototypeThen(p, f, r)` never calls a replaced
  // `Promise.prototype.then`. (It still reads `p.constructor` for the
  // species, as every `then` and `await` does; see ARCHITECTURE.md.)
  const PromiseRaw = Promise;
  const PromisePrototypeThen = P.PromisePrototypeThen;
  const PromisePrototype = Promise.prototype;
  /** A new promise and its resolve/reject functions, as a null-prototype record. */
  define("PromiseWithResolvers", () => {
    const r = { __proto__: null, promise: undefined, resolve: undefined, reject: undefined };
    r.promise = new PromiseRaw((resolve, reject) => {
      r.resolve = resolve;
      r.reject = reject;
    });
    return r;
  });
  /** `Promise.resolve(v)` that does not call a replaced `then` of a native promise. */
  define("SafePromiseResolve", (v) => new PromiseRaw((resolve) => resolve(v)));
  // A promise of one result per element of `promises`, in order, built by
  // index: `each(element, done, reject)` arranges for `done(result)` once.
  const collect = (promises, each) => new PromiseRaw((resolve, reject) => {
    const n = promises.length;
    const out = new P.Array(n);
    let left = n;
    if (n === 0) {
      resolve(out);
      return;
    }
    for (let i = 0; i < n; i++) {
      const done = (v) => {
        ArraySetOwn(out, i, v);
        if (--left === 0) resolve(out);
      };
      each(promises[i], done, reject);
    }
  });
  /** `Promise.all(array)` over an array the bootstrap owns, by index, with captured `then`. */
  define("SafePromiseAll", (promises) => collect(promises, (p, done, reject) => {
    // A prototype check, not instanceof (Symbol.hasInstance is the script's).
    if (p !== null && typeof p === "object" && ObjectGetPrototypeOfRaw(p) === PromisePrototype) {
      PromisePrototypeThen(p, done, reject);
    } else {
      done(p);
    }
  }));
  /** `Promise.allSettled` by index; each result a null-prototype record. */
  define("SafePromiseAllSettled", (promises) => collect(promises, (p, done) => PromisePrototypeThen(
    p,
    (value) => done({ __proto__: null, status: "fulfilled", value }),
    (reason) => done({ __proto__: null, status: "rejected", reason }),
  )));
  /** `Promise.race` over an array of native promises, with captured `then`. */
  define("SafePromiseRace", (promises) => new PromiseRaw((resolve, reject) => {
    for (let i = 0; i < promises.length; i++) PromisePrototypeThen(promises[i], resolve, reject);
  }));
  define("SafePromisePrototypeFinally", (p, f) => PromisePrototypeThen(
    p,
    (v) => PromisePrototypeThen(new PromiseRaw((r) => r(f())), () => v),
    (e) => PromisePrototypeThen(new PromiseRaw((r) => r(f())), () => {
      throw e;
    }),
  ));

  /** A copy of `arr` built by index (no iterator, no `Array.prototype` lookups). */
  define("ArrayFromIndexed", (arr) => {
    const n = arr.length;
    const out = [];
    for (let i = 0; i < n; i++) {
      if (plainIndexStore(i)) out[i] = arr[i];
      else ArraySetOwn(out, i, arr[i]);
    }
    return out;
  });
  /** A null-prototype record with the own enumerable properties of `obj`. */
  define("NullRecord", (obj) => {
    const out = { __proto__: null };
    const keys = P.ObjectKeys(obj);
    for (let i = 0; i < keys.length; i++) out[keys[i]] = obj[keys[i]];
    return out;
  });

  // Descriptors the bootstrap reads, changes and passes on never inherit
  // `get`/`set`/`value` from Object.prototype: the members are copied onto
  // a record whose prototype is an empty, frozen, null-prototype object.
  // (Setting the descriptor's own prototype to null did the same, but made
  // V8 build a new map on every call: `new Request(url, request)` checks
  // two descriptors per request.)
  const ObjectHasOwnRaw = Object.hasOwn;
  function DescriptorRecord() {}
  const DescriptorRecordPrototype = ObjectFreezeRaw({ __proto__: null });
  DescriptorRecord.prototype = DescriptorRecordPrototype;
  ObjectFreezeRaw(DescriptorRecord);
  const getOwnDescriptor = (o, k) => {
    const d = ObjectGetOwnPropertyDescriptor(o, k);
    if (d === undefined) return d;
    const r = new DescriptorRecord();
    if (ObjectHasOwnRaw(d, "get")) {
      r.get = d.get;
      r.set = d.set;
    } else {
      r.value = d.value;
      r.writable = d.writable;
    }
    r.enumerable = d.enumerable;
    r.configurable = d.configurable;
    return r;
  };
  define("ObjectGetOwnPropertyDescriptor", getOwnDescriptor);
  define("ReflectGetOwnPropertyDescriptor", getOwnDescriptor);
  // And the descriptors it passes are read as own members only: a literal
  // `{ value }` would otherwise pick up a script's Object.prototype.get.
  const DESCRIPTOR_KEYS = ["value", "writable", "get", "set", "enumerable", "configurable"];
  const ownOnly = (d) => {
    if (d === null || typeof d !== "object") return d;
    const proto = ObjectGetPrototypeOfRaw(d);
    if (proto === null || proto === DescriptorRecordPrototype) return d;
    const out = { __proto__: null };
    for (let i = 0; i < DESCRIPTOR_KEYS.length; i++) {
      const k = DESCRIPTOR_KEYS[i];
      if (ObjectHasOwnRaw(d, k)) out[k] = d[k];
    }
    return out;
  };
  const ownOnlyMap = (props) => {
    const out = { __proto__: null };
    const keys = ReflectOwnKeys(props);
    for (let i = 0; i < keys.length; i++) out[keys[i]] = ownOnly(props[keys[i]]);
    return out;
  };
  const ObjectDefinePropertiesRaw = Object.defineProperties;
  const ObjectCreateRaw = Object.create;
  const ReflectDefinePropertyRaw = Reflect.defineProperty;
  define("ObjectDefineProperty", (o, k, d) => ObjectDefinePropertyRaw(o, k, ownOnly(d)));
  define("ReflectDefineProperty", (o, k, d) => ReflectDefinePropertyRaw(o, k, ownOnly(d)));
  define("ObjectDefineProperties", (o, props) => ObjectDefinePropertiesRaw(o, ownOnlyMap(props)));
  define("ObjectCreate", (proto, props) => (props === undefined ? ObjectCreateRaw(proto) : ObjectCreateRaw(proto, ownOnlyMap(props))));

  // Run once here, so that the startup snapshot holds their bytecode: an
  // isolate's first request compiled them otherwise (lazily, each a parse).
  {
    const slot = primordials.PrivateSlot();
    const o = primordials.ObjectCreate(null);
    slot.set(o, 1);
    slot.get(o);
    slot.has(o);
  }

  ObjectFreezeRaw(primordials);

  // `internals` and the ops are never behind Object.prototype: reading a
  // missing member or adding one never calls a script's getter/setter.
  ObjectSetPrototypeOfRaw(internals, null);
  if (internals.ops !== null && typeof internals.ops === "object") ObjectSetPrototypeOfRaw(internals.ops, null);
  // (`internals.compat`, set per worker after the snapshot is restored,
  // gets null prototypes in Rust: isolate.rs `null_prototypes`.)
  internals.primordials = primordials;
})
