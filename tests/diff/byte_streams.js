import { Rec, settle } from "./prelude.js";

export default {
  async fetch() {
    const r = new Rec();
    const bytes = (n, k = 0) => {
      let i = 0;
      return new ReadableStream({
        type: "bytes",
        pull(c) {
          if (i >= n) return c.close();
          const v = c.byobRequest ? c.byobRequest.view : null;
          if (v) {
            const m = Math.min(v.byteLength, n - i);
            for (let j = 0; j < m; j++) v[j] = (i + j + k) & 255;
            i += m;
            c.byobRequest.respond(m);
          } else {
            c.enqueue(new Uint8Array([i++ + k]));
          }
        },
      });
    };
    await r.ack("byob read", async () => {
      const reader = bytes(5).getReader({ mode: "byob" });
      const a = await reader.read(new Uint8Array(3));
      const b = await reader.read(new Uint8Array(3));
      const c = await reader.read(new Uint8Array(3));
      return [a.value, a.done, b.value, c.done, c.value && c.value.byteLength];
    });
    await r.ack("byob on default stream", async () => new ReadableStream().getReader({ mode: "byob" }));
    await r.ack("bad mode", async () => new ReadableStream({ type: "bytes" }).getReader({ mode: "nope" }));
    await r.ack("byob zero length", async () => {
      const reader = bytes(1).getReader({ mode: "byob" });
      return settle(reader.read(new Uint8Array(0)));
    });
    await r.ack("byob detached view", async () => {
      const reader = bytes(4).getReader({ mode: "byob" });
      const view = new Uint8Array(4);
      await reader.read(view);
      return [view.byteLength, view.buffer.byteLength];
    });
    await r.ack("enqueue non-view", async () => {
      let ctrl;
      new ReadableStream({ type: "bytes", start(c) { ctrl = c; } });
      ctrl.enqueue("str");
    });
    await r.ack("autoAllocate", async () => {
      const s = new ReadableStream({
        type: "bytes",
        autoAllocateChunkSize: 4,
        pull(c) {
          const v = c.byobRequest.view;
          v[0] = 9;
          c.byobRequest.respond(1);
          c.close();
        },
      });
      const reader = s.getReader();
      const a = await reader.read();
      return [a.value, (await reader.read()).done];
    });
    await r.ack("tee bytes", async () => {
      const [a, b] = bytes(3, 10).tee();
      const ra = await new Response(a).arrayBuffer();
      const rb = await new Response(b).arrayBuffer();
      return [ra, rb];
    });
    await r.ack("response body byob", async () => {
      const reader = new Response("hello").body.getReader({ mode: "byob" });
      const out = [];
      for (;;) {
        const { value, done } = await reader.read(new Uint8Array(2));
        if (done) break;
        out.push(new TextDecoder().decode(value));
      }
      return out.join("");
    });
    await r.ack("controller types", async () => {
      let c1, c2;
      new ReadableStream({ type: "bytes", start(c) { c1 = c; } });
      new ReadableStream({ start(c) { c2 = c; } });
      return [Object.prototype.toString.call(c1), Object.prototype.toString.call(c2), c1.constructor.name];
    });
    return r.response();
  },
};
