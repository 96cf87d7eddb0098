import { Rec, settle } from "./prelude.js";

// Common mistakes in real Workers code, and the exception each one raises.
export default {
  async fetch(request) {
    const r = new Rec();
    await r.ack("read request body twice", async () => {
      const q = new Request("https://x/", { method: "POST", body: "b" });
      await q.json().catch(() => {});
      return q.text();
    });
    r.ck("Response with object body status", () => new Response("x", { status: 0 }));
    r.ck("headers set on Request.redirect response", () => Response.redirect("https://x/").headers.set("a", "b"));
    r.ck("new Headers(string)", () => new Headers("a: b"));
    r.ck("new URL relative", () => new URL("/x"));
    r.ck("new URL relative bad base", () => new URL("/x", "nope"));
    r.ck("JSON.parse html", () => JSON.parse("<html>"));
    r.ck("decode non-buffer", () => new TextDecoder().decode({}));
    r.ck("encodeInto string dest", () => new TextEncoder().encodeInto("a", "b"));
    await r.ack("fetch relative url", async () => settle(fetch("/relative")));
    await r.ack("fetch bad scheme", async () => settle(fetch("ftp://example.com/")));
    await r.ack("fetch invalid url", async () => settle(fetch("http://[bad")));
    r.ck("Response.json circular", () => {
      const o = {};
      o.o = o;
      return Response.json(o);
    });
    r.ck("reader on used body", () => {
      const res = new Response("x");
      res.body.getReader();
      return res.body.getReader();
    });
    r.ck("enqueue on closed", () => {
      let c;
      new ReadableStream({ start(x) { c = x; } });
      c.close();
      c.close();
    });
    r.ck("AbortController.abort static", () => AbortController.abort());
    r.ck("clone Request in handler headers frozen?", () => {
      request.headers.set("x-added", "1");
      return request.headers.get("x-added");
    });
    r.ck("URLSearchParams with object value", () => new URLSearchParams({ a: { b: 1 } }).toString());
    r.ck("Blob with string not array", () => new Blob("x"));
    r.ck("FormData append missing value", () => new FormData().append("a"));
    r.ck("Headers get no args", () => new Headers().get());
    r.ck("structuredClone Request", () => structuredClone(new Request("https://x/")));
    await r.ack("await on bad json body", async () => settle(new Response("not json").json()));
    r.ck("btoa unicode", () => btoa("✓"));
    r.ck("Response.redirect bad url", () => Response.redirect("not a url"));
    r.ck("TextDecoder bad label", () => new TextDecoder("utf-9"));
    return r.response();
  },
};
