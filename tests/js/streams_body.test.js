// ReadableStream as bodies: reading bodies chunk by chunk, bodies from
// streams the script builds, TransformStreams in between.
import { test, assert, assertEquals, assertThrows, assertRejects, suite } from "./harness.js";

const enc = (s) => new TextEncoder().encode(s);
const pattern = (n) => Uint8Array.from({ length: n }, (_, i) => i % 251);

function checkPattern(bytes, offset = 0) {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== (offset + i) % 251) throw new Error(`byte ${offset + i} is ${bytes[i]}`);
  }
}

test("a fetched body read chunk by chunk with a reader", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/bytes/300000`);
  assertEquals(res.headers.get("content-length"), "300000");
  const reader = res.body.getReader();
  let total = 0;
  let chunks = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    assert(value instanceof Uint8Array, "chunks are Uint8Array");
    checkPattern(value, total);
    total += value.byteLength;
    chunks++;
  }
  assertEquals(total, 300000);
  assert(chunks >= 1);
  assertEquals(res.bodyUsed, true);
  await assertRejects(() => res.arrayBuffer(), TypeError);
  reader.releaseLock();
  await assertRejects(() => reader.closed, TypeError);
});

test("a fetched body with for await", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/bytes/100000`);
  let total = 0;
  for await (const chunk of res.body) {
    checkPattern(chunk, total);
    total += chunk.byteLength;
  }
  assertEquals(total, 100000);
});

test("a fetched body read with a BYOB reader", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/bytes/70000`);
  const reader = res.body.getReader({ mode: "byob" });
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read(new Uint8Array(10000));
    if (done) break;
    checkPattern(value, total);
    total += value.byteLength;
  }
  assertEquals(total, 70000);
});

test("a constructed body read with a BYOB reader", async () => {
  const r = new Response("hello world");
  const reader = r.body.getReader({ mode: "byob" });
  const { value } = await reader.read(new Uint8Array(5));
  assertEquals(new TextDecoder().decode(value), "hello");
  reader.releaseLock();
  // a disturbed stream can no longer become a body, but it can still be read
  assertThrows(() => new Response(r.body), TypeError);
  const rest = r.body.getReader();
  let text = "";
  for (let x = await rest.read(); !x.done; x = await rest.read()) text += new TextDecoder().decode(x.value);
  assertEquals(text, " world");
});

test("cancelling a fetched body", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/bytes/1000000`);
  const reader = res.body.getReader();
  const first = await reader.read();
  assert(first.value.byteLength > 0);
  await reader.cancel("enough");
  assertEquals((await reader.read()).done, true);
  assertEquals(res.bodyUsed, true);
});

test("body from a pull stream, async chunks", async () => {
  let i = 0;
  const s = new ReadableStream({
    async pull(c) {
      await new Promise((r) => setTimeout(r, 1));
      if (i < 5) c.enqueue(enc(String(i++)));
      else c.close();
    },
  });
  assertEquals(await new Response(s).text(), "01234");
});

test("body from a byte stream", async () => {
  const s = new ReadableStream({
    type: "bytes",
    start(c) {
      c.enqueue(enc("by"));
      c.enqueue(enc("tes"));
      c.close();
    },
  });
  assertEquals(await new Response(s).text(), "bytes");
});

test("ArrayBuffer, DataView and other views as stream chunks", async () => {
  const s = new ReadableStream({
    start(c) {
      c.enqueue(enc("a").buffer);
      c.enqueue(new DataView(enc("b").buffer));
      c.enqueue(new Uint16Array([0x6463]));
      c.close();
    },
  });
  assertEquals(await new Response(s).text(), "acd".slice(0, 1) + "bcd");
});

test("a stream body that errors rejects the consumer", async () => {
  const s = new ReadableStream({
    start(c) {
      c.enqueue(enc("partial"));
      c.error(new Error("boom"));
    },
  });
  const e = await assertRejects(() => new Response(s).text(), Error);
  assertEquals(e.message, "boom");
});

test("a stream body of strings is not a byte body", async () => {
  const s = new ReadableStream({ start(c) { c.enqueue("text"); c.close(); } });
  await assertRejects(() => new Response(s).text(), TypeError);
});

test("a TransformStream piping a fetched body", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/bytes/250000`);
  const { readable, writable } = new TransformStream();
  const done = res.body.pipeTo(writable);
  const out = new Response(readable, res);
  assertEquals(out.status, 200);
  const bytes = await out.bytes();
  await done;
  assertEquals(bytes.byteLength, 250000);
  checkPattern(bytes);
});

test("a TransformStream that rewrites a fetched body", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/echo-me`);
  const upper = new TransformStream({
    transform(chunk, c) {
      c.enqueue(enc(new TextDecoder().decode(chunk).toUpperCase()));
    },
    flush(c) {
      c.enqueue(enc("!"));
    },
  });
  const text = await new Response(res.body.pipeThrough(upper)).text();
  assertEquals(JSON.parse(text.slice(0, -1)).PATH, "/ECHO-ME");
  assert(text.endsWith("!"));
});

test("a TransformStream written from the script", async () => {
  const { readable, writable } = new TransformStream();
  const writer = writable.getWriter();
  const res = new Response(readable);
  (async () => {
    for (const part of ["one ", "two ", "three"]) {
      await writer.write(enc(part));
    }
    await writer.close();
  })();
  assertEquals(await res.text(), "one two three");
});

test("tee a fetched body", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/bytes/100000`);
  const [a, b] = res.body.tee();
  const [x, y] = await Promise.all([new Response(a).bytes(), new Response(b).bytes()]);
  assertEquals(x.byteLength, 100000);
  assertEquals(y.byteLength, 100000);
  checkPattern(x);
  checkPattern(y);
});

test("clone a fetched response and read both", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/bytes/90000`);
  const c = res.clone();
  const [x, y] = await Promise.all([res.arrayBuffer(), c.arrayBuffer()]);
  assertEquals(x.byteLength, 90000);
  assertEquals(y.byteLength, 90000);
});

test("a fetched body handed on untouched to a new Response", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/bytes/120000`);
  const out = new Response(res.body, { headers: { "x-wrapped": "1" } });
  assertEquals(res.bodyUsed, false);
  const bytes = new Uint8Array(await out.arrayBuffer());
  assertEquals(res.bodyUsed, true);
  assertEquals(bytes.length, 120000);
  checkPattern(bytes);
});

test("ReadableStream.from an async generator as a body", async () => {
  if (typeof ReadableStream.from !== "function") return;
  async function* gen() {
    yield enc("g1");
    yield enc("g2");
  }
  assertEquals(await new Response(ReadableStream.from(gen())).text(), "g1g2");
});

test("Request bodies are streams too", async () => {
  const r = new Request("https://e.com", { method: "POST", body: "abc" });
  const reader = r.body.getReader();
  const { value } = await reader.read();
  assertEquals(new TextDecoder().decode(value), "abc");
  assertEquals((await reader.read()).done, true);
  assertEquals(r.bodyUsed, true);
});

test("TextDecoderStream and TextEncoderStream around a fetched body", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/text-stream`);
  const upper = new TransformStream({ transform(t, c) { c.enqueue(t.toUpperCase()); } });
  const out = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(upper).pipeThrough(new TextEncoderStream());
  const json = JSON.parse(await new Response(out).text());
  assertEquals(json.PATH, "/TEXT-STREAM");
  const d = new TextDecoderStream("utf-8", { fatal: true });
  assertEquals(d.encoding, "utf-8");
  assertEquals(d.fatal, true);
  assertEquals(new TextEncoderStream().encoding, "utf-8");
});

test("TextDecoderStream joins split sequences; TextEncoderStream joins split surrogates", async () => {
  const bytes = new TextEncoder().encode("€😀");
  const src = new ReadableStream({ start(c) { for (const b of bytes) c.enqueue(new Uint8Array([b])); c.close(); } });
  let text = "";
  for await (const t of src.pipeThrough(new TextDecoderStream())) text += t;
  assertEquals(text, "€😀");
  const parts = new ReadableStream({ start(c) { c.enqueue("a\uD83D"); c.enqueue("\uDE00b"); c.enqueue("\uD800"); c.close(); } });
  const out = await new Response(parts.pipeThrough(new TextEncoderStream())).bytes();
  assertEquals([...out], [0x61, 0xf0, 0x9f, 0x98, 0x80, 0x62, 0xef, 0xbf, 0xbd]);
});

test("IdentityTransformStream and FixedLengthStream (workerd)", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/bytes/80000`);
  const { readable, writable } = new IdentityTransformStream();
  res.body.pipeTo(writable);
  const got = await new Response(readable).bytes();
  assertEquals(got.byteLength, 80000);
  checkPattern(got);
  const f = new FixedLengthStream(5);
  const w = f.writable.getWriter();
  w.write(enc("hel"));
  w.write(enc("lo"));
  w.close();
  assertEquals(await new Response(f.readable).text(), "hello");
  const short = new FixedLengthStream(5);
  const sw = short.writable.getWriter();
  sw.write(enc("hi")).catch(() => {});
  sw.close().catch(() => {});
  await assertRejects(() => new Response(short.readable).text(), TypeError);
  const bad = new IdentityTransformStream();
  const bw = bad.writable.getWriter();
  bw.write(5).catch(() => {});
  await assertRejects(() => new Response(bad.readable).text(), TypeError);
  // workerd writes a string as its UTF-8 bytes
  const str = new IdentityTransformStream();
  const sw2 = str.writable.getWriter();
  sw2.write("h\u00e9");
  sw2.close();
  assertEquals(await new Response(str.readable).text(), "h\u00e9");
});

export default suite();

test("a body's stream made and used later works as one made and used at once", async () => {
  const r = new Response("late read");
  const s = r.body;
  assertEquals(s.locked, false);
  assertEquals(r.bodyUsed, false);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const reader = s.getReader();
  assertEquals(s.locked, true);
  const chunks = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(...value);
  }
  assertEquals(new TextDecoder().decode(new Uint8Array(chunks)), "late read");
  assertEquals(r.bodyUsed, true);
  // Handed on untouched after a delay: the new response reads it whole.
  const r2 = new Response("handed on");
  const s2 = r2.body;
  await new Promise((resolve) => setTimeout(resolve, 5));
  assertEquals(await new Response(s2).text(), "handed on");
  assertEquals(r2.bodyUsed, true);
  // tee() of an unused body stream.
  const [a, b] = new Response("twice").body.tee();
  assertEquals(await new Response(a).text() + await new Response(b).text(), "twicetwice");
});
