import { Rec } from "./prelude.js";

const tryEdit = (h) => {
  h.set("x-edit", "1");
  return h.get("x-edit");
};

// Which headers a script may change: the incoming request's, its clones',
// requests made from it, a subrequest's response and responses made from it.
export default {
  async fetch(request, env) {
    const r = new Rec();
    r.ck("incoming", () => tryEdit(request.headers));
    r.ck("incoming append", () => request.headers.append("x-a", "1"));
    r.ck("incoming delete", () => request.headers.delete("x-one"));
    r.ck("clone", () => tryEdit(request.clone().headers));
    r.ck("clone of clone", () => tryEdit(request.clone().clone().headers));
    r.ck("new Request(req)", () => tryEdit(new Request(request).headers));
    r.ck("new Request(req, {})", () => tryEdit(new Request(request, {}).headers));
    r.ck("new Request(req, {headers})", () => tryEdit(new Request(request, { headers: request.headers }).headers));
    r.ck("new Request(url, req)", () => tryEdit(new Request("http://x.test/", request).headers));
    r.ck("new Request(req).clone()", () => tryEdit(new Request(request).clone().headers));
    r.ck("new Headers(incoming)", () => tryEdit(new Headers(request.headers)));
    r.ck("incoming still", () => request.headers.get("x-edit"));
    const made = new Request("http://x.test/", { headers: { a: "1" } });
    r.ck("made", () => tryEdit(made.headers));
    r.ck("made clone", () => tryEdit(made.clone().headers));

    const res = await fetch(env.ORIGIN + "/status/201");
    r.ck("fetched", () => tryEdit(res.headers));
    r.ck("fetched clone", () => tryEdit(res.clone().headers));
    r.ck("new Response(body, fetched)", () => tryEdit(new Response(null, res).headers));
    r.ck("new Response(body, fetched).clone()", () => tryEdit(new Response(null, res).clone().headers));
    r.ck("Response.redirect", () => tryEdit(Response.redirect("http://x.test/", 302).headers));
    r.ck("Response.redirect clone", () => tryEdit(Response.redirect("http://x.test/", 302).clone().headers));
    r.ck("Response.error", () => tryEdit(Response.error().headers));
    r.ck("Response.json", () => tryEdit(Response.json({}).headers));
    r.ck("new Response", () => tryEdit(new Response("x").headers));
    r.ck("new Response clone", () => tryEdit(new Response("x").clone().headers));
    await res.arrayBuffer();
    return r.response();
  },
};
