import { Rec } from "./prelude.js";

export default {
  async fetch() {
    const r = new Rec();
    const b = new Blob(["héllo", new Uint8Array([33, 34]), new Blob(["<b>"])], { type: "Text/Plain;Charset=UTF-8" });
    r.ck("size/type", () => [b.size, b.type]);
    await r.ack("text", () => b.text());
    await r.ack("arrayBuffer", () => b.arrayBuffer());
    await r.ack("bytes", () => (typeof b.bytes === "function" ? b.bytes() : "absent"));
    await r.ack("slice", () => b.slice(1, 4).text());
    await r.ack("slice negative", () => b.slice(-4, -1).text());
    r.ck("slice type", () => [b.slice(0, 1, "X/Y").type, b.slice(0, 1).type]);
    r.ck("bad type chars", () => new Blob([], { type: "a\u00e9" }).type);
    r.ck("endings", () => new Blob(["a\nb"], { endings: "native" }).size);
    r.ck("bad endings", () => new Blob(["a"], { endings: "bad" }));
    r.ck("non-iterable parts", () => new Blob("abc"));
    r.ck("number part", () => new Blob([12, null]).size);
    await r.ack("stream", async () => {
      const reader = b.stream().getReader();
      let n = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        n += value.byteLength;
      }
      return n;
    });
    r.ck("File", () => {
      const f = new File(["abc"], "dir/na me.txt", { type: "text/plain", lastModified: 1234 });
      return [f.name, f.size, f.type, f.lastModified, f instanceof Blob, Object.prototype.toString.call(f)];
    });
    r.ck("File missing name", () => new File(["x"]));
    r.ck("File webkitRelativePath", () => new File([], "x", { lastModified: 0 }).webkitRelativePath);
    r.ck("toStringTag", () => Object.prototype.toString.call(b));
    r.ck("proto keys", () => Object.getOwnPropertyNames(Blob.prototype).sort());
    r.ck("file proto keys", () => Object.getOwnPropertyNames(File.prototype).sort());
    await r.ack("response from blob", async () => {
      const res = new Response(new Blob(["zz"], { type: "a/b" }));
      return [res.headers.get("content-type"), await res.text()];
    });
    return r.response();
  },
};
