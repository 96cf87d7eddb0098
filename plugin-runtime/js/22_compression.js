"use strict";
// CompressionStream / DecompressionStream (WHATWG Compression): as in
// workerd, TransformStreams whose codec (zlib, in Rust) turns each written
// chunk into whatever output is ready. Codec errors are TypeErrors that
// error both sides of the stream.
((globalThis, internals) => {
  const {
    ArrayBuffer,
    ArrayBufferIsView,
    FinalizationRegistry,
    SharedArrayBuffer,
    String,
    SymbolToStringTag,
    TypeError,
    Uint8Array,
    ArrayBufferPrototypeGetByteLength,
    SharedArrayBufferPrototypeGetByteLength,
    TypedArrayPrototypeGetByteLength,
    TypedArrayPrototypeGetByteOffset,
    TypedArrayPrototypeGetBuffer,
    TypedArrayPrototypeGetSymbolToStringTag,
    DataViewPrototypeGetBuffer,
    DataViewPrototypeGetByteOffset,
    DataViewPrototypeGetByteLength,
  } = internals.primordials;
  const ops = internals.ops;
  // This file loads on first use, after the script ran: nothing here may
  // look up a global or a prototype method the script could have replaced.
  const TransformStream = internals.loadStreams().TransformStream;
  const defineGlobal = internals.defineGlobal;

  const NOT_BYTES = "This WritableStream only supports writing byte types.";

  function chunkBytes(chunk) {
    if (ArrayBufferIsView(chunk)) {
      if (TypedArrayPrototypeGetSymbolToStringTag(chunk) === "Uint8Array") return chunk;
      if (TypedArrayPrototypeGetSymbolToStringTag(chunk) !== undefined) {
        return new Uint8Array(
          TypedArrayPrototypeGetBuffer(chunk), TypedArrayPrototypeGetByteOffset(chunk), TypedArrayPrototypeGetByteLength(chunk),
        );
      }
      return new Uint8Array(
        DataViewPrototypeGetBuffer(chunk), DataViewPrototypeGetByteOffset(chunk), DataViewPrototypeGetByteLength(chunk),
      );
    }
    if (isBuffer(chunk)) return new Uint8Array(chunk);
    throw new TypeError(NOT_BYTES);
  }
  function isBuffer(v) {
    try {
      ArrayBufferPrototypeGetByteLength(v);
      return true;
    } catch {
      // not an ArrayBuffer
    }
    try {
      SharedArrayBufferPrototypeGetByteLength(v);
      return true;
    } catch {
      return false;
    }
  }

  // A codec dropped with its stream (never finished nor cancelled) is freed
  // when its transformer (held by the stream's controller) is collected.
  const leaks = typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry((id) => ops.compressionFree(id))
    : null;

  function transformer(id, token) {
    let open = true;
    // Drops the codec (Rust ignores an id it already dropped on an error).
    const release = () => {
      if (!open) return;
      open = false;
      ops.compressionFree(id);
      if (leaks) leaks.unregister(token);
    };
    return {
      __proto__: null,
      transform(chunk, controller) {
        let out;
        try {
          out = ops.compressionPush(id, chunkBytes(chunk));
        } catch (e) {
          release();
          throw e;
        }
        if (TypedArrayPrototypeGetByteLength(out)) controller.enqueue(out);
      },
      flush(controller) {
        let out;
        try {
          out = ops.compressionFinish(id);
        } finally {
          release();
        }
        if (TypedArrayPrototypeGetByteLength(out)) controller.enqueue(out);
      },
      cancel() {
        release();
      },
    };
  }

  function construct(format, decompress) {
    // Throws the TypeError for an unknown format.
    const id = ops.compressionNew(String(format), decompress);
    const token = { __proto__: null };
    const t = transformer(id, token);
    if (leaks) leaks.register(t, id, token);
    return t;
  }

  class CompressionStream extends TransformStream {
    constructor(format) {
      if (arguments.length < 1) {
        throw new TypeError("Failed to construct 'CompressionStream': constructor parameter 1 is not of type 'string'.");
      }
      super(construct(format, false));
    }
    get [SymbolToStringTag]() {
      return "CompressionStream";
    }
  }

  class DecompressionStream extends TransformStream {
    constructor(format) {
      if (arguments.length < 1) {
        throw new TypeError("Failed to construct 'DecompressionStream': constructor parameter 1 is not of type 'string'.");
      }
      super(construct(format, true));
    }
    get [SymbolToStringTag]() {
      return "DecompressionStream";
    }
  }

  defineGlobal("CompressionStream", CompressionStream);
  defineGlobal("DecompressionStream", DecompressionStream);
})
