// A small JSON API answered entirely by the worker: a list of items that
// lives as long as the isolate (an in-memory demo store, as on Workers:
// each proxy thread has its own isolate, so each has its own list; use
// Workers KV for state every request sees).
const items = new Map([
  [1, { id: 1, name: "apple" }],
  [2, { id: 2, name: "pear" }],
]);
let nextId = 3;

function error(status, message) {
  return Response.json({ error: message }, { status });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts[0] !== "api" || parts[1] !== "items" || parts.length > 3) {
      return error(404, `no such endpoint: ${url.pathname}`);
    }
    if (parts.length === 2) {
      if (request.method === "GET") {
        const q = url.searchParams.get("q");
        const list = [...items.values()].filter((i) => !q || i.name.includes(q));
        return Response.json({ items: list, service: env.SERVICE ?? "items" });
      }
      if (request.method === "POST") {
        let body;
        try {
          body = await request.json();
        } catch {
          return error(400, "body must be JSON");
        }
        if (typeof body?.name !== "string" || body.name === "") return error(422, "name is required");
        const item = { id: nextId++, name: body.name };
        items.set(item.id, item);
        return Response.json(item, { status: 201, headers: { location: `/api/items/${item.id}` } });
      }
      return error(405, `method ${request.method} not allowed`);
    }
    const id = Number(parts[2]);
    const item = items.get(id);
    if (!item) return error(404, `no item ${parts[2]}`);
    if (request.method === "GET") return Response.json(item);
    if (request.method === "DELETE") {
      items.delete(id);
      return new Response(null, { status: 204 });
    }
    return error(405, `method ${request.method} not allowed`);
  },
};
