"use strict";
// Smaller node: modules: url, timers, timers/promises, string_decoder, console.
((globalThis, internals) => {
  const {
    ArrayBufferIsView,
    DataView,
    ObjectAssign,
    ObjectCreate,
    Promise,
    PromiseReject,
    String,
    TypeError,
    Uint8Array,
    decodeURIComponent,
  } = internals.primordials;
  const node = (internals.node ??= { __proto__: null });
  const errors = internals.nodeErrors;
  const Buffer = internals.Buffer;

  // ---- node:url -------------------------------------------------------------
  function fileURLToPath(url) {
    const u = typeof url === "string" ? new URL(url) : url;
    if (!(u instanceof URL)) throw errors.invalidArgType("path", "of type string or an instance of URL", url);
    if (u.protocol !== "file:") {
      throw errors.nodeError(TypeError, "ERR_INVALID_URL_SCHEME", "The URL must be of scheme file");
    }
    if (u.hostname !== "") {
      throw errors.nodeError(TypeError, "ERR_INVALID_FILE_URL_HOST", 'File URL host must be "localhost" or empty on linux');
    }
    if (/%2f/i.test(u.pathname)) {
      throw errors.nodeError(TypeError, "ERR_INVALID_FILE_URL_PATH", "File URL path must not include encoded / characters");
    }
    return decodeURIComponent(u.pathname);
  }
  function pathToFileURL(path) {
    if (typeof path !== "string") throw errors.invalidArgType("path", "of type string", path);
    const resolved = node.path ? node.path.resolve(path) : path;
    const trailing = path.endsWith("/") && !resolved.endsWith("/") ? "/" : "";
    const u = new URL("file://");
    u.pathname = (resolved + trailing).replace(/%/g, "%25").replace(/\\/g, "%5C").replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/\t/g, "%09");
    return u;
  }
  function domainToASCII(domain) {
    try {
      return new URL(`ws://${domain}`).hostname;
    } catch {
      return "";
    }
  }
  node.url = {
    URL,
    URLSearchParams,
    fileURLToPath,
    pathToFileURL,
    domainToASCII,
    domainToUnicode: (d) => String(d),
    format(u) {
      return u instanceof URL ? u.href : String(u?.href ?? "");
    },
  };

  // ---- node:timers, node:timers/promises ----------------------------------
  // Node.js's own timers (Timeout / Immediate objects), as workerd's
  // node:timers exports them whatever the global timers are.
  const NT = internals.nodeTimers;
  node.timers = {
    setTimeout: NT.setTimeout,
    clearTimeout: NT.clearTimeout,
    setInterval: NT.setInterval,
    clearInterval: NT.clearInterval,
    setImmediate: NT.setImmediate,
    clearImmediate: NT.clearImmediate,
  };
  function abortError(signal) {
    const e = new DOMException("The operation was aborted", "AbortError");
    if (signal?.reason !== undefined) e.cause = signal.reason;
    return e;
  }
  function delayed(ms, value, options = {}) {
    const signal = options?.signal;
    if (signal?.aborted) return PromiseReject(abortError(signal));
    return new Promise((resolve, reject) => {
      const id = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      }, ms);
      const onAbort = () => {
        clearTimeout(id);
        reject(abortError(signal));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
  node["timers/promises"] = {
    setTimeout: delayed,
    setImmediate: (value, options) => delayed(0, value, options),
    async *setInterval(ms, value, options = {}) {
      for (;;) yield await delayed(ms, value, options);
    },
    scheduler: {
      wait: (ms, options) => delayed(ms, undefined, options),
      yield: () => delayed(0),
    },
  };

  // ---- node:string_decoder --------------------------------------------------
  class StringDecoder {
    #enc;
    #decoder;
    #pending = new Uint8Array(0);
    constructor(encoding) {
      const enc = String(encoding ?? "utf8").toLowerCase().replace("-", "");
      const map = { utf8: "utf8", ucs2: "utf16le", utf16le: "utf16le", base64: "base64", base64url: "base64url", hex: "hex", latin1: "latin1", binary: "latin1", ascii: "ascii" };
      if (!map[enc]) throw errors.unknownEncoding(encoding);
      this.#enc = map[enc];
      if (this.#enc === "utf8") this.#decoder = new TextDecoder("utf-8");
      else if (this.#enc === "utf16le") this.#decoder = new TextDecoder("utf-16le");
    }
    get encoding() {
      return this.#enc;
    }
    write(buf) {
      if (typeof buf === "string") return buf;
      if (!ArrayBufferIsView(buf)) throw errors.invalidArgType("buf", "an instance of Buffer, TypedArray, or DataView", buf);
      const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      if (this.#decoder) return this.#decoder.decode(bytes, { stream: true });
      if (this.#enc === "base64" || this.#enc === "base64url") {
        const all = new Uint8Array(this.#pending.length + bytes.length);
        all.set(this.#pending);
        all.set(bytes, this.#pending.length);
        const n = all.length - (all.length % 3);
        this.#pending = all.slice(n);
        return Buffer.from(all.buffer, 0, n).toString(this.#enc);
      }
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(this.#enc);
    }
    end(buf) {
      let out = buf === undefined ? "" : this.write(buf);
      if (this.#decoder) out += this.#decoder.decode();
      else if (this.#pending.length) {
        out += Buffer.from(this.#pending).toString(this.#enc);
        this.#pending = new Uint8Array(0);
      }
      return out;
    }
  }
  node.string_decoder = { StringDecoder };

  // ---- node:console ---------------------------------------------------------
  node.console = ObjectAssign(ObjectCreate(null), globalThis.console);
})
