"use strict";
// Request, Response and fetch(). Bodies have three sources: bytes known in
// full, a native body (a Rust stream the script has not read: it is handed
// back to Rust untouched, so it never enters V8), or a JS ReadableStream
// (pumped out chunk by chunk through a native sink).
((globalThis, internals) => {
  const {
    ArrayBuffer,
    ArrayBufferIsView,
    Error,
    JSON,
    JSONParse,
    JSONStringify,
    Number,
    NumberIsInteger,
    ObjectCreate,
    ObjectDefineProperty,
    ObjectGetOwnPropertyDescriptor,
    ObjectGetOwnPropertyNames,
    ObjectGetPrototypeOf,
    ObjectHasOwn,
    ObjectPrototypeHasOwnProperty,
    ObjectFreeze,
    ObjectSetPrototypeOf,
    Promise,
    RangeError,
    SafeSet,
    PrivateSlot,
    String,
    SymbolToStringTag,
    TypeError,
    Uint8Array,
    ArrayAppend,
    PromisePrototypeThen,
    StringPrototypeCharCodeAt,
    StringPrototypeToUpperCase,
    StringPrototypeToLowerCase,
    TypedArrayPrototypeGetByteLength,
    TypedArrayPrototypeSlice,
    TypedArrayPrototypeGetSymbolToStringTag,
    TypedArrayPrototypeGetBuffer,
    TypedArrayPrototypeGetByteOffset,
    DataViewPrototypeGetBuffer,
    DataViewPrototypeGetByteOffset,
    DataViewPrototypeGetByteLength,
    ArrayBufferPrototypeGetByteLength,
    TypedArrayPrototypeSet,
  } = internals.primordials;
  const ops = internals.ops;
  // The streams (20_streams.js) load on first use (95_lazy.js): `S()` loads
  // them; `isStream(x)` does not (until they load, no stream exists).
  let streams;
  const S = () => streams || (streams = internals.loadStreams());
  const isStream = (x) => {
    const s = streams || internals.streams;
    return s !== undefined && s.isReadableStream(x);
  };
  const H = internals.headers;
  const { toByteString } = internals.webidl;
  // Blob/File/FormData load on first use (95_lazy.js): until then nothing
  // is one; `internals.loadBlob()` loads them.
  const defineGlobal = internals.defineGlobal;

  // An absent init dictionary: an empty one, not an object whose members
  // fall through to Object.prototype.
  const EMPTY_DICT = ObjectFreeze({ __proto__: null });
  const NULL_BODY_STATUS = new SafeSet([101, 204, 205, 304]);
  // workerd's reason phrases: a Response built without a statusText reports these.
  const STATUS_TEXT = {
    100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints",
    200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
    204: "No Content", 205: "Reset Content", 206: "Partial Content", 207: "Multi-Status",
    208: "Already Reported", 226: "IM Used",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
    411: "Length Required", 412: "Precondition Failed", 413: "Payload Too Large",
    414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable",
    417: "Expectation Failed", 418: "I'm a teapot", 421: "Misdirected Request",
    422: "Unprocessable Entity", 423: "Locked", 424: "Failed Dependency", 426: "Upgrade Required",
    428: "Precondition Required", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates", 507: "Insufficient Storage", 508: "Loop Detected",
    510: "Not Extended", 511: "Network Authentication Required",
  };
  function defaultStatusText(status) {
    const known = STATUS_TEXT[status];
    if (known !== undefined) return known;
    if (status >= 200 && status < 300) return "Successful";
    if (status >= 300 && status < 400) return "Redirection";
    if (status >= 400 && status < 500) return "Client Error";
    if (status >= 500 && status < 600) return "Server Error";
    return "";
  }
  // workerd rejects control characters; non-Latin-1 is not a ByteString.
  // As workerd: no control character below U+0020 (so no CR/LF, and no
  // tab either); anything else goes, and goes out as UTF-8.
  function isReasonPhrase(text) {
    for (let i = 0; i < text.length; i++) {
      if (StringPrototypeCharCodeAt(text, i) < 0x20) return false;
    }
    return true;
  }
  const REDIRECT_STATUS = new SafeSet([301, 302, 303, 307, 308]);
  const USED_MESSAGE =
    "Body has already been used. It can only be used once. Use tee() first if you need to read it twice.";

  // Brand checks and captured accessors: neither Symbol.hasInstance nor a
  // replaced `byteLength` getter can make something else pass for bytes.
  function toBytes(x) {
    if (ArrayBufferIsView(x)) {
      if (TypedArrayPrototypeGetSymbolToStringTag(x) === "Uint8Array") return x;
      if (TypedArrayPrototypeGetSymbolToStringTag(x) !== undefined) {
        return new Uint8Array(
          TypedArrayPrototypeGetBuffer(x), TypedArrayPrototypeGetByteOffset(x), TypedArrayPrototypeGetByteLength(x),
        );
      }
      return new Uint8Array(DataViewPrototypeGetBuffer(x), DataViewPrototypeGetByteOffset(x), DataViewPrototypeGetByteLength(x));
    }
    if (isArrayBuffer(x)) return new Uint8Array(x);
    return null;
  }
  function isArrayBuffer(x) {
    try {
      ArrayBufferPrototypeGetByteLength(x);
      return true;
    } catch {
      return false;
    }
  }
  function toArrayBuffer(b) {
    const buffer = TypedArrayPrototypeGetBuffer(b);
    if (TypedArrayPrototypeGetByteOffset(b) === 0 && TypedArrayPrototypeGetByteLength(b) === ArrayBufferPrototypeGetByteLength(buffer)) {
      return buffer;
    }
    return TypedArrayPrototypeGetBuffer(TypedArrayPrototypeSlice(b));
  }
  function copyBytes(x) {
    const v = toBytes(x);
    return v === null ? null : new Uint8Array(v);
  }
  const decodeUtf8 = internals.encoding.decodeUtf8;

  // ---- records kept per message --------------------------------------------
  // Classes whose prototype chain ends in null: fixed-shape objects (a
  // `{ __proto__: null, ... }` literal is a dictionary-mode object in V8,
  // slow to make and to read), with no inherited setter or getter.
  /** A body's source: bytes known in full, a JS stream, or a native body id. */
  class Source {
    #bytes;
    stream;
    rid;
    // A short string body not yet encoded: it goes to Rust as the string
    // (ops.respond / ops.fetch encode it there), or becomes bytes on the
    // first read of `bytes`.
    text;
    constructor(bytes, stream, rid, text) {
      this.#bytes = bytes;
      this.stream = stream;
      this.rid = rid;
      this.text = text;
    }
    get bytes() {
      if (this.text !== undefined) {
        this.#bytes = ops.encodeUtf8(this.text);
        this.text = undefined;
      }
      return this.#bytes;
    }
  }
  ObjectSetPrototypeOf(Source.prototype, null);
  const sourceBytes = (bytes) => new Source(bytes, undefined, undefined, undefined);
  const sourceStream = (stream) => new Source(undefined, stream, undefined, undefined);
  // Strings up to this many UTF-16 units stay strings until they are sent
  // (their UTF-8 is at most three times as long); longer ones are encoded
  // at once, into a buffer charged to the worker's memory limit.
  const MAX_LAZY_TEXT = 65536;
  const sourceText = (text) =>
    text.length <= MAX_LAZY_TEXT ? new Source(undefined, undefined, undefined, text) : sourceBytes(ops.encodeUtf8(text));
  /** What "extract a body" gives: the source and its Content-Type (or null). */
  class Extracted {
    source;
    type;
    constructor(source, type) {
      this.source = source;
      this.type = type;
    }
  }
  ObjectSetPrototypeOf(Extracted.prototype, null);
  /** A Request's state. */
  class ReqRecord {
    url;
    method;
    headers;
    redirect;
    signal;
    cf;
    cache;
    id;
    constructor(url, method, headers, redirect, signal, cf, cache) {
      this.url = url;
      this.method = method;
      this.headers = headers;
      this.redirect = redirect;
      this.signal = signal;
      this.cf = cf;
      this.cache = cache;
    }
  }
  ObjectSetPrototypeOf(ReqRecord.prototype, null);
  /** A Response's state. */
  class ResRecord {
    status;
    statusText;
    headers;
    type;
    url;
    redirected;
    cf;
    webSocket;
    constructor(status, statusText, headers, type, url, redirected, cf, webSocket) {
      this.status = status;
      this.statusText = statusText;
      this.headers = headers;
      this.type = type;
      this.url = url;
      this.redirected = redirected;
      this.cf = cf;
      this.webSocket = webSocket;
    }
  }
  ObjectSetPrototypeOf(ResRecord.prototype, null);

  // The incoming request's `cf`, made on its first read (ops.requestCf,
  // from what Rust keeps with the request's headers token); copies of the
  // request share it, so they see the same object.
  class LazyCf {
    #token;
    #value = undefined;
    constructor(token) {
      this.#token = token;
    }
    static resolve(cf) {
      if (cf === null || typeof cf !== "object" || !(#token in cf)) return cf;
      if (cf.#token !== null) {
        cf.#value = ops.requestCf(cf.#token[0]);
        cf.#token = null;
      }
      return cf.#value;
    }
  }
  ObjectSetPrototypeOf(LazyCf.prototype, null);

  // Response.json()'s body: its text, kept a string as a string body is
  // (no UTF-8 copy until it is read or sent), without text/plain's type.
  // Only this file can make one.
  class JsonText {
    #text;
    constructor(text) {
      this.#text = text;
    }
    static textOf(o) {
      return #text in o ? o.#text : undefined;
    }
  }
  ObjectSetPrototypeOf(JsonText.prototype, null);

  // ---- body extraction (Fetch "extract a body") ----------------------------
  function extractBody(init) {
    if (init === null || init === undefined) return new Extracted(null, null);
    if (typeof init === "string") {
      return new Extracted(sourceText(init), "text/plain;charset=UTF-8");
    }
    if (typeof init === "object") {
      const json = JsonText.textOf(init);
      if (json !== undefined) return new Extracted(sourceText(json), null);
    }
    if (isStream(init)) {
      if (S().isDisturbed(init) || S().isLocked(init)) {
        throw new TypeError("This ReadableStream is disturbed (has already been read from), and cannot be used as a body.");
      }
      return new Extracted(sourceStream(init), null);
    }
    const bytes = copyBytes(init);
    if (bytes !== null) return new Extracted(sourceBytes(bytes), null);
    const B = internals.blob;
    if (B !== undefined && B.isBlob(init)) {
      // Copied: a body's bytes can reach the script through arrayBuffer().
      const type = B.blobType(init);
      return new Extracted(sourceBytes(TypedArrayPrototypeSlice(B.blobBytes(init))), type === "" ? null : type);
    }
    if (B !== undefined && B.isFormData(init)) {
      const { bytes: form, type } = B.serializeFormData(init);
      return new Extracted(sourceBytes(form), type);
    }
    if (internals.url.isURLSearchParams(init)) {
      return new Extracted(
        sourceBytes(ops.encodeUtf8(internals.url.serializeParams(init))),
        "application/x-www-form-urlencoded;charset=UTF-8",
      );
    }
    if (internals.extractSpecialBody) {
      const special = internals.extractSpecialBody(init);
      if (special) return special;
    }
    return new Extracted(sourceText(String(init)), "text/plain;charset=UTF-8");
  }

  /** The shared body state of a Request or Response. */
  class BodyState {
    source; // null | {bytes} | {rid} | {stream} (null-prototype records)
    stream = null;
    used = false;
    constructor(source) {
      this.source = source;
    }
    static native(rid) {
      return new BodyState(rid === null || rid === undefined ? null : new Source(undefined, undefined, rid));
    }
    get readable() {
      if (this.source === null) return null;
      if (this.stream === null) {
        if (this.source.stream) {
          this.stream = this.source.stream;
        } else if (this.source.rid !== undefined) {
          const rid = this.source.rid;
          this.stream = S().createLazyPullStream({
            pull: () => ops.bodyRead(rid),
            cancel: () => ops.bodyCancel(rid),
          });
          S().setNativeTag(this.stream, rid);
        } else {
          const all = this.source.bytes;
          let bytes = all;
          this.stream = S().createLazyPullStream({
            pull: () => {
              const b = bytes;
              bytes = null;
              return b && TypedArrayPrototypeGetByteLength(b) ? b : null;
            },
          });
          // Handed on unread (new Response(res.body, res)), it stays a body
          // of known length, as in workerd (Content-Length, not chunked).
          S().setNativeTag(this.stream, { __proto__: null, bytes: all });
        }
        // A body read to its end (text(), arrayBuffer()...) or handed on
        // before it had a stream gets one that is locked, as the standard's
        // "fully read" leaves it: getReader() throws the locked TypeError.
        // (A stream the body was made from is locked by whoever reads it.)
        if (this.used) {
          if (this.source.stream) S().markDisturbed(this.stream);
          else S().markConsumed(this.stream);
        }
      }
      return this.stream;
    }
    // The stream this body reads from, if it has one yet (a stream handed
    // to the constructor may be read through another owner meanwhile).
    get currentStream() {
      return this.stream ?? (this.source !== null && this.source.stream ? this.source.stream : null);
    }
    get bodyUsed() {
      const st = this.currentStream;
      if (st !== null) return S().isDisturbed(st);
      return this.used;
    }
    /**
     * Reads the whole body (text(), json(), arrayBuffer()) into one
     * Uint8Array, resolved in a null-prototype box `{ bytes }`: resolving a
     * promise with the Uint8Array itself would look up `then` through
     * Object.prototype, where a script may have put one (the standard reads
     * bodies with internal read requests; workerd calls no such getter).
     */
    async consume() {
      if (this.bodyUsed) throw new TypeError(USED_MESSAGE);
      if (this.currentStream !== null && S().isLocked(this.currentStream)) {
        throw new TypeError("This ReadableStream is currently locked to a reader.");
      }
      if (this.source === null) return { __proto__: null, bytes: new Uint8Array(0) };
      if (this.stream === null && !this.source.stream) {
        this.used = true;
        if (this.source.bytes) return { __proto__: null, bytes: this.source.bytes };
        // A native body nobody has turned into a stream: read it directly.
        // (ops.bodyRead resolves with the chunk itself: that lookup of
        // `then` remains, see tests/diff/KNOWN_DIFFERENCES.md.)
        const chunks = [];
        let total = 0;
        for (;;) {
          const c = await ops.bodyRead(this.source.rid);
          if (c === null) break;
          ArrayAppend(chunks, c);
          total += TypedArrayPrototypeGetByteLength(c);
        }
        return { __proto__: null, bytes: concat(chunks, total) };
      }
      return await S().readAll(this.readable);
    }
    /** Hands the body to Rust: `[kind, value]` for ops.respond / ops.fetch. */
    take() {
      if (this.bodyUsed || (this.stream !== null && S().isLocked(this.stream))) {
        throw new TypeError(USED_MESSAGE);
      }
      if (this.source === null) return [0, null];
      if (this.stream === null) {
        this.used = true;
        if (this.source.text !== undefined) return [4, this.source.text];
        if (this.source.bytes) return [1, this.source.bytes];
        if (this.source.rid !== undefined) return [2, this.source.rid];
      }
      const stream = this.readable;
      const tag = S().getNativeTag(stream);
      if (tag !== undefined) {
        S().markDisturbed(stream);
        return typeof tag === "object" ? [1, tag.bytes] : [2, tag];
      }
      const sid = ops.sinkNew(S().expectedLength(stream));
      pumpToSink(stream, sid);
      return [3, sid];
    }
    /** A copy for clone(): tees a stream body. */
    cloneState() {
      // workerd's words (its clone() tees a stream that is locked once read).
      if (this.bodyUsed) throw new TypeError("This ReadableStream is currently locked to a reader,");
      if (this.source === null) return new BodyState(null);
      if (this.stream === null && this.source.text !== undefined) return new BodyState(sourceText(this.source.text));
      if (this.stream === null && this.source.bytes) return new BodyState(sourceBytes(this.source.bytes));
      const branches = S().tee(this.readable);
      const a = branches[0];
      const b = branches[1];
      this.stream = a;
      this.source = sourceStream(a);
      return new BodyState(sourceStream(b));
    }
  }

  // Instances own their fields; an inherited setter or getter never sees one.
  ObjectSetPrototypeOf(BodyState.prototype, null);

  function concat(chunks, total) {
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(total);
    let off = 0;
    for (let i = 0; i < chunks.length; i++) {
      TypedArrayPrototypeSet(out, chunks[i], off);
      off += TypedArrayPrototypeGetByteLength(chunks[i]);
    }
    return out;
  }

  async function pumpToSink(stream, sid) {
    const reader = stream.getReader();
    try {
      for (;;) {
        // A null-prototype result: no `then` of Object.prototype is looked up.
        const result = await S().readInternal(reader);
        if (result.done) break;
        const bytes = toBytes(result.value);
        if (bytes === null) {
          throw new TypeError(
            "This TransformStream is being used as a byte stream, but received a value that is not an ArrayBuffer or ArrayBufferView.",
          );
        }
        if (TypedArrayPrototypeGetByteLength(bytes)) await ops.sinkWrite(sid, bytes);
      }
      ops.sinkClose(sid);
    } catch (e) {
      ops.sinkClose(sid, String((e && e.message) || e));
      PromisePrototypeThen(reader.cancel(e), undefined, () => {});
    }
  }

  // Body mixin, as prototype methods shared by Request and Response.
  const bodyOf = PrivateSlot();
  const ILLEGAL =
    "Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.";
  function state(self, what) {
    const s = bodyOf.get(self);
    if (!s) throw new TypeError(ILLEGAL);
    void what;
    return s;
  }
  // The Request/Response state behind `self`, or workerd's TypeError.
  function reqOf(self) {
    const s = reqState.get(self);
    if (!s) throw new TypeError(ILLEGAL);
    return s;
  }
  function resOf(self) {
    const s = resState.get(self);
    if (!s) throw new TypeError(ILLEGAL);
    return s;
  }
  function contentTypeOf(self) {
    return H.get(headersOf(self), "content-type") || "";
  }
  function headersOf(self) {
    const s = reqState.get(self) || resState.get(self);
    return s.headers;
  }
  const BodyMixin = {
    get body() {
      return state(this, "body").readable;
    },
    get bodyUsed() {
      return state(this, "bodyUsed").bodyUsed;
    },
    async arrayBuffer() {
      const b = (await state(this, "arrayBuffer").consume()).bytes;
      return toArrayBuffer(b);
    },
    async bytes() {
      const b = (await state(this, "bytes").consume()).bytes;
      const whole = TypedArrayPrototypeGetByteOffset(b) === 0 &&
        TypedArrayPrototypeGetByteLength(b) === ArrayBufferPrototypeGetByteLength(TypedArrayPrototypeGetBuffer(b));
      return whole ? b : TypedArrayPrototypeSlice(b);
    },
    async text() {
      return decodeUtf8((await state(this, "text").consume()).bytes);
    },
    async json() {
      return JSONParse(decodeUtf8((await state(this, "json").consume()).bytes));
    },
    async blob() {
      const b = (await state(this, "blob").consume()).bytes;
      // The body's bytes may be shared with a clone: the Blob gets its own.
      // workerd parses the Content-Type and serializes it again ("" if invalid).
      const B = internals.loadBlob();
      return B.makeBlob(TypedArrayPrototypeSlice(b), B.mimeOf(contentTypeOf(this)));
    },
    async formData() {
      const b = (await state(this, "formData").consume()).bytes;
      internals.loadBlob();
      return internals.parseFormData(b, contentTypeOf(this));
    },
  };
  // workerd: Request.prototype and Response.prototype inherit the body
  // members from one Body.prototype (not a global).
  const Body = function Body() {
    throw new TypeError("Illegal constructor");
  };
  function installBody(proto) {
    for (const key of ObjectGetOwnPropertyNames(BodyMixin)) {
      const d = ObjectGetOwnPropertyDescriptor(BodyMixin, key);
      d.enumerable = true;
      ObjectDefineProperty(proto, key, d);
    }
  }

  function parseUrl(input) {
    const text = String(input);
    // A URL object's own serialisation (`new Request(new URL(...))`) is
    // already what parsing it gives: not parsed a second time.
    if (text === internals.url.hrefOf(input)) return text;
    const parts = internals.url.parse(text, undefined);
    if (parts === null) throw new TypeError(`Invalid URL: ${text}`);
    return parts[0];
  }

  // workerd accepts the methods its HTTP stack knows, in any case
  // (upper_case_all_http_methods), and rejects every other method.
  const METHODS = new SafeSet([
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "PURGE", "OPTIONS", "TRACE", "COPY", "LOCK",
    "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "ACL", "REPORT", "MKACTIVITY",
    "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "QUERY",
  ]);
  // Before 2024-10-14 (no upper_case_all_http_methods) only the methods the
  // Fetch spec normalises are upper-cased; "patch" is then not a method.
  const SPEC_NORMALISED = new SafeSet(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);
  let upperCaseAll = true; // per worker, set after the snapshot is restored
  internals.onWorkerInit((() => {
    upperCaseAll = internals.compat ? internals.compat.flags.upperCaseAllHttpMethods : true;
  }));
  function normaliseMethod(m) {
    // Already a known method in upper case (what nearly every caller
    // passes): what the steps below would give.
    if (typeof m === "string" && METHODS.has(m)) return m;
    m = String(m);
    let upper = StringPrototypeToUpperCase(m);
    if (!upperCaseAll && !SPEC_NORMALISED.has(upper)) upper = m;
    if (!METHODS.has(upper)) throw new TypeError(`Invalid HTTP method string: ${m}`);
    return upper;
  }

  function headersInit(init, guard) {
    const h = new H.Headers(init === undefined ? undefined : init);
    H.setGuard(h, guard);
    return h;
  }

  // ---- Request -------------------------------------------------------------
  const reqState = PrivateSlot();
  class Request {
    constructor(input, init = undefined) {
      if (arguments.length < 1) {
        throw new TypeError("Failed to construct 'Request': constructor parameter 1 is not of type 'Request or string'.");
      }
      if (init !== undefined && init !== null && typeof init !== "object") {
        throw new TypeError(
          "Failed to construct 'Request': constructor parameter 2 is not of type 'RequestInitializerDict or Request'.",
        );
      }
      init = init ?? EMPTY_DICT;
      let url, method = "GET", headers, body = null, redirect = "follow", signal = null, cf;
      if (reqState.has(input)) {
        const s = reqState.get(input);
        url = s.url;
        method = s.method;
        headers = input.headers;
        redirect = s.redirect;
        signal = s.signal;
        cf = s.cf;
        body = bodyOf.get(input);
      } else {
        url = parseUrl(input);
      }
      let contentType = null;
      // Each member of the init dictionary is read once (a getter runs once).
      const initMethod = init.method;
      if (initMethod !== undefined) method = normaliseMethod(initMethod);
      const initRedirect = init.redirect;
      if (initRedirect === "follow" || initRedirect === "manual" || initRedirect === "error") {
        redirect = initRedirect;
      } else if (initRedirect !== undefined) {
        // Case-insensitive, as in workerd. workerd rejects "error"; isoproxy keeps the spec mode.
        redirect = StringPrototypeToLowerCase(String(initRedirect));
        if (redirect !== "follow" && redirect !== "manual" && redirect !== "error") {
          throw new TypeError(
            'Invalid redirect value, must be one of "follow" or "manual" ("error" won\'t be implemented ' +
              'since it does not make sense at the edge; use "manual" and check the response status code).',
          );
        }
      }
      const initIntegrity = init.integrity;
      if (initIntegrity !== undefined && String(initIntegrity) !== "") {
        throw new TypeError(
          "Subrequest integrity checking is not implemented. The integrity option must be either undefined or an empty string.",
        );
      }
      if (init !== EMPTY_DICT && initReadsOwnAccessors(init)) {
        // What the init request's getters give, without making its inert
        // signal or its cf object on the way (`new Request(url, request)`).
        const si = reqState.get(init);
        signal = si.signal;
        if (si.cf !== undefined) cf = si.cf;
      } else {
        const initSignal = init.signal;
        if (initSignal !== undefined) signal = initSignal;
        const initCf = init.cf;
        if (initCf !== undefined) cf = initCf;
      }
      const initHeaders = init.headers;
      if (initHeaders !== undefined) headers = initHeaders;
      // workerd knows two cache modes (and no cache property means undefined).
      let cache = typeof input === "object" && input !== null ? reqState.get(input)?.cache : undefined;
      const initCache = init.cache;
      if (initCache !== undefined) {
        cache = String(initCache);
        if (cache !== "no-store" && cache !== "no-cache") throw new TypeError(`Unsupported cache mode: ${cache}`);
      }
      let state;
      const initBody = init.body;
      if (initBody !== undefined && initBody !== null) {
        const extracted = extractBody(initBody);
        state = new BodyState(extracted.source);
        contentType = extracted.type;
      } else if (initBody === null) {
        state = new BodyState(null);
      } else if (body && (body.source !== null || body.used)) {
        // Taking the input request's body: the input's body becomes used.
        if (body.bodyUsed || body.source === null) throw new TypeError("Cannot reconstruct a Request with a used body.");
        state = new BodyState(body.stream ? sourceStream(body.stream) : body.source);
        body.source = null;
        body.stream = null;
        body.used = true;
      } else {
        state = new BodyState(null);
      }
      // As workerd: only a method or body given here is checked; a GET/HEAD
      // request that already has a body (an incoming GET with
      // Content-Length: 0) may be copied with a new URL or headers.
      if (
        (initMethod !== undefined || initBody !== undefined) &&
        (method === "GET" || method === "HEAD") &&
        state.source !== null
      ) {
        throw new TypeError("Request with a GET or HEAD method cannot have a body.");
      }
      const h = headersInit(headers, "request");
      if (contentType !== null && !H.has(h, "content-type")) H.set(h, "content-type", contentType);
      reqState.set(this, new ReqRecord(url, method, h, redirect, signal, cf, cache));
      bodyOf.set(this, state);
    }
    get method() {
      return reqOf(this).method;
    }
    get url() {
      return reqOf(this).url;
    }
    get headers() {
      return reqOf(this).headers;
    }
    get redirect() {
      return reqOf(this).redirect;
    }
    get signal() {
      const s = reqOf(this);
      if (s.signal === null && internals.abort) s.signal = internals.abort.newInertSignal();
      return s.signal;
    }
    get cf() {
      return LazyCf.resolve(reqOf(this).cf);
    }
    get fetcher() {
      return null;
    }
    get cache() {
      return reqOf(this).cache;
    }
    get integrity() {
      return "";
    }
    get keepalive() {
      return false;
    }
    clone() {
      const s = reqOf(this);
      if (!s) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
      const copy = ObjectCreate(Request.prototype);
      // The guard goes with the copy: an incoming request's clone keeps immutable headers.
      const r = new ReqRecord(s.url, s.method, headersInit(s.headers, H.getGuard(s.headers)), s.redirect, s.signal, s.cf, s.cache);
      r.id = s.id;
      reqState.set(copy, r);
      bodyOf.set(copy, bodyOf.get(this).cloneState());
      return copy;
    }
    get [SymbolToStringTag]() {
      return "Request";
    }
  }
  installBody(Body.prototype);
  ObjectSetPrototypeOf(Request.prototype, Body.prototype);
  const RequestPrototype = Request.prototype;
  const requestSignalGetter = ObjectGetOwnPropertyDescriptor(RequestPrototype, "signal").get;
  const requestCfGetter = ObjectGetOwnPropertyDescriptor(RequestPrototype, "cf").get;
  // Whether reading `signal` and `cf` of `init` would call Request's own
  // getters: a Request of this runtime, not a subclass's instance, with no
  // own property of those names, and the getters not replaced by the script.
  function initReadsOwnAccessors(init) {
    if (!reqState.has(init) || ObjectGetPrototypeOf(init) !== RequestPrototype) return false;
    if (ObjectPrototypeHasOwnProperty(init, "signal") || ObjectPrototypeHasOwnProperty(init, "cf")) return false;
    const sd = ObjectGetOwnPropertyDescriptor(RequestPrototype, "signal");
    const cd = ObjectGetOwnPropertyDescriptor(RequestPrototype, "cf");
    return sd !== undefined && ObjectHasOwn(sd, "get") && sd.get === requestSignalGetter &&
      cd !== undefined && ObjectHasOwn(cd, "get") && cd.get === requestCfGetter;
  }
  defineGlobal("Request", Request);

  /** Builds the Request a handler receives. */
  // `headers`: the token of the Rust-held map (copy-on-write, src/headers.rs).
  internals.makeRequest = (method, url, headers, rid, cf) => {
    const req = ObjectCreate(Request.prototype);
    // As in workerd, the incoming request's headers are immutable.
    const lazyCf = cf === undefined ? new LazyCf(headers) : cf;
    reqState.set(req, new ReqRecord(url, method, H.fromBacked(headers, "immutable"), "manual", null, lazyCf, undefined));
    bodyOf.set(req, BodyState.native(rid));
    return req;
  };
  // What passThroughOnException() sends to the origin: the request itself
  // while its body is untouched; else, as workerd does (it hands the origin
  // the same, partly read, client stream), a copy whose body is what is
  // left of the client's: the unread rest while Rust still holds it
  // (chunked: its length is unknown now), else empty.
  internals.passThroughRequest = (req) => {
    const b = bodyOf.get(req);
    const st = b.currentStream;
    if (b.source === null || (!b.bodyUsed && (st === null || !S().isLocked(st)))) return req;
    const s = reqOf(req);
    const copy = ObjectCreate(Request.prototype);
    const r = new ReqRecord(s.url, s.method, headersInit(s.headers, "request"), s.redirect, s.signal, s.cf, s.cache);
    r.id = s.id;
    reqState.set(copy, r);
    const rid = b.source.rid;
    let rest;
    if (rid !== undefined && ops.bodyAlive(rid)) {
      rest = new BodyState(sourceStream(S().createPullStream({
        pull: () => ops.bodyRead(rid),
        cancel: () => ops.bodyCancel(rid),
      })));
    } else {
      rest = new BodyState(sourceBytes(new Uint8Array(0)));
    }
    bodyOf.set(copy, rest);
    return copy;
  };

  // ---- Response ------------------------------------------------------------
  const resState = PrivateSlot();
  class Response {
    constructor(body = null, init = undefined) {
      if (init !== undefined && init !== null && typeof init !== "object") {
        throw new TypeError(
          "Failed to construct 'Response': constructor parameter 2 is not of type 'InitializerDict or Response'.",
        );
      }
      init = init ?? EMPTY_DICT;
      let status = 200;
      // Each member of the init dictionary is read once (a getter runs once).
      const initStatus = init.status;
      const initWebSocket = init.webSocket;
      if (initStatus !== undefined) {
        status = Number(initStatus);
        if (!NumberIsInteger(status) || status < 200 || status > 599) {
          if (!(status === 101 && initWebSocket)) {
            throw new RangeError(
              "Responses may only be constructed with status codes in the range 200 to 599, inclusive.",
            );
          }
        }
      }
      // No statusText: the getter reports "" (workerd), the wire the default reason phrase.
      const initStatusText = init.statusText;
      const statusText = initStatusText === undefined ? null : toByteString(initStatusText);
      // workerd rejects control characters; non-Latin-1 is not a ByteString.
      if (statusText !== null && !isReasonPhrase(statusText)) {
        throw new TypeError("Invalid statusText");
      }
      const h = headersInit(init.headers, "response");
      let state = new BodyState(null);
      if (body !== null && body !== undefined) {
        const extracted = extractBody(body);
        if (NULL_BODY_STATUS.has(status)) {
          // workerd allows a zero-length buffer here and treats it as a null body.
          if (!extracted.source.bytes || TypedArrayPrototypeGetByteLength(extracted.source.bytes) !== 0) {
            throw new TypeError("Response with null body status (101, 204, 205, or 304) cannot have a body.");
          }
        } else {
          state = new BodyState(extracted.source);
          if (extracted.type !== null && !H.has(h, "content-type")) H.set(h, "content-type", extracted.type);
        }
      }
      let webSocket = initWebSocket ?? null;
      // (The WebSockets load on first use: until then nothing is one.)
      const sockets = internals.webSocket;
      if (webSocket !== null && (sockets === undefined || !sockets.isWebSocket(webSocket))) {
        throw new TypeError("Failed to construct 'Response': webSocket must be a WebSocket.");
      }
      resState.set(this, new ResRecord(status, statusText, h, "default", "", false, init.cf, webSocket));
      bodyOf.set(this, state);
    }
    static json(data, init = undefined) {
      // The serializer's own exceptions (a toJSON that throws, a BigInt, a
      // cycle) reach the caller unchanged.
      let text = JSONStringify(data);
      // workerd sends the text "undefined" for a value JSON can't serialize.
      if (text === undefined) text = "undefined";
      // No text/plain default; workerd keeps a content-type the caller set.
      const r = new Response(new JsonText(text), init);
      const h = resState.get(r).headers;
      if (!H.has(h, "content-type")) H.set(h, "content-type", "application/json");
      return r;
    }
    static redirect(url, status = 302) {
      if (arguments.length < 1) {
        throw new TypeError("Failed to execute 'redirect' on 'Response': parameter 1 is not of type 'string'.");
      }
      const parts = internals.url.parse(String(url), undefined);
      if (parts === null) throw new TypeError(`Unable to parse URL: ${String(url)}`);
      const href = parts[0];
      status = Number(status);
      if (!REDIRECT_STATUS.has(status)) {
        throw new RangeError(
          `${status} is not a redirect status code. It must be one of: 301, 302, 303, 307, or 308.`,
        );
      }
      // Set through the internal Headers API: a `headers: [[...]]` init would
      // go through Array.prototype[Symbol.iterator], which a script can replace.
      const r = new Response(null, { __proto__: null, status });
      const h = headersOf(r);
      H.set(h, "location", href);
      H.setGuard(h, "immutable");
      return r;
    }
    static error() {
      const r = new Response(null, { __proto__: null, status: 200 });
      const s = resState.get(r);
      s.status = 0;
      s.statusText = "";
      s.type = "error";
      // Mutable headers, as workerd has them (the standard's guard is "immutable").
      return r;
    }
    get status() {
      return resOf(this).status;
    }
    get statusText() {
      const s = resOf(this);
      return s.statusText === null ? "" : s.statusText;
    }
    get ok() {
      const s = resOf(this).status;
      return s >= 200 && s <= 299;
    }
    get headers() {
      return resOf(this).headers;
    }
    get type() {
      return resOf(this).type;
    }
    get url() {
      return resOf(this).url;
    }
    get redirected() {
      return resOf(this).redirected;
    }
    get cf() {
      return resOf(this).cf;
    }
    get webSocket() {
      return resOf(this).webSocket;
    }
    clone() {
      const s = resOf(this);
      if (!s) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
      const copy = ObjectCreate(Response.prototype);
      const headers = headersInit(s.headers, H.getGuard(s.headers));
      resState.set(copy, new ResRecord(s.status, s.statusText, headers, s.type, s.url, s.redirected, s.cf, s.webSocket));
      bodyOf.set(copy, bodyOf.get(this).cloneState());
      return copy;
    }
    get [SymbolToStringTag]() {
      return "Response";
    }
  }
  ObjectSetPrototypeOf(Response.prototype, Body.prototype);
  defineGlobal("Response", Response);

  // A subrequest's headers for ops.fetch: the copy-on-write form while Rust
  // holds them, else sorted and combined.
  function flatten(headers) {
    return H.wire(headers, true);
  }
  // A response head for ops.respond, as workerd writes it: each append()ed
  // value on its own line.
  function flattenWire(headers) {
    return H.wire(headers, false);
  }

  const statusTextOf = (s) => (s.statusText === null ? defaultStatusText(s.status) : s.statusText);

  /** `[status, statusText, flatHeaders, bodyKind, bodyValue, socketId]` for Rust. */
  internals.responseParts = (res, isHead) => {
    const s = resState.get(res);
    if (s === undefined) return null;
    const body = bodyOf.get(res);
    if (isHead && body.source !== null) {
      // A HEAD response carries no body; let go of what would have been sent.
      const taken = body.take();
      let kind = taken[0];
      let value = taken[1];
      if (kind === 4) {
        // (Its length is the length of its UTF-8.)
        kind = 1;
        value = ops.encodeUtf8(value);
      }
      if (kind === 2) ops.bodyCancel(value);
      if (kind === 3) ops.sinkClose(value);
      // workerd still reports the length the body would have had.
      const flat = H.toFlatWireList(s.headers);
      if (kind === 1 && !H.has(s.headers, "content-length")) {
        ArrayAppend(flat, "content-length");
        ArrayAppend(flat, String(TypedArrayPrototypeGetByteLength(value)));
      }
      return [s.status, statusTextOf(s), flat, 0, null, null];
    }
    // A 101 hands its WebSocket to Rust (once); a WebSocket on any other
    // status stays with the script.
    const socket = s.status === 101 ? internals.loadWebSocket().take(s.webSocket) : null;
    const taken = body.take();
    return [s.status, statusTextOf(s), flattenWire(s.headers), taken[0], taken[1], socket];
  };

  // ---- fetch ---------------------------------------------------------------
  const MAX_REDIRECTS = 20;

  async function fetch(input, init = undefined) {
    const request = new Request(input, init);
    const reqId = ops.currentRequest();
    const rs = reqState.get(request);
    const signal = rs.signal;
    if (signal && signal.aborted) throw signal.reason;
    let url = rs.url;
    let method = rs.method;
    let headers = flatten(rs.headers);
    const taken = bodyOf.get(request).take();
    let kind = taken[0];
    let value = taken[1];
    const redirectMode = rs.redirect;
    for (let hops = 0; ; hops++) {
      const p = ops.fetch(reqId, method, url, headers, kind, value);
      // (A signal nothing can abort, as a request.signal read off a request
      // made without one, is not raced: it would only cost listeners.)
      const head = signal && !internals.abort.isInert(signal) ? await raceAbort(p, signal) : await p;
      const status = head[0];
      const statusText = head[1];
      // The origin's headers stay in Rust until the script reads them.
      const resHeaders = H.fromBacked(head[2], "immutable");
      const body = head[3];
      const location = REDIRECT_STATUS.has(status) ? H.first(resHeaders, "location") : undefined;
      if (location !== undefined && redirectMode !== "manual") {
        if (typeof body === "number") ops.bodyCancel(body);
        if (redirectMode === "error") throw new TypeError("Fetch API cannot load: redirect mode is 'error'.");
        if (hops >= MAX_REDIRECTS) throw new TypeError("Too many redirects.");
        const next = internals.url.parse(location, url);
        if (next === null) throw new TypeError(`Invalid redirect location: ${location}`);
        if (kind === 3 || (kind === 2 && status !== 303)) {
          if (!(status === 303 || ((status === 301 || status === 302) && method === "POST"))) {
            throw new TypeError("A request with a streamed body cannot be redirected.");
          }
        }
        if (status === 303 ? method !== "HEAD" : (status === 301 || status === 302) && method === "POST") {
          method = "GET";
          kind = 0;
          value = null;
          headers = dropBodyHeaders(rs.headers);
        }
        url = next[0];
        continue;
      }
      const res = ObjectCreate(Response.prototype);
      // An origin's accepted WebSocket upgrade (a 101): `res.webSocket`.
      const webSocket = typeof head[4] === "number" ? internals.loadWebSocket().fromOrigin(head[4], reqId) : null;
      resState.set(res, new ResRecord(status, statusText ? statusText : null, resHeaders, "default", url, hops > 0, undefined, webSocket));
      let bodyState;
      if (body === null) bodyState = new BodyState(null);
      else if (typeof body === "number") bodyState = BodyState.native(body);
      else bodyState = new BodyState(sourceBytes(body));
      bodyOf.set(res, bodyState);
      return res;
    }
  }

  const BODY_HEADERS = [
    "content-type", "content-length", "content-encoding", "content-language", "content-location",
  ];
  // The request's headers for ops.fetch without the body's (a redirect
  // that turns the request into a GET).
  function dropBodyHeaders(headers) {
    return H.wireWithout(headers, BODY_HEADERS, true);
  }

  function raceAbort(p, signal) {
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { __proto__: null, once: true });
      PromisePrototypeThen(
        p,
        (v) => {
          signal.removeEventListener("abort", onAbort);
          resolve(v);
        },
        (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  }

  defineGlobal("fetch", fetch);
  internals.BodyState = BodyState;
  internals.fetchClasses = {
    __proto__: null,
    Request,
    Response,
    // For structuredClone: a Request without a body is copied, as workerd does.
    isRequest: (v) => reqState.has(v),
    requestHasBody: (v) => {
      const b = bodyOf.get(v);
      return b !== undefined && b.source !== null;
    },
  };
  internals.bodyOf = bodyOf;
})
