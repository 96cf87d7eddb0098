import { Rec } from "./prelude.js";

export default {
  async fetch(request) {
    const r = new Rec();
    r.ck("parse", () => [...new URLSearchParams("?a=1&b=2&a=3&c&=d&e=&&f=%zz&g=%41+B")]);
    r.ck("toString encoding", () => new URLSearchParams({ "a b": "c&d=e", "é": "~*-._!'()" }).toString());
    r.ck("from sequence", () => new URLSearchParams([["x", "1"], ["y", "2"]]).toString());
    r.ck("bad sequence", () => new URLSearchParams([["x"]]));
    r.ck("from record", () => new URLSearchParams({ a: 1, b: true }).toString());
    r.ck("from params", () => new URLSearchParams(new URLSearchParams("a=1")).toString());
    r.ck("get/getAll/has", () => {
      const p = new URLSearchParams("a=1&a=2");
      return [p.get("a"), p.getAll("a"), p.has("a"), p.has("a", "2"), p.has("a", "3"), p.get("zz")];
    });
    r.ck("delete with value", () => {
      const p = new URLSearchParams("a=1&a=2&b=3");
      p.delete("a", "1");
      return p.toString();
    });
    r.ck("set", () => {
      const p = new URLSearchParams("a=1&b=2&a=3");
      p.set("a", "x");
      return p.toString();
    });
    r.ck("sort stable", () => {
      const p = new URLSearchParams("z=1&a=2&z=0&b=3&a=1");
      p.sort();
      return p.toString();
    });
    r.ck("sort utf16", () => {
      const p = new URLSearchParams("\uFFFD=x&\uD83D\uDE00=y&a=z");
      p.sort();
      return [...p.keys()];
    });
    r.ck("size", () => new URLSearchParams("a=1&b=2&a=3").size);
    r.ck("forEach", () => {
      const out = [];
      new URLSearchParams("a=1&b=2").forEach((v, k) => out.push(k + v));
      return out;
    });
    r.ck("toStringTag", () => Object.prototype.toString.call(new URLSearchParams()));
    r.ck("iterator tag", () => Object.prototype.toString.call(new URLSearchParams().entries()));
    r.ck("lone surrogate", () => new URLSearchParams({ a: "\uD800" }).toString());
    r.ck("plus and space", () => new URLSearchParams("a=b+c%20d").get("a"));
    r.ck("incoming query", () => [...new URL(request.url).searchParams]);
    r.ck("proto keys", () => Object.getOwnPropertyNames(URLSearchParams.prototype).sort());
    return r.response();
  },
};
