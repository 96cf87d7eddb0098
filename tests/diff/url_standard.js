import { Rec } from "./prelude.js";

// URL parsing and serialisation where parsers differ (workerd's is ada):
// which characters each component percent-encodes, file URLs with hosts,
// opaque paths, setters on non-special URLs, blob: origins, and the
// incoming request's URL, which keeps the target as the client sent it.
const ascii = [];
for (let c = 0x20; c < 0x7f; c++) ascii.push(String.fromCharCode(c));
const chars = [...ascii, "\u00e9", "\u20ac", "\ud83d\ude00"];

// What each setter makes of every character, one string per component.
function encoded(base, setter, read = setter) {
  const out = [];
  for (const c of chars) {
    const u = new URL(base);
    u[setter] = "a" + c + "b";
    out.push(u[read]);
  }
  return out.join(" ");
}

export default {
  async fetch(request) {
    const r = new Rec();
    r.ck("request.url", () => request.url);
    r.ck("new URL(request.url)", () => {
      const u = new URL(request.url);
      return [u.href, u.pathname, u.search];
    });
    r.ck("new Request(request.url).url", () => new Request(request.url).url);
    r.ck("new Request(request).url", () => new Request(request).url);
    r.ck("clone().url", () => request.clone().url);

    for (const base of ["http://h/", "foo://h/"]) {
      r.ck(`${base} pathname`, () => encoded(base, "pathname"));
      r.ck(`${base} search`, () => encoded(base, "search"));
      r.ck(`${base} hash`, () => encoded(base, "hash"));
      r.ck(`${base} username`, () => encoded(base, "username"));
      r.ck(`${base} password`, () => encoded(base, "password"));
    }
    r.ck("parsed path ^", () => new URL("http://h/a^b|c`d{e}").pathname);
    r.ck("opaque path", () => chars.map((c) => new URL("foo:a" + c + "b").pathname).join(" "));
    r.ck("opaque path trailing spaces", () => [
      new URL("foo:opaque  ?hi").href,
      new URL("foo:opaque  #hi").href,
      new URL("foo:opaque \t #x").href,
    ]);

    const href = (input, base) => {
      try {
        return new URL(input, base).href;
      } catch (e) {
        return "threw " + e.name;
      }
    };
    r.ck("file hosts", () => [
      href("file://example.net/C:/"),
      href("file://1.2.3.4/C:/"),
      href("..", "file://x/C:/"),
      href("C|", "file://host/dir/file"),
      href("/c:/foo/bar", "file://host/path"),
      href("file://localhost//a//../..//foo"),
      href("file:////foo"),
      href("file://spider///"),
      href("..", "abc://x/y/z/C:/"),
    ]);
    r.ck("idna", () => [href("http://a.b.c.xn--pokxncvks"), href("http://10.0.0.xn--pokxncvks")]);
    r.ck("blob origins", () => [
      "blob:https://example.org/x",
      "blob:blob:https://example.org/",
      "blob:ftp://host/path",
      "blob:ws://example.org/",
      "blob:data:text/plain,x",
      "blob:about:blank",
      "blob:null/x",
    ].map((u) => new URL(u).origin));

    const set = (input, setter, value) => {
      const u = new URL(input);
      u[setter] = value;
      return u.href;
    };
    r.ck("setters on data:", () => [
      set("data:text/plain,x", "protocol", "http"),
      set("data:text/plain,x", "host", "h"),
      set("data:text/plain,x", "pathname", "y"),
      set("data:text/plain,x ", "search", "q"),
      set("data:space    ?query", "search", ""),
      set("data:space  #fragment", "hash", ""),
      set("data:text/plain,x", "username", "u"),
    ]);
    r.ck("setters on non-special", () => [
      set("foo://h/p", "host", ""),
      set("foo://h/p", "hostname", "x y"),
      set("foo://h:1/p", "port", ""),
      set("foo://h/p", "pathname", ""),
      set("foo:/p", "host", "h"),
      set("foo:///p", "username", "u"),
      set("foo://h/p", "protocol", "http"),
      set("http://h/p", "protocol", "foo"),
      set("sc://x/", "host", "a\u0000b"),
      set("sc://x/", "hostname", "a:b"),
    ]);
    r.ck("setters on file:", () => [
      set("file://h/p", "host", "x:8080"),
      set("file://h/p", "hostname", "localhost"),
      set("file://h/p", "port", "80"),
      set("file:///p", "username", "u"),
    ]);
    return r.response();
  },
};
