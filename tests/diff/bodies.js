import { Rec } from "./prelude.js";

const enc = new TextEncoder();

export default {
  async fetch() {
    const r = new Rec();
    const inits = {
      string: () => "héllo",
      arraybuffer: () => enc.encode("ab").buffer,
      uint8: () => enc.encode("cd"),
      subarray: () => enc.encode("xxefxx").subarray(2, 4),
      dataview: () => new DataView(enc.encode("gh").buffer),
      blob: () => new Blob(["ij"], { type: "Text/Plain" }),
      params: () => new URLSearchParams("a=1&b=2 3"),
      stream: () => new ReadableStream({ start(c) { c.enqueue(enc.encode("kl")); c.close(); } }),
      null: () => null,
      undefined: () => undefined,
      number: () => 42,
      object: () => ({ a: 1 }),
    };
    for (const [name, make] of Object.entries(inits)) {
      await r.ack("response " + name, async () => {
        const res = new Response(make());
        return [res.headers.get("content-type"), await res.text()];
      });
      await r.ack("request " + name, async () => {
        const req = new Request("https://x/", { method: "POST", body: make() });
        return [req.headers.get("content-type"), await req.text()];
      });
    }
    await r.ack("formdata content-type", async () => {
      const fd = new FormData();
      fd.append("a", "1");
      const res = new Response(fd);
      return res.headers.get("content-type").startsWith("multipart/form-data; boundary=");
    });
    await r.ack("arrayBuffer", async () => new Response("xyz").arrayBuffer());
    await r.ack("bytes", async () => new Response("xyz").bytes());
    await r.ack("json ok", async () => new Response('{"a":[1]}').json());
    await r.ack("json bad", async () => new Response("{bad").json());
    await r.ack("json empty", async () => new Response("").json());
    await r.ack("blob", async () => {
      const b = await new Response("xyz", { headers: { "content-type": "Text/HTML; charset=UTF-8" } }).blob();
      return [b.size, b.type, b.constructor.name];
    });
    await r.ack("read twice", async () => {
      const res = new Response("x");
      await res.text();
      return res.text();
    });
    await r.ack("bodyUsed", async () => {
      const res = new Response("x");
      const before = res.bodyUsed;
      await res.arrayBuffer();
      return [before, res.bodyUsed];
    });
    await r.ack("body locked", async () => {
      const res = new Response("x");
      res.body.getReader();
      return res.text();
    });
    await r.ack("null body text", async () => new Response(null).text());
    await r.ack("null body stream", async () => new Response(null).body);
    await r.ack("bad utf8 text", async () => new Response(new Uint8Array([0x61, 0xff, 0x62])).text());
    await r.ack("bom text", async () => new Response(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])).text());
    await r.ack("body is same object", async () => {
      const res = new Response("x");
      return res.body === res.body;
    });
    await r.ack("typed array body copied", async () => {
      const u = enc.encode("abc");
      const res = new Response(u);
      u[0] = 122;
      return res.text();
    });
    return r.response();
  },
};
