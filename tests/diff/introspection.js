import { Rec } from "./prelude.js";

export default {
  async fetch(request) {
    const r = new Rec();
    const names = ["Headers", "Request", "Response", "URL", "URLSearchParams", "TextEncoder", "TextDecoder", "ReadableStream", "WritableStream", "TransformStream", "Blob", "File", "FormData", "AbortController", "AbortSignal", "Event", "EventTarget", "DOMException", "CustomEvent", "TextDecoderStream", "TextEncoderStream", "ByteLengthQueuingStrategy", "CountQueuingStrategy", "ReadableStreamDefaultReader", "ReadableStreamBYOBReader", "WritableStreamDefaultWriter", "IdentityTransformStream", "FixedLengthStream"];
    r.ck("typeof globals", () => Object.fromEntries(names.map((n) => [n, typeof globalThis[n]])));
    r.ck("typeof functions", () => ["fetch", "atob", "btoa", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "queueMicrotask", "structuredClone"].map((n) => typeof globalThis[n]));
    r.ck("ctor lengths", () => Object.fromEntries(names.filter((n) => typeof globalThis[n] === "function").map((n) => [n, globalThis[n].length])));
    r.ck("fn lengths", () => [fetch.length, atob.length, btoa.length, setTimeout.length, structuredClone.length, queueMicrotask.length]);
    r.ck("ctor names", () => names.filter((n) => typeof globalThis[n] === "function").map((n) => globalThis[n].name));
    r.ck("prototype toStringTags", () => Object.fromEntries(names.filter((n) => typeof globalThis[n] === "function").map((n) => [n, Object.prototype.toString.call(globalThis[n].prototype)])));
    r.ck("globals enumerable", () => names.filter((n) => Object.getOwnPropertyDescriptor(globalThis, n)?.enumerable));
    r.ck("request instanceof", () => [request instanceof Request, request.headers instanceof Headers, Object.prototype.toString.call(request)]);
    r.ck("request own keys", () => Object.keys(request));
    r.ck("Object.keys(new Response())", () => Object.keys(new Response()));
    r.ck("for-in Response", () => {
      const ks = [];
      for (const k in new Response()) ks.push(k);
      return ks.sort();
    });
    r.ck("Response proto keys", () => Object.getOwnPropertyNames(Response.prototype).sort());
    r.ck("Request proto keys", () => Object.getOwnPropertyNames(Request.prototype).sort());
    r.ck("Response static keys", () => Object.getOwnPropertyNames(Response).sort());
    r.ck("getter descriptor", () => {
      const d = Object.getOwnPropertyDescriptor(Response.prototype, "status");
      return [typeof d.get, typeof d.set, d.enumerable, d.configurable];
    });
    r.ck("method descriptor", () => {
      const d = Object.getOwnPropertyDescriptor(Response.prototype, "text");
      return [typeof d.value, d.writable, d.enumerable, d.configurable];
    });
    r.ck("illegal invocation", () => Object.getOwnPropertyDescriptor(Response.prototype, "status").get.call({}));
    r.ck("illegal method call", () => Headers.prototype.get.call({}, "a"));
    r.ck("globalThis tags", () => [Object.prototype.toString.call(globalThis), typeof self, self === globalThis, typeof navigator, navigator.userAgent]);
    r.ck("crypto shape", () => [typeof crypto, typeof crypto.getRandomValues, typeof crypto.randomUUID]);
    r.ck("performance", () => [typeof performance, typeof performance.now]);
    r.ck("absent globals", () => ["window", "document", "require", "XMLHttpRequest", "importScripts"].map((n) => typeof globalThis[n]));
    r.ck("JSON of objects", () => [JSON.stringify(new Response()), JSON.stringify(new URLSearchParams("a=1")), JSON.stringify(new Blob([]))]);
    return r.response();
  },
};
