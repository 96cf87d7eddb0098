// fetch() against a real origin (tests/common's origin_handler).
import { test, assert, assertEquals, assertThrows, assertRejects, suite } from "./harness.js";

const enc = (s) => new TextEncoder().encode(s);

test("GET: status, headers, url, echo", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/echo/path?x=1&y=two`, { headers: { "X-Custom": "v1", Accept: "application/json" } });
  assertEquals(res.status, 200);
  assertEquals(res.ok, true);
  assertEquals(res.statusText, "OK");
  assertEquals(res.url, `${env.ORIGIN}/echo/path?x=1&y=two`);
  assertEquals(res.redirected, false);
  assertEquals(res.type, "default");
  assertEquals(res.headers.get("content-type"), "application/json");
  assertEquals(res.headers.get("X-Origin"), "js");
  const echo = await res.json();
  assertEquals(echo.method, "GET");
  assertEquals(echo.path, "/echo/path");
  assertEquals(echo.query, "x=1&y=two");
  assertEquals(echo.headers["x-custom"], "v1");
  assertEquals(echo.headers["accept"], "application/json");
  assertEquals(echo.headers["host"], new URL(env.ORIGIN).host);
  assertEquals(echo.body, "");
});

test("set-cookie headers stay separate", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/cookies`);
  assertEquals(res.headers.getSetCookie(), ["a=1", "b=2"]);
  assertEquals(res.headers.get("set-cookie"), "a=1, b=2");
  assertEquals([...res.headers].filter(([n]) => n === "set-cookie"), [["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
  const out = new Response("x", res);
  assertEquals(out.headers.getSetCookie(), ["a=1", "b=2"]);
  await res.text();
});

test("methods", async ({ env }) => {
  for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
    const echo = await (await fetch(`${env.ORIGIN}/m`, { method })).json();
    assertEquals(echo.method, method);
  }
  const lower = await (await fetch(`${env.ORIGIN}/m`, { method: "delete" })).json();
  assertEquals(lower.method, "DELETE");
  const head = await fetch(`${env.ORIGIN}/m`, { method: "HEAD" });
  assertEquals(head.status, 200);
  assertEquals(await head.text(), "");
});

test("request body kinds", async ({ env }) => {
  const send = async (body, extra = {}) => (await fetch(`${env.ORIGIN}/b`, { method: "POST", body, ...extra })).json();
  let e = await send("plain text");
  assertEquals(e.body, "plain text");
  assertEquals(e.headers["content-type"], "text/plain;charset=UTF-8");
  assertEquals(e.headers["content-length"], "10");
  e = await send(enc("bytes"));
  assertEquals(e.body, "bytes");
  assertEquals(e.headers["content-type"], undefined);
  e = await send(enc("buffer").buffer);
  assertEquals(e.body, "buffer");
  e = await send(new DataView(enc("xview").buffer, 1));
  assertEquals(e.body, "view");
  e = await send(new URLSearchParams({ q: "a b", r: "&" }));
  assertEquals(e.body, "q=a+b&r=%26");
  assertEquals(e.headers["content-type"], "application/x-www-form-urlencoded;charset=UTF-8");
  e = await send(JSON.stringify({ a: 1 }), { headers: { "content-type": "application/json" } });
  assertEquals(e.headers["content-type"], "application/json");
  assertEquals(JSON.parse(e.body).a, 1);
  e = await send(new ReadableStream({ start(c) { c.enqueue(enc("str")); c.enqueue(enc("eam")); c.close(); } }));
  assertEquals(e.body, "stream");
  e = await send("");
  assertEquals(e.body, "");
});

test("a large ReadableStream upload", async ({ env }) => {
  const total = 1 << 20;
  let sent = 0;
  let sum = 0;
  const body = new ReadableStream({
    pull(c) {
      if (sent >= total) return c.close();
      const n = Math.min(50000, total - sent);
      const chunk = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        chunk[i] = (sent + i) & 0xff;
        sum += chunk[i];
      }
      sent += n;
      c.enqueue(chunk);
    },
  });
  const res = await fetch(`${env.ORIGIN}/upload`, { method: "POST", body });
  const r = await res.json();
  assertEquals(r.len, total);
  assertEquals(r.sum, sum);
});

test("fetch(Request) and fetch(Request, init)", async ({ env }) => {
  const req = new Request(`${env.ORIGIN}/r`, { method: "PUT", body: "req body", headers: { "x-r": "1" } });
  const e = await (await fetch(req)).json();
  assertEquals(e.method, "PUT");
  assertEquals(e.body, "req body");
  assertEquals(e.headers["x-r"], "1");
  assertEquals(req.bodyUsed, true);
  const req2 = new Request(`${env.ORIGIN}/r2`, { method: "POST", body: "x" });
  const e2 = await (await fetch(req2, { method: "PATCH", body: "override", headers: { "x-i": "2" } })).json();
  assertEquals(e2.method, "PATCH");
  assertEquals(e2.body, "override");
  assertEquals(e2.headers["x-i"], "2");
});

test("passing the incoming request on to another URL", async ({ request, env }) => {
  const res = await fetch(new Request(`${env.ORIGIN}/passed?z=1`, request));
  const e = await res.json();
  assertEquals(e.method, "GET");
  assertEquals(e.path, "/passed");
  assertEquals(e.query, "z=1");
});

test("headers: Headers object, pairs, record", async ({ env }) => {
  const h = new Headers();
  h.append("x-multi", "1");
  h.append("x-multi", "2");
  let e = await (await fetch(`${env.ORIGIN}/h`, { headers: h })).json();
  assertEquals(e.headers["x-multi"], "1, 2");
  e = await (await fetch(`${env.ORIGIN}/h`, { headers: [["x-pair", "p"]] })).json();
  assertEquals(e.headers["x-pair"], "p");
  e = await (await fetch(`${env.ORIGIN}/h`, { headers: { "User-Agent": "isoproxy-test" } })).json();
  assertEquals(e.headers["user-agent"], "isoproxy-test");
});

test("status codes", async ({ env }) => {
  const r404 = await fetch(`${env.ORIGIN}/status/404`);
  assertEquals(r404.status, 404);
  assertEquals(r404.ok, false);
  assertEquals(r404.statusText, "Not Found");
  assertEquals(await r404.text(), "status 404");
  const r500 = await fetch(`${env.ORIGIN}/status/503`);
  assertEquals(r500.status, 503);
  await r500.arrayBuffer();
  const r204 = await fetch(`${env.ORIGIN}/status/204`);
  assertEquals(r204.status, 204);
  assertEquals(r204.body, null);
  assertEquals(await r204.text(), "");
  const r201 = await fetch(`${env.ORIGIN}/status/201`);
  assertEquals(r201.status, 201);
  assertEquals(await r201.text(), "status 201");
});

test("redirect: follow (default)", async ({ env }) => {
  const target = `${env.ORIGIN}/landed?k=v`;
  const res = await fetch(`${env.ORIGIN}/redirect?to=${encodeURIComponent(target)}`);
  assertEquals(res.status, 200);
  assertEquals(res.redirected, true);
  assertEquals(res.url, target);
  const e = await res.json();
  assertEquals(e.path, "/landed");
  assertEquals(e.query, "k=v");
});

test("redirect: relative Location and chains", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/redirect?to=${encodeURIComponent("/redirect?to=%2Ffinal")}`);
  assertEquals(res.redirected, true);
  assertEquals(res.url, `${env.ORIGIN}/final`);
  assertEquals((await res.json()).path, "/final");
});

test("redirect: 302 turns POST into GET without a body", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/redirect?to=%2Fafter`, { method: "POST", body: "gone" });
  const e = await res.json();
  assertEquals(e.method, "GET");
  assertEquals(e.body, "");
  assertEquals(e.headers["content-type"], undefined);
});

test("redirect: manual", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/redirect?to=%2Felsewhere`, { redirect: "manual" });
  assertEquals(res.status, 302);
  assertEquals(res.redirected, false);
  assertEquals(res.headers.get("location"), "/elsewhere");
  assertEquals(await res.text(), "moved");
});

test("redirect: error", async ({ env }) => {
  await assertRejects(() => fetch(`${env.ORIGIN}/redirect?to=%2Fx`, { redirect: "error" }), TypeError);
});

test("the incoming request has redirect manual", ({ request }) => {
  assertEquals(request.redirect, "manual");
});

test("errors: bad URLs, unsupported schemes, refused connections", async ({ env }) => {
  await assertRejects(() => fetch("not a url"), TypeError);
  await assertRejects(() => fetch("/relative"), TypeError);
  await assertRejects(() => fetch("ftp://example.com/x"), TypeError);
  await assertRejects(() => fetch(`${env.ORIGIN}/x`, { method: "GET", body: "x" }), TypeError);
  await assertRejects(() => fetch(`${env.ORIGIN}/x`, { method: "NOT A METHOD" }), TypeError);
  await assertRejects(() => fetch("http://127.0.0.1:1/"), TypeError);
  await assertRejects(() => fetch(), TypeError);
});

test("fetch never throws synchronously", ({ env }) => {
  const p = fetch("not a url");
  assert(p instanceof Promise);
  p.catch(() => {});
});

test("abort a fetch in flight", async ({ env }) => {
  const ctl = new AbortController();
  const p = fetch(`${env.ORIGIN}/sleep/2000`, { signal: ctl.signal });
  setTimeout(() => ctl.abort(), 20);
  const e = await assertRejects(() => p, DOMException);
  assertEquals(e.name, "AbortError");
  const pre = new AbortController();
  pre.abort(new Error("custom"));
  const e2 = await assertRejects(() => fetch(`${env.ORIGIN}/x`, { signal: pre.signal }), Error);
  assertEquals(e2.message, "custom");
});

test("a request's own signal: an AbortSignal that never aborts, and fetch() of it still works", async ({ env }) => {
  const req = new Request(`${env.ORIGIN}/echo/own-signal`);
  const sig = req.signal;
  assert(sig instanceof AbortSignal);
  assertEquals(sig.aborted, false);
  assertEquals(req.signal, sig);
  // Copies made from it (init = the request) and dependents are live signals too.
  const copy = new Request(`${env.ORIGIN}/echo/copy`, req);
  assert(copy.signal instanceof AbortSignal);
  assertEquals(copy.signal.aborted, false);
  const dep = AbortSignal.any([sig]);
  assertEquals(dep.aborted, false);
  const echo = await (await fetch(copy)).json();
  assertEquals(echo.path, "/echo/copy");
  // A controller's signal handed over with the same request still aborts.
  const ctl = new AbortController();
  const p = fetch(new Request(`${env.ORIGIN}/sleep/2000`, { signal: ctl.signal }));
  setTimeout(() => ctl.abort(), 20);
  const e = await assertRejects(() => p, DOMException);
  assertEquals(e.name, "AbortError");
  // And one merged with the request's own (AbortSignal.any) too.
  const ctl2 = new AbortController();
  const p2 = fetch(`${env.ORIGIN}/sleep/2000`, { signal: AbortSignal.any([sig, ctl2.signal]) });
  setTimeout(() => ctl2.abort(), 20);
  const e2 = await assertRejects(() => p2, DOMException);
  assertEquals(e2.name, "AbortError");
});

test("new Request(url, request) takes the init request's signal and cf as its getters give them, unless the script changed those", async ({ env }) => {
  const ctl = new AbortController();
  const withSignal = new Request(`${env.ORIGIN}/a`, { signal: ctl.signal, cf: { tag: 1 } });
  // A request made from it follows its controller's signal and keeps its cf.
  const copy = new Request(`${env.ORIGIN}/b`, withSignal);
  assertEquals(copy.signal.aborted, false);
  assertEquals(copy.cf.tag, 1);
  ctl.abort(new Error("stop"));
  assertEquals(copy.signal.aborted, true);
  // An init request without a signal overrides the input's signal with its own (one that never aborts).
  const ctl2 = new AbortController();
  const input = new Request(`${env.ORIGIN}/c`, { signal: ctl2.signal });
  const plain = new Request(`${env.ORIGIN}/d`);
  const merged = new Request(input, plain);
  ctl2.abort();
  assert(merged.signal instanceof AbortSignal);
  assertEquals(merged.signal.aborted, false);
  // An own property on the init request is read instead.
  const own = new Request(`${env.ORIGIN}/e`);
  const ctl3 = new AbortController();
  Object.defineProperty(own, "signal", { value: ctl3.signal });
  Object.defineProperty(own, "cf", { value: { tag: 3 } });
  const fromOwn = new Request(`${env.ORIGIN}/f`, own);
  assertEquals(fromOwn.cf.tag, 3);
  ctl3.abort();
  assertEquals(fromOwn.signal.aborted, true);
  // So is a subclass's getter.
  const ctl4 = new AbortController();
  class Sub extends Request {
    get signal() { return ctl4.signal; }
    get cf() { return { tag: 4 }; }
  }
  const fromSub = new Request(`${env.ORIGIN}/g`, new Sub(`${env.ORIGIN}/h`));
  assertEquals(fromSub.cf.tag, 4);
  ctl4.abort();
  assertEquals(fromSub.signal.aborted, true);
  // And getters the script replaced on Request.prototype (put back afterwards).
  const signalDesc = Object.getOwnPropertyDescriptor(Request.prototype, "signal");
  const cfDesc = Object.getOwnPropertyDescriptor(Request.prototype, "cf");
  const ctl5 = new AbortController();
  let calls = 0;
  Object.defineProperty(Request.prototype, "signal", { get() { calls++; return ctl5.signal; }, configurable: true });
  Object.defineProperty(Request.prototype, "cf", { value: { tag: 5 }, configurable: true, writable: true });
  try {
    const fromPatched = new Request(`${env.ORIGIN}/i`, new Request(`${env.ORIGIN}/j`));
    assertEquals(calls, 1);
    ctl5.abort();
    Object.defineProperty(Request.prototype, "signal", signalDesc);
    Object.defineProperty(Request.prototype, "cf", cfDesc);
    assertEquals(fromPatched.signal.aborted, true);
    assertEquals(fromPatched.cf.tag, 5);
  } finally {
    Object.defineProperty(Request.prototype, "signal", signalDesc);
    Object.defineProperty(Request.prototype, "cf", cfDesc);
  }
});

test("each member of a Request or Response init is read once", () => {
  const reads = {};
  const init = {};
  const values = { method: "POST", redirect: "manual", integrity: "", signal: new AbortController().signal,
    cf: { a: 1 }, headers: { "x-a": "1" }, cache: "no-store", body: "hi" };
  for (const [k, v] of Object.entries(values)) {
    Object.defineProperty(init, k, { get() { reads[k] = (reads[k] ?? 0) + 1; return v; }, enumerable: true });
  }
  const req = new Request("https://example.com/", init);
  assertEquals(req.method, "POST");
  for (const k of Object.keys(values)) assertEquals(reads[k], 1, `Request init.${k}`);
  const rreads = {};
  const rinit = {};
  const rvalues = { status: 201, statusText: "Made", headers: { "x-b": "2" }, webSocket: undefined, cf: { b: 2 } };
  for (const [k, v] of Object.entries(rvalues)) {
    Object.defineProperty(rinit, k, { get() { rreads[k] = (rreads[k] ?? 0) + 1; return v; }, enumerable: true });
  }
  const res = new Response("x", rinit);
  assertEquals(res.status, 201);
  assertEquals(res.statusText, "Made");
  for (const k of Object.keys(rvalues)) assertEquals(rreads[k], 1, `Response init.${k}`);
});

test("the incoming request's cf is the same object on a request made from it", ({ request }) => {
  const copy = new Request("https://example.com/", request);
  assertEquals(copy.cf, request.cf);
  assert(copy.signal instanceof AbortSignal);
  assertEquals(copy.signal.aborted, false);
});

test("concurrent fetches", async ({ env }) => {
  const all = await Promise.all([1, 2, 3, 4, 5].map((i) => fetch(`${env.ORIGIN}/c${i}`).then((r) => r.json())));
  assertEquals(all.map((e) => e.path), ["/c1", "/c2", "/c3", "/c4", "/c5"]);
});

test("a large response body read whole", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/bytes/2000000`);
  const buf = new Uint8Array(await res.arrayBuffer());
  assertEquals(buf.length, 2000000);
  for (let i = 0; i < buf.length; i += 9973) assertEquals(buf[i], i % 251);
});

test("a response passed through with modified headers", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/mod`);
  const out = new Response(res.body, res);
  out.headers.set("x-added", "1");
  out.headers.delete("x-origin");
  assertEquals(out.status, 200);
  assertEquals(out.statusText, "OK");
  assertEquals(out.headers.has("x-origin"), false);
  assertEquals(res.headers.has("x-origin"), true);
  assertEquals((await out.json()).path, "/mod");
});

export default suite();
