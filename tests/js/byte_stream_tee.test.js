// Issue 11, item 16, the rest: readable byte streams teed with BYOB readers
// on both branches, close()/respond() while both branches wait, and the
// byobRequest after close() with a pending read(view) (the Streams
// standard's ReadableByteStreamTee and ReadableByteStreamControllerClose/
// Respond, as the web-platform tests readable-byte-streams/ check them).
import { test, assert, assertEquals, assertThrows, assertRejects, suite } from "./harness.js";

const delay = (ms = 0) => new Promise((r) => setTimeout(r, ms));

test("BYOB readers on both tee() branches each get the bytes, in their own buffers", async () => {
  let controller;
  const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const [a, b] = rs.tee();
  const ra = a.getReader({ mode: "byob" });
  const rb = b.getReader({ mode: "byob" });
  const pa = ra.read(new Uint8Array(4));
  const pb = rb.read(new Uint8Array(8));
  await delay();
  controller.enqueue(new Uint8Array([1, 2, 3]));
  const [x, y] = await Promise.all([pa, pb]);
  assertEquals([x.done, y.done], [false, false]);
  assertEquals([...x.value], [1, 2, 3]);
  assertEquals([...y.value], [1, 2, 3]);
  assertEquals([x.value.buffer.byteLength, y.value.buffer.byteLength], [4, 8]);
  assert(x.value.buffer !== y.value.buffer, "each branch fills its own view");
});

test("close() while both tee() branches have a pending read(view) ends both reads", async () => {
  let controller;
  const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const [a, b] = rs.tee();
  const ra = a.getReader({ mode: "byob" });
  const rb = b.getReader({ mode: "byob" });
  const pa = ra.read(new Uint16Array(2));
  const pb = rb.read(new Uint8Array(3));
  await delay();
  controller.close();
  // The branches' reads wait on the source's pull-into: its byobRequest
  // still holds the view, and respond(0) is the one answer a closed stream takes.
  const req = controller.byobRequest;
  if (req !== null) {
    assertThrows(() => req.respond(1), TypeError);
    req.respond(0);
  }
  const [x, y] = await Promise.all([pa, pb]);
  assertEquals([x.done, y.done], [true, true]);
  assertEquals([x.value.constructor.name, x.value.byteLength, x.value.buffer.byteLength], ["Uint16Array", 0, 4]);
  assertEquals([y.value.constructor.name, y.value.byteLength, y.value.buffer.byteLength], ["Uint8Array", 0, 3]);
  await Promise.all([ra.closed, rb.closed]);
});

test("respond() from pull() while both tee() branches read: the source fills a branch's view, both get the bytes", async () => {
  const seen = [];
  const rs = new ReadableStream({
    type: "bytes",
    pull(c) {
      const req = c.byobRequest;
      seen.push(req === null ? null : req.view.byteLength);
      if (seen.length > 1) return c.close();
      req.view[0] = 5;
      req.view[1] = 6;
      req.respond(2);
    },
  });
  const [a, b] = rs.tee();
  const ra = a.getReader({ mode: "byob" });
  const rb = b.getReader({ mode: "byob" });
  const [x, y] = await Promise.all([ra.read(new Uint8Array(4)), rb.read(new Uint8Array(6))]);
  assertEquals(seen[0], 4, "the first branch's read(view) reaches the source as its byobRequest");
  assertEquals([...x.value], [5, 6]);
  assertEquals([...y.value], [5, 6]);
  assertEquals([x.value.buffer.byteLength, y.value.buffer.byteLength], [4, 6]);
});

test("a default reader on one branch, BYOB on the other: the source's reader switches kind", async () => {
  let n = 0;
  const rs = new ReadableStream({
    type: "bytes",
    pull(c) {
      n++;
      if (n > 3) return c.close();
      const req = c.byobRequest;
      if (req !== null) {
        req.view[0] = n;
        req.respond(1);
      } else {
        c.enqueue(new Uint8Array([n * 10]));
      }
    },
  });
  const [a, b] = rs.tee();
  const ra = a.getReader();
  const rb = b.getReader({ mode: "byob" });
  const x1 = await ra.read();
  const y1 = await rb.read(new Uint8Array(2));
  const y2 = await rb.read(new Uint8Array(2));
  const x2 = await ra.read();
  assertEquals([...x1.value], [10]);
  assertEquals([...y1.value], [10]);
  assertEquals([...y2.value], [2]);
  assertEquals([...x2.value], [2]);
});

test("close() with a pending read(view) ends the read at once with an empty view (as workerd)", async () => {
  let controller;
  const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const reader = rs.getReader({ mode: "byob" });
  const p = reader.read(new Uint8Array(new ArrayBuffer(8), 2, 4));
  let settled = false;
  p.then(() => { settled = true; });
  await delay();
  const req = controller.byobRequest;
  assertEquals([req.view.byteOffset, req.view.byteLength], [2, 4]);
  controller.close();
  await delay();
  assertEquals(settled, true);
  const r = await p;
  assertEquals(r.done, true);
  assertEquals([r.value.byteOffset, r.value.byteLength, r.value.buffer.byteLength], [2, 0, 8]);
  await reader.closed;
});

test("close() with a partly filled element in a pending read(view) errors the stream", async () => {
  let controller;
  const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const reader = rs.getReader({ mode: "byob" });
  const p = reader.read(new Uint16Array(2));
  await delay();
  controller.enqueue(new Uint8Array([1]));
  assertThrows(() => controller.close(), TypeError);
  await assertRejects(() => p, TypeError);
});

export default suite();
