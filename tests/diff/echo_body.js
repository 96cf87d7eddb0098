import { Rec } from "./prelude.js";

// Echo / transform the incoming request body in the ways workers commonly do.
export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/stream") return new Response(request.body, { headers: { "content-type": request.headers.get("content-type") || "x/none" } });
    if (pathname === "/json") {
      try {
        const data = await request.json();
        return Response.json({ got: data, type: typeof data });
      } catch (e) {
        return Response.json({ error: e.name + ": " + e.message }, { status: 400 });
      }
    }
    if (pathname === "/bytes") {
      const buf = new Uint8Array(await request.arrayBuffer());
      return Response.json({ len: buf.length, sum: buf.reduce((a, b) => a + b, 0) });
    }
    if (pathname === "/reader") {
      const reader = request.body.getReader();
      let n = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        n += value.byteLength;
      }
      return new Response("read " + n);
    }
    const r = new Rec();
    await r.ack("text", () => request.text());
    return r.response();
  },
};
