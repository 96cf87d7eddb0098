// URL and URLSearchParams (WHATWG URL; workerd uses ada, a spec parser).
import { test, assert, assertEquals, assertThrows, suite } from "./harness.js";

test("components of a full URL", () => {
  const u = new URL("https://user:pass@sub.Example.COM:8080/p/a/t/h?query=string#hash");
  assertEquals(u.href, "https://user:pass@sub.example.com:8080/p/a/t/h?query=string#hash");
  assertEquals(u.protocol, "https:");
  assertEquals(u.username, "user");
  assertEquals(u.password, "pass");
  assertEquals(u.host, "sub.example.com:8080");
  assertEquals(u.hostname, "sub.example.com");
  assertEquals(u.port, "8080");
  assertEquals(u.pathname, "/p/a/t/h");
  assertEquals(u.search, "?query=string");
  assertEquals(u.hash, "#hash");
  assertEquals(u.origin, "https://sub.example.com:8080");
  assertEquals(String(u), u.href);
  assertEquals(u.toJSON(), u.href);
  assertEquals(JSON.stringify({ u }), `{"u":"${u.href}"}`);
});

test("default ports dropped, empty path becomes /", () => {
  assertEquals(new URL("https://a.com:443").href, "https://a.com/");
  assertEquals(new URL("http://a.com:80/x").port, "");
  assertEquals(new URL("http://a.com:8080").port, "8080");
  assertEquals(new URL("HTTP://A.COM").href, "http://a.com/");
});

test("relative resolution against a base", () => {
  const base = "https://e.com/a/b/c?q#h";
  assertEquals(new URL("d", base).href, "https://e.com/a/b/d");
  assertEquals(new URL("./d", base).href, "https://e.com/a/b/d");
  assertEquals(new URL("../d", base).href, "https://e.com/a/d");
  assertEquals(new URL("/d", base).href, "https://e.com/d");
  assertEquals(new URL("//other.com/x", base).href, "https://other.com/x");
  assertEquals(new URL("?z", base).href, "https://e.com/a/b/c?z");
  assertEquals(new URL("#z", base).href, "https://e.com/a/b/c?q#z");
  assertEquals(new URL("", base).href, "https://e.com/a/b/c?q");
  assertEquals(new URL("x", new URL(base)).href, "https://e.com/a/b/x");
  assertEquals(new URL("http://abs.com/", base).href, "http://abs.com/");
});

test("invalid URLs throw TypeError; canParse and parse", () => {
  for (const bad of ["", "foo", "/rel", "http://", "https://exa mple.com", "http://[::1", "http://a:99999/"]) {
    assertThrows(() => new URL(bad), TypeError);
    assertEquals(URL.canParse(bad), false);
    assertEquals(URL.parse(bad), null);
  }
  assertThrows(() => new URL("x", "not a base"), TypeError);
  assertThrows(() => new URL(), TypeError);
  assertEquals(URL.canParse("/x", "https://e.com"), true);
  assertEquals(URL.parse("/x", "https://e.com").href, "https://e.com/x");
});

test("percent-encoding in path, query, hash; IDNA; IPv4/IPv6", () => {
  assertEquals(new URL("https://e.com/a b/ü").pathname, "/a%20b/%C3%BC");
  assertEquals(new URL("https://e.com/?a b=ü").search, "?a%20b=%C3%BC");
  assertEquals(new URL("https://e.com/#a b").hash, "#a%20b");
  assertEquals(new URL("https://münchen.de/").hostname, "xn--mnchen-3ya.de");
  assertEquals(new URL("http://0x7f.1/").hostname, "127.0.0.1");
  assertEquals(new URL("http://[0:0::1]:8080/").host, "[::1]:8080");
  assertEquals(new URL("https://e.com/a/./b/../c").pathname, "/a/c");
  assertEquals(new URL("https://e.com/%2e%2E/x").pathname, "/x");
  assertEquals(new URL("https://e.com\\a\\b").pathname, "/a/b");
  assertEquals(new URL("  https://e.com/x  ").href, "https://e.com/x");
});

test("non-special schemes: data:, mailto:, blob-ish", () => {
  const d = new URL("data:text/plain,hello world");
  assertEquals(d.protocol, "data:");
  assertEquals(d.pathname, "text/plain,hello world");
  assertEquals(d.origin, "null");
  const m = new URL("mailto:someone@example.com");
  assertEquals(m.pathname, "someone@example.com");
  assertEquals(new URL("foo://host/path").host, "host");
});

test("setters", () => {
  const u = new URL("https://e.com/a?x=1#f");
  u.pathname = "/b c";
  assertEquals(u.href, "https://e.com/b%20c?x=1#f");
  u.search = "y=2";
  assertEquals(u.search, "?y=2");
  assertEquals(u.searchParams.get("y"), "2");
  u.search = "";
  assertEquals(u.href, "https://e.com/b%20c#f");
  u.hash = "";
  assertEquals(u.href, "https://e.com/b%20c");
  u.hash = "top";
  assertEquals(u.hash, "#top");
  u.host = "other.org:81";
  assertEquals(u.host, "other.org:81");
  u.hostname = "third.net";
  assertEquals(u.host, "third.net:81");
  u.port = "443";
  assertEquals(u.port, "");
  u.port = "abc"; // ignored
  assertEquals(u.port, "");
  u.port = "";
  u.protocol = "http";
  assertEquals(u.protocol, "http:");
  u.protocol = "mailto"; // special -> non-special not allowed, ignored
  assertEquals(u.protocol, "http:");
  u.username = "me";
  u.password = "p@ss";
  assertEquals(u.href, "http://me:p%40ss@third.net/b%20c#top");
  u.href = "https://new.com/";
  assertEquals(u.host, "new.com");
  assertThrows(() => { u.href = "nope"; }, TypeError);
  assertEquals(u.href, "https://new.com/");
});

test("searchParams is live in both directions", () => {
  const u = new URL("https://e.com/?a=1&b=2&a=3");
  const p = u.searchParams;
  assert(p === u.searchParams);
  assertEquals(p.getAll("a"), ["1", "3"]);
  p.delete("a");
  assertEquals(u.search, "?b=2");
  p.append("c", "x y&z");
  assertEquals(u.href, "https://e.com/?b=2&c=x+y%26z");
  u.search = "?q=1";
  assertEquals(p.get("q"), "1");
  assertEquals(p.has("b"), false);
  p.delete("q");
  assertEquals(u.search, "");
  assertEquals(u.href, "https://e.com/");
  u.href = "https://e.com/?n=5";
  assertEquals(p.get("n"), "5");
});

test("URLSearchParams constructors", () => {
  assertEquals(new URLSearchParams("?a=1&b=2").toString(), "a=1&b=2");
  assertEquals(new URLSearchParams("a=1&&b").toString(), "a=1&b=");
  assertEquals([...new URLSearchParams({ x: "1", y: 2 })], [["x", "1"], ["y", "2"]]);
  assertEquals([...new URLSearchParams([["x", "1"], ["x", "2"]])], [["x", "1"], ["x", "2"]]);
  const p = new URLSearchParams("a=1");
  const q = new URLSearchParams(p);
  q.append("b", "2");
  assertEquals(p.toString(), "a=1");
  assertEquals(q.toString(), "a=1&b=2");
  assertEquals(new URLSearchParams(new Map([["m", "n"]])).get("m"), "n");
  assertThrows(() => new URLSearchParams([["a"]]), TypeError);
  assertThrows(() => new URLSearchParams([["a", "b", "c"]]), TypeError);
  assertEquals(new URLSearchParams().toString(), "");
  assertEquals(new URLSearchParams(undefined).size, 0);
});

test("URLSearchParams decoding and encoding", () => {
  const p = new URLSearchParams("a=%20b+c&%E2%82%AC=%zz&e=%C3%A9");
  assertEquals(p.get("a"), " b c");
  assertEquals(p.get("€"), "%zz");
  assertEquals(p.get("e"), "é");
  const q = new URLSearchParams();
  q.set("k", "a b+c&d=e/f?g~*-._é€😀");
  assertEquals(q.toString(), "k=a+b%2Bc%26d%3De%2Ff%3Fg%7E*-._%C3%A9%E2%82%AC%F0%9F%98%80");
  assertEquals(new URLSearchParams(q.toString()).get("k"), "a b+c&d=e/f?g~*-._é€😀");
  q.set("lone", "\uD800");
  assertEquals(q.get("lone"), "\uFFFD");
});

test("URLSearchParams methods: get/getAll/has/set/delete with value/sort/size/iteration", () => {
  const p = new URLSearchParams("z=1&a=2&z=3&b=4");
  assertEquals(p.size, 4);
  assertEquals(p.get("z"), "1");
  assertEquals(p.get("nope"), null);
  assertEquals(p.getAll("z"), ["1", "3"]);
  assertEquals(p.has("z", "3"), true);
  assertEquals(p.has("z", "9"), false);
  p.delete("z", "1");
  assertEquals(p.toString(), "a=2&z=3&b=4");
  p.set("a", "x");
  p.append("a", "y");
  p.set("a", "only");
  assertEquals(p.toString(), "a=only&z=3&b=4");
  p.sort();
  assertEquals([...p.keys()], ["a", "b", "z"]);
  assertEquals([...p.values()], ["only", "4", "3"]);
  const seen = [];
  p.forEach((v, k) => seen.push(k + v));
  assertEquals(seen, ["aonly", "b4", "z3"]);
  assertEquals(Object.prototype.toString.call(p), "[object URLSearchParams]");
  assertThrows(() => p.get(), TypeError);
  assertThrows(() => p.append("a"), TypeError);
});

test("sort is stable and by UTF-16 code units", () => {
  const p = new URLSearchParams("\uFFFD=x&\u{1F600}=y&b=1&a=1&b=0");
  p.sort();
  assertEquals([...p.keys()], ["a", "b", "b", "\u{1F600}", "\uFFFD"]);
  assertEquals(p.getAll("b"), ["1", "0"]);
});

test("URL from a Request url and back", ({ request }) => {
  const u = new URL(request.url);
  assert(u.protocol === "http:" || u.protocol === "https:");
  assertEquals(u.pathname, "/");
  const r = new Request(new URL("/x?y=1", request.url));
  assertEquals(new URL(r.url).search, "?y=1");
});

export default suite();
