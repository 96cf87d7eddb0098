// Prototype pollution: accessors a script plants on Object.prototype and on
// Array.prototype indices must not be reached by the runtime's own built-ins
// beyond what workerd (and the standards) do. Each observation is the result
// of one API call and the sorted names of the planted traps it reached.
// tests/js/proto_pollution.test.js checks more (a replaced
// Array.prototype[Symbol.iterator] too) without workerd; the cases where
// workerd itself reaches the traps differently are in KNOWN_DIFFERENCES.md.
const OBJ = ["then", "value", "done", "highWaterMark", "size", "start", "pull", "cancel", "type", "mode",
  "autoAllocateChunkSize", "preventClose", "preventAbort", "preventCancel", "signal", "write", "close",
  "abort", "transform", "flush", "next", "return", "length", "byteLength", "buffer", "byteOffset",
  "headers", "status", "statusText", "body", "method", "url", "cf", "redirect", "name", "message",
  "hash", "iv", "counter", "0", "1", "toJSON", "read", "written", "endings", "lastModified", "encoding",
  "fatal", "ignoreBOM", "stream", "key_ops", "ext", "kty", "alg", "d", "n", "e", "k"];
const ARR = ["0", "1", "2", "length_"];

function plant(calls) {
  const defs = [];
  for (const n of OBJ) defs.push([Object.prototype, n]);
  for (const n of ARR) defs.push([Array.prototype, n]);
  for (let i = 0; i < defs.length; i++) {
    const o = defs[i][0], n = defs[i][1];
    Object.defineProperty(o, n, {
      __proto__: null,
      get() { calls.add((o === Array.prototype ? "Array." : "") + n); return undefined; },
      set(v) { calls.add("set " + (o === Array.prototype ? "Array." : "") + n); },
      configurable: true,
    });
  }
  return () => {
    for (let i = 0; i < defs.length; i++) delete defs[i][0][defs[i][1]];
  };
}

const enc = (s) => new TextEncoder().encode(s);

export default {
  async fetch(request, env) {
    const out = {};
    const check = async (label, fn) => {
      const calls = new Set();
      const remove = plant(calls);
      let r;
      try {
        r = await fn();
      } catch (e) {
        r = "threw " + (e && e.name);
      } finally {
        remove();
      }
      out[label] = [typeof r === "string" ? r : JSON.stringify(r), [...calls].sort().join(",")];
    };
    // bodies
    await check("Response text", () => new Response("abc").text());
    await check("Response arrayBuffer", async () => (await new Response("abc").arrayBuffer()).byteLength);
    await check("Response json", async () => (await new Response('{"a":1}').json()).a);
    await check("Response blob", async () => (await new Response("abc").blob()).size);
    await check("Response bytes", async () => (await new Response("abc").bytes()).length);
    await check("Request text", () => new Request("http://a/", { method: "POST", body: "zz" }).text());
    await check("Response clone text", () => new Response("mno").clone().text());
    await check("Response.json", () => Response.json({ a: [1] }).text());
    await check("Response.redirect", () => Response.redirect("http://a/b", 301).headers.get("location"));
    await check("formData urlencoded", async () => (await new Response("a=1", { headers: { "content-type": "application/x-www-form-urlencoded" } }).formData()).get("a"));
    await check("FormData body", async () => (await new Response((() => { const f = new FormData(); f.append("a", "b"); return f; })()).text()).includes('name="a"'));
    // streams
    await check("stream body text", () => new Response(new ReadableStream({ __proto__: null, start(c) { c.enqueue(enc("x")); c.close(); } })).text());
    await check("body tee", async () => { const [a, b] = new Response("jkl").body.tee(); return [await new Response(a).text(), await new Response(b).text()].join(); });
    await check("body pipeTo TransformStream", async () => { const { readable, writable } = new TransformStream(); const p = new Response("pqr").body.pipeTo(writable); const t = await new Response(readable).text(); await p; return t; });
    await check("TextDecoderStream", () => new Response(new Response("stu").body.pipeThrough(new TextDecoderStream()).pipeThrough(new TextEncoderStream())).text());
    await check("CompressionStream", () => new Response(new Response("abc").body.pipeThrough(new CompressionStream("gzip")).pipeThrough(new DecompressionStream("gzip"))).text());
    await check("FixedLengthStream", async () => { const { readable, writable } = new FixedLengthStream(1); const w = writable.getWriter(); w.write(enc("A")); w.close(); return new Response(readable).text(); });
    // blob, encoding
    await check("Blob text", () => new Blob(["a", "b"]).text());
    await check("Blob arrayBuffer", async () => (await new Blob(["a", enc("b")]).arrayBuffer()).byteLength);
    await check("Blob stream", () => new Response(new Blob(["a", "b"]).stream()).text());
    await check("Blob slice", () => new Blob(["abc"]).slice(1).text());
    await check("File", () => new File(["a"], "f.txt").name);
    await check("TextEncoder encode", () => new TextEncoder().encode("x").length);
    await check("TextEncoder encodeInto", () => { const r = new TextEncoder().encodeInto("x", new Uint8Array(4)); return [r.read, r.written]; });
    await check("TextDecoder decode", () => new TextDecoder().decode(enc("é")));
    await check("atob btoa", () => atob(btoa("abc")));
    // headers, url
    await check("Headers getSetCookie", () => { const h = new Headers(); h.append("set-cookie", "a=1"); return h.getSetCookie().length; });
    await check("URL", () => new URL("http://x/a?b=1#c").href);
    await check("URLSearchParams", () => { const p = new URLSearchParams("a=1&b=2"); p.sort(); return p.toString(); });
    // crypto
    await check("getRandomValues", () => crypto.getRandomValues(new Uint8Array(2)).length);
    await check("randomUUID", () => crypto.randomUUID().length);
    await check("digest", async () => (await crypto.subtle.digest("SHA-256", enc("a"))).byteLength);
    await check("HMAC sign", async () => { const k = await crypto.subtle.importKey("raw", enc("k"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]); return (await crypto.subtle.sign("HMAC", k, enc("a"))).byteLength; });
    // misc
    await check("structuredClone", () => { const c = structuredClone({ a: [1, 2], m: new Map([[1, 2]]) }); return [c.a.length, c.m.get(1)]; });
    await check("EventTarget", () => { const t = new EventTarget(); let n = 0; t.addEventListener("x", () => n++); t.dispatchEvent(new Event("x")); return n; });
    await check("AbortController", () => { const c = new AbortController(); c.abort(); return c.signal.reason.name; });
    await check("setTimeout", () => new Promise((r) => setTimeout(() => r(1), 1)));
    await check("fetch origin", async () => { const r = await fetch(env.ORIGIN + "/x", { method: "POST", body: "b" }); return JSON.parse(await r.text()).body; });
    return new Response(JSON.stringify(out, null, 1), { headers: { "content-type": "application/json" } });
  },
};
