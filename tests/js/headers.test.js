// Headers, as workerd implements it (WHATWG Fetch plus getAll/guards).
import { test, assert, assertEquals, assertThrows, suite } from "./harness.js";

test("constructor forms: none, record, sequence, Headers, Map", () => {
  assertEquals([...new Headers()], []);
  assertEquals([...new Headers({ B: "2", a: "1" })], [["a", "1"], ["b", "2"]]);
  assertEquals([...new Headers([["X", "1"], ["x", "2"]])], [["x", "1, 2"]]);
  const src = new Headers({ a: "1" });
  const copy = new Headers(src);
  copy.set("a", "2");
  assertEquals(src.get("a"), "1");
  assertEquals(copy.get("a"), "2");
  assertEquals(new Headers(new Map([["k", "v"]])).get("k"), "v");
  assertEquals(new Headers({ n: 1 }).get("n"), "1");
  assertEquals(new Headers(undefined).has("x"), false);
});

test("constructor rejects bad input with TypeError", () => {
  assertThrows(() => new Headers([["a"]]), TypeError);
  assertThrows(() => new Headers([["a", "b", "c"]]), TypeError);
  assertThrows(() => new Headers(["ab"]), TypeError);
  assertThrows(() => new Headers("a: b"), TypeError);
  assertThrows(() => new Headers({ "bad name": "x" }), TypeError);
  assertThrows(() => new Headers({ a: "x\r\ny: z" }), TypeError);
  assertThrows(() => new Headers({ "a\u0100": "x" }), TypeError);
});

test("case-insensitive get/has/set/delete", () => {
  const h = new Headers();
  h.set("Content-Type", "text/html");
  assertEquals(h.get("content-type"), "text/html");
  assertEquals(h.get("CONTENT-TYPE"), "text/html");
  assertEquals(h.has("Content-type"), true);
  h.delete("CONTENT-type");
  assertEquals(h.has("content-type"), false);
  assertEquals(h.get("missing"), null);
});

test("append combines, set replaces", () => {
  const h = new Headers();
  h.append("Accept", "a");
  h.append("accept", "b");
  assertEquals(h.get("accept"), "a, b");
  h.set("ACCEPT", "c");
  assertEquals(h.get("accept"), "c");
  assertEquals([...h.entries()], [["accept", "c"]]);
});

test("values are trimmed of HTTP whitespace, inner kept", () => {
  const h = new Headers();
  h.set("a", " \t x  y \t ");
  assertEquals(h.get("a"), "x  y");
  h.append("b", "");
  assertEquals(h.get("b"), "");
  assertEquals(h.has("b"), true);
});

test("validation: names and values", () => {
  const h = new Headers();
  for (const bad of ["", "a b", "a:b", "a\n", "(x)", "é", "a/b"]) {
    assertThrows(() => h.set(bad, "v"), TypeError, "", bad);
    assertThrows(() => h.append(bad, "v"), TypeError);
    assertThrows(() => h.get(bad), TypeError);
    assertThrows(() => h.has(bad), TypeError);
    assertThrows(() => h.delete(bad), TypeError);
  }
  for (const bad of ["a\nb", "a\rb", "a\0b"]) {
    assertThrows(() => h.set("x", bad), TypeError);
    assertThrows(() => h.append("x", bad), TypeError);
  }
  // workerd does not enforce ByteString on values (it keeps them as UTF-8)
  h.set("u", "\u0100\u20ac");
  assertEquals(h.get("u"), "\u0100\u20ac");
  // Latin-1 and tab are allowed
  h.set("x", "caf\u00e9\tok");
  assertEquals(h.get("x"), "caf\u00e9\tok");
  // all token characters are allowed in names
  h.set("!#$%&'*+-.^_`|~09azAZ", "1");
  assertEquals(h.get("!#$%&'*+-.^_`|~09AZAZ"), "1");
});

test("missing arguments throw TypeError", () => {
  const h = new Headers();
  assertThrows(() => h.get(), TypeError);
  assertThrows(() => h.set("a"), TypeError);
  assertThrows(() => h.append("a"), TypeError);
  assertThrows(() => h.has(), TypeError);
  assertThrows(() => h.delete(), TypeError);
});

test("iteration is sorted by lower-cased name and combined", () => {
  const h = new Headers();
  h.append("Z-Last", "z");
  h.append("a-first", "1");
  h.append("M", "m1");
  h.append("m", "m2");
  assertEquals([...h], [["a-first", "1"], ["m", "m1, m2"], ["z-last", "z"]]);
  assertEquals([...h.keys()], ["a-first", "m", "z-last"]);
  assertEquals([...h.values()], ["1", "m1, m2", "z"]);
  assertEquals([...h.entries()], [...h]);
  const seen = [];
  const thisArg = {};
  h.forEach(function (value, name, headers) {
    seen.push([name, value]);
    assert(headers === h);
    assert(this === thisArg);
  }, thisArg);
  assertEquals(seen, [...h]);
});

test("set-cookie is never combined; getSetCookie and getAll", () => {
  const h = new Headers();
  h.append("Set-Cookie", "a=1; Path=/");
  h.append("set-cookie", "b=2, c=3");
  h.append("X", "y");
  assertEquals(h.get("set-cookie"), "a=1; Path=/, b=2, c=3");
  assertEquals(h.getSetCookie(), ["a=1; Path=/", "b=2, c=3"]);
  assertEquals(h.getAll("Set-Cookie"), ["a=1; Path=/", "b=2, c=3"]);
  assertThrows(() => h.getAll("x"), TypeError);
  assertEquals([...h], [["set-cookie", "a=1; Path=/"], ["set-cookie", "b=2, c=3"], ["x", "y"]]);
  assertEquals(new Headers().getSetCookie(), []);
  h.set("set-cookie", "only=1");
  assertEquals(h.getSetCookie(), ["only=1"]);
});

test("iterator walks the headers as they were when it was made (workerd)", () => {
  const h = new Headers({ a: "1", c: "3" });
  const it = h.keys();
  assertEquals(it.next().value, "a");
  h.append("b", "2");
  assertEquals(it.next().value, "c");
  assertEquals(it.next().done, true);
});

test("toStringTag, prototype shape, illegal invocation", () => {
  assertEquals(Object.prototype.toString.call(new Headers()), "[object Headers]");
  assertEquals(typeof Headers.prototype[Symbol.iterator], "function");
  // A function of its own in workerd (tests/diff/headers_iter.js), iterating entries.
  assert(Headers.prototype[Symbol.iterator] !== Headers.prototype.entries);
  assertEquals([...new Headers({ a: "1" })], [["a", "1"]]);
  assertThrows(() => Headers.prototype.get.call({}, "a"), TypeError);
  assertThrows(() => Headers(), TypeError);
  assert(Object.keys(Headers.prototype).includes("get"));
});

test("guards: Response.redirect and fetched responses are immutable, Response.error's are not (workerd)", async ({ env }) => {
  const r = Response.redirect("https://example.com/", 301);
  assertThrows(() => r.headers.set("x", "1"), TypeError, "immutable");
  assertThrows(() => r.headers.append("x", "1"), TypeError);
  assertThrows(() => r.headers.delete("location"), TypeError);
  const e = Response.error();
  e.headers.set("x", "1");
  assertEquals(e.headers.get("x"), "1");
  const res = await fetch(env.ORIGIN + "/h");
  assertThrows(() => res.headers.set("x", "1"), TypeError, "immutable");
  // copies are mutable
  const out = new Response(res.body, res);
  out.headers.set("x", "1");
  assertEquals(out.headers.get("x"), "1");
  const h = new Headers(res.headers);
  h.delete("x-origin");
  assertEquals(h.has("x-origin"), false);
  assertEquals(res.headers.has("x-origin"), true);
  assertEquals((await out.json()).path, "/h");
});

test("incoming request headers are immutable; a rewritten Request's are not", ({ request }) => {
  assertThrows(() => request.headers.set("x", "1"), TypeError, "immutable");
  const copy = new Request(request);
  copy.headers.set("x", "1");
  assertEquals(copy.headers.get("x"), "1");
  assertEquals(request.headers.has("x"), false);
  const copy2 = new Request("https://example.com/", request);
  copy2.headers.delete("host");
  assertEquals(copy2.headers.has("host"), false);
  assert(request.headers.has("host"));
});

test("constructed Request/Response headers are mutable", () => {
  const r = new Request("https://example.com/", { headers: { a: "1" } });
  r.headers.set("b", "2");
  assertEquals([...r.headers], [["a", "1"], ["b", "2"]]);
  const s = new Response("x", { headers: [["a", "1"]] });
  s.headers.append("a", "2");
  assertEquals(s.headers.get("a"), "1, 2");
});

export default suite();
