import { Rec } from "./prelude.js";

const parts = (u) => ({
  href: u.href,
  origin: u.origin,
  protocol: u.protocol,
  username: u.username,
  password: u.password,
  host: u.host,
  hostname: u.hostname,
  port: u.port,
  pathname: u.pathname,
  search: u.search,
  hash: u.hash,
});

export default {
  async fetch() {
    const r = new Rec();
    const cases = [
      ["https://EXAMPLE.com:443/a/./b/../c?x=1#y"],
      ["http://user:p@ss@host:8080/"],
      ["HTTP://[::FFFF:192.168.0.1]/"],
      ["http://0x7f.1/"],
      ["http://192.168.257/"],
      ["http://999999999999/"],
      ["https://xn--nxasmq6b.com/"],
      ["https://bücher.de/ü?ü#ü"],
      ["file:///C:/x/../y"],
      ["data:text/plain,hello world"],
      ["mailto:Someone@Example.com"],
      ["javascript:alert(1)"],
      ["blob:https://example.com/uuid"],
      ["http://example.com/%7e/%2F/ a"],
      ["http://example.com/?q= a&b=\u00e9"],
      ["ws://h:80/", undefined],
      ["wss://h:443/"],
      ["../x?y", "http://h/a/b/c"],
      ["//other/p", "https://h/"],
      ["?q", "http://h/p?old#f"],
      ["#h", "http://h/p?q"],
      ["", "http://h/p?q#f"],
      ["  http://h/ \n"],
      ["http://h\\a\\b"],
      ["non-special://h/a/../b"],
      ["http://"],
      ["http://h:99999/"],
      ["/relative"],
      ["http://exa mple.com/"],
      ["http://[1:2::3:4]:81/"],
      ["http://%41.com/"],
      ["https://a.b.c./"],
    ];
    for (const [input, base] of cases) {
      r.ck("parse " + JSON.stringify(input) + (base ? " @ " + base : ""), () => parts(new URL(input, base)));
    }
    r.ck("canParse", () => [URL.canParse("http://x"), URL.canParse("x"), URL.canParse("x", "http://h/")]);
    r.ck("parse static", () => (typeof URL.parse === "function" ? [URL.parse("x")?.href ?? null, URL.parse("x", "http://h/")?.href] : "absent"));
    r.ck("setters", () => {
      const u = new URL("http://h/p");
      u.protocol = "https";
      u.host = "Other:8443";
      u.pathname = "a b/c";
      u.search = "x=1 2";
      u.hash = "h h";
      u.username = "us er";
      u.password = "p:w";
      return parts(u);
    });
    r.ck("bad protocol setter ignored", () => {
      const u = new URL("http://h/");
      u.protocol = "mailto";
      return u.href;
    });
    r.ck("port setter", () => {
      const u = new URL("http://h/");
      u.port = "80";
      const a = u.href;
      u.port = "8080abc";
      const b = u.href;
      u.port = "";
      return [a, b, u.href];
    });
    r.ck("href setter invalid", () => {
      const u = new URL("http://h/");
      u.href = "nope";
    });
    r.ck("searchParams live", () => {
      const u = new URL("http://h/?a=1");
      u.searchParams.append("b", "x y");
      u.search = "?c=3";
      return [u.href, [...u.searchParams]];
    });
    r.ck("toJSON/toString", () => [new URL("http://h/x").toJSON(), String(new URL("http://h/x"))]);
    r.ck("toStringTag", () => Object.prototype.toString.call(new URL("http://h")));
    r.ck("no args", () => new URL());
    r.ck("proto keys", () => Object.getOwnPropertyNames(URL.prototype).sort());
    r.ck("static keys", () => Object.getOwnPropertyNames(URL).sort());
    r.ck("JSON", () => JSON.stringify({ u: new URL("http://h/ü") }));
    return r.response();
  },
};
