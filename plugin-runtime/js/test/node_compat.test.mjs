// node: modules (js/node/*.js) against Node.js itself.
// Run: node --test plugin-runtime/js/test/node_compat.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { fileURLToPath } from "node:url";
import { EventEmitter as NodeEmitter } from "node:events";
import nodePath from "node:path";
import util from "node:util";

const here = path.dirname(fileURLToPath(import.meta.url));
const FILES = ["00_core.js", "node/buffer.js", "node/events.js", "node/util.js", "node/path.js", "node/assert.js"];

function load() {
  const ctx = vm.createContext({ TextEncoder, TextDecoder, queueMicrotask });
  const logs = [];
  const internals = {
    ops: { log: (level, msg) => logs.push([level, msg]) },
    compat: { date: "9999-12-31", flags: { nodeJsCompat: true, nodeJsCompatV2: true, globalNavigator: true } },
  };
  const g = vm.runInContext("globalThis", ctx);
  for (const f of ["00_primordials.js", ...FILES]) {
    const src = fs.readFileSync(path.join(here, "..", f), "utf8");
    vm.runInContext(src, ctx, { filename: f })(g, internals);
  }
  return { ctx, internals, logs, g };
}
const { ctx, internals, logs, g } = load();
const B = internals.node.buffer.Buffer;
const hex = (b) => Buffer.from(b).toString("hex");

test("Buffer encodes and decodes as node's", () => {
  const strings = ["", "hello", "héllo wörld €😀", "\u0000\u00ff\u0100", "lone \ud800 surrogate", "a".repeat(1000)];
  const encodings = ["utf8", "hex", "base64", "base64url", "latin1", "binary", "ascii", "utf16le", "ucs2"];
  for (const s of strings) {
    for (const enc of encodings) {
      const ours = B.from(s, enc);
      const theirs = Buffer.from(s, enc);
      assert.equal(hex(ours), theirs.toString("hex"), `from(${JSON.stringify(s.slice(0, 20))}, ${enc})`);
      const bytes = Buffer.from(s);
      assert.equal(B.from(bytes).toString(enc), bytes.toString(enc), `toString(${enc})`);
      assert.equal(B.byteLength(s, enc), Buffer.byteLength(s, enc), `byteLength ${enc}`);
    }
  }
  for (const junk of ["aGVsbG8", "aGV sbG8=\n", "a-_b", "zz", "abc", "6g6"]) {
    for (const enc of ["base64", "base64url", "hex"]) {
      assert.equal(hex(B.from(junk, enc)), Buffer.from(junk, enc).toString("hex"), `${junk} ${enc}`);
    }
  }
});

test("Buffer methods behave as node's", () => {
  const pairs = [
    ["alloc(5, 'abc')", (X) => X.alloc(5, "abc")],
    ["alloc(4, 'aGk=', 'base64')", (X) => X.alloc(4, "aGk=", "base64")],
    ["concat", (X) => X.concat([X.from("ab"), X.from("cd")], 3)],
    ["fill range", (X) => X.alloc(6).fill("xy", 1, 5)],
    ["write partial utf8", (X) => { const b = X.alloc(4); b.write("a€b", 0); return b; }],
    ["write offset/len/enc", (X) => { const b = X.alloc(6); b.write("ffee", 2, 1, "hex"); return b; }],
    ["subarray negative", (X) => X.from("hello").subarray(-3, -1)],
    ["swap16", (X) => X.from([1, 2, 3, 4]).swap16()],
    ["writeUIntLE 6", (X) => { const b = X.alloc(6); b.writeUIntLE(0x123456789abc, 0, 6); return b; }],
    ["writeIntBE -1", (X) => { const b = X.alloc(3); b.writeIntBE(-1, 0, 3); return b; }],
    ["writeFloatBE", (X) => { const b = X.alloc(4); b.writeFloatBE(1.5); return b; }],
  ];
  for (const [name, f] of pairs) assert.equal(hex(f(B)), f(Buffer).toString("hex"), name);
  const s = "abcabc";
  for (const args of [["b"], ["b", 2], ["c", -1], ["x"], ["", 3], [98], ["bc", "latin1"]]) {
    assert.equal(B.from(s).indexOf(...args), Buffer.from(s).indexOf(...args), `indexOf ${args}`);
    assert.equal(B.from(s).lastIndexOf(...args), Buffer.from(s).lastIndexOf(...args), `lastIndexOf ${args}`);
  }
  const data = [0x80, 1, 2, 0xff, 0xfe, 5, 6, 7, 8];
  for (const m of ["readUInt8", "readInt8", "readUInt16LE", "readInt16BE", "readUInt32BE", "readInt32LE", "readFloatLE", "readDoubleBE", "readBigUInt64LE", "readBigInt64BE"]) {
    assert.equal(B.from(data)[m](1), Buffer.from(data)[m](1), m);
  }
  assert.equal(B.from(data).readIntBE(2, 5), Buffer.from(data).readIntBE(2, 5));
  assert.equal(B.compare(B.from("a"), B.from("ab")), Buffer.compare(Buffer.from("a"), Buffer.from("ab")));
  assert.equal(B.from("abc").compare(B.from("xabcx"), 1, 4), 0);
  assert.deepEqual(JSON.parse(JSON.stringify(B.from("hi"))), Buffer.from("hi").toJSON());
  assert.equal(internals.inspect(B.from("hello")), "<Buffer 68 65 6c 6c 6f>");
  assert.equal(internals.inspect(B.alloc(60)), util.inspect(Buffer.alloc(60)));
});

test("Buffer errors carry node's codes and messages", () => {
  const cases = [
    [() => B.alloc(-1), () => Buffer.alloc(-1)],
    [() => B.from(5), () => Buffer.from(5)],
    [() => B.from("x", "bogus"), () => Buffer.from("x", "bogus")],
    [() => B.alloc(2).readUInt32LE(0), () => Buffer.alloc(2).readUInt32LE(0)],
    [() => B.alloc(4).readUInt16LE(3), () => Buffer.alloc(4).readUInt16LE(3)],
    [() => B.alloc(4).writeUInt16LE(70000), () => Buffer.alloc(4).writeUInt16LE(70000)],
    [() => B.alloc(4).writeInt8(-129), () => Buffer.alloc(4).writeInt8(-129)],
    [() => B.alloc(4).readUIntLE(0, 7), () => Buffer.alloc(4).readUIntLE(0, 7)],
  ];
  for (const [ours, theirs] of cases) {
    let a;
    let b;
    try { ours(); } catch (e) { a = e; }
    try { theirs(); } catch (e) { b = e; }
    assert.ok(a && b, String(theirs));
    assert.equal(a.message, b.message, String(theirs));
    assert.equal(a.code, b.code);
    assert.equal(a.name, b.name);
  }
});

test("EventEmitter matches node's listener order and errors", () => {
  const run = (E) => {
    const e = new E();
    const out = [];
    e.on("newListener", (n) => out.push(`new:${String(n)}`));
    const l = (x) => out.push(`l${x}`);
    e.on("a", l);
    e.prependOnceListener("a", (x) => out.push(`p${x}`));
    e.emit("a", 1);
    e.emit("a", 2);
    out.push(e.listenerCount("a"), e.rawListeners("a").length, e.eventNames().map(String).join());
    e.removeListener("a", l);
    out.push(e.emit("a"));
    try {
      e.emit("error", { code: 1 });
    } catch (err) {
      out.push(err.message, err.code);
    }
    return out;
  };
  assert.deepEqual(run(internals.node.events), run(NodeEmitter));
});

test("path matches node's posix path", () => {
  const P = internals.node.path;
  const calls = [
    ["join", "/a/b", "../c", "d/"], ["join", ""], ["join", "a", "", "b"], ["normalize", "a//b/../c/."], ["normalize", "/.."],
    ["normalize", "./"], ["resolve", "/a", "b", "../c"], ["resolve", "/", ""], ["dirname", "/a/b/"], ["dirname", "a"],
    ["dirname", "/a"], ["basename", "/a/b.js", ".js"], ["basename", "/a/b/"], ["extname", ".bashrc"], ["extname", "a.b."],
    ["relative", "/a/b", "/a/b/c/d"], ["relative", "/a/b/c", "/x"], ["isAbsolute", "a/b"], ["parse", "/x/y.tar.gz"],
    ["parse", "name"], ["format", { dir: "/a", name: "b", ext: ".c" }], ["format", { root: "/", base: "f" }],
  ];
  for (const [fn, ...args] of calls) {
    assert.equal(JSON.stringify(P[fn](...args)), JSON.stringify(nodePath.posix[fn](...args)), `${fn}(${JSON.stringify(args)})`);
  }
});

test("util.format and types", () => {
  const U = internals.node.util;
  assert.equal(U.format("%s:%i", "n", 4.7), "n:4");
  assert.ok(U.types.isUint8Array(new g.Uint8Array(1)));
  assert.ok(!U.types.isUint8Array(new g.Uint16Array(1)));
  assert.ok(U.isDeepStrictEqual(vm.runInContext("({ a: new Map([[1, { b: [2] }]]) })", ctx), vm.runInContext("({ a: new Map([[1, { b: [2] }]]) })", ctx)));
  void logs;
});
