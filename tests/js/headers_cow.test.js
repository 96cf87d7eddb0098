// Copy-on-write headers (plugin-runtime/src/headers.rs) against a real origin.
import { test, assert, assertEquals, assertThrows, suite } from "./harness.js";

// Headers of fetch() responses and of the incoming request stay in Rust
// until read (src/headers.rs): copies share them, unread edits travel as a
// delta and are applied by the op that puts the message on the wire.
test("copy-on-write headers: copies share the origin's map, unread edits reach the wire", async ({ env, request }) => {
  const res = await fetch(`${env.ORIGIN}/echo/cow`, { headers: { "X-Custom": "v1" } });
  const copy = new Headers(res.headers);
  copy.set("X-New", " n ");
  copy.append("x-added", "a");
  copy.delete("content-type");
  copy.delete("x-never-there");
  // An unread copy of a copy keeps the edits made so far.
  const copy2 = new Headers(copy);
  copy2.set("x-new", "second");
  const echo = await (await fetch(`${env.ORIGIN}/echo/cow2`, { headers: copy })).json();
  assertEquals(echo.headers["x-new"], "n");
  assertEquals(echo.headers["x-added"], "a");
  assertEquals(echo.headers["x-origin"], "js");
  assertEquals(echo.headers["content-type"], undefined);
  const echo2 = await (await fetch(`${env.ORIGIN}/echo/cow3`, { headers: copy2 })).json();
  assertEquals(echo2.headers["x-new"], "second");
  assertEquals(echo2.headers["content-type"], undefined);
  // Read after the edits: the same view in JS.
  assertEquals(copy.get("x-new"), "n");
  assertEquals(copy.has("content-type"), false);
  assertEquals(copy2.get("x-new"), "second");
  assertEquals([...copy].map(([n]) => n).includes("x-added"), true);
  // The original is untouched, and still immutable.
  assertEquals(res.headers.get("x-new"), null);
  assertEquals(res.headers.get("content-type"), "application/json");
  assertEquals(res.headers.getSetCookie(), ["a=1", "b=2"]);
  assertThrows(() => res.headers.set("x", "1"), TypeError, "immutable");
  await res.text();
  // The incoming request's headers, passed on with one edit.
  const fwd = new Request(`${env.ORIGIN}/echo/fwd`, request);
  fwd.headers.set("x-fwd", "1");
  const echo3 = await (await fetch(fwd)).json();
  assertEquals(echo3.headers["x-fwd"], "1");
  assertEquals(request.headers.get("x-fwd"), null);
  assertThrows(() => request.headers.set("x", "1"), TypeError, "immutable");
});

test("copy-on-write headers: many edits, invalid edits, and reads after garbage collection", async ({ env }) => {
  const res = await fetch(`${env.ORIGIN}/echo/many`);
  await res.text();
  const h = new Headers(res.headers);
  for (let i = 0; i < 100; i++) h.set(`x-${i % 70}`, `${i}`);
  assertThrows(() => h.set("bad name", "1"), TypeError, "Invalid header name");
  assertThrows(() => h.set("x-ok", "a\nb"), TypeError, "Invalid header value");
  const echo = await (await fetch(`${env.ORIGIN}/echo/many2`, { headers: h })).json();
  assertEquals(echo.headers["x-0"], "70");
  assertEquals(echo.headers["x-69"], "69");
  assertEquals(echo.headers["x-origin"], "js");
  // Headers kept across many collections still read their map.
  const kept = [];
  for (let i = 0; i < 4; i++) {
    const r = await fetch(`${env.ORIGIN}/echo/gc`);
    await r.text();
    if (i % 2 === 0) kept.push(new Headers(r.headers));
  }
  let junk = [];
  for (let i = 0; i < 300000; i++) junk.push({ i, s: `${i}` });
  junk = null;
  for (const k of kept) assertEquals(k.get("x-origin"), "js");
});


export default suite();
