// Issue 11 (items 9, 12, 14, 17): URLPattern group order, TextDecoder
// label trimming, structuredClone of errors and its neighbours, body
// readers after consumption, Response.json errors, TextDecoderStream chunks.
import { Rec } from "./prelude.js";

export default {
  async fetch() {
    const r = new Rec();
    // ---- 9: URLPattern group order ----
    const groups = (p, input, base) => {
      const m = (base ? new URLPattern(p, base) : new URLPattern(p)).exec(input);
      if (!m) return null;
      const out = {};
      for (const c of ["protocol", "username", "password", "hostname", "port", "pathname", "search", "hash"]) out[c] = Object.entries(m[c].groups);
      return out;
    };
    r.ck("urlpattern path b a", () => groups({ pathname: "/:zeta/:alpha/:mid" }, "https://x.test/1/2/3"));
    r.ck("urlpattern host and path", () => groups({ hostname: ":sub.:dom.test", pathname: "/:z/*" }, "https://a.b.test/q/r/s"));
    r.ck("urlpattern regexp groups", () => groups({ pathname: "/(\\d+)/:name/(.*)" }, "https://x.test/12/n/rest"));
    r.ck("urlpattern string", () => groups("https://:host.test/:y/:x?q=:s#:h", "https://w.test/a/b?q=c#d"));
    r.ck("urlpattern optional", () => groups({ pathname: "/:b?/:a" }, "https://x.test/z"));
    r.ck("urlpattern search", () => groups({ search: ":z&:a" }, "https://x.test/?1&2"));

    // ---- 12: TextDecoder labels ----
    for (const [k, label] of [["tab", "\tutf-8\t"], ["nl", "\nutf-8\n"], ["ff", "\futf-8\f"], ["cr", "\rutf-8\r"], ["sp", " utf-8 "], ["vt", "utf-8\v"], ["nbsp", "utf-8\u00a0"], ["ls", "utf-8\u2028"], ["leading vt", "\vutf-8"], ["nel", "utf-8\u0085"], ["zwsp", "utf-8\u200b"], ["ideo", "\u3000latin1"]]) {
      r.ck("label " + k, () => new TextDecoder(label).encoding);
    }

    // ---- 14: structuredClone errors and neighbours ----
    const ce = (e) => {
      const c = structuredClone(e);
      return {
        ctor: c.constructor.name,
        name: c.name,
        ownName: Object.prototype.hasOwnProperty.call(c, "name"),
        message: c.message,
        ownMessage: Object.prototype.hasOwnProperty.call(c, "message"),
        messageEnum: Object.getOwnPropertyDescriptor(c, "message")?.enumerable ?? null,
        hasCause: "cause" in c,
        cause: c.cause === undefined ? "undef" : typeof c.cause === "object" && c.cause !== null ? [c.cause.constructor.name, c.cause.message ?? null] : c.cause,
        stackSame: c.stack === e.stack,
        stackType: typeof c.stack,
        keys: Object.keys(c),
        own: Object.getOwnPropertyNames(c).sort(),
        isError: c instanceof Error,
      };
    };
    r.ck("clone Error", () => ce(new Error("m")));
    r.ck("clone Error no message", () => ce(new Error()));
    for (const C of [EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError]) r.ck("clone " + C.name, () => ce(new C("x")));
    r.ck("clone Error cause", () => ce(new Error("m", { cause: new TypeError("inner") })));
    r.ck("clone Error cause primitive", () => ce(new Error("m", { cause: 42 })));
    r.ck("clone Error cause undefined", () => ce(new Error("m", { cause: undefined })));
    r.ck("clone Error custom name", () => { const e = new Error("m"); e.name = "Custom"; return ce(e); });
    r.ck("clone Error renamed TypeError", () => { const e = new Error("m"); e.name = "TypeError"; return ce(e); });
    r.ck("clone RangeError renamed", () => { const e = new RangeError("m"); e.name = "Foo"; return ce(e); });
    r.ck("clone Error message getter", () => { const e = new Error(); Object.defineProperty(e, "message", { get() { return "g"; } }); return ce(e); });
    r.ck("clone Error message number", () => { const e = new Error(); e.message = 12; return ce(e); });
    r.ck("clone Error inherited message", () => { const e = new Error(); return [ce(e).message, ce(e).ownMessage]; });
    r.ck("clone Error extra props", () => { const e = new Error("m"); e.code = 5; return ce(e); });
    r.ck("clone Error stack deleted", () => { const e = new Error("m"); delete e.stack; return ce(e); });
    r.ck("clone Error stack number", () => { const e = new Error("m"); e.stack = 5; return ce(e); });
    r.ck("clone Error stack custom", () => { const e = new Error("m"); e.stack = "custom stack"; return structuredClone(e).stack; });
    r.ck("clone subclass", () => { class MyErr extends TypeError {} return ce(new MyErr("sub")); });
    r.ck("clone Error-proto object", () => { const o = Object.create(Error.prototype); o.message = "fake"; return Object.prototype.toString.call(structuredClone(o)); });
    r.ck("clone Error name throws", () => { const e = new Error("m"); Object.defineProperty(e, "name", { get() { throw new RangeError("nm"); } }); return ce(e); });
    r.ck("clone Error cycle", () => { const e = new Error("m"); e.cause = e; const c = structuredClone(e); return [c.cause === c]; });
    r.ck("clone DOMException", () => { const d = structuredClone(new DOMException("dm", "AbortError")); return [d.constructor.name, d.name, d.message, d.code, d instanceof DOMException]; });
    r.ck("clone AggregateError", () => { const c = structuredClone(new AggregateError([1], "agg")); return [c.constructor.name, c.name, c.message, "errors" in c]; });
    r.ck("clone in object", () => { const c = structuredClone({ e: new TypeError("t"), a: [new RangeError("r")] }); return [c.e.constructor.name, c.a[0].message]; });
    // neighbours
    r.ck("clone sparse array", () => { const a = [1, , 3]; a.x = "p"; const c = structuredClone(a); return [c.length, 1 in c, c.x]; });
    r.ck("clone boxed", () => { const c = structuredClone([new Number(3), new String("s"), new Boolean(false), Object(5n)]); return c.map((x) => Object.prototype.toString.call(x) + ":" + String(x.valueOf())); });
    r.ck("clone negative zero", () => Object.is(structuredClone(-0), -0));
    r.ck("clone Date invalid", () => String(structuredClone(new Date(NaN)).getTime()));
    r.ck("clone RegExp lastIndex", () => { const re = /a/g; re.lastIndex = 3; const c = structuredClone(re); return [c.lastIndex, c.flags]; });
    r.ck("clone RegExp sticky unicode", () => structuredClone(/x/suy).flags);
    r.ck("clone Map order", () => [...structuredClone(new Map([[3, "a"], [1, "b"]])).keys()]);
    r.ck("clone symbol keys dropped", () => Object.getOwnPropertySymbols(structuredClone({ [Symbol("s")]: 1, a: 2 })).length);
    r.ck("clone non-enumerable dropped", () => { const o = {}; Object.defineProperty(o, "h", { value: 1, enumerable: false }); return Object.keys(structuredClone(o)).length + ("h" in structuredClone(o) ? 10 : 0); });
    r.ck("clone shared buffer views", () => { const ab = new ArrayBuffer(8); const c = structuredClone([new Uint8Array(ab), new Uint16Array(ab, 2, 1)]); return [c[0].buffer === c[1].buffer, c[1].byteOffset]; });
    r.ck("clone resizable", () => { const ab = new ArrayBuffer(4, { maxByteLength: 16 }); const c = structuredClone(ab); return [c.resizable, c.maxByteLength]; });
    r.ck("clone Float16Array", () => typeof Float16Array === "function" ? structuredClone(new Float16Array([1.5])).constructor.name : "none");
    r.ck("clone WeakMap", () => structuredClone(new WeakMap()));
    r.ck("clone Promise", () => structuredClone(Promise.resolve()));
    r.ck("clone proxy", () => structuredClone(new Proxy({ a: 1 }, {})));
    r.ck("clone getter throws", () => structuredClone({ get a() { throw new URIError("ga"); } }));
    r.ck("clone URL", () => structuredClone(new URL("https://x.test/")));
    r.ck("clone Response", () => structuredClone(new Response("x")));
    r.ck("clone ReadableStream", () => structuredClone(new ReadableStream()));
    r.ck("clone File", () => structuredClone(new File(["a"], "f")));
    r.ck("clone detached", () => { const ab = new ArrayBuffer(2); structuredClone(ab, { transfer: [ab] }); return structuredClone(ab); });
    r.ck("clone transfer twice", () => { const ab = new ArrayBuffer(2); return structuredClone(ab, { transfer: [ab, ab] }); });
    r.ck("clone transfer non-buffer", () => structuredClone(1, { transfer: [{}] }));
    r.ck("clone transfer iterable", () => { const ab = new ArrayBuffer(2); const c = structuredClone(ab, { transfer: new Set([ab]) }); return [c.byteLength, ab.byteLength]; });
    r.ck("clone options null", () => structuredClone(1, null));
    r.ck("clone options string", () => structuredClone(1, "x"));

    // ---- 17: bodies ----
    for (const how of ["arrayBuffer", "blob", "text", "json"]) {
      await r.ack("reader after " + how, async () => {
        const res = new Response('"x"');
        await res[how]();
        try { res.body.getReader(); return "no throw"; } catch (e) { return [e.constructor.name, e.message]; }
      });
    }
    await r.ack("reader after text request", async () => {
      const req = new Request("https://x.test/", { method: "POST", body: "abc" });
      await req.text();
      return [req.bodyUsed, req.body.locked, (() => { try { req.body.getReader(); return "no throw"; } catch (e) { return e.constructor.name; } })()];
    });
    r.ck("json bigint", () => Response.json({ a: 1n }));
    r.ck("json cycle", () => { const o = {}; o.o = o; return Response.json(o); });
    r.ck("json toJSON throws", () => Response.json({ toJSON() { throw new URIError("tj"); } }));
    r.ck("json undefined", () => Response.json(undefined));
    r.ck("json symbol", () => Response.json(Symbol("s")));
    r.ck("json function", () => Response.json(() => 1));
    await r.ack("TextDecoderStream undefined chunk", async () => {
      const ts = new TextDecoderStream();
      const w = ts.writable.getWriter();
      const rd = ts.readable.getReader();
      const wp = w.write(undefined).then(() => "ok", (e) => e.constructor.name);
      const rp = rd.read().then(() => "read ok", (e) => e.constructor.name);
      return [await wp, await rp];
    });
    return r.response();
  },
};
