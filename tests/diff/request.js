import { Rec } from "./prelude.js";

export default {
  async fetch(request) {
    const r = new Rec();
    const u = "https://example.com/a?b=c#frag";
    r.ck("defaults", () => {
      const q = new Request(u);
      return {
        method: q.method,
        url: q.url,
        redirect: q.redirect,
        bodyUsed: q.bodyUsed,
        body: q.body,
        headers: [...q.headers],
        signal: typeof q.signal,
        aborted: q.signal.aborted,
      };
    });
    r.ck("method normalized", () => ["get", "post", "put", "delete", "head", "options", "patch", "Foo"].map((m) => new Request(u, { method: m }).method));
    r.ck("method invalid token", () => new Request(u, { method: "a b" }));
    r.ck("method CONNECT", () => new Request(u, { method: "CONNECT" }).method);
    r.ck("method TRACE", () => new Request(u, { method: "trace" }).method);
    r.ck("GET with body", () => new Request(u, { method: "GET", body: "x" }));
    r.ck("HEAD with body", () => new Request(u, { method: "HEAD", body: "x" }));
    r.ck("relative url", () => new Request("/path"));
    r.ck("invalid url", () => new Request("http://[::1"));
    r.ck("credentials in url", () => new Request("https://user:pw@example.com/").url);
    r.ck("redirect manual", () => new Request(u, { redirect: "manual" }).redirect);
    r.ck("redirect bad", () => new Request(u, { redirect: "nope" }));
    r.ck("headers from init", () => [...new Request(u, { headers: { "X-A": "1" } }).headers]);
    r.ck("post string content-type", () => new Request(u, { method: "POST", body: "hi" }).headers.get("content-type"));
    await r.ack("post text", () => new Request(u, { method: "POST", body: "hi" }).text());
    r.ck("from request override", () => {
      const a = new Request(u, { method: "PUT", headers: { a: "1" } });
      const b = new Request(a, { headers: { b: "2" } });
      return { method: b.method, url: b.url, headers: [...b.headers] };
    });
    await r.ack("clone", async () => {
      const a = new Request(u, { method: "POST", body: "data" });
      const b = a.clone();
      return [await a.text(), await b.text(), a.bodyUsed, b.bodyUsed];
    });
    await r.ack("clone after use", async () => {
      const a = new Request(u, { method: "POST", body: "data" });
      await a.text();
      return a.clone();
    });
    await r.ack("reuse used request as init", async () => {
      const a = new Request(u, { method: "POST", body: "data" });
      await a.text();
      return new Request(a);
    });
    r.ck("toStringTag", () => Object.prototype.toString.call(new Request(u)));
    r.ck("no args", () => new Request());
    r.ck("cache option", () => new Request(u, { cache: "no-store" }).cache);
    r.ck("integrity", () => new Request(u).integrity);
    r.ck("keepalive", () => new Request(u).keepalive);
    r.ck("cf", () => new Request(u).cf);
    r.ck("url object", () => new Request(new URL("https://EXAMPLE.com:443/x/../y")).url);
    return r.response();
  },
};
