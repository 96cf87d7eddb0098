// Prototype pollution (issue 11, item 15 and its neighbours): accessors a
// script plants on Object.prototype and on Array.prototype indices, and a
// replaced Array.prototype[Symbol.iterator], must not change what the
// runtime's own built-ins return, and the runtime must not call them where
// the standards (and workerd, see tests/diff/proto_pollution.js) do not.
import { test, assertEquals, suite } from "./harness.js";

const OBJ = ["then", "value", "done", "highWaterMark", "size", "start", "pull", "cancel", "type", "mode",
  "autoAllocateChunkSize", "preventClose", "preventAbort", "preventCancel", "write", "close", "abort",
  "transform", "flush", "next", "return", "bytes", "0", "1", "element", "comments", "text", "end"];
const ARR = ["0", "1", "2", "3"];

// Plants the traps, runs fn, removes them: [result or "threw Name", sorted trap names reached].
async function polluted(fn) {
  const calls = new Set();
  const defs = [];
  for (let i = 0; i < OBJ.length; i++) defs.push([Object.prototype, OBJ[i], "Object."]);
  for (let i = 0; i < ARR.length; i++) defs.push([Array.prototype, ARR[i], "Array."]);
  for (let i = 0; i < defs.length; i++) {
    const o = defs[i][0], n = defs[i][1], tag = defs[i][2];
    Object.defineProperty(o, n, {
      __proto__: null,
      get() { calls.add(tag + n); return undefined; },
      set(v) { calls.add("set " + tag + n); },
      configurable: true,
    });
  }
  const iter = Array.prototype[Symbol.iterator];
  Array.prototype[Symbol.iterator] = function () { calls.add("Array[Symbol.iterator]"); return iter.call(this); };
  let r;
  try {
    r = await fn();
  } catch (e) {
    r = "threw " + (e && e.name) + ": " + (e && e.message);
  } finally {
    for (let i = 0; i < defs.length; i++) delete defs[i][0][defs[i][1]];
    Array.prototype[Symbol.iterator] = iter;
  }
  return [r, Array.from(calls).sort().join(",")];
}

const enc = (s) => new TextEncoder().encode(s);

// [label, fn, expected result, expected traps reached]
const CASES = [
  // Body reads resolve with strings/boxes inside: no `then` looked up.
  ["Response text", () => new Response("abc").text(), "abc", ""],
  ["Request text", () => new Request("http://a/", { method: "POST", body: "zz" }).text(), "zz", ""],
  ["Response clone text", () => new Response("mno").clone().text(), "mno", ""],
  // json(), blob() and formData() resolve with an object: that lookup of
  // `then` is the standards' (and workerd's), not the body read's.
  ["Response json", async () => String((await new Response('{"a":1}').json()).a), "1", "Object.then"],
  ["Response blob", async () => String((await new Response("abc").blob()).size), "3", "Object.then"],
  ["Response.json text", () => Response.json({ a: [1] }).text(), '{"a":[1]}', ""],
  ["formData urlencoded", async () => (await new Response("a=1&b=2", { headers: { "content-type": "application/x-www-form-urlencoded" } }).formData()).getAll("b")[0], "2", "Object.then"],
  ["FormData body", async () => String((await new Response((() => { const f = new FormData(); f.append("a", "b"); f.append("c", "d"); return f; })()).text()).includes('name="c"')), "true", ""],
  ["tee", async () => { const t = new Response("jkl").body.tee(); return await new Response(t[0]).text() + "," + await new Response(t[1]).text(); }, "jkl,jkl", ""],
  // Blob and File build their parts with own elements (the parts array the
  // script passes is a Web IDL sequence: its iterator is the script's to run).
  ["Blob text", () => new Blob(["a", "b", enc("c")]).text(), "abc", "Array[Symbol.iterator]"],
  ["Blob slice", () => new Blob(["abcd"]).slice(1, 3).text(), "bc", "Array[Symbol.iterator]"],
  ["File name", () => new File(["a", "b"], "f.txt").name, "f.txt", "Array[Symbol.iterator]"],
  ["Blob stream", () => new Response(new Blob(["x", "y"]).stream()).text(), "xy", "Array[Symbol.iterator]"],
  // Encoding.
  ["atob", () => atob("aGVsbG8gd29ybGQ="), "hello world", ""],
  ["btoa", () => btoa("hello world"), "aGVsbG8gd29ybGQ=", ""],
  ["encodeInto", () => { const r = new TextEncoder().encodeInto("xé", new Uint8Array(8)); return r.read + "/" + r.written; }, "2/3", ""],
  ["URLSearchParams decode", () => new URLSearchParams("a=%C3%A9%20x+y").get("a"), "é x y", ""],
  // Headers from a record, alone and as a Response's init (the runtime's
  // own lists grow by ArrayAppend, which must not reach the setters).
  ["Headers record", () => { const h = new Headers({ a: "1", b: "2", c: "3", d: "4", e: "5" }); return h.get("a") + h.get("e"); }, "15", ""],
  ["Response record headers", () => { const r = new Response("x", { headers: { a: "1", b: "2", c: "3", d: "4", e: "5" } }); return r.headers.get("e") + r.headers.get("a"); }, "51", ""],
  // Others that build arrays internally.
  ["URLPattern exec", () => new URLPattern({ pathname: "/:a/:b" }).exec("http://x/p/q").pathname.groups.b, "q", ""],
  // The handlers dictionary is the script's: its absent members are looked
  // up. The rewriter's output stream still resolves its async pull with a
  // chunk (a `then` lookup workerd does not make: KNOWN_DIFFERENCES.md).
  ["HTMLRewriter", () => new HTMLRewriter().on("p", { element(e) { e.setInnerContent("q"); } }).transform(new Response("<p>a</p><p>b</p>")).text(), "<p>q</p><p>q</p>", "Object.comments,Object.text,Object.then"],
];

for (let i = 0; i < CASES.length; i++) {
  const [label, fn, result, traps] = CASES[i];
  test(`polluted prototypes: ${label}`, async () => {
    const [r, calls] = await polluted(fn);
    assertEquals(r, result, label);
    assertEquals(calls, traps, `${label}: traps reached`);
  });
}

export default suite();

test("a proxy put behind Array.prototype is never asked about indices by the runtime's own arrays", async () => {
  const asked = [];
  const base = Object.getPrototypeOf(Array.prototype);
  const note = (what, k) => { if (typeof k === "string" && /^[0-9]+$/.test(k)) asked.push(what + " " + k); };
  const proxy = new Proxy(base, {
    has(t, k) { note("has", k); return Reflect.has(t, k); },
    get(t, k, r) { note("get", k); return Reflect.get(t, k, r); },
    set(t, k, v, r) { note("set", k); return Reflect.set(t, k, v, r); },
    getOwnPropertyDescriptor(t, k) { note("gopd", k); return Reflect.getOwnPropertyDescriptor(t, k); },
  });
  Object.setPrototypeOf(Array.prototype, proxy);
  let out;
  try {
    const h = new Headers({ a: "1", b: "2", c: "3", d: "4", e: "5", f: "6" });
    h.append("g", "7");
    const res = new Response("body", { headers: h });
    out = [h.get("f"), await res.text(), await new Request("http://a/", { method: "POST", body: "q" }).text()];
  } finally {
    Object.setPrototypeOf(Array.prototype, base);
  }
  assertEquals(out.join(","), "6,body,q");
  assertEquals(asked.join(","), "");
});

test("descriptor members planted on Object.prototype never reach the runtime's own descriptor reads", async () => {
  const names = ["get", "set", "value", "writable", "enumerable", "configurable"];
  const reached = new Set();
  for (const n of names) {
    Object.defineProperty(Object.prototype, n, {
      __proto__: null,
      get() { reached.add(n); return undefined; },
      set(v) { reached.add("set " + n); },
      configurable: true,
    });
  }
  let out;
  try {
    // `new Request(url, request)` checks the init request's signal and cf
    // getters through descriptors; so do the Response and Headers paths.
    const ctl = new AbortController();
    const init = new Request("http://a/x", { method: "PUT", body: "b", signal: ctl.signal, headers: { "x-a": "1" } });
    const copy = new Request("http://a/y", init);
    ctl.abort();
    const res = new Response("r", { status: 201, headers: { "x-b": "2" } });
    const res2 = new Response(res.body, res);
    res2.headers.set("x-c", "3");
    out = [copy.url, copy.method, copy.signal.aborted, copy.headers.get("x-a"), await copy.text(),
      res2.status, res2.headers.get("x-b"), res2.headers.get("x-c"), await res2.text()].join(",");
  } finally {
    for (const n of names) delete Object.prototype[n];
  }
  assertEquals(out, "http://a/y,PUT,true,1,b,201,2,3,r");
  assertEquals([...reached].sort().join(","), "");
});

test("a Request.prototype.signal the script replaced is what new Request(url, request) reads", async () => {
  const desc = Object.getOwnPropertyDescriptor(Request.prototype, "signal");
  const ctl = new AbortController();
  let calls = 0;
  Object.defineProperty(Request.prototype, "signal", {
    get() { calls++; return ctl.signal; },
    configurable: true,
  });
  let copy;
  try {
    copy = new Request("http://a/z", new Request("http://a/w"));
  } finally {
    Object.defineProperty(Request.prototype, "signal", desc);
  }
  assertEquals(calls, 1);
  ctl.abort();
  assertEquals(copy.signal.aborted, true);
});
