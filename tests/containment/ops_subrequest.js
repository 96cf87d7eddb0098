// Hostile subrequests are refused in Rust before anything is sent (the
// origin is on loopback and must never see them); each refusal is a
// catchable exception.
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    const attempt = async (f) => {
      try {
        const res = await f();
        return new Response(`sent ${res.status}`);
      } catch (e) {
        return new Response(`${e.constructor.name}: ${e.message}`);
      }
    };
    switch (path) {
      case "/long-url":
        return attempt(() => fetch(`${env.ORIGIN}/long/${"a".repeat(20 * 1024)}`));
      case "/25000-headers": {
        const H = new Headers();
        // (Distinct names: a request joins repeated ones into one field.)
        for (let i = 0; i < 25000; i++) H.append(`x-h${i}`, "1");
        return attempt(() => fetch(`${env.ORIGIN}/many-headers`, { headers: H }));
      }
      case "/crlf-bypass": {
        // As in ops_headers.js: the built-in is swapped once the request
        // is built, so only what is read from it afterwards carries CR LF.
        const req = new Request(`${env.ORIGIN}/crlf-bypass`, { headers: { "x-a": "1" } });
        const get = Map.prototype.get;
        Map.prototype.get = function (k) {
          const v = get.call(this, k);
          return k === "x-a" ? ["1\r\nX-Injected: yes"] : v;
        };
        try {
          return await attempt(() => fetch(req));
        } finally {
          Map.prototype.get = get;
        }
      }
      default:
        return new Response("subrequest ok");
    }
  },
};
