// APIs loaded on first use (95_lazy.js) look and behave like ordinary globals.
import { test, assert, assertEquals, suite } from "./harness.js";

test("lazy globals read as non-enumerable writable data properties", () => {
  for (const name of ["HTMLRewriter", "DecompressionStream", "CacheStorage", "CryptoKey"]) {
    const d = Object.getOwnPropertyDescriptor(globalThis, name);
    assert(d && "value" in d && d.writable && d.configurable && !d.enumerable, name);
    assertEquals(typeof d.value, "function", name);
    assertEquals(d.value.name, name);
  }
  assert(!Object.keys(globalThis).includes("URLPattern"));
  assert(Object.getOwnPropertyNames(globalThis).includes("URLPattern"));
});

test("each file loads once: globals from one file share their classes", async () => {
  assert(caches instanceof CacheStorage);
  assert((await caches.open("lazy")) instanceof Cache);
  assert(caches.default instanceof Cache);
  assertEquals(Object.prototype.toString.call(caches), "[object CacheStorage]");
});

test("crypto.subtle loads on first use and is the SubtleCrypto", async () => {
  assert(crypto.subtle instanceof SubtleCrypto);
  assert(crypto.subtle === crypto.subtle);
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("abc"));
  assertEquals(new Uint8Array(d)[0], 0xba);
  assertEquals(typeof crypto.DigestStream, "function");
});

test("a lazy global is writable like any other", () => {
  const before = Object.getOwnPropertyDescriptor(globalThis, "CompressionStream").value;
  globalThis.CompressionStream = 42;
  assertEquals(CompressionStream, 42);
  globalThis.CompressionStream = before;
  assert(new CompressionStream("gzip") instanceof TransformStream);
});

export default suite();
