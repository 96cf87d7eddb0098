// Tests for 20_streams.js. Run: node --test plugin-runtime/js/test/streams.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const primordialsSource = fs.readFileSync(path.join(here, "..", "00_primordials.js"), "utf8");
const streamsSource = fs.readFileSync(path.join(here, "..", "20_streams.js"), "utf8");
const pristineSource = fs.readFileSync(path.join(here, "..", "19_pristine.js"), "utf8");
let eventsSource = null;
try {
  eventsSource = fs.readFileSync(path.join(here, "..", "10_webidl_events.js"), "utf8");
} catch {
  // AbortController-dependent tests are skipped without it.
}

// A fresh realm with the streams file (and, when it loads, the events file).
function load({ withEvents = true, withTransfer = false } = {}) {
  const ctx = vm.createContext({ queueMicrotask, setTimeout, clearTimeout });
  const g = vm.runInContext("globalThis", ctx);
  if (withTransfer && typeof g.ArrayBuffer.prototype.transfer !== "function") {
    // Emulate ArrayBuffer.prototype.transfer (node 20 lacks it) so the
    // detaching code path is exercised too.
    Object.defineProperty(g.ArrayBuffer.prototype, "transfer", {
      value: function transfer() {
        return structuredClone(this, { transfer: [this] });
      },
      writable: true,
      configurable: true,
    });
  }
  const internals = {
    defineGlobal(name, v) {
      Object.defineProperty(g, name, { value: v, writable: true, configurable: true, enumerable: false });
    },
  };
  vm.runInContext(primordialsSource, ctx, { filename: "00_primordials.js" })(g, internals);
  if (withEvents && eventsSource !== null) {
    try {
      vm.runInContext(eventsSource, ctx, { filename: "10_webidl_events.js" })(g, internals);
    } catch {
      // ignore: the streams file must work without it
    }
  }
  vm.runInContext(pristineSource, ctx, { filename: "19_pristine.js" })(g, internals);
  internals.webClassShape = () => {};
  vm.runInContext(streamsSource, ctx, { filename: "20_streams.js" })(g, internals);
  return { g, S: internals.streams, internals };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const flush = async () => {
  for (let i = 0; i < 5; i++) await tick();
};
const isType = (name) => (e) => e && e.name === name;

async function readAllChunks(reader) {
  const out = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

test("globals are defined, non-enumerable, with toStringTag and instanceof", () => {
  const { g } = load();
  for (const name of [
    "ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamBYOBReader", "ReadableStreamBYOBRequest",
    "ReadableStreamDefaultController", "ReadableByteStreamController", "WritableStream",
    "WritableStreamDefaultWriter", "WritableStreamDefaultController", "TransformStream",
    "TransformStreamDefaultController", "ByteLengthQueuingStrategy", "CountQueuingStrategy",
  ]) {
    const d = Object.getOwnPropertyDescriptor(g, name);
    assert.equal(typeof d.value, "function", name);
    assert.equal(d.enumerable, false);
    assert.equal(Object.prototype.toString.call(d.value.prototype), `[object ${name}]`);
  }
  const rs = new g.ReadableStream();
  assert.ok(rs instanceof g.ReadableStream);
  assert.ok(rs.getReader() instanceof g.ReadableStreamDefaultReader);
  assert.equal(Object.prototype.toString.call(rs), "[object ReadableStream]");
  assert.ok(Object.getOwnPropertyDescriptor(g.ReadableStream.prototype, "getReader").enumerable);
  assert.equal(g.ReadableStream.prototype[Symbol.asyncIterator], g.ReadableStream.prototype.values);
  const ws = new g.WritableStream();
  assert.ok(ws.getWriter() instanceof g.WritableStreamDefaultWriter);
  const ts = new g.TransformStream();
  assert.ok(ts.readable instanceof g.ReadableStream);
  assert.ok(ts.writable instanceof g.WritableStream);
  // Internal state is not reachable.
  assert.deepEqual(Reflect.ownKeys(rs), []);
  assert.deepEqual(Reflect.ownKeys(ws), []);
});

test("reads enqueued chunks in order and then done", async () => {
  const { g } = load();
  const rs = new g.ReadableStream({
    start(c) {
      c.enqueue("a");
      c.enqueue("b");
      c.close();
    },
  });
  const reader = rs.getReader();
  assert.equal(rs.locked, true);
  const r1 = await reader.read();
  assert.equal(r1.value, "a");
  assert.equal(r1.done, false);
  assert.equal((await reader.read()).value, "b");
  const r3 = await reader.read();
  assert.equal(r3.done, true);
  assert.equal(r3.value, undefined);
  await reader.closed;
  reader.releaseLock();
  assert.equal(rs.locked, false);
});

test("pending reads are fulfilled by later enqueues and resolved by close", async () => {
  const { g } = load();
  let ctrl;
  const rs = new g.ReadableStream({ start: (c) => void (ctrl = c) });
  const reader = rs.getReader();
  const p1 = reader.read();
  const p2 = reader.read();
  const p3 = reader.read();
  ctrl.enqueue(1);
  ctrl.enqueue(2);
  ctrl.close();
  assert.equal((await p1).value, 1);
  assert.equal((await p2).value, 2);
  assert.equal((await p3).done, true);
});

test("error propagates to reads and closed", async () => {
  const { g } = load();
  let ctrl;
  const rs = new g.ReadableStream({ start: (c) => void (ctrl = c) });
  const reader = rs.getReader();
  const pending = reader.read();
  const err = new Error("boom");
  ctrl.error(err);
  await assert.rejects(pending, (e) => e === err);
  await assert.rejects(reader.closed, (e) => e === err);
  await assert.rejects(reader.read(), (e) => e === err);
  assert.equal(ctrl.desiredSize, null);
  // Errors thrown by start / pull error the stream too.
  const rs2 = new g.ReadableStream({ pull() { throw err; } });
  await assert.rejects(rs2.getReader().read(), (e) => e === err);
  const rs3 = new g.ReadableStream({ start() { return Promise.reject(err); } });
  await assert.rejects(rs3.getReader().closed, (e) => e === err);
});

test("backpressure: pull is lazy and desiredSize follows the queue", async () => {
  const { g } = load();
  let pulls = 0;
  let ctrl;
  const rs = new g.ReadableStream(
    {
      start: (c) => void (ctrl = c),
      pull() {
        pulls++;
      },
    },
    { highWaterMark: 0 },
  );
  await flush();
  assert.equal(pulls, 0, "no pull before anyone reads with highWaterMark 0");
  assert.equal(ctrl.desiredSize, 0);
  const reader = rs.getReader();
  const p = reader.read();
  await flush();
  assert.equal(pulls, 1);
  ctrl.enqueue("x");
  assert.equal((await p).value, "x");

  let pulls2 = 0;
  let c2;
  const rs2 = new g.ReadableStream(
    {
      start: (c) => void (c2 = c),
      pull(c) {
        pulls2++;
        c.enqueue(pulls2);
      },
    },
    { highWaterMark: 3 },
  );
  await flush();
  assert.equal(pulls2, 3, "pulls until the queue reaches the high water mark");
  assert.equal(c2.desiredSize, 0);
  const r2 = rs2.getReader();
  assert.equal((await r2.read()).value, 1);
  await flush();
  assert.equal(pulls2, 4);
  assert.equal(c2.desiredSize, 0);
});

test("size() and queuing strategies", async () => {
  const { g } = load();
  let ctrl;
  new g.ReadableStream(
    { start: (c) => void (ctrl = c) },
    new g.ByteLengthQueuingStrategy({ highWaterMark: 10 }),
  );
  assert.equal(ctrl.desiredSize, 10);
  ctrl.enqueue(new Uint8Array(4));
  assert.equal(ctrl.desiredSize, 6);
  ctrl.enqueue(new Uint8Array(8));
  assert.equal(ctrl.desiredSize, -2);

  const s = new g.CountQueuingStrategy({ highWaterMark: 2 });
  assert.equal(s.highWaterMark, 2);
  assert.equal(s.size(), 1);
  assert.equal(s.size, new g.CountQueuingStrategy({ highWaterMark: 5 }).size);
  assert.equal(new g.ByteLengthQueuingStrategy({ highWaterMark: 1 }).size({ byteLength: 7 }), 7);
  assert.throws(() => new g.CountQueuingStrategy(), isType("TypeError"));
  assert.throws(() => new g.CountQueuingStrategy({}), isType("TypeError"));

  const err = new Error("size");
  let c2;
  const rs2 = new g.ReadableStream({ start: (c) => void (c2 = c) }, { size() { throw err; } });
  assert.throws(() => c2.enqueue("x"), (e) => e === err);
  await assert.rejects(rs2.getReader().closed, (e) => e === err);

  assert.throws(() => new g.ReadableStream({}, { highWaterMark: -1 }), isType("RangeError"));
  assert.throws(() => new g.ReadableStream({}, { highWaterMark: NaN }), isType("RangeError"));
  let c3;
  const rs3 = new g.ReadableStream({ start: (c) => void (c3 = c) }, { size: () => -1 });
  assert.throws(() => c3.enqueue(1), isType("RangeError"));
  await assert.rejects(rs3.getReader().closed, isType("RangeError"));
});

test("spec TypeErrors", async () => {
  const { g } = load();
  const rs = new g.ReadableStream();
  const reader = rs.getReader();
  assert.throws(() => rs.getReader(), isType("TypeError"), "getReader on a locked stream");
  assert.throws(() => new g.ReadableStreamDefaultReader(rs), isType("TypeError"));
  await assert.rejects(rs.cancel(), isType("TypeError"), "cancel on a locked stream");
  reader.releaseLock();
  await assert.rejects(reader.read(), isType("TypeError"), "read after releaseLock");
  await assert.rejects(reader.closed, isType("TypeError"));
  assert.throws(() => rs.getReader({ mode: "nope" }), isType("TypeError"), "bad mode");
  assert.throws(() => rs.getReader({ mode: "byob" }), isType("TypeError"), "byob reader on default stream");
  assert.throws(() => new g.ReadableStream({ type: "nope" }), isType("TypeError"));
  assert.throws(() => new g.ReadableStream({ pull: 1 }), isType("TypeError"));
  assert.throws(() => new g.ReadableStream(null), isType("TypeError"));
  assert.throws(() => new g.ReadableStream({ type: "bytes" }, { size: () => 1 }), isType("RangeError"));
  assert.throws(() => new g.ReadableStreamDefaultController(), isType("TypeError"));
  assert.throws(() => new g.ReadableByteStreamController(), isType("TypeError"));
  assert.throws(() => new g.WritableStreamDefaultController(), isType("TypeError"));
  assert.throws(() => new g.TransformStreamDefaultController(), isType("TypeError"));
  assert.throws(() => new g.ReadableStreamBYOBRequest(), isType("TypeError"));
  assert.throws(() => new g.WritableStream({ type: "bytes" }), isType("RangeError"));
  assert.throws(() => new g.TransformStream({ readableType: "bytes" }), isType("RangeError"));
  // Brand checks.
  assert.throws(() => g.ReadableStream.prototype.getReader.call({}), isType("TypeError"));
  await assert.rejects(g.ReadableStream.prototype.cancel.call({}), isType("TypeError"));
  assert.throws(() => Object.getOwnPropertyDescriptor(g.ReadableStream.prototype, "locked").get.call({}),
    isType("TypeError"));

  let ctrl;
  new g.ReadableStream({ start: (c) => void (ctrl = c) });
  ctrl.close();
  assert.throws(() => ctrl.enqueue("x"), isType("TypeError"), "enqueue after close");
  assert.throws(() => ctrl.close(), isType("TypeError"), "close twice");

  let bctrl;
  new g.ReadableStream({ type: "bytes", start: (c) => void (bctrl = c) });
  assert.throws(() => bctrl.enqueue("x"), isType("TypeError"));
  assert.throws(() => bctrl.enqueue(new Uint8Array(0)), isType("TypeError"));
  bctrl.close();
  assert.throws(() => bctrl.enqueue(new Uint8Array(1)), isType("TypeError"));

  const ws = new g.WritableStream();
  const w = ws.getWriter();
  assert.throws(() => ws.getWriter(), isType("TypeError"));
  await assert.rejects(ws.abort(), isType("TypeError"));
  await assert.rejects(ws.close(), isType("TypeError"));
  await w.close();
  await assert.rejects(w.write("x"), isType("TypeError"), "write after close");
  w.releaseLock();
  await assert.rejects(w.write("x"), isType("TypeError"));
  assert.throws(() => w.desiredSize, isType("TypeError"));

  await assert.rejects(new g.ReadableStream().pipeTo({}), isType("TypeError"));
  assert.throws(() => new g.ReadableStream().pipeThrough({ readable: 1, writable: 2 }), isType("TypeError"));
});

test("cancel calls the source, resolves pending reads and empties the queue", async () => {
  const { g } = load();
  let reason;
  let ctrl;
  const rs = new g.ReadableStream({
    start: (c) => void (ctrl = c),
    cancel(r) {
      reason = r;
    },
  });
  ctrl.enqueue("queued");
  const reader = rs.getReader();
  await reader.read();
  const pending = reader.read();
  await reader.cancel("why");
  assert.equal(reason, "why");
  assert.equal((await pending).done, true);
  await reader.closed;
  // cancel on a closed stream resolves, on an errored stream rejects
  await new g.ReadableStream({ start: (c) => c.close() }).cancel();
  const err = new Error("e");
  await assert.rejects(new g.ReadableStream({ start: (c) => c.error(err) }).cancel(), (e) => e === err);
});

test("tee delivers every chunk to both branches and cancels the source when both cancel", async () => {
  const { g } = load();
  const rs = new g.ReadableStream({
    start(c) {
      c.enqueue("a");
      c.enqueue("b");
      c.close();
    },
  });
  const [b1, b2] = rs.tee();
  assert.equal(rs.locked, true);
  const [o1, o2] = await Promise.all([readAllChunks(b1.getReader()), readAllChunks(b2.getReader())]);
  assert.deepEqual([...o1], ["a", "b"]);
  assert.deepEqual([...o2], ["a", "b"]);

  let cancelReason;
  const src = new g.ReadableStream({ cancel: (r) => void (cancelReason = r) });
  const [c1, c2] = src.tee();
  const p1 = c1.cancel("r1");
  await tick();
  assert.equal(cancelReason, undefined);
  const p2 = c2.cancel("r2");
  await Promise.all([p1, p2]);
  assert.deepEqual([...cancelReason], ["r1", "r2"]);

  const err = new Error("tee error");
  const [e1, e2] = new g.ReadableStream({ start: (c) => c.error(err) }).tee();
  await assert.rejects(e1.getReader().closed, (e) => e === err);
  await assert.rejects(e2.getReader().closed, (e) => e === err);
});

test("tee of a byte stream gives independent byte-stream branches", async () => {
  const { g } = load();
  const rs = new g.ReadableStream({
    type: "bytes",
    start(c) {
      c.enqueue(new Uint8Array([1, 2, 3]));
      c.close();
    },
  });
  const [b1, b2] = rs.tee();
  const r1 = b1.getReader({ mode: "byob" });
  const { value } = await r1.read(new Uint8Array(8));
  assert.deepEqual([...value], [1, 2, 3]);
  value[0] = 99;
  const chunks = await readAllChunks(b2.getReader());
  assert.equal(chunks.length, 1);
  assert.deepEqual([...chunks[0]], [1, 2, 3]);
});

function upperCaseTransform(g) {
  return new g.TransformStream({
    transform(chunk, controller) {
      controller.enqueue(String(chunk).toUpperCase());
    },
  });
}

function collectingSink(g, out, extra = {}) {
  return new g.WritableStream({
    write(chunk) {
      out.push(chunk);
    },
    ...extra,
  });
}

test("pipeThrough an uppercasing TransformStream and pipeTo a WritableStream", async () => {
  const { g } = load();
  const rs = g.ReadableStream.from(["hello", " ", "world"]);
  const out = [];
  let closed = false;
  await rs.pipeThrough(upperCaseTransform(g)).pipeTo(collectingSink(g, out, { close: () => void (closed = true) }));
  assert.deepEqual(out, ["HELLO", " ", "WORLD"]);
  assert.equal(closed, true);
  assert.equal(rs.locked, false);
});

test("pipeTo honours preventClose and propagates errors both ways", async () => {
  const { g } = load();
  let closed = false;
  const out = [];
  const ws = collectingSink(g, out, { close: () => void (closed = true) });
  await g.ReadableStream.from([1, 2]).pipeTo(ws, { preventClose: true });
  assert.equal(closed, false);
  assert.equal(ws.locked, false);
  const w = ws.getWriter();
  await w.write(3);
  assert.deepEqual(out, [1, 2, 3]);

  // Source errors -> destination aborted.
  const err = new Error("src");
  let abortReason;
  const p = new g.ReadableStream({ start: (c) => c.error(err) }).pipeTo(
    new g.WritableStream({ abort: (r) => void (abortReason = r) }),
  );
  await assert.rejects(p, (e) => e === err);
  assert.equal(abortReason, err);

  // Destination errors -> source canceled.
  const werr = new Error("dest");
  let cancelReason;
  const p2 = new g.ReadableStream({
    pull: (c) => c.enqueue("x"),
    cancel: (r) => void (cancelReason = r),
  }).pipeTo(new g.WritableStream({ write() { throw werr; } }));
  await assert.rejects(p2, (e) => e === werr);
  assert.equal(cancelReason, werr);

  // preventCancel leaves the source readable and unlocked.
  const src = new g.ReadableStream({ cancel: () => assert.fail("should not cancel") });
  const p3 = src.pipeTo(new g.WritableStream({ start: (c) => c.error(werr) }), { preventCancel: true });
  await assert.rejects(p3, (e) => e === werr);
  assert.equal(src.locked, false);
});

test("pipeTo with an AbortSignal", { skip: eventsSource === null }, async () => {
  const { g } = load();
  if (typeof g.AbortController !== "function") return;
  const ac = new g.AbortController();
  let cancelReason;
  let abortReason;
  const rs = new g.ReadableStream({ cancel: (r) => void (cancelReason = r) });
  const ws = new g.WritableStream({ abort: (r) => void (abortReason = r) });
  const p = rs.pipeTo(ws, { signal: ac.signal });
  await tick();
  const reason = new Error("stop");
  ac.abort(reason);
  await assert.rejects(p, (e) => e === reason);
  assert.equal(cancelReason, reason);
  assert.equal(abortReason, reason);
  // Already aborted signal.
  const p2 = new g.ReadableStream().pipeTo(new g.WritableStream(), { signal: g.AbortSignal.abort() });
  await assert.rejects(p2, isType("AbortError"));
  await assert.rejects(new g.ReadableStream().pipeTo(new g.WritableStream(), { signal: {} }), isType("TypeError"));
});

test("async iteration; break cancels, preventCancel does not", async () => {
  const { g } = load();
  let canceled = 0;
  const make = () =>
    new g.ReadableStream({
      start(c) {
        c.enqueue(1);
        c.enqueue(2);
        c.enqueue(3);
      },
      cancel() {
        canceled++;
      },
    });
  const seen = [];
  const rs = make();
  for await (const v of rs) {
    seen.push(v);
    if (v === 2) break;
  }
  assert.deepEqual(seen, [1, 2]);
  assert.equal(canceled, 1);
  assert.equal(rs.locked, false);

  const rs2 = make();
  for await (const v of rs2.values({ preventCancel: true })) {
    if (v === 1) break;
  }
  assert.equal(canceled, 1);
  assert.equal(rs2.locked, false);
  assert.equal((await rs2.getReader().read()).value, 2);

  const err = new Error("iter");
  const rs3 = new g.ReadableStream({ start: (c) => c.error(err) });
  await assert.rejects(async () => {
    for await (const _ of rs3);
  }, (e) => e === err);
  const it = new g.ReadableStream({ start: (c) => c.close() })[Symbol.asyncIterator]();
  assert.equal(Object.prototype.toString.call(it), "[object ReadableStream AsyncIterator]");
  assert.equal((await it.next()).done, true);
  assert.equal((await it.next()).done, true);
  assert.deepEqual({ ...(await it.return("x")) }, { value: "x", done: true });
});

test("byte stream with a BYOB reader and byobRequest.respond", async () => {
  const { g } = load();
  let n = 0;
  const rs = new g.ReadableStream({
    type: "bytes",
    pull(c) {
      const req = c.byobRequest;
      assert.ok(req instanceof g.ReadableStreamBYOBRequest);
      const v = req.view;
      assert.ok(v instanceof g.Uint8Array || v instanceof Uint8Array);
      if (n === 2) {
        c.close();
        req.respond(0);
        return;
      }
      v[0] = 10 + n;
      v[1] = 20 + n;
      n++;
      req.respond(2);
    },
  });
  const reader = rs.getReader({ mode: "byob" });
  assert.ok(reader instanceof g.ReadableStreamBYOBReader);
  const r1 = await reader.read(new Uint8Array(4));
  assert.equal(r1.done, false);
  assert.deepEqual([...r1.value], [10, 20]);
  assert.equal(r1.value.byteOffset, 0);
  assert.equal(r1.value.buffer.byteLength, 4);
  const r2 = await reader.read(new Uint8Array(r1.value.buffer));
  assert.deepEqual([...r2.value], [11, 21]);
  const r3 = await reader.read(new Uint8Array(4));
  assert.equal(r3.done, true);
  assert.equal(r3.value.byteLength, 0);
  await reader.closed;
});

test("byte stream: enqueue fills BYOB reads, min and element alignment", async () => {
  const { g } = load();
  let ctrl;
  const rs = new g.ReadableStream({ type: "bytes", start: (c) => void (ctrl = c) });
  const reader = rs.getReader({ mode: "byob" });
  const p = reader.read(new Uint8Array(4), { min: 3 });
  ctrl.enqueue(new Uint8Array([1, 2]));
  let settled = false;
  p.then(() => (settled = true));
  await flush();
  assert.equal(settled, false, "min not reached yet");
  ctrl.enqueue(new Uint8Array([3, 4, 5]));
  const r = await p;
  assert.deepEqual([...r.value], [1, 2, 3, 4]);
  // The leftover byte stays queued; a Uint16Array read needs 2 bytes.
  const p2 = reader.read(new Uint16Array(2));
  ctrl.enqueue(new Uint8Array([0]));
  const r2 = await p2;
  assert.equal(r2.value.constructor.name, "Uint16Array");
  assert.equal(r2.value.length, 1);
  assert.equal(r2.value.byteLength, 2);
  await assert.rejects(reader.read(new Uint8Array(0)), isType("TypeError"));
  await assert.rejects(reader.read(new Uint8Array(2), { min: 3 }), isType("RangeError"));
  await assert.rejects(reader.read(new Uint8Array(2), { min: 0 }), isType("TypeError"));
  await assert.rejects(reader.read("nope"), isType("TypeError"));
  ctrl.close();
  assert.equal((await reader.read(new Uint8Array(1))).done, true);
});

test("byte stream: default reader, autoAllocateChunkSize and respondWithNewView", async () => {
  const { g } = load();
  let pulls = 0;
  const rs = new g.ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: 16,
    pull(c) {
      pulls++;
      const req = c.byobRequest;
      assert.equal(req.view.byteLength, 16);
      if (pulls === 1) {
        req.view[0] = 42;
        req.respond(1);
      } else if (pulls === 2) {
        const v = new Uint8Array(req.view.buffer, req.view.byteOffset, 3);
        v.set([7, 8, 9]);
        req.respondWithNewView(v);
      } else {
        c.close();
        req.respond(0);
      }
    },
  });
  const reader = rs.getReader();
  const r1 = await reader.read();
  assert.deepEqual([...r1.value], [42]);
  const r2 = await reader.read();
  assert.deepEqual([...r2.value], [7, 8, 9]);
  assert.equal((await reader.read()).done, true);

  // Without autoAllocateChunkSize, byobRequest is null for default reads.
  let sawNull = false;
  const rs2 = new g.ReadableStream({
    type: "bytes",
    pull(c) {
      sawNull = c.byobRequest === null;
      c.enqueue(new Uint8Array([5]));
    },
  });
  const v = await rs2.getReader().read();
  assert.equal(sawNull, true);
  assert.deepEqual([...v.value], [5]);
  assert.throws(() => new g.ReadableStream({ type: "bytes", autoAllocateChunkSize: 0 }), isType("TypeError"));
});

test("byte stream: respond errors", async () => {
  const { g } = load();
  let req;
  const rs = new g.ReadableStream({
    type: "bytes",
    pull(c) {
      req = c.byobRequest;
    },
  });
  const reader = rs.getReader({ mode: "byob" });
  reader.read(new Uint8Array(2));
  await flush();
  assert.throws(() => req.respond(3), isType("RangeError"));
  assert.throws(() => req.respond(0), isType("TypeError"));
  req.view[0] = 1;
  req.respond(1);
  assert.throws(() => req.respond(1), isType("TypeError"), "request invalidated after respond");
  assert.equal(req.view, null);
});

test("ReadableStream.from iterables and async iterables", async () => {
  const { g } = load();
  assert.deepEqual([...(await readAllChunks(g.ReadableStream.from([1, 2, 3]).getReader()))], [1, 2, 3]);
  async function* gen() {
    yield "a";
    await tick();
    yield "b";
  }
  assert.deepEqual([...(await readAllChunks(g.ReadableStream.from(gen()).getReader()))], ["a", "b"]);
  // Promises in a sync iterable are awaited.
  assert.deepEqual([...(await readAllChunks(g.ReadableStream.from([Promise.resolve(9)]).getReader()))], [9]);
  let returned;
  const iterable = {
    [Symbol.asyncIterator]() {
      return {
        next: async () => ({ value: 1, done: false }),
        return: async (r) => {
          returned = r;
          return { done: true };
        },
      };
    },
  };
  const rs = g.ReadableStream.from(iterable);
  const reader = rs.getReader();
  await reader.read();
  await reader.cancel("enough");
  assert.equal(returned, "enough");
  assert.throws(() => g.ReadableStream.from(5), isType("TypeError"));
  const err = new Error("gen");
  const bad = g.ReadableStream.from((async function* () {
    throw err;
  })());
  await assert.rejects(bad.getReader().read(), (e) => e === err);
});

test("WritableStream writes in order, one at a time, with backpressure", async () => {
  const { g } = load();
  const log = [];
  let active = 0;
  const ws = new g.WritableStream(
    {
      async write(chunk, controller) {
        assert.ok(controller instanceof g.WritableStreamDefaultController);
        active++;
        assert.equal(active, 1, "writes never overlap");
        log.push(`start ${chunk}`);
        await tick();
        log.push(`end ${chunk}`);
        active--;
      },
      close() {
        log.push("close");
      },
    },
    { highWaterMark: 2 },
  );
  const writer = ws.getWriter();
  assert.equal(writer.desiredSize, 2);
  await writer.ready;
  const ps = [writer.write("a"), writer.write("b"), writer.write("c")];
  assert.equal(writer.desiredSize, -1);
  let readyResolved = false;
  writer.ready.then(() => (readyResolved = true));
  await tick();
  assert.equal(readyResolved, false, "ready waits while the queue is over the high water mark");
  const closeP = writer.close();
  await Promise.all(ps);
  await closeP;
  await writer.closed;
  assert.deepEqual(log, ["start a", "end a", "start b", "end b", "start c", "end c", "close"]);
  assert.equal(writer.desiredSize, 0);
});

test("WritableStream abort rejects pending writes, calls abort and signals", async () => {
  const { g } = load();
  let abortReason;
  let ctrl;
  const writes = [];
  const ws = new g.WritableStream({
    start: (c) => void (ctrl = c),
    write(chunk) {
      writes.push(chunk);
      return new Promise((r) => setTimeout(r, 5));
    },
    abort(r) {
      abortReason = r;
    },
  });
  const writer = ws.getWriter();
  const w1 = writer.write(1);
  const w2 = writer.write(2);
  await tick(); // start has finished and write 1 is in flight
  const reason = new Error("abort!");
  const abortP = writer.abort(reason);
  if (ctrl.signal !== undefined) {
    assert.equal(ctrl.signal.aborted, true);
    assert.equal(ctrl.signal.reason, reason);
  }
  await w1; // in-flight write completes
  await assert.rejects(w2, (e) => e === reason);
  await abortP;
  assert.equal(abortReason, reason);
  assert.deepEqual(writes, [1]);
  await assert.rejects(writer.closed, (e) => e === reason);
  await assert.rejects(writer.write(3), (e) => e === reason);

  // A failing write errors the stream.
  const err = new Error("write failed");
  const ws2 = new g.WritableStream({ write() { throw err; } });
  const w = ws2.getWriter();
  await assert.rejects(w.write("x"), (e) => e === err);
  await assert.rejects(w.closed, (e) => e === err);
  // controller.error()
  let c3;
  const ws3 = new g.WritableStream({ start: (c) => void (c3 = c) });
  c3.error(err);
  await assert.rejects(ws3.getWriter().closed, (e) => e === err);
});

test("TransformStream: flush, terminate, error and backpressure", async () => {
  const { g } = load();
  const ts = new g.TransformStream({
    transform(chunk, c) {
      assert.ok(c instanceof g.TransformStreamDefaultController);
      c.enqueue(chunk * 2);
    },
    flush(c) {
      c.enqueue("end");
    },
  });
  const writer = ts.writable.getWriter();
  const reader = ts.readable.getReader();
  writer.write(1);
  writer.write(2);
  writer.close();
  assert.deepEqual([...(await readAllChunks(reader))], [2, 4, "end"]);

  // Identity transform with default strategies: readable HWM 0 -> backpressure.
  const id = new g.TransformStream();
  const w = id.writable.getWriter();
  await tick();
  assert.equal(w.desiredSize, 1);
  const wp = w.write("x");
  let written = false;
  wp.then(() => (written = true));
  await flush();
  assert.equal(written, false, "write waits for the readable side to be read");
  const r = id.readable.getReader();
  assert.equal((await r.read()).value, "x");
  await wp;

  // terminate closes the readable side and errors the writable side.
  const t2 = new g.TransformStream({ start: (c) => c.terminate() });
  assert.equal((await t2.readable.getReader().read()).done, true);
  await assert.rejects(t2.writable.getWriter().closed, isType("TypeError"));

  // A throwing transform errors both sides.
  const err = new Error("transform");
  const t3 = new g.TransformStream({ transform() { throw err; } });
  const w3 = t3.writable.getWriter();
  const r3 = t3.readable.getReader();
  const readP = r3.read(); // relieves the initial backpressure so the write reaches transform()
  await assert.rejects(w3.write("a"), (e) => e === err);
  await assert.rejects(readP, (e) => e === err);
  await assert.rejects(r3.read(), (e) => e === err);

  // Canceling the readable side errors the writable side and calls cancel.
  let cancelReason;
  const t4 = new g.TransformStream({ cancel: (r) => void (cancelReason = r) });
  await t4.readable.cancel("bye");
  assert.equal(cancelReason, "bye");
  await assert.rejects(t4.writable.getWriter().closed, (e) => e === "bye");
});

test("internals: createPullStream pulls lazily and works with default and BYOB readers", async () => {
  const { g, S } = load();
  const chunks = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])];
  let pulls = 0;
  const stream = S.createPullStream({
    pull: async () => {
      pulls++;
      return chunks.length ? chunks.shift() : null;
    },
  });
  assert.ok(stream instanceof g.ReadableStream);
  assert.ok(S.isReadableStream(stream));
  assert.equal(S.isReadableStream({}), false);
  await flush();
  assert.equal(pulls, 0, "nothing is read until someone reads");
  assert.equal(S.isDisturbed(stream), false);
  const reader = stream.getReader({ mode: "byob" });
  assert.equal(S.isLocked(stream), true);
  const r1 = await reader.read(new Uint8Array(2));
  assert.deepEqual([...r1.value], [1, 2]);
  assert.equal(pulls, 1);
  assert.equal(S.isDisturbed(stream), true);
  const r2 = await reader.read(new Uint8Array(10));
  assert.deepEqual([...r2.value], [3], "the rest of the first chunk is queued");
  const r3 = await reader.read(new Uint8Array(10));
  assert.deepEqual([...r3.value], [4, 5]);
  const r4 = await reader.read(new Uint8Array(10));
  assert.equal(r4.done, true);
  assert.equal(S.isClosed(stream), true);

  const s2 = S.createPullStream({ pull: async () => null });
  assert.equal((await s2.getReader().read()).done, true);

  const err = new Error("pull failed");
  const s3 = S.createPullStream({ pull: () => Promise.reject(err) });
  await assert.rejects(s3.getReader().read(), (e) => e === err);
  assert.equal(S.isErrored(s3), true);

  let canceled;
  const s4 = S.createPullStream({ pull: async () => new Uint8Array([1]), cancel: (r) => void (canceled = r) });
  await s4.cancel("stop");
  assert.equal(canceled, "stop");

  // Empty chunks are skipped; non-bytes chunks error the stream.
  const parts = [new Uint8Array(0), new Uint8Array([7]), null];
  const s5 = S.createPullStream({ pull: async () => parts.shift() });
  assert.deepEqual([...((await S.readAll(s5)).bytes)], [7]);
  const s6 = S.createPullStream({ pull: async () => "text" });
  await assert.rejects(s6.getReader().read(), isType("TypeError"));

  // highWaterMark > 0 reads ahead.
  let pulls7 = 0;
  S.createPullStream({ pull: async () => (pulls7++, new Uint8Array(4)), highWaterMark: 8 });
  await flush();
  assert.equal(pulls7, 2);
});

test("internals: readAll, native tag and markDisturbed", async () => {
  const { g, S } = load();
  const parts = [new Uint8Array([1, 2]), new Uint8Array([3]), null];
  const s = S.createPullStream({ pull: async () => parts.shift() });
  const all = (await S.readAll(s)).bytes;
  assert.deepEqual([...all], [1, 2, 3]);
  assert.equal(S.isDisturbed(s), true);
  assert.equal(S.isLocked(s), true);

  const empty = (await S.readAll(new g.ReadableStream({ start: (c) => c.close() }))).bytes;
  assert.equal(empty.byteLength, 0);
  assert.equal(empty.constructor.name, "Uint8Array");

  const mixed = new g.ReadableStream({
    start(c) {
      c.enqueue(new Uint8Array([1]).buffer);
      c.enqueue(new DataView(new Uint8Array([9, 2, 9]).buffer, 1, 1));
      c.enqueue(new Uint16Array([0x0403]));
      c.close();
    },
  });
  assert.deepEqual([...((await S.readAll(mixed)).bytes)], [1, 2, 3, 4]);
  await assert.rejects(S.readAll(new g.ReadableStream({ start: (c) => c.enqueue("str") })), isType("TypeError"));
  const locked = new g.ReadableStream();
  locked.getReader();
  await assert.rejects(S.readAll(locked), isType("TypeError"));
  const err = new Error("x");
  await assert.rejects(S.readAll(new g.ReadableStream({ start: (c) => c.error(err) })), (e) => e === err);

  // Many queued chunks are read without deep recursion.
  const many = new g.ReadableStream({
    start(c) {
      for (let i = 0; i < 50000; i++) c.enqueue(new Uint8Array([i & 255]));
      c.close();
    },
  });
  assert.equal(((await S.readAll(many)).bytes).byteLength, 50000);

  const tagged = S.createPullStream({ pull: async () => null });
  assert.equal(S.getNativeTag(tagged), undefined);
  S.setNativeTag(tagged, 42);
  assert.equal(S.getNativeTag(tagged), 42);
  const [t1, t2] = tagged.tee();
  assert.equal(S.getNativeTag(t1), undefined);
  assert.equal(S.getNativeTag(t2), undefined);
  const tagged2 = S.createPullStream({ pull: async () => null });
  S.setNativeTag(tagged2, 7);
  const piped = tagged2.pipeThrough(new g.TransformStream());
  assert.equal(S.getNativeTag(piped), undefined);

  const fresh = new g.ReadableStream();
  assert.equal(S.isDisturbed(fresh), false);
  S.markDisturbed(fresh);
  assert.equal(S.isDisturbed(fresh), true);
  assert.equal(fresh.locked, false);
});

test("a large queue drains completely and in order", async () => {
  const { g } = load();
  const N = 200000;
  let ctrl;
  const rs = new g.ReadableStream({ start: (c) => void (ctrl = c) }, { highWaterMark: Infinity });
  for (let i = 0; i < N; i++) ctrl.enqueue(i);
  ctrl.close();
  const reader = rs.getReader();
  let count = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    assert.equal(value, count);
    count++;
  }
  assert.equal(count, N);
});

test("works without the events file (no AbortController)", async () => {
  const { g } = load({ withEvents: false });
  let ctrl;
  const ws = new g.WritableStream({ start: (c) => void (ctrl = c) });
  assert.equal(ctrl.signal, undefined);
  const out = [];
  await g.ReadableStream.from(["a", "b"]).pipeThrough(upperCaseTransform(g)).pipeTo(collectingSink(g, out));
  assert.deepEqual(out, ["A", "B"]);
  await ws.getWriter().abort("r");
});

test("with ArrayBuffer.prototype.transfer, enqueued and BYOB buffers are transferred", async () => {
  const { g, S } = load({ withTransfer: true });
  let ctrl;
  const rs = new g.ReadableStream({ type: "bytes", start: (c) => void (ctrl = c) });
  const chunk = new Uint8Array([1, 2, 3]);
  ctrl.enqueue(chunk);
  assert.equal(chunk.byteLength, 0, "the enqueued chunk's buffer is detached");
  const reader = rs.getReader({ mode: "byob" });
  const view = new Uint8Array(8);
  const { value } = await reader.read(view);
  assert.equal(view.byteLength, 0, "the caller's view is detached");
  assert.deepEqual([...value], [1, 2, 3]);
  assert.equal(value.buffer.byteLength, 8);
  const p = reader.read(new Uint8Array(value.buffer));
  ctrl.enqueue(new Uint8Array([4]));
  assert.deepEqual([...(await p).value], [4]);

  // createPullStream chunks are runtime-owned and not detached.
  const own = new Uint8Array([9, 9]);
  let given = false;
  const s = S.createPullStream({ pull: async () => (given ? null : ((given = true), own)) });
  const [t1, t2] = s.tee();
  const [a, b] = (await Promise.all([S.readAll(t1), S.readAll(t2)])).map((r) => r.bytes);
  assert.deepEqual([...a], [9, 9]);
  assert.deepEqual([...b], [9, 9]);
  assert.equal(own.byteLength, 2);
});
