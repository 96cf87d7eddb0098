import { Rec } from "./prelude.js";

// Reads everything about the incoming request a typical router would.
export default {
  async fetch(request) {
    const r = new Rec();
    const url = new URL(request.url);
    r.set("method", request.method);
    r.set("pathname", url.pathname);
    r.set("search", url.search);
    r.set("params", [...url.searchParams]);
    r.set("protocol", url.protocol);
    r.set("x-headers", [...request.headers].filter(([k]) => k.startsWith("x-")));
    r.set("content-type", request.headers.get("content-type"));
    r.set("content-length", request.headers.get("content-length"));
    r.set("has body", request.body !== null);
    r.set("redirect", request.redirect);
    r.set("signal aborted", request.signal.aborted);
    r.set("bodyUsed", request.bodyUsed);
    r.set("cf type", typeof request.cf);
    if (request.body) {
      await r.ack("text", () => request.text());
      r.set("bodyUsed after", request.bodyUsed);
    }
    await r.ack("clone after read", async () => request.clone().text());
    if (url.pathname === "/json") {
      const res = r.response({ status: 201, statusText: "Created It" });
      res.headers.set("x-method", request.method);
      return res;
    }
    if (request.method === "HEAD") return new Response(null, { headers: { "x-head": "1" } });
    return r.response();
  },
};
