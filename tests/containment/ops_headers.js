// Header attacks on the response a script sends. Rust bounds every message
// (1000 fields, 128 KiB) and checks every field, whatever the JS did.
export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    const many = (n) => {
      const h = new Headers();
      for (let i = 0; i < n; i++) h.append(`x-h${i}`, "1");
      return h;
    };
    switch (path) {
      // The reported bug: this used to abort the whole process.
      case "/25000": {
        const H = new Headers();
        for (let i = 0; i < 25000; i++) H.append("x", "1");
        return new Response("ok", { headers: H });
      }
      // (No body, so no Content-Type is added: exactly n fields.)
      case "/1000":
        return new Response(null, { headers: many(1000) });
      case "/1001":
        return new Response(null, { headers: many(1001) });
      case "/200k":
        return new Response("ok", { headers: { "x-big": "v".repeat(200 * 1024) } });
      case "/crlf":
        // Refused by Headers itself.
        return new Response("ok", { headers: { "x-a": "a\r\nSet-Cookie: forged=1" } });
      case "/crlf-bypass": {
        // Swap a built-in the bootstrap uses after its checks, once the
        // handler has returned (a microtask runs before the response is
        // read), so the value that reaches Rust carries CR LF. Rust must
        // refuse it (500); a bootstrap that no longer uses the swapped
        // built-in sends "x-a: 1". (It only touches the key "x-a".)
        const res = new Response("ok", { headers: { "x-a": "1" } });
        queueMicrotask(() => {
          const get = Map.prototype.get;
          Map.prototype.get = function (k) {
            const v = get.call(this, k);
            return k === "x-a" ? ["1\r\nSet-Cookie: forged=1"] : v;
          };
        });
        return res;
      }
      default:
        return new Response("headers ok");
    }
  },
};
