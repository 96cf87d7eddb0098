import { Rec, settle } from "./prelude.js";

// Who owns a body after it is handed on: bodyUsed, locked, re-reading.
export default {
  async fetch(request) {
    const r = new Rec();
    await r.ack("new Response(res.body): original state", async () => {
      const a = new Response("abc");
      const b = new Response(a.body);
      return [a.bodyUsed, a.body.locked, b.bodyUsed, await b.text(), a.bodyUsed, a.body.locked];
    });
    await r.ack("read the original after handing on", async () => {
      const a = new Response("abc");
      const b = new Response(a.body);
      const t = await settle(a.text());
      return [t, await b.text()];
    });
    await r.ack("hand on twice", async () => {
      const a = new Response("abc");
      const b = new Response(a.body);
      const c = new Response(a.body);
      return [await b.text(), await settle(c.text())];
    });
    await r.ack("hand on after reading", async () => {
      const a = new Response("abc");
      await a.text();
      return settle((async () => new Response(a.body))());
    });
    await r.ack("Request from Request takes the body", async () => {
      const a = new Request("https://x/", { method: "POST", body: "data" });
      const b = new Request(a);
      return [a.bodyUsed, await b.text(), await settle(a.text())];
    });
    await r.ack("Request with new body leaves old", async () => {
      const a = new Request("https://x/", { method: "POST", body: "data" });
      const b = new Request(a, { body: "other" });
      return [a.bodyUsed, await a.text(), await b.text()];
    });
    await r.ack("tee then read both", async () => {
      const a = new Response("xyz");
      const [s1, s2] = a.body.tee();
      return [a.bodyUsed, await new Response(s1).text(), await new Response(s2).text()];
    });
    await r.ack("clone after reader released", async () => {
      const a = new Response("abc");
      a.body.getReader().releaseLock();
      const b = a.clone();
      return [await a.text(), await b.text()];
    });
    await r.ack("getReader then read partially then text", async () => {
      const a = new Response("abcdef");
      const rd = a.body.getReader();
      const first = await rd.read();
      rd.releaseLock();
      return [first.value.byteLength, a.bodyUsed, await settle(a.text())];
    });
    await r.ack("incoming body handed on", async () => {
      const b = new Response(request.body);
      return [request.bodyUsed, await b.text(), request.bodyUsed];
    });
    return r.response();
  },
};
