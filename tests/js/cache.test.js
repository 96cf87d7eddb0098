import { test, assert, assertEquals, assertThrows, assertRejects, suite } from "./harness.js";

const U = (path) => `https://cache.test/${path}`;
const fresh = (body, headers = {}) =>
  new Response(body, { headers: { "cache-control": "max-age=60", ...headers } });

test("globals: caches, Cache, CacheStorage", async () => {
  assert(caches instanceof CacheStorage);
  assert(caches.default instanceof Cache);
  assert(caches.default === caches.default, "one default cache");
  assertEquals(Object.prototype.toString.call(caches), "[object CacheStorage]");
  assertEquals(Object.prototype.toString.call(caches.default), "[object Cache]");
  assertThrows(() => new Cache(), TypeError, "Illegal constructor");
  assertThrows(() => new CacheStorage(), TypeError, "Illegal constructor");
  const c = await caches.open("x");
  assert(c instanceof Cache && c !== caches.default);
  for (const m of ["match", "put", "delete", "add", "addAll", "matchAll", "keys"]) {
    assertEquals(typeof Cache.prototype[m], "function", m);
  }
  await assertRejects(() => caches.open("n".repeat(1024)), TypeError, "Cache name is too long.");
});

test("add, addAll, matchAll and keys are not implemented", () => {
  for (const m of ["add", "addAll", "matchAll", "keys"]) {
    assertThrows(() => caches.default[m](U("x")), Error, "not implemented");
    assertEquals(Cache.prototype[m].name, m);
  }
});

test("put, match and delete", async () => {
  const cache = caches.default;
  assertEquals(await cache.match(U("a")), undefined);
  const res = fresh("hello", { "x-thing": "1", "content-type": "text/plain" });
  const p = cache.put(U("a"), res);
  assert(res.bodyUsed, "put disturbs the body at once");
  assertEquals(await p, undefined);
  const hit = await cache.match(new Request(U("a")));
  assert(hit instanceof Response);
  assertEquals(hit.status, 200);
  assertEquals(await hit.text(), "hello");
  assertEquals(hit.headers.get("x-thing"), "1");
  assertEquals(hit.headers.get("cf-cache-status"), "HIT");
  assertEquals(hit.headers.get("age"), "0");
  assertEquals(hit.headers.get("content-length"), "5");
  assertThrows(() => hit.headers.set("x", "y"), TypeError);
  // A Request key and a URL string key name the same entry.
  assertEquals(await (await cache.match(U("a"))).text(), "hello");
  assertEquals(await cache.delete(U("a")), true);
  assertEquals(await cache.delete(U("a")), false);
  assertEquals(await cache.match(U("a")), undefined);
});

test("only GET: match/delete miss for other methods unless ignoreMethod", async () => {
  const cache = caches.default;
  await cache.put(U("m"), fresh("m"));
  const post = new Request(U("m"), { method: "POST", body: "x" });
  assertEquals(await cache.match(post), undefined);
  assert((await cache.match(post, { ignoreMethod: true })) instanceof Response);
  assertEquals(await cache.delete(post), false);
  assertEquals(await cache.delete(post, { ignoreMethod: true }), true);
  await assertRejects(() => cache.put(new Request(U("m"), { method: "POST" }), fresh("x")), TypeError,
    "Cannot cache response to non-GET request.");
});

test("put rejects 206, Vary: *, error responses and non-Responses", async () => {
  const cache = caches.default;
  await assertRejects(() => cache.put(U("r"), new Response("x", { status: 206 })), TypeError,
    "Cannot cache response to a range request (206 Partial Content).");
  await assertRejects(() => cache.put(U("r"), fresh("x", { vary: "Accept, *" })), TypeError,
    "Cannot cache response with 'Vary: *' header.");
  await assertRejects(() => cache.put(U("r"), Response.error()), TypeError, "Cache is unable to store an error response");
  await assertRejects(() => cache.put(U("r"), "body"), TypeError);
  await assertRejects(() => cache.put(U("r")), TypeError);
  // A 304 is dropped silently.
  await cache.put(U("r"), new Response(null, { status: 304, headers: { "cache-control": "max-age=60" } }));
  assertEquals(await cache.match(U("r")), undefined);
});

test("Cache-Control: no-store, no-cache, private and max-age=0 are not cached", async () => {
  const cache = caches.default;
  for (const cc of ["no-store", "no-cache", "private", "max-age=0", "public, no-store"]) {
    await cache.put(U("cc"), new Response("x", { headers: { "cache-control": cc } }));
    assertEquals(await cache.match(U("cc")), undefined, cc);
  }
  await cache.put(U("cc"), new Response("x", { headers: { "cache-control": "max-age=0, s-maxage=30" } }));
  assert((await cache.match(U("cc"))) !== undefined, "s-maxage wins");
});

test("a response without Cache-Control gets the default TTL for its status", async () => {
  const cache = caches.default;
  await cache.put(U("d200"), new Response("ok"));
  assert((await cache.match(U("d200"))) !== undefined);
  await cache.put(U("d500"), new Response("no", { status: 500 }));
  assertEquals(await cache.match(U("d500")), undefined);
});

test("expiry by max-age", async () => {
  const cache = await caches.open("expiry");
  await cache.put(U("e"), new Response("soon gone", { headers: { "cache-control": "max-age=1" } }));
  assertEquals(await (await cache.match(U("e"))).text(), "soon gone");
  await scheduler.wait(1100);
  assertEquals(await cache.match(U("e")), undefined);
});

test("Expires in the past is not cached, in the future is", async () => {
  const cache = caches.default;
  await cache.put(U("x1"), new Response("x", { headers: { expires: new Date(Date.now() - 60000).toUTCString() } }));
  assertEquals(await cache.match(U("x1")), undefined);
  await cache.put(U("x2"), new Response("x", { headers: { expires: new Date(Date.now() + 60000).toUTCString() } }));
  assert((await cache.match(U("x2"))) !== undefined);
});

test("Set-Cookie: not cached unless private=Set-Cookie, then stored without it", async () => {
  const cache = caches.default;
  await cache.put(U("sc"), fresh("x", { "set-cookie": "a=b" }));
  assertEquals(await cache.match(U("sc")), undefined);
  await cache.put(U("sc"), new Response("y", {
    headers: { "set-cookie": "a=b", "cache-control": "max-age=60, private=Set-Cookie" },
  }));
  const hit = await cache.match(U("sc"));
  assertEquals(await hit.text(), "y");
  assertEquals(hit.headers.get("set-cookie"), null);
});

test("Vary: the request headers it names select the entry", async () => {
  const cache = caches.default;
  const en = new Request(U("v"), { headers: { "accept-language": "en" } });
  await cache.put(en, fresh("english", { vary: "Accept-Language" }));
  assertEquals(await (await cache.match(en)).text(), "english");
  assertEquals(await cache.match(new Request(U("v"), { headers: { "accept-language": "fr" } })), undefined);
  assertEquals(await cache.match(U("v")), undefined);
  // Accept-Encoding does not split entries (the body is stored decoded).
  await cache.put(U("ae"), fresh("any", { vary: "Accept-Encoding" }));
  const gz = await cache.match(new Request(U("ae"), { headers: { "accept-encoding": "gzip, br" } }));
  assertEquals(await gz.text(), "any");
});

test("large bodies round trip", async () => {
  const big = new Uint8Array(2 << 20);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  await caches.default.put(U("big"), fresh(big));
  const got = new Uint8Array(await (await caches.default.match(U("big"))).arrayBuffer());
  assertEquals(got.length, big.length);
  assert(got.every((b, i) => b === big[i]));
});

test("a streamed body is read fully before storing", async () => {
  const { readable, writable } = new TransformStream();
  const w = writable.getWriter();
  w.write(new TextEncoder().encode("part1,"));
  w.write(new TextEncoder().encode("part2"));
  w.close();
  await caches.default.put(U("stream"), new Response(readable, { headers: { "cache-control": "max-age=60" } }));
  assertEquals(await (await caches.default.match(U("stream"))).text(), "part1,part2");
});

test("caches are isolated by name", async () => {
  const a = await caches.open("a");
  const b = await caches.open("b");
  await a.put(U("iso"), fresh("from a"));
  assertEquals(await b.match(U("iso")), undefined);
  assertEquals(await caches.default.match(U("iso")), undefined);
  assertEquals(await (await (await caches.open("a")).match(U("iso"))).text(), "from a", "same name, same cache");
  await caches.default.put(U("iso2"), fresh("default"));
  assertEquals(await (await caches.open("default")).match(U("iso2")), undefined, "open('default') is not caches.default");
});

test("Range requests get 206, conditionals get 304", async () => {
  const cache = caches.default;
  await cache.put(U("range"), fresh("0123456789", { etag: '"v1"' }));
  const part = await cache.match(new Request(U("range"), { headers: { range: "bytes=2-5" } }));
  assertEquals(part.status, 206);
  assertEquals(part.headers.get("content-range"), "bytes 2-5/10");
  assertEquals(await part.text(), "2345");
  const nm = await cache.match(new Request(U("range"), { headers: { "if-none-match": '"v1"' } }));
  assertEquals(nm.status, 304);
  assertEquals(nm.body, null);
});

export default suite();
