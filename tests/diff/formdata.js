import { Rec } from "./prelude.js";

const entries = async (fd) => {
  const out = [];
  for (const [k, v] of fd) {
    out.push(typeof v === "string" ? [k, v] : [k, v.constructor.name, v.name, v.type, v.size, await v.text()]);
  }
  return out;
};

export default {
  async fetch() {
    const r = new Rec();
    await r.ack("api", async () => {
      const fd = new FormData();
      fd.append("a", "1");
      fd.append("a", "2");
      fd.append("f", new Blob(["x"], { type: "text/plain" }));
      fd.append("g", new Blob(["yy"]), "g.bin");
      fd.append("h", new File(["zzz"], "orig.txt", { type: "a/b", lastModified: 5 }), "renamed.txt");
      fd.set("b", "3");
      const got = [fd.get("a"), fd.getAll("a"), fd.has("b"), fd.get("nope")];
      fd.delete("a");
      return [got, await entries(fd)];
    });
    r.ck("append non-blob with filename", () => new FormData().append("a", "b", "c.txt"));
    r.ck("newline normalisation in name", () => {
      const fd = new FormData();
      fd.append("a\nb", "c\r\nd\re");
      return [...fd];
    });
    await r.ack("roundtrip", async () => {
      const fd = new FormData();
      fd.append("text", "héllo\r\nworld");
      fd.append("quo\"te", "v");
      fd.append("file", new File(["data"], "a \"b\".txt", { type: "application/x-thing", lastModified: 0 }));
      fd.append("empty", new Blob([]), "");
      const res = new Response(fd);
      return entries(await res.formData());
    });
    await r.ack("urlencoded body", async () => {
      const res = new Response("a=1&b=%20x+y&a=3", { headers: { "content-type": "application/x-www-form-urlencoded;charset=UTF-8" } });
      return entries(await res.formData());
    });
    await r.ack("wrong content type", async () => new Response("a=1", { headers: { "content-type": "text/plain" } }).formData());
    await r.ack("no content type", async () => new Response("a=1").formData());
    await r.ack("multipart manual", async () => {
      const body =
        "--BOUND\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nvalue x\r\n" +
        "--BOUND\r\nContent-Disposition: form-data; name=\"up\"; filename=\"u.txt\"\r\nContent-Type: text/csv\r\n\r\n1,2\r\n3,4\r\n" +
        "--BOUND--\r\n";
      const res = new Response(body, { headers: { "content-type": "multipart/form-data; boundary=BOUND" } });
      return entries(await res.formData());
    });
    await r.ack("multipart quoted boundary", async () => {
      const body = "--a b\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\nv\r\n--a b--";
      const res = new Response(body, { headers: { "content-type": 'multipart/form-data; boundary="a b"' } });
      return entries(await res.formData());
    });
    await r.ack("multipart missing boundary", async () => new Response("x", { headers: { "content-type": "multipart/form-data" } }).formData());
    await r.ack("multipart garbage", async () => new Response("garbage", { headers: { "content-type": "multipart/form-data; boundary=zz" } }).formData());
    r.ck("toStringTag", () => Object.prototype.toString.call(new FormData()));
    r.ck("proto keys", () => Object.getOwnPropertyNames(FormData.prototype).sort());
    r.ck("ctor with non-form", () => new FormData({}));
    return r.response();
  },
};
