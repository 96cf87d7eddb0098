// structuredClone against hostile graphs and a script that replaces the
// built-ins it might call (issue 11, item 14 and its neighbours; workerd's
// answers for the ordinary cases are in tests/diff/structured_clone*.js).
import { test, assert, assertEquals, suite } from "./harness.js";

// Runs fn with `target[key]` replaced by `value` (a data property or an
// accessor descriptor), restoring it afterwards.
function withReplaced(target, key, desc, fn) {
  const old = Object.getOwnPropertyDescriptor(target, key);
  Object.defineProperty(target, key, { configurable: true, ...desc });
  try {
    return fn();
  } finally {
    if (old) Object.defineProperty(target, key, old);
    else delete target[key];
  }
}
const boom = () => {
  throw new Error("script's replacement called");
};

test("structuredClone: a graph repeating a large string shares it, not copies it", () => {
  // 16 MiB of string referenced 10,000 times: V8's serializer would write
  // 160 GB into its buffer; the clone only repeats the reference.
  const big = "x".repeat(16 * 1024 * 1024);
  const arr = new Array(10000).fill(big);
  const c = structuredClone({ arr, m: new Map([[big, big]]) });
  assertEquals(c.arr.length, 10000);
  assertEquals(c.arr[9999].length, big.length);
  assertEquals(c.m.get(big), big);
});

test("structuredClone: deep nesting is a RangeError, not a crash", () => {
  let v = null;
  for (let i = 0; i < 200000; i++) v = { v: [v] };
  let threw;
  try {
    structuredClone(v);
  } catch (e) {
    threw = e;
  }
  assert(threw instanceof RangeError, String(threw));
  // The isolate is still usable afterwards.
  assertEquals(structuredClone({ a: [1] }).a[0], 1);
});

test("structuredClone: a huge sparse array and a getter that grows the graph", () => {
  const a = [];
  a.length = 2 ** 32 - 1;
  a[2 ** 32 - 2] = "last";
  const c = structuredClone(a);
  assertEquals(c.length, 2 ** 32 - 1);
  assertEquals(c[2 ** 32 - 2], "last");
  assertEquals(Object.keys(c).length, 1);
  // Keys are read once: properties a getter adds are not cloned, ones it
  // deletes are skipped.
  const o = { get a() { o.added = 1; delete o.c; return 1; }, b: 2, c: 3 };
  assertEquals(Object.keys(structuredClone(o)), ["a", "b"]);
});

test("structuredClone: replaced built-ins are not called", () => {
  const d = new Date(7);
  const re = /a+/gi;
  const m12 = new Map([[1, 2]]);
  const s1 = new Set([1]);
  const cases = [
    [Date.prototype, "getTime", { value: boom }, () => structuredClone(d).valueOf(), 7],
    [RegExp.prototype, "flags", { get: boom }, () => structuredClone(re), "/a+/gi"],
    [RegExp.prototype, "source", { get: boom }, () => structuredClone(re).lastIndex, 0],
    [RegExp.prototype, "global", { get: boom }, () => structuredClone(/x/y).sticky, true],
    [Number.prototype, "valueOf", { value: boom }, () => Number.prototype.toString.call(structuredClone(new Number(4))), "4"],
    [String.prototype, "valueOf", { value: boom }, () => String.prototype.toString.call(structuredClone(new String("s"))), "s"],
    [Map.prototype, "set", { value: boom }, () => structuredClone(m12).size, 1],
    [Map.prototype, "entries", { value: boom }, () => structuredClone(m12).size, 1],
    [Set.prototype, "add", { value: boom }, () => structuredClone(s1).size, 1],
    [Function.prototype, "toString", { value: boom }, () => {
      try {
        structuredClone(function f() {});
      } catch (e) {
        return e.name;
      }
    }, "DataCloneError"],
    [ArrayBuffer.prototype, "slice", { value: boom }, () => structuredClone(new Uint8Array([5]))[0], 5],
    [Object.prototype, "0", { set: boom }, () => structuredClone({ 0: 1 })[0], 1],
    [Array.prototype, "0", { set: boom }, () => structuredClone([9])[0], 9],
    [Error.prototype, "name", { value: "NotAnError" }, () => {
      const c = structuredClone(new TypeError("t"));
      return Object.getPrototypeOf(c) === TypeError.prototype && c.message;
    }, "t"],
  ];
  for (const [target, key, desc, fn, want] of cases) {
    let got = withReplaced(target, key, desc, fn);
    if (got instanceof RegExp) got = String(got); // read once the built-in is back
    assertEquals(got, want, `${key}`);
  }
});

test("structuredClone: the internal type decides, not the prototype or the tag", () => {
  // An object dressed as a Date (prototype and tag) is a plain object.
  const fake = Object.create(Date.prototype);
  fake.x = 1;
  const c = structuredClone(fake);
  assertEquals(Object.getPrototypeOf(c), Object.prototype);
  assertEquals(c.x, 1);
  // A real Map whose prototype was swapped is still a Map.
  const m = new Map([[1, 2]]);
  Object.setPrototypeOf(m, null);
  const cm = structuredClone(m);
  assert(cm instanceof Map);
  assertEquals(Map.prototype.get.call(cm, 1), 2);
  // A Proxy is refused without running its traps.
  let trapped = false;
  const p = new Proxy({}, { get() { trapped = true; }, ownKeys() { trapped = true; return []; } });
  let name;
  try {
    structuredClone(p);
  } catch (e) {
    name = e.name;
  }
  assertEquals([name, trapped], ["DataCloneError", false]);
});

test("structuredClone: transfer detaches only when the clone succeeds", () => {
  const buf = new Uint8Array([1, 2, 3]).buffer;
  const view = new Uint8Array(buf, 1);
  const c = structuredClone({ buf, view }, { transfer: [buf] });
  assert(buf.detached);
  assertEquals([...c.view], [2, 3]);
  assert(c.view.buffer === c.buf);
  const kept = new ArrayBuffer(4);
  try {
    structuredClone([kept, Symbol("no")], { transfer: [kept] });
  } catch {
    // expected
  }
  assertEquals(kept.detached, false);
});

export default suite();
