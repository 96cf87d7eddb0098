import { Rec } from "./prelude.js";

// Parses the incoming request body as a form, as an upload handler would.
export default {
  async fetch(request) {
    const r = new Rec();
    r.set("method", request.method);
    r.set("content-type prefix", (request.headers.get("content-type") || "").split(";")[0]);
    await r.ack("form", async () => {
      const fd = await request.formData();
      const out = [];
      for (const [k, v] of fd) {
        out.push(typeof v === "string" ? [k, v] : [k, v.name, v.type, await v.text()]);
      }
      return out;
    });
    r.set("bodyUsed", request.bodyUsed);
    return r.response();
  },
};
