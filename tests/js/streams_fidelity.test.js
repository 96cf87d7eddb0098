// Issue 11, items 12, 15, 16, 17: the standard's behaviour of streams,
// bodies and TextDecoder where the web-platform tests found isoproxy
// differing (the subtests of streams/, encoding/ rewritten for this harness).
import { test, assert, assertEquals, assertThrows, assertRejects, suite } from "./harness.js";

const delay = (ms = 0) => new Promise((r) => setTimeout(r, ms));
const enc = (s) => new TextEncoder().encode(s);

// Plants a getter for each name on Object.prototype that records its
// calls; returns [calls, remove]. A runtime that reads a dictionary it made
// itself with an ordinary prototype (or resolves a promise with one) calls it.
function trapObjectPrototype(names) {
  const calls = [];
  for (const name of names) {
    Object.defineProperty(Object.prototype, name, {
      get() {
        calls.push(name);
        return undefined;
      },
      configurable: true,
    });
  }
  return [calls, () => {
    for (const name of names) delete Object.prototype[name];
  }];
}
const TRAPPED = ["highWaterMark", "size", "start", "pull", "cancel", "type", "mode", "autoAllocateChunkSize",
  "then", "preventClose", "preventAbort", "preventCancel", "signal", "write", "close", "abort", "transform", "flush"];

// ---- 12: TextDecoder labels are trimmed of ASCII whitespace only ----

test("TextDecoder labels: ASCII whitespace trimmed, other whitespace makes them invalid", () => {
  for (const ws of ["\t", "\n", "\f", "\r", " "]) {
    assertEquals(new TextDecoder(`${ws}utf-8${ws}`).encoding, "utf-8", JSON.stringify(ws));
    assertEquals(new TextDecoder(`${ws}latin1${ws}`).encoding, "windows-1252", JSON.stringify(ws));
  }
  for (const ws of ["\v", "\u00a0", "\u2028", "\u2029", "\u0085", "\u3000", "\ufeff", "\u200b"]) {
    assertThrows(() => new TextDecoder(`utf-8${ws}`), RangeError);
    assertThrows(() => new TextDecoder(`${ws}utf-8`), RangeError);
    assertThrows(() => new TextDecoderStream(`${ws}utf-8`), RangeError);
  }
});

test("every label with U+0000, U+000B, U+00A0, U+2028 or U+2029 around it is invalid", () => {
  const labels = ["utf-8", "utf8", "unicode-1-1-utf-8", "ibm866", "iso-8859-2", "latin2", "iso-8859-8-i",
    "iso-8859-15", "koi8-r", "koi8-u", "macintosh", "windows-874", "windows-1250", "windows-1252", "latin1",
    "ascii", "us-ascii", "iso-8859-1", "windows-1253", "windows-1254", "windows-1255", "windows-1256",
    "windows-1257", "windows-1258", "x-mac-cyrillic", "gbk", "gb18030", "big5", "euc-jp", "iso-2022-jp",
    "shift_jis", "sjis", "euc-kr", "utf-16be", "utf-16le", "utf-16", "x-user-defined"];
  let checked = 0;
  for (const label of labels) {
    new TextDecoder(label); // valid as it is
    for (const ws of ["\u0000", "\u000b", "\u00a0", "\u2028", "\u2029"]) {
      for (const input of [ws + label, label + ws, ws + label + ws]) {
        assertThrows(() => new TextDecoder(input), RangeError);
        checked++;
      }
    }
  }
  assertEquals(checked, labels.length * 15);
});

// ---- 15: streams the runtime builds ignore Object.prototype ----

test("tee() touches no Object.prototype property", async () => {
  const rs = new ReadableStream({ start(c) { c.enqueue("a"); c.close(); } });
  const [calls, remove] = trapObjectPrototype(TRAPPED.filter((n) => n !== "then"));
  try {
    const [a, b] = rs.tee();
    assert(a instanceof ReadableStream && b instanceof ReadableStream);
  } finally {
    remove();
  }
  assertEquals(calls, []);
});

// `then` is left out: resolving a promise with an object looks it up, which
// the runtime still does (see the report of issue 11, item 15).
test("body streams the runtime makes, and reading them, touch no Object.prototype property", async () => {
  const [calls, remove] = trapObjectPrototype(TRAPPED.filter((n) => n !== "then"));
  let out;
  try {
    const texts = [];
    texts.push(await new Response("abc").text());
    texts.push(await new Response(new Response("def").body).text());
    const [b1, b2] = new Response("jkl").body.tee();
    texts.push(await new Response(b1).text(), await new Response(b2).text());
    texts.push(await new Response("mno").clone().text());
    const { readable, writable } = new TransformStream();
    const piped = new Response("pqr").body.pipeTo(writable);
    texts.push(await new Response(readable).text());
    await piped;
    const decoded = new Response("stu").body.pipeThrough(new TextDecoderStream()).pipeThrough(new TextEncoderStream());
    texts.push(await new Response(decoded).text());
    texts.push(await new Response(new Blob(["vwx"]).stream()).text());
    out = texts.join("|");
  } finally {
    remove();
  }
  assertEquals(calls, []);
  assertEquals(out, "abc|def|jkl|jkl|mno|pqr|stu|vwx");
});

test("pipeTo and tee: no read result reaches Object.prototype.then", async () => {
  for (const viaTee of [false, false, true]) {
    const rs = new ReadableStream({ start(c) { c.enqueue("a"); c.close(); } });
    const written = [];
    const ws = new WritableStream({ write(chunk) { written.push(chunk); } });
    const source = viaTee ? rs.tee()[0] : rs;
    const intercepted = [];
    Object.prototype.then = function (resolve) {
      if (!this.done) intercepted.push(this.value);
      delete Object.prototype.then;
      resolve({ __proto__: null, done: true, value: "x" });
    };
    try {
      await source.pipeTo(ws);
    } finally {
      delete Object.prototype.then;
    }
    assertEquals(intercepted, []);
    assertEquals(written, ["a"]);
  }
});

// ---- 16: readable byte streams ----

test("autoAllocateChunkSize: a default reader's pull gets a view of that size", async () => {
  let seen;
  const rs = new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: 16,
    pull(c) {
      const v = c.byobRequest.view;
      seen = [v.constructor.name, v.byteOffset, v.byteLength, v.buffer.byteLength];
      v[0] = 7;
      v[1] = 8;
      c.byobRequest.respond(2);
    },
  });
  const { value, done } = await rs.getReader().read();
  assertEquals(seen, ["Uint8Array", 0, 16, 16]);
  assertEquals(done, false);
  assertEquals([...value], [7, 8]);
  assertEquals(value.buffer.byteLength, 16);
});

test("autoAllocateChunkSize must be positive", () => {
  assertThrows(() => new ReadableStream({ type: "bytes", autoAllocateChunkSize: 0 }), TypeError);
});

test("respondWithNewView() with a view on the transferred buffer fills the read", async () => {
  let controller;
  const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const reader = rs.getReader({ mode: "byob" });
  const p = reader.read(new Uint8Array(8));
  await delay();
  const req = controller.byobRequest;
  const view = new Uint8Array(req.view.buffer, 0, 3);
  view.set([1, 2, 3]);
  req.respondWithNewView(view);
  const { value, done } = await p;
  assertEquals(done, false);
  assertEquals([...value], [1, 2, 3]);
  assertEquals(value.buffer.byteLength, 8);
});

test("respondWithNewView() rejects a view of another buffer or another offset", async () => {
  let controller;
  const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const reader = rs.getReader({ mode: "byob" });
  reader.read(new Uint8Array(8));
  await delay();
  const req = controller.byobRequest;
  assertThrows(() => req.respondWithNewView(new Uint8Array(16)), RangeError);
  assertThrows(() => req.respondWithNewView(new Uint8Array(req.view.buffer, 1, 2)), RangeError);
  assertThrows(() => req.respondWithNewView("x"), TypeError);
});

test("releaseLock() with a pending read(view) rejects it and keeps the byobRequest", async () => {
  let controller;
  const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const reader = rs.getReader({ mode: "byob" });
  const p = reader.read(new Uint8Array(4));
  await delay();
  const req = controller.byobRequest;
  assert(req !== null, "a pending read(view) has a byobRequest");
  reader.releaseLock();
  await assertRejects(() => p, TypeError);
  assertEquals(rs.locked, false);
  // The pull-into descriptor stays: a new reader's read gets what the source writes into it.
  const reader2 = rs.getReader({ mode: "byob" });
  const p2 = reader2.read(new Uint8Array(4));
  new Uint8Array(req.view.buffer, req.view.byteOffset, 1)[0] = 9;
  req.respond(1);
  const r2 = await p2;
  assertEquals(r2.done, false);
  assertEquals([...r2.value], [9]);
});

test("releaseLock() with a pending read(view), then a default reader gets the bytes", async () => {
  let controller;
  const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const reader = rs.getReader({ mode: "byob" });
  const p = reader.read(new Uint16Array(2));
  await delay();
  reader.releaseLock();
  await assertRejects(() => p, TypeError);
  const reader2 = rs.getReader();
  const p2 = reader2.read();
  controller.enqueue(new Uint8Array([1, 2, 3]));
  const r = await p2;
  assertEquals([...r.value], [1, 2, 3]);
});

test("read(view, { min }) fills at least min elements", async () => {
  let controller;
  const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const reader = rs.getReader({ mode: "byob" });
  const p = reader.read(new Uint8Array(8), { min: 4 });
  await delay();
  controller.enqueue(new Uint8Array([1, 2]));
  let settled = false;
  p.then(() => { settled = true; });
  await delay();
  assertEquals(settled, false, "2 bytes do not satisfy min 4");
  controller.enqueue(new Uint8Array([3, 4, 5]));
  const { value } = await p;
  assertEquals([...value], [1, 2, 3, 4, 5]);
  await assertRejects(() => reader.read(new Uint8Array(2), { min: 3 }), RangeError);
  await assertRejects(() => reader.read(new Uint8Array(2), { min: 0 }), TypeError);
});

test("read({ min }) on tee() branches of a byte stream", async () => {
  let controller;
  const rs = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const [a, b] = rs.tee();
  const ra = a.getReader({ mode: "byob" });
  const rb = b.getReader({ mode: "byob" });
  const pa = ra.read(new Uint8Array(4), { min: 3 });
  const pb = rb.read(new Uint8Array(4), { min: 1 });
  await delay();
  controller.enqueue(new Uint8Array([1, 2]));
  const vb = await pb;
  assertEquals([...vb.value], [1, 2]);
  controller.enqueue(new Uint8Array([3]));
  const va = await pa;
  assertEquals([...va.value], [1, 2, 3]);
});

// ---- 17: bodies, Response.json, TextDecoderStream, pipeTo ----

for (const how of ["arrayBuffer", "blob", "text", "json", "bytes"]) {
  test(`getReader() after ${how}() throws the locked TypeError`, async () => {
    const res = new Response('"x"');
    await res[how]();
    assertEquals(res.bodyUsed, true);
    assertEquals(res.body.locked, true);
    assertThrows(() => res.body.getReader(), TypeError);
    await assertRejects(() => res.text(), TypeError);
  });
}

test("getReader() after consuming a stream body throws too", async () => {
  const res = new Response(new ReadableStream({ start(c) { c.enqueue(enc("ab")); c.close(); } }));
  assertEquals(await res.text(), "ab");
  assertEquals(res.body.locked, true);
  assertThrows(() => res.body.getReader(), TypeError);
});

test("Response.json() propagates the serializer's exceptions", () => {
  class Mine extends Error {}
  assertThrows(() => Response.json({ toJSON() { throw new Mine("mine"); } }), Mine, "mine");
  assertThrows(() => Response.json({ get a() { throw new URIError("getter"); } }), URIError, "getter");
  assertThrows(() => Response.json(1n), TypeError);
  const cyclic = {};
  cyclic.self = cyclic;
  assertThrows(() => Response.json(cyclic), TypeError);
});

test("TextDecoderStream errors on a chunk that is not a BufferSource", async () => {
  for (const chunk of [undefined, 1, "text", {}, [1]]) {
    const ts = new TextDecoderStream();
    const writer = ts.writable.getWriter();
    const reader = ts.readable.getReader();
    // Both at once: the write waits for the readable side to be read.
    const written = writer.write(chunk);
    const read = reader.read();
    await assertRejects(() => written, TypeError);
    await assertRejects(() => read, TypeError);
  }
});

test("pipeTo never calls the sink's write() synchronously from enqueue()", async () => {
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; } });
  const events = [];
  const ws = new WritableStream({ write(chunk) { events.push(`write ${chunk}`); } });
  const piped = rs.pipeTo(ws);
  await delay();
  controller.enqueue("a");
  events.push("enqueued a");
  controller.enqueue("b");
  events.push("enqueued b");
  controller.close();
  await piped;
  assertEquals(events, ["enqueued a", "enqueued b", "write a", "write b"]);
});

export default suite();
