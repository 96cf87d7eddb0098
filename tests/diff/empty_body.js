import { Rec } from "./prelude.js";

// request.body for requests with an empty body (Content-Length: 0, an empty
// chunked body) and without one, and what reading it does.
export default {
  async fetch(request) {
    const r = new Rec();
    r.set("method", request.method);
    r.set("content-length", request.headers.get("content-length"));
    r.set("transfer-encoding", request.headers.get("transfer-encoding"));
    r.set("body null", request.body === null);
    r.ck("body type", () => request.body && request.body.constructor.name);
    r.set("bodyUsed", request.bodyUsed);
    r.ck("clone body null", () => request.clone().body === null);
    r.ck("new Request body null", () => new Request(request.clone()).body === null);
    const url = new URL(request.url);
    if (url.pathname === "/reader") {
      await r.ack("read", async () => {
        const reader = request.body.getReader();
        const first = await reader.read();
        return [first.done, first.value === undefined ? "undefined" : first.value.byteLength];
      });
    } else if (url.pathname === "/buffer") {
      await r.ack("arrayBuffer", async () => (await request.arrayBuffer()).byteLength);
    } else {
      await r.ack("text", () => request.text());
    }
    r.set("bodyUsed after", request.bodyUsed);
    r.ck("body null after", () => request.body === null);
    await r.ack("text again", () => request.text());
    await r.ack("clone after", () => request.clone().text());
    return r.response();
  },
};
