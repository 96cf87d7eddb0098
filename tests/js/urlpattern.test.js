// URLPattern (WHATWG URL Pattern Standard; workerd: ada's url_pattern with
// the "v" RegExp flag). The full WPT data runs in node
// (plugin-runtime/js/test/urlpattern.test.mjs); these check the real runtime,
// whose URL parsing is native. All WPT cases: urlpattern_wpt.test.js.
import { test, assert, assertEquals, assertThrows, suite } from "./harness.js";

test("global, toStringTag, instanceof, enumerable members", () => {
  const d = Object.getOwnPropertyDescriptor(globalThis, "URLPattern");
  assert(d && !d.enumerable && d.writable && d.configurable);
  const p = new URLPattern();
  assert(p instanceof URLPattern);
  assertEquals(Object.prototype.toString.call(p), "[object URLPattern]");
  const keys = [];
  for (const k in p) keys.push(k);
  for (const k of ["test", "exec", "protocol", "hostname", "pathname", "hasRegExpGroups"]) {
    assert(keys.includes(k), `missing ${k}`);
  }
  assertThrows(() => URLPattern.prototype.test.call({}, "https://a.com"), TypeError);
  assertThrows(() => Object.getOwnPropertyDescriptor(URLPattern.prototype, "pathname").get.call({}), TypeError);
});

test("router style: pathname pattern against request.url", ({ request }) => {
  const p = new URLPattern({ pathname: "/users/:id" });
  const url = new URL("/users/42?x=1#h", request.url).href;
  const m = p.exec(url);
  assert(m !== null);
  assertEquals(m.pathname.groups, { id: "42" });
  assertEquals(m.pathname.input, "/users/42");
  assertEquals(m.inputs, [url]);
  assertEquals(m.search, { input: "x=1", groups: { 0: "x=1" } });
  assertEquals(p.test(new URL("/users/42/posts", request.url).href), false);
  assertEquals(p.exec(new Request(new URL("/users/abc", request.url)).url).pathname.groups.id, "abc");
});

test("default components are wildcards", () => {
  const p = new URLPattern({ pathname: "/a" });
  for (const k of ["protocol", "username", "password", "hostname", "port", "search", "hash"]) {
    assertEquals(p[k], "*", k);
  }
  assertEquals(p.pathname, "/a");
  assertEquals(p.hasRegExpGroups, false);
});

test("string pattern with a base URL inherits the earlier components", () => {
  const p = new URLPattern("/books/:id", "https://example.com");
  assertEquals(p.protocol, "https");
  assertEquals(p.hostname, "example.com");
  assertEquals(p.port, "");
  assertEquals(p.pathname, "/books/:id");
  assertEquals(p.search, "*");
  assert(p.test("https://example.com/books/1"));
  assert(!p.test("https://example.com:8443/books/1"));
  assert(!p.test("http://example.com/books/1"));
});

test("full string pattern", () => {
  const p = new URLPattern("http{s}?://*.example.com/books/:id");
  assertEquals(p.protocol, "http{s}?");
  assertEquals(p.hostname, "*.example.com");
  assertEquals(p.pathname, "/books/:id");
  assertEquals(p.exec("https://example.com/books/123"), null);
  const m = p.exec("https://store.example.com/books/123");
  assertEquals(m.hostname, { input: "store.example.com", groups: { 0: "store" } });
  assertEquals(m.pathname.groups, { id: "123" });
  assertEquals(m.protocol, { input: "https", groups: {} });
  assertEquals(m.port, { input: "", groups: {} });
});

test("modifiers ? + * and optional groups give undefined", () => {
  const opt = new URLPattern({ pathname: "/foo/:bar?" });
  assertEquals(opt.exec({ pathname: "/foo" }).pathname.groups.bar, undefined);
  assert("bar" in opt.exec({ pathname: "/foo" }).pathname.groups);
  assertEquals(opt.exec({ pathname: "/foo/x" }).pathname.groups.bar, "x");
  assertEquals(opt.test({ pathname: "/foo/" }), false);
  const plus = new URLPattern({ pathname: "/foo/:bar+" });
  assertEquals(plus.exec({ pathname: "/foo/a/b" }).pathname.groups.bar, "a/b");
  assertEquals(plus.test({ pathname: "/foo" }), false);
  const star = new URLPattern({ pathname: "/foo/:bar*" });
  assertEquals(star.test({ pathname: "/foo" }), true);
  assertEquals(star.exec({ pathname: "/foo/a/b" }).pathname.groups.bar, "a/b");
});

test("wildcards and regexp groups", () => {
  const w = new URLPattern({ pathname: "/static/*" });
  assertEquals(w.exec({ pathname: "/static/a/b.css" }).pathname.groups, { 0: "a/b.css" });
  const r = new URLPattern({ pathname: "/post/:id(\\d+)" });
  assertEquals(r.hasRegExpGroups, true);
  assert(r.test({ pathname: "/post/12" }));
  assert(!r.test({ pathname: "/post/ab" }));
  const f = new URLPattern({ pathname: "/*.:ext(jpg|png)" });
  assertEquals(f.exec({ pathname: "/a/b.png" }).pathname.groups, { 0: "a/b", ext: "png" });
  assertEquals(new URLPattern({ pathname: "/foo/(.*)" }).pathname, "/foo/*");
});

test("ignoreCase option", () => {
  const p = new URLPattern({ pathname: "/FOO/:x" }, { ignoreCase: true });
  assert(p.test({ pathname: "/foo/1" }));
  assert(!new URLPattern({ pathname: "/FOO/:x" }).test({ pathname: "/foo/1" }));
  const s = new URLPattern("https://example.com/FOO", { ignoreCase: true });
  assert(s.test("https://example.com/foo"));
  const b = new URLPattern("/FOO", "https://example.com", { ignoreCase: true });
  assert(b.test("https://example.com/Foo"));
});

test("canonicalization of pattern components", () => {
  assertEquals(new URLPattern({ hostname: "EXAMPLE.com" }).hostname, "example.com");
  assertEquals(new URLPattern({ pathname: "/caf\u00e9" }).pathname, "/caf%C3%A9");
  assertEquals(new URLPattern({ pathname: "/foo/../bar" }).pathname, "/bar");
  assertEquals(new URLPattern({ protocol: "HTTP" }).protocol, "http");
  assertEquals(new URLPattern({ protocol: "http", port: "80" }).port, "");
  assertEquals(new URLPattern({ protocol: "https", port: "80" }).port, "80");
  assertEquals(new URLPattern({ search: "q=a b" }).search, "q=a%20b");
  assertEquals(new URLPattern({ hash: "a b" }).hash, "a%20b");
  assertEquals(new URLPattern({ hostname: "[\\:\\:AB]" }).hostname, "[\\:\\:ab]");
  assertThrows(() => new URLPattern({ hostname: "[::AB]" }), TypeError);
});

test("matching canonicalizes the input", () => {
  const p = new URLPattern({ pathname: "/caf\u00e9" });
  assert(p.test("https://example.com/caf\u00e9"));
  assert(p.test({ pathname: "/caf\u00e9" }));
  assert(new URLPattern({ hostname: "example.com" }).test("https://EXAMPLE.COM/"));
  assert(new URLPattern({ port: "" }).test("https://a.com:443/"));
  assert(new URLPattern({ pathname: "/a/b" }).test({ pathname: "/a/./x/../b" }));
});

test("exec with init input and baseURL", () => {
  const p = new URLPattern({ pathname: "/foo/bar" });
  const m = p.exec({ pathname: "/foo/bar", baseURL: "https://example.com" });
  assertEquals(m.hostname, { input: "example.com", groups: { 0: "example.com" } });
  assertEquals(m.protocol.input, "https");
  assertEquals(m.inputs[0].pathname, "/foo/bar");
  assert(p.test("bar", "https://example.com/foo/"));
  assertEquals(p.exec("bar", "https://example.com/foo/").inputs, ["bar", "https://example.com/foo/"]);
  assertThrows(() => p.test({ pathname: "/foo/bar" }, "https://example.com"), TypeError);
  assertEquals(p.test("not a url"), false);
  assertEquals(p.exec("/foo/bar", "not a base"), null);
});

test("hasRegExpGroups", () => {
  assertEquals(new URLPattern({}).hasRegExpGroups, false);
  assertEquals(new URLPattern({ protocol: "http{s}?" }).hasRegExpGroups, false);
  assertEquals(new URLPattern({ protocol: "(https?)" }).hasRegExpGroups, true);
  assertEquals(new URLPattern({ hostname: ":sub.example.com" }).hasRegExpGroups, false);
  assertEquals(new URLPattern({ search: "q=(\\w+)" }).hasRegExpGroups, true);
  assertEquals(new URLPattern({ pathname: "/(.*)" }).hasRegExpGroups, false);
});

test("invalid patterns throw TypeError", () => {
  assertThrows(() => new URLPattern("/relative"), TypeError);
  assertThrows(() => new URLPattern({ pathname: "/:id/:id" }), TypeError);
  assertThrows(() => new URLPattern({ pathname: "/(" }), TypeError);
  assertThrows(() => new URLPattern({ pathname: "/(foo" }), TypeError);
  assertThrows(() => new URLPattern({ pathname: "/{foo" }), TypeError);
  assertThrows(() => new URLPattern({ pathname: "/:" }), TypeError);
  assertThrows(() => new URLPattern({ pathname: "/(?:x)" }), TypeError);
  assertThrows(() => new URLPattern({ pathname: "/([a)" }), TypeError);
  assertThrows(() => new URLPattern({ hostname: "bad host" }), TypeError);
  assertThrows(() => new URLPattern({ port: "port" }), TypeError);
  assertThrows(() => new URLPattern({ port: "99999" }), TypeError);
  assertThrows(() => new URLPattern({ pathname: "/a" }, "https://example.com"), TypeError);
  assertThrows(() => new URLPattern({ baseURL: "not a url", pathname: "/a" }), TypeError);
  assertThrows(() => new URLPattern({}, 1), TypeError);
  // workerd (ada) gives one message for every invalid pattern
  assertThrows(() => new URLPattern({ pathname: "/:id/:id" }), TypeError, "Failed to construct URLPattern");
  const p = new URLPattern({});
  assertThrows(() => p.test({}, "https://a.com"), TypeError, "Failed to test URLPattern");
  assertThrows(() => p.exec({}, "https://a.com"), TypeError, "Failed to exec URLPattern");
});

test("second argument is the options when it is an object", () => {
  assert(new URLPattern({ pathname: "/A" }, { ignoreCase: true }).test({ pathname: "/a" }));
  assert(new URLPattern({ pathname: "/A" }, undefined, { ignoreCase: true }).test({ pathname: "/a" }));
});

test("non-special schemes and opaque paths", () => {
  const p = new URLPattern("data\\:text/plain,*");
  assertEquals(p.protocol, "data");
  assert(p.test("data:text/plain,hello"));
  const m = new URLPattern({ protocol: "data", pathname: "text/:type" });
  assertEquals(m.exec("data:text/html").pathname.groups.type, "html");
});

test("result objects are plain and fresh", () => {
  const p = new URLPattern({ pathname: "/:a" });
  const r1 = p.exec({ pathname: "/x" });
  const r2 = p.exec({ pathname: "/x" });
  assert(r1 !== r2);
  assertEquals(Object.keys(r1), ["inputs", "protocol", "username", "password", "hostname",
    "port", "pathname", "search", "hash"]);
  assertEquals(Object.getPrototypeOf(r1.pathname.groups), Object.prototype);
});

test("monkey-patched RegExp.prototype.exec is not used", () => {
  const p = new URLPattern({ pathname: "/a/:b" });
  const real = RegExp.prototype.exec;
  RegExp.prototype.exec = () => null;
  try {
    assertEquals(p.exec({ pathname: "/a/c" }).pathname.groups.b, "c");
  } finally {
    RegExp.prototype.exec = real;
  }
});

export default suite();
