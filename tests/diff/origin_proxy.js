import { Rec } from "./prelude.js";

// A worker in front of an origin (env.ORIGIN, a local test server that echoes
// requests as JSON; /status/N, /redirect?to=URL): subrequests, redirects,
// rewriting a fetched response, passing one through.
const pick = (h) => [...h].filter(([k]) => k.startsWith("x-") || k === "content-type" || k === "set-cookie");
const where = (u) => {
  const x = new URL(u);
  return x.pathname + x.search;
};

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const origin = env.ORIGIN;
    if (url.pathname === "/pass") {
      // Forward the incoming request, add a header to the answer.
      const res = await fetch(origin + "/status/201" + url.search, request);
      const out = new Response(res.body, res);
      out.headers.set("x-worker", "1");
      out.headers.delete("date");
      return out;
    }
    if (url.pathname === "/rewrite") {
      const res = await fetch(origin + "/echo", { method: "POST", body: "payload", headers: { "x-from": "worker" } });
      const data = await res.json();
      return Response.json({ method: data.method, path: data.path, body: data.body, x: data.headers["x-from"] }, { status: 202 });
    }
    const r = new Rec();
    await r.ack("get", async () => {
      const res = await fetch(`${origin}/echo/a?b=c`, { headers: { "X-Test": "1" } });
      const body = await res.json();
      return {
        status: res.status, statusText: res.statusText, ok: res.ok, redirected: res.redirected,
        url: where(res.url), type: res.type, headers: pick(res.headers), cookies: res.headers.getSetCookie(),
        echo: [body.method, body.path, body.query, body.headers["x-test"], body.body],
      };
    });
    await r.ack("status 404", async () => {
      const res = await fetch(`${origin}/status/404`);
      return [res.status, res.statusText, res.ok, await res.text()];
    });
    await r.ack("status 503", async () => {
      const res = await fetch(`${origin}/status/503`);
      return [res.status, res.statusText, res.ok];
    });
    await r.ack("redirect followed", async () => {
      const res = await fetch(`${origin}/redirect?to=${encodeURIComponent(origin + "/echo/after")}`);
      const body = await res.json();
      return [res.status, res.redirected, where(res.url), body.path];
    });
    await r.ack("redirect manual", async () => {
      const res = await fetch(`${origin}/redirect?to=/elsewhere`, { redirect: "manual" });
      return [res.status, res.redirected, res.headers.get("location"), await res.text()];
    });
    await r.ack("post json", async () => {
      const res = await fetch(`${origin}/echo`, { method: "POST", body: JSON.stringify({ a: 1 }), headers: { "content-type": "application/json" } });
      const body = await res.json();
      return [body.method, body.body, body.headers["content-type"], body.headers["content-length"]];
    });
    await r.ack("request object", async () => {
      const req = new Request(`${origin}/echo/req`, { method: "PUT", body: "put body", headers: { "x-r": "r" } });
      const body = await (await fetch(req)).json();
      return [body.method, body.path, body.body, body.headers["x-r"]];
    });
    await r.ack("head", async () => {
      const res = await fetch(`${origin}/echo`, { method: "HEAD" });
      return [res.status, await res.text()];
    });
    await r.ack("clone and read twice", async () => {
      const res = await fetch(`${origin}/echo/c`);
      const c = res.clone();
      return [(await res.json()).path, (await c.json()).path];
    });
    await r.ack("abort before", async () => {
      const ac = new AbortController();
      ac.abort();
      return fetch(`${origin}/echo`, { signal: ac.signal });
    });
    await r.ack("bad url", async () => fetch("not a url"));
    return r.response();
  },
};
