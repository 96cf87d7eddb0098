// Tests for 25_blob_formdata.js (Blob, File, FormData, multipart parsing)
// and its use as a body in 30_fetch.js.
// Run: node --test plugin-runtime/js/test/blob_formdata.test.mjs
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import vm from "node:vm";
import { defineGlobalOn, runFiles, webOps } from "./stub_ops.mjs";

const FILES = [
  "10_webidl_events.js", "11_headers.js", "12_url.js", "13_encoding.js", "20_streams.js",
  "25_blob_formdata.js", "30_fetch.js",
];

// A fresh context with the files loaded; ops are stubbed with Node's own
// URL / TextEncoder / TextDecoder.
function load() {
  const ctx = vm.createContext({ queueMicrotask, setTimeout, clearTimeout });
  const g = vm.runInContext("globalThis", ctx);
  const ops = webOps(g);
  const internals = {
    ops,
    reportError: () => {},
    defineGlobal: defineGlobalOn(g),
  };
  runFiles(ctx, g, internals, FILES);
  return { g, internals, run: (code) => vm.runInContext(code, ctx) };
}

const { g, internals, run } = load();
const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);

async function rejectsKind(p, name, message) {
  let err;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `expected ${name}`);
  assert.equal(err.name, name, `got ${err && err.name}: ${err && err.message}`);
  if (message instanceof RegExp) assert.match(err.message, message);
  else if (message !== undefined) assert.equal(err.message, message);
  return err;
}
function throwsKind(fn, name, message) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `expected ${name}`);
  assert.equal(err.name, name, `got ${err && err.name}: ${err && err.message}`);
  if (message instanceof RegExp) assert.match(err.message, message);
  else if (message !== undefined) assert.equal(err.message, message);
  return err;
}

describe("Blob", () => {
  test("globals, toStringTag, enumerable members", () => {
    for (const name of ["Blob", "File", "FormData"]) {
      const d = Object.getOwnPropertyDescriptor(g, name);
      assert.ok(d && !d.enumerable, name);
    }
    assert.equal(run("Object.prototype.toString.call(new Blob())"), "[object Blob]");
    assert.equal(run("Object.prototype.toString.call(new File([], 'a'))"), "[object File]");
    assert.equal(run("Object.prototype.toString.call(new FormData())"), "[object FormData]");
    assert.ok(run("new File([], 'a') instanceof Blob"));
    const keys = run("(() => { const k = []; for (const x in new Blob()) k.push(x); return k; })()");
    assert.deepEqual([...keys].sort(), ["arrayBuffer", "bytes", "size", "slice", "stream", "text", "type"]);
  });

  test("parts: strings, buffers, views, blobs", async () => {
    const b = new g.Blob(["ab", new Uint8Array([99]), new Uint16Array([0x6564]).buffer,
      new DataView(new Uint8Array([102]).buffer), new g.Blob(["g"])]);
    assert.equal(b.size, 7);
    assert.equal(await b.text(), "abcdefg");
    assert.equal(b.type, "");
    // Lone surrogates become U+FFFD; other objects are stringified.
    assert.equal(await new g.Blob(["\ud800", 1, { toString: () => "x" }]).text(), "\ufffd1x");
    assert.deepEqual([...(await new g.Blob(["\ud800"]).bytes())], [0xef, 0xbf, 0xbd]);
  });

  test("parts are copied at construction", async () => {
    const u = new Uint8Array([1, 2, 3]);
    const b = new g.Blob([u]);
    u[0] = 9;
    assert.deepEqual([...(await b.bytes())], [1, 2, 3]);
    const ab = await b.arrayBuffer();
    new Uint8Array(ab)[1] = 9;
    assert.deepEqual([...(await b.bytes())], [1, 2, 3]);
  });

  test("bad arguments", () => {
    throwsKind(() => new g.Blob("abc"), "TypeError", /constructor parameter 1 is not of type 'Array'/);
    throwsKind(() => new g.Blob({}), "TypeError", /callable @@iterator/);
    throwsKind(() => new g.Blob([], 5), "TypeError");
    throwsKind(() => new g.Blob([Symbol("s")]), "TypeError");
    throwsKind(() => new g.Blob([], { endings: "bogus" }), "Error", /'endings' field on 'Options' is not implemented/);
    throwsKind(() => g.Blob(), "TypeError");
    throwsKind(() => g.Blob.prototype.size, "TypeError", "Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
  });

  test("type is lowercased, dropped if not printable ASCII", () => {
    assert.equal(new g.Blob([], { type: "Text/HTML;Charset=UTF-8" }).type, "text/html;charset=utf-8");
    assert.equal(new g.Blob([], { type: "a\u0001b" }).type, "");
    assert.equal(new g.Blob([], { type: "\u00e9" }).type, "");
  });

  test("endings is not implemented (as in workerd)", () => {
    throwsKind(() => new g.Blob(["a"], { endings: "native" }), "Error", /not implemented/);
    throwsKind(() => new g.Blob(["a"], { endings: "transparent" }), "Error", /not implemented/);
  });

  test("slice with negative and out of range indices", async () => {
    const b = new g.Blob(["0123456789"], { type: "text/plain" });
    assert.equal(await b.slice().text(), "0123456789");
    assert.equal(b.slice().type, "");
    assert.equal(await b.slice(2, 5).text(), "234");
    assert.equal(await b.slice(-3).text(), "789");
    assert.equal(await b.slice(-3, -1).text(), "78");
    assert.equal(await b.slice(5, 2).text(), "");
    assert.equal(await b.slice(-100, 100).text(), "0123456789");
    assert.equal(await b.slice(8, 100).slice(1).text(), "9");
    assert.equal(b.slice(0, 1, "A/B").type, "a/b");
    assert.equal(b.slice(NaN, "3").size, 3);
    assert.equal(run("new File(['abc'], 'f').slice(1)").constructor.name, "Blob");
  });

  test("text decodes UTF-8 with replacement", async () => {
    assert.equal(await new g.Blob([new Uint8Array([0x68, 0xff, 0x69])]).text(), "h\ufffdi");
  });

  test("stream() is a byte stream", async () => {
    const data = new Uint8Array(200000).map((_, i) => i & 0xff);
    const b = new g.Blob([data]);
    const reader = b.stream().getReader();
    const chunks = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    assert.ok(chunks.length > 1);
    assert.deepEqual(Buffer.concat(chunks.map((c) => Buffer.from(c))), Buffer.from(data));

    const byob = new g.Blob(["hello"]).stream().getReader({ mode: "byob" });
    let r = await byob.read(new Uint8Array(3));
    assert.equal(dec(r.value), "hel");
    r = await byob.read(new Uint8Array(10));
    assert.equal(dec(r.value), "lo");
    r = await byob.read(new Uint8Array(10));
    assert.equal(r.done, true);

    const empty = await new g.Blob([]).stream().getReader().read();
    assert.equal(empty.done, true);
  });
});

describe("File", () => {
  test("name, lastModified, type", async () => {
    const before = Date.now();
    const f = new g.File(["abc"], "a.txt", { type: "Text/Plain" });
    assert.equal(f.name, "a.txt");
    assert.equal(f.type, "text/plain");
    assert.ok(f.lastModified >= before && f.lastModified <= Date.now());
    assert.equal(new g.File([], "x", { lastModified: 42 }).lastModified, 42);
    assert.equal(await f.text(), "abc");
    assert.equal(new g.File([], 5).name, "5");
  });

  test("needs two arguments", () => {
    throwsKind(() => new g.File([]), "TypeError",
      "Failed to construct 'File': constructor parameter 2 is not of type 'string'.");
    throwsKind(() => g.File.prototype.name, "TypeError", "Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    throwsKind(() => Object.getOwnPropertyDescriptor(g.File.prototype, "name").get.call(new g.Blob()),
      "TypeError", "Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
  });
});

describe("FormData", () => {
  test("append/get/getAll/has/delete/set", () => {
    const fd = new g.FormData();
    fd.append("a", "1");
    fd.append("b", "2");
    fd.append("a", "3");
    assert.equal(fd.get("a"), "1");
    assert.deepEqual([...fd.getAll("a")], ["1", "3"]);
    assert.equal(fd.get("zz"), null);
    assert.deepEqual([...fd.getAll("zz")], []);
    assert.ok(fd.has("b"));
    fd.set("a", "4");
    assert.deepEqual([...fd.entries()].map((e) => [...e]), [["a", "4"], ["b", "2"]]);
    fd.set("c", "5");
    fd.delete("b");
    assert.deepEqual([...fd.keys()], ["a", "c"]);
    assert.deepEqual([...fd.values()], ["4", "5"]);
    fd.append("n", 12);
    assert.equal(fd.get("n"), "12");
    fd.append("s", "\ud800");
    assert.equal(fd.get("s"), "\ufffd");
  });

  test("Blob values become Files", () => {
    const fd = new g.FormData();
    const blob = new g.Blob(["x"], { type: "text/plain" });
    fd.append("b", blob);
    const f = fd.get("b");
    assert.equal(Object.prototype.toString.call(f), "[object File]");
    // workerd names it after the entry (the spec says "blob")
    assert.equal(f.name, "b");
    assert.equal(f.type, "text/plain");
    fd.append("c", blob, "c.txt");
    assert.equal(fd.get("c").name, "c.txt");
    const file = new g.File(["y"], "y.bin");
    fd.append("d", file);
    assert.equal(fd.get("d"), file);
    fd.set("d", file, "renamed");
    assert.equal(fd.get("d").name, "renamed");
    assert.notEqual(fd.get("d"), file);
    // workerd ignores a filename given with a string value.
    fd.append("e", "str", "ignored.txt");
    assert.equal(fd.get("e"), "str");
  });

  test("forEach and iterator", () => {
    const fd = new g.FormData();
    fd.append("a", "1");
    fd.append("b", "2");
    const seen = [];
    fd.forEach(function (v, k, obj) {
      seen.push([k, v, obj === fd, this.x]);
    }, { x: 7 });
    assert.deepEqual(seen, [["a", "1", true, 7], ["b", "2", true, 7]]);
    // A function of its own, as in workerd (tests/diff/headers_iter.js), walking the entries.
    assert.notEqual(fd[Symbol.iterator], fd.entries);
    assert.equal(JSON.stringify([...fd]), '[["a","1"],["b","2"]]');
    assert.equal(Object.prototype.toString.call(fd.entries()), "[object EntryIterator]");
  });

  test("errors", () => {
    const fd = new g.FormData();
    throwsKind(() => fd.append("a"), "TypeError",
      "Failed to execute 'append' on 'FormData': parameter 2 is not of type 'File or Blob or string'.");
    throwsKind(() => fd.set(), "TypeError", /parameter 1 is not of type 'string'/);
    throwsKind(() => fd.get(), "TypeError", /parameter 1 is not of type 'string'/);
    throwsKind(() => fd.getAll(), "TypeError", /parameter 1 is not of type 'string'/);
    throwsKind(() => fd.has(), "TypeError", /parameter 1 is not of type 'string'/);
    throwsKind(() => fd.delete(), "TypeError", /parameter 1 is not of type 'string'/);
    throwsKind(() => fd.forEach(), "TypeError");
    throwsKind(() => fd.forEach(5), "TypeError");
    throwsKind(() => g.FormData.prototype.get.call({}, "a"), "TypeError", "Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    throwsKind(() => g.FormData(), "TypeError");
    throwsKind(() => fd.append(Symbol("x"), "1"), "TypeError");
  });
});

// A body's bytes as a latin1 string, for comparing multipart bodies.
const latin1 = (u8) => Buffer.from(u8).toString("latin1");

describe("multipart/form-data", () => {
  const B = internals.blob;

  test("serialises with escaping and newline normalisation", () => {
    const fd = new g.FormData();
    fd.append('a"b\nc\rd', "x\ny\rz\r\n");
    fd.append("f", new g.File(["\u00e9"], 'q"\n.txt', { type: "" }));
    fd.append("t", new g.Blob(["<p>"], { type: "text/html" }), "p.html");
    const { bytes, type } = B.serializeFormData(fd, "BOUND");
    assert.equal(type, "multipart/form-data; boundary=BOUND");
    assert.equal(latin1(bytes),
      '--BOUND\r\nContent-Disposition: form-data; name="a%22b%0D%0Ac%0D%0Ad"\r\n\r\nx\r\ny\r\nz\r\n\r\n' +
      '--BOUND\r\nContent-Disposition: form-data; name="f"; filename="q%22%0A.txt"\r\n' +
      "Content-Type: application/octet-stream\r\n\r\n\u00c3\u00a9\r\n" +
      '--BOUND\r\nContent-Disposition: form-data; name="t"; filename="p.html"\r\n' +
      "Content-Type: text/html\r\n\r\n<p>\r\n" +
      "--BOUND--\r\n");
  });

  test("round trip through Response", async () => {
    const fd = new g.FormData();
    fd.append("name", "value \u20ac");
    fd.append("file", new g.File([new Uint8Array([0, 1, 2, 255, 13, 10])], "bin.dat",
      { type: "application/x-thing" }));
    fd.append('we"ird\nname', "v");
    const res = new g.Response(fd);
    const ct = res.headers.get("content-type");
    assert.match(ct, /^multipart\/form-data; boundary=[0-9a-f]{32}$/);
    const back = await res.formData();
    assert.equal(back.get("name"), "value \u20ac");
    const file = back.get("file");
    assert.equal(file.name, "bin.dat");
    assert.equal(file.type, "application/x-thing");
    assert.deepEqual([...(await file.bytes())], [0, 1, 2, 255, 13, 10]);
    // As in workerd: written as %22/%0D%0A, and not decoded when parsed.
    assert.equal(back.get("we%22ird%0D%0Aname"), "v");
  });

  const parse = (body, type) => internals.parseFormData(typeof body === "string" ? enc(body) : body, type);

  test("hand-written body: preamble, epilogue, quoted boundary, LF only", async () => {
    const body =
      "preamble\r\n--a:b\r\n" +
      'Content-Disposition: form-data; name="field"\r\n\r\n' +
      "hello\r\nworld\r\n" +
      "--a:b\r\n" +
      'content-disposition: form-data; name="up"; filename="r\u00e9sum\u00e9.txt"\r\n' +
      "Content-Type: text/plain\r\n\r\n" +
      "file body\r\n" +
      "--a:b\n" +
      "Content-Disposition: form-data; name=bare; filename*=UTF-8''%E2%82%AC.txt\n\n" +
      "lf\n" +
      "--a:b\r\n" +
      'Content-Disposition: form-data; name="empty"\r\n\r\n' +
      "\r\n--a:b--\r\nepilogue";
    const fd = parse(body, 'multipart/form-data; boundary="a:b"');
    assert.deepEqual([...fd.keys()], ["field", "up", "bare", "empty"]);
    assert.equal(fd.get("field"), "hello\r\nworld");
    const up = fd.get("up");
    assert.equal(up.name, "r\u00e9sum\u00e9.txt");
    assert.equal(up.type, "text/plain");
    assert.equal(await up.text(), "file body");
    assert.equal(fd.get("bare").name, "\u20ac.txt");
    assert.equal(await fd.get("bare").text(), "lf");
    assert.equal(fd.get("empty"), "");
  });

  test("malformed bodies are TypeErrors", () => {
    const T = "multipart/form-data; boundary=X";
    throwsKind(() => parse("nothing", T), "TypeError", /No initial boundary string/);
    throwsKind(() => parse("--Xjunk", T), "TypeError", /not succeeded by CRLF/);
    throwsKind(() => parse("--X\r\nContent-Disposition: form-data; name=a", T), "TypeError",
      /No multipart message header termination/);
    throwsKind(() => parse("--X\r\nContent-Type: text/plain\r\n\r\nv\r\n--X--", T), "TypeError",
      /No valid Content-Disposition/);
    throwsKind(() => parse("--X\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--X--", T),
      "TypeError", /must have the value "form-data"/);
    throwsKind(() => parse('--X\r\nContent-Disposition: form-data; name="a\r\n\r\nv\r\n--X--', T),
      "TypeError", /Invalid Content-Disposition/);
    throwsKind(() => parse("--X\r\nContent-Disposition: form-data; filename=a\r\n\r\nv\r\n--X--", T),
      "TypeError", /missing a name/);
    throwsKind(() => parse("--X\r\nContent-Disposition: form-data; name=a\r\n\r\nv", T),
      "TypeError", /No subsequent boundary/);
    throwsKind(() => parse("--X\r\nbad header\r\n\r\nv\r\n--X--", T), "TypeError", /invalid headers/);
    throwsKind(() => parse("--X--", "multipart/form-data"), "TypeError", /No boundary string/);
    throwsKind(() => parse("a=1", "text/plain"), "TypeError", /Unrecognized Content-Type/);
    throwsKind(() => parse("a=1", ""), "TypeError", /Unrecognized Content-Type/);
  });

  test("an empty form parses", () => {
    assert.deepEqual([...parse("--X--", "multipart/form-data; boundary=X").keys()], []);
  });

  test("application/x-www-form-urlencoded", async () => {
    const fd = parse("a=1&b=%E2%82%AC+x&a=2&?q", "Application/X-WWW-Form-Urlencoded; charset=UTF-8");
    assert.deepEqual([...fd.getAll("a")], ["1", "2"]);
    assert.equal(fd.get("b"), "\u20ac x");
    assert.ok(fd.has("?q"));
    throwsKind(() => parse("a=1", "application/x-www-form-urlencoded; charset=latin1"), "TypeError",
      "Non-utf-8 application/x-www-form-urlencoded body.");
    const res = new g.Response(new g.URLSearchParams("x=1&y=2"));
    assert.deepEqual([...(await res.formData()).keys()], ["x", "y"]);
  });
});

describe("bodies", () => {
  test("Blob body sets Content-Type from its type", async () => {
    const r = new g.Response(new g.Blob(["hi"], { type: "text/x-hi" }));
    assert.equal(r.headers.get("content-type"), "text/x-hi");
    assert.equal(await r.text(), "hi");
    const untyped = new g.Response(new g.Blob(["hi"]));
    assert.equal(untyped.headers.get("content-type"), null);
    const req = new g.Request("https://example.com/", { method: "POST", body: new g.Blob(["q"]) });
    assert.equal(await req.text(), "q");
  });

  test("blob() takes the parsed and serialized Content-Type (workerd)", async () => {
    const r = new g.Response("abc", { headers: { "content-type": "Text/Plain ; A=B" } });
    const b = await r.blob();
    assert.equal(Object.prototype.toString.call(b), "[object Blob]");
    assert.equal(b.type, "text/plain;a=B");
    const bad = await new g.Response("x", { headers: { "content-type": "bogus" } }).blob();
    assert.equal(bad.type, "");
    assert.equal(await b.text(), "abc");
    await rejectsKind(r.blob(), "TypeError", /already been used/);
  });

  test("formData() of a Request", async () => {
    const fd = new g.FormData();
    fd.append("k", "v");
    const req = new g.Request("https://example.com/", { method: "POST", body: fd });
    assert.match(req.headers.get("content-type"), /^multipart\/form-data; boundary=/);
    assert.equal((await req.formData()).get("k"), "v");
    await rejectsKind(new g.Response("x").formData(), "TypeError", /Unrecognized Content-Type/);
  });
});

describe("multipart edge cases", () => {
  const parse = (body, type = "multipart/form-data; boundary=X") => internals.parseFormData(enc(body), type);
  const part = 'Content-Disposition: form-data; name="a"\r\n\r\nv\r\n--X--';

  test("the first boundary may follow a preamble, as in workerd", () => {
    assert.equal(parse(`\n--X\r\n${part}`).get("a"), "v");
    assert.equal(parse(`junk--X\r\n${part}`).get("a"), "v");
  });

  test("transport padding after a boundary, empty part without CRLF", () => {
    assert.equal(parse(`--X  \r\n${part}`).get("a"), "v");
    assert.equal(parse('--X\r\nContent-Disposition: form-data; name="e"\r\n\r\n--X--').get("e"), "");
  });

  test("a boundary-like line inside content needs the whole delimiter", () => {
    const fd = parse('--X\r\nContent-Disposition: form-data; name="a"\r\n\r\nx--X\r\n-X\r\n--X--');
    assert.equal(fd.get("a"), "x--X\r\n-X");
  });

  test("unquoted and case-insensitive parameters; filename* wins", () => {
    const fd = parse("--X\r\nCONTENT-DISPOSITION: Form-Data; NAME=a; filename=x.txt; filename*=utf-8''%C3%A9.txt\r\n\r\nv\r\n--X--");
    assert.equal(fd.get("a").name, "\u00e9.txt");
    assert.equal(fd.get("a").type, "");
  });

  test("%22, %0D, %0A in names stay as they are (workerd)", () => {
    assert.ok(parse('--X\r\nContent-Disposition: form-data; name="q%22%0D%0A"\r\n\r\nv\r\n--X--').has("q%22%0D%0A"));
  });
});
