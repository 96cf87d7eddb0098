import { test, assert, assertEquals, assertThrows, assertRejects, suite } from "./harness.js";

// Made with Python: gzip.compress(b"hello, isoproxy! " * 3, mtime=0),
// zlib.compress(b"deflate me"), and a raw deflate of b"raw deflate".
const GZIP = new Uint8Array([31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 215, 81, 200, 44, 206, 47, 40,
  202, 175, 168, 84, 84, 200, 32, 40, 0, 0, 104, 110, 40, 60, 51, 0, 0, 0]);
const ZLIB = new Uint8Array([120, 156, 75, 73, 77, 203, 73, 44, 73, 85, 200, 77, 5, 0, 21, 96, 3, 200]);
const RAW = new Uint8Array([43, 74, 44, 87, 72, 73, 77, 203, 73, 44, 73, 5, 0]);

/** Writes `chunks` through `ts` and collects every output chunk. */
async function pump(ts, chunks) {
  const writer = ts.writable.getWriter();
  const out = [];
  const reading = (async () => {
    const reader = ts.readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      out.push(value);
    }
  })();
  for (const c of chunks) await writer.write(c);
  await writer.close();
  await reading;
  return out;
}

function concat(chunks) {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

const text = (chunks) => new TextDecoder().decode(concat(chunks));

test("classes, toStringTag and instanceof", () => {
  const cs = new CompressionStream("gzip");
  assert(cs instanceof TransformStream, "a TransformStream, as in workerd");
  assertEquals(Object.prototype.toString.call(cs), "[object CompressionStream]");
  assertEquals(Object.prototype.toString.call(new DecompressionStream("deflate")), "[object DecompressionStream]");
  assert(cs.readable instanceof ReadableStream && cs.writable instanceof WritableStream);
});

test("unknown formats throw TypeError", () => {
  for (const f of ["GZIP", "br", "zstd", "", undefined]) {
    assertThrows(() => new CompressionStream(f), TypeError, "The compression format must be either");
    assertThrows(() => new DecompressionStream(f), TypeError, "The compression format must be either");
  }
  assertThrows(() => new CompressionStream(), TypeError);
});

test("decompresses bytes made by Python's gzip/zlib", async () => {
  assertEquals(text(await pump(new DecompressionStream("gzip"), [GZIP])), "hello, isoproxy! ".repeat(3));
  assertEquals(text(await pump(new DecompressionStream("deflate"), [ZLIB])), "deflate me");
  assertEquals(text(await pump(new DecompressionStream("deflate-raw"), [RAW])), "raw deflate");
});

test("decompression across chunk boundaries (one byte at a time)", async () => {
  const chunks = [...GZIP].map((b) => new Uint8Array([b]));
  assertEquals(text(await pump(new DecompressionStream("gzip"), chunks)), "hello, isoproxy! ".repeat(3));
  // ArrayBuffer and DataView chunks are BufferSources too.
  const half = GZIP.byteLength >> 1;
  const parts = [GZIP.slice(0, half).buffer, new DataView(GZIP.slice(half).buffer)];
  assertEquals(text(await pump(new DecompressionStream("gzip"), parts)), "hello, isoproxy! ".repeat(3));
});

test("round trip of every format, large and in many chunks", async () => {
  const data = new Uint8Array(300000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 10)) & 0xff;
  for (const f of ["gzip", "deflate", "deflate-raw"]) {
    const chunks = [];
    for (let i = 0; i < data.length; i += 10000) chunks.push(data.subarray(i, i + 10000));
    const packed = concat(await pump(new CompressionStream(f), chunks));
    assert(packed.byteLength < data.byteLength, `${f} compresses`);
    const pieces = [];
    for (let i = 0; i < packed.length; i += 777) pieces.push(packed.subarray(i, i + 777));
    const back = concat(await pump(new DecompressionStream(f), pieces));
    assertEquals(back.byteLength, data.byteLength, f);
    assert(back.every((b, i) => b === data[i]), `${f} round trip`);
  }
  const empty = concat(await pump(new CompressionStream("gzip"), []));
  assertEquals(empty[0], 0x1f);
  assertEquals(concat(await pump(new DecompressionStream("gzip"), [empty])).byteLength, 0);
});

test("gzip output is readable by the gzip format (header bytes)", async () => {
  const out = concat(await pump(new CompressionStream("gzip"), [new TextEncoder().encode("x")]));
  assertEquals([out[0], out[1], out[2]], [0x1f, 0x8b, 8]);
});

test("pipeThrough with Response bodies", async () => {
  const body = new Response("stream me ".repeat(100)).body.pipeThrough(new CompressionStream("gzip"));
  const unpacked = new Response(body).body.pipeThrough(new DecompressionStream("gzip"));
  assertEquals(await new Response(unpacked).text(), "stream me ".repeat(100));
});

test("non-BufferSource chunks are a TypeError", async () => {
  for (const bad of ["string", 42, { length: 1 }, null]) {
    const cs = new CompressionStream("gzip");
    const writer = cs.writable.getWriter();
    cs.readable.getReader().read().catch(() => {});
    await assertRejects(() => writer.write(bad), TypeError);
  }
});

test("corrupt data errors the stream with TypeError", async () => {
  await assertRejects(() => pump(new DecompressionStream("gzip"), [new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])]),
    TypeError, "Decompression failed.");
  await assertRejects(() => pump(new DecompressionStream("deflate"), [GZIP]), TypeError, "Decompression failed.");
});

test("trailing garbage errors the stream", async () => {
  const extra = concat([GZIP, new Uint8Array([0xff])]);
  await assertRejects(() => pump(new DecompressionStream("gzip"), [extra]), TypeError,
    "Trailing bytes after end of compressed data");
  await assertRejects(() => pump(new DecompressionStream("gzip"), [GZIP, new Uint8Array([0])]), TypeError,
    "Trailing bytes after end of compressed data");
  // Concatenated gzip members are rejected as in workerd.
  await assertRejects(() => pump(new DecompressionStream("gzip"), [concat([GZIP, GZIP])]), TypeError, "Trailing");
});

test("truncated input errors on close", async () => {
  await assertRejects(() => pump(new DecompressionStream("gzip"), [GZIP.subarray(0, GZIP.length - 4)]), TypeError,
    "Called close() on a decompression stream with incomplete data");
  await assertRejects(() => pump(new DecompressionStream("deflate"), []), TypeError, "incomplete data");
});

test("the readable side errors too", async () => {
  const ds = new DecompressionStream("gzip");
  const reader = ds.readable.getReader();
  const writer = ds.writable.getWriter();
  writer.write(new Uint8Array([9, 9, 9])).catch(() => {});
  await assertRejects(() => reader.read(), TypeError, "Decompression failed.");
});

test("cancel frees the codec and later use fails cleanly", async () => {
  const cs = new CompressionStream("deflate");
  await cs.readable.cancel("stop");
  const err = await cs.writable.getWriter().write(new Uint8Array([1])).then(() => null, (e) => e);
  assertEquals(err, "stop", "the writable is errored with the cancel reason");
});

export default suite();
