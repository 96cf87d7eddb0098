"use strict";
// Blob and File (W3C File API) and FormData (XHR), with workerd's
// behaviour where it differs from the specs, plus the multipart/form-data
// and application/x-www-form-urlencoded serialiser and parser that
// Request/Response bodies use (internals.blob, internals.parseFormData).
//
// Blob bytes are immutable, so a Blob keeps one Uint8Array and slices share
// it; every way in (constructor parts) and out (arrayBuffer, bytes, stream)
// copies.
((globalThis, internals) => {
  const {
    Array,
    ArrayBuffer,
    ArrayBufferIsView,
    DataView,
    DateNow,
    Error,
    MathAbs,
    MathFloor,
    MathMax,
    MathMin,
    MathRandom,
    MathRound,
    MathTrunc,
    Number,
    NumberIsNaN,
    NumberMAX_SAFE_INTEGER,
    NumberMIN_SAFE_INTEGER,
    ObjectGetOwnPropertyDescriptor,
    ObjectGetPrototypeOf,
    ReflectApply,
    SafeMap,
    String,
    StringFromCharCode,
    Symbol,
    SymbolIterator,
    SymbolToStringTag,
    TypeError,
    Uint8Array,
    parseInt,
    ArrayPrototypePush,
    StringPrototypeCharCodeAt,
    StringPrototypeReplace,
    StringPrototypeToLowerCase,
    StringPrototypeIndexOf,
    StringPrototypeSlice,
    StringPrototypeStartsWith,
    TypedArrayPrototypeGetByteOffset,
    TypedArrayPrototypeGetByteLength,
    TypedArrayPrototypeSet,
    TypedArrayPrototypeGetBuffer,
    TypedArrayPrototypeSlice,
  } = internals.primordials;
  const {
    requiredArguments, toUSVString, toDOMString, toDictionary, isObject,
    definePairIterable, defineToStringTag, makeEnumerable,
  } = internals.webidl;
  const ops = internals.ops;
  // This file loads on first use (95_lazy.js), maybe after the script
  // replaced built-ins: the accessors come from the snapshot (19_pristine.js).
  const TextDecoder = internals.encoding.TextDecoder;

  const {
    ArrayBufferByteLengthGetter: arrayBufferByteLength,
    TypedArrayBufferGetter: typedArrayBuffer,
    TypedArrayByteOffsetGetter: typedArrayByteOffset,
    TypedArrayByteLengthGetter: typedArrayByteLength,
    TypedArrayNameGetter: typedArrayTag,
    DataViewBufferGetter: dataViewBuffer,
    DataViewByteOffsetGetter: dataViewByteOffset,
    DataViewByteLengthGetter: dataViewByteLength,
  } = internals.pristine;

  // A Uint8Array over the bytes of an ArrayBuffer or ArrayBufferView (a
  // BufferSource), or null for anything else. Detached buffers read as empty.
  function bufferSourceBytes(v) {
    if (!isObject(v)) return null;
    if (ArrayBufferIsView(v)) {
      const typed = ReflectApply(typedArrayTag, v, []) !== undefined;
      const buffer = ReflectApply(typed ? typedArrayBuffer : dataViewBuffer, v, []);
      const offset = ReflectApply(typed ? typedArrayByteOffset : dataViewByteOffset, v, []);
      const length = ReflectApply(typed ? typedArrayByteLength : dataViewByteLength, v, []);
      if (length === 0) return new Uint8Array(0);
      return new Uint8Array(buffer, offset, length);
    }
    let length;
    try {
      length = ReflectApply(arrayBufferByteLength, v, []);
    } catch {
      return null; // not an ArrayBuffer
    }
    return length === 0 ? new Uint8Array(0) : new Uint8Array(v);
  }

  const encodeUtf8 = (s) => ops.encodeUtf8(s);
  // Made on first use (its native half is per isolate; this file runs
  // into the startup snapshot).
  let utf8Decoder;
  const decodeUtf8 = (bytes) => {
    if (utf8Decoder === undefined) utf8Decoder = new TextDecoder("utf-8", { __proto__: null, ignoreBOM: true });
    return internals.encoding.decode(utf8Decoder, bytes, false);
  };

  function concatBytes(chunks) {
    let total = 0;
    for (let i = 0; i < chunks.length; i++) total += TypedArrayPrototypeGetByteLength(chunks[i]);
    const out = new Uint8Array(total);
    let off = 0;
    for (let i = 0; i < chunks.length; i++) {
      TypedArrayPrototypeSet(out, chunks[i], off);
      off += TypedArrayPrototypeGetByteLength(chunks[i]);
    }
    return out;
  }

  // File API: a type with a character outside U+0020..U+007E becomes the
  // empty string; otherwise it is ASCII-lowercased.
  function normalizeType(t) {
    for (let i = 0; i < t.length; i++) {
      const c = StringPrototypeCharCodeAt(t, i);
      if (c < 0x20 || c > 0x7e) return "";
    }
    return StringPrototypeToLowerCase(t);
  }

  // BlobPart: Blob, BufferSource (copied now: buffers are mutable) or USVString.
  function convertParts(parts, prefix) {
    if (parts === undefined) return [];
    if (!isObject(parts)) {
      // workerd's words
      throw new TypeError(`${prefix}: constructor parameter 1 is not of type 'Array'.`);
    }
    const method = parts[SymbolIterator];
    if (typeof method !== "function") {
      throw new TypeError(`${prefix}: The object must have a callable @@iterator property.`);
    }
    const out = [];
    for (const item of { [SymbolIterator]: () => ReflectApply(method, parts, []) }) {
      if (isBlob(item)) {
        ArrayPrototypePush(out, blobBytes(item));
        continue;
      }
      const bytes = bufferSourceBytes(item);
      ArrayPrototypePush(out, bytes !== null ? TypedArrayPrototypeSlice(bytes) : toUSVString(item));
    }
    return out;
  }

  // workerd has no `endings` option: any value is an error there.
  function convertEndings(v) {
    if (v === undefined) return "transparent";
    throw new Error("The 'endings' field on 'Options' is not implemented.");
  }


  // "Process blob parts": strings are UTF-8 encoded, with "native" endings
  // turning CRLF and lone CR into LF (the native line ending here).
  function processParts(parts, endings) {
    const chunks = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (typeof p === "string") {
        const s = endings === "native" ? StringPrototypeReplace(p, /\r\n?/g, "\n") : p;
        ArrayPrototypePush(chunks, encodeUtf8(s));
      } else {
        ArrayPrototypePush(chunks, p);
      }
    }
    return concatBytes(chunks);
  }

  // WebIDL [Clamp] long long: NaN -> 0, round half to even.
  function toClampedLongLong(v) {
    let x = Number(v);
    if (NumberIsNaN(x)) return 0;
    x = MathMin(MathMax(x, NumberMIN_SAFE_INTEGER), NumberMAX_SAFE_INTEGER);
    const r = MathRound(x);
    if (MathAbs(x - MathTrunc(x)) === 0.5 && r % 2 !== 0) return r - 1;
    return r + 0;
  }

  // Only runtime code holds this: it lets the constructors wrap bytes as-is.
  const kInternal = Symbol("internal");
  const STREAM_CHUNK = 65536;

  let isBlob;
  let blobBytes;
  let blobType;

  class Blob {
    #bytes;
    #type;

    constructor(blobParts = undefined, options = undefined) {
      if (blobParts === kInternal) {
        this.#bytes = options[0];
        this.#type = options[1];
        return;
      }
      const prefix = "Failed to construct 'Blob'";
      const parts = convertParts(blobParts, prefix);
      const opts = toDictionary(options, prefix, 2, "Options");
      let endings = "transparent";
      let type = "";
      if (opts !== null) {
        endings = convertEndings(opts.endings);
        if (opts.type !== undefined) type = normalizeType(toDOMString(opts.type));
      }
      this.#bytes = processParts(parts, endings);
      this.#type = type;
    }

    static {
      isBlob = (v) => isObject(v) && #bytes in v;
      blobBytes = (b) => b.#bytes;
      blobType = (b) => b.#type;
    }

    static #check(b) {
      if (!isBlob(b)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    }

    get size() {
      Blob.#check(this);
      return TypedArrayPrototypeGetByteLength(this.#bytes);
    }

    get type() {
      Blob.#check(this);
      return this.#type;
    }

    slice(start = undefined, end = undefined, contentType = undefined) {
      Blob.#check(this);
      const size = TypedArrayPrototypeGetByteLength(this.#bytes);
      let from = start === undefined ? 0 : toClampedLongLong(start);
      let to = end === undefined ? size : toClampedLongLong(end);
      from = from < 0 ? MathMax(size + from, 0) : MathMin(from, size);
      to = to < 0 ? MathMax(size + to, 0) : MathMin(to, size);
      const span = MathMax(to - from, 0);
      const type = contentType === undefined ? "" : normalizeType(toDOMString(contentType));
      return new Blob(kInternal, [this.#bytes.subarray(from, from + span), type]);
    }

    async text() {
      Blob.#check(this);
      return decodeUtf8(this.#bytes);
    }

    async arrayBuffer() {
      Blob.#check(this);
      return TypedArrayPrototypeGetBuffer(TypedArrayPrototypeSlice(this.#bytes));
    }

    async bytes() {
      Blob.#check(this);
      return TypedArrayPrototypeSlice(this.#bytes);
    }

    // A byte stream, as workerd's: BYOB readers fill their own buffers.
    stream() {
      Blob.#check(this);
      const bytes = this.#bytes;
      const length = TypedArrayPrototypeGetByteLength(bytes);
      let offset = 0;
      // The streams load on first use (95_lazy.js).
      const { ReadableStream } = internals.loadStreams();
      return new ReadableStream({
        __proto__: null,
        type: "bytes",
        pull(controller) {
          const request = controller.byobRequest;
          if (offset >= length) {
            controller.close();
            if (request) request.respond(0);
            return;
          }
          if (request) {
            const view = request.view;
            const n = MathMin(view.byteLength, length - offset);
            new Uint8Array(view.buffer, view.byteOffset, n).set(bytes.subarray(offset, offset + n));
            offset += n;
            request.respond(n);
          } else {
            const n = MathMin(STREAM_CHUNK, length - offset);
            controller.enqueue(bytes.slice(offset, offset + n));
            offset += n;
          }
          if (offset >= length) controller.close();
        },
      });
    }
  }
  defineToStringTag(Blob, "Blob");
  makeEnumerable(Blob.prototype, ["size", "type", "slice", "text", "arrayBuffer", "bytes", "stream"]);

  let isFile;
  let fileName;

  class File extends Blob {
    #name;
    #lastModified;

    constructor(fileBits, fileName, options = undefined) {
      if (fileBits === kInternal) {
        super(kInternal, fileName);
        this.#name = options[0];
        this.#lastModified = options[1];
        return;
      }
      const prefix = "Failed to construct 'File'";
      requiredArguments(arguments.length, 2, prefix, ["Array", "string"]);
      const parts = convertParts(fileBits, prefix);
      const name = toUSVString(fileName);
      const opts = toDictionary(options, prefix, 3, "Options");
      let endings = "transparent";
      let lastModified;
      let type = "";
      if (opts !== null) {
        endings = convertEndings(opts.endings);
        // workerd keeps lastModified as a double.
        if (opts.lastModified !== undefined) lastModified = Number(opts.lastModified);
        if (opts.type !== undefined) type = normalizeType(toDOMString(opts.type));
      }
      super(kInternal, [processParts(parts, endings), type]);
      this.#name = name;
      this.#lastModified = lastModified === undefined ? DateNow() : lastModified;
    }

    static {
      isFile = (v) => isObject(v) && #name in v;
      fileName = (f) => f.#name;
    }

    static #check(f) {
      if (!isFile(f)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    }

    get name() {
      File.#check(this);
      return this.#name;
    }

    get lastModified() {
      File.#check(this);
      return this.#lastModified;
    }
  }
  defineToStringTag(File, "File");
  makeEnumerable(File.prototype, ["name", "lastModified"]);

  const makeBlob = (bytes, type) => new Blob(kInternal, [bytes, type]);
  const makeFile = (bytes, name, type, lastModified = DateNow()) =>
    new File(kInternal, [bytes, type], [name, lastModified]);

  // ---- FormData ------------------------------------------------------------

  // "Create an entry": a Blob becomes a File named after the entry (workerd;
  // the spec says "blob") or the filename given; a File keeps its identity
  // unless a filename replaces its name. As in workerd, a filename given
  // with a string value is ignored.
  function entryValue(value, filename, name) {
    if (!isBlob(value)) return toUSVString(value);
    if (filename !== undefined) {
      return makeFile(blobBytes(value), toUSVString(filename), blobType(value));
    }
    if (isFile(value)) return value;
    return makeFile(blobBytes(value), name, blobType(value));
  }

  let entriesOf;

  class FormData {
    // [name, value] pairs; value is a string or a File.
    #entries = [];

    // workerd has no HTMLFormElement and ignores constructor arguments.
    constructor() {}

    static {
      entriesOf = (fd) => {
        if (!(isObject(fd) && #entries in fd)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
        return fd.#entries;
      };
    }

    append(name, value, filename = undefined) {
      const entries = entriesOf(this);
      requiredArguments(arguments.length, 2, "Failed to execute 'append' on 'FormData'", ["string", "File or Blob or string"]);
      name = toUSVString(name);
      ArrayPrototypePush(entries, [name, entryValue(value, filename, name)]);
    }

    delete(name) {
      const entries = entriesOf(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'delete' on 'FormData'", ["string"]);
      name = toUSVString(name);
      this.#entries = entries.filter((e) => e[0] !== name);
    }

    get(name) {
      const entries = entriesOf(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'get' on 'FormData'", ["string"]);
      name = toUSVString(name);
      const found = entries.find((e) => e[0] === name);
      return found === undefined ? null : found[1];
    }

    getAll(name) {
      const entries = entriesOf(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'getAll' on 'FormData'", ["string"]);
      name = toUSVString(name);
      const out = [];
      for (let i = 0; i < entries.length; i++) if (entries[i][0] === name) ArrayPrototypePush(out, entries[i][1]);
      return out;
    }

    has(name) {
      const entries = entriesOf(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'has' on 'FormData'", ["string"]);
      name = toUSVString(name);
      return entries.some((e) => e[0] === name);
    }

    set(name, value, filename = undefined) {
      const entries = entriesOf(this);
      requiredArguments(arguments.length, 2, "Failed to execute 'set' on 'FormData'", ["string", "File or Blob or string"]);
      name = toUSVString(name);
      const entry = [name, entryValue(value, filename, name)];
      const first = entries.findIndex((e) => e[0] === name);
      if (first === -1) {
        ArrayPrototypePush(entries, entry);
        return;
      }
      const out = entries.slice(0, first);
      ArrayPrototypePush(out, entry);
      for (let i = first + 1; i < entries.length; i++) {
        if (entries[i][0] !== name) ArrayPrototypePush(out, entries[i]);
      }
      this.#entries = out;
    }
  }
  definePairIterable(FormData, "FormData", (fd) => entriesOf(fd));
  defineToStringTag(FormData, "FormData");
  makeEnumerable(FormData.prototype, ["append", "delete", "get", "getAll", "has", "set"]);

  // ---- multipart/form-data serialisation (HTML "multipart/form-data
  // encoding algorithm") ---------------------------------------------------

  // Lone CR and lone LF become CRLF.
  const normalizeNewlines = (s) => s.replace(/\r\n|\r|\n/g, "\r\n");
  const escapeName = (s) => s.replace(/[\n\r"]/g, (c) => (c === "\n" ? "%0A" : c === "\r" ? "%0D" : "%22"));

  const HEX = "0123456789abcdef";
  function randomBoundary() {
    const bytes = new Uint8Array(16);
    const crypto = globalThis.crypto;
    if (crypto && typeof crypto.getRandomValues === "function") {
      crypto.getRandomValues(bytes);
    } else {
      for (let i = 0; i < bytes.length; i++) bytes[i] = MathFloor(MathRandom() * 256);
    }
    let hex = "";
    for (let i = 0; i < bytes.length; i++) hex += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
    return hex;
  }

  /** `{ bytes, type }` for a FormData body. */
  function serializeFormData(fd, boundary = randomBoundary()) {
    const chunks = [];
    const entries = entriesOf(fd);
    for (let i = 0; i < entries.length; i++) {
      const name = entries[i][0];
      const value = entries[i][1];
      let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(normalizeNewlines(name))}"`;
      if (typeof value === "string") {
        ArrayPrototypePush(chunks, encodeUtf8(`${head}\r\n\r\n${normalizeNewlines(value)}\r\n`));
      } else {
        const type = blobType(value) || "application/octet-stream";
        head += `; filename="${escapeName(fileName(value))}"\r\nContent-Type: ${type}\r\n\r\n`;
        ArrayPrototypePush(chunks, encodeUtf8(head), blobBytes(value), encodeUtf8("\r\n"));
      }
    }
    ArrayPrototypePush(chunks, encodeUtf8(`--${boundary}--\r\n`));
    return { bytes: concatBytes(chunks), type: `multipart/form-data; boundary=${boundary}` };
  }

  // ---- parsing (Body.formData()) ------------------------------------------
  // Request bodies are the script's input and the script may have replaced
  // String.prototype / RegExp.prototype methods or a typed array's species:
  // this parser calls only captured primordials, reads strings by index
  // within bounds (an index past the end would consult String.prototype),
  // and makes views and copies with the constructors themselves.

  const isHttpWs = (c) => c === " " || c === "\t" || c === "\r" || c === "\n";
  // s[i], or "" past either end.
  const ch = (s, i) => (i >= 0 && i < s.length ? s[i] : "");
  const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const TOKEN = new Uint8Array(128);
  for (let i = 0; i < TOKEN_CHARS.length; i++) TOKEN[StringPrototypeCharCodeAt(TOKEN_CHARS, i)] = 1;
  function isToken(s) {
    if (s.length === 0) return false;
    for (let i = 0; i < s.length; i++) {
      const c = StringPrototypeCharCodeAt(s, i);
      if (c >= 128 || TOKEN[c] !== 1) return false;
    }
    return true;
  }
  function trimHttpWsEnd(s) {
    let end = s.length;
    while (end > 0 && isHttpWs(s[end - 1])) end--;
    return StringPrototypeSlice(s, 0, end);
  }
  // Space and tab off both ends (what a part's header lines are trimmed of).
  function trimBlank(s) {
    let start = 0;
    let end = s.length;
    while (start < end && (s[start] === " " || s[start] === "\t")) start++;
    while (end > start && (s[end - 1] === " " || s[end - 1] === "\t")) end--;
    return StringPrototypeSlice(s, start, end);
  }
  const lower = (s) => StringPrototypeToLowerCase(s);
  // A view of bytes[from, to) and a copy of it, never through species.
  function view(bytes, from, to) {
    return new Uint8Array(TypedArrayPrototypeGetBuffer(bytes), TypedArrayPrototypeGetByteOffset(bytes) + from, to - from);
  }
  function copy(bytes) {
    const out = new Uint8Array(TypedArrayPrototypeGetByteLength(bytes));
    TypedArrayPrototypeSet(out, bytes);
    return out;
  }

  // An HTTP quoted-string starting at s[i] === '"': [value, next index].
  function collectQuoted(s, i) {
    let value = "";
    i++;
    while (i < s.length) {
      const c = s[i];
      if (c === '"') return [value, i + 1, true];
      if (c === "\\" && i + 1 < s.length) {
        value += s[i + 1];
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    return [value, i, false];
  }

  // WHATWG MIME Sniffing "parse a MIME type": { essence, params } or null.
  function parseMimeType(input) {
    let start = 0;
    let end = input.length;
    while (start < end && isHttpWs(input[start])) start++;
    while (end > start && isHttpWs(input[end - 1])) end--;
    const s = StringPrototypeSlice(input, start, end);
    const slash = StringPrototypeIndexOf(s, "/");
    if (slash <= 0) return null;
    const type = StringPrototypeSlice(s, 0, slash);
    let i = StringPrototypeIndexOf(s, ";", slash);
    if (i === -1) i = s.length;
    const subtype = trimHttpWsEnd(StringPrototypeSlice(s, slash + 1, i));
    if (!isToken(type) || !isToken(subtype)) return null;
    const params = new SafeMap();
    while (i < s.length) {
      i++; // the ';'
      while (i < s.length && isHttpWs(s[i])) i++;
      let j = i;
      while (j < s.length && s[j] !== ";" && s[j] !== "=") j++;
      const name = lower(StringPrototypeSlice(s, i, j));
      i = j;
      if (i >= s.length) break;
      if (s[i] === ";") continue;
      i++; // the '='
      let value;
      if (ch(s, i) === '"') {
        const q = collectQuoted(s, i);
        value = q[0];
        i = q[1];
        while (i < s.length && s[i] !== ";") i++;
      } else {
        j = i;
        while (j < s.length && s[j] !== ";") j++;
        value = trimHttpWsEnd(StringPrototypeSlice(s, i, j));
        i = j;
        if (value === "") continue;
      }
      if (name !== "" && isToken(name) && !params.has(name)) params.set(name, value);
    }
    return { __proto__: null, essence: lower(`${type}/${subtype}`), params };
  }

  // WHATWG "serialize a MIME type" of a parsed Content-Type, "" if it does not
  // parse: what workerd's body.blob() reports as the Blob's type.
  function mimeOf(input) {
    const mime = input === null || input === undefined ? null : parseMimeType(String(input));
    if (mime === null) return "";
    let out = mime.essence;
    for (const entry of mime.params) {
      const name = entry[0];
      const value = entry[1];
      let v = value;
      if (value === "" || !isToken(value)) {
        v = '"';
        for (let i = 0; i < value.length; i++) v += value[i] === '"' || value[i] === "\\" ? `\\${value[i]}` : value[i];
        v += '"';
      }
      out += `;${name}=${v}`;
    }
    return out;
  }

  // bytes -> a string with one UTF-16 unit per byte, so that indices match.
  function latin1(bytes) {
    let out = "";
    const n = TypedArrayPrototypeGetByteLength(bytes);
    for (let i = 0; i < n; i += 8192) {
      out += ReflectApply(StringFromCharCode, null, view(bytes, i, MathMin(n, i + 8192)));
    }
    return out;
  }

  const INVALID_DISPOSITION = "Invalid Content-Disposition header found in FormData part.";
  const isHex = (c) => (c >= "0" && c <= "9") || (c >= "A" && c <= "F") || (c >= "a" && c <= "f");

  // RFC 5987 ext-value (filename*=UTF-8''%E2%82%AC.txt), or undefined.
  function decodeExtValue(v) {
    const q1 = StringPrototypeIndexOf(v, "'");
    if (q1 === -1) return undefined;
    const q2 = StringPrototypeIndexOf(v, "'", q1 + 1);
    if (q2 === -1) return undefined;
    const charset = lower(StringPrototypeSlice(v, 0, q1));
    if (charset !== "utf-8" && charset !== "iso-8859-1") return undefined;
    const bytes = [];
    const raw = StringPrototypeSlice(v, q2 + 1);
    for (let i = 0; i < raw.length; i++) {
      if (raw[i] === "%" && isHex(ch(raw, i + 1)) && isHex(ch(raw, i + 2))) {
        ArrayPrototypePush(bytes, parseInt(StringPrototypeSlice(raw, i + 1, i + 3), 16));
        i += 2;
      } else {
        ArrayPrototypePush(bytes, StringPrototypeCharCodeAt(raw, i) & 0xff);
      }
    }
    const u8 = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) u8[i] = bytes[i];
    return charset === "utf-8" ? decodeUtf8(u8) : latin1(u8);
  }

  // Content-Disposition: form-data; name="x"; filename="y" (quoted or token
  // values; filename* wins over filename).
  function parseDisposition(v) {
    let i = 0;
    const skipWs = () => {
      while (i < v.length && (v[i] === " " || v[i] === "\t")) i++;
    };
    skipWs();
    let j = i;
    while (j < v.length && v[j] !== ";" && v[j] !== " " && v[j] !== "\t") j++;
    const kind = StringPrototypeSlice(v, i, j);
    if (kind === "") throw new TypeError(INVALID_DISPOSITION);
    if (lower(kind) !== "form-data") {
      throw new TypeError(
        'Content-Disposition header for FormData part must have the value "form-data", ' +
          `possibly followed by parameters. Got: "${kind}"`,
      );
    }
    i = j;
    const params = new SafeMap();
    for (;;) {
      skipWs();
      if (i >= v.length) break;
      if (v[i] !== ";") throw new TypeError(INVALID_DISPOSITION);
      i++;
      skipWs();
      if (i >= v.length) break;
      j = i;
      while (j < v.length && v[j] !== "=" && v[j] !== ";" && v[j] !== " " && v[j] !== "\t") j++;
      const name = lower(StringPrototypeSlice(v, i, j));
      if (name === "") throw new TypeError(INVALID_DISPOSITION);
      i = j;
      skipWs();
      if (ch(v, i) !== "=") throw new TypeError(INVALID_DISPOSITION);
      i++;
      skipWs();
      let value;
      if (ch(v, i) === '"') {
        const close = StringPrototypeIndexOf(v, '"', i + 1);
        if (close === -1) throw new TypeError(INVALID_DISPOSITION);
        // workerd leaves %0A, %0D and %22 as they are.
        value = StringPrototypeSlice(v, i + 1, close);
        i = close + 1;
      } else {
        j = i;
        while (j < v.length && v[j] !== ";" && v[j] !== " " && v[j] !== "\t") j++;
        value = StringPrototypeSlice(v, i, j);
        i = j;
      }
      if (!params.has(name)) params.set(name, value);
    }
    let filename = params.get("filename");
    if (params.has("filename*")) {
      const ext = decodeExtValue(params.get("filename*"));
      if (ext !== undefined) filename = ext;
    }
    return { __proto__: null, name: params.get("name"), filename };
  }

  // A part's header block (UTF-8, so raw non-ASCII filenames survive):
  // lower-cased name -> value. Folded lines continue the previous header.
  function parsePartHeaders(text) {
    const headers = new SafeMap();
    let last = null;
    let start = 0;
    while (start <= text.length) {
      let nl = StringPrototypeIndexOf(text, "\n", start);
      if (nl === -1) nl = text.length;
      const line = StringPrototypeSlice(text, start, nl > start && text[nl - 1] === "\r" ? nl - 1 : nl);
      start = nl + 1;
      if (line === "") continue;
      if ((line[0] === " " || line[0] === "\t") && last !== null) {
        headers.set(last, `${headers.get(last)} ${trimBlank(line)}`);
        continue;
      }
      const colon = StringPrototypeIndexOf(line, ":");
      const name = colon === -1 ? "" : trimBlank(StringPrototypeSlice(line, 0, colon));
      if (!isToken(name)) throw new TypeError("FormData part had invalid headers.");
      last = lower(name);
      const value = trimBlank(StringPrototypeSlice(line, colon + 1));
      if (!headers.has(last)) headers.set(last, value);
    }
    return headers;
  }

  // Where the blank line ending a part's header block starts at or after
  // `pos` (\r?\n\r?\n), as [index, length], or null.
  function headerEnd(s, pos) {
    for (let k = StringPrototypeIndexOf(s, "\n", pos); k !== -1; k = StringPrototypeIndexOf(s, "\n", k + 1)) {
      const start = k > pos && s[k - 1] === "\r" ? k - 1 : k;
      if (ch(s, k + 1) === "\n") return [start, k + 2 - start];
      if (ch(s, k + 1) === "\r" && ch(s, k + 2) === "\n") return [start, k + 3 - start];
    }
    return null;
  }

  // RFC 7578 / RFC 2046, as leniently as workerd: a preamble before the
  // first boundary and an epilogue after the last are ignored, and a bare LF
  // may stand for CRLF.
  function parseMultipart(bytes, boundary) {
    const s = latin1(bytes);
    const dash = `--${boundary}`;
    const fd = new FormData();
    const entries = entriesOf(fd);
    // As in workerd, the first boundary needs no line break before it.
    let pos = StringPrototypeIndexOf(s, dash);
    if (pos === -1) throw new TypeError("No initial boundary string (or you have a truncated message).");
    pos += dash.length;
    for (;;) {
      if (StringPrototypeStartsWith(s, "--", pos)) break;
      // Transport padding (RFC 2046) may follow a boundary.
      while (ch(s, pos) === " " || ch(s, pos) === "\t") pos++;
      if (StringPrototypeStartsWith(s, "\r\n", pos)) pos += 2;
      else if (ch(s, pos) === "\n") pos += 1;
      else throw new TypeError("Boundary string was not succeeded by CRLF, LF, or '--'.");
      let headersEnd;
      let bodyStart;
      if (ch(s, pos) === "\n" || (ch(s, pos) === "\r" && ch(s, pos + 1) === "\n")) {
        headersEnd = pos;
        bodyStart = pos + (ch(s, pos) === "\n" ? 1 : 2);
      } else {
        const m = headerEnd(s, pos);
        if (m === null) throw new TypeError("No multipart message header termination found.");
        headersEnd = m[0];
        bodyStart = m[0] + m[1];
      }
      const headers = parsePartHeaders(decodeUtf8(view(bytes, pos, headersEnd)));
      const disposition = headers.get("content-disposition");
      if (disposition === undefined) {
        throw new TypeError("No valid Content-Disposition header found in FormData part.");
      }
      const parsed = parseDisposition(disposition);
      const name = parsed.name;
      const filename = parsed.filename;
      if (name === undefined) {
        throw new TypeError("Content-Disposition header in FormData part is missing a name.");
      }
      const delimiter = StringPrototypeIndexOf(s, `\n${dash}`, bodyStart - 1);
      if (delimiter === -1) throw new TypeError("No subsequent boundary string after multipart message.");
      let contentEnd = MathMax(delimiter, bodyStart);
      if (contentEnd > bodyStart && StringPrototypeCharCodeAt(s, contentEnd - 1) === 13) contentEnd--;
      const content = view(bytes, bodyStart, contentEnd);
      // workerd: an empty filename makes a string entry too.
      if (filename === undefined || filename === "") {
        ArrayPrototypePush(entries, [name, decodeUtf8(content)]);
      } else {
        const type = headers.get("content-type");
        ArrayPrototypePush(entries, [name, makeFile(copy(content), filename, type === undefined ? "" : type)]);
      }
      pos = delimiter + 1 + dash.length;
    }
    return fd;
  }

  const UNRECOGNIZED =
    "Unrecognized Content-Type header value. FormData can only parse the following MIME types: " +
    "multipart/form-data, application/x-www-form-urlencoded";

  /** Body.formData(): bytes and the Content-Type header value -> FormData. */
  function parseFormData(bytes, contentType) {
    const mime = parseMimeType(String(contentType ?? ""));
    if (mime !== null && mime.essence === "multipart/form-data") {
      const boundary = mime.params.get("boundary");
      if (boundary === undefined || boundary === "") {
        throw new TypeError(
          "No boundary string in Content-Type header. The multipart/form-data MIME type requires " +
            "a boundary parameter, e.g. 'Content-Type: multipart/form-data; boundary=\"abcd\"'. " +
            "See RFC 7578, section 4.",
        );
      }
      return parseMultipart(bytes, boundary);
    }
    if (mime !== null && mime.essence === "application/x-www-form-urlencoded") {
      const charset = mime.params.get("charset");
      const lower = charset === undefined ? undefined : StringPrototypeToLowerCase(charset);
      if (lower !== undefined && lower !== "utf-8" && lower !== "utf8" && lower !== "unicode-1-1-utf-8") {
        throw new TypeError("Non-utf-8 application/x-www-form-urlencoded body.");
      }
      const fd = new FormData();
      const entries = entriesOf(fd);
      // The runtime's own parser (not the global URLSearchParams a script
      // can replace, nor its iterator); a '?' that starts the body stays
      // part of the first name, as through `new URLSearchParams("?" + body)`.
      const pairs = internals.url.parseUrlencoded(decodeUtf8(bytes));
      for (let i = 0; i < pairs.length; i++) ArrayPrototypePush(entries, pairs[i]);
      return fd;
    }
    throw new TypeError(UNRECOGNIZED);
  }

  internals.blob = {
    __proto__: null,
    isBlob, isFile, blobBytes, blobType, makeBlob, makeFile, normalizeType, mimeOf,
    isFormData: (v) => {
      try {
        entriesOf(v);
        return true;
      } catch {
        return false;
      }
    },
    serializeFormData,
  };
  internals.parseFormData = parseFormData;

  internals.defineGlobal("Blob", Blob);
  internals.defineGlobal("File", File);
  internals.defineGlobal("FormData", FormData);
  // workerd's shape for its API classes (90_dispatch.js).
  internals.webClassShape(Blob);
  internals.webClassShape(File);
  internals.webClassShape(FormData);
})
