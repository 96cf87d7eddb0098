"use strict";
// node:buffer - Buffer as a Uint8Array subclass (as Node.js and workerd),
// plus the error helpers (codes, messages) the other node: modules share.
((globalThis, internals) => {
  const {
    Array,
    ArrayBuffer,
    ArrayBufferIsView,
    ArrayFrom,
    ArrayIsArray,
    DataView,
    Int16Array,
    MathAbs,
    MathCeil,
    MathFloor,
    MathMax,
    MathMin,
    MathTrunc,
    Number,
    NumberIsInteger,
    NumberIsNaN,
    Object,
    ObjectDefineProperties,
    ObjectDefineProperty,
    ObjectSetPrototypeOf,
    RangeError,
    SharedArrayBuffer,
    String,
    StringFromCharCode,
    SymbolFor,
    SymbolToPrimitive,
    TypeError,
    Uint8Array,
  } = internals.primordials;
  const node = (internals.node ??= { __proto__: null });

  // ---- Node.js-style errors (err.code, "[ERR_X]" not in the message) -----
  function describe(value) {
    if (value == null) return ` Received ${value}`;
    if (typeof value === "function") return ` Received function ${value.name}`;
    if (typeof value === "object") {
      if (value.constructor && value.constructor.name) return ` Received an instance of ${value.constructor.name}`;
      return ` Received ${internals.inspect(value, { depth: -1 })}`;
    }
    let shown = internals.inspect(value, { colors: false });
    if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
    return ` Received type ${typeof value} (${shown})`;
  }
  function nodeError(Base, code, message) {
    const e = new Base(message);
    ObjectDefineProperty(e, "code", { __proto__: null, value: code, enumerable: true, writable: true, configurable: true });
    return e;
  }
  const errors = {
    nodeError,
    invalidArgType(name, expected, actual) {
      let subject;
      if (name.endsWith(" argument")) subject = name;
      else subject = `"${name}" ${name.includes(".") ? "property" : "argument"}`;
      return nodeError(TypeError, "ERR_INVALID_ARG_TYPE", `The ${subject} must be ${expected}.${describe(actual)}`);
    },
    invalidArgValue(name, value, reason = "is invalid") {
      return nodeError(
        TypeError,
        "ERR_INVALID_ARG_VALUE",
        `The argument '${name}' ${reason}. Received ${internals.inspect(value)}`,
      );
    },
    outOfRange(name, range, value) {
      let shown = String(value);
      if (typeof value === "bigint") shown += "n";
      else if (NumberIsInteger(value) && MathAbs(value) > 2 ** 32) shown = addUnderscores(String(value));
      return nodeError(
        RangeError,
        "ERR_OUT_OF_RANGE",
        `The value of "${name}" is out of range. It must be ${range}. Received ${shown}`,
      );
    },
    unknownEncoding(enc) {
      return nodeError(TypeError, "ERR_UNKNOWN_ENCODING", `Unknown encoding: ${enc}`);
    },
    bufferOutOfBounds(name) {
      return nodeError(
        RangeError,
        "ERR_BUFFER_OUT_OF_BOUNDS",
        name ? `"${name}" is outside of buffer bounds` : "Attempt to access memory outside buffer bounds",
      );
    },
  };
  function addUnderscores(s) {
    let res = "";
    let i = s.length;
    const start = s[0] === "-" ? 1 : 0;
    for (; i >= start + 4; i -= 3) res = `_${s.slice(i - 3, i)}${res}`;
    return `${s.slice(0, i)}${res}`;
  }
  internals.nodeErrors = errors;

  // ---- encodings ----------------------------------------------------------
  const utf8Encoder = new TextEncoder();
  const utf8Decoder = new TextDecoder("utf-8");
  function normalizeEncoding(enc) {
    if (enc === undefined || enc === null || enc === "utf8" || enc === "utf-8") return "utf8";
    switch (String(enc).toLowerCase()) {
      case "utf8":
      case "utf-8":
        return "utf8";
      case "hex":
        return "hex";
      case "base64":
        return "base64";
      case "base64url":
        return "base64url";
      case "latin1":
      case "binary":
        return "latin1";
      case "ascii":
        return "ascii";
      case "ucs2":
      case "ucs-2":
      case "utf16le":
      case "utf-16le":
        return "utf16le";
    }
    return undefined;
  }
  function encodingOrThrow(enc) {
    const n = normalizeEncoding(enc);
    if (n === undefined) throw errors.unknownEncoding(enc);
    return n;
  }

  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const B64_LOOKUP = new Int16Array(256).fill(-1);
  for (let i = 0; i < 64; i++) {
    B64_LOOKUP[B64.charCodeAt(i)] = i;
    B64_LOOKUP[B64URL.charCodeAt(i)] = i;
  }

  // string -> bytes (a Uint8Array), as Node.js does (lenient decoders).
  function encodeString(string, enc) {
    switch (enc) {
      case "utf8":
        return utf8Encoder.encode(string);
      case "latin1":
      case "ascii": {
        const out = new Uint8Array(string.length);
        for (let i = 0; i < string.length; i++) out[i] = string.charCodeAt(i) & 0xff;
        return out;
      }
      case "utf16le": {
        const out = new Uint8Array(string.length * 2);
        for (let i = 0; i < string.length; i++) {
          const c = string.charCodeAt(i);
          out[i * 2] = c & 0xff;
          out[i * 2 + 1] = c >> 8;
        }
        return out;
      }
      case "hex": {
        const n = string.length >>> 1;
        const out = new Uint8Array(n);
        let i = 0;
        for (; i < n; i++) {
          const hi = hexValue(string.charCodeAt(i * 2));
          const lo = hexValue(string.charCodeAt(i * 2 + 1));
          if (hi < 0 || lo < 0) break;
          out[i] = (hi << 4) | lo;
        }
        return i === n ? out : out.subarray(0, i);
      }
      case "base64":
      case "base64url": {
        const out = new Uint8Array(MathCeil((string.length * 3) / 4));
        let acc = 0;
        let bits = 0;
        let n = 0;
        for (let i = 0; i < string.length; i++) {
          const c = string.charCodeAt(i);
          if (c === 61) break; // '=' ends the data
          const v = c < 256 ? B64_LOOKUP[c] : -1;
          if (v < 0) continue; // whitespace and junk are skipped
          acc = (acc << 6) | v;
          bits += 6;
          if (bits >= 8) {
            bits -= 8;
            out[n++] = (acc >> bits) & 0xff;
          }
        }
        return out.subarray(0, n);
      }
    }
    throw errors.unknownEncoding(enc);
  }
  function hexValue(c) {
    if (c >= 48 && c <= 57) return c - 48;
    if (c >= 65 && c <= 70) return c - 55;
    if (c >= 97 && c <= 102) return c - 87;
    return -1;
  }
  const HEX = ArrayFrom({ length: 256 }, (_, i) => (i < 16 ? "0" : "") + i.toString(16));

  // bytes -> string
  function decodeBytes(bytes, enc) {
    switch (enc) {
      case "utf8":
        return utf8Decoder.decode(bytes);
      case "latin1":
      case "ascii": {
        let s = "";
        const mask = enc === "ascii" ? 0x7f : 0xff;
        for (let i = 0; i < bytes.length; i += 4096) {
          const chunk = bytes.subarray(i, i + 4096);
          s += StringFromCharCode.apply(null, mask === 0xff ? chunk : ArrayFrom(chunk, (b) => b & mask));
        }
        return s;
      }
      case "utf16le": {
        let s = "";
        for (let i = 0; i + 1 < bytes.length; i += 2) s += StringFromCharCode(bytes[i] | (bytes[i + 1] << 8));
        return s;
      }
      case "hex": {
        let s = "";
        for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
        return s;
      }
      case "base64":
      case "base64url": {
        const table = enc === "base64" ? B64 : B64URL;
        let s = "";
        let i = 0;
        for (; i + 2 < bytes.length; i += 3) {
          const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
          s += table[n >> 18] + table[(n >> 12) & 63] + table[(n >> 6) & 63] + table[n & 63];
        }
        const pad = enc === "base64" ? "=" : "";
        if (bytes.length - i === 1) {
          const n = bytes[i] << 16;
          s += table[n >> 18] + table[(n >> 12) & 63] + pad + pad;
        } else if (bytes.length - i === 2) {
          const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
          s += table[n >> 18] + table[(n >> 12) & 63] + table[(n >> 6) & 63] + pad;
        }
        return s;
      }
    }
    throw errors.unknownEncoding(enc);
  }

  function byteLengthOf(string, enc) {
    switch (enc) {
      case "utf8": {
        let n = 0;
        for (let i = 0; i < string.length; i++) {
          const c = string.charCodeAt(i);
          if (c < 0x80) n += 1;
          else if (c < 0x800) n += 2;
          else if (c >= 0xd800 && c <= 0xdbff && i + 1 < string.length) {
            const d = string.charCodeAt(i + 1);
            if (d >= 0xdc00 && d <= 0xdfff) {
              n += 4;
              i++;
            } else n += 3;
          } else n += 3;
        }
        return n;
      }
      case "latin1":
      case "ascii":
        return string.length;
      case "utf16le":
        return string.length * 2;
      case "hex":
        return string.length >>> 1;
      case "base64":
      case "base64url": {
        let n = string.length;
        while (n > 0 && string.charCodeAt(n - 1) === 61) n--;
        return (n * 3) >>> 2;
      }
    }
    return encodeString(string, enc).length;
  }

  // ---- Buffer -------------------------------------------------------------
  class FastBuffer extends Uint8Array {}
  const kMaxLength = 2 ** 32;
  const kStringMaxLength = 2 ** 29 - 24;
  const customInspect = SymbolFor("nodejs.util.inspect.custom");
  let INSPECT_MAX_BYTES = 50;

  function Buffer(arg, encodingOrOffset, length) {
    if (typeof arg === "number") {
      if (typeof encodingOrOffset === "string") {
        throw errors.invalidArgType("string", "of type string", arg);
      }
      return Buffer.alloc(arg);
    }
    return Buffer.from(arg, encodingOrOffset, length);
  }
  Buffer.prototype = FastBuffer.prototype;
  ObjectDefineProperty(FastBuffer.prototype, "constructor", {
    __proto__: null,
    value: Buffer,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  ObjectSetPrototypeOf(Buffer, Uint8Array);

  function fromBytes(bytes) {
    const b = new FastBuffer(bytes.length);
    b.set(bytes);
    return b;
  }
  function checkSize(size) {
    if (typeof size !== "number") throw errors.invalidArgType("size", "of type number", size);
    if (!(size >= 0 && size <= kMaxLength)) throw errors.outOfRange("size", `>= 0 && <= ${kMaxLength}`, size);
  }
  const isAnyArrayBuffer = (v) =>
    v instanceof ArrayBuffer || (typeof SharedArrayBuffer === "function" && v instanceof SharedArrayBuffer);

  ObjectDefineProperties(Buffer, {
    poolSize: { value: 8192, writable: true, enumerable: true, configurable: true },
  });
  Buffer.from = function from(value, encodingOrOffset, length) {
    if (typeof value === "string") {
      return fromBytes(encodeString(value, encodingOrOffset === undefined ? "utf8" : encodingOrOffset === "" ? "utf8" : encodingOrThrow(encodingOrOffset)));
    }
    if (typeof value === "object" && value !== null) {
      if (isAnyArrayBuffer(value)) {
        const offset = encodingOrOffset === undefined ? 0 : MathTrunc(+encodingOrOffset) || 0;
        if (offset > value.byteLength) throw errors.bufferOutOfBounds("offset");
        const len = length === undefined ? value.byteLength - offset : MathTrunc(+length) || 0;
        if (len < 0 || offset + len > value.byteLength) throw errors.bufferOutOfBounds("length");
        return new FastBuffer(value, offset, len);
      }
      if (ArrayBufferIsView(value)) {
        if (value instanceof Uint8Array) return fromBytes(value);
        // Other views: element values, truncated to bytes (as Node.js).
        return fromBytes(Uint8Array.from(value instanceof DataView ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : value, (x) => Number(x) & 255));
      }
      const prim = value.valueOf && value.valueOf();
      if (prim != null && prim !== value && (typeof prim === "string" || typeof prim === "object")) {
        return Buffer.from(prim, encodingOrOffset, length);
      }
      if (typeof value.length === "number" || ArrayIsArray(value)) {
        const len = typeof value.length === "number" ? value.length : 0;
        const b = new FastBuffer(len < 0 ? 0 : len);
        for (let i = 0; i < b.length; i++) b[i] = value[i];
        return b;
      }
      if (value.type === "Buffer" && ArrayIsArray(value.data)) return Buffer.from(value.data);
      if (typeof value[SymbolToPrimitive] === "function") {
        const p = value[SymbolToPrimitive]("string");
        if (typeof p === "string") return Buffer.from(p, encodingOrOffset);
      }
    }
    throw errors.invalidArgType(
      "first argument",
      "of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object",
      value,
    );
  };
  Buffer.of = function of(...items) {
    return fromBytes(Uint8Array.of(...items));
  };
  Buffer.alloc = function alloc(size, fill, encoding) {
    checkSize(size);
    const b = new FastBuffer(size);
    if (fill !== undefined && fill !== 0 && size > 0) b.fill(fill, encoding);
    return b;
  };
  Buffer.allocUnsafe = function allocUnsafe(size) {
    checkSize(size);
    return new FastBuffer(size);
  };
  Buffer.allocUnsafeSlow = Buffer.allocUnsafe;
  Buffer.isBuffer = function isBuffer(b) {
    return b instanceof Buffer;
  };
  Buffer.isEncoding = function isEncoding(enc) {
    return typeof enc === "string" && enc.length !== 0 && normalizeEncoding(enc) !== undefined;
  };
  Buffer.byteLength = function byteLength(string, encoding) {
    if (typeof string !== "string") {
      if (ArrayBufferIsView(string) || isAnyArrayBuffer(string)) return string.byteLength;
      throw errors.invalidArgType("string", "of type string or an instance of Buffer or ArrayBuffer", string);
    }
    return byteLengthOf(string, normalizeEncoding(encoding) ?? "utf8");
  };
  Buffer.compare = function compare(a, b) {
    if (!(a instanceof Uint8Array)) throw errors.invalidArgType("buf1", "an instance of Buffer or Uint8Array", a);
    if (!(b instanceof Uint8Array)) throw errors.invalidArgType("buf2", "an instance of Buffer or Uint8Array", b);
    return compareBytes(a, b);
  };
  Buffer.concat = function concat(list, totalLength) {
    if (!ArrayIsArray(list)) throw errors.invalidArgType("list", "an instance of Array", list);
    if (list.length === 0) return new FastBuffer(0);
    if (totalLength === undefined) {
      totalLength = 0;
      for (let i = 0; i < list.length; i++) {
        if (!(list[i] instanceof Uint8Array)) {
          throw errors.invalidArgType(`list[${i}]`, "an instance of Buffer or Uint8Array", list[i]);
        }
        totalLength += list[i].length;
      }
    }
    const out = Buffer.alloc(totalLength);
    let pos = 0;
    for (let i = 0; i < list.length; i++) {
      const b = list[i];
      if (!(b instanceof Uint8Array)) {
        throw errors.invalidArgType(`list[${i}]`, "an instance of Buffer or Uint8Array", b);
      }
      if (pos + b.length > totalLength) {
        out.set(b.subarray(0, totalLength - pos), pos);
        pos = totalLength;
        break;
      }
      out.set(b, pos);
      pos += b.length;
    }
    return out;
  };

  function compareBytes(a, b) {
    const n = MathMin(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
  }

  const proto = FastBuffer.prototype;
  function clampRange(buf, start, end) {
    const len = buf.length;
    start = start === undefined ? 0 : MathTrunc(+start) || 0;
    end = end === undefined ? len : MathTrunc(+end) || 0;
    if (start < 0) start = 0;
    if (end > len) end = len;
    return [start, end];
  }
  proto.toString = function toString(encoding, start, end) {
    if (arguments.length === 0) return utf8Decoder.decode(this);
    const [s, e] = clampRange(this, start, end);
    if (e <= s) return "";
    const enc = encoding === undefined ? "utf8" : encodingOrThrow(encoding);
    return decodeBytes(this.subarray(s, e), enc);
  };
  proto.toLocaleString = proto.toString;
  proto.write = function write(string, offset, length, encoding) {
    if (typeof string !== "string") throw errors.invalidArgType("string", "of type string", string);
    if (typeof offset === "string") {
      encoding = offset;
      offset = 0;
      length = this.length;
    } else if (typeof length === "string") {
      encoding = length;
      length = undefined;
    }
    offset = offset === undefined ? 0 : offset;
    if (!(offset >= 0 && offset <= this.length)) throw errors.outOfRange("offset", `>= 0 && <= ${this.length}`, offset);
    const room = this.length - offset;
    length = length === undefined ? room : MathMin(room, length);
    if (!(length >= 0)) throw errors.outOfRange("length", `>= 0 && <= ${room}`, length);
    const enc = encoding === undefined ? "utf8" : encodingOrThrow(encoding);
    let bytes = encodeString(string, enc);
    if (bytes.length > length) {
      let n = length;
      if (enc === "utf8") {
        // Never write part of a character.
        while (n > 0 && (bytes[n] & 0xc0) === 0x80) n--;
      } else if (enc === "utf16le") n -= n % 2;
      bytes = bytes.subarray(0, n);
    }
    this.set(bytes, offset);
    return bytes.length;
  };
  proto.toJSON = function toJSON() {
    return { type: "Buffer", data: ArrayFrom(this) };
  };
  proto.equals = function equals(other) {
    if (!(other instanceof Uint8Array)) throw errors.invalidArgType("otherBuffer", "an instance of Buffer or Uint8Array", other);
    return this === other || compareBytes(this, other) === 0;
  };
  proto.compare = function compare(target, targetStart, targetEnd, sourceStart, sourceEnd) {
    if (!(target instanceof Uint8Array)) throw errors.invalidArgType("target", "an instance of Buffer or Uint8Array", target);
    const [ts, te] = clampRange(target, targetStart, targetEnd);
    const [ss, se] = clampRange(this, sourceStart, sourceEnd);
    return compareBytes(this.subarray(ss, MathMax(ss, se)), target.subarray(ts, MathMax(ts, te)));
  };
  proto.subarray = function subarray(start, end) {
    const [s, e] = clampRangeSigned(this.length, start, end);
    return new FastBuffer(this.buffer, this.byteOffset + s, MathMax(0, e - s));
  };
  proto.slice = proto.subarray;
  function clampRangeSigned(len, start, end) {
    start = start === undefined ? 0 : MathTrunc(+start) || 0;
    end = end === undefined ? len : MathTrunc(+end) || 0;
    if (start < 0) start = MathMax(len + start, 0);
    else if (start > len) start = len;
    if (end < 0) end = MathMax(len + end, 0);
    else if (end > len) end = len;
    return [start, end];
  }
  proto.copy = function copy(target, targetStart = 0, sourceStart = 0, sourceEnd = this.length) {
    if (!(target instanceof Uint8Array)) throw errors.invalidArgType("target", "an instance of Buffer or Uint8Array", target);
    targetStart = MathTrunc(+targetStart) || 0;
    sourceStart = MathTrunc(+sourceStart) || 0;
    sourceEnd = MathMin(MathTrunc(+sourceEnd) || 0, this.length);
    if (targetStart < 0) throw errors.outOfRange("targetStart", ">= 0", targetStart);
    if (sourceStart < 0 || sourceStart > this.length) {
      throw errors.outOfRange("sourceStart", `>= 0 && <= ${this.length}`, sourceStart);
    }
    if (sourceEnd <= sourceStart || targetStart >= target.length) return 0;
    const n = MathMin(sourceEnd - sourceStart, target.length - targetStart);
    target.set(this.subarray(sourceStart, sourceStart + n), targetStart);
    return n;
  };
  proto.fill = function fill(value, offset, end, encoding) {
    if (typeof offset === "string") {
      encoding = offset;
      offset = 0;
      end = this.length;
    } else if (typeof end === "string") {
      encoding = end;
      end = this.length;
    }
    offset = offset === undefined ? 0 : offset;
    end = end === undefined ? this.length : end;
    if (!(offset >= 0)) throw errors.outOfRange("offset", `>= 0 && <= ${this.length}`, offset);
    if (!(end >= 0 && end <= this.length)) throw errors.outOfRange("end", `>= 0 && <= ${this.length}`, end);
    if (end <= offset) return this;
    if (typeof value === "number" || typeof value === "boolean") {
      Uint8Array.prototype.fill.call(this, Number(value) & 255, offset, end);
      return this;
    }
    let bytes;
    if (typeof value === "string") {
      const enc = encoding === undefined ? "utf8" : encodingOrThrow(encoding);
      if (value.length === 1 && enc === "utf8" && value.charCodeAt(0) < 128) {
        Uint8Array.prototype.fill.call(this, value.charCodeAt(0), offset, end);
        return this;
      }
      bytes = encodeString(value, enc);
      if (bytes.length === 0 && value.length !== 0) throw errors.invalidArgValue("value", value);
    } else if (value instanceof Uint8Array) {
      bytes = value;
    } else if (ArrayBufferIsView(value)) {
      bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    } else {
      Uint8Array.prototype.fill.call(this, Number(value) & 255, offset, end);
      return this;
    }
    if (bytes.length === 0) {
      Uint8Array.prototype.fill.call(this, 0, offset, end);
      return this;
    }
    for (let i = offset; i < end; i++) this[i] = bytes[(i - offset) % bytes.length];
    return this;
  };
  function indexOfImpl(buf, value, byteOffset, encoding, forward) {
    if (typeof byteOffset === "string") {
      encoding = byteOffset;
      byteOffset = undefined;
    }
    let needle;
    if (typeof value === "number") needle = Uint8Array.of(value & 255);
    else if (typeof value === "string") needle = encodeString(value, encoding === undefined ? "utf8" : encodingOrThrow(encoding));
    else if (value instanceof Uint8Array) needle = value;
    else throw errors.invalidArgType("value", "one of type number or string or an instance of Buffer or Uint8Array", value);
    const len = buf.length;
    let from = byteOffset === undefined || byteOffset === null ? (forward ? 0 : len) : +byteOffset;
    if (NumberIsNaN(from)) from = forward ? 0 : len;
    from = MathTrunc(from);
    if (from < 0) from += len;
    if (forward) {
      if (from < 0) from = 0;
      if (needle.length === 0) return from <= len ? from : len;
      outer: for (let i = from; i <= len - needle.length; i++) {
        for (let j = 0; j < needle.length; j++) if (buf[i + j] !== needle[j]) continue outer;
        return i;
      }
      return -1;
    }
    if (from < 0) return -1;
    if (needle.length === 0) return MathMin(from, len);
    outer: for (let i = MathMin(from, len - needle.length); i >= 0; i--) {
      for (let j = 0; j < needle.length; j++) if (buf[i + j] !== needle[j]) continue outer;
      return i;
    }
    return -1;
  }
  proto.indexOf = function indexOf(value, byteOffset, encoding) {
    return indexOfImpl(this, value, byteOffset, encoding, true);
  };
  proto.lastIndexOf = function lastIndexOf(value, byteOffset, encoding) {
    return indexOfImpl(this, value, byteOffset, encoding, false);
  };
  proto.includes = function includes(value, byteOffset, encoding) {
    return indexOfImpl(this, value, byteOffset, encoding, true) !== -1;
  };

  // ---- numbers ------------------------------------------------------------
  const views = new WeakMap();
  function view(buf) {
    let v = views.get(buf);
    if (v === undefined) {
      v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      views.set(buf, v);
    }
    return v;
  }
  function checkOffset(buf, offset, size) {
    if (offset === undefined) offset = 0;
    if (typeof offset !== "number") throw errors.invalidArgType("offset", "of type number", offset);
    if (!NumberIsInteger(offset)) throw errors.outOfRange("offset", "an integer", offset);
    if (offset < 0 || offset + size > buf.length) {
      if (buf.length - size < 0) throw errors.bufferOutOfBounds();
      throw errors.outOfRange("offset", `>= 0 and <= ${buf.length - size}`, offset);
    }
    return offset;
  }
  function checkInt(value, min, max, bytes) {
    if (typeof value !== "number" && typeof value !== "bigint") throw errors.invalidArgType("value", "of type number", value);
    if (value > max || value < min) {
      const n = typeof min === "bigint" ? "n" : "";
      let range;
      if (bytes > 4 || typeof min === "bigint") {
        range =
          min === 0 || min === 0n
            ? `>= 0${n} and < 2${n} ** ${bytes * 8}${n}`
            : `>= -(2${n} ** ${bytes * 8 - 1}${n}) and < 2${n} ** ${bytes * 8 - 1}${n}`;
      } else range = `>= ${min} and <= ${max}`;
      throw errors.outOfRange("value", range, value);
    }
  }
  const numberTypes = [
    ["UInt8", 1, "Uint8", 0, 255],
    ["Int8", 1, "Int8", -128, 127],
    ["UInt16", 2, "Uint16", 0, 0xffff],
    ["Int16", 2, "Int16", -0x8000, 0x7fff],
    ["UInt32", 4, "Uint32", 0, 0xffffffff],
    ["Int32", 4, "Int32", -0x80000000, 0x7fffffff],
    ["Float", 4, "Float32"],
    ["Double", 8, "Float64"],
    ["BigUInt64", 8, "BigUint64", 0n, 2n ** 64n - 1n],
    ["BigInt64", 8, "BigInt64", -(2n ** 63n), 2n ** 63n - 1n],
  ];
  for (const [name, size, dv, min, max] of numberTypes) {
    const endians = size === 1 ? [""] : ["LE", "BE"];
    for (const e of endians) {
      const little = e === "LE";
      const read = function (offset = 0) {
        offset = checkOffset(this, offset, size);
        return view(this)[`get${dv}`](offset, little);
      };
      const write = function (value, offset = 0) {
        if (min !== undefined) checkInt(value, min, max, size);
        offset = checkOffset(this, offset, size);
        view(this)[`set${dv}`](offset, typeof min === "bigint" ? value : +value, little);
        return offset + size;
      };
      ObjectDefineProperty(read, "name", { __proto__: null, value: `read${name}${e}` });
      ObjectDefineProperty(write, "name", { __proto__: null, value: `write${name}${e}` });
      proto[`read${name}${e}`] = read;
      proto[`write${name}${e}`] = write;
      if (name.startsWith("UInt") || name.startsWith("BigUInt")) {
        const alias = name.replace("UInt", "Uint");
        proto[`read${alias}${e}`] = read;
        proto[`write${alias}${e}`] = write;
      }
    }
  }
  function checkByteLength(byteLength) {
    if (typeof byteLength !== "number") throw errors.invalidArgType("byteLength", "of type number", byteLength);
    if (!(byteLength >= 1 && byteLength <= 6) || !NumberIsInteger(byteLength)) {
      throw errors.outOfRange("byteLength", ">= 1 and <= 6", byteLength);
    }
  }
  function readUIntAny(buf, offset, byteLength, little) {
    checkByteLength(byteLength);
    offset = checkOffset(buf, offset, byteLength);
    let v = 0;
    for (let i = 0; i < byteLength; i++) {
      v += buf[offset + (little ? i : byteLength - 1 - i)] * 2 ** (8 * i);
    }
    return v;
  }
  function writeUIntAny(buf, value, offset, byteLength, little, signed) {
    checkByteLength(byteLength);
    const bits = 8 * byteLength;
    const min = signed ? -(2 ** (bits - 1)) : 0;
    const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    if (typeof value !== "number") throw errors.invalidArgType("value", "of type number", value);
    if (value < min || value > max) {
      const range =
        byteLength > 4
          ? signed
            ? `>= -(2 ** ${bits - 1}) and < 2 ** ${bits - 1}`
            : `>= 0 and < 2 ** ${bits}`
          : `>= ${min} and <= ${max}`;
      throw errors.outOfRange("value", range, value);
    }
    offset = checkOffset(buf, offset, byteLength);
    let v = value < 0 ? value + 2 ** bits : value;
    for (let i = 0; i < byteLength; i++) {
      buf[offset + (little ? i : byteLength - 1 - i)] = v % 256;
      v = MathFloor(v / 256);
    }
    return offset + byteLength;
  }
  proto.readUIntLE = proto.readUintLE = function readUIntLE(offset, byteLength) {
    return readUIntAny(this, offset, byteLength, true);
  };
  proto.readUIntBE = proto.readUintBE = function readUIntBE(offset, byteLength) {
    return readUIntAny(this, offset, byteLength, false);
  };
  proto.readIntLE = function readIntLE(offset, byteLength) {
    const v = readUIntAny(this, offset, byteLength, true);
    return v >= 2 ** (8 * byteLength - 1) ? v - 2 ** (8 * byteLength) : v;
  };
  proto.readIntBE = function readIntBE(offset, byteLength) {
    const v = readUIntAny(this, offset, byteLength, false);
    return v >= 2 ** (8 * byteLength - 1) ? v - 2 ** (8 * byteLength) : v;
  };
  proto.writeUIntLE = proto.writeUintLE = function writeUIntLE(value, offset, byteLength) {
    return writeUIntAny(this, value, offset, byteLength, true, false);
  };
  proto.writeUIntBE = proto.writeUintBE = function writeUIntBE(value, offset, byteLength) {
    return writeUIntAny(this, value, offset, byteLength, false, false);
  };
  proto.writeIntLE = function writeIntLE(value, offset, byteLength) {
    return writeUIntAny(this, value, offset, byteLength, true, true);
  };
  proto.writeIntBE = function writeIntBE(value, offset, byteLength) {
    return writeUIntAny(this, value, offset, byteLength, false, true);
  };

  function swap(buf, size) {
    if (buf.length % size !== 0) {
      throw errors.nodeError(RangeError, "ERR_INVALID_BUFFER_SIZE", `Buffer size must be a multiple of ${size * 8}-bits`);
    }
    for (let i = 0; i < buf.length; i += size) {
      for (let j = 0; j < size / 2; j++) {
        const t = buf[i + j];
        buf[i + j] = buf[i + size - 1 - j];
        buf[i + size - 1 - j] = t;
      }
    }
    return buf;
  }
  proto.swap16 = function swap16() {
    return swap(this, 2);
  };
  proto.swap32 = function swap32() {
    return swap(this, 4);
  };
  proto.swap64 = function swap64() {
    return swap(this, 8);
  };
  for (const enc of ["utf8", "hex", "base64", "base64url", "latin1", "ascii", "utf16le"]) {
    proto[`${enc}Slice`] = function (start, end) {
      return this.toString(enc, start, end);
    };
    proto[`${enc}Write`] = function (string, offset, length) {
      return this.write(string, offset, length, enc);
    };
  }
  ObjectDefineProperty(proto, "parent", {
    __proto__: null,
    get() {
      return this instanceof Buffer ? this.buffer : undefined;
    },
    enumerable: true,
    configurable: true,
  });
  ObjectDefineProperty(proto, "offset", {
    __proto__: null,
    get() {
      return this instanceof Buffer ? this.byteOffset : undefined;
    },
    enumerable: true,
    configurable: true,
  });
  proto[customInspect] = function inspect() {
    const max = INSPECT_MAX_BYTES;
    let s = ArrayFrom(this.subarray(0, max), (b) => HEX[b]).join(" ");
    if (this.length > max) s += ` ... ${this.length - max} more byte${this.length - max > 1 ? "s" : ""}`;
    return `<${this.constructor.name}${s ? " " + s : ""}>`;
  };

  function SlowBuffer(size) {
    return Buffer.allocUnsafe(size);
  }
  function isUtf8(input) {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(input);
      return true;
    } catch {
      return false;
    }
  }
  function isAscii(input) {
    const b = ArrayBufferIsView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
    return b.every((x) => x < 128);
  }

  node.buffer = {
    Buffer,
    SlowBuffer,
    Blob: globalThis.Blob,
    File: globalThis.File,
    atob: globalThis.atob,
    btoa: globalThis.btoa,
    constants: { MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: kStringMaxLength },
    kMaxLength,
    kStringMaxLength,
    isUtf8,
    isAscii,
    transcode(source, from, to) {
      return fromBytes(encodeString(decodeBytes(source, encodingOrThrow(from)), encodingOrThrow(to)));
    },
  };
  ObjectDefineProperty(node.buffer, "INSPECT_MAX_BYTES", {
    __proto__: null,
    get: () => INSPECT_MAX_BYTES,
    set: (v) => {
      INSPECT_MAX_BYTES = v;
    },
    enumerable: true,
  });
  internals.Buffer = Buffer;
  if (internals.compat.flags.nodeJsCompatV2) internals.defineGlobal("Buffer", Buffer);
})
