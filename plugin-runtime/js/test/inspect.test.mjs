// console/inspect/format (00_core.js) against Node.js's own util.inspect and
// util.format, which workerd's console output follows.
// Run: node --test plugin-runtime/js/test/inspect.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import util from "node:util";
import vm from "node:vm";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

function load() {
  const ctx = vm.createContext({});
  const logs = [];
  const internals = { ops: { log: (level, msg) => logs.push([level, msg]) } };
  for (const f of ["00_primordials.js", "00_core.js"]) {
    const src = fs.readFileSync(path.join(here, "..", f), "utf8");
    vm.runInContext(src, ctx, { filename: f })(vm.runInContext("globalThis", ctx), internals);
  }
  return { ctx, internals, logs };
}
const { ctx, internals, logs } = load();

// Each expression is evaluated in the context; its inspect output must be
// node's for the same value.
const CASES = [
  "'str'", "'it\\'s'", "'a\"b\\'c'", "'line\\nbreak\\t\\x01'", "-0", "12n", "Symbol('s')", "undefined", "null",
  "({})", "({ a: 1, b: 'two', c: [1, 2, 3] })", "({ 'a-b': 1, [Symbol('k')]: 2, 3: 'x' })",
  "({ a: { b: { c: { d: 1 } } } })", "[[[[1]]]]", "[1, , 3]", "[, , ,]", "new Array(5)",
  "Array.from({ length: 120 }, (_, i) => i)", "Array.from({ length: 30 }, (_, i) => 'item' + i)",
  "Array.from({ length: 10 }, (_, i) => ({ id: i }))",
  "new Map([['a', 1], [{ k: 1 }, [2]]])", "new Set([1, 'two', { three: 3 }])", "new Map()", "new Set()",
  "new Uint8Array([1, 2, 3])", "new Float64Array(2)", "new BigInt64Array(2)", "new ArrayBuffer(3)",
  "new DataView(new ArrayBuffer(2))",
  "new Date(0)", "new Date(NaN)", "/ab+c/gi", "Object.assign(/x/, { y: 1 })",
  "(class Foo {})", "(class Bar extends Array {})", "(function named() {})", "(() => {})", "(async function af() {})",
  "(function* gen() {})", "Object.assign(function f() {}, { prop: 1 })",
  "(() => { class Point { constructor() { this.x = 1; this.y = 2; } } return new Point(); })()",
  "(() => { class Empty {} return new Empty(); })()",
  "Object.create(null)", "Object.assign(Object.create(null), { a: 1 })",
  "({ get g() { return 1; }, set s(v) {}, get gs() { return 1; }, set gs(v) {} })",
  "(() => { const o = { name: 'o' }; o.self = o; return o; })()",
  "(() => { const a = { b: {} }; a.b.a = a; a.c = [a]; return a; })()",
  "new WeakMap()", "new WeakSet()", "new Number(3)", "new String('ab')", "new Boolean(false)",
  "({ [Symbol.toStringTag]: 'Tagged', a: 1 })",
  "(() => { class T { get [Symbol.toStringTag]() { return 'Tg'; } } return new T(); })()",
  "({ long: 'x'.repeat(100) })", "({ s: 'multi\\nline text that is long enough to be split at newlines ok' })",
  "({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10, k: 11, l: 12, m: 13, n: 14, o: 15, p: 16, q: 17, r: 18, s: 19 })",
  "[{ a: 1, b: { c: 2 } }, [1, [2, [3, [4]]]]]",
  "({ nested: { arr: [{ x: 1 }, { y: [1, 2, { z: 3 }] }] } })",
  "(() => { const e = new Error('boom'); e.stack = 'Error: boom\\n    at f (file.js:1:1)'; return e; })()",
  "(() => { const e = new TypeError('bad'); e.stack = 'TypeError: bad\\n    at g (x.js:2:2)'; e.code = 'E_X'; return e; })()",
  "(() => { const e = new Error('nostack'); e.stack = 'Error: nostack'; return e; })()",
  "(() => { class MyErr extends Error {} const e = new MyErr('m'); e.stack = 'Error: m\\n    at h (y.js:3:3)'; return e; })()",
  "(() => { const e = new Error('outer', { cause: 'inner' }); e.stack = 'Error: outer\\n    at a (z.js:1:1)'; return e; })()",
  "({ err: (() => { const e = new RangeError('r'); e.stack = 'RangeError: r\\n    at q (w.js:9:9)'; return e; })() })",
  "[undefined, null, NaN, -0, Infinity]", "({ u: undefined })", "[function x() {}, Symbol.iterator]",
  "Promise.resolve(1).constructor", "new Array(3).fill({ a: [1, 2] })",
];

test("inspect matches node's util.inspect", () => {
  for (const expr of CASES) {
    const value = vm.runInContext(`(${expr})`, ctx);
    assert.equal(internals.inspect(value), util.inspect(value), expr);
  }
});

test("inspect options: depth, compact, breakLength, sorted, customInspect", () => {
  const value = vm.runInContext("({ a: { b: { c: { d: { e: 1 } } } }, z: [1, 2, 3], y: 'y' })", ctx);
  for (const opts of [{ depth: 0 }, { depth: Infinity }, { depth: null }, { breakLength: Infinity }, { breakLength: 20 }, { compact: 1 }, { sorted: true }]) {
    assert.equal(internals.inspect(value, opts), util.inspect(value, opts), JSON.stringify(opts));
  }
  const custom = vm.runInContext("({ [Symbol.for('nodejs.util.inspect.custom')](depth, opts, inspect) { return 'CUSTOM ' + depth; } })", ctx);
  assert.equal(internals.inspect(custom), util.inspect(custom));
  assert.equal(internals.inspect({ inner: custom }), util.inspect({ inner: custom }));
});

test("format matches node's util.format", () => {
  const cases = [
    ["%s is %d years", "Bob", 42], ["%i %f", "42.5", "1.5"], ["%j", { a: [1] }], ["%O", { a: 1 }],
    ["100%", 1], ["%% %s"], ["%s", { a: 1 }], ["%s", [1, 2]], ["%s", new Error("e")], ["%c styled", "color: red"],
    ["a", "b", 1, { c: 2 }], [1, 2], ["%s %s", "only"], ["%d", 10n], ["%s", -0], ["%s", Symbol("q")], ["%x", 1],
  ];
  for (const args of cases) {
    const inCtx = vm.runInContext("(a) => a", ctx)(args);
    assert.equal(internals.format(...inCtx), util.format(...args), util.inspect(args));
  }
});

test("console methods format as node's console does", () => {
  const c = vm.runInContext("console", ctx);
  logs.length = 0;
  c.log("a %s", "b", { x: 1 });
  c.warn("w");
  c.error(new Error("e").message);
  c.debug("d");
  c.assert(1 === 2, "nope %d", 3);
  c.assert(true, "fine");
  c.count();
  c.count();
  c.count("x");
  c.countReset();
  c.count();
  c.group("G");
  c.log("inside\nlines");
  c.group();
  c.info("deeper");
  c.groupEnd();
  c.groupEnd();
  c.log("out");
  assert.deepEqual(logs, [
    [1, "a b { x: 1 }"], [2, "w"], [3, "e"], [0, "d"], [2, "Assertion failed: nope 3"],
    [1, "default: 1"], [1, "default: 2"], [1, "x: 1"], [1, "default: 1"],
    [1, "G"], [1, "  inside\n  lines"], [1, "    deeper"], [1, "out"],
  ]);
});

test("console.table draws node's table", () => {
  const c = vm.runInContext("console", ctx);
  const cases = [
    "[{ a: 1, b: 'Y' }, { a: 'Z', b: 2 }]", "{ r1: { c: 1 }, r2: { d: [1, 2, 3, 4] } }", "[1, 'two', { three: 3 }]",
    "new Map([['k', { v: 1 }]])", "new Set(['s'])",
  ];
  for (const expr of cases) {
    logs.length = 0;
    c.table(vm.runInContext(`(${expr})`, ctx));
    const original = console.log;
    let expected;
    console.log = (s) => (expected = s);
    try {
      console.table(vm.runInContext(`(${expr})`, ctx));
    } finally {
      console.log = original;
    }
    assert.equal(logs[0][1], expected, expr);
  }
});

test("Web API objects show their accessors", () => {
  vm.runInContext(`(() => {
    class Thing { #v = 3; get value() { return this.#v; } get broken() { throw new Error("x"); } method() {} }
    class Sub extends Thing { get extra() { return "e"; } }
    globalThis.__define("Sub", Sub);
  })()`, Object.assign(ctx, { __define: internals.defineGlobal }));
  assert.equal(internals.inspect(vm.runInContext("new Sub()", ctx)), "Sub { extra: 'e', value: 3 }");
  assert.equal(internals.inspect(vm.runInContext("new (class Plain { get g() { return 1; } })()", ctx)), "Plain {}");
});
