// flags: nodejs_compat
// Node.js compatibility under `nodejs_compat` with no compatibility_date
// (so the newest behaviour: nodejs_compat_v2 and process.env population).
import { test, assert, assertEquals, assertThrows, assertRejects, suite } from "./harness.js";
import { Buffer as NodeBuffer, kMaxLength } from "node:buffer";
import bufferModule from "buffer";
import EventEmitter, { once } from "node:events";
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import util, { promisify, callbackify, inspect, format, types } from "node:util";
import process from "node:process";
import path from "node:path";
import assertModule from "node:assert";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { StringDecoder } from "string_decoder";
import nodeConsole from "node:console";

test("v2: Buffer and process are globals; bare specifiers resolve", () => {
  assert(globalThis.Buffer === NodeBuffer);
  assert(globalThis.process === process);
  assert(bufferModule.Buffer === NodeBuffer);
  assertEquals(kMaxLength, 2 ** 32);
});

test("Buffer.from/toString round-trips every encoding", () => {
  const b = Buffer.from("héllo wörld");
  assert(b instanceof Uint8Array && b instanceof Buffer && Buffer.isBuffer(b));
  assertEquals(b.toString(), "héllo wörld");
  assertEquals(b.length, 13);
  assertEquals(Buffer.from("68656c6c6f", "hex").toString(), "hello");
  assertEquals(Buffer.from("hello").toString("hex"), "68656c6c6f");
  assertEquals(Buffer.from("hello").toString("base64"), "aGVsbG8=");
  assertEquals(Buffer.from("aGVsbG8", "base64").toString(), "hello");
  assertEquals(Buffer.from([0xfb, 0xff]).toString("base64url"), "-_8");
  assertEquals(Buffer.from("-_8", "base64url").toString("hex"), "fbff");
  assertEquals(Buffer.from("ÿa", "latin1").toString("hex"), "ff61");
  assertEquals(Buffer.from("ÿa", "binary").toString("latin1"), "ÿa");
  assertEquals(Buffer.from([0xe9, 0x41]).toString("ascii"), "iA");
  assertEquals(Buffer.from("hi", "utf16le").toString("hex"), "68006900");
  assertEquals(Buffer.from("68006900", "hex").toString("ucs2"), "hi");
  assertEquals(Buffer.byteLength("héllo"), 6);
  assertEquals(Buffer.byteLength("aGVsbG8=", "base64"), 5);
  assertThrows(() => Buffer.from("x", "nope"), TypeError, "Unknown encoding: nope");
  assertThrows(() => Buffer.from(5), TypeError, 'The first argument must be of type string');
});

test("Buffer alloc/concat/compare/equals/indexOf/fill/slice", () => {
  assertEquals([...Buffer.alloc(3)], [0, 0, 0]);
  assertEquals(Buffer.alloc(5, "ab").toString(), "ababa");
  assertEquals(Buffer.alloc(3, 7)[2], 7);
  assertEquals(Buffer.allocUnsafe(4).length, 4);
  const c = Buffer.concat([Buffer.from("ab"), new Uint8Array([99]), Buffer.from("d")]);
  assertEquals(c.toString(), "abcd");
  assertEquals(Buffer.concat([Buffer.from("abc")], 2).toString(), "ab");
  assertEquals(Buffer.compare(Buffer.from("a"), Buffer.from("b")), -1);
  assert(Buffer.from("xyz").equals(Buffer.from("xyz")));
  const s = Buffer.from("hello world");
  assertEquals(s.indexOf("o"), 4);
  assertEquals(s.lastIndexOf("o"), 7);
  assertEquals(s.indexOf(Buffer.from("wor")), 6);
  assert(s.includes("world") && !s.includes("xyz"));
  const sub = s.subarray(0, 5);
  assert(sub instanceof Buffer);
  sub[0] = 72;
  assertEquals(s.toString("utf8", 0, 5), "Hello");
  assertEquals(s.slice(-5).toString(), "world");
  const w = Buffer.alloc(6);
  assertEquals(w.write("hé", 1), 3);
  assertEquals(w.toString("hex"), "0068c3a90000");
  assertEquals(JSON.stringify(Buffer.from([1, 2])), '{"type":"Buffer","data":[1,2]}');
  const copy = Buffer.alloc(3);
  assertEquals(Buffer.from("xyz").copy(copy, 1), 2);
  assertEquals(copy.toString("latin1", 1), "xy");
});

test("Buffer reads and writes integers", () => {
  const b = Buffer.alloc(8);
  assertEquals(b.writeUInt16BE(0x1234, 0), 2);
  assertEquals(b.readUInt16LE(0), 0x3412);
  b.writeInt32LE(-2, 2);
  assertEquals(b.readInt32LE(2), -2);
  b.writeBigUInt64BE(2n ** 63n);
  assertEquals(b.readBigUInt64BE(0), 2n ** 63n);
  assertEquals(b.readBigInt64BE(0), -(2n ** 63n));
  b.writeDoubleLE(1.5);
  assertEquals(b.readDoubleLE(), 1.5);
  b.writeUIntBE(0x123456, 0, 3);
  assertEquals(b.readUIntBE(0, 3), 0x123456);
  b.writeIntLE(-5, 0, 6);
  assertEquals(b.readIntLE(0, 6), -5);
  const e = assertThrows(() => b.readUInt32LE(6), RangeError, 'The value of "offset" is out of range. It must be >= 0 and <= 4. Received 6');
  assertEquals(e.code, "ERR_OUT_OF_RANGE");
  assertThrows(() => b.writeUInt8(256), RangeError, "It must be >= 0 and <= 255. Received 256");
});

test("EventEmitter on/once/off/emit/prepend/error semantics", async () => {
  const e = new EventEmitter();
  const seen = [];
  const a = (x) => seen.push(`a${x}`);
  e.on("ev", a);
  e.prependListener("ev", (x) => seen.push(`p${x}`));
  e.once("ev", (x) => seen.push(`o${x}`));
  assertEquals(e.listenerCount("ev"), 3);
  assert(e.emit("ev", 1));
  e.emit("ev", 2);
  assertEquals(seen, ["p1", "a1", "o1", "p2", "a2"]);
  e.off("ev", a);
  assertEquals(e.listenerCount("ev"), 1);
  e.removeAllListeners("ev");
  assert(!e.emit("ev"));
  assertEquals(e.eventNames(), []);
  const boom = new Error("boom");
  assert(assertThrows(() => e.emit("error", boom)) === boom);
  const u = assertThrows(() => e.emit("error", "str"), Error, "Unhandled error. ('str')");
  assertEquals(u.code, "ERR_UNHANDLED_ERROR");
  setTimeout(() => e.emit("ready", 1, 2), 1);
  assertEquals(await once(e, "ready"), [1, 2]);
  setTimeout(() => e.emit("error", boom), 1);
  assert((await assertRejects(() => once(e, "never"))) === boom);
  class Sub extends EventEmitter {}
  const s = new Sub();
  let got;
  s.on("x", function () {
    got = this;
  });
  s.emit("x");
  assert(got === s);
});

test("AsyncLocalStorage flows through await, then, timers and nextTick", async () => {
  const als = new AsyncLocalStorage();
  assertEquals(als.getStore(), undefined);
  const result = await als.run({ id: 1 }, async () => {
    await null;
    const afterAwait = als.getStore().id;
    const inThen = await Promise.resolve().then(() => als.getStore().id);
    const inTimer = await new Promise((r) => setTimeout(() => r(als.getStore().id), 1));
    const inTick = await new Promise((r) => process.nextTick(() => r(als.getStore().id)));
    const inner = als.run({ id: 2 }, () => als.getStore().id);
    const exited = als.exit(() => als.getStore());
    return [afterAwait, inThen, inTimer, inTick, inner, exited, als.getStore().id];
  });
  assertEquals(result, [1, 1, 1, 1, 2, undefined, 1]);
  assertEquals(als.getStore(), undefined);
  const other = new AsyncLocalStorage();
  const both = als.run("a", () => other.run("b", () => [als.getStore(), other.getStore()]));
  assertEquals(both, ["a", "b"]);
  const bound = als.run("snap", () => AsyncLocalStorage.snapshot());
  assertEquals(bound(() => als.getStore()), "snap");
  const resource = als.run("res", () => new AsyncResource("T"));
  assertEquals(resource.runInAsyncScope(() => als.getStore()), "res");
  // fetch() still knows its request inside run().
  const { ORIGIN } = globalThis.__env;
  const status = await als.run("f", async () => (await fetch(`${ORIGIN}/echo/x`)).status);
  assertEquals(status, 200);
});

test("util: format, inspect, promisify, callbackify, types", async () => {
  assertEquals(format("%s=%d %j", "a", 1, { b: 2 }), 'a=1 {"b":2}');
  assertEquals(inspect({ a: [1, { b: new Map([[1, 2]]) }] }), "{ a: [ 1, { b: [Map] } ] }");
  assertEquals(inspect(Buffer.from("hi")), "<Buffer 68 69>");
  const fn = promisify((x, cb) => setTimeout(() => cb(null, x * 2), 1));
  assertEquals(await fn(21), 42);
  const failing = promisify((cb) => cb(new Error("nope")));
  await assertRejects(() => failing(), Error, "nope");
  const cbified = callbackify(async (x) => x + 1);
  assertEquals(await new Promise((r) => cbified(1, (err, v) => r([err, v]))), [null, 2]);
  assert(types.isPromise(Promise.resolve()) && !types.isPromise({ then() {} }));
  assert(types.isUint8Array(Buffer.alloc(1)) && types.isDate(new Date()) && types.isRegExp(/x/));
  assert(types.isAsyncFunction(async () => {}) && types.isMap(new Map()));
  assert(util.isDeepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }));
  assert(!util.isDeepStrictEqual([1], ["1"]));
  function A() {}
  function B() {}
  util.inherits(A, B);
  assert(new A() instanceof B);
  assert(util.TextEncoder === TextEncoder);
});

test("process: env has the string vars, nextTick, version, platform", async () => {
  assertEquals(process.env.NAME, "value");
  assertEquals(process.env.NUM, undefined);
  assertEquals(process.platform, "linux");
  assert(/^v\d+\.\d+\.\d+$/.test(process.version) && process.versions.node === process.version.slice(1));
  const order = [];
  await new Promise((r) => {
    process.nextTick((x) => {
      order.push(x);
      r();
    }, "tick");
    order.push("sync");
  });
  assertEquals(order, ["sync", "tick"]);
  assert(typeof process.on === "function");
});

test("newest date: every method is upper-cased, URLSearchParams takes a value", () => {
  assertEquals(new Request("http://x.test/", { method: "patch" }).method, "PATCH");
  assert(!new URLSearchParams("a=1").has("a", "2"));
});

test("url, timers/promises, string_decoder, console modules", async () => {
  assertEquals(fileURLToPath("file:///a/b%20c.txt"), "/a/b c.txt");
  assertEquals(pathToFileURL("/x y/z").href, "file:///x%20y/z");
  assertEquals(await sleep(1, "v"), "v");
  const ac = new AbortController();
  const p = sleep(10000, "never", { signal: ac.signal });
  ac.abort();
  await assertRejects(() => p, DOMException);
  const d = new StringDecoder("utf8");
  const euro = Buffer.from("€");
  assertEquals(d.write(euro.subarray(0, 1)) + d.write(euro.subarray(1)) + d.end(), "€");
  const b64 = new StringDecoder("base64");
  assertEquals(b64.write(Buffer.from("ab")) + b64.end(Buffer.from("c")), "YWJj");
  assertEquals(typeof nodeConsole.log, "function");
});

test("path and assert", () => {
  assertEquals(path.join("/a/b", "../c", "./d.js"), "/a/c/d.js");
  assertEquals(path.resolve("/x", "y", ".."), "/x");
  assertEquals(path.basename("/a/b.txt", ".txt"), "b");
  assertEquals(path.extname("f.tar.gz"), ".gz");
  assertEquals(path.relative("/a/b/c", "/a/d"), "../../d");
  assertEquals(path.parse("/home/u/f.txt"), { root: "/", dir: "/home/u", base: "f.txt", ext: ".txt", name: "f" });
  assertModule.deepStrictEqual({ a: [1] }, { a: [1] });
  const e = assertThrows(() => assertModule.strictEqual(1, 2), assertModule.AssertionError);
  assertEquals(e.code, "ERR_ASSERTION");
  assertThrows(() => assertModule(false), assertModule.AssertionError);
  assertModule.throws(() => {
    throw new TypeError("t");
  }, TypeError);
});

test("console formats objects as node's util.inspect", () => {
  assertEquals(inspect(new (class Foo { constructor() { this.a = 1; } })()), "Foo { a: 1 }");
  const circ = { name: "c" };
  circ.self = circ;
  assertEquals(inspect(circ), "<ref *1> { name: 'c', self: [Circular *1] }");
  assertEquals(inspect(Promise.resolve(4)), "Promise { 4 }");
  assertEquals(inspect(new Promise(() => {})), "Promise { <pending> }");
  const rejected = Promise.reject(3);
  rejected.catch(() => {});
  assertEquals(inspect(rejected), "Promise { <rejected> 3 }");
  assertEquals(inspect(new Uint8Array(2)), "Uint8Array(2) [ 0, 0 ]");
});

const entry = suite();
export default {
  fetch(request, env, ctx) {
    globalThis.__env = env;
    return entry.fetch(request, env, ctx);
  },
};
