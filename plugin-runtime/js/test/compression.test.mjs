// Tests for 22_compression.js with its ops stubbed by node:zlib (the codec
// buffers its input and works on finish; the real one streams).
// Run: node --test plugin-runtime/js/test/compression.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const read = (f) => fs.readFileSync(path.join(here, "..", f), "utf8");

function load() {
  const ctx = vm.createContext({ queueMicrotask, setTimeout, clearTimeout, TextEncoder, TextDecoder });
  const g = vm.runInContext("globalThis", ctx);
  const codecs = new Map();
  let next = 1;
  const freed = [];
  const codec = {
    gzip: [zlib.gzipSync, zlib.gunzipSync],
    deflate: [zlib.deflateSync, zlib.inflateSync],
    "deflate-raw": [zlib.deflateRawSync, zlib.inflateRawSync],
  };
  const u8 = (b) => new g.Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const ops = {
    compressionNew(format, decompress) {
      if (!codec[format]) {
        throw new g.TypeError("The compression format must be either 'deflate', 'deflate-raw' or 'gzip'.");
      }
      const id = next++;
      codecs.set(id, { fn: codec[format][decompress ? 1 : 0], parts: [] });
      return id;
    },
    compressionPush(id, bytes) {
      if (!(bytes instanceof g.Uint8Array)) throw new g.TypeError("This WritableStream only supports writing byte types.");
      codecs.get(id).parts.push(Buffer.from(bytes));
      return new g.Uint8Array(0);
    },
    compressionFinish(id) {
      const c = codecs.get(id);
      codecs.delete(id);
      try {
        return u8(c.fn(Buffer.concat(c.parts)));
      } catch {
        throw new g.TypeError("Decompression failed.");
      }
    },
    compressionFree(id) {
      freed.push(id);
      codecs.delete(id);
    },
  };
  const internals = {
    ops,
    defineGlobal(name, v) {
      Object.defineProperty(g, name, { value: v, writable: true, configurable: true, enumerable: false });
    },
  };
  vm.runInContext(read("00_primordials.js"), ctx, { filename: "00_primordials.js" })(g, internals);
  // As 95_lazy.js has them: 20_streams.js, loaded by 22_compression.js.
  vm.runInContext(read("19_pristine.js"), ctx, { filename: "19_pristine.js" })(g, internals);
  internals.webClassShape = () => {};
  internals.loadStreams = () => {
    if (!internals.streams) vm.runInContext(read("20_streams.js"), ctx, { filename: "20_streams.js" })(g, internals);
    return internals.streams;
  };
  vm.runInContext(read("22_compression.js"), ctx, { filename: "22_compression.js" })(g, internals);
  return { g, codecs, freed };
}

async function pump(ts, chunks) {
  const writer = ts.writable.getWriter();
  const reader = ts.readable.getReader();
  const out = [];
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      out.push(Buffer.from(value));
    }
  })();
  reading.catch(() => {});
  for (const c of chunks) await writer.write(c);
  await writer.close();
  await reading;
  return Buffer.concat(out);
}

test("CompressionStream is a TransformStream with its own toStringTag", () => {
  const { g } = load();
  const cs = new g.CompressionStream("gzip");
  assert.ok(cs instanceof g.TransformStream);
  assert.equal(Object.prototype.toString.call(cs), "[object CompressionStream]");
  assert.equal(Object.prototype.toString.call(new g.DecompressionStream("deflate")), "[object DecompressionStream]");
  assert.throws(() => new g.CompressionStream("brotli"), (e) => e instanceof g.TypeError);
  assert.throws(() => new g.DecompressionStream(), (e) => e instanceof g.TypeError);
});

test("round trip through the stubbed codec, BufferSource chunks of every kind", async () => {
  const { g, codecs } = load();
  const data = Buffer.from("hello ".repeat(50));
  const chunks = [
    new g.Uint8Array(data.subarray(0, 100)),
    new g.DataView(new g.Uint8Array(data.subarray(100, 200)).buffer),
    new g.Uint8Array(data.subarray(200)).buffer,
  ];
  const packed = await pump(new g.CompressionStream("deflate"), chunks);
  assert.deepEqual(zlib.inflateSync(packed), data);
  const back = await pump(new g.DecompressionStream("deflate"), [new g.Uint8Array(packed)]);
  assert.deepEqual(back, data);
  assert.equal(codecs.size, 0, "codecs are released when the stream finishes");
});

test("a non-BufferSource chunk is a TypeError and errors the stream", async () => {
  const { g, codecs, freed } = load();
  const cs = new g.CompressionStream("gzip");
  const writer = cs.writable.getWriter();
  const read = cs.readable.getReader().read();
  await assert.rejects(writer.write("text"), (e) => e instanceof g.TypeError && /byte types/.test(e.message));
  await assert.rejects(read, (e) => e instanceof g.TypeError);
  assert.equal(freed.length, 1, "the codec is freed when the stream errors");
  assert.equal(codecs.size, 0);
});

test("a codec error rejects close() and the reader with a TypeError", async () => {
  const { g } = load();
  await assert.rejects(pump(new g.DecompressionStream("gzip"), [new g.Uint8Array([1, 2, 3])]),
    (e) => e instanceof g.TypeError && e.message === "Decompression failed.");
});

test("cancelling the readable frees the codec", async () => {
  const { g, codecs, freed } = load();
  const ds = new g.DecompressionStream("gzip");
  await ds.readable.cancel("bye");
  assert.equal(codecs.size, 0);
  assert.equal(freed.length, 1);
  await assert.rejects(ds.writable.getWriter().write(new g.Uint8Array([1])));
  assert.equal(freed.length, 1, "freed once");
});
