"use strict";
// Globals whose implementation loads on first use (see LAZY in src/js.rs).
// Each global is a V8 lazy data property (`ops.defineLazy`): it looks like
// an ordinary data property, and the first read runs the file once and
// becomes its value. `crypto.subtle` / `crypto.DigestStream` are accessors
// on Crypto.prototype, replaced by the file's own accessors when it loads.
((globalThis, internals) => {
  const {
    Error,
    ObjectDefineProperty,
    ObjectGetOwnPropertyDescriptor,
    ReflectGet,
    String,
    SafeMap,
    SafeSet,
  } = internals.primordials;
  const ops = internals.ops;
  const loaded = new SafeSet();
  const values = new SafeMap();

  function load(file) {
    if (loaded.has(file)) return;
    loaded.add(file);
    // A file may load another as it runs (22_compression.js needs the
    // streams): the outer one's globals still go to the loader after.
    const outer = internals.lazyTarget;
    internals.lazyTarget = values;
    try {
      ops.loadBootstrap(file, internals);
    } finally {
      internals.lazyTarget = outer;
    }
  }
  // The streams' internals (`internals.streams`), loading 20_streams.js
  // first if need be. Until it has loaded no stream exists, so a check
  // whether a value is a stream needs no load (`internals.streams`
  // undefined: not one).
  internals.loadStreams = () => {
    load("20_streams.js");
    return internals.streams;
  };
  // The same for Blob/File/FormData (`internals.blob`,
  // `internals.parseFormData`) and the WebSockets (`internals.webSocket`).
  internals.loadBlob = () => {
    load("25_blob_formdata.js");
    return internals.blob;
  };
  internals.loadWebSocket = () => {
    load("31_websocket.js");
    return internals.webSocket;
  };

  // The thunk behind each lazy property, by name. The native getter (which
  // carries no data: it is part of the startup snapshot) asks
  // `internals.lazyValue(name)` for the value on first read.
  const thunks = new SafeMap();
  internals.lazyValue = (name) => {
    const thunk = thunks.get(name);
    if (thunk === undefined) throw new Error(`internal error: no lazy global ${String(name)}`);
    return thunk();
  };
  function defineLazy(target, name, thunk) {
    thunks.set(name, thunk);
    ops.defineLazy(target, name);
  }

  function valueOf(file, name) {
    load(file);
    if (!values.has(name)) throw new Error(`internal error: ${file} did not define ${name}`);
    return values.get(name);
  }

  const GLOBALS = [
    ["14_urlpattern.js", ["URLPattern"]],
    ["20_streams.js", [
      "TextDecoderStream", "TextEncoderStream", "IdentityTransformStream", "FixedLengthStream", "ReadableStream",
      "ReadableStreamDefaultReader", "ReadableStreamBYOBReader", "ReadableStreamBYOBRequest",
      "ReadableStreamDefaultController", "ReadableByteStreamController", "WritableStream",
      "WritableStreamDefaultWriter", "WritableStreamDefaultController", "TransformStream",
      "TransformStreamDefaultController", "ByteLengthQueuingStrategy", "CountQueuingStrategy",
    ]],
    ["22_compression.js", ["CompressionStream", "DecompressionStream"]],
    ["25_blob_formdata.js", ["Blob", "File", "FormData"]],
    ["31_websocket.js", ["WebSocket", "WebSocketPair", "MessageEvent", "CloseEvent", "ErrorEvent"]],
    ["35_cache.js", ["caches", "Cache", "CacheStorage"]],
    ["35_html_rewriter.js", ["HTMLRewriter"]],
    ["41_subtle.js", ["SubtleCrypto", "CryptoKey"]],
  ];
  for (const [file, names] of GLOBALS) {
    for (const name of names) defineLazy(globalThis, name, () => valueOf(file, name));
  }

  // Node.js globals of a worker that imports no node: module (the ones that
  // do load the modules at startup).
  // Set per worker, after the snapshot is restored.
  internals.onWorkerInit((() => {
    if (internals.nodeDeferred && internals.compat && internals.compat.flags.nodeJsCompatV2) {
      for (const name of ["Buffer", "process"]) defineLazy(globalThis, name, () => valueOf("node", name));
    }
  }));

  const cryptoProto = globalThis.Crypto.prototype;
  for (const name of ["subtle", "DigestStream"]) {
    const descriptor = {
      __proto__: null,
      configurable: true,
      enumerable: true,
      get() {
        load("41_subtle.js");
        const now = ObjectGetOwnPropertyDescriptor(cryptoProto, name);
        if (now && now.get === descriptor.get) throw new Error(`internal error: 41_subtle.js did not define ${name}`);
        return ReflectGet(cryptoProto, name, this);
      },
    };
    ObjectDefineProperty(cryptoProto, name, descriptor);
  }
})
