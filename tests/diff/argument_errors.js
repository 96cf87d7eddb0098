import { Rec } from "./prelude.js";

// What each API throws when called with too few arguments or wrong types:
// the messages scripts see in their logs and error responses.
export default {
  async fetch() {
    const r = new Rec();
    const h = new Headers();
    const p = new URLSearchParams();
    const fd = new FormData();
    const cases = {
      "Headers.append()": () => h.append(),
      "Headers.set(a)": () => h.set("a"),
      "Headers.has()": () => h.has(),
      "Headers.delete()": () => h.delete(),
      "URLSearchParams.append()": () => p.append(),
      "URLSearchParams.get()": () => p.get(),
      "URLSearchParams.set(a)": () => p.set("a"),
      "URLSearchParams.has()": () => p.has(),
      "URLSearchParams.delete()": () => p.delete(),
      "URLSearchParams.getAll()": () => p.getAll(),
      "FormData.get()": () => fd.get(),
      "FormData.has()": () => fd.has(),
      "FormData.delete()": () => fd.delete(),
      "FormData.getAll()": () => fd.getAll(),
      "FormData.set(a)": () => fd.set("a"),
      "URL.canParse()": () => URL.canParse(),
      "TextEncoder.encodeInto(a)": () => new TextEncoder().encodeInto("a"),
      "new CustomEvent()": () => new CustomEvent(),
      "EventTarget.addEventListener(x)": () => new EventTarget().addEventListener("x"),
      "EventTarget.dispatchEvent()": () => new EventTarget().dispatchEvent(),
      "AbortSignal.timeout()": () => AbortSignal.timeout(),
      "AbortSignal.any()": () => AbortSignal.any(),
      "Response.redirect()": () => Response.redirect(),
      "new ReadableStream(5)": () => new ReadableStream(5),
      "new Request(url, 5)": () => new Request("https://x/", 5),
      "new Response(null, 5)": () => new Response(null, 5),
      "new Headers(5)": () => new Headers(5),
      "new TextDecoder('utf-8', 5)": () => new TextDecoder("utf-8", 5),
      "new Blob([], 5)": () => new Blob([], 5),
      "new Event('x', 5)": () => new Event("x", 5),
      "new URLSearchParams(5)": () => new URLSearchParams(5).toString(),
      "ReadableStream.getReader(5)": () => new ReadableStream().getReader(5),
      "WritableStreamDefaultWriter(5)": () => new WritableStreamDefaultWriter(5),
      "ReadableStreamDefaultReader(5)": () => new ReadableStreamDefaultReader(5),
      "new TransformStream(5)": () => new TransformStream(5),
      "new CountQueuingStrategy()": () => new CountQueuingStrategy(),
      "new File([], 'n', 5)": () => new File([], "n", 5),
      "new DOMException('m', 5)": () => new DOMException("m", 5).name,
    };
    for (const [k, f] of Object.entries(cases)) r.ck(k, f);
    return r.response();
  },
};
