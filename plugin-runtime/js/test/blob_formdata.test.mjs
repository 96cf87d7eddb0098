// Tests for 25_blob_formdata.js (Blob, File, FormData, multipart parsing)
// and its use as a body in 30_fetch.js.
// Run: node --test plugin-runtime/js/test/blob_formdata.test.mjs
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const FILES = [
  "10_webidl_events.js", "11_headers.js", "12_url.js", "13_encoding.js", "20_streams.js",
  "25_blob_formdata.js", "30_fetch.js",
];

function components(u) {
  return [u.href, u.protocol, u.username, u.password, u.host, u.hostname, u.port,
    u.pathname, u.search, u.hash, u.origin];
}

// A fresh context with the files loaded; ops are stubbed with Node's own
// URL / TextEncoder / TextDecoder.
function load() {
  const ctx = vm.createContext({ queueMicrotask, setTimeout, clearTimeout });
  const g = vm.runInContext("globalThis", ctx);
  let nextId = 1;
  const decoders = new Map();
  const ops = {
    urlParse(input, base) {
      try {
        return components(new URL(input, base));
      } catch {
        return null;
      }
    },
    urlSet(href, setter, value) {
      const u = new URL(href);
      u[setter] = value;
      return components(u);
    },
    encodeUtf8(s) {
      const b = new TextEncoder().encode(s);
      return new g.Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    encodeUtf8Into(s, u8) {
      const r = new TextEncoder().encodeInto(s, u8);
      return [r.read, r.written];
    },
    encodingForLabel(label) {
      try {
        return new TextDecoder(label).encoding;
      } catch {
        return null;
      }
    },
    decoderNew(name, fatal, ignoreBOM) {
      const id = nextId++;
      decoders.set(id, new TextDecoder(name, { fatal, ignoreBOM }));
      return id;
    },
    decoderDecode(id, bytes, stream) {
      try {
        return decoders.get(id).decode(bytes, { stream });
      } catch {
        throw new g.TypeError("The encoded data was not valid.");
      }
    },
    decoderFree(id) {
      decoders.delete(id);
    },
  };
  const internals = {
    ops,
    reportError: () => {},
    defineGlobal(name, value) {
      Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
    },
  };
  for (const f of FILES) {
    const src = fs.readFileSync(path.join(here, "..", f), "utf8");
    vm.runInContext(src, ctx, { filename: f })(g, internals);
  }
  return { g, internals, run: (code) => vm.runInContext(code, ctx) };
}

const { g, internals, run } = load();
const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);

async function rejectsKind(p, name, message) {
  let err;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `expected ${name}`);
  assert.equal(err.name, name, `got ${err && err.name}: ${err && err.message}`);
  if (message instanceof RegExp) assert.match(err.message, message);
  else if (message !== undefined) assert.equal(err.message, message);
  return err;
}
function throwsKind(fn, name, message) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `expected ${name}`);
  assert.equal(err.name, name, `got ${err && err.name}: ${err && err.message}`);
  if (message instanceof RegExp) assert.match(err.message, message);
  else if (message !== undefined) assert.equal(err.message, message);
  return err;
}

describe("Blob", () => {
  test("globals, toStringTag, enumerable members", () => {
    for (const name of ["Blob", "File", "FormData"]) {
      const d = Object.getOwnPropertyDescriptor(g, name);
      assert.ok(d && !d.enumerable, name);
    }
    assert.equal(run("Object.prototype.toString.call(new Blob())"), "[object Blob]");
    assert.equal(run("Object.prototype.toString.call(new File([], 'a'))"), "[object File]");
    assert.equal(run("Object.prototype.toString.call(new FormData())"), "[object FormData]");
    assert.ok(run("new File([], 'a') instanceof Blob"));
    const keys = run("(() => { const k = []; for (const x in new Blob()) k.push(x); return k; })()");
    assert.deepEqual([...keys].sort(), ["arrayBuffer", "bytes", "size", "slice", "stream", "text", "type"]);
  });

  test("parts: strings, buffers, views, blobs", async () => {
    const b = new g.Blob(["ab", new Uint8Array([99]), new Uint16Array([0x6564]).buffer,
      new DataView(new Uint8Array([102]).buffer), new g.Blob(["g"])]);
    assert.equal(b.size, 7);
    assert.equal(await b.text(), "abcdefg");
    assert.equal(b.type, "");
    // Lone surrogates become U+FFFD; other objects are stringified.
    assert.equal(await new g.Blob(["\ud800", 1, { toString: () => "x" }]).text(), "\ufffd1x");
    assert.deepEqual([...(await new g.Blob(["\ud800"]).bytes())], [0xef, 0xbf, 0xbd]);
  });

  test("parts are copied at construction", async () => {
    const u = new Uint8Array([1, 2, 3]);
    const b = new g.Blob([u]);
    u[0] = 9;
    assert.deepEqual([...(await b.bytes())], [1, 2, 3]);
    const ab = await b.arrayBuffer();
    new Uint8Array(ab)[1] = 9;
    assert.deepEqual([...(await b.bytes())], [1, 2, 3]);
  });

  test("bad arguments", () => {
    throwsKind(() => new g.Blob("abc"), "TypeError", /cannot be converted to a sequence/);
    throwsKind(() => new g.Blob({}), "TypeError", /callable @@iterator/);
    throwsKind(() => new g.Blob([], 5), "TypeError");
    throwsKind(() => new g.Blob([Symbol("s")]), "TypeError");
    throwsKind(() => new g.Blob([], { endings: "bogus" }), "TypeError", /EndingType/);
    throwsKind(() => g.Blob(), "TypeError");
    throwsKind(() => g.Blob.prototype.size, "TypeError", "Illegal invocation");
  });

  test("type is lowercased, dropped if not printable ASCII", () => {
    assert.equal(new g.Blob([], { type: "Text/HTML;Charset=UTF-8" }).type, "text/html;charset=utf-8");
    assert.equal(new g.Blob([], { type: "a\u0001b" }).type, "");
    assert.equal(new g.Blob([], { type: "\u00e9" }).type, "");
  });

  test("endings: native turns CRLF and CR into LF", async () => {
    assert.equal(await new g.Blob(["a\r\nb\rc\n"], { endings: "native" }).text(), "a\nb\nc\n");
    assert.equal(await new g.Blob(["a\r\nb"], { endings: "transparent" }).text(), "a\r\nb");
  });

  test("slice with negative and out of range indices", async () => {
    const b = new g.Blob(["0123456789"], { type: "text/plain" });
    assert.equal(await b.slice().text(), "0123456789");
    assert.equal(b.slice().type, "");
    assert.equal(await b.slice(2, 5).text(), "234");
    assert.equal(await b.slice(-3).text(), "789");
    assert.equal(await b.slice(-3, -1).text(), "78");
    assert.equal(await b.slice(5, 2).text(), "");
    assert.equal(await b.slice(-100, 100).text(), "0123456789");
    assert.equal(await b.slice(8, 100).slice(1).text(), "9");
    assert.equal(b.slice(0, 1, "A/B").type, "a/b");
    assert.equal(b.slice(NaN, "3").size, 3);
    assert.equal(run("new File(['abc'], 'f').slice(1)").constructor.name, "Blob");
  });

  test("text decodes UTF-8 with replacement", async () => {
    assert.equal(await new g.Blob([new Uint8Array([0x68, 0xff, 0x69])]).text(), "h\ufffdi");
  });

  test("stream() is a byte stream", async () => {
    const data = new Uint8Array(200000).map((_, i) => i & 0xff);
    const b = new g.Blob([data]);
    const reader = b.stream().getReader();
    const chunks = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    assert.ok(chunks.length > 1);
    assert.deepEqual(Buffer.concat(chunks.map((c) => Buffer.from(c))), Buffer.from(data));

    const byob = new g.Blob(["hello"]).stream().getReader({ mode: "byob" });
    let r = await byob.read(new Uint8Array(3));
    assert.equal(dec(r.value), "hel");
    r = await byob.read(new Uint8Array(10));
    assert.equal(dec(r.value), "lo");
    r = await byob.read(new Uint8Array(10));
    assert.equal(r.done, true);

    const empty = await new g.Blob([]).stream().getReader().read();
    assert.equal(empty.done, true);
  });
});

describe("File", () => {
  test("name, lastModified, type", async () => {
    const before = Date.now();
    const f = new g.File(["abc"], "a.txt", { type: "Text/Plain" });
    assert.equal(f.name, "a.txt");
    assert.equal(f.type, "text/plain");
    assert.ok(f.lastModified >= before && f.lastModified <= Date.now());
    assert.equal(new g.File([], "x", { lastModified: 42 }).lastModified, 42);
    assert.equal(await f.text(), "abc");
    assert.equal(new g.File([], 5).name, "5");
  });

  test("needs two arguments", () => {
    throwsKind(() => new g.File([]), "TypeError",
      "Failed to construct 'File': 2 arguments required, but only 1 present.");
    throwsKind(() => g.File.prototype.name, "TypeError", "Illegal invocation");
    throwsKind(() => Object.getOwnPropertyDescriptor(g.File.prototype, "name").get.call(new g.Blob()),
      "TypeError", "Illegal invocation");
  });
});
