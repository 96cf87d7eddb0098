// Blob, File and FormData, and their use as Request/Response bodies.
import { test, assert, assertEquals, assertThrows, assertRejects, suite } from "./harness.js";

const enc = (s) => new TextEncoder().encode(s);

test("Blob: constructor parts, size, type, toStringTag", async () => {
  const b = new Blob(["ab", enc("c"), new Uint16Array([0x6564]).buffer, new Blob(["f"])], { type: "Text/Plain" });
  assertEquals(b.size, 6);
  assertEquals(b.type, "text/plain");
  assertEquals(await b.text(), "abcdef");
  assertEquals(Object.prototype.toString.call(b), "[object Blob]");
  assert(b instanceof Blob);
  assertEquals(new Blob().size, 0);
  assertEquals(new Blob([], { type: "a\u00e9" }).type, "");
  assertEquals(await new Blob(["\ud800"]).text(), "\ufffd");
  assertThrows(() => new Blob(["a\r\nb\r"], { endings: "native" }), Error, "not implemented");
  assertThrows(() => new Blob("abc"), TypeError);
  assertThrows(() => new Blob([], { endings: "nope" }), Error);
  assertThrows(() => Blob(), TypeError);
});

test("Blob: slice with negative indices", async () => {
  const b = new Blob(["0123456789"], { type: "text/plain" });
  assertEquals(await b.slice(2, 5).text(), "234");
  assertEquals(await b.slice(-3).text(), "789");
  assertEquals(await b.slice(-3, -1).text(), "78");
  assertEquals(await b.slice(7, 3).text(), "");
  assertEquals(await b.slice(-50, 50).text(), "0123456789");
  assertEquals(b.slice().type, "");
  assertEquals(b.slice(0, 1, "X/Y").type, "x/y");
});

test("Blob: arrayBuffer, bytes, stream", async () => {
  const src = Uint8Array.from({ length: 150000 }, (_, i) => i % 251);
  const b = new Blob([src]);
  src[0] = 99; // parts were copied
  const ab = await b.arrayBuffer();
  assert(ab instanceof ArrayBuffer);
  assertEquals(new Uint8Array(ab)[0], 0);
  const bytes = await b.bytes();
  assert(bytes instanceof Uint8Array);
  assertEquals(bytes.length, 150000);
  const reader = b.stream().getReader();
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    for (let i = 0; i < value.length; i++) if (value[i] !== (total + i) % 251) throw new Error(`byte ${total + i}`);
    total += value.length;
  }
  assertEquals(total, 150000);
  const byob = new Blob(["hello"]).stream().getReader({ mode: "byob" });
  const r = await byob.read(new Uint8Array(2));
  assertEquals(new TextDecoder().decode(r.value), "he");
  assertEquals(await new Response(new Blob(["piped"]).stream()).text(), "piped");
});

test("File: name, lastModified, inheritance", async () => {
  const before = Date.now();
  const f = new File(["x"], "x.txt", { type: "text/plain" });
  assert(f instanceof File && f instanceof Blob);
  assertEquals(Object.prototype.toString.call(f), "[object File]");
  assertEquals(f.name, "x.txt");
  assertEquals(f.type, "text/plain");
  assert(f.lastModified >= before && f.lastModified <= Date.now(), "lastModified defaults to now");
  assertEquals(new File([], "y", { lastModified: 1234 }).lastModified, 1234);
  assertEquals(await f.text(), "x");
  assertThrows(() => new File(["x"]), TypeError, "constructor parameter 2 is not of type 'string'");
  assert(!(f.slice() instanceof File), "slice gives a Blob");
});

test("FormData: methods", () => {
  const fd = new FormData();
  assertEquals(Object.prototype.toString.call(fd), "[object FormData]");
  fd.append("a", "1");
  fd.append("b", "2");
  fd.append("a", "3");
  assertEquals(fd.get("a"), "1");
  assertEquals(fd.getAll("a"), ["1", "3"]);
  assertEquals(fd.get("missing"), null);
  assert(fd.has("b") && !fd.has("c"));
  fd.set("a", "4");
  assertEquals([...fd], [["a", "4"], ["b", "2"]]);
  fd.delete("b");
  assertEquals([...fd.keys()], ["a"]);
  assertEquals([...fd.values()], ["4"]);
  const seen = [];
  fd.forEach((v, k) => seen.push(k + "=" + v));
  assertEquals(seen, ["a=4"]);
});

test("FormData: Blob entries become Files", () => {
  const fd = new FormData();
  fd.append("b", new Blob(["data"], { type: "text/plain" }));
  const f = fd.get("b");
  assert(f instanceof File);
  assertEquals(f.name, "b", "workerd names it after the entry");
  assertEquals(f.type, "text/plain");
  fd.set("b", new Blob(["data"]), "named.bin");
  assertEquals(fd.get("b").name, "named.bin");
  const file = new File(["z"], "z.txt");
  fd.append("f", file);
  assert(fd.get("f") === file, "a File is kept as is");
});

test("FormData: argument errors", () => {
  const fd = new FormData();
  assertThrows(() => fd.append("a"), TypeError, "parameter 2 is not of type 'File or Blob or string'");
  assertThrows(() => fd.get(), TypeError, "parameter 1 is not of type 'string'");
  assertThrows(() => fd.forEach(1), TypeError);
  assertThrows(() => FormData.prototype.has.call({}, "a"), TypeError, "Illegal invocation");
});

test("Response/Request with a Blob body", async () => {
  const r = new Response(new Blob(["blob body"], { type: "text/x-blob" }));
  assertEquals(r.headers.get("content-type"), "text/x-blob");
  assertEquals(await r.text(), "blob body");
  assertEquals(new Response(new Blob(["x"])).headers.get("content-type"), null);
  const req = new Request("https://example.com/", { method: "PUT", body: new Blob(["put"]) });
  assertEquals(await req.text(), "put");
  const b = await new Response("hello", { headers: { "content-type": "Text/HTML; Charset=UTF-8" } }).blob();
  assert(b instanceof Blob);
  assertEquals(b.type, "text/html;charset=UTF-8", "workerd parses and serializes the MIME type");
  assertEquals(await b.text(), "hello");
});

test("FormData body: serialise then parse round trip", async () => {
  const fd = new FormData();
  fd.append("text", "line1\nline2");
  fd.append('q"uote', "v");
  fd.append("file", new File([new Uint8Array([0, 13, 10, 255])], "f\"n.bin", { type: "application/x-bin" }));
  const res = new Response(fd);
  const ct = res.headers.get("content-type");
  assert(/^multipart\/form-data; boundary=\S+$/.test(ct), ct);
  const raw = await res.clone().text();
  assert(raw.includes('name="q%22uote"'), raw);
  assert(raw.includes('filename="f%22n.bin"'), raw);
  assert(raw.includes("line1\r\nline2"), "newlines normalised to CRLF");
  const back = await res.formData();
  assertEquals(back.get("text"), "line1\r\nline2");
  // workerd does not decode %22 when parsing
  assertEquals(back.get("q%22uote"), "v");
  const file = back.get("file");
  assert(file instanceof File);
  assertEquals(file.name, "f%22n.bin");
  assertEquals(file.type, "application/x-bin");
  assertEquals([...new Uint8Array(await file.arrayBuffer())], [0, 13, 10, 255]);
});

test("FormData and Blob bodies sent with fetch()", async ({ env }) => {
  const fd = new FormData();
  fd.append("k", "v");
  const res = await fetch(`${env.ORIGIN}/echo`, { method: "POST", body: fd });
  const echo = await res.json();
  assert(echo.headers["content-type"].startsWith("multipart/form-data; boundary="));
  const parsed = await new Response(echo.body, { headers: { "content-type": echo.headers["content-type"] } }).formData();
  assertEquals(parsed.get("k"), "v");
  const up = await (await fetch(`${env.ORIGIN}/upload`, { method: "POST", body: new Blob([new Uint8Array(1000).fill(2)]) })).json();
  assertEquals(up.len, 1000);
  assertEquals(up.sum, 2000);
});

test("formData(): a hand-written multipart body with a quoted boundary", async () => {
  const body =
    "ignored preamble\r\n" +
    "--my boundary\r\n" +
    'Content-Disposition: form-data; name="greeting"\r\n\r\n' +
    "hello w\u00f6rld\r\n" +
    "--my boundary\r\n" +
    'Content-Disposition: form-data; name="upload"; filename="notes.txt"\r\n' +
    "Content-Type: text/plain\r\n\r\n" +
    "file contents\r\n" +
    "--my boundary--\r\nignored epilogue";
  const req = new Request("https://example.com/", {
    method: "POST",
    body,
    headers: { "content-type": 'multipart/form-data; boundary="my boundary"' },
  });
  const fd = await req.formData();
  assertEquals(fd.get("greeting"), "hello w\u00f6rld");
  const f = fd.get("upload");
  assert(f instanceof File);
  assertEquals(f.name, "notes.txt");
  assertEquals(f.type, "text/plain");
  assertEquals(await f.text(), "file contents");
});

test("formData(): urlencoded bodies", async () => {
  const fd = await new Response("a=1&b=x+y%21&a=2", {
    headers: { "content-type": "application/x-www-form-urlencoded" },
  }).formData();
  assertEquals(fd.getAll("a"), ["1", "2"]);
  assertEquals(fd.get("b"), "x y!");
  const fromParams = await new Request("https://example.com/", { method: "POST", body: new URLSearchParams({ p: "q" }) }).formData();
  assertEquals(fromParams.get("p"), "q");
});

test("formData(): malformed input is a TypeError", async () => {
  const parse = (body, type) => new Response(body, { headers: { "content-type": type } }).formData();
  await assertRejects(() => parse("a=1", "text/plain"), TypeError, "Unrecognized Content-Type");
  await assertRejects(() => parse("x", "multipart/form-data"), TypeError, "No boundary string");
  await assertRejects(() => parse("no boundary here", "multipart/form-data; boundary=B"), TypeError, "No initial boundary");
  await assertRejects(
    () => parse('--B\r\nContent-Disposition: form-data; name="a"\r\n\r\ntruncated', "multipart/form-data; boundary=B"),
    TypeError,
    "No subsequent boundary",
  );
  await assertRejects(
    () => parse("--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--", "multipart/form-data; boundary=B"),
    TypeError,
    "Content-Disposition",
  );
  await assertRejects(
    () => parse("--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--", "multipart/form-data; boundary=B"),
    TypeError,
    "missing a name",
  );
});

export default suite();
