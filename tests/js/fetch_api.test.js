import { test, assert, assertEquals, assertThrows, assertRejects, suite } from "./harness.js";

test("Response bodies: string, ArrayBuffer, typed array, stream, null", async () => {
  assertEquals(await new Response("héllo").text(), "héllo");
  assertEquals(await new Response(new Uint8Array([104, 105]).buffer).text(), "hi");
  assertEquals(await new Response(new Uint16Array([0x6968])).text(), "hi");
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode("a"));
      c.enqueue(new TextEncoder().encode("b"));
      c.close();
    },
  });
  assertEquals(await new Response(stream).text(), "ab");
  const empty = new Response(null);
  assertEquals(empty.body, null);
  assertEquals(await empty.text(), "");
});

test("Response status, statusText, headers, ok", () => {
  const r = new Response("x", { status: 404, statusText: "Nope", headers: { "X-A": "1" } });
  assertEquals(r.status, 404);
  assertEquals(r.statusText, "Nope");
  assertEquals(r.ok, false);
  assertEquals(r.headers.get("x-a"), "1");
  assertEquals(r.headers.get("content-type"), "text/plain;charset=UTF-8");
  assertThrows(() => new Response("x", { status: 99 }), RangeError);
  assertThrows(() => new Response("x", { status: 204 }), TypeError);
});

test("json(), arrayBuffer() and bodyUsed", async () => {
  const r = new Response('{"a":[1,2]}');
  assertEquals(r.bodyUsed, false);
  assertEquals((await r.json()).a[1], 2);
  assertEquals(r.bodyUsed, true);
  await assertRejects(() => r.text(), TypeError);
  const ab = await new Response("abc").arrayBuffer();
  assert(ab instanceof ArrayBuffer);
  assertEquals(ab.byteLength, 3);
});

test("Response.json and Response.redirect", async () => {
  const j = Response.json({ ok: true }, { status: 201 });
  assertEquals(j.status, 201);
  assertEquals(j.headers.get("content-type"), "application/json");
  assertEquals(await j.text(), '{"ok":true}');
  const r = Response.redirect("https://example.com/x", 301);
  assertEquals(r.status, 301);
  assertEquals(r.headers.get("location"), "https://example.com/x");
  assertThrows(() => Response.redirect("https://example.com", 200), RangeError);
});

test("Request construction and rewriting", async () => {
  const r = new Request("https://example.com/a?b=1", { method: "post", body: "data", headers: { "X-Y": "z" } });
  assertEquals(r.method, "POST");
  assertEquals(r.url, "https://example.com/a?b=1");
  assertEquals(r.headers.get("x-y"), "z");
  const url = new URL(r.url);
  url.pathname = "/v2" + url.pathname;
  const r2 = new Request(url, r);
  assertEquals(r2.url, "https://example.com/v2/a?b=1");
  assertEquals(r2.method, "POST");
  assertEquals(await r2.text(), "data");
  assertThrows(() => new Request("https://example.com", { method: "GET", body: "x" }), TypeError);
  assertThrows(() => new Request("/relative"), TypeError);
});

test("Request and Response clone tee the body", async () => {
  const r = new Response("twice");
  const c = r.clone();
  assertEquals(await r.text(), "twice");
  assertEquals(await c.text(), "twice");
});

test("Headers: case-insensitive, combined values, getSetCookie, iteration order", () => {
  const h = new Headers([["B", "2"], ["a", "1"], ["Set-Cookie", "x=1"], ["set-cookie", "y=2"], ["a", "3"]]);
  assertEquals(h.get("A"), "1, 3");
  assertEquals(h.getSetCookie(), ["x=1", "y=2"]);
  assertEquals([...h.keys()], ["a", "b", "set-cookie", "set-cookie"]);
  h.delete("a");
  assertEquals(h.has("a"), false);
  assertThrows(() => h.set("bad name", "x"), TypeError);
  assertThrows(() => h.set("x", "a\nb"), TypeError);
  assertEquals(new Headers({ x: "  padded  " }).get("x"), "padded");
});

test("fetched response headers are immutable", async ({ request }) => {
  const r = Response.redirect("https://example.com/", 302);
  assertThrows(() => r.headers.set("x", "y"), TypeError);
});

test("URL and URLSearchParams", () => {
  const u = new URL("https://user:pw@EXAMPLE.com:8443/a/../b?x=1&y=%20#frag");
  assertEquals(u.hostname, "example.com");
  assertEquals(u.port, "8443");
  assertEquals(u.pathname, "/b");
  assertEquals(u.searchParams.get("y"), " ");
  u.searchParams.append("z", "a b");
  assertEquals(u.search, "?x=1&y=+&z=a+b");
  u.pathname = "/c d";
  assertEquals(u.pathname, "/c%20d");
  assertEquals(new URL("../x", "https://e.com/a/b/c").href, "https://e.com/a/x");
  assertThrows(() => new URL("not a url"), TypeError);
  assertEquals(URL.canParse("https://ok"), true);
  const p = new URLSearchParams("?b=2&a=1&a=0");
  p.sort();
  assertEquals(p.toString(), "a=1&a=0&b=2");
});

test("TextEncoder and TextDecoder", () => {
  const bytes = new TextEncoder().encode("€x");
  assertEquals([...bytes], [226, 130, 172, 120]);
  assertEquals(new TextDecoder().decode(bytes), "€x");
  const d = new TextDecoder("utf-8");
  assertEquals(d.decode(bytes.subarray(0, 2), { stream: true }) + d.decode(bytes.subarray(2)), "€x");
  assertThrows(() => new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xff])), TypeError);
  assertEquals(new TextDecoder("latin1").decode(new Uint8Array([0xe9])), "é");
  assertThrows(() => new TextDecoder("nope"), RangeError);
});

test("ReadableStream bodies are readable chunk by chunk", async () => {
  const r = new Response("stream me");
  const reader = r.body.getReader();
  let text = "";
  const dec = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
  }
  assertEquals(text, "stream me");
  assertEquals(r.bodyUsed, true);
});

test("the request handed to the handler", async ({ request }) => {
  assert(request instanceof Request);
  assertEquals(request.method, "GET");
  assert(request.headers.get("host") !== null);
});

export default suite();
