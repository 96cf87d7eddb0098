// Hostile worker (tests/containment_prim.rs): before it uses the Workers API
// it replaces the built-ins the runtime's own JavaScript could rely on.
// env.MODE:
//   "clean"   - no tampering (the reference answer);
//   "record"  - every replaced built-in records what it receives (`this`,
//               arguments, values given to setters) and then behaves as the
//               original, so the answer must equal the clean one;
//   "corrupt" - the replacements lie (iterators yield header injections,
//               getters on Object.prototype answer a status text with CR/LF,
//               charCodeAt says every character is "A", Map.prototype.get
//               answers "evil", ...). The runtime must not notice.
// Either way the answer reports whether anything recorded, or anything
// reachable from globalThis, is the runtime's `internals` or its ops.

// ---- originals, saved before tampering (the script keeps using these) ----
const uncurry = Function.prototype.bind.bind(Function.prototype.call);
const apply = uncurry(Function.prototype.apply);
const hasOwn = uncurry(Object.prototype.hasOwnProperty);
const push = uncurry(Array.prototype.push);
const defineProperty = Object.defineProperty;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const getPrototypeOf = Object.getPrototypeOf;
const ownKeys = Reflect.ownKeys;
const stringify = JSON.stringify;
const parse = JSON.parse;
const charCodeAt = uncurry(String.prototype.charCodeAt);
const toHex = uncurry(Number.prototype.toString);
const padStart = uncurry(String.prototype.padStart);
const setHas = uncurry(Set.prototype.has);
const setAdd = uncurry(Set.prototype.add);
const TypedArrayPrototype = getPrototypeOf(Uint8Array.prototype);
const typedLength = uncurry(getOwnPropertyDescriptor(TypedArrayPrototype, "length").get);
// Appends without consulting Array.prototype (whose index setters this
// script replaces).
function append(arr, v) {
  defineProperty(arr, arr.length, { __proto__: null, value: v, writable: true, enumerable: true, configurable: true });
}
const P = {
  Headers, Response, Request, URL, TextEncoder, TextDecoder, ReadableStream, TransformStream, Uint8Array,
  Map, Set, Promise, fetch, crypto, WeakMap,
};

const promiseResolve = Promise.resolve.bind(Promise);
const SymbolIterator = Symbol.iterator;
const seen = [];
function record(x) {
  if (x !== null && (typeof x === "object" || typeof x === "function") && seen.length < 100000) append(seen, x);
}
// `internals` (own data members `ops` and `primordials`) or the ops object
// (own functions `respond`, `bodyRead` and `sinkNew`).
function ownData(x, key) {
  try {
    const d = getOwnPropertyDescriptor(x, key);
    return d !== undefined && hasOwn(d, "value") ? d.value : undefined;
  } catch {
    return undefined;
  }
}
function isInternal(x) {
  if (x === null || (typeof x !== "object" && typeof x !== "function")) return false;
  if (ownData(x, "ops") !== undefined && ownData(x, "primordials") !== undefined) return true;
  return typeof ownData(x, "respond") === "function" && typeof ownData(x, "bodyRead") === "function" &&
    typeof ownData(x, "sinkNew") === "function";
}
// Everything reachable from globalThis through own data properties and
// prototypes (no getter is called), up to a bound.
const foundPaths = [];
function reachableInternals() {
  const queue = [globalThis];
  const paths = ["globalThis"];
  const visited = new P.Set();
  const has = (o) => setHas(visited, o);
  let found = 0;
  for (let i = 0; i < queue.length && i < 20000; i++) {
    const o = queue[i];
    if (has(o)) continue;
    setAdd(visited, o);
    if (isInternal(o)) {
      found++;
      append(foundPaths, paths[i]);
    }
    let keys;
    try {
      keys = ownKeys(o);
    } catch {
      continue;
    }
    for (let k = 0; k < keys.length; k++) {
      let d;
      try {
        // A lazily loaded global loads here; under "corrupt" that may fail
        // (the script broke its own built-ins), which is the script's affair.
        d = getOwnPropertyDescriptor(o, keys[k]);
      } catch {
        continue;
      }
      if (d === undefined) continue;
      const vs = hasOwn(d, "value") ? [d.value] : [d.get, d.set];
      for (let j = 0; j < vs.length; j++) {
        const v = vs[j];
        if (v !== null && (typeof v === "object" || typeof v === "function")) {
          append(queue, v);
          append(paths, `${paths[i]}.${typeof keys[k] === "symbol" ? "[symbol]" : keys[k]}`);
        }
      }
    }
    const proto = getPrototypeOf(o);
    if (proto !== null) {
      append(queue, proto);
      append(paths, `${paths[i]}.__proto__`);
    }
  }
  return found;
}

const EVIL = "Evil\r\nX-Injected: yes";
const EVIL_PAIR = ["x-injected", "yes\r\nX-Split: 1"];

// Replaces obj[key] (a method) by one that records and then either calls
// the original or, when corrupting, answers `lie(original, this, args)`.
function hook(obj, key, corrupt, lie) {
  const d = getOwnPropertyDescriptor(obj, key);
  if (d === undefined || typeof d.value !== "function") return;
  const original = d.value;
  const value = function (...args) {
    record(this);
    for (let i = 0; i < args.length; i++) record(args[i]);
    if (corrupt) return lie(original, this, args);
    return apply(original, this, args);
  };
  defineProperty(obj, key, { __proto__: null, value, writable: true, enumerable: d.enumerable, configurable: true });
}
// Replaces an accessor's getter.
function hookGetter(obj, key, corrupt, lie) {
  const d = getOwnPropertyDescriptor(obj, key);
  if (d === undefined || typeof d.get !== "function") return;
  const original = d.get;
  const get = function () {
    record(this);
    if (corrupt) return lie(original, this);
    return apply(original, this, []);
  };
  defineProperty(obj, key, { __proto__: null, get, set: d.set, enumerable: d.enumerable, configurable: true });
}
// A getter/setter pair on Object.prototype for a name the runtime might
// read from, or write to, its own objects.
function trapName(name, corrupt, fake) {
  defineProperty(Object.prototype, name, {
    __proto__: null,
    configurable: true,
    get() {
      record(this);
      return corrupt ? fake : undefined;
    },
    set(v) {
      record(this);
      record(v);
      defineProperty(this, name, { __proto__: null, value: v, writable: true, enumerable: true, configurable: true });
    },
  });
}

function evilIterator() {
  let done = false;
  return {
    next() {
      if (done) return { value: undefined, done: true };
      done = true;
      return { value: EVIL_PAIR, done: false };
    },
    [Symbol.iterator]() {
      return this;
    },
  };
}

let tampered = false;
function tamper(mode) {
  if (tampered || mode === "clean") return;
  tampered = true;
  const c = mode === "corrupt";
  // Arrays.
  hook(Array.prototype, Symbol.iterator, c, () => evilIterator());
  const ArrayIteratorPrototype = getPrototypeOf([][Symbol.iterator]());
  hook(ArrayIteratorPrototype, "next", c, () => ({ value: EVIL_PAIR, done: false }));
  hook(Array.prototype, "push", c, (o, self, args) => apply(o, self, ["x-injected", EVIL, ...args]));
  hook(Array.prototype, "map", c, () => [EVIL_PAIR]);
  hook(Array.prototype, "join", c, () => EVIL);
  hook(Array.prototype, "slice", c, () => [EVIL_PAIR, EVIL_PAIR]);
  hook(Array.prototype, "concat", c, () => [EVIL]);
  hook(Array.prototype, "filter", c, () => [EVIL_PAIR]);
  hook(Array.prototype, "find", c, () => ["location", "http://evil.test/"]);
  hook(Array.prototype, "includes", c, () => true);
  hook(Array.prototype, "indexOf", c, () => 0);
  hook(Array.prototype, "sort", c, (o, self) => self);
  hook(Array.prototype, "shift", c, () => EVIL);
  hook(Array.prototype, "forEach", c, () => undefined);
  hook(Array.prototype, "splice", c, () => []);
  hook(Array, "from", c, () => [EVIL_PAIR]);
  hook(Array, "isArray", c, () => true);
  // Array index setters: the runtime's own arrays must not call them.
  for (let i = 0; i < 8; i++) {
    defineProperty(Array.prototype, i, {
      __proto__: null,
      configurable: true,
      get() {
        record(this);
        return c ? EVIL : undefined;
      },
      set(v) {
        record(this);
        record(v);
        defineProperty(this, i, { __proto__: null, value: c ? EVIL : v, writable: true, enumerable: true, configurable: true });
      },
    });
  }
  // Object.prototype getters and setters.
  const names = [
    "ops", "internals", "primordials", "lazyTarget", "node", "extractSpecialBody", "makeDOMException", "compat",
    "flags", "env", "source", "stream", "rid", "bytes", "kind", "value", "done", "highWaterMark", "size",
    "start", "pull", "cancel", "type", "status", "statusText", "headers", "body", "method", "redirect",
    "signal", "cf", "url", "get", "set", "writable", "enumerable", "configurable", "webSocket", "duplex",
    "integrity", "cache", "mode", "name", "hash", "length", "promise", "resolve", "reject", "then",
  ];
  const fakes = {
    status: 599, statusText: EVIL, headers: { "x-injected": "yes" }, body: EVIL, method: "DELETE",
    redirect: "manual", highWaterMark: 1e9, size: () => 1, type: undefined, url: "http://evil.test/",
    done: undefined, value: undefined, then: undefined, get: undefined, set: undefined, length: undefined,
    name: undefined, hash: undefined, kind: undefined, source: undefined, stream: undefined, rid: 1, bytes: undefined,
  };
  for (let i = 0; i < names.length; i++) trapName(names[i], c, hasOwn(fakes, names[i]) ? fakes[names[i]] : EVIL);
  // Promises.
  // Promise.prototype.then is only recorded, never made to lie: resolving a
  // promise with a native promise looks `then` up (the spec's thenable
  // adoption), so a lying `then` corrupts the script's own stream data.
  // What it must never do is receive the runtime's internals (checked).
  hook(Promise.prototype, "then", false, undefined);
  hook(Promise.prototype, "catch", c, (o, self) => self);
  hook(Promise.prototype, "finally", c, (o, self) => self);
  hook(Promise, "resolve", c, () => promiseResolve(EVIL));
  hook(Promise, "all", c, () => promiseResolve([EVIL]));
  hook(Promise, "allSettled", c, () => promiseResolve([]));
  hook(Promise, "race", c, () => promiseResolve(EVIL));
  // Functions.
  hook(Function.prototype, "call", c, () => EVIL);
  hook(Function.prototype, "apply", c, () => EVIL);
  hook(Function.prototype, "bind", c, () => () => EVIL);
  // Collections.
  const maps = [Map, WeakMap];
  for (let i = 0; i < maps.length; i++) {
    const C = maps[i];
    hook(C.prototype, "get", c, () => EVIL);
    hook(C.prototype, "has", c, () => true);
    hook(C.prototype, "set", c, (o, self) => self);
    hook(C.prototype, "delete", c, () => false);
  }
  const sets = [Set, WeakSet];
  for (let i = 0; i < sets.length; i++) {
    const C = sets[i];
    hook(C.prototype, "has", c, () => true);
    hook(C.prototype, "add", c, (o, self) => self);
    hook(C.prototype, "delete", c, () => false);
  }
  hook(Map.prototype, "keys", c, () => evilIterator());
  hook(Map.prototype, "entries", c, () => evilIterator());
  hook(Map.prototype, Symbol.iterator, c, () => evilIterator());
  hook(Set.prototype, "values", c, () => evilIterator());
  hook(Set.prototype, Symbol.iterator, c, () => evilIterator());
  hook(getPrototypeOf(new Map().entries()), "next", c, () => ({ value: EVIL_PAIR, done: false }));
  hook(getPrototypeOf(new Set().values()), "next", c, () => ({ value: EVIL, done: false }));
  // JSON, strings, regular expressions.
  hook(JSON, "stringify", c, () => '"evil"');
  hook(JSON, "parse", c, () => ({ evil: EVIL }));
  const stringMethods = ["toLowerCase", "toUpperCase", "slice", "substring", "substr", "trim", "replace",
    "replaceAll", "padStart", "normalize", "toWellFormed", "repeat", "concat", "at"];
  for (let i = 0; i < stringMethods.length; i++) hook(String.prototype, stringMethods[i], c, () => EVIL);
  hook(String.prototype, "split", c, () => [EVIL]);
  hook(String.prototype, "charCodeAt", c, () => 65);
  hook(String.prototype, "codePointAt", c, () => 65);
  hook(String.prototype, "includes", c, () => false);
  hook(String.prototype, "startsWith", c, () => false);
  hook(String.prototype, "indexOf", c, () => -1);
  hook(String.prototype, Symbol.iterator, c, () => evilIterator());
  hook(String, "fromCharCode", c, () => EVIL);
  hook(RegExp.prototype, "exec", c, () => null);
  hook(RegExp.prototype, "test", c, () => false);
  hook(RegExp.prototype, Symbol.replace, c, () => EVIL);
  // Typed arrays and buffers.
  hook(TypedArrayPrototype, Symbol.iterator, c, () => evilIterator());
  hook(TypedArrayPrototype, "slice", c, () => new P.Uint8Array(3));
  hook(TypedArrayPrototype, "subarray", c, () => new P.Uint8Array(3));
  hook(TypedArrayPrototype, "set", c, () => undefined);
  hookGetter(TypedArrayPrototype, "byteLength", c, () => 1e9);
  hookGetter(TypedArrayPrototype, "length", c, () => 1e9);
  hookGetter(TypedArrayPrototype, "byteOffset", c, () => 7);
  hookGetter(TypedArrayPrototype, "buffer", c, () => new ArrayBuffer(1));
  hookGetter(ArrayBuffer.prototype, "byteLength", c, () => 1e9);
  hook(ArrayBuffer.prototype, "slice", c, () => new ArrayBuffer(1));
  hook(ArrayBuffer, "isView", c, () => true);
  // Reflect and Object.
  hook(Reflect, "apply", c, () => EVIL);
  hook(Reflect, "get", c, () => EVIL);
  hook(Reflect, "ownKeys", c, () => ["x-injected"]);
  hook(Reflect, "construct", c, () => ({}));
  hook(Object, "defineProperty", c, (o, self, args) => args[0]);
  hook(Object, "keys", c, () => ["x-injected"]);
  hook(Object, "entries", c, () => [EVIL_PAIR]);
  hook(Object, "assign", c, (o, self, args) => args[0]);
  hook(Object, "create", c, () => ({}));
  hook(Object, "getPrototypeOf", c, () => null);
  hook(Object, "setPrototypeOf", c, (o, self, args) => args[0]);
  hook(Object, "freeze", c, (o, self, args) => args[0]);
  hook(Object, "getOwnPropertyDescriptor", c, () => undefined);
  hook(Object.prototype, "toString", c, () => "[object Evil]");
  hook(Object.prototype, "hasOwnProperty", c, () => true);
  // instanceof answers what the script likes.
  const classes = [Response, Request, Headers, Uint8Array, ArrayBuffer, ReadableStream, Promise, Error, URL];
  for (let i = 0; i < classes.length; i++) {
    defineProperty(classes[i], Symbol.hasInstance, { __proto__: null, configurable: true, value: (x) => (record(x), c) });
  }
  // Globals the runtime might look up by name.
  const hostile = function (...args) {
    for (let i = 0; i < args.length; i++) record(args[i]);
    if (c) return { evil: EVIL };
    return undefined;
  };
  const globals = ["Headers", "Response", "Request", "URL", "TextEncoder", "TextDecoder", "ReadableStream",
    "TransformStream", "Uint8Array", "ArrayBuffer", "Map", "Set", "WeakMap", "Promise", "Array", "Object",
    "String", "Number", "Symbol", "JSON", "Reflect", "TypeError", "Error", "RangeError", "AbortController",
    "DOMException", "queueMicrotask", "setTimeout", "fetch"];
  for (let i = 0; i < globals.length; i++) {
    if (c) globalThis[globals[i]] = hostile;
  }
}

function hex(buf) {
  const u8 = new P.Uint8Array(buf);
  let s = "";
  for (let i = 0; i < typedLength(u8); i++) s += padStart(toHex(u8[i], 16), 2, "0");
  return s;
}

export default {
  async fetch(request, env) {
    tamper(env.MODE);
    const url = new P.URL(request.url);
    if (url.pathname === "/pass") {
      // Straight through to the origin.
      return P.fetch(request);
    }
    if (url.pathname === "/probe") {
      // What the tampering caught, and what globalThis leads to.
      const out = { recorded: seen.length, leaked: 0, reachable: reachableInternals(), paths: foundPaths };
      // The detector itself recognises both shapes.
      out.detector = isInternal({ ops: {}, primordials: {} }) &&
        isInternal({ respond() {}, bodyRead() {}, sinkNew() {} }) && !isInternal({ respond() {} });
      for (let i = 0; i < seen.length; i++) if (isInternal(seen[i])) out.leaked++;
      return new P.Response(stringify(out));
    }
    if (url.pathname === "/crypto") {
      // An algorithm dictionary whose getters answer one value to the
      // first read and another later: the runtime reads each member once.
      let reads = 0;
      const params = {
        name: "PBKDF2",
        hash: "SHA-256",
        salt: new P.Uint8Array(8),
        get iterations() {
          reads++;
          return reads === 1 ? 1000 : 4294967295;
        },
      };
      // keyUsages is a sequence: Web IDL iterates it with the script's own
      // iterator, so this one does not come from Array.prototype.
      const usages = {
        [SymbolIterator]() {
          let done = false;
          return {
            next() {
              if (done) return { value: undefined, done: true };
              done = true;
              return { value: "deriveBits", done: false };
            },
          };
        },
      };
      const key = await P.crypto.subtle.importKey("raw", new P.TextEncoder().encode("pw"), "PBKDF2", false, usages);
      const bits = await P.crypto.subtle.deriveBits(params, key, 256);
      return new P.Response(`reads=${reads} bits=${hex(bits)}`);
    }
    // The Workers API, used normally.
    const h = new P.Headers();
    h.set("x-a", "1");
    h.append("Set-Cookie", "a=1");
    h.append("Set-Cookie", "b=2");
    h.append("x-list", "one");
    h.append("x-list", "two");
    const text = await request.text();
    const q = url.searchParams.get("q");
    const bytes = new P.TextEncoder().encode(`héllo ${text}`);
    const digest = await P.crypto.subtle.digest("SHA-256", bytes);
    const sent = new P.Headers();
    sent.set("x-sent", "yes");
    const upstream = await P.fetch(`${env.ORIGIN}/echo?from=worker`, { __proto__: null, method: "POST", body: text, headers: sent });
    const echo = parse(await upstream.text());
    const report =
      `q=${q} text=${text} len=${typedLength(bytes)} sha=${hex(digest)} up=${upstream.status} ` +
      `upmethod=${echo.method} upbody=${echo.body} upsent=${echo.headers["x-sent"]} ` +
      `decoded=${new P.TextDecoder().decode(bytes)} xa=${h.get("x-a")} xlist=${h.get("x-list")}`;
    // A streamed body through a TransformStream.
    const enc = new P.TextEncoder();
    let n = 0;
    const source = new P.ReadableStream({
      __proto__: null,
      pull(controller) {
        if (n === 3) controller.close();
        else controller.enqueue(enc.encode(`chunk${n++};`));
      },
    });
    const upper = new P.TransformStream({
      __proto__: null,
      transform(chunk, controller) {
        controller.enqueue(chunk);
      },
    });
    const tail = source.pipeThrough(upper);
    const head = enc.encode(`${report}\n`);
    let sentHead = false;
    const reader = tail.getReader();
    const body = new P.ReadableStream({
      __proto__: null,
      async pull(controller) {
        if (!sentHead) {
          sentHead = true;
          controller.enqueue(head);
          return;
        }
        const r = await reader.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
    });
    if (url.pathname === "/plain") return new P.Response(text);
    return new P.Response(body, { __proto__: null, status: 201, statusText: "Made", headers: h });
  },
};
