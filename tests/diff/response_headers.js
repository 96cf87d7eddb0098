// Status codes and headers a worker sets on its responses.
export default {
  async fetch(request) {
    const { pathname, searchParams } = new URL(request.url);
    switch (pathname) {
      case "/cookies": {
        const h = new Headers();
        h.append("Set-Cookie", "a=1; Path=/");
        h.append("Set-Cookie", "b=2; HttpOnly");
        h.append("X-Multi", "one");
        h.append("X-Multi", "two");
        return new Response("cookies", { headers: h });
      }
      case "/status": {
        const code = Number(searchParams.get("code"));
        return new Response(code === 204 || code === 304 ? null : "status " + code, { status: code });
      }
      case "/redirect":
        return Response.redirect("https://example.com/target?x=1", Number(searchParams.get("code") || 302));
      case "/json":
        return Response.json({ ok: true, list: [1, 2, 3] }, { headers: { "x-extra": "e" } });
      case "/custom-type":
        return new Response("<p>hi</p>", { headers: { "content-type": "text/html;charset=UTF-8" } });
      case "/blob":
        return new Response(new Blob(["blob body"], { type: "application/x-blob" }));
      case "/bytes":
        return new Response(new Uint8Array([0, 1, 2, 255]));
      case "/params":
        return new Response(new URLSearchParams({ q: "a b", r: "é" }));
      case "/empty":
        return new Response();
      case "/error":
        throw new Error("handler failed");
      case "/not-response":
        return "a string";
      case "/reject":
        return Promise.reject(new TypeError("rejected"));
      case "/case":
        return new Response("case", { headers: { "X-CamelCase": "V", "content-LANGUAGE": "en" } });
      case "/mutated": {
        const res = new Response("m", { headers: { "x-a": "1" } });
        res.headers.set("x-b", "2");
        res.headers.delete("x-a");
        return res;
      }
      case "/clone-response": {
        const res = Response.json({ c: 1 });
        return new Response(res.body, res);
      }
      case "/explicit-length":
        return new Response("abc", { headers: { "content-length": "3" } });
      case "/head-like":
        return new Response(null, { status: 200, headers: { "content-length": "100", "content-type": "text/plain" } });
      case "/stream-with-length": {
        const { readable, writable } = new FixedLengthStream(5);
        const w = writable.getWriter();
        w.write(new TextEncoder().encode("12345"));
        w.close();
        return new Response(readable);
      }
      case "/empty-string":
        return new Response("");
      case "/null-json":
        return Response.json(null);
      case "/status-text":
        return new Response("t", { status: 299, statusText: "Custom Thing" });
      default:
        return new Response("not found", { status: 404, statusText: "Nope" });
    }
  },
};
