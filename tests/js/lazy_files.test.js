// The streams (20_streams.js), Blob/File/FormData (25_blob_formdata.js)
// and the WebSockets (31_websocket.js) load on first use (95_lazy.js), so
// they run after the script: the built-ins a script replaced before that
// must not reach them (19_pristine.js captured the pristine ones into the
// startup snapshot). Nothing in this
// file touches a stream before the first test, which loads them with the
// replacements in place.
import { test, assert, assertEquals, suite } from "./harness.js";

const reached = new Set();
const apply = Reflect.apply;
function spy(obj, key, tag) {
  const original = obj[key];
  obj[key] = function (...args) {
    reached.add(tag);
    return apply(original, this, args);
  };
}
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
spy(Promise.prototype, "then", "Promise.prototype.then");
spy(ArrayBuffer.prototype, "slice", "ArrayBuffer.prototype.slice");
spy(TypedArrayPrototype, "set", "TypedArray.prototype.set");
spy(Array.prototype, Symbol.iterator, "Array.prototype[Symbol.iterator]");
spy(globalThis, "queueMicrotask", "queueMicrotask");
spy(Reflect, "apply", "Reflect.apply");
for (const [proto, key] of [[ArrayBuffer.prototype, "byteLength"], [TypedArrayPrototype, "byteLength"], [TypedArrayPrototype, "buffer"]]) {
  const d = Object.getOwnPropertyDescriptor(proto, key);
  const get = d.get;
  Object.defineProperty(proto, key, {
    get() {
      reached.add(`get ${key}`);
      return apply(get, this, []);
    },
    configurable: true,
  });
}
const uint8 = Uint8Array;
globalThis.Uint8Array = function () {
  reached.add("Uint8Array global");
};
// Any property descriptor the runtime makes with Object.prototype would now
// have a `get` (and be refused next to a `value`).
Object.defineProperty(Object.prototype, "get", { value: undefined, writable: true, configurable: true });

function bytes(text) {
  const out = new uint8(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

test("the streams load under replaced built-ins and never call them", async () => {
  let first;
  try {
    first = new ReadableStream({
      start(c) {
        c.enqueue(bytes("hel"));
        c.enqueue(bytes("lo"));
        c.close();
      },
    });
  } finally {
    delete Object.prototype.get;
  }
  reached.clear();
  const reader = first.getReader();
  const a = await reader.read();
  const b = await reader.read();
  const end = await reader.read();
  assertEquals([a.value.length, b.value.length, end.done], [3, 2, true]);
  assertEquals([...reached].join(","), "");
});

test("byte streams, tee, pipeThrough and async iteration after the lazy load", async () => {
  const log = [];
  const step = async (name, fn) => {
    reached.clear();
    const r = await fn();
    log.push(`${name}: ${[...reached].join(",")}`);
    return r;
  };
  const pair = await step("tee", () => new Response("twice").body.tee());
  const x = pair[0];
  const y = pair[1];
  const decoded = await step("pipeThrough", () => x.pipeThrough(new TextDecoderStream()));
  const it = await step("iterator", () => decoded.values());
  const parts = [];
  // (Not checked: the iterator's next() settles its promise with another
  // promise, a thenable job that looks `then` up, as it did before the
  // streams were lazy.)
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    parts.push(r.value);
  }
  const second = await step("arrayBuffer", () => new Response(y).arrayBuffer());
  assertEquals(parts.join(""), "twice");
  assertEquals(second.byteLength, 5);
  assertEquals(log.join("; "), "tee: ; pipeThrough: ; iterator: ; arrayBuffer: ");
  const { readable, writable } = new TransformStream();
  const w = writable.getWriter();
  w.write(bytes("ab"));
  w.close();
  assertEquals(await new Response(readable).text(), "ab");
});

test("stream globals look like the other API classes", () => {
  const d = Object.getOwnPropertyDescriptor(globalThis, "ReadableStream");
  assert(d && "value" in d && d.writable && d.configurable && !d.enumerable);
  assertEquals(ReadableStream.length, 0);
  assertEquals(Object.getOwnPropertyDescriptor(ReadableStream.prototype, "getReader").enumerable, true);
  assertEquals(Object.getOwnPropertyDescriptor(WritableStream.prototype, "getWriter").enumerable, true);
  assertEquals(Object.prototype.toString.call(new CountQueuingStrategy({ highWaterMark: 1 })), "[object CountQueuingStrategy]");
  assert(new Response("x").body instanceof ReadableStream);
  assert(new Blob(["x"]).stream() instanceof ReadableStream);
  assert(new CompressionStream("gzip") instanceof TransformStream);
});

test("Blob, File and FormData load on first use and look like the other API classes", async () => {
  // Bodies that are not Blobs or FormData do not need them.
  assertEquals(await new Response(new URLSearchParams("a=1")).text(), "a=1");
  reached.clear();
  const blob = await new Response("xyz", { headers: { "content-type": "text/plain" } }).blob();
  const parts = new Blob([new ArrayBuffer(2), bytes("abc"), new DataView(new ArrayBuffer(1))]);
  // (The parts are a Web IDL sequence: read with the script's iterator, as the standard says.)
  reached.delete("Array.prototype[Symbol.iterator]");
  assertEquals([blob.size, blob.type, parts.size, [...reached].join(",")], [3, "text/plain", 6, ""]);
  assert(blob instanceof Blob);
  for (const name of ["Blob", "File", "FormData"]) {
    const d = Object.getOwnPropertyDescriptor(globalThis, name);
    assert(d && "value" in d && d.writable && d.configurable && !d.enumerable, name);
    assertEquals(d.value.length, 0, name);
  }
  assertEquals(Object.getOwnPropertyDescriptor(Blob.prototype, "slice").enumerable, true);
  assertEquals(Object.prototype.toString.call(new FormData()), "[object FormData]");
  const form = await new Request("http://x/", { method: "POST", body: new URLSearchParams("k=v") }).formData();
  assertEquals(form.get("k"), "v");
  assertEquals(await new Response(new File(["ab"], "f.txt")).text(), "ab");
});

test("WebSockets load on first use and look like ordinary globals", () => {
  // A Response's webSocket must be a WebSocket even before they loaded.
  let refused = "";
  try {
    new Response(null, { status: 101, webSocket: {} });
  } catch (e) {
    refused = e.message;
  }
  assertEquals(refused, "Failed to construct 'Response': webSocket must be a WebSocket.");
  for (const name of ["WebSocket", "WebSocketPair", "MessageEvent", "CloseEvent", "ErrorEvent"]) {
    const d = Object.getOwnPropertyDescriptor(globalThis, name);
    assert(d && "value" in d && d.writable && d.configurable && !d.enumerable, name);
    assertEquals(d.value.name, name);
  }
  const pair = new WebSocketPair();
  assert(pair[0] instanceof WebSocket && pair[1] instanceof WebSocket);
  assert(new MessageEvent("message", { data: 1 }) instanceof Event);
  assertEquals(new Response(null, { status: 101, webSocket: pair[0] }).webSocket, pair[0]);
});

export default suite();
