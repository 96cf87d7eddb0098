// Request and Response, as workerd implements them.
import { test, assert, assertEquals, assertThrows, assertRejects, suite } from "./harness.js";

const enc = (s) => new TextEncoder().encode(s);

// ---- Response ---------------------------------------------------------------

test("Response body kinds", async () => {
  assertEquals(await new Response("héllo").text(), "héllo");
  assertEquals(await new Response(enc("ab").buffer).text(), "ab");
  assertEquals(await new Response(enc("ab")).text(), "ab");
  assertEquals(await new Response(new DataView(enc("xaby").buffer, 1, 2)).text(), "ab");
  assertEquals(await new Response(enc("xaby").subarray(1, 3)).text(), "ab");
  assertEquals([...(await new Response(new Int32Array([1])).bytes())], [1, 0, 0, 0]);
  assertEquals(await new Response(new URLSearchParams({ a: "1 2", b: "é" })).text(), "a=1+2&b=%C3%A9");
  const s = new ReadableStream({ start(c) { c.enqueue(enc("x")); c.enqueue(enc("y")); c.close(); } });
  assertEquals(await new Response(s).text(), "xy");
  assertEquals(await new Response(null).text(), "");
  assertEquals(await new Response(undefined).text(), "");
  assertEquals(await new Response().text(), "");
  assertEquals(new Response().body, null);
  assertEquals(await new Response(123).text(), "123");
  assertEquals(await new Response({ toString: () => "obj" }).text(), "obj");
});

test("Response body bytes are copied at construction", async () => {
  const u = enc("abc");
  const r = new Response(u);
  u[0] = 0x7a;
  assertEquals(await r.text(), "abc");
  const ab = enc("abc").buffer;
  const r2 = new Response(ab);
  new Uint8Array(ab)[0] = 0x7a;
  assertEquals(await r2.text(), "abc");
});

test("Response content-type defaults", () => {
  assertEquals(new Response("x").headers.get("content-type"), "text/plain;charset=UTF-8");
  assertEquals(new Response(new URLSearchParams("a=1")).headers.get("content-type"), "application/x-www-form-urlencoded;charset=UTF-8");
  assertEquals(new Response(enc("x")).headers.get("content-type"), null);
  assertEquals(new Response(new ReadableStream()).headers.get("content-type"), null);
  assertEquals(new Response(null).headers.get("content-type"), null);
  assertEquals(new Response("x", { headers: { "Content-Type": "text/html" } }).headers.get("content-type"), "text/html");
  if (typeof Blob === "function") {
    assertEquals(new Response(new Blob(["x"], { type: "image/png" })).headers.get("content-type"), "image/png");
  }
});

test("Response status, statusText (\"\" unless given, as in workerd), ok", () => {
  const r = new Response("x");
  assertEquals(r.status, 200);
  assertEquals(r.statusText, "");
  assertEquals(r.ok, true);
  assertEquals(new Response(null, { status: 404 }).statusText, "");
  assertEquals(new Response(null, { status: 201 }).statusText, "");
  assertEquals(new Response(null, { status: 404, statusText: "" }).statusText, "");
  assertEquals(new Response(null, { status: 404, statusText: "Gone Fishing" }).statusText, "Gone Fishing");
  assertEquals(new Response(null, { status: 299 }).ok, true);
  assertEquals(new Response(null, { status: 300 }).ok, false);
  assertEquals(new Response(null, { status: 199 + 1 }).status, 200);
  for (const bad of [0, 100, 101, 199, 600, 1000, -1]) assertThrows(() => new Response(null, { status: bad }), RangeError);
  assertThrows(() => new Response(null, { statusText: "a\nb" }), TypeError);
  assertThrows(() => new Response(null, { statusText: "a\rb" }), TypeError);
  assertThrows(() => new Response(null, "nope"), TypeError);
});

test("null body statuses", async () => {
  for (const status of [204, 205, 304]) {
    const r = new Response(null, { status });
    assertEquals(r.body, null);
    assertEquals(await r.text(), "");
    assertThrows(() => new Response("x", { status }), TypeError);
    assertThrows(() => new Response(new ReadableStream(), { status }), TypeError);
    // workerd: a zero-length buffer body is accepted and treated as null
    const empty = new Response("", { status });
    assertEquals(empty.body, null);
    assertEquals(new Response(new Uint8Array(0), { status }).body, null);
  }
});

test("Response type, url, redirected of constructed responses", () => {
  const r = new Response("x");
  assertEquals(r.type, "default");
  assertEquals(r.url, "");
  assertEquals(r.redirected, false);
  assertEquals(Object.prototype.toString.call(r), "[object Response]");
});

test("consumers: text, json, arrayBuffer, bytes; bodyUsed", async () => {
  const r = new Response('{"a":[1,2]}');
  assertEquals(r.bodyUsed, false);
  assertEquals((await r.json()).a, [1, 2]);
  assertEquals(r.bodyUsed, true);
  await assertRejects(() => r.text(), TypeError);
  await assertRejects(() => r.arrayBuffer(), TypeError);
  const ab = await new Response("abc").arrayBuffer();
  assert(ab instanceof ArrayBuffer);
  assertEquals(ab.byteLength, 3);
  const by = await new Response("abc").bytes();
  assert(by instanceof Uint8Array);
  assertEquals([...by], [97, 98, 99]);
  await assertRejects(() => new Response("{bad").json(), SyntaxError);
  const empty = new Response(null);
  await empty.text();
  assertEquals(empty.bodyUsed, false);
  assertEquals((await new Response("\uFEFFbom").text()), "bom");
  assertEquals(await new Response(new Uint8Array([0x61, 0xff])).text(), "a\uFFFD");
});

test("a locked or disturbed body cannot be consumed or reused", async () => {
  const r = new Response("abc");
  const reader = r.body.getReader();
  assertEquals(r.bodyUsed, false);
  await assertRejects(() => r.text(), TypeError);
  await reader.read();
  assertEquals(r.bodyUsed, true);
  assertThrows(() => new Response(r.body), TypeError);
  assertThrows(() => r.clone(), TypeError);
  const s = new ReadableStream();
  s.getReader();
  assertThrows(() => new Response(s), TypeError);
});

test("body getter returns the same stream; reading it marks bodyUsed", async () => {
  const r = new Response("abc");
  assert(r.body === r.body);
  assert(r.body instanceof ReadableStream);
  assertEquals(await new Response(r.body).text(), "abc");
  assertEquals(r.bodyUsed, true);
});

test("Response.json", async () => {
  const j = Response.json({ ok: true, n: [1] }, { status: 201, headers: { "x-a": "1" } });
  assertEquals(j.status, 201);
  assertEquals(j.statusText, "");
  assertEquals(j.headers.get("content-type"), "application/json");
  assertEquals(j.headers.get("x-a"), "1");
  assertEquals(await j.text(), '{"ok":true,"n":[1]}');
  const custom = Response.json([], { headers: { "content-type": "application/vnd.api+json" } });
  assertEquals(custom.headers.get("content-type"), "application/vnd.api+json");
  assertEquals(await Response.json("s").text(), '"s"');
  assertEquals(await Response.json(null).text(), "null");
  const cyc = {};
  cyc.self = cyc;
  assertThrows(() => Response.json(cyc), TypeError);
  assertThrows(() => Response.json(1n), TypeError);
  j.headers.set("x-b", "2");
});

test("Response.json's body: UTF-8 bytes of its text, in every read, clone and copy", async () => {
  const j = Response.json({ s: "é\u{1F600}", lone: "\uD800" });
  const text = '{"s":"é\u{1F600}","lone":"\\ud800"}';
  const copy = new Response(j.clone().body, j);
  assertEquals(await j.clone().text(), text);
  const bytes = new Uint8Array(await j.arrayBuffer());
  assertEquals(bytes.length, new TextEncoder().encode(text).length);
  assertEquals(new TextDecoder().decode(bytes), text);
  assertEquals(j.bodyUsed, true);
  assertEquals(await copy.text(), text);
  // A null-body status refuses it, as a string body is refused.
  assertThrows(() => Response.json({}, { status: 204 }), TypeError);
  // Past the length kept as a string: the same bytes.
  const big = "x".repeat(70000);
  assertEquals((await Response.json(big).text()).length, 70002);
  // A text/plain the caller set stays.
  assertEquals(Response.json(1, { headers: { "content-type": "text/plain;charset=UTF-8" } }).headers.get("content-type"), "text/plain;charset=UTF-8");
  // The body is a stream like any other.
  const reader = Response.json([1, 2]).body.getReader();
  const first = await reader.read();
  assertEquals(new TextDecoder().decode(first.value), "[1,2]");
});

test("Response.redirect", () => {
  const r = Response.redirect("https://example.com/a b", 301);
  assertEquals(r.status, 301);
  assertEquals(r.statusText, "");
  assertEquals(r.headers.get("location"), "https://example.com/a%20b");
  assertEquals(r.body, null);
  assertEquals(Response.redirect("https://e.com").status, 302);
  assertEquals(Response.redirect(new URL("https://e.com/u")).headers.get("location"), "https://e.com/u");
  for (const s of [301, 302, 303, 307, 308]) assertEquals(Response.redirect("https://e.com", s).status, s);
  for (const s of [200, 300, 304, 309]) assertThrows(() => Response.redirect("https://e.com", s), RangeError);
  assertThrows(() => Response.redirect("/relative"), TypeError);
  assertThrows(() => r.headers.set("a", "b"), TypeError);
});

test("Response.error", async () => {
  const e = Response.error();
  assertEquals(e.type, "error");
  assertEquals(e.status, 0);
  assertEquals(e.statusText, "");
  assertEquals(e.ok, false);
  assertEquals(e.body, null);
  assertEquals([...e.headers], []);
});

test("Response init from another Response copies status, statusText, headers", async () => {
  const a = new Response("a", { status: 418, statusText: "Teapot", headers: { "x-a": "1", "set-cookie": "c=1" } });
  a.headers.append("set-cookie", "d=2");
  const b = new Response("b", a);
  assertEquals(b.status, 418);
  assertEquals(b.statusText, "Teapot");
  assertEquals(b.headers.get("x-a"), "1");
  assertEquals(b.headers.getSetCookie(), ["c=1", "d=2"]);
  b.headers.set("x-a", "2");
  assertEquals(a.headers.get("x-a"), "1");
  assertEquals(await b.text(), "b");
  const c = new Response(a.body, a);
  assertEquals(await c.text(), "a");
  assertEquals(a.bodyUsed, true);
});

test("Response clone", async () => {
  const r = new Response("twice", { status: 202, headers: { a: "1" } });
  const c = r.clone();
  assertEquals(c.status, 202);
  assertEquals(c.statusText, "");
  assertEquals(c.headers.get("a"), "1");
  c.headers.set("a", "2");
  assertEquals(r.headers.get("a"), "1");
  assertEquals(await r.text(), "twice");
  assertEquals(await c.text(), "twice");
  const s = new Response(new ReadableStream({ start(ctl) { ctl.enqueue(enc("st")); ctl.close(); } }));
  const s2 = s.clone();
  assertEquals(await s2.text(), "st");
  assertEquals(await s.text(), "st");
  const used = new Response("x");
  await used.text();
  assertThrows(() => used.clone(), TypeError);
  assert(Response.redirect("https://e.com").clone().headers.get("location"));
});

test("illegal invocation and prototype", () => {
  assertThrows(() => Response.prototype.status, TypeError);
  assertThrows(() => Object.getOwnPropertyDescriptor(Response.prototype, "status").get.call({}), TypeError);
  assertThrows(() => Response(), TypeError);
  assert("text" in Response.prototype && "json" in Request.prototype);
});

// ---- Request ----------------------------------------------------------------

test("Request defaults", async () => {
  const r = new Request("https://EXAMPLE.com");
  assertEquals(r.url, "https://example.com/");
  assertEquals(r.method, "GET");
  assertEquals(r.redirect, "follow");
  assertEquals([...r.headers], []);
  assertEquals(r.body, null);
  assertEquals(r.bodyUsed, false);
  assert(r.signal instanceof AbortSignal);
  assertEquals(r.signal.aborted, false);
  assertEquals(await r.text(), "");
  assertEquals(Object.prototype.toString.call(r), "[object Request]");
  assertEquals(new Request(new URL("https://e.com/p?q")).url, "https://e.com/p?q");
  assertEquals(new Request("https://e.com/a b#frag").url, "https://e.com/a%20b#frag");
});

test("Request constructor errors", () => {
  assertThrows(() => new Request(), TypeError);
  assertThrows(() => new Request("/relative"), TypeError);
  assertThrows(() => new Request("not a url"), TypeError);
  assertThrows(() => new Request("https://e.com", "x"), TypeError);
  assertThrows(() => new Request("https://e.com", { redirect: "bogus" }), TypeError);
  assertThrows(() => new Request("https://e.com", { integrity: "sha256-abc" }), TypeError);
  assertThrows(() => Request("https://e.com"), TypeError);
});

test("method normalisation (workerd: known methods, upper-cased)", () => {
  const m = (method) => new Request("https://e.com", { method }).method;
  assertEquals(m("get"), "GET");
  assertEquals(m("Post"), "POST");
  assertEquals(m("put"), "PUT");
  assertEquals(m("delete"), "DELETE");
  assertEquals(m("head"), "HEAD");
  assertEquals(m("options"), "OPTIONS");
  assertEquals(m("patch"), "PATCH");
  assertEquals(m("PATCH"), "PATCH");
  assertEquals(m("PROPFIND"), "PROPFIND");
  assertEquals(m("purge"), "PURGE");
  for (const bad of ["", "GE T", "get\n", "FOO", "BREW", "g\u00e9t"]) {
    assertThrows(() => new Request("https://e.com", { method: bad }), TypeError);
  }
});

test("redirect modes", () => {
  assertEquals(new Request("https://e.com", { redirect: "manual" }).redirect, "manual");
  assertEquals(new Request("https://e.com", { redirect: "follow" }).redirect, "follow");
  assertEquals(new Request("https://e.com", { redirect: "MANUAL" }).redirect, "manual");
  // "error" is a spec mode workerd rejects; isoproxy supports it
  assertEquals(new Request("https://e.com", { redirect: "error" }).redirect, "error");
});

test("Request body rules", async () => {
  assertThrows(() => new Request("https://e.com", { body: "x" }), TypeError);
  assertThrows(() => new Request("https://e.com", { method: "HEAD", body: "x" }), TypeError);
  assertThrows(() => new Request("https://e.com", { method: "GET", body: "" }), TypeError);
  assertEquals(new Request("https://e.com", { method: "GET", body: null }).body, null);
  assertEquals(new Request("https://e.com", { method: "GET", body: undefined }).body, null);
  const r = new Request("https://e.com", { method: "POST", body: "data" });
  assertEquals(r.headers.get("content-type"), "text/plain;charset=UTF-8");
  assert(r.body instanceof ReadableStream);
  assertEquals(await r.text(), "data");
  assertEquals(r.bodyUsed, true);
  const p = new Request("https://e.com", { method: "PUT", body: new URLSearchParams("a=1") });
  assertEquals(p.headers.get("content-type"), "application/x-www-form-urlencoded;charset=UTF-8");
  assertEquals(await p.text(), "a=1");
  const b = new Request("https://e.com", { method: "POST", body: enc("bin"), headers: { "content-type": "x/y" } });
  assertEquals(b.headers.get("content-type"), "x/y");
  assertEquals(await b.text(), "bin");
  const s = new Request("https://e.com", {
    method: "POST",
    body: new ReadableStream({ start(c) { c.enqueue(enc("str")); c.close(); } }),
  });
  assertEquals(await s.text(), "str");
  const j = new Request("https://e.com", { method: "POST", body: JSON.stringify({ a: 1 }) });
  assertEquals((await j.json()).a, 1);
});

test("new Request(request) takes the body; the original becomes used", async () => {
  const a = new Request("https://e.com/a", { method: "POST", body: "payload", headers: { x: "1" }, redirect: "manual" });
  const b = new Request(a);
  assertEquals(b.url, "https://e.com/a");
  assertEquals(b.method, "POST");
  assertEquals(b.redirect, "manual");
  assertEquals(b.headers.get("x"), "1");
  b.headers.set("x", "2");
  assertEquals(a.headers.get("x"), "1");
  assertEquals(a.bodyUsed, true);
  assertEquals(await b.text(), "payload");
  assertThrows(() => new Request(a), TypeError);
  await assertRejects(() => a.text(), TypeError);
});

test("new Request(request, init) overrides", async () => {
  const a = new Request("https://e.com/a", { method: "POST", body: "payload", headers: { x: "1", y: "1" } });
  const b = new Request(a, { method: "PUT", headers: { z: "3" } });
  assertEquals(b.method, "PUT");
  assertEquals([...b.headers], [["z", "3"]]);
  assertEquals(await b.text(), "payload");
  const c = new Request("https://e.com/c", { method: "POST", body: "old" });
  const d = new Request(c, { body: "new" });
  assertEquals(await d.text(), "new");
  assertEquals(c.bodyUsed, false);
  assertEquals(await c.text(), "old");
  const e = new Request("https://e.com/e", { method: "POST", body: "x" });
  assertThrows(() => new Request(e, { method: "GET" }), TypeError);
  const f = new Request(new Request("https://e.com/f", { method: "POST", body: "x" }), { method: "GET", body: null });
  assertEquals(f.method, "GET");
  assertEquals(f.body, null);
  const g = new Request(new Request("https://e.com/g"), { method: "POST", body: "new" });
  assertEquals(await g.text(), "new");
});

test("new Request(url, request) reads everything from the request", async () => {
  const a = new Request("https://e.com/a", { method: "PATCH", body: "payload", headers: { x: "1" }, redirect: "manual" });
  const b = new Request("https://other.com/b", a);
  assertEquals(b.url, "https://other.com/b");
  assertEquals(b.method, "PATCH");
  assertEquals(b.redirect, "manual");
  assertEquals(b.headers.get("x"), "1");
  assertEquals(b.headers.get("content-type"), "text/plain;charset=UTF-8");
  b.headers.set("x", "2");
  assertEquals(a.headers.get("x"), "1");
  assertEquals(await b.text(), "payload");
  const g = new Request("https://e.com/x", new Request("https://e.com/y", { method: "HEAD" }));
  assertEquals(g.method, "HEAD");
  assertEquals(g.body, null);
});

test("Request clone", async () => {
  const a = new Request("https://e.com/a", { method: "POST", body: "payload", headers: { x: "1" } });
  const b = a.clone();
  assertEquals(b.url, a.url);
  assertEquals(b.method, "POST");
  b.headers.set("x", "2");
  assertEquals(a.headers.get("x"), "1");
  assertEquals(await a.text(), "payload");
  assertEquals(await b.text(), "payload");
  assertThrows(() => a.clone(), TypeError);
  assert(new Request("https://e.com").clone() instanceof Request);
});

test("signal and cf pass through", () => {
  const ctl = new AbortController();
  const r = new Request("https://e.com", { signal: ctl.signal, cf: { cacheTtl: 5 } });
  assert(r.signal === ctl.signal);
  assertEquals(r.cf.cacheTtl, 5);
  const r2 = new Request(r);
  assert(r2.signal === ctl.signal);
  ctl.abort();
  assertEquals(r2.signal.aborted, true);
});

test("the incoming request", async ({ request }) => {
  assert(request instanceof Request);
  assertEquals(request.method, "GET");
  assertEquals(request.body, null);
  assertEquals(request.bodyUsed, false);
  assertEquals(await request.text(), "");
  assert(request.headers.get("host").endsWith(".test"));
  assert(request.url.startsWith("http"));
  assertEquals(typeof request.cf, "object");
  assert(request.signal instanceof AbortSignal);
  const copy = request.clone();
  assertEquals(copy.url, request.url);
});

export default suite();
