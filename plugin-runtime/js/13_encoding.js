"use strict";
// TextEncoder and TextDecoder (WHATWG Encoding). The codecs are native
// (ops.encodeUtf8, ops.encodeUtf8Into, ops.encodingForLabel, ops.decoderNew,
// ops.decoderDecode).
((globalThis, internals) => {
  const {
    Array,
    ArrayBuffer,
    ArrayBufferIsView,
    Boolean,
    DataView,
    FinalizationRegistry,
    ObjectGetOwnPropertyDescriptor,
    ObjectGetPrototypeOf,
    RangeError,
    ReflectApply,
    SharedArrayBuffer,
    SymbolToStringTag,
    TypeError,
    Uint8Array,
    StringPrototypeCharCodeAt,
    StringPrototypeSlice,
  } = internals.primordials;
  const {
    requiredArguments, toUSVString, toDOMString, toDictionary, isObject,
    defineToStringTag, makeEnumerable,
  } = internals.webidl;
  const ops = internals.ops;

  // Intrinsic accessors, captured before user code can patch prototypes.
  const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype);
  const getter = (proto, name) => ObjectGetOwnPropertyDescriptor(proto, name).get;
  const typedArrayTag = getter(TypedArrayPrototype, SymbolToStringTag);
  const typedArrayBuffer = getter(TypedArrayPrototype, "buffer");
  const typedArrayByteOffset = getter(TypedArrayPrototype, "byteOffset");
  const typedArrayByteLength = getter(TypedArrayPrototype, "byteLength");
  const dataViewBuffer = getter(DataView.prototype, "buffer");
  const dataViewByteOffset = getter(DataView.prototype, "byteOffset");
  const dataViewByteLength = getter(DataView.prototype, "byteLength");
  const arrayBufferByteLength = getter(ArrayBuffer.prototype, "byteLength");
  const sharedArrayBufferByteLength = typeof SharedArrayBuffer === "function"
    ? getter(SharedArrayBuffer.prototype, "byteLength")
    : null;

  function isUint8Array(v) {
    return ArrayBufferIsView(v) && ReflectApply(typedArrayTag, v, []) === "Uint8Array";
  }

  function isArrayBuffer(v) {
    try {
      ReflectApply(arrayBufferByteLength, v, []);
      return true;
    } catch {
      return false;
    }
  }

  function isSharedArrayBuffer(v) {
    if (sharedArrayBufferByteLength === null) return false;
    try {
      ReflectApply(sharedArrayBufferByteLength, v, []);
      return true;
    } catch {
      return false;
    }
  }

  // A Uint8Array over the bytes of an AllowSharedBufferSource, without
  // copying. Detached buffers read as empty.
  function bytesOf(input, prefix) {
    try {
      if (ArrayBufferIsView(input)) {
        if (ReflectApply(typedArrayTag, input, []) !== undefined) {
          if (isUint8Array(input)) return input;
          return new Uint8Array(
            ReflectApply(typedArrayBuffer, input, []),
            ReflectApply(typedArrayByteOffset, input, []),
            ReflectApply(typedArrayByteLength, input, []),
          );
        }
        return new Uint8Array(
          ReflectApply(dataViewBuffer, input, []),
          ReflectApply(dataViewByteOffset, input, []),
          ReflectApply(dataViewByteLength, input, []),
        );
      }
      if (isArrayBuffer(input) || isSharedArrayBuffer(input)) return new Uint8Array(input);
    } catch {
      // detached
      return new Uint8Array(0);
    }
    // workerd's words for a value that is not a BufferSource.
    throw new TypeError(`${prefix}: parameter 1 is not of type 'Array'.`);
  }

  // ---------------------------------------------------------------------
  // TextEncoder
  // ---------------------------------------------------------------------

  class TextEncoder {
    #brand = true;

    static #check(e) {
      if (!(isObject(e) && #brand in e)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    }

    get encoding() {
      TextEncoder.#check(this);
      return "utf-8";
    }

    encode(input = "") {
      TextEncoder.#check(this);
      return ops.encodeUtf8(toUSVString(input));
    }

    encodeInto(source, destination) {
      TextEncoder.#check(this);
      const prefix = "Failed to execute 'encodeInto' on 'TextEncoder'";
      requiredArguments(arguments.length, 2, prefix, ["string", "Uint8Array"]);
      source = toUSVString(source);
      if (!isUint8Array(destination)) {
        throw new TypeError(`${prefix}: parameter 2 is not of type 'Uint8Array'.`);
      }
      // Index reads, not array destructuring (Array.prototype[Symbol.iterator]).
      const counts = ops.encodeUtf8Into(source, destination);
      return { read: counts[0], written: counts[1] };
    }
  }
  defineToStringTag(TextEncoder, "TextEncoder");
  makeEnumerable(TextEncoder.prototype, ["encoding", "encode", "encodeInto"]);

  // ---------------------------------------------------------------------
  // TextDecoder
  // ---------------------------------------------------------------------

  // Native decoders live in a table on the Rust side; free them when their
  // TextDecoder is collected.
  const decoderRegistry =
    typeof FinalizationRegistry === "function" && typeof ops.decoderFree === "function"
      ? new FinalizationRegistry((decoder) => {
        try {
          ops.decoderFree(decoder);
        } catch {
          // isolate shutting down
        }
      })
      : null;

  function trimAsciiWhitespace(s) {
    const ws = (c) => c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
    let start = 0;
    let end = s.length;
    while (start < end && ws(StringPrototypeCharCodeAt(s, start))) start++;
    while (end > start && ws(StringPrototypeCharCodeAt(s, end - 1))) end--;
    return StringPrototypeSlice(s, start, end);
  }

  class TextDecoder {
    #encoding;
    #fatal = false;
    #ignoreBOM = false;
    #decoder;

    constructor(label = "utf-8", options = undefined) {
      const prefix = "Failed to construct 'TextDecoder'";
      label = toDOMString(label);
      const dict = toDictionary(options, prefix, 2, "ConstructorOptions");
      if (dict !== null) {
        this.#fatal = Boolean(dict.fatal);
        this.#ignoreBOM = Boolean(dict.ignoreBOM);
      }
      const encoding = ops.encodingForLabel(trimAsciiWhitespace(label));
      if (encoding === null || encoding === undefined || encoding === "replacement") {
        throw new RangeError(`"${label}" is not a valid encoding.`);
      }
      this.#encoding = encoding;
      this.#decoder = ops.decoderNew(encoding, this.#fatal, this.#ignoreBOM);
      if (decoderRegistry !== null) decoderRegistry.register(this, this.#decoder);
    }

    static #check(d) {
      if (!(isObject(d) && #encoding in d)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    }

    get encoding() {
      TextDecoder.#check(this);
      return this.#encoding;
    }

    get fatal() {
      TextDecoder.#check(this);
      return this.#fatal;
    }

    get ignoreBOM() {
      TextDecoder.#check(this);
      return this.#ignoreBOM;
    }

    decode(input = undefined, options = undefined) {
      TextDecoder.#check(this);
      const prefix = "Failed to execute 'decode' on 'TextDecoder'";
      const bytes = input === undefined ? new Uint8Array(0) : bytesOf(input, prefix);
      const dict = toDictionary(options, prefix);
      const stream = dict !== null ? Boolean(dict.stream) : false;
      return ops.decoderDecode(this.#decoder, bytes, stream);
    }
  }
  defineToStringTag(TextDecoder, "TextDecoder");
  makeEnumerable(TextDecoder.prototype, ["encoding", "fatal", "ignoreBOM", "decode"]);

  // The methods themselves, for the runtime's own use: a script replacing
  // TextDecoder.prototype.decode changes nothing for Response.text().
  const decodeMethod = TextDecoder.prototype.decode;
  // Made on first use: a decoder's native half is per isolate, and this
  // file runs into the startup snapshot.
  let utf8Decoder;
  const getUtf8Decoder = () => {
    if (utf8Decoder === undefined) utf8Decoder = new TextDecoder();
    return utf8Decoder;
  };
  internals.encoding = {
    __proto__: null,
    /** UTF-8 bytes -> string, replacement characters for bad input (BOM stripped). */
    decodeUtf8: (bytes) => ReflectApply(decodeMethod, getUtf8Decoder(), [bytes]),
    /** `decoder.decode(bytes, { stream })` with the original method. */
    decode: (decoder, bytes, stream) =>
      ReflectApply(decodeMethod, decoder, bytes === undefined ? [] : [bytes, { __proto__: null, stream }]),
    encodeUtf8: (s) => ops.encodeUtf8(toUSVString(s)),
    TextEncoder, TextDecoder,
    // bytes of an ArrayBuffer / view as a Uint8Array (no copy)
    bytesOf: (input) => bytesOf(input, "bytesOf"),
    isUint8Array,
  };

  internals.defineGlobal("TextEncoder", TextEncoder);
  internals.defineGlobal("TextDecoder", TextDecoder);
})
