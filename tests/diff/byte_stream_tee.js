// Readable byte streams (issue 11, item 16): BYOB readers on both tee()
// branches, close()/respond() while both branches read, the byobRequest
// after close() with a pending read(view), autoAllocateChunkSize, and
// respondWithNewView().
import { Rec } from "./prelude.js";

const delay = (ms = 0) => new Promise((r) => setTimeout(r, ms));
const desc = (res) => res && typeof res === "object"
  ? [res.done, res.value && res.value.constructor.name, res.value && [...new Uint8Array(res.value.buffer, res.value.byteOffset, res.value.byteLength)], res.value && res.value.byteOffset, res.value && res.value.buffer.byteLength]
  : res;

export default {
  async fetch() {
    const r = new Rec();
    await r.ack("byob on both branches, enqueue", async () => {
      let controller;
      const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
      const [a, b] = rs.tee();
      const pa = a.getReader({ mode: "byob" }).read(new Uint8Array(4));
      const pb = b.getReader({ mode: "byob" }).read(new Uint8Array(8));
      await delay();
      controller.enqueue(new Uint8Array([1, 2, 3]));
      const [x, y] = await Promise.all([pa, pb]);
      return [desc(x), desc(y), x.value.buffer !== y.value.buffer];
    });
    await r.ack("byob on both branches, close while reading", async () => {
      let controller;
      const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
      const [a, b] = rs.tee();
      const pa = a.getReader({ mode: "byob" }).read(new Uint16Array(2));
      const pb = b.getReader({ mode: "byob" }).read(new Uint8Array(3));
      await delay();
      controller.close();
      const req = controller.byobRequest;
      if (req !== null) req.respond(0);
      const [x, y] = await Promise.all([pa, pb]);
      return [req === null, desc(x), desc(y)];
    });
    await r.ack("byob on both branches, respond from pull", async () => {
      let pulls = 0;
      const seen = [];
      const rs = new ReadableStream({
        type: "bytes",
        pull(c) {
          pulls++;
          const req = c.byobRequest;
          seen.push(req === null ? null : req.view.byteLength);
          if (pulls > 1) return c.close();
          if (req === null) return c.enqueue(new Uint8Array([5, 6]));
          req.view[0] = 5;
          req.view[1] = 6;
          req.respond(2);
        },
      });
      const [a, b] = rs.tee();
      const [x, y] = await Promise.all([a.getReader({ mode: "byob" }).read(new Uint8Array(4)), b.getReader({ mode: "byob" }).read(new Uint8Array(4))]);
      return [desc(x), desc(y), seen[0]];
    });
    await r.ack("default readers on both branches, close while reading", async () => {
      let controller;
      const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
      const [a, b] = rs.tee();
      const pa = a.getReader().read();
      const pb = b.getReader().read();
      await delay();
      controller.close();
      const [x, y] = await Promise.all([pa, pb]);
      // workerd's value here is not undefined (KNOWN_DIFFERENCES.md).
      return [x.done, y.done];
    });
    await r.ack("byobRequest after close() with a pending read(view)", async () => {
      let controller;
      const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
      const reader = rs.getReader({ mode: "byob" });
      const p = reader.read(new Uint8Array(new ArrayBuffer(8), 2, 4));
      let settled = "pending";
      p.then(() => { settled = "settled"; }, () => { settled = "rejected"; });
      await delay();
      const before = controller.byobRequest;
      const beforeView = before && [before.view.byteOffset, before.view.byteLength];
      controller.close();
      await delay(5);
      const early = settled;
      const after = controller.byobRequest;
      let viewAfter = "null";
      try {
        viewAfter = before.view === null ? "null view" : [before.view.byteOffset, before.view.byteLength];
      } catch (e) {
        viewAfter = "threw " + e.name;
      }
      let respond1 = "not called";
      if (after !== null) {
        try {
          after.respond(1);
          respond1 = "ok";
        } catch (e) {
          respond1 = "threw " + e.name;
        }
        after.respond(0);
      }
      // What the stale request says afterwards differs (KNOWN_DIFFERENCES.md).
      void viewAfter, respond1;
      return [beforeView, early, desc(await p)];
    });
    await r.ack("close() with a pending read(view), no respond", async () => {
      let controller;
      const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
      const reader = rs.getReader({ mode: "byob" });
      let settled = "pending";
      const p = reader.read(new Uint8Array(4));
      p.then((res) => { settled = desc(res); }, (e) => { settled = "rejected " + e.name; });
      await delay();
      controller.close();
      await delay(5);
      const req = controller.byobRequest;
      const early = settled;
      let view = "no request";
      if (req !== null) view = req.view === null ? "null view" : [req.view.byteOffset, req.view.byteLength];
      if (req !== null) req.respond(0);
      await delay(5);
      return [early, view, settled];
    });
    await r.ack("autoAllocateChunkSize", async () => {
      let seen;
      const rs = new ReadableStream({
        type: "bytes",
        autoAllocateChunkSize: 16,
        pull(c) {
          const v = c.byobRequest.view;
          seen = [v.constructor.name, v.byteOffset, v.byteLength, v.buffer.byteLength];
          v[0] = 7;
          c.byobRequest.respond(1);
        },
      });
      return [desc(await rs.getReader().read()), seen];
    });
    await r.ack("respondWithNewView", async () => {
      let controller;
      const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
      const p = rs.getReader({ mode: "byob" }).read(new Uint8Array(8));
      await delay();
      const req = controller.byobRequest;
      const view = new Uint8Array(req.view.buffer, 0, 3);
      view.set([1, 2, 3]);
      req.respondWithNewView(view);
      return desc(await p);
    });
    await r.ack("releaseLock with a pending read(view)", async () => {
      let controller;
      const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
      const reader = rs.getReader({ mode: "byob" });
      const p = reader.read(new Uint8Array(4));
      await delay();
      reader.releaseLock();
      let got;
      try {
        got = desc(await p);
      } catch (e) {
        got = "rejected " + e.name;
      }
      // Whether the byobRequest survives differs (KNOWN_DIFFERENCES.md).
      void controller;
      return [got, rs.locked];
    });
    return r.response();
  },
};
