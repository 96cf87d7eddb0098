// Tests for 00_primordials.js: the bootstrap keeps working, and keeps its
// internals to itself, after a script replaced the built-ins.
// Run: node --test plugin-runtime/js/test/primordials.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import vm from "node:vm";
import { defineGlobalOn, runFiles, webOps } from "./stub_ops.mjs";

const FILES = ["10_webidl_events.js", "11_headers.js", "12_url.js", "13_encoding.js", "20_streams.js"];

function load() {
  const ctx = vm.createContext({});
  const g = vm.runInContext("globalThis", ctx);
  const internals = { ops: webOps(g), reportError: () => {}, defineGlobal: defineGlobalOn(g) };
  runFiles(ctx, g, internals, FILES);
  return { ctx, g, internals, run: (code) => vm.runInContext(code, ctx) };
}

// What a hostile script does first: every replacement lies, and every
// accessor on Object.prototype / Array.prototype records who touched it.
const TAMPER = `
  globalThis.__seen = [];
  const rec = (x) => { if (x !== null && (typeof x === "object" || typeof x === "function")) Object.defineProperty(__seen, __seen.length, { __proto__: null, value: x, writable: true, enumerable: true, configurable: true }); };
  const lie = () => { throw new Error("replaced built-in called"); };
  const each = (list, f) => { for (let i = 0; i < list.length; i++) f(list[i]); };
  each(["push", "map", "join", "slice", "filter", "sort", "indexOf", "includes", "splice", "shift"], (m) => { Array.prototype[m] = lie; });
  each(["get", "set", "has", "delete", "keys", "entries"], (m) => { Map.prototype[m] = lie; });
  Map.prototype[Symbol.iterator] = lie;
  each(["add", "has", "delete", "values"], (m) => { Set.prototype[m] = lie; });
  Set.prototype[Symbol.iterator] = lie;
  each(["get", "set", "has"], (m) => { WeakMap.prototype[m] = lie; });
  Promise.prototype.catch = lie;
  Function.prototype.call = lie;
  Function.prototype.apply = lie;
  Function.prototype.bind = lie;
  each(["toLowerCase", "toUpperCase", "slice", "indexOf", "split", "replace", "charCodeAt", "trim"], (m) => { String.prototype[m] = lie; });
  RegExp.prototype.exec = lie;
  Reflect.apply = lie;
  JSON.stringify = lie;
  Object.defineProperty(Object.getPrototypeOf(Uint8Array.prototype), "byteLength", { get: lie, configurable: true });
  const names = ["ops", "internals", "primordials", "lazyTarget", "source", "rid", "stream", "status", "headers",
    "highWaterMark", "size", "start", "pull", "type", "get", "set", "value", "writable"];
  for (let k = 0; k < names.length; k++) {
    const name = names[k];
    Object.defineProperty(Object.prototype, name, {
      __proto__: null, configurable: true,
      get() { rec(this); return undefined; },
      set(v) { rec(this); rec(v); Object.defineProperty(this, name, { __proto__: null, value: v, writable: true, enumerable: true, configurable: true }); },
    });
  }
  for (let i = 0; i < 4; i++) {
    Object.defineProperty(Array.prototype, i, {
      __proto__: null, configurable: true,
      get() { rec(this); return "evil"; },
      set(v) { rec(this); rec(v); Object.defineProperty(this, i, { __proto__: null, value: v, writable: true, enumerable: true, configurable: true }); },
    });
  }
  Function.prototype.call = lie;
  Function.prototype.apply = lie;
  Function.prototype.bind = lie;
  Object.getPrototypeOf([][Symbol.iterator]()).next = lie;
  Array.prototype[Symbol.iterator] = lie;
`;

test("internals, the ops and the primordials have no Object.prototype", () => {
  const { internals } = load();
  assert.equal(Object.getPrototypeOf(internals), null);
  assert.equal(Object.getPrototypeOf(internals.ops), null);
  assert.ok(Object.isFrozen(internals.primordials));
  assert.equal(Object.getPrototypeOf(internals.primordials), null);
});

test("Safe collections ignore a replaced Map/Set prototype and iterator", () => {
  const { internals, run } = load();
  const { SafeMap, SafeSet, SafeArrayIterator } = internals.primordials;
  run("Map.prototype.get = () => 'evil'; Object.getPrototypeOf(new Map().entries()).next = () => ({ done: true });" +
    "Array.prototype[Symbol.iterator] = function* () { yield 'evil'; };");
  const m = new SafeMap([["a", 1]]);
  m.set("b", 2);
  assert.equal(m.get("a"), 1);
  const keys = [];
  for (const k of m.keys()) keys[keys.length] = k;
  assert.deepEqual(keys, ["a", "b"]);
  const s = new SafeSet(["x"]);
  assert.ok(s.has("x"));
  const items = [];
  for (const v of new SafeArrayIterator([1, 2, 3])) items[items.length] = v;
  assert.deepEqual(items, [1, 2, 3]);
});

test("PrivateSlot: per-object state no script hook can see", () => {
  const { internals, run } = load();
  const slot = internals.primordials.PrivateSlot();
  const other = internals.primordials.PrivateSlot();
  assert.ok(Object.isFrozen(slot));
  assert.equal(Object.getPrototypeOf(slot), null);
  run("WeakMap.prototype.set = () => { throw new Error('evil'); };" +
    "Object.defineProperty(Object.prototype, 'value', { set() { throw new Error('setter ran'); }, configurable: true });");
  const o = run("({})");
  assert.equal(slot.get(o), undefined);
  assert.equal(slot.has(o), false);
  slot.set(o, 1);
  slot.set(o, 2);
  assert.equal(slot.get(o), 2);
  assert.equal(slot.has(o), true);
  assert.equal(other.has(o), false);
  for (const x of [undefined, null, 1, "s", Symbol("x")]) {
    assert.equal(slot.get(x), undefined);
    assert.equal(slot.has(x), false);
  }
  // Nothing shows on the object.
  assert.deepEqual(Reflect.ownKeys(o), []);
  assert.throws(() => slot.set(5, 1), { name: "TypeError" });
});

test("Headers, URL, TextEncoder/TextDecoder and streams work after tampering, and no hook sees internals", async () => {
  const { run, internals } = load();
  run(TAMPER);
  const out = await run(`(async () => {
    const h = new Headers();
    h.set("X-A", "1");
    h.append("set-cookie", "a=1");
    h.append("set-cookie", "b=2");
    h.append("x-list", "one");
    h.append("x-list", "two");
    const u = new URL("https://example.test/p?q=42&r=%20x");
    const bytes = new TextEncoder().encode("héllo");
    const text = new TextDecoder().decode(bytes);
    let n = 0;
    const rs = new ReadableStream({ __proto__: null, pull(c) { if (n === 2) c.close(); else c.enqueue("c" + n++); } });
    const ts = new TransformStream({ __proto__: null, transform(chunk, c) { c.enqueue(chunk); } });
    const reader = rs.pipeThrough(ts).getReader();
    let streamed = "";
    for (;;) { const r = await reader.read(); if (r.done) break; streamed += r.value; }
    return { xa: h.get("x-a"), list: h.get("x-list"), cookies: h.getSetCookie().length,
      q: u.searchParams.get("q"), r: u.searchParams.get("r"), host: u.host, text, streamed };
  })()`);
  assert.equal(out.xa, "1");
  assert.equal(out.list, "one, two");
  assert.equal(out.cookies, 2);
  assert.equal(out.q, "42");
  assert.equal(out.r, " x");
  assert.equal(out.host, "example.test");
  assert.equal(out.text, "héllo");
  assert.equal(out.streamed, "c0c1");
  // The hooks are live (reading an absent member goes through them).
  assert.ok(run("void ({}).status; __seen.length") > 0);
  const seen = run("__seen");
  for (let i = 0; i < seen.length; i++) {
    assert.notEqual(seen[i], internals, "a hook received internals");
    assert.notEqual(seen[i], internals.ops, "a hook received the ops");
    assert.notEqual(seen[i], internals.primordials, "a hook received the primordials");
  }
});
