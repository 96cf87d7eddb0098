// TextEncoder and TextDecoder (WHATWG Encoding).
import { test, assert, assertEquals, assertThrows, suite } from "./harness.js";

const bytes = (...b) => new Uint8Array(b);

test("TextEncoder basics", () => {
  const e = new TextEncoder();
  assertEquals(e.encoding, "utf-8");
  const out = e.encode("a€😀");
  assert(out instanceof Uint8Array);
  assertEquals([...out], [0x61, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
  assertEquals(e.encode().length, 0);
  assertEquals(e.encode(undefined).length, 0);
  assertEquals([...e.encode(123)], [0x31, 0x32, 0x33]);
  // lone surrogates become U+FFFD
  assertEquals([...e.encode("\uD800x")], [0xef, 0xbf, 0xbd, 0x78]);
});

test("TextEncoder.encodeInto", () => {
  const e = new TextEncoder();
  const buf = new Uint8Array(5);
  assertEquals(e.encodeInto("a€b", buf), { read: 3, written: 5 });
  assertEquals([...buf], [0x61, 0xe2, 0x82, 0xac, 0x62]);
  const small = new Uint8Array(3);
  // a code point never splits
  assertEquals(e.encodeInto("a€", small), { read: 1, written: 1 });
  const s = new Uint8Array(4);
  assertEquals(e.encodeInto("😀😀", s), { read: 2, written: 4 });
  assertThrows(() => e.encodeInto("x", new ArrayBuffer(4)), TypeError);
  const sub = new Uint8Array(8).subarray(4);
  assertEquals(e.encodeInto("hi", sub), { read: 2, written: 2 });
  assertEquals(sub[0], 0x68);
});

test("TextDecoder labels", () => {
  const cases = [
    ["utf-8", "utf-8"], ["UTF8", "utf-8"], [" unicode-1-1-utf-8 ", "utf-8"], ["utf-16", "utf-16le"],
    ["utf-16le", "utf-16le"], ["utf-16be", "utf-16be"], ["latin1", "windows-1252"],
    ["ascii", "windows-1252"], ["iso-8859-1", "windows-1252"], ["iso-8859-2", "iso-8859-2"],
    ["shift_jis", "shift_jis"], ["gbk", "gbk"], ["big5", "big5"], ["euc-kr", "euc-kr"],
  ];
  for (const [label, name] of cases) assertEquals(new TextDecoder(label).encoding, name, label);
  assertEquals(new TextDecoder().encoding, "utf-8");
  assertThrows(() => new TextDecoder("nope"), RangeError);
  assertThrows(() => new TextDecoder("replacement"), RangeError);
  assertThrows(() => new TextDecoder("iso-2022-kr"), RangeError);
});

test("TextDecoder accepts ArrayBuffer, views, DataView, and nothing", () => {
  const d = new TextDecoder();
  const data = new TextEncoder().encode("hello");
  assertEquals(d.decode(data.buffer), "hello");
  assertEquals(d.decode(new DataView(data.buffer, 1, 3)), "ell");
  assertEquals(d.decode(new Uint8Array(data.buffer, 2)), "llo");
  assertEquals(d.decode(new Uint16Array([0x6968])), "hi");
  assertEquals(d.decode(), "");
  assertEquals(d.decode(undefined), "");
  assertThrows(() => d.decode("str"), TypeError);
  assertThrows(() => d.decode([1, 2]), TypeError);
});

test("replacement characters and fatal mode", () => {
  assertEquals(new TextDecoder().decode(bytes(0x61, 0xff, 0x62)), "a\uFFFDb");
  assertEquals(new TextDecoder().decode(bytes(0xe2, 0x82)), "\uFFFD");
  assertEquals(new TextDecoder().decode(bytes(0xed, 0xa0, 0x80)), "\uFFFD\uFFFD\uFFFD");
  const f = new TextDecoder("utf-8", { fatal: true });
  assertEquals(f.fatal, true);
  assertEquals(f.ignoreBOM, false);
  assertThrows(() => f.decode(bytes(0xff)), TypeError);
  assertThrows(() => f.decode(bytes(0xe2, 0x82)), TypeError);
  // still usable after an error
  assertEquals(f.decode(bytes(0x6f, 0x6b)), "ok");
  assertThrows(() => new TextDecoder("utf-16le", { fatal: true }).decode(bytes(0x00, 0xd8)), TypeError);
});

test("BOM handling and ignoreBOM", () => {
  const withBom = bytes(0xef, 0xbb, 0xbf, 0x68, 0x69);
  assertEquals(new TextDecoder().decode(withBom), "hi");
  assertEquals(new TextDecoder("utf-8", { ignoreBOM: true }).decode(withBom), "\uFEFFhi");
  assertEquals(new TextDecoder("utf-16le").decode(bytes(0xff, 0xfe, 0x68, 0x00)), "h");
  assertEquals(new TextDecoder("utf-16be").decode(bytes(0xfe, 0xff, 0x00, 0x68)), "h");
  // a BOM only at the start of the stream
  const d = new TextDecoder();
  assertEquals(d.decode(bytes(0xef, 0xbb), { stream: true }), "");
  assertEquals(d.decode(bytes(0xbf, 0x61), { stream: true }), "a");
  assertEquals(d.decode(bytes(0xef, 0xbb, 0xbf)), "\uFEFF");
  // after a finished decode the BOM is stripped again
  assertEquals(d.decode(withBom), "hi");
});

test("streaming decode joins split sequences", () => {
  const text = "héllo €uro 😀 done";
  const all = new TextEncoder().encode(text);
  for (let size = 1; size <= 4; size++) {
    const d = new TextDecoder();
    let out = "";
    for (let i = 0; i < all.length; i += size) out += d.decode(all.subarray(i, i + size), { stream: true });
    out += d.decode();
    assertEquals(out, text, `chunk size ${size}`);
  }
  // unfinished sequence at the end of the stream
  const d = new TextDecoder();
  assertEquals(d.decode(bytes(0xf0, 0x9f), { stream: true }), "");
  assertEquals(d.decode(), "\uFFFD");
  // utf-16 split code unit and surrogate pair
  const u = new TextDecoder("utf-16le");
  assertEquals(u.decode(bytes(0x3d), { stream: true }), "");
  assertEquals(u.decode(bytes(0xd8, 0x00), { stream: true }), "");
  assertEquals(u.decode(bytes(0xde)), "😀");
});

test("single-byte and legacy multi-byte decoders", () => {
  assertEquals(new TextDecoder("windows-1252").decode(bytes(0x80, 0xe9, 0x41)), "€éA");
  assertEquals(new TextDecoder("iso-8859-2").decode(bytes(0xa1)), "Ą");
  assertEquals(new TextDecoder("shift_jis").decode(bytes(0x82, 0xa0)), "あ");
  assertEquals(new TextDecoder("utf-16be").decode(bytes(0x00, 0x41, 0x00, 0x42)), "AB");
});

test("prototype shape and illegal invocation", () => {
  assertEquals(Object.prototype.toString.call(new TextDecoder()), "[object TextDecoder]");
  assertEquals(Object.prototype.toString.call(new TextEncoder()), "[object TextEncoder]");
  assertThrows(() => TextDecoder.prototype.decode.call({}, bytes(1)), TypeError);
  assertThrows(() => TextEncoder.prototype.encode.call({}, "x"), TypeError);
  assertThrows(() => TextDecoder(), TypeError);
});

test("decoding a response body chunk by chunk with stream: true", async ({ env }) => {
  const text = "€".repeat(50000);
  const res = new Response(new ReadableStream({
    start(c) {
      const all = new TextEncoder().encode(text);
      for (let i = 0; i < all.length; i += 7001) c.enqueue(all.slice(i, i + 7001));
      c.close();
    },
  }));
  const d = new TextDecoder();
  let out = "";
  for await (const chunk of res.body) out += d.decode(chunk, { stream: true });
  out += d.decode();
  assertEquals(out.length, 50000);
  assertEquals(out === text, true);
});

export default suite();
