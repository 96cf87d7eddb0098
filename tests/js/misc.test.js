import { test, assert, assertEquals, assertThrows, suite } from "./harness.js";

test("crypto.getRandomValues fills integer arrays", () => {
  const a = new Uint8Array(64);
  assert(crypto.getRandomValues(a) === a);
  assert(a.some((x) => x !== 0), "not all zero");
  const b = new Uint32Array(8);
  crypto.getRandomValues(b);
  assert(b.some((x) => x !== 0));
  assertThrows(() => crypto.getRandomValues(new Float64Array(2)), DOMException);
  assertThrows(() => crypto.getRandomValues(new Uint8Array(65537)), DOMException);
});

test("crypto.randomUUID is a v4 UUID and unique", () => {
  const u = crypto.randomUUID();
  assert(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u), u);
  assert(u !== crypto.randomUUID());
});

test("structuredClone copies deeply, keeps cycles and types", () => {
  const src = { a: [1, { b: "x" }], d: new Date(5), m: new Map([[1, "one"]]), s: new Set([2]), u: new Uint8Array([1, 2]) };
  src.self = src;
  const c = structuredClone(src);
  assert(c !== src && c.a !== src.a && c.a[1] !== src.a[1]);
  assertEquals(c.a[1].b, "x");
  assert(c.d instanceof Date && c.d.getTime() === 5);
  assertEquals(c.m.get(1), "one");
  assert(c.s.has(2));
  assertEquals([...c.u], [1, 2]);
  assert(c.u.buffer !== src.u.buffer);
  assert(c.self === c, "cycles preserved");
  assertThrows(() => structuredClone(() => 1), DOMException);
  assertThrows(() => structuredClone({ f: Symbol("x") }), DOMException);
});

test("performance.now and scheduler.wait", async () => {
  assert(typeof performance.timeOrigin === "number" && performance.timeOrigin > 0);
  const t0 = performance.now();
  await scheduler.wait(20);
  assert(performance.now() - t0 >= 15, "waited");
  const ac = new AbortController();
  const p = scheduler.wait(10000, { signal: ac.signal });
  ac.abort(new Error("stop"));
  let msg = "";
  try {
    await p;
  } catch (e) {
    msg = e.message;
  }
  assertEquals(msg, "stop");
});

export default suite();
