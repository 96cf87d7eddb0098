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
  } = internals.primordials;
  const ops = internals.ops;
  const defineGlobal = internals.defineGlobal;

  const NOT_BYTES = "This WritableStream only supports writing byte types.";

  function chunkBytes(chunk) {
    if (chunk instanceof Uint8Array) return chunk;
    if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
    if (ArrayBufferIsView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (typeof SharedArrayBuffer === "function" && chunk instanceof SharedArrayBuffer) {
      return new Uint8Array(chunk);
    }
    throw new TypeError(NOT_BYTES);
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
      transform(chunk, controller) {
        let out;
        try {
          out = ops.compressionPush(id, chunkBytes(chunk));
        } catch (e) {
          release();
          throw e;
        }
        if (out.byteLength) controller.enqueue(out);
      },
      flush(controller) {
        let out;
        try {
          out = ops.compressionFinish(id);
        } finally {
          release();
        }
        if (out.byteLength) controller.enqueue(out);
      },
      cancel() {
        release();
      },
    };
  }

  function construct(format, decompress) {
    // Throws the TypeError for an unknown format.
    const id = ops.compressionNew(String(format), decompress);
    const token = {};
    const t = transformer(id, token);
    if (leaks) leaks.register(t, id, token);
    return t;
  }

  class CompressionStream extends TransformStream {
    constructor(format) {
      if (arguments.length < 1) {
        throw new TypeError("Failed to construct 'CompressionStream': 1 argument required, but only 0 present.");
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
        throw new TypeError("Failed to construct 'DecompressionStream': 1 argument required, but only 0 present.");
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
