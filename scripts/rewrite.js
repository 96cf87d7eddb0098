// Middleware in front of an origin: answers /health itself, rewrites every
// other path under /v2, passes the request on, and marks the response.
import { withPrefix } from "./lib/paths.js";

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return new Response("ok");
    url.pathname = withPrefix(url.pathname, "/v2");
    const upstream = new Request(url, request);
    upstream.headers.set("x-forwarded-by", "isoproxy");
    const res = await fetch(upstream);
    const out = new Response(res.body, res);
    out.headers.set("x-served-by", env.NODE_NAME ?? "isoproxy");
    return out;
  },
};
