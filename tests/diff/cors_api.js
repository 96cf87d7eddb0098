// A small JSON API behind CORS, as many Workers are: preflight, allowed
// origins, JSON errors, method checks.
const ALLOWED = new Set(["https://app.example", "https://admin.example"]);

function corsHeaders(origin) {
  const h = new Headers({ vary: "Origin" });
  if (origin && ALLOWED.has(origin)) {
    h.set("access-control-allow-origin", origin);
    h.set("access-control-allow-credentials", "true");
  }
  return h;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const origin = request.headers.get("origin");
    if (request.method === "OPTIONS") {
      const h = corsHeaders(origin);
      h.set("access-control-allow-methods", "GET, POST, DELETE");
      h.set("access-control-allow-headers", request.headers.get("access-control-request-headers") || "");
      h.set("access-control-max-age", "86400");
      return new Response(null, { status: 204, headers: h });
    }
    const headers = corsHeaders(origin);
    const items = { 1: { id: 1, name: "one" }, 2: { id: 2, name: "two" } };
    const m = url.pathname.match(/^\/api\/items(?:\/(\d+))?$/);
    if (!m) return Response.json({ error: "not found", path: url.pathname }, { status: 404, headers });
    if (request.method === "GET") {
      if (m[1] === undefined) {
        const limit = Number(url.searchParams.get("limit") ?? 10);
        return Response.json(Object.values(items).slice(0, limit), { headers });
      }
      const item = items[m[1]];
      return item ? Response.json(item, { headers }) : Response.json({ error: "no item " + m[1] }, { status: 404, headers });
    }
    if (request.method === "POST") {
      let body;
      try {
        body = await request.json();
      } catch (e) {
        return Response.json({ error: e.name, message: e.message }, { status: 400, headers });
      }
      headers.set("location", new URL("/api/items/3", url).pathname);
      return Response.json({ id: 3, ...body }, { status: 201, headers });
    }
    headers.set("allow", "GET, POST, OPTIONS");
    return new Response("method not allowed", { status: 405, headers });
  },
};
