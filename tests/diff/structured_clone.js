import { Rec } from "./prelude.js";

export default {
  async fetch() {
    const r = new Rec();
    const d = (v) => {
      const c = structuredClone(v);
      return Object.prototype.toString.call(c);
    };
    r.ck("primitives", () => [structuredClone(1), structuredClone("s"), structuredClone(null), structuredClone(true), String(structuredClone(10n)), structuredClone(undefined) === undefined]);
    r.ck("object graph", () => {
      const o = { a: [1, { b: 2 }], s: new Set([1, 2]), m: new Map([["k", { v: 1 }]]) };
      o.self = o;
      const c = structuredClone(o);
      return [c !== o, c.self === c, c.a[1].b, [...c.s], c.m.get("k").v];
    });
    r.ck("date/regexp", () => {
      const c = structuredClone({ d: new Date(0), r: /ab+c/gi });
      return [c.d.toISOString(), c.r.source, c.r.flags, d(new Date(0))];
    });
    r.ck("buffers", () => {
      const buf = new Uint8Array([1, 2, 3]);
      const c = structuredClone({ u: buf, dv: new DataView(buf.buffer, 1), ab: buf.buffer });
      return [c.u, c.dv.byteLength, c.ab.byteLength, c.u.buffer === c.ab];
    });
    r.ck("errors", () => {
      const e = structuredClone(new RangeError("r"));
      const t = structuredClone(new TypeError("t"));
      return [e.constructor.name, e.message, t.name, e instanceof RangeError];
    });
    r.ck("function", () => structuredClone(() => 1));
    r.ck("symbol", () => structuredClone(Symbol("x")));
    r.ck("object with function", () => structuredClone({ f() {} }));
    r.ck("class instance loses proto", () => {
      class K { constructor() { this.x = 1; } }
      const c = structuredClone(new K());
      return [c.constructor.name, c.x];
    });
    r.ck("getter evaluated", () => structuredClone({ get g() { return 5; } }));
    r.ck("transfer", () => {
      const ab = new Uint8Array([1, 2]).buffer;
      const c = structuredClone(ab, { transfer: [ab] });
      return [ab.byteLength, c.byteLength];
    });
    r.ck("no args", () => structuredClone());
    r.ck("boxed primitives", () => [d(new String("s")), d(new Number(1)), d(Object(1n))]);
    r.ck("sparse array", () => {
      const a = [1, , 3];
      a.extra = "x";
      const c = structuredClone(a);
      return [c.length, 1 in c, c.extra];
    });
    r.ck("DOMException", () => {
      try {
        return d(new DOMException("m", "AbortError"));
      } catch (e) {
        return "threw " + e.name;
      }
    });
    r.ck("Headers", () => structuredClone(new Headers()));
    r.ck("Blob", () => d(new Blob(["x"])));
    return r.response();
  },
};
