import { Rec } from "./prelude.js";

const info = (res) => ({
  status: res.status,
  statusText: res.statusText,
  ok: res.ok,
  type: res.type,
  url: res.url,
  redirected: res.redirected,
  headers: [...res.headers],
  body: res.body === null ? null : typeof res.body,
});

export default {
  async fetch() {
    const r = new Rec();
    r.ck("default", () => info(new Response()));
    r.ck("string", () => info(new Response("x")));
    r.ck("status 201 text", () => info(new Response(null, { status: 201, statusText: "Made" })));
    r.ck("status 199", () => new Response(null, { status: 199 }));
    r.ck("status 600", () => new Response(null, { status: 600 }));
    r.ck("status 599", () => new Response(null, { status: 599 }).status);
    r.ck("status 1000", () => new Response(null, { status: 1000 }));
    r.ck("status string", () => new Response(null, { status: "404" }).status);
    r.ck("statusText bad", () => new Response(null, { statusText: "a\nb" }));
    r.ck("204 with body", () => new Response("x", { status: 204 }));
    r.ck("204 empty string body", () => new Response("", { status: 204 }));
    r.ck("304 null body", () => info(new Response(null, { status: 304 })));
    r.ck("json", () => info(Response.json({ a: 1 })));
    await r.ack("json body", () => Response.json({ a: [1, "x"] }).text());
    r.ck("json status+headers", () => info(Response.json(1, { status: 418, headers: { "content-type": "text/custom" } })));
    r.ck("json bigint", () => Response.json(1n));
    r.ck("json undefined", () => Response.json(undefined));
    r.ck("redirect", () => info(Response.redirect("https://example.com/x")));
    r.ck("redirect 307", () => info(Response.redirect("https://example.com/x", 307)));
    r.ck("redirect 200", () => Response.redirect("https://example.com/x", 200));
    r.ck("redirect relative", () => Response.redirect("/x"));
    r.ck("error", () => info(Response.error()));
    r.ck("toStringTag", () => Object.prototype.toString.call(new Response()));
    await r.ack("clone texts", async () => {
      const a = new Response("body");
      const b = a.clone();
      return [await b.text(), await a.text()];
    });
    await r.ack("clone used", async () => {
      const a = new Response("body");
      await a.text();
      return a.clone();
    });
    r.ck("headers init array", () => info(new Response(null, { headers: [["a", "1"]] })));
    r.ck("headers bad init", () => new Response(null, { headers: [["a"]] }));
    r.ck("statusText default 404", () => new Response(null, { status: 404 }).statusText);
    r.ck("webSocket", () => new Response().webSocket);
    r.ck("encodeBody", () => new Response().encodeBody);
    r.ck("cf", () => new Response().cf);
    return r.response();
  },
};
