import { Rec } from "./prelude.js";

const drain = (it, n = 10) => {
  const out = [];
  for (let i = 0; i < n; i++) {
    const s = it.next();
    if (s.done) break;
    out.push(s.value);
  }
  return out;
};

// Headers iterators: their prototypes, what they see of changes made while
// iterating, next() on foreign receivers, and forEach.
export default {
  async fetch(request) {
    const r = new Rec();
    const mk = () => new Headers([["b", "2"], ["a", "1"], ["c", "3"]]);
    const it = mk().entries();
    const proto = Object.getPrototypeOf(it);
    r.ck("toString", () => Object.prototype.toString.call(it));
    r.ck("keys toString", () => Object.prototype.toString.call(mk().keys()));
    r.ck("values toString", () => Object.prototype.toString.call(mk().values()));
    r.ck("same proto keys/entries", () => Object.getPrototypeOf(mk().keys()) === proto);
    r.ck("proto of proto is %IteratorPrototype%", () =>
      Object.getPrototypeOf(proto) === Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())));
    r.ck("proto of proto of proto", () => {
      const p2 = Object.getPrototypeOf(proto);
      return Object.getPrototypeOf(p2) === Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
    });
    r.ck("own names", () => Object.getOwnPropertyNames(proto).sort());
    r.ck("next desc", () => {
      let p = proto;
      while (p && !Object.getOwnPropertyDescriptor(p, "next")) p = Object.getPrototypeOf(p);
      const d = Object.getOwnPropertyDescriptor(p, "next");
      return [typeof d.value, d.writable, d.enumerable, d.configurable, d.value.length];
    });
    r.ck("iterator is iterable", () => it[Symbol.iterator]() === it);
    r.ck("@@iterator is entries", () => Headers.prototype[Symbol.iterator] === Headers.prototype.entries);
    r.ck("entries", () => drain(mk().entries()));
    r.ck("keys", () => drain(mk().keys()));
    r.ck("values", () => drain(mk().values()));

    // Changes made while iterating.
    r.ck("append during", () => {
      const h = mk();
      const i = h.keys();
      const out = [i.next().value];
      h.append("aa", "x");
      h.append("z", "y");
      return out.concat(drain(i));
    });
    r.ck("delete during", () => {
      const h = mk();
      const i = h.keys();
      const out = [i.next().value];
      h.delete("b");
      h.delete("c");
      return out.concat(drain(i));
    });
    r.ck("set during", () => {
      const h = mk();
      const i = h.entries();
      const out = [i.next().value];
      h.set("c", "changed");
      return out.concat(drain(i));
    });
    r.ck("delete before first next", () => {
      const h = mk();
      const i = h.keys();
      h.delete("a");
      return drain(i);
    });
    r.ck("forEach mutating", () => {
      const h = mk();
      const seen = [];
      h.forEach((v, k) => {
        seen.push(k);
        if (k === "a") h.delete("c");
        if (k === "b") h.append("d", "4");
      });
      return seen;
    });
    r.ck("for-of mutating", () => {
      const h = mk();
      const seen = [];
      for (const [k] of h) {
        seen.push(k);
        if (seen.length === 1) h.append("0", "first");
      }
      return seen;
    });
    r.ck("set-cookie entries", () => {
      const h = new Headers();
      h.append("Set-Cookie", "a=1");
      h.append("Set-Cookie", "b=2");
      h.append("x", "1");
      h.append("x", "2");
      return drain(h.entries());
    });
    r.ck("incoming", () => drain(request.headers.keys()).filter((k) => k.startsWith("x-")));

    // next() on other receivers; exhausted iterators.
    r.ck("next on {}", () => proto.next.call({}));
    r.ck("next on other kind", () => proto.next.call(mk().keys()));
    r.ck("next on array iterator", () => proto.next.call([][Symbol.iterator]()));
    r.ck("next on FormData iterator", () => proto.next.call(new FormData().entries()));
    r.ck("done twice", () => {
      const i = new Headers().keys();
      return [i.next(), i.next()];
    });
    r.ck("done then append", () => {
      const h = new Headers();
      const i = h.keys();
      i.next();
      h.append("a", "1");
      return i.next();
    });
    r.ck("result proto", () => Object.getPrototypeOf(mk().keys().next()) === Object.prototype);
    r.ck("value array fresh", () => {
      const i = mk().entries();
      const a = i.next().value;
      return [Array.isArray(a), Object.getPrototypeOf(a) === Array.prototype];
    });
    r.ck("new on iterator", () => new (Object.getPrototypeOf(mk().keys()).constructor)());
    // (workerd also has internal symbols of its own there.)
    r.ck("proto symbols", () => Object.getOwnPropertySymbols(proto).map(String).filter((s) => s.startsWith("Symbol(Symbol.")));
    r.ck("constructor", () => [typeof proto.constructor, proto.constructor.name, proto.constructor.length]);
    r.ck("constructor call", () => proto.constructor());
    r.ck("toStringTag desc", () => {
      const d = Object.getOwnPropertyDescriptor(proto, Symbol.toStringTag);
      return d ? [d.value, d.writable, d.enumerable, d.configurable] : null;
    });
    // The other pair iterables' iterators, for comparison.
    for (const [label, mkOther] of [
      ["FormData", () => new FormData()],
      ["URLSearchParams", () => new URLSearchParams("b=2&a=1")],
    ]) {
      r.ck(`${label} structure`, () => {
        const o = mkOther();
        const p = Object.getPrototypeOf(o.keys());
        return [
          Object.prototype.toString.call(o.keys()),
          Object.getOwnPropertyNames(p).sort(),
          Object.getPrototypeOf(o.keys()) === Object.getPrototypeOf(o.entries()),
          Object.getPrototypeOf(p) === Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())),
          o[Symbol.iterator] === o.entries,
        ];
      });
    }
    r.ck("URLSearchParams live", () => {
      const u = new URLSearchParams("a=1&b=2&c=3");
      const i = u.keys();
      const out = [i.next().value];
      u.delete("a");
      return out.concat(drain(i));
    });
    r.ck("URLSearchParams forEach mutating", () => {
      const u = new URLSearchParams("a=1&b=2&c=3");
      const seen = [];
      u.forEach((v, k) => {
        seen.push(k);
        if (k === "a") u.append("d", "4");
      });
      return seen;
    });
    r.ck("headers keys after exhausted next", () => {
      const i = mk().keys();
      drain(i);
      return i.next().done;
    });
    r.ck("forEach this", () => {
      const h = mk();
      let t;
      h.forEach(function () {
        t = this;
      }, "x");
      return typeof t;
    });
    r.ck("forEach args", () => {
      const h = new Headers({ a: "1" });
      let args;
      h.forEach((...a) => {
        args = [a.length, a[0], a[1], a[2] === h];
      });
      return args;
    });
    return r.response();
  },
};
