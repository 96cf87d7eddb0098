// structuredClone beyond structured_clone.js: Error objects as the HTML
// standard and V8's serializer rebuild them, typed arrays and views,
// `transfer`, which objects refuse to clone, and hostile graphs (getters
// that mutate, deep nesting, sparse arrays).
import { Rec } from "./prelude.js";

const own = (o, k) => {
  const d = Object.getOwnPropertyDescriptor(o, k);
  if (d === undefined) return "absent";
  return ("value" in d ? typeof d.value : "accessor") + (d.enumerable ? " enum" : "") + (d.writable ? " w" : "") + (d.configurable ? " c" : "");
};
const tag = (v) => Object.prototype.toString.call(v);

export default {
  async fetch() {
    const r = new Rec();
    const sc = structuredClone;

    // ---- Errors ------------------------------------------------------------
    r.ck("error basic", () => {
      const e = new Error("m");
      const c = sc(e);
      return [tag(c), c instanceof Error, c.name, c.message, own(c, "message"), own(c, "name"), own(c, "stack"), typeof c.stack, c.stack === e.stack];
    });
    r.ck("error kinds", () =>
      [EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError].map((C) => {
        const c = sc(new C("x"));
        return [c.constructor.name, Object.getPrototypeOf(c) === C.prototype, c.name];
      }),
    );
    r.ck("error cause", () => {
      const c = sc(new Error("m", { cause: { a: 1 } }));
      return [own(c, "cause"), c.cause];
    });
    r.ck("error cause undefined", () => {
      const c = sc(new Error("m", { cause: undefined }));
      return [own(c, "cause"), "cause" in c];
    });
    r.ck("error cause is error", () => {
      const c = sc(new TypeError("outer", { cause: new RangeError("inner") }));
      return [c.name, c.cause.name, c.cause.message, c.cause instanceof RangeError];
    });
    r.ck("error without message", () => {
      const c = sc(new Error());
      return [own(c, "message"), c.message, c.toString()];
    });
    r.ck("error custom name own", () => {
      const e = new Error("m");
      e.name = "Custom";
      const c = sc(e);
      return [c.name, own(c, "name"), Object.getPrototypeOf(c) === Error.prototype];
    });
    r.ck("error name TypeError own", () => {
      const e = new Error("m");
      e.name = "TypeError";
      const c = sc(e);
      return [c.name, own(c, "name"), c instanceof TypeError];
    });
    r.ck("error subclass", () => {
      class MyErr extends RangeError {}
      const c = sc(new MyErr("m"));
      return [c.constructor.name, c.name, c instanceof RangeError];
    });
    r.ck("error subclass with proto name", () => {
      class Named extends Error {}
      Named.prototype.name = "Named";
      const c = sc(new Named("m"));
      return [c.constructor.name, c.name];
    });
    r.ck("error extra props", () => {
      const e = new Error("m");
      e.code = 42;
      e.detail = { x: 1 };
      const c = sc(e);
      return [c.code, c.detail, Object.keys(c)];
    });
    r.ck("error stack replaced", () => {
      const e = new Error("m");
      e.stack = "custom stack";
      const c = sc(e);
      return [c.stack, own(c, "stack")];
    });
    r.ck("error stack deleted", () => {
      const e = new Error("m");
      delete e.stack;
      const c = sc(e);
      return [own(c, "stack"), typeof c.stack];
    });
    r.ck("error message number", () => {
      const e = new Error("m");
      e.message = 5;
      return tag(sc(e));
    });
    r.ck("error message getter", () => {
      const e = new Error();
      Object.defineProperty(e, "message", { get: () => "from getter" });
      const c = sc(e);
      return [c.message, own(c, "message")];
    });
    r.ck("error in object", () => {
      const c = sc({ e: new URIError("u") });
      return [c.e.name, c.e.message];
    });
    r.ck("aggregate error", () => {
      const c = sc(new AggregateError([new Error("a"), 1], "agg"));
      return [tag(c), c.name, c.message, Array.isArray(c.errors), c.errors && c.errors.length];
    });
    r.ck("error same twice", () => {
      const e = new Error("m");
      const c = sc([e, e]);
      return c[0] === c[1];
    });
    r.ck("error-like object", () => {
      const c = sc({ name: "Error", message: "m" });
      return [tag(c), c instanceof Error];
    });
    r.ck("DOMException", () => {
      const c = sc(new DOMException("m", "AbortError"));
      return [tag(c), c.name, c.message, c.code, c instanceof DOMException];
    });

    // ---- typed arrays and buffers -------------------------------------------
    r.ck("typed arrays", () => {
      const b = new ArrayBuffer(16);
      const c = sc({
        f: new Float64Array([1.5, -0]),
        i: new Int16Array(b, 2, 3),
        u: new Uint8ClampedArray([300 & 255]),
        big: new BigInt64Array([-1n]),
        dv: new DataView(b, 4, 8),
        b,
      });
      return [
        c.f.constructor.name, c.f[0], Object.is(c.f[1], -0),
        c.i.byteOffset, c.i.length, c.i.buffer === c.b, c.dv.buffer === c.b, c.dv.byteOffset,
        c.u.constructor.name, c.big[0].toString(), c.b.byteLength,
      ];
    });
    r.ck("resizable buffer", () => {
      const b = new ArrayBuffer(4, { maxByteLength: 16 });
      const c = sc(b);
      return [c.resizable, c.maxByteLength, c.byteLength];
    });
    r.ck("detached buffer", () => {
      const b = new ArrayBuffer(4);
      b.transfer();
      return sc(b);
    });
    r.ck("view of detached buffer", () => {
      const b = new ArrayBuffer(4);
      const v = new Uint8Array(b);
      b.transfer();
      return sc(v);
    });

    // ---- transfer ------------------------------------------------------------
    r.ck("transfer detaches", () => {
      const u = new Uint8Array([1, 2, 3]);
      const c = sc(u, { transfer: [u.buffer] });
      return [u.byteLength, u.buffer.detached, c.length, c[2]];
    });
    r.ck("transfer buffer not in value", () => {
      const b = new ArrayBuffer(2);
      const c = sc(1, { transfer: [b] });
      return [c, b.detached];
    });
    r.ck("transfer same buffer twice", () => {
      const b = new ArrayBuffer(2);
      return sc(b, { transfer: [b, b] });
    });
    r.ck("transfer typed array", () => {
      const u = new Uint8Array(2);
      return sc(u, { transfer: [u] });
    });
    r.ck("transfer detached", () => {
      const b = new ArrayBuffer(2);
      b.transfer();
      return sc(1, { transfer: [b] });
    });
    r.ck("transfer not a sequence", () => sc(1, { transfer: 5 }));
    r.ck("transfer a Set", () => {
      const b = new ArrayBuffer(2);
      sc(1, { transfer: new Set([b]) });
      return b.detached;
    });
    r.ck("transfer undefined", () => sc(1, { transfer: undefined }));
    r.ck("options not object", () => sc(1, 5));
    r.ck("options null", () => sc(1, null));
    r.ck("transfer fails after partial", () => {
      const b = new ArrayBuffer(2);
      try {
        sc(() => 1, { transfer: [b] });
      } catch (e) {
        return [e.name, b.detached];
      }
      return "no throw";
    });

    // ---- what refuses to clone ------------------------------------------------
    const refuse = {
      Proxy: () => new Proxy({}, {}),
      WeakMap: () => new WeakMap(),
      WeakSet: () => new WeakSet(),
      WeakRef: () => new WeakRef({}),
      Promise: () => Promise.resolve(),
      SymbolObject: () => Object(Symbol("s")),
      Generator: () => (function* () {})(),
      "Symbol key only": () => ({ [Symbol("k")]: 1 }),
      Request: () => new Request("http://x/"),
      Response: () => new Response("x"),
      Headers: () => new Headers({ a: "1" }),
      URL: () => new URL("http://x/"),
      URLSearchParams: () => new URLSearchParams("a=1"),
      ReadableStream: () => new ReadableStream(),
      WritableStream: () => new WritableStream(),
      TextEncoder: () => new TextEncoder(),
      AbortController: () => new AbortController(),
      AbortSignal: () => AbortSignal.abort(),
      Event: () => new Event("x"),
      EventTarget: () => new EventTarget(),
      FormData: () => new FormData(),
      File: () => new File(["x"], "f.txt"),
      "Blob type": () => new Blob(["xy"], { type: "text/plain" }),
      crypto: () => crypto,
      globalThis: () => globalThis,
      Math: () => Math,
      "bound function": () => (() => 1).bind(null),
      "class": () => class A {},
    };
    for (const [k, f] of Object.entries(refuse)) {
      r.ck("clone " + k, () => {
        const c = sc(f());
        return [tag(c), JSON.stringify(Object.keys(c))];
      });
    }
    await r.ack("Blob contents", async () => {
      const c = sc(new Blob(["xy"], { type: "text/plain" }));
      return [c.type, c.size, await c.text()];
    });

    // ---- graphs -------------------------------------------------------------
    r.ck("primitives edge", () => {
      const c = sc([NaN, -0, Infinity, "a\ud800b", 2n ** 70n]);
      return [String(c[0]), Object.is(c[1], -0), String(c[2]), c[3].length, c[3].charCodeAt(1), String(c[4])];
    });
    r.ck("boxed", () => {
      const c = sc([new Boolean(false), new String("ab"), new Number(-0), Object(3n)]);
      return c.map((v) => [tag(v), String(v.valueOf())]);
    });
    r.ck("date invalid", () => String(sc(new Date(NaN)).getTime()));
    r.ck("regexp", () => {
      const re = /a(?<n>b)/dgimsy;
      re.lastIndex = 3;
      re.extra = 1;
      const c = sc(re);
      return [c.flags, c.lastIndex, c.extra, c.source];
    });
    r.ck("regexp v flag", () => sc(/[\p{L}--[a-z]]/v).flags);
    r.ck("null prototype", () => {
      const o = Object.create(null);
      o.a = 1;
      const c = sc(o);
      return [Object.getPrototypeOf(c) === Object.prototype, c.a];
    });
    r.ck("non-enumerable and symbols dropped", () => {
      const o = { a: 1, [Symbol("s")]: 2 };
      Object.defineProperty(o, "hidden", { value: 3, enumerable: false });
      const c = sc(o);
      return [Object.keys(c), Object.getOwnPropertySymbols(c).length, "hidden" in c];
    });
    r.ck("key order", () => Object.keys(sc({ b: 1, 2: 1, a: 1, 1: 1, [-1]: 1 })));
    r.ck("inherited not copied", () => {
      const c = sc(Object.create({ inherited: 1 }));
      return "inherited" in c;
    });
    r.ck("getter deletes later key", () => {
      const o = { get a() { delete o.b; return 1; }, b: 2, c: 3 };
      const c = sc(o);
      return [Object.keys(c), c.b];
    });
    r.ck("getter adds key", () => {
      const o = { get a() { o.z = 9; return 1; }, b: 2 };
      return Object.keys(sc(o));
    });
    r.ck("getter throws", () => sc({ get a() { throw new RangeError("from getter"); } }));
    r.ck("getter shrinks array", () => {
      const a = [1, 2, 3, 4];
      Object.defineProperty(a, 0, { get() { a.length = 1; return "x"; }, enumerable: true, configurable: true });
      const c = sc(a);
      return [c.length, c[0], 1 in c, 3 in c];
    });
    r.ck("sparse array", () => {
      const a = [];
      a[5] = 1;
      a[100000] = 2;
      const c = sc(a);
      return [c.length, Object.keys(c), 0 in c];
    });
    r.ck("huge sparse length", () => {
      const a = [];
      a.length = 2 ** 32 - 1;
      a[7] = "x";
      const c = sc(a);
      return [c.length, c[7]];
    });
    r.ck("array holes kept", () => {
      const c = sc([1, , 3]);
      return [c.length, 1 in c, Object.keys(c)];
    });
    r.ck("array index getters", () => {
      const a = [1, 2];
      Object.defineProperty(a, "1", { get: () => "g", enumerable: true });
      return sc(a);
    });
    r.ck("map key cycle", () => {
      const m = new Map();
      m.set(m, m);
      const c = sc(m);
      return [c.size, c.get(c) === c, c.keys().next().value === c];
    });
    r.ck("set of objects shared", () => {
      const o = {};
      const c = sc([new Set([o]), o]);
      return [...c[0]][0] === c[1];
    });
    r.ck("map subclass", () => {
      class M extends Map {}
      const c = sc(new M([[1, 2]]));
      return [tag(c), c.constructor.name, c.get(1)];
    });
    r.ck("deep nesting", () => {
      let v = null;
      for (let i = 0; i < 30000; i++) v = [v];
      sc(v);
      return "cloned";
    });
    r.ck("deep object nesting", () => {
      let v = {};
      for (let i = 0; i < 30000; i++) v = { v };
      sc(v);
      return "cloned";
    });
    r.ck("moderate nesting", () => {
      let v = 1;
      for (let i = 0; i < 1000; i++) v = { v };
      let c = sc(v);
      let n = 0;
      while (typeof c === "object") {
        c = c.v;
        n++;
      }
      return n;
    });
    r.ck("array extra props", () => {
      const a = [1];
      a.x = 1;
      a[-1] = 2;
      return Object.keys(sc(a));
    });
    r.ck("array with function", () => sc([1, () => 2]));
    r.ck("object with symbol value", () => sc({ s: Symbol.iterator }));
    r.ck("nested function named", () => sc({ a: { b: function named() {} } }));
    r.ck("async function", () => sc(async () => {}));
    return r.response();
  },
};
