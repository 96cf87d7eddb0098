import { Rec } from "./prelude.js";

export default {
  async fetch(request) {
    const r = new Rec();
    const h = () => new Headers({ "X-B": "2", "x-a": "1", "Content-Type": "text/plain" });
    r.ck("entries sorted lowercased", () => [...h()]);
    r.ck("get case-insensitive", () => h().get("X-A"));
    r.ck("get missing", () => h().get("nope"));
    r.ck("append combines", () => {
      const x = new Headers();
      x.append("a", "1");
      x.append("A", "2");
      return x.get("a");
    });
    r.ck("set-cookie kept apart", () => {
      const x = new Headers();
      x.append("Set-Cookie", "a=1");
      x.append("set-cookie", "b=2");
      x.append("x", "y");
      return { iter: [...x], get: x.get("set-cookie"), list: x.getSetCookie() };
    });
    r.ck("value whitespace trimmed", () => new Headers({ a: "  v \t" }).get("a"));
    r.ck("invalid name", () => new Headers({ "a b": "1" }));
    r.ck("invalid value newline", () => new Headers({ a: "x\ny" }));
    r.ck("invalid value nul", () => new Headers({ a: "x\0y" }));
    r.ck("from array pairs", () => [...new Headers([["a", "1"], ["b", "2"]])]);
    r.ck("bad pair length", () => new Headers([["a", "1", "2"]]));
    r.ck("non-iterable", () => new Headers(5));
    r.ck("from Headers", () => [...new Headers(h())]);
    r.ck("has/delete", () => {
      const x = h();
      const before = x.has("x-a");
      x.delete("X-A");
      return [before, x.has("x-a")];
    });
    r.ck("forEach", () => {
      const seen = [];
      h().forEach((v, k, self) => seen.push(k + "=" + v + ":" + (self instanceof Headers)));
      return seen;
    });
    r.ck("keys/values", () => [[...h().keys()], [...h().values()]]);
    r.ck("toStringTag", () => Object.prototype.toString.call(h()));
    r.ck("String()", () => String(h()));
    r.ck("typeof", () => typeof Headers);
    r.ck("proto names", () => Object.getOwnPropertyNames(Headers.prototype).sort());
    r.ck("JSON.stringify", () => JSON.stringify(h()));
    r.ck("numeric value", () => new Headers({ a: 5 }).get("a"));
    r.ck("record from object with symbol-less", () => [...new Headers({ "x-z": ["a", "b"] })]);
    r.ck("mutation during iteration", () => {
      const x = new Headers({ a: "1", b: "2", c: "3" });
      const out = [];
      for (const [k] of x) {
        out.push(k);
        if (k === "a") x.delete("b");
      }
      return out;
    });
    r.ck("response headers immutable?", () => {
      const res = Response.redirect("https://example.com/", 302);
      res.headers.set("x", "1");
      return res.headers.get("x");
    });
    r.ck("incoming x-headers", () => [...request.headers].filter(([k]) => k.startsWith("x-")));
    r.ck("incoming multi", () => request.headers.get("x-multi"));
    return r.response();
  },
};
