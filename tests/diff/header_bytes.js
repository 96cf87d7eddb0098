import { Rec } from "./prelude.js";

const codes = (s) => (s === null ? null : [...s].map((c) => c.codePointAt(0).toString(16)).join(" "));
const origin = (env, path) => env.ORIGIN + path;

// Header values past ASCII, both directions: the client's request headers
// (UTF-8, Latin-1 obs-text and invalid UTF-8 bytes) as the script reads them,
// values the script sets (past U+007F, past U+00FF) as they reach an origin
// and the client, and a subrequest's response header with UTF-8 bytes.
export default {
  async fetch(request, env) {
    const r = new Rec();
    const url = new URL(request.url);
    const h = request.headers;
    for (const name of ["x-utf8", "x-latin1", "x-bad", "x-mixed"]) {
      r.ck(`get ${name}`, () => h.get(name));
      r.ck(`codes ${name}`, () => codes(h.get(name)));
    }
    r.ck("entries x-", () => [...h].filter(([k]) => k.startsWith("x-")));
    r.ck("clone get x-utf8", () => request.clone().headers.get("x-utf8"));
    r.ck("new Headers get", () => new Headers(h).get("x-utf8"));

    // Values the script makes.
    const mine = new Headers();
    r.ck("set U+00E9", () => (mine.set("x-e9", "caf\u00e9"), codes(mine.get("x-e9"))));
    r.ck("set U+2713", () => (mine.set("x-check", "ok \u2713"), codes(mine.get("x-check"))));
    r.ck("set emoji", () => (mine.set("x-emoji", "\u{1F600}"), codes(mine.get("x-emoji"))));
    r.ck("set lone surrogate", () => (mine.set("x-lone", "a\ud800b"), codes(mine.get("x-lone"))));
    r.ck("set U+0085", () => (mine.set("x-nel", "a\u0085b"), codes(mine.get("x-nel"))));
    r.ck("set U+2028", () => (mine.set("x-ls", "a\u2028b"), codes(mine.get("x-ls"))));
    r.ck("init record", () => codes(new Headers({ "x-r": "Zo\u00eb \u2713" }).get("x-r")));

    if (url.pathname === "/sub") {
      // What an origin receives: headers built in JS, the incoming headers
      // untouched (copy-on-write), and the incoming headers plus an edit.
      await r.ack("sub js", async () => {
        const res = await fetch(origin(env, "/echo"), { headers: { "x-sub": "Zo\u00eb \u2713", "x-e9": "caf\u00e9" } });
        const j = await res.json();
        return [j.headers["x-sub"], j.headers["x-e9"]];
      });
      await r.ack("sub incoming untouched", async () => {
        const res = await fetch(origin(env, "/echo"), { headers: request.headers });
        const j = await res.json();
        return [j.headers["x-utf8"], j.headers["x-mixed"]];
      });
      await r.ack("sub incoming edited", async () => {
        const hh = new Headers(request.headers);
        hh.set("x-added", "\u00fc\u2713");
        const res = await fetch(origin(env, "/echo"), { headers: hh });
        const j = await res.json();
        return [j.headers["x-utf8"], j.headers["x-added"]];
      });
      await r.ack("sub incoming read", async () => {
        const hh = new Headers(request.headers);
        hh.get("x-utf8");
        const res = await fetch(origin(env, "/echo"), { headers: hh });
        const j = await res.json();
        return [j.headers["x-utf8"], j.headers["x-mixed"]];
      });
      await r.ack("sub response header", async () => {
        const res = await fetch(origin(env, "/redirect?to=/Zo%C3%AB%20%E2%9C%93"), { redirect: "manual" });
        const loc = res.headers.get("location");
        return [res.status, loc, codes(loc)];
      });
      await r.ack("sub response passed on", async () => {
        const res = await fetch(origin(env, "/redirect?to=/Zo%C3%AB"), { redirect: "manual" });
        return [...new Response(null, res).headers].filter(([k]) => k === "location");
      });
    }

    if (url.pathname === "/passresp") {
      // A subrequest's response head handed on untouched.
      return fetch(origin(env, "/redirect?to=/Zo%C3%AB%20%E2%9C%93"), { redirect: "manual" });
    }
    const res = r.response();
    if (url.pathname === "/out") {
      res.headers.set("x-out-utf8", "Zo\u00eb \u2713");
      res.headers.set("x-out-e9", "caf\u00e9");
      res.headers.append("x-out-multi", "\u00e0");
      res.headers.append("x-out-multi", "\u4e2d");
      const echoed = h.get("x-utf8");
      if (echoed !== null) res.headers.set("x-out-echo", echoed);
    }
    return res;
  },
};
