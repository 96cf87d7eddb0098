"use strict";
// WHATWG Streams: ReadableStream (default and byte controllers, default and
// BYOB readers), WritableStream, TransformStream and the queuing strategies.
//
// Evaluated as a classic script; its value is a function that the runtime
// calls as fn(globalThis, internals). The structure follows the abstract
// operations of https://streams.spec.whatwg.org/ and its reference
// implementation. Every public object keeps its state in a private field
// (`#i`) holding a plain internal record; the abstract operations below work
// on those records, and each record points back at its public object (`obj`).
((globalThis, internals) => {
  const {
    ArrayBuffer,
    ArrayBufferIsView,
    ObjectPrototypeHasOwnProperty,
    BigInt64Array,
    BigUint64Array,
    DataView,
    Error,
    Float32Array,
    Float64Array,
    Int16Array,
    Int32Array,
    Int8Array,
    MathMin,
    MathTrunc,
    Number,
    NumberIsFinite,
    NumberIsInteger,
    NumberIsNaN,
    NumberMAX_SAFE_INTEGER,
    ObjectCreate,
    ObjectDefineProperty,
    ObjectGetOwnPropertyDescriptor,
    ObjectGetPrototypeOf,
    Promise,
    RangeError,
    Reflect,
    ReflectOwnKeys,
    SafeWeakMap,
    String,
    SymbolAsyncIterator,
    SymbolIterator,
    SymbolToStringTag,
    TypeError,
    Uint16Array,
    Uint32Array,
    Uint8Array,
    Uint8ClampedArray,
    PromiseResolve: primordialPromiseResolve,
    PromiseReject: primordialPromiseReject,
    SafePromiseAll,
    ArraySetOwn,
    ArrayPrototypeMap,
    ObjectSetPrototypeOf,
    StringPrototypeSlice,
    TypedArrayPrototypeGetByteLength,
    TypedArrayPrototypeSlice,
  } = internals.primordials;
  // Captured from the pristine built-ins into the startup snapshot
  // (19_pristine.js): this file loads on first use (95_lazy.js), when
  // the worker's script may have replaced them.
  const {
    ReflectApply,
    PromiseThen,
    ArrayBufferPrototypeSlice,
    ArrayBufferByteLengthGetter,
    ArrayBufferDetachedGetter,
    ArrayBufferTransfer,
    TypedArrayPrototype,
    TypedArrayNameGetter,
    TypedArrayBufferGetter,
    TypedArrayByteOffsetGetter,
    TypedArrayByteLengthGetter,
    TypedArrayLengthGetter,
    TypedArraySet,
    DataViewBufferGetter,
    DataViewByteOffsetGetter,
    DataViewByteLengthGetter,
    AsyncIteratorPrototype,
    queueMicrotask,
    TYPED_ARRAYS,
  } = internals.pristine;
  const $Promise = Promise;
  const PromiseResolve = primordialPromiseResolve;
  const PromiseReject = primordialPromiseReject;
  const $ArrayBuffer = ArrayBuffer;
  const $Uint8Array = Uint8Array;
  const $DataView = DataView;
  const $TypeError = TypeError;
  const $RangeError = RangeError;

  // Unforgeable key for constructing public objects around internal records.
  const KEY = ObjectCreate(null);
  const noop = () => {};

  // ---------------------------------------------------------------------
  // Promise helpers
  // ---------------------------------------------------------------------

  // A promise capability that also remembers whether it is still pending.
  function newCap() {
    const cap = { __proto__: null, promise: undefined, resolve: undefined, reject: undefined, pending: true };
    cap.promise = new $Promise((res, rej) => {
      cap.resolve = (v) => {
        if (!cap.pending) return;
        cap.pending = false;
        res(v);
      };
      cap.reject = (e) => {
        if (!cap.pending) return;
        cap.pending = false;
        rej(e);
      };
    });
    return cap;
  }
  function resolvedCap(v) {
    const cap = newCap();
    cap.resolve(v);
    return cap;
  }
  function rejectedCap(e) {
    const cap = newCap();
    cap.reject(e);
    setHandled(cap.promise);
    return cap;
  }
  function upon(p, onFulfilled, onRejected) {
    return ReflectApply(PromiseThen, p, [onFulfilled, onRejected]);
  }
  function uponFulfilled(p, f) {
    upon(p, f, noop);
  }
  function uponRejected(p, r) {
    upon(p, undefined, r);
  }
  function setHandled(p) {
    ReflectApply(PromiseThen, p, [undefined, noop]);
  }
  // Promise-returning call of an optional user method (this = obj).
  function promiseCall(method, obj, args) {
    try {
      return PromiseResolve(ReflectApply(method, obj, args));
    } catch (e) {
      return PromiseReject(e);
    }
  }
  function waitAll(promises) {
    return SafePromiseAll(promises);
  }

  function abortError(message) {
    return internals.makeDOMException
      ? internals.makeDOMException(message, "AbortError")
      : new Error(message);
  }

  // ---------------------------------------------------------------------
  // O(1) amortised FIFO queue
  // ---------------------------------------------------------------------

  class Queue {
    a = [];
    h = 0;
    get length() {
      return this.a.length - this.h;
    }
    push(v) {
      ArraySetOwn(this.a, this.a.length, v);
    }
    // Never an index the array does not have: a read past the end would
    // consult Array.prototype, whose indices a script may have defined.
    shift() {
      const a = this.a;
      if (this.h >= a.length) return undefined;
      const v = a[this.h];
      a[this.h] = undefined;
      this.h++;
      if (this.h === a.length) {
        this.a = [];
        this.h = 0;
      } else if (this.h >= 1024 && this.h * 2 >= a.length) {
        const n = [];
        for (let i = this.h; i < a.length; i++) ArraySetOwn(n, n.length, a[i]);
        this.a = n;
        this.h = 0;
      }
      return v;
    }
    peek() {
      return this.h < this.a.length ? this.a[this.h] : undefined;
    }
    // Removes and returns every element, oldest first.
    drain() {
      const out = [];
      for (let i = this.h; i < this.a.length; i++) ArraySetOwn(out, out.length, this.a[i]);
      this.a = [];
      this.h = 0;
      return out;
    }
  }
  ObjectSetPrototypeOf(Queue.prototype, null);

  // ---------------------------------------------------------------------
  // Web IDL-ish conversions
  // ---------------------------------------------------------------------

  function isObject(x) {
    return (typeof x === "object" && x !== null) || typeof x === "function";
  }
  // Reads dictionary member `key` (undefined/null dictionaries are empty).
  function dictMember(dict, key, context) {
    if (dict === undefined || dict === null) return undefined;
    if (!isObject(dict)) throw new $TypeError(`${context}: the argument is not an object`);
    return dict[key];
  }
  function callbackMember(dict, key, context) {
    const v = dictMember(dict, key, context);
    if (v !== undefined && typeof v !== "function") {
      throw new $TypeError(`${context}: '${key}' is not a function`);
    }
    return v;
  }
  function toUnsignedLongLongEnforceRange(v, context) {
    let x = +v;
    if (!NumberIsFinite(x)) throw new $TypeError(`${context}: ${v} is not a finite number`);
    x = MathTrunc(x);
    if (x < 0 || x > NumberMAX_SAFE_INTEGER) throw new $TypeError(`${context}: ${v} is out of range`);
    return x === 0 ? 0 : x;
  }
  function toNumber(v) {
    return +v;
  }

  // ---------------------------------------------------------------------
  // ArrayBuffer helpers
  // ---------------------------------------------------------------------

  function isTypedArray(v) {
    return ArrayBufferIsView(v) && ReflectApply(TypedArrayNameGetter, v, []) !== undefined;
  }
  function viewBuffer(v) {
    return isTypedArray(v) ? ReflectApply(TypedArrayBufferGetter, v, []) : ReflectApply(DataViewBufferGetter, v, []);
  }
  function viewByteOffset(v) {
    return isTypedArray(v)
      ? ReflectApply(TypedArrayByteOffsetGetter, v, [])
      : ReflectApply(DataViewByteOffsetGetter, v, []);
  }
  function viewByteLength(v) {
    return isTypedArray(v)
      ? ReflectApply(TypedArrayByteLengthGetter, v, [])
      : ReflectApply(DataViewByteLengthGetter, v, []);
  }
  function bufferByteLength(b) {
    return ReflectApply(ArrayBufferByteLengthGetter, b, []);
  }
  function isDetachedBuffer(b) {
    if (ArrayBufferDetachedGetter) return ReflectApply(ArrayBufferDetachedGetter, b, []);
    try {
      new $Uint8Array(b, 0, 0);
      return false;
    } catch {
      return true;
    }
  }
  // TransferArrayBuffer: detaches when the engine can; otherwise the
  // buffer is used as is.
  function transferArrayBuffer(b) {
    if (isDetachedBuffer(b)) throw new $TypeError("The ArrayBuffer is detached");
    if (ArrayBufferTransfer) return ReflectApply(ArrayBufferTransfer, b, []);
    return b;
  }
  function cloneArrayBuffer(b, offset, length) {
    return ReflectApply(ArrayBufferPrototypeSlice, b, [offset, offset + length]);
  }
  function copyBytes(dest, destOffset, src, srcOffset, n) {
    ReflectApply(TypedArraySet, new $Uint8Array(dest, destOffset, n), [new $Uint8Array(src, srcOffset, n)]);
  }

  // ---------------------------------------------------------------------
  // Queue-with-sizes and strategies
  // ---------------------------------------------------------------------

  function resetQueue(c) {
    c.queue = new Queue();
    c.queueTotalSize = 0;
  }
  function enqueueValueWithSize(c, value, size) {
    if (typeof size !== "number" || NumberIsNaN(size) || size < 0 || size === Infinity) {
      throw new $RangeError("The chunk size must be a finite, non-negative number");
    }
    c.queue.push({ value, size });
    c.queueTotalSize += size;
  }
  function dequeueValue(c) {
    const pair = c.queue.shift();
    c.queueTotalSize -= pair.size;
    if (c.queueTotalSize < 0) c.queueTotalSize = 0;
    return pair.value;
  }
  function peekQueueValue(c) {
    return c.queue.peek().value;
  }

  // Converts a QueuingStrategy dictionary: [highWaterMark, size].
  function convertStrategy(strategy, context) {
    const hwm = dictMember(strategy, "highWaterMark", context);
    const size = callbackMember(strategy, "size", context);
    return [hwm === undefined ? undefined : toNumber(hwm), size];
  }
  function extractHighWaterMark(hwm, defaultHWM) {
    if (hwm === undefined) return defaultHWM;
    if (NumberIsNaN(hwm) || hwm < 0) throw new $RangeError("Invalid highWaterMark");
    return hwm;
  }
  function extractSizeAlgorithm(size) {
    if (size === undefined) return () => 1;
    return (chunk) => ReflectApply(size, undefined, [chunk]);
  }

  // Web IDL class cosmetics: enumerable members and SymbolToStringTag.
  function finishClass(cls, name) {
    const proto = cls.prototype;
    const keys = ReflectOwnKeys(proto);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key === "constructor" || typeof key === "symbol") continue;
      const d = ObjectGetOwnPropertyDescriptor(proto, key);
      d.enumerable = true;
      ObjectDefineProperty(proto, key, d);
    }
    ObjectDefineProperty(proto, SymbolToStringTag, { __proto__: null, value: name, configurable: true });
  }

  function illegal() {
    return new $TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
  }

  // =====================================================================
  // ReadableStream
  // =====================================================================

  let rsOf; // public ReadableStream -> internal record | undefined (a lazy one set up)
  let rsRaw; // the same, a lazy one left as it is (for its flags only)

  // The records below are classes whose prototype chain ends in null: a
  // `{ __proto__: null, ... }` literal is a dictionary-mode object in V8,
  // about ten times slower to make (one per stream, controller, request
  // body) and slower to read; a class instance has a fixed shape, and no
  // inherited getter or setter either.
  class ReadableStreamRecord {
    constructor() {
      this.obj = undefined;
      this.state = "readable";
      this.reader = undefined;
      this.storedError = undefined;
      this.controller = undefined;
      this.disturbed = false;
      this.tag = undefined;
      this.expectedLength = undefined;
      // A runtime body's stream not set up yet (createLazyPullStream): its
      // options, until the first use that needs its controller.
      this.lazy = null;
    }
  }
  ObjectSetPrototypeOf(ReadableStreamRecord.prototype, null);

  function newReadableStreamRecord() {
    return new ReadableStreamRecord();
  }

  class ReadableStream {
    #i;
    static {
      rsRaw = (o) => (isObject(o) && #i in o ? o.#i : undefined);
      rsOf = (o) => {
        if (!(isObject(o) && #i in o)) return undefined;
        const r = o.#i;
        if (r.lazy !== null) {
          const options = r.lazy;
          r.lazy = null;
          setUpPullStream(r, options);
        }
        return r;
      };
    }

    constructor(underlyingSource = undefined, strategy = undefined) {
      if (underlyingSource === KEY) {
        this.#i = strategy;
        strategy.obj = this;
        return;
      }
      const ctx = "Failed to construct 'ReadableStream'";
      if (underlyingSource !== undefined && !isObject(underlyingSource)) {
        throw new $TypeError(`${ctx}: constructor parameter 1 is not of type 'UnderlyingSource'.`);
      }
      const hwmsize = convertStrategy(strategy, ctx);
      const hwm = hwmsize[0];
      const size = hwmsize[1];
      const src = underlyingSource;
      let autoAllocateChunkSize = dictMember(src, "autoAllocateChunkSize", ctx);
      if (autoAllocateChunkSize !== undefined) {
        autoAllocateChunkSize = toUnsignedLongLongEnforceRange(autoAllocateChunkSize, ctx);
      }
      const cancel = callbackMember(src, "cancel", ctx);
      const pull = callbackMember(src, "pull", ctx);
      const start = callbackMember(src, "start", ctx);
      let type = dictMember(src, "type", ctx);
      if (type !== undefined) {
        type = `${type}`;
        if (type !== "bytes") throw new $TypeError(`"${type}" is not a valid type of ReadableStream.`);
      }
      const stream = newReadableStreamRecord();
      this.#i = stream;
      stream.obj = this;
      if (type === "bytes") {
        if (size !== undefined) {
          throw new $RangeError(`${ctx}: a byte stream's strategy cannot have a size function`);
        }
        setUpByteControllerFromSource(stream, src, start, pull, cancel, extractHighWaterMark(hwm, 0),
          autoAllocateChunkSize);
      } else {
        setUpDefaultControllerFromSource(stream, src, start, pull, cancel, extractHighWaterMark(hwm, 1),
          extractSizeAlgorithm(size));
      }
    }

    get locked() {
      const s = rsOf(this);
      if (!s) throw illegal();
      return isReadableStreamLocked(s);
    }

    cancel(reason = undefined) {
      const s = rsOf(this);
      if (!s) return PromiseReject(illegal());
      if (isReadableStreamLocked(s)) {
        return PromiseReject(new $TypeError("Cannot cancel a stream that already has a reader"));
      }
      return readableStreamCancel(s, reason);
    }

    getReader(options = undefined) {
      const s = rsOf(this);
      if (!s) throw illegal();
      const ctx = "Failed to execute 'getReader' on 'ReadableStream'";
      if (options !== undefined && options !== null && !isObject(options)) {
        throw new $TypeError(`${ctx}: parameter 1 is not of type 'GetReaderOptions'.`);
      }
      let mode = dictMember(options, "mode", ctx);
      if (mode === undefined) return acquireDefaultReader(s).obj;
      mode = `${mode}`;
      if (mode !== "byob") throw new $TypeError("mode must be undefined or 'byob' in call to getReader().");
      return acquireBYOBReader(s).obj;
    }

    pipeThrough(transform, options = undefined) {
      const s = rsOf(this);
      if (!s) throw illegal();
      const ctx = "Failed to execute 'pipeThrough' on 'ReadableStream'";
      if (arguments.length < 1) throw new $TypeError(`${ctx}: parameter 1 is not of type 'Transform'.`);
      const readable = dictMember(transform, "readable", ctx);
      const r = rsOf(readable);
      if (!r) throw new $TypeError(`${ctx}: transform.readable is not a ReadableStream`);
      const writable = dictMember(transform, "writable", ctx);
      const w = wsOf(writable);
      if (!w) throw new $TypeError(`${ctx}: transform.writable is not a WritableStream`);
      const opts = convertPipeOptions(options, ctx);
      if (isReadableStreamLocked(s)) throw new $TypeError(`${ctx}: the stream is locked`);
      if (isWritableStreamLocked(w)) throw new $TypeError(`${ctx}: transform.writable is locked`);
      const promise = readableStreamPipeTo(s, w, opts.preventClose, opts.preventAbort, opts.preventCancel,
        opts.signal);
      setHandled(promise);
      return readable;
    }

    pipeTo(destination, options = undefined) {
      const s = rsOf(this);
      if (!s) return PromiseReject(illegal());
      const ctx = "Failed to execute 'pipeTo' on 'ReadableStream'";
      const w = wsOf(destination);
      if (!w) return PromiseReject(new $TypeError(`${ctx}: destination is not a WritableStream`));
      let opts;
      try {
        opts = convertPipeOptions(options, ctx);
      } catch (e) {
        return PromiseReject(e);
      }
      if (isReadableStreamLocked(s)) return PromiseReject(new $TypeError(`${ctx}: the stream is locked`));
      if (isWritableStreamLocked(w)) {
        return PromiseReject(new $TypeError(`${ctx}: the destination is locked`));
      }
      return readableStreamPipeTo(s, w, opts.preventClose, opts.preventAbort, opts.preventCancel, opts.signal);
    }

    tee() {
      const s = rsOf(this);
      if (!s) throw illegal();
      const pair = readableStreamTee(s);
      // workerd: a tee()d stream counts as read (Body.bodyUsed becomes true).
      s.disturbed = true;
      return [pair[0].obj, pair[1].obj];
    }

    values(options = undefined) {
      const s = rsOf(this);
      if (!s) throw illegal();
      const preventCancel = !!dictMember(options, "preventCancel", "Failed to execute 'values' on 'ReadableStream'");
      const reader = acquireDefaultReader(s);
      return createAsyncIterator(reader, preventCancel);
    }

    static from(asyncIterable) {
      return readableStreamFromIterable(asyncIterable).obj;
    }
  }
  finishClass(ReadableStream, "ReadableStream");
  ObjectDefineProperty(ReadableStream, "from", { __proto__: null, enumerable: true });
  ObjectDefineProperty(ReadableStream.prototype, SymbolAsyncIterator, {
    __proto__: null,
    value: ReadableStream.prototype.values,
    writable: true,
    configurable: true,
    enumerable: false,
  });

  function convertPipeOptions(options, ctx) {
    const preventAbort = !!dictMember(options, "preventAbort", ctx);
    const preventCancel = !!dictMember(options, "preventCancel", ctx);
    const preventClose = !!dictMember(options, "preventClose", ctx);
    const signal = dictMember(options, "signal", ctx);
    if (signal !== undefined && !isAbortSignal(signal)) {
      throw new $TypeError(`${ctx}: options.signal is not an AbortSignal`);
    }
    return { __proto__: null, preventAbort, preventCancel, preventClose, signal };
  }

  // CreateReadableStream
  function createReadableStream(startAlgorithm, pullAlgorithm, cancelAlgorithm, hwm = 1, sizeAlgorithm = () => 1) {
    const stream = newReadableStreamRecord();
    new ReadableStream(KEY, stream);
    setUpDefaultController(stream, newDefaultControllerRecord(), startAlgorithm, pullAlgorithm, cancelAlgorithm,
      hwm, sizeAlgorithm);
    return stream;
  }
  // CreateReadableByteStream
  function createReadableByteStream(startAlgorithm, pullAlgorithm, cancelAlgorithm, hwm = 0,
    autoAllocateChunkSize = undefined) {
    const stream = newReadableStreamRecord();
    new ReadableStream(KEY, stream);
    setUpByteController(stream, newByteControllerRecord(), startAlgorithm, pullAlgorithm, cancelAlgorithm, hwm,
      autoAllocateChunkSize);
    return stream;
  }

  function isReadableStreamLocked(stream) {
    return stream.reader !== undefined;
  }

  function readableStreamCancel(stream, reason) {
    stream.disturbed = true;
    if (stream.state === "closed") return PromiseResolve(undefined);
    if (stream.state === "errored") return PromiseReject(stream.storedError);
    readableStreamClose(stream);
    const reader = stream.reader;
    if (reader !== undefined && reader.kind === "byob") {
      const requests = reader.readIntoRequests.drain();
      reader.readIntoRequests = new Queue();
      for (let i = 0; i < requests.length; i++) {
        const req = requests[i];
        req.close(undefined);
      }
    }
    const sourceCancelPromise = stream.controller.cancelSteps(reason);
    return upon(sourceCancelPromise, noop, undefined);
  }

  function readableStreamClose(stream) {
    stream.state = "closed";
    const reader = stream.reader;
    if (reader === undefined) return;
    reader.closed.resolve(undefined);
    if (reader.kind === "default") {
      const requests = reader.readRequests.drain();
      for (let i = 0; i < requests.length; i++) {
        const req = requests[i];
        req.close();
      }
    }
  }

  function readableStreamError(stream, e) {
    stream.state = "errored";
    stream.storedError = e;
    const reader = stream.reader;
    if (reader === undefined) return;
    reader.closed.reject(e);
    setHandled(reader.closed.promise);
    if (reader.kind === "default") defaultReaderErrorReadRequests(reader, e);
    else byobReaderErrorReadIntoRequests(reader, e);
  }

  function readableStreamAddReadRequest(stream, readRequest) {
    stream.reader.readRequests.push(readRequest);
  }
  function readableStreamAddReadIntoRequest(stream, readIntoRequest) {
    stream.reader.readIntoRequests.push(readIntoRequest);
  }
  function readableStreamFulfillReadRequest(stream, chunk, done) {
    const readRequest = stream.reader.readRequests.shift();
    if (done) readRequest.close();
    else readRequest.chunk(chunk);
  }
  function readableStreamFulfillReadIntoRequest(stream, chunk, done) {
    const readIntoRequest = stream.reader.readIntoRequests.shift();
    if (done) readIntoRequest.close(chunk);
    else readIntoRequest.chunk(chunk);
  }
  function readableStreamGetNumReadRequests(stream) {
    return stream.reader.readRequests.length;
  }
  function readableStreamGetNumReadIntoRequests(stream) {
    return stream.reader.readIntoRequests.length;
  }
  function readableStreamHasDefaultReader(stream) {
    return stream.reader !== undefined && stream.reader.kind === "default";
  }
  function readableStreamHasBYOBReader(stream) {
    return stream.reader !== undefined && stream.reader.kind === "byob";
  }

  // =====================================================================
  // Readers
  // =====================================================================

  function readerGenericInitialize(reader, stream) {
    reader.stream = stream;
    stream.reader = reader;
    if (stream.state === "readable") reader.closed = newCap();
    else if (stream.state === "closed") reader.closed = resolvedCap(undefined);
    else reader.closed = rejectedCap(stream.storedError);
  }

  function readerGenericCancel(reader, reason) {
    return readableStreamCancel(reader.stream, reason);
  }

  function readerGenericRelease(reader) {
    const stream = reader.stream;
    const e = new $TypeError("This ReadableStream reader has been released.");
    if (stream.state === "readable") reader.closed.reject(e);
    else reader.closed = rejectedCap(e);
    setHandled(reader.closed.promise);
    stream.controller.releaseSteps();
    stream.reader = undefined;
    reader.stream = undefined;
  }

  function readerClosedGetter(reader) {
    return reader.closed.promise;
  }

  // ---- ReadableStreamDefaultReader --------------------------------------

  let defaultReaderOf;

  function acquireDefaultReader(stream) {
    const reader = { __proto__: null, obj: undefined, kind: "default", stream: undefined, closed: undefined, readRequests: undefined };
    setUpDefaultReader(reader, stream);
    new ReadableStreamDefaultReader(KEY, reader);
    return reader;
  }

  function setUpDefaultReader(reader, stream) {
    if (isReadableStreamLocked(stream)) throw new $TypeError("This ReadableStream is currently locked to a reader.");
    readerGenericInitialize(reader, stream);
    reader.readRequests = new Queue();
  }

  class ReadableStreamDefaultReader {
    #i;
    static {
      defaultReaderOf = (o) => (isObject(o) && #i in o ? o.#i : undefined);
    }

    constructor(stream, record = undefined) {
      if (stream === KEY) {
        this.#i = record;
        record.obj = this;
        return;
      }
      const s = rsOf(stream);
      if (!s) throw new $TypeError("Failed to construct 'ReadableStreamDefaultReader': constructor parameter 1 is not of type 'ReadableStream'.");
      const reader = { __proto__: null, obj: this, kind: "default", stream: undefined, closed: undefined, readRequests: undefined };
      setUpDefaultReader(reader, s);
      this.#i = reader;
    }

    get closed() {
      const r = defaultReaderOf(this);
      if (!r) return PromiseReject(illegal());
      return readerClosedGetter(r);
    }

    cancel(reason = undefined) {
      const r = defaultReaderOf(this);
      if (!r) return PromiseReject(illegal());
      if (r.stream === undefined) return PromiseReject(new $TypeError("The reader has no stream"));
      return readerGenericCancel(r, reason);
    }

    read() {
      const r = defaultReaderOf(this);
      if (!r) return PromiseReject(illegal());
      if (r.stream === undefined) return PromiseReject(new $TypeError("The reader has no stream"));
      const cap = newCap();
      defaultReaderRead(r, {
        chunk: (value) => cap.resolve({ value, done: false }),
        close: () => cap.resolve({ value: undefined, done: true }),
        error: (e) => cap.reject(e),
      });
      return cap.promise;
    }

    releaseLock() {
      const r = defaultReaderOf(this);
      if (!r) throw illegal();
      if (r.stream === undefined) return;
      defaultReaderRelease(r);
    }
  }
  finishClass(ReadableStreamDefaultReader, "ReadableStreamDefaultReader");

  function defaultReaderRead(reader, readRequest) {
    const stream = reader.stream;
    stream.disturbed = true;
    if (stream.state === "closed") readRequest.close();
    else if (stream.state === "errored") readRequest.error(stream.storedError);
    else stream.controller.pullSteps(readRequest);
  }

  function defaultReaderRelease(reader) {
    readerGenericRelease(reader);
    defaultReaderErrorReadRequests(reader, new $TypeError("This ReadableStream reader has been released."));
  }

  function defaultReaderErrorReadRequests(reader, e) {
    const requests = reader.readRequests.drain();
    for (let i = 0; i < requests.length; i++) {
        const req = requests[i];
        req.error(e);
      }
  }

  // ---- ReadableStreamBYOBReader -----------------------------------------

  let byobReaderOf;

  function acquireBYOBReader(stream) {
    const reader = { __proto__: null, obj: undefined, kind: "byob", stream: undefined, closed: undefined, readIntoRequests: undefined };
    setUpBYOBReader(reader, stream);
    new ReadableStreamBYOBReader(KEY, reader);
    return reader;
  }

  function setUpBYOBReader(reader, stream) {
    if (isReadableStreamLocked(stream)) throw new $TypeError("This ReadableStream is currently locked to a reader.");
    if (stream.controller.kind !== "byte") {
      throw new $TypeError("This ReadableStream does not support BYOB reads.");
    }
    readerGenericInitialize(reader, stream);
    reader.readIntoRequests = new Queue();
  }

  class ReadableStreamBYOBReader {
    #i;
    static {
      byobReaderOf = (o) => (isObject(o) && #i in o ? o.#i : undefined);
    }

    constructor(stream, record = undefined) {
      if (stream === KEY) {
        this.#i = record;
        record.obj = this;
        return;
      }
      const s = rsOf(stream);
      if (!s) throw new $TypeError("Failed to construct 'ReadableStreamBYOBReader': constructor parameter 1 is not of type 'ReadableStream'.");
      const reader = { __proto__: null, obj: this, kind: "byob", stream: undefined, closed: undefined, readIntoRequests: undefined };
      setUpBYOBReader(reader, s);
      this.#i = reader;
    }

    get closed() {
      const r = byobReaderOf(this);
      if (!r) return PromiseReject(illegal());
      return readerClosedGetter(r);
    }

    cancel(reason = undefined) {
      const r = byobReaderOf(this);
      if (!r) return PromiseReject(illegal());
      if (r.stream === undefined) return PromiseReject(new $TypeError("The reader has no stream"));
      return readerGenericCancel(r, reason);
    }

    read(view, options = undefined) {
      const r = byobReaderOf(this);
      if (!r) return PromiseReject(illegal());
      const ctx = "Failed to execute 'read' on 'ReadableStreamBYOBReader'";
      if (!ArrayBufferIsView(view)) return PromiseReject(new $TypeError(`${ctx}: view is not an ArrayBufferView`));
      if (viewByteLength(view) === 0) return PromiseReject(new $TypeError('You must call read() on a "byob" reader with a positive-sized TypedArray object.'));
      const buffer = viewBuffer(view);
      if (isDetachedBuffer(buffer)) return PromiseReject(new $TypeError(`${ctx}: view's buffer is detached`));
      if (bufferByteLength(buffer) === 0) {
        return PromiseReject(new $TypeError(`${ctx}: view's buffer has zero length`));
      }
      let min;
      try {
        min = dictMember(options, "min", ctx);
        min = min === undefined ? 1 : toUnsignedLongLongEnforceRange(min, ctx);
      } catch (e) {
        return PromiseReject(e);
      }
      if (min === 0) return PromiseReject(new $TypeError(`${ctx}: options.min must be greater than 0`));
      if (isTypedArray(view)) {
        if (min > ReflectApply(TypedArrayLengthGetter, view, [])) {
          return PromiseReject(new $RangeError(`${ctx}: options.min is larger than the view`));
        }
      } else if (min > viewByteLength(view)) {
        return PromiseReject(new $RangeError(`${ctx}: options.min is larger than the view`));
      }
      if (r.stream === undefined) return PromiseReject(new $TypeError("The reader has no stream"));
      const cap = newCap();
      byobReaderRead(r, view, min, {
        chunk: (value) => cap.resolve({ value, done: false }),
        close: (value) => cap.resolve({ value, done: true }),
        error: (e) => cap.reject(e),
      });
      return cap.promise;
    }

    releaseLock() {
      const r = byobReaderOf(this);
      if (!r) throw illegal();
      if (r.stream === undefined) return;
      byobReaderRelease(r);
    }
  }
  finishClass(ReadableStreamBYOBReader, "ReadableStreamBYOBReader");

  function byobReaderRead(reader, view, min, readIntoRequest) {
    const stream = reader.stream;
    stream.disturbed = true;
    if (stream.state === "errored") readIntoRequest.error(stream.storedError);
    else byteControllerPullInto(stream.controller, view, min, readIntoRequest);
  }

  function byobReaderRelease(reader) {
    readerGenericRelease(reader);
    byobReaderErrorReadIntoRequests(reader, new $TypeError("This ReadableStream reader has been released."));
  }

  function byobReaderErrorReadIntoRequests(reader, e) {
    const requests = reader.readIntoRequests.drain();
    for (let i = 0; i < requests.length; i++) {
        const req = requests[i];
        req.error(e);
      }
  }

  // =====================================================================
  // ReadableStreamDefaultController
  // =====================================================================

  let defaultControllerOf;

  class DefaultControllerRecord {
    constructor() {
      this.kind = "default";
      this.obj = undefined;
      this.stream = undefined;
      this.queue = undefined;
      this.queueTotalSize = 0;
      this.started = false;
      this.closeRequested = false;
      this.pullAgain = false;
      this.pulling = false;
      this.strategySizeAlgorithm = undefined;
      this.strategyHWM = 0;
      this.pullAlgorithm = undefined;
      this.cancelAlgorithm = undefined;
      this.cancelSteps = undefined;
      this.pullSteps = undefined;
      this.releaseSteps = noop;
    }
  }
  ObjectSetPrototypeOf(DefaultControllerRecord.prototype, null);

  function newDefaultControllerRecord() {
    return new DefaultControllerRecord();
  }

  class ReadableStreamDefaultController {
    #i;
    static {
      defaultControllerOf = (o) => (isObject(o) && #i in o ? o.#i : undefined);
    }

    constructor(key = undefined, record = undefined) {
      if (key !== KEY) throw new $TypeError("Illegal constructor");
      this.#i = record;
      record.obj = this;
    }

    get desiredSize() {
      const c = defaultControllerOf(this);
      if (!c) throw illegal();
      return defaultControllerGetDesiredSize(c);
    }

    close() {
      const c = defaultControllerOf(this);
      if (!c) throw illegal();
      if (!defaultControllerCanCloseOrEnqueue(c)) {
        throw new $TypeError(c.stream.state === "closed" ? "This ReadableStream is closed." : "The stream is not in a state that permits close");
      }
      defaultControllerClose(c);
    }

    enqueue(chunk = undefined) {
      const c = defaultControllerOf(this);
      if (!c) throw illegal();
      if (!defaultControllerCanCloseOrEnqueue(c)) {
        throw new $TypeError("Unable to enqueue");
      }
      defaultControllerEnqueue(c, chunk);
    }

    error(e = undefined) {
      const c = defaultControllerOf(this);
      if (!c) throw illegal();
      defaultControllerError(c, e);
    }
  }
  finishClass(ReadableStreamDefaultController, "ReadableStreamDefaultController");

  function defaultControllerCallPullIfNeeded(c) {
    if (!defaultControllerShouldCallPull(c)) return;
    if (c.pulling) {
      c.pullAgain = true;
      return;
    }
    c.pulling = true;
    upon(
      c.pullAlgorithm(),
      () => {
        c.pulling = false;
        if (c.pullAgain) {
          c.pullAgain = false;
          defaultControllerCallPullIfNeeded(c);
        }
      },
      (e) => defaultControllerError(c, e),
    );
  }

  function defaultControllerShouldCallPull(c) {
    const stream = c.stream;
    if (!defaultControllerCanCloseOrEnqueue(c)) return false;
    if (!c.started) return false;
    if (isReadableStreamLocked(stream) && readableStreamGetNumReadRequests(stream) > 0) return true;
    return defaultControllerGetDesiredSize(c) > 0;
  }

  function defaultControllerClearAlgorithms(c) {
    c.pullAlgorithm = undefined;
    c.cancelAlgorithm = undefined;
    c.strategySizeAlgorithm = undefined;
  }

  function defaultControllerClose(c) {
    if (!defaultControllerCanCloseOrEnqueue(c)) return;
    const stream = c.stream;
    c.closeRequested = true;
    if (c.queue.length === 0) {
      defaultControllerClearAlgorithms(c);
      readableStreamClose(stream);
    }
  }

  function defaultControllerEnqueue(c, chunk) {
    if (!defaultControllerCanCloseOrEnqueue(c)) return;
    const stream = c.stream;
    if (isReadableStreamLocked(stream) && readableStreamGetNumReadRequests(stream) > 0) {
      readableStreamFulfillReadRequest(stream, chunk, false);
    } else {
      let chunkSize;
      try {
        chunkSize = c.strategySizeAlgorithm(chunk);
      } catch (e) {
        defaultControllerError(c, e);
        throw e;
      }
      try {
        enqueueValueWithSize(c, chunk, chunkSize);
      } catch (e) {
        defaultControllerError(c, e);
        throw e;
      }
    }
    defaultControllerCallPullIfNeeded(c);
  }

  function defaultControllerError(c, e) {
    const stream = c.stream;
    if (stream.state !== "readable") return;
    resetQueue(c);
    defaultControllerClearAlgorithms(c);
    readableStreamError(stream, e);
  }

  function defaultControllerGetDesiredSize(c) {
    const state = c.stream.state;
    if (state === "errored") return null;
    if (state === "closed") return 0;
    return c.strategyHWM - c.queueTotalSize;
  }

  function defaultControllerHasBackpressure(c) {
    return !defaultControllerShouldCallPull(c);
  }

  function defaultControllerCanCloseOrEnqueue(c) {
    return !c.closeRequested && c.stream.state === "readable";
  }

  function setUpDefaultController(stream, c, startAlgorithm, pullAlgorithm, cancelAlgorithm, hwm, sizeAlgorithm) {
    c.stream = stream;
    resetQueue(c);
    c.started = false;
    c.closeRequested = false;
    c.pullAgain = false;
    c.pulling = false;
    c.strategySizeAlgorithm = sizeAlgorithm;
    c.strategyHWM = hwm;
    c.pullAlgorithm = pullAlgorithm;
    c.cancelAlgorithm = cancelAlgorithm;
    c.cancelSteps = (reason) => {
      resetQueue(c);
      const result = c.cancelAlgorithm(reason);
      defaultControllerClearAlgorithms(c);
      return result;
    };
    c.pullSteps = (readRequest) => {
      if (c.queue.length > 0) {
        const chunk = dequeueValue(c);
        if (c.closeRequested && c.queue.length === 0) {
          defaultControllerClearAlgorithms(c);
          readableStreamClose(stream);
        } else {
          defaultControllerCallPullIfNeeded(c);
        }
        readRequest.chunk(chunk);
      } else {
        readableStreamAddReadRequest(stream, readRequest);
        defaultControllerCallPullIfNeeded(c);
      }
    };
    stream.controller = c;
    if (c.obj === undefined) new ReadableStreamDefaultController(KEY, c);
    const startResult = startAlgorithm();
    upon(
      PromiseResolve(startResult),
      () => {
        c.started = true;
        defaultControllerCallPullIfNeeded(c);
      },
      (r) => defaultControllerError(c, r),
    );
  }

  function setUpDefaultControllerFromSource(stream, source, start, pull, cancel, hwm, sizeAlgorithm) {
    const c = newDefaultControllerRecord();
    new ReadableStreamDefaultController(KEY, c);
    const startAlgorithm = start === undefined ? noop : () => ReflectApply(start, source, [c.obj]);
    const pullAlgorithm = pull === undefined
      ? () => PromiseResolve(undefined)
      : () => promiseCall(pull, source, [c.obj]);
    const cancelAlgorithm = cancel === undefined
      ? () => PromiseResolve(undefined)
      : (reason) => promiseCall(cancel, source, [reason]);
    setUpDefaultController(stream, c, startAlgorithm, pullAlgorithm, cancelAlgorithm, hwm, sizeAlgorithm);
  }

  // =====================================================================
  // ReadableByteStreamController and ReadableStreamBYOBRequest
  // =====================================================================

  let byteControllerOf;
  let byobRequestOf;

  class ByteControllerRecord {
    constructor() {
      this.kind = "byte";
      this.obj = undefined;
      this.stream = undefined;
      this.queue = undefined; // of { buffer, byteOffset, byteLength }
      this.queueTotalSize = 0;
      this.started = false;
      this.closeRequested = false;
      this.pullAgain = false;
      this.pulling = false;
      this.byobRequest = null; // internal BYOB request record
      this.autoAllocateChunkSize = undefined;
      this.pendingPullIntos = undefined;
      this.strategyHWM = 0;
      this.pullAlgorithm = undefined;
      this.cancelAlgorithm = undefined;
      this.noTransfer = false; // runtime-owned chunks (createPullStream) skip TransferArrayBuffer
      this.cancelSteps = undefined;
      this.pullSteps = undefined;
      this.releaseSteps = undefined;
    }
  }
  ObjectSetPrototypeOf(ByteControllerRecord.prototype, null);

  function newByteControllerRecord() {
    return new ByteControllerRecord();
  }

  class ReadableStreamBYOBRequest {
    #i;
    static {
      byobRequestOf = (o) => (isObject(o) && #i in o ? o.#i : undefined);
    }

    constructor(key = undefined, record = undefined) {
      if (key !== KEY) throw new $TypeError("Illegal constructor");
      this.#i = record;
      record.obj = this;
    }

    get view() {
      const r = byobRequestOf(this);
      if (!r) throw illegal();
      return r.view;
    }

    respond(bytesWritten) {
      const r = byobRequestOf(this);
      if (!r) throw illegal();
      const ctx = "Failed to execute 'respond' on 'ReadableStreamBYOBRequest'";
      if (arguments.length < 1) throw new $TypeError(`${ctx}: parameter 1 is not of type 'integer'.`);
      bytesWritten = toUnsignedLongLongEnforceRange(bytesWritten, ctx);
      if (r.controller === undefined) throw new $TypeError(`${ctx}: this request has been invalidated`);
      if (isDetachedBuffer(viewBuffer(r.view))) throw new $TypeError(`${ctx}: the view's buffer is detached`);
      byteControllerRespond(r.controller, bytesWritten);
    }

    respondWithNewView(view) {
      const r = byobRequestOf(this);
      if (!r) throw illegal();
      const ctx = "Failed to execute 'respondWithNewView' on 'ReadableStreamBYOBRequest'";
      if (!ArrayBufferIsView(view)) throw new $TypeError(`${ctx}: view is not an ArrayBufferView`);
      if (r.controller === undefined) throw new $TypeError(`${ctx}: this request has been invalidated`);
      if (isDetachedBuffer(viewBuffer(view))) throw new $TypeError(`${ctx}: the view's buffer is detached`);
      byteControllerRespondWithNewView(r.controller, view);
    }
  }
  finishClass(ReadableStreamBYOBRequest, "ReadableStreamBYOBRequest");

  class ReadableByteStreamController {
    #i;
    static {
      byteControllerOf = (o) => (isObject(o) && #i in o ? o.#i : undefined);
    }

    constructor(key = undefined, record = undefined) {
      if (key !== KEY) throw new $TypeError("Illegal constructor");
      this.#i = record;
      record.obj = this;
    }

    get byobRequest() {
      const c = byteControllerOf(this);
      if (!c) throw illegal();
      const r = byteControllerGetBYOBRequest(c);
      return r === null ? null : r.obj;
    }

    get desiredSize() {
      const c = byteControllerOf(this);
      if (!c) throw illegal();
      return byteControllerGetDesiredSize(c);
    }

    close() {
      const c = byteControllerOf(this);
      if (!c) throw illegal();
      if (c.closeRequested) throw new $TypeError("The stream is already closing");
      if (c.stream.state !== "readable") throw new $TypeError("The stream is not readable");
      byteControllerClose(c);
      // workerd ends a pending BYOB read (done, empty view) on close(); the
      // spec waits for byobRequest.respond(0), which sources often omit.
      if (c.stream.state === "closed" && c.pendingPullIntos.length > 0) byteControllerRespond(c, 0);
    }

    enqueue(chunk) {
      const c = byteControllerOf(this);
      if (!c) throw illegal();
      const ctx = "Failed to execute 'enqueue' on 'ReadableByteStreamController'";
      if (!ArrayBufferIsView(chunk)) throw new $TypeError(`${ctx}: parameter 1 is not of type 'BufferSource'.`);
      if (viewByteLength(chunk) === 0) throw new $TypeError(`${ctx}: chunk is empty`);
      if (bufferByteLength(viewBuffer(chunk)) === 0) throw new $TypeError(`${ctx}: chunk's buffer is empty`);
      if (c.closeRequested) throw new $TypeError(`${ctx}: the stream is closing`);
      if (c.stream.state !== "readable") throw new $TypeError(`${ctx}: the stream is not readable`);
      byteControllerEnqueue(c, chunk);
    }

    error(e = undefined) {
      const c = byteControllerOf(this);
      if (!c) throw illegal();
      byteControllerError(c, e);
    }
  }
  finishClass(ReadableByteStreamController, "ReadableByteStreamController");

  function byteControllerCallPullIfNeeded(c) {
    if (!byteControllerShouldCallPull(c)) return;
    if (c.pulling) {
      c.pullAgain = true;
      return;
    }
    c.pulling = true;
    upon(
      c.pullAlgorithm(),
      () => {
        c.pulling = false;
        if (c.pullAgain) {
          c.pullAgain = false;
          byteControllerCallPullIfNeeded(c);
        }
      },
      (e) => byteControllerError(c, e),
    );
  }

  function byteControllerShouldCallPull(c) {
    const stream = c.stream;
    if (stream.state !== "readable") return false;
    if (c.closeRequested) return false;
    if (!c.started) return false;
    if (readableStreamHasDefaultReader(stream) && readableStreamGetNumReadRequests(stream) > 0) return true;
    if (readableStreamHasBYOBReader(stream) && readableStreamGetNumReadIntoRequests(stream) > 0) return true;
    return byteControllerGetDesiredSize(c) > 0;
  }

  function byteControllerClearAlgorithms(c) {
    c.pullAlgorithm = undefined;
    c.cancelAlgorithm = undefined;
  }

  function byteControllerClearPendingPullIntos(c) {
    byteControllerInvalidateBYOBRequest(c);
    c.pendingPullIntos = new Queue();
  }

  function byteControllerClose(c) {
    const stream = c.stream;
    if (c.closeRequested || stream.state !== "readable") return;
    if (c.queueTotalSize > 0) {
      c.closeRequested = true;
      return;
    }
    if (c.pendingPullIntos.length > 0) {
      const first = c.pendingPullIntos.peek();
      if (first.bytesFilled % first.elementSize !== 0) {
        const e = new $TypeError("Insufficient bytes to fill elements in the given buffer");
        byteControllerError(c, e);
        throw e;
      }
    }
    byteControllerClearAlgorithms(c);
    readableStreamClose(stream);
  }

  function byteControllerCommitPullIntoDescriptor(stream, desc) {
    let done = false;
    if (stream.state === "closed") done = true;
    const filledView = byteControllerConvertPullIntoDescriptor(desc);
    if (desc.readerType === "default") readableStreamFulfillReadRequest(stream, filledView, done);
    else readableStreamFulfillReadIntoRequest(stream, filledView, done);
  }

  function byteControllerConvertPullIntoDescriptor(desc) {
    const buffer = transferArrayBuffer(desc.buffer);
    return new desc.viewConstructor(buffer, desc.byteOffset, desc.bytesFilled / desc.elementSize);
  }

  function byteControllerEnqueue(c, chunk) {
    const stream = c.stream;
    if (c.closeRequested || stream.state !== "readable") return;
    const buffer = viewBuffer(chunk);
    const byteOffset = viewByteOffset(chunk);
    const byteLength = viewByteLength(chunk);
    if (isDetachedBuffer(buffer)) throw new $TypeError("The chunk's buffer is detached");
    const transferredBuffer = c.noTransfer ? buffer : transferArrayBuffer(buffer);
    if (c.pendingPullIntos.length > 0) {
      const first = c.pendingPullIntos.peek();
      if (isDetachedBuffer(first.buffer)) throw new $TypeError("The BYOB request's buffer is detached");
      byteControllerInvalidateBYOBRequest(c);
      first.buffer = transferArrayBuffer(first.buffer);
      if (first.readerType === "none") byteControllerEnqueueDetachedPullIntoToQueue(c, first);
    }
    if (readableStreamHasDefaultReader(stream)) {
      byteControllerProcessReadRequestsUsingQueue(c);
      if (readableStreamGetNumReadRequests(stream) === 0) {
        byteControllerEnqueueChunkToQueue(c, transferredBuffer, byteOffset, byteLength);
      } else {
        if (c.pendingPullIntos.length > 0) byteControllerShiftPendingPullInto(c);
        const transferredView = new $Uint8Array(transferredBuffer, byteOffset, byteLength);
        readableStreamFulfillReadRequest(stream, transferredView, false);
      }
    } else if (readableStreamHasBYOBReader(stream)) {
      byteControllerEnqueueChunkToQueue(c, transferredBuffer, byteOffset, byteLength);
      const filled = byteControllerProcessPullIntoDescriptorsUsingQueue(c);
      for (let i = 0; i < filled.length; i++) {
        const desc = filled[i];
        byteControllerCommitPullIntoDescriptor(stream, desc);
      }
    } else {
      byteControllerEnqueueChunkToQueue(c, transferredBuffer, byteOffset, byteLength);
    }
    byteControllerCallPullIfNeeded(c);
  }

  function byteControllerEnqueueChunkToQueue(c, buffer, byteOffset, byteLength) {
    c.queue.push({ buffer, byteOffset, byteLength });
    c.queueTotalSize += byteLength;
  }

  function byteControllerEnqueueClonedChunkToQueue(c, buffer, byteOffset, byteLength) {
    let clone;
    try {
      clone = cloneArrayBuffer(buffer, byteOffset, byteLength);
    } catch (e) {
      byteControllerError(c, e);
      throw e;
    }
    byteControllerEnqueueChunkToQueue(c, clone, 0, byteLength);
  }

  function byteControllerEnqueueDetachedPullIntoToQueue(c, desc) {
    if (desc.bytesFilled > 0) {
      byteControllerEnqueueClonedChunkToQueue(c, desc.buffer, desc.byteOffset, desc.bytesFilled);
    }
    byteControllerShiftPendingPullInto(c);
  }

  function byteControllerFillHeadPullIntoDescriptor(c, size, desc) {
    desc.bytesFilled += size;
  }

  function byteControllerFillPullIntoDescriptorFromQueue(c, desc) {
    const maxBytesToCopy = MathMin(c.queueTotalSize, desc.byteLength - desc.bytesFilled);
    const maxBytesFilled = desc.bytesFilled + maxBytesToCopy;
    let totalBytesToCopyRemaining = maxBytesToCopy;
    let ready = false;
    const remainderBytes = maxBytesFilled % desc.elementSize;
    const maxAlignedBytes = maxBytesFilled - remainderBytes;
    if (maxAlignedBytes >= desc.minimumFill) {
      totalBytesToCopyRemaining = maxAlignedBytes - desc.bytesFilled;
      ready = true;
    }
    const queue = c.queue;
    while (totalBytesToCopyRemaining > 0) {
      const head = queue.peek();
      const bytesToCopy = MathMin(totalBytesToCopyRemaining, head.byteLength);
      const destStart = desc.byteOffset + desc.bytesFilled;
      copyBytes(desc.buffer, destStart, head.buffer, head.byteOffset, bytesToCopy);
      if (head.byteLength === bytesToCopy) {
        queue.shift();
      } else {
        head.byteOffset += bytesToCopy;
        head.byteLength -= bytesToCopy;
      }
      c.queueTotalSize -= bytesToCopy;
      byteControllerFillHeadPullIntoDescriptor(c, bytesToCopy, desc);
      totalBytesToCopyRemaining -= bytesToCopy;
    }
    return ready;
  }

  function byteControllerFillReadRequestFromQueue(c, readRequest) {
    const entry = c.queue.shift();
    c.queueTotalSize -= entry.byteLength;
    byteControllerHandleQueueDrain(c);
    readRequest.chunk(new $Uint8Array(entry.buffer, entry.byteOffset, entry.byteLength));
  }

  function byteControllerGetBYOBRequest(c) {
    if (c.byobRequest === null && c.pendingPullIntos.length > 0) {
      const first = c.pendingPullIntos.peek();
      const view = new $Uint8Array(first.buffer, first.byteOffset + first.bytesFilled,
        first.byteLength - first.bytesFilled);
      const r = { __proto__: null, obj: undefined, controller: c, view };
      new ReadableStreamBYOBRequest(KEY, r);
      c.byobRequest = r;
    }
    return c.byobRequest;
  }

  function byteControllerGetDesiredSize(c) {
    const state = c.stream.state;
    if (state === "errored") return null;
    if (state === "closed") return 0;
    return c.strategyHWM - c.queueTotalSize;
  }

  function byteControllerHandleQueueDrain(c) {
    if (c.queueTotalSize === 0 && c.closeRequested) {
      byteControllerClearAlgorithms(c);
      readableStreamClose(c.stream);
    } else {
      byteControllerCallPullIfNeeded(c);
    }
  }

  function byteControllerInvalidateBYOBRequest(c) {
    if (c.byobRequest === null) return;
    c.byobRequest.controller = undefined;
    c.byobRequest.view = null;
    c.byobRequest = null;
  }

  function byteControllerProcessPullIntoDescriptorsUsingQueue(c) {
    const filled = [];
    while (c.pendingPullIntos.length > 0) {
      if (c.queueTotalSize === 0) break;
      const desc = c.pendingPullIntos.peek();
      if (byteControllerFillPullIntoDescriptorFromQueue(c, desc)) {
        byteControllerShiftPendingPullInto(c);
        ArraySetOwn(filled, filled.length, desc);
      }
    }
    return filled;
  }

  function byteControllerProcessReadRequestsUsingQueue(c) {
    const reader = c.stream.reader;
    while (reader.readRequests.length > 0) {
      if (c.queueTotalSize === 0) return;
      byteControllerFillReadRequestFromQueue(c, reader.readRequests.shift());
    }
  }

  function byteControllerPullInto(c, view, min, readIntoRequest) {
    const stream = c.stream;
    let elementSize = 1;
    let ctor = $DataView;
    if (isTypedArray(view)) {
      ctor = TYPED_ARRAYS[ReflectApply(TypedArrayNameGetter, view, [])];
      elementSize = ctor.BYTES_PER_ELEMENT;
    }
    const minimumFill = min * elementSize;
    const byteOffset = viewByteOffset(view);
    const byteLength = viewByteLength(view);
    let buffer;
    try {
      buffer = transferArrayBuffer(viewBuffer(view));
    } catch (e) {
      readIntoRequest.error(e);
      return;
    }
    const desc = {
      __proto__: null,
      buffer,
      bufferByteLength: bufferByteLength(buffer),
      byteOffset,
      byteLength,
      bytesFilled: 0,
      minimumFill,
      elementSize,
      viewConstructor: ctor,
      readerType: "byob",
    };
    if (c.pendingPullIntos.length > 0) {
      c.pendingPullIntos.push(desc);
      readableStreamAddReadIntoRequest(stream, readIntoRequest);
      return;
    }
    if (stream.state === "closed") {
      readIntoRequest.close(new ctor(desc.buffer, desc.byteOffset, 0));
      return;
    }
    if (c.queueTotalSize > 0) {
      if (byteControllerFillPullIntoDescriptorFromQueue(c, desc)) {
        const filledView = byteControllerConvertPullIntoDescriptor(desc);
        byteControllerHandleQueueDrain(c);
        readIntoRequest.chunk(filledView);
        return;
      }
      if (c.closeRequested) {
        const e = new $TypeError("Insufficient bytes to fill elements in the given buffer");
        byteControllerError(c, e);
        readIntoRequest.error(e);
        return;
      }
    }
    c.pendingPullIntos.push(desc);
    readableStreamAddReadIntoRequest(stream, readIntoRequest);
    byteControllerCallPullIfNeeded(c);
  }

  function byteControllerRespond(c, bytesWritten) {
    const first = c.pendingPullIntos.peek();
    const state = c.stream.state;
    if (state === "closed") {
      if (bytesWritten !== 0) throw new $TypeError("bytesWritten must be 0 when calling respond() on a closed stream");
    } else {
      if (bytesWritten === 0) throw new $TypeError("bytesWritten must be greater than 0");
      if (first.bytesFilled + bytesWritten > first.byteLength) throw new $RangeError("bytesWritten out of range");
    }
    first.buffer = transferArrayBuffer(first.buffer);
    byteControllerRespondInternal(c, bytesWritten);
  }

  function byteControllerRespondInClosedState(c, first) {
    if (first.readerType === "none") byteControllerShiftPendingPullInto(c);
    const stream = c.stream;
    if (readableStreamHasBYOBReader(stream)) {
      const filled = [];
      while (filled.length < readableStreamGetNumReadIntoRequests(stream)) {
        ArraySetOwn(filled, filled.length, byteControllerShiftPendingPullInto(c));
      }
      for (let i = 0; i < filled.length; i++) {
        const desc = filled[i];
        byteControllerCommitPullIntoDescriptor(stream, desc);
      }
    }
  }

  function byteControllerRespondInReadableState(c, bytesWritten, desc) {
    byteControllerFillHeadPullIntoDescriptor(c, bytesWritten, desc);
    if (desc.readerType === "none") {
      byteControllerEnqueueDetachedPullIntoToQueue(c, desc);
      const filled = byteControllerProcessPullIntoDescriptorsUsingQueue(c);
      for (let i = 0; i < filled.length; i++) {
        const d = filled[i];
        byteControllerCommitPullIntoDescriptor(c.stream, d);
      }
      return;
    }
    if (desc.bytesFilled < desc.minimumFill) return;
    byteControllerShiftPendingPullInto(c);
    const remainderSize = desc.bytesFilled % desc.elementSize;
    if (remainderSize > 0) {
      const end = desc.byteOffset + desc.bytesFilled;
      byteControllerEnqueueClonedChunkToQueue(c, desc.buffer, end - remainderSize, remainderSize);
    }
    desc.bytesFilled -= remainderSize;
    const filled = byteControllerProcessPullIntoDescriptorsUsingQueue(c);
    byteControllerCommitPullIntoDescriptor(c.stream, desc);
    for (let i = 0; i < filled.length; i++) {
        const d = filled[i];
        byteControllerCommitPullIntoDescriptor(c.stream, d);
      }
  }

  function byteControllerRespondInternal(c, bytesWritten) {
    const first = c.pendingPullIntos.peek();
    byteControllerInvalidateBYOBRequest(c);
    if (c.stream.state === "closed") byteControllerRespondInClosedState(c, first);
    else byteControllerRespondInReadableState(c, bytesWritten, first);
    byteControllerCallPullIfNeeded(c);
  }

  function byteControllerRespondWithNewView(c, view) {
    const first = c.pendingPullIntos.peek();
    const state = c.stream.state;
    const byteLength = viewByteLength(view);
    if (state === "closed") {
      if (byteLength !== 0) throw new $TypeError("The view's length must be 0 when calling respondWithNewView() on a closed stream");
    } else if (byteLength === 0) {
      throw new $TypeError("The view's length must be greater than 0");
    }
    const buffer = viewBuffer(view);
    if (first.byteOffset + first.bytesFilled !== viewByteOffset(view)) {
      throw new $RangeError("The region specified by view does not match byobRequest");
    }
    if (first.bufferByteLength !== bufferByteLength(buffer)) {
      throw new $RangeError("The buffer of view has different capacity than byobRequest");
    }
    if (first.bytesFilled + byteLength > first.byteLength) {
      throw new $RangeError("The region specified by view is larger than byobRequest");
    }
    first.buffer = transferArrayBuffer(buffer);
    byteControllerRespondInternal(c, byteLength);
  }

  function byteControllerShiftPendingPullInto(c) {
    return c.pendingPullIntos.shift();
  }

  function byteControllerError(c, e) {
    const stream = c.stream;
    if (stream.state !== "readable") return;
    byteControllerClearPendingPullIntos(c);
    resetQueue(c);
    byteControllerClearAlgorithms(c);
    readableStreamError(stream, e);
  }

  function setUpByteController(stream, c, startAlgorithm, pullAlgorithm, cancelAlgorithm, hwm,
    autoAllocateChunkSize) {
    c.stream = stream;
    c.pullAgain = false;
    c.pulling = false;
    c.byobRequest = null;
    resetQueue(c);
    c.closeRequested = false;
    c.started = false;
    c.strategyHWM = hwm;
    c.pullAlgorithm = pullAlgorithm;
    c.cancelAlgorithm = cancelAlgorithm;
    c.autoAllocateChunkSize = autoAllocateChunkSize;
    c.pendingPullIntos = new Queue();
    c.cancelSteps = (reason) => {
      byteControllerClearPendingPullIntos(c);
      resetQueue(c);
      const result = c.cancelAlgorithm(reason);
      byteControllerClearAlgorithms(c);
      return result;
    };
    c.pullSteps = (readRequest) => {
      if (c.queueTotalSize > 0) {
        byteControllerFillReadRequestFromQueue(c, readRequest);
        return;
      }
      const size = c.autoAllocateChunkSize;
      if (size !== undefined) {
        let buffer;
        try {
          buffer = new $ArrayBuffer(size);
        } catch (e) {
          readRequest.error(e);
          return;
        }
        c.pendingPullIntos.push({
          buffer,
          bufferByteLength: size,
          byteOffset: 0,
          byteLength: size,
          bytesFilled: 0,
          minimumFill: 1,
          elementSize: 1,
          viewConstructor: $Uint8Array,
          readerType: "default",
        });
      }
      readableStreamAddReadRequest(stream, readRequest);
      byteControllerCallPullIfNeeded(c);
    };
    c.releaseSteps = () => {
      if (c.pendingPullIntos.length > 0) {
        const first = c.pendingPullIntos.peek();
        first.readerType = "none";
        c.pendingPullIntos = new Queue();
        c.pendingPullIntos.push(first);
      }
    };
    stream.controller = c;
    if (c.obj === undefined) new ReadableByteStreamController(KEY, c);
    const startResult = startAlgorithm();
    upon(
      PromiseResolve(startResult),
      () => {
        c.started = true;
        byteControllerCallPullIfNeeded(c);
      },
      (r) => byteControllerError(c, r),
    );
  }

  function setUpByteControllerFromSource(stream, source, start, pull, cancel, hwm, autoAllocateChunkSize) {
    const c = newByteControllerRecord();
    new ReadableByteStreamController(KEY, c);
    const startAlgorithm = start === undefined ? noop : () => ReflectApply(start, source, [c.obj]);
    const pullAlgorithm = pull === undefined
      ? () => PromiseResolve(undefined)
      : () => promiseCall(pull, source, [c.obj]);
    const cancelAlgorithm = cancel === undefined
      ? () => PromiseResolve(undefined)
      : (reason) => promiseCall(cancel, source, [reason]);
    if (autoAllocateChunkSize === 0) throw new $TypeError("autoAllocateChunkSize must be greater than 0");
    setUpByteController(stream, c, startAlgorithm, pullAlgorithm, cancelAlgorithm, hwm, autoAllocateChunkSize);
  }

  // =====================================================================
  // Tee
  // =====================================================================

  // ReadableStreamDefaultTee, used for both kinds of stream. Branches of a
  // byte stream are byte streams themselves (so they accept BYOB readers);
  // their chunks are copied for the second branch.
  // The Streams standard's ReadableByteStreamTee: a branch whose reader
  // waits on a read(view) has the source fill that view (a BYOB read of the
  // source, the other branch gets a copy); otherwise a default read of the
  // source and a copy for the second branch. The source's reader switches
  // kind as the branches' reads need.
  function readableByteStreamTee(stream) {
    let reader = acquireDefaultReader(stream);
    let reading = false;
    let readAgainForBranch1 = false;
    let readAgainForBranch2 = false;
    let canceled1 = false;
    let canceled2 = false;
    let reason1;
    let reason2;
    let branch1;
    let branch2;
    const cancelCap = newCap();
    const cloneView = (chunk) =>
      new $Uint8Array(cloneArrayBuffer(viewBuffer(chunk), viewByteOffset(chunk), viewByteLength(chunk)));

    const forwardReaderError = (thisReader) => {
      uponRejected(thisReader.closed.promise, (r) => {
        if (thisReader !== reader) return;
        byteControllerError(branch1.controller, r);
        byteControllerError(branch2.controller, r);
        if (!canceled1 || !canceled2) cancelCap.resolve(undefined);
      });
    };
    const pullAgain = () => {
      if (readAgainForBranch1) pull1Algorithm();
      else if (readAgainForBranch2) pull2Algorithm();
    };
    const failBoth = (e, c1, c2) => {
      byteControllerError(c1, e);
      byteControllerError(c2, e);
      cancelCap.resolve(readableStreamCancel(stream, e));
    };

    const pullWithDefaultReader = () => {
      if (reader.kind === "byob") {
        byobReaderRelease(reader);
        reader = acquireDefaultReader(stream);
        forwardReaderError(reader);
      }
      defaultReaderRead(reader, {
        __proto__: null,
        chunk: (chunk) => {
          queueMicrotask(() => {
            readAgainForBranch1 = false;
            readAgainForBranch2 = false;
            let chunk2 = chunk;
            if (!canceled1 && !canceled2) {
              try {
                chunk2 = cloneView(chunk);
              } catch (e) {
                failBoth(e, branch1.controller, branch2.controller);
                return;
              }
            }
            if (!canceled1 && viewByteLength(chunk) > 0) byteControllerEnqueue(branch1.controller, chunk);
            if (!canceled2 && viewByteLength(chunk2) > 0) byteControllerEnqueue(branch2.controller, chunk2);
            reading = false;
            pullAgain();
          });
        },
        close: () => {
          reading = false;
          closeBranch(branch1, canceled1, undefined);
          closeBranch(branch2, canceled2, undefined);
          if (!canceled1 || !canceled2) cancelCap.resolve(undefined);
        },
        error: () => {
          reading = false;
        },
      });
    };
    // Closes a branch's controller; a read(view) it still waits on ends
    // with `view` (the source's empty view) or an empty view of its own.
    const closeBranch = (branch, canceled, view) => {
      if (canceled) return;
      const c = branch.controller;
      try {
        byteControllerClose(c);
        if (c.pendingPullIntos.length > 0) {
          if (view !== undefined) byteControllerRespondWithNewView(c, view);
          else byteControllerRespond(c, 0);
        }
      } catch {
        // byteControllerClose has already errored the branch.
      }
    };

    const pullWithBYOBReader = (view, forBranch2) => {
      if (reader.kind === "default") {
        defaultReaderRelease(reader);
        reader = acquireBYOBReader(stream);
        forwardReaderError(reader);
      }
      const byobBranch = forBranch2 ? branch2 : branch1;
      const otherBranch = forBranch2 ? branch1 : branch2;
      byobReaderRead(reader, view, 1, {
        __proto__: null,
        chunk: (chunk) => {
          queueMicrotask(() => {
            readAgainForBranch1 = false;
            readAgainForBranch2 = false;
            const byobCanceled = forBranch2 ? canceled2 : canceled1;
            const otherCanceled = forBranch2 ? canceled1 : canceled2;
            if (!otherCanceled) {
              let cloned;
              try {
                cloned = cloneView(chunk);
              } catch (e) {
                failBoth(e, byobBranch.controller, otherBranch.controller);
                return;
              }
              if (!byobCanceled) byteControllerRespondWithNewView(byobBranch.controller, chunk);
              if (viewByteLength(cloned) > 0) byteControllerEnqueue(otherBranch.controller, cloned);
            } else if (!byobCanceled) {
              byteControllerRespondWithNewView(byobBranch.controller, chunk);
            }
            reading = false;
            pullAgain();
          });
        },
        close: (chunk) => {
          reading = false;
          const byobCanceled = forBranch2 ? canceled2 : canceled1;
          const otherCanceled = forBranch2 ? canceled1 : canceled2;
          closeBranch(byobBranch, byobCanceled, chunk);
          closeBranch(otherBranch, otherCanceled, undefined);
          if (!byobCanceled || !otherCanceled) cancelCap.resolve(undefined);
        },
        error: () => {
          reading = false;
        },
      });
    };

    const pullBranch = (branch, forBranch2) => {
      if (reading) {
        if (forBranch2) readAgainForBranch2 = true;
        else readAgainForBranch1 = true;
        return PromiseResolve(undefined);
      }
      reading = true;
      const byobRequest = byteControllerGetBYOBRequest(branch.controller);
      if (byobRequest === null) pullWithDefaultReader();
      else pullWithBYOBReader(byobRequest.view, forBranch2);
      return PromiseResolve(undefined);
    };
    const pull1Algorithm = () => pullBranch(branch1, false);
    const pull2Algorithm = () => pullBranch(branch2, true);
    const cancel1Algorithm = (reason) => {
      canceled1 = true;
      reason1 = reason;
      if (canceled2) cancelCap.resolve(readableStreamCancel(stream, [reason1, reason2]));
      return cancelCap.promise;
    };
    const cancel2Algorithm = (reason) => {
      canceled2 = true;
      reason2 = reason;
      if (canceled1) cancelCap.resolve(readableStreamCancel(stream, [reason1, reason2]));
      return cancelCap.promise;
    };
    branch1 = createReadableByteStream(noop, pull1Algorithm, cancel1Algorithm);
    branch2 = createReadableByteStream(noop, pull2Algorithm, cancel2Algorithm);
    // Runtime-owned chunks (createPullStream) stay undetached in the branches too.
    branch1.controller.noTransfer = stream.controller.noTransfer;
    branch2.controller.noTransfer = stream.controller.noTransfer;
    forwardReaderError(reader);
    return [branch1, branch2];
  }

  function readableStreamTee(stream) {
    if (stream.controller.kind === "byte") return readableByteStreamTee(stream);
    const isBytes = false;
    const reader = acquireDefaultReader(stream);
    let reading = false;
    let readAgain = false;
    let canceled1 = false;
    let canceled2 = false;
    let reason1;
    let reason2;
    let branch1;
    let branch2;
    const cancelCap = newCap();

    const enqueue = (branch, chunk) => {
      const c = branch.controller;
      if (isBytes) {
        if (viewByteLength(chunk) > 0) byteControllerEnqueue(c, chunk);
      } else {
        defaultControllerEnqueue(c, chunk);
      }
    };
    const close = (branch) => {
      const c = branch.controller;
      if (isBytes) {
        try {
          byteControllerClose(c);
          if (c.pendingPullIntos.length > 0) byteControllerRespond(c, 0);
        } catch {
          // byteControllerClose has already errored the branch.
        }
      } else {
        defaultControllerClose(c);
      }
    };
    const error = (branch, r) => {
      if (isBytes) byteControllerError(branch.controller, r);
      else defaultControllerError(branch.controller, r);
    };

    const pullAlgorithm = () => {
      if (reading) {
        readAgain = true;
        return PromiseResolve(undefined);
      }
      reading = true;
      defaultReaderRead(reader, {
        chunk: (chunk) => {
          queueMicrotask(() => {
            readAgain = false;
            let chunk2 = chunk;
            if (isBytes && !canceled1 && !canceled2) {
              chunk2 = new $Uint8Array(cloneArrayBuffer(viewBuffer(chunk), viewByteOffset(chunk),
                viewByteLength(chunk)));
            }
            if (!canceled1) enqueue(branch1, chunk);
            if (!canceled2) enqueue(branch2, chunk2);
            reading = false;
            if (readAgain) pullAlgorithm();
          });
        },
        close: () => {
          reading = false;
          if (!canceled1) close(branch1);
          if (!canceled2) close(branch2);
          if (!canceled1 || !canceled2) cancelCap.resolve(undefined);
        },
        error: () => {
          reading = false;
        },
      });
      return PromiseResolve(undefined);
    };
    const cancel1Algorithm = (reason) => {
      canceled1 = true;
      reason1 = reason;
      if (canceled2) cancelCap.resolve(readableStreamCancel(stream, [reason1, reason2]));
      return cancelCap.promise;
    };
    const cancel2Algorithm = (reason) => {
      canceled2 = true;
      reason2 = reason;
      if (canceled1) cancelCap.resolve(readableStreamCancel(stream, [reason1, reason2]));
      return cancelCap.promise;
    };
    if (isBytes) {
      branch1 = createReadableByteStream(noop, pullAlgorithm, cancel1Algorithm);
      branch2 = createReadableByteStream(noop, pullAlgorithm, cancel2Algorithm);
      // Runtime-owned chunks (createPullStream) stay undetached in the branches too.
      branch1.controller.noTransfer = stream.controller.noTransfer;
      branch2.controller.noTransfer = stream.controller.noTransfer;
    } else {
      branch1 = createReadableStream(noop, pullAlgorithm, cancel1Algorithm);
      branch2 = createReadableStream(noop, pullAlgorithm, cancel2Algorithm);
    }
    uponRejected(reader.closed.promise, (r) => {
      error(branch1, r);
      error(branch2, r);
      if (!canceled1 || !canceled2) cancelCap.resolve(undefined);
    });
    return [branch1, branch2];
  }

  // =====================================================================
  // Async iteration and ReadableStream.from
  // =====================================================================

  const asyncIteratorState = new SafeWeakMap();

  const ReadableStreamAsyncIteratorPrototype = ObjectCreate(AsyncIteratorPrototype, {
    __proto__: null,
    next: {
      __proto__: null,
      value: function next() {
        const it = asyncIteratorState.get(this);
        if (it === undefined) return PromiseReject(illegal());
        const nextSteps = () => {
          if (it.isFinished) return PromiseResolve({ value: undefined, done: true });
          return upon(
            asyncIteratorGetNext(it),
            (result) => {
              it.ongoingPromise = undefined;
              if (result.done) it.isFinished = true;
              return result;
            },
            (reason) => {
              it.ongoingPromise = undefined;
              it.isFinished = true;
              throw reason;
            },
          );
        };
        it.ongoingPromise = it.ongoingPromise === undefined
          ? nextSteps()
          : upon(it.ongoingPromise, nextSteps, nextSteps);
        return it.ongoingPromise;
      },
      writable: true,
      enumerable: true,
      configurable: true,
    },
    return: {
      __proto__: null,
      value: function (value = undefined) {
        const it = asyncIteratorState.get(this);
        if (it === undefined) return PromiseReject(illegal());
        const returnSteps = () => {
          if (it.isFinished) return PromiseResolve({ value, done: true });
          it.isFinished = true;
          return asyncIteratorReturn(it, value);
        };
        it.ongoingPromise = it.ongoingPromise === undefined
          ? returnSteps()
          : upon(it.ongoingPromise, returnSteps, returnSteps);
        return upon(it.ongoingPromise, () => ({ value, done: true }), undefined);
      },
      writable: true,
      enumerable: true,
      configurable: true,
    },
    [SymbolToStringTag]: { __proto__: null, value: "ReadableStream AsyncIterator", configurable: true },
  });
  ObjectDefineProperty(ReadableStreamAsyncIteratorPrototype.return, "name", { __proto__: null, value: "return" });

  function createAsyncIterator(reader, preventCancel) {
    const iterator = ObjectCreate(ReadableStreamAsyncIteratorPrototype);
    asyncIteratorState.set(iterator, { reader, preventCancel, ongoingPromise: undefined, isFinished: false });
    return iterator;
  }

  function asyncIteratorGetNext(it) {
    const reader = it.reader;
    if (reader.stream === undefined) return PromiseReject(new $TypeError("The iterator's reader was released"));
    const cap = newCap();
    defaultReaderRead(reader, {
      chunk: (value) => cap.resolve({ value, done: false }),
      close: () => {
        defaultReaderRelease(reader);
        cap.resolve({ value: undefined, done: true });
      },
      error: (e) => {
        defaultReaderRelease(reader);
        cap.reject(e);
      },
    });
    return cap.promise;
  }

  function asyncIteratorReturn(it, arg) {
    const reader = it.reader;
    if (reader.stream === undefined) return PromiseResolve(undefined);
    if (!it.preventCancel) {
      const result = readerGenericCancel(reader, arg);
      defaultReaderRelease(reader);
      return result;
    }
    defaultReaderRelease(reader);
    return PromiseResolve(undefined);
  }

  // GetIterator(obj, async), falling back to a sync iterator wrapped as in
  // CreateAsyncFromSyncIterator.
  function getAsyncIterator(obj) {
    const method = obj == null ? undefined : obj[SymbolAsyncIterator];
    if (method !== undefined && method !== null) {
      if (typeof method !== "function") throw new $TypeError("SymbolAsyncIterator is not a function");
      const iterator = ReflectApply(method, obj, []);
      if (!isObject(iterator)) throw new $TypeError("The async iterator is not an object");
      return { iterator, nextMethod: iterator.next };
    }
    const syncMethod = obj == null ? undefined : obj[SymbolIterator];
    if (typeof syncMethod !== "function") throw new $TypeError("The argument is not iterable");
    const syncIterator = ReflectApply(syncMethod, obj, []);
    if (!isObject(syncIterator)) throw new $TypeError("The iterator is not an object");
    const syncNext = syncIterator.next;
    const continuation = (result) => {
      if (!isObject(result)) throw new $TypeError("The iterator result is not an object");
      const done = !!result.done;
      return upon(PromiseResolve(result.value), (value) => ({ value, done }), undefined);
    };
    const iterator = {
      next() {
        return continuation(ReflectApply(syncNext, syncIterator, []));
      },
      return(value) {
        const ret = syncIterator.return;
        if (ret === undefined || ret === null) return { value, done: true };
        return continuation(ReflectApply(ret, syncIterator, [value]));
      },
    };
    return { iterator, nextMethod: iterator.next };
  }

  function readableStreamFromIterable(asyncIterable) {
    const record = getAsyncIterator(asyncIterable);
    let stream;
    const pullAlgorithm = () => {
      let nextResult;
      try {
        nextResult = ReflectApply(record.nextMethod, record.iterator, []);
      } catch (e) {
        return PromiseReject(e);
      }
      return upon(PromiseResolve(nextResult), (iterResult) => {
        if (!isObject(iterResult)) throw new $TypeError("The iterator result is not an object");
        if (iterResult.done) defaultControllerClose(stream.controller);
        else defaultControllerEnqueue(stream.controller, iterResult.value);
      }, undefined);
    };
    const cancelAlgorithm = (reason) => {
      const iterator = record.iterator;
      let returnMethod;
      try {
        returnMethod = iterator.return;
        if (returnMethod === null) returnMethod = undefined;
        if (returnMethod !== undefined && typeof returnMethod !== "function") {
          throw new $TypeError("iterator.return is not a function");
        }
      } catch (e) {
        return PromiseReject(e);
      }
      if (returnMethod === undefined) return PromiseResolve(undefined);
      let returnResult;
      try {
        returnResult = ReflectApply(returnMethod, iterator, [reason]);
      } catch (e) {
        return PromiseReject(e);
      }
      return upon(PromiseResolve(returnResult), (r) => {
        if (!isObject(r)) throw new $TypeError("The iterator's return() result is not an object");
      }, undefined);
    };
    stream = createReadableStream(noop, pullAlgorithm, cancelAlgorithm, 0);
    return stream;
  }

  // =====================================================================
  // pipeTo
  // =====================================================================

  function isAbortSignal(s) {
    const a = internals.abort;
    if (a && a.isAbortSignal) return a.isAbortSignal(s);
    return isObject(s) && "aborted" in s && typeof s.addEventListener === "function";
  }
  function signalIsAborted(s) {
    const a = internals.abort;
    return a && a.isAborted ? a.isAborted(s) : !!s.aborted;
  }
  function signalReason(s) {
    const a = internals.abort;
    return a && a.reason ? a.reason(s) : s.reason;
  }
  // Runs algorithm() once when `s` aborts; returns a function that removes it.
  function signalAddAlgorithm(s, algorithm) {
    const a = internals.abort;
    if (a && a.addAlgorithm) {
      a.addAlgorithm(s, algorithm);
      return () => a.removeAlgorithm(s, algorithm);
    }
    const listener = () => algorithm();
    s.addEventListener("abort", listener, { once: true });
    return () => s.removeEventListener("abort", listener);
  }

  function readableStreamPipeTo(source, dest, preventClose, preventAbort, preventCancel, signal) {
    const reader = acquireDefaultReader(source);
    const writer = acquireWriter(dest);
    source.disturbed = true;
    let shuttingDown = false;
    let currentWrite = PromiseResolve(undefined);
    const result = newCap();
    let removeAbortAlgorithm;

    if (signal !== undefined) {
      const abortAlgorithm = () => {
        const error = signalReason(signal);
        const actions = [];
        if (!preventAbort) {
          ArraySetOwn(actions, actions.length, () => {
            if (dest.state === "writable") return writableStreamAbort(dest, error);
            return PromiseResolve(undefined);
          });
        }
        if (!preventCancel) {
          ArraySetOwn(actions, actions.length, () => {
            if (source.state === "readable") return readableStreamCancel(source, error);
            return PromiseResolve(undefined);
          });
        }
        shutdownWithAction(() => waitAll(ArrayPrototypeMap(actions, (action) => action())), true, error);
      };
      if (signalIsAborted(signal)) {
        abortAlgorithm();
        return result.promise;
      }
      removeAbortAlgorithm = signalAddAlgorithm(signal, abortAlgorithm);
    }

    function pipeStep() {
      if (shuttingDown) return PromiseResolve(true);
      return upon(writer.ready.promise, () => {
        const cap = newCap();
        defaultReaderRead(reader, {
          // The write happens a microtask later, as in browsers: an
          // enqueue() never calls the sink's write() synchronously.
          chunk: (chunk) => {
            currentWrite = upon(upon(PromiseResolve(undefined), () => writerWrite(writer, chunk), undefined), undefined, noop);
            cap.resolve(false);
          },
          close: () => cap.resolve(true),
          error: (e) => cap.reject(e),
        });
        return cap.promise;
      }, undefined);
    }

    function pipeLoop() {
      const loop = newCap();
      const next = (done) => {
        if (done) loop.resolve(undefined);
        else upon(pipeStep(), next, loop.reject);
      };
      next(false);
      return loop.promise;
    }

    function waitForWritesToFinish() {
      const oldCurrentWrite = currentWrite;
      return upon(oldCurrentWrite, () => (oldCurrentWrite !== currentWrite ? waitForWritesToFinish() : undefined),
        undefined);
    }

    function isOrBecomesErrored(stream, promise, action) {
      if (stream.state === "errored") action(stream.storedError);
      else uponRejected(promise, action);
    }

    function isOrBecomesClosed(stream, promise, action) {
      if (stream.state === "closed") action();
      else uponFulfilled(promise, action);
    }

    function shutdownWithAction(action, originalIsError, originalError) {
      if (shuttingDown) return;
      shuttingDown = true;
      const doTheRest = () => {
        let p;
        try {
          p = action();
        } catch (e) {
          p = PromiseReject(e);
        }
        upon(p, () => finalize(originalIsError, originalError), (newError) => finalize(true, newError));
      };
      if (dest.state === "writable" && !writableStreamCloseQueuedOrInFlight(dest)) {
        uponFulfilled(waitForWritesToFinish(), doTheRest);
      } else {
        doTheRest();
      }
    }

    function shutdown(isError, error) {
      if (shuttingDown) return;
      shuttingDown = true;
      if (dest.state === "writable" && !writableStreamCloseQueuedOrInFlight(dest)) {
        uponFulfilled(waitForWritesToFinish(), () => finalize(isError, error));
      } else {
        finalize(isError, error);
      }
    }

    function finalize(isError, error) {
      writerRelease(writer);
      defaultReaderRelease(reader);
      if (removeAbortAlgorithm !== undefined) removeAbortAlgorithm();
      if (isError) result.reject(error);
      else result.resolve(undefined);
    }

    // Errors must be propagated forward.
    isOrBecomesErrored(source, reader.closed.promise, (storedError) => {
      if (!preventAbort) shutdownWithAction(() => writableStreamAbort(dest, storedError), true, storedError);
      else shutdown(true, storedError);
    });
    // Errors must be propagated backward.
    isOrBecomesErrored(dest, writer.closed.promise, (storedError) => {
      if (!preventCancel) shutdownWithAction(() => readableStreamCancel(source, storedError), true, storedError);
      else shutdown(true, storedError);
    });
    // Closing must be propagated forward.
    isOrBecomesClosed(source, reader.closed.promise, () => {
      if (!preventClose) shutdownWithAction(() => writerCloseWithErrorPropagation(writer));
      else shutdown();
    });
    // Closing must be propagated backward.
    if (writableStreamCloseQueuedOrInFlight(dest) || dest.state === "closed") {
      const destClosed = new $TypeError("The destination writable stream closed before all data could be piped to it");
      if (!preventCancel) shutdownWithAction(() => readableStreamCancel(source, destClosed), true, destClosed);
      else shutdown(true, destClosed);
    }
    setHandled(pipeLoop());
    return result.promise;
  }

  // =====================================================================
  // WritableStream
  // =====================================================================

  let wsOf;

  class WritableStreamRecord {
    constructor() {
      this.obj = undefined;
      this.state = "writable";
      this.storedError = undefined;
      this.writer = undefined;
      this.controller = undefined;
      this.inFlightWriteRequest = undefined;
      this.closeRequest = undefined;
      this.inFlightCloseRequest = undefined;
      this.pendingAbortRequest = undefined;
      this.writeRequests = new Queue();
      this.backpressure = false;
    }
  }
  ObjectSetPrototypeOf(WritableStreamRecord.prototype, null);

  function newWritableStreamRecord() {
    return new WritableStreamRecord();
  }

  class WritableStream {
    #i;
    static {
      wsOf = (o) => (isObject(o) && #i in o ? o.#i : undefined);
    }

    constructor(underlyingSink = undefined, strategy = undefined) {
      if (underlyingSink === KEY) {
        this.#i = strategy;
        strategy.obj = this;
        return;
      }
      const ctx = "Failed to construct 'WritableStream'";
      if (underlyingSink !== undefined && !isObject(underlyingSink)) {
        throw new $TypeError(`${ctx}: constructor parameter 1 is not of type 'UnderlyingSink'.`);
      }
      const hwmsize = convertStrategy(strategy, ctx);
      const hwm = hwmsize[0];
      const size = hwmsize[1];
      const sink = underlyingSink;
      const abort = callbackMember(sink, "abort", ctx);
      const close = callbackMember(sink, "close", ctx);
      const start = callbackMember(sink, "start", ctx);
      const type = dictMember(sink, "type", ctx);
      const write = callbackMember(sink, "write", ctx);
      if (type !== undefined) throw new $RangeError(`${ctx}: invalid type is specified`);
      const stream = newWritableStreamRecord();
      this.#i = stream;
      stream.obj = this;
      setUpWritableControllerFromSink(stream, sink, abort, close, start, write, extractHighWaterMark(hwm, 1),
        extractSizeAlgorithm(size));
    }

    get locked() {
      const s = wsOf(this);
      if (!s) throw illegal();
      return isWritableStreamLocked(s);
    }

    abort(reason = undefined) {
      const s = wsOf(this);
      if (!s) return PromiseReject(illegal());
      if (isWritableStreamLocked(s)) {
        return PromiseReject(new $TypeError("Cannot abort a stream that already has a writer"));
      }
      return writableStreamAbort(s, reason);
    }

    close() {
      const s = wsOf(this);
      if (!s) return PromiseReject(illegal());
      if (isWritableStreamLocked(s)) {
        return PromiseReject(new $TypeError("Cannot close a stream that already has a writer"));
      }
      if (writableStreamCloseQueuedOrInFlight(s)) {
        return PromiseReject(new $TypeError("Cannot close an already-closing stream"));
      }
      return writableStreamClose(s);
    }

    getWriter() {
      const s = wsOf(this);
      if (!s) throw illegal();
      return acquireWriter(s).obj;
    }
  }
  finishClass(WritableStream, "WritableStream");

  function createWritableStream(startAlgorithm, writeAlgorithm, closeAlgorithm, abortAlgorithm, hwm = 1,
    sizeAlgorithm = () => 1) {
    const stream = newWritableStreamRecord();
    new WritableStream(KEY, stream);
    setUpWritableController(stream, newWritableControllerRecord(), startAlgorithm, writeAlgorithm, closeAlgorithm,
      abortAlgorithm, hwm, sizeAlgorithm);
    return stream;
  }

  function isWritableStreamLocked(stream) {
    return stream.writer !== undefined;
  }

  function writableStreamAbort(stream, reason) {
    if (stream.state === "closed" || stream.state === "errored") return PromiseResolve(undefined);
    writableControllerSignalAbort(stream.controller, reason);
    const state = stream.state;
    if (state === "closed" || state === "errored") return PromiseResolve(undefined);
    if (stream.pendingAbortRequest !== undefined) return stream.pendingAbortRequest.cap.promise;
    let wasAlreadyErroring = false;
    if (state === "erroring") {
      wasAlreadyErroring = true;
      reason = undefined;
    }
    const cap = newCap();
    stream.pendingAbortRequest = { __proto__: null, cap, reason, wasAlreadyErroring };
    if (!wasAlreadyErroring) writableStreamStartErroring(stream, reason);
    return cap.promise;
  }

  function writableStreamClose(stream) {
    const state = stream.state;
    if (state === "closed" || state === "errored") {
      return PromiseReject(new $TypeError("This WritableStream has been closed."));
    }
    const cap = newCap();
    stream.closeRequest = cap;
    const writer = stream.writer;
    if (writer !== undefined && stream.backpressure && state === "writable") writer.ready.resolve(undefined);
    writableControllerClose(stream.controller);
    return cap.promise;
  }

  function writableStreamAddWriteRequest(stream) {
    const cap = newCap();
    stream.writeRequests.push(cap);
    return cap.promise;
  }

  function writableStreamCloseQueuedOrInFlight(stream) {
    return stream.closeRequest !== undefined || stream.inFlightCloseRequest !== undefined;
  }

  function writableStreamDealWithRejection(stream, error) {
    if (stream.state === "writable") {
      writableStreamStartErroring(stream, error);
      return;
    }
    writableStreamFinishErroring(stream);
  }

  function writableStreamStartErroring(stream, reason) {
    const controller = stream.controller;
    stream.state = "erroring";
    stream.storedError = reason;
    const writer = stream.writer;
    if (writer !== undefined) writerEnsureReadyPromiseRejected(writer, reason);
    if (!writableStreamHasOperationMarkedInFlight(stream) && controller.started) {
      writableStreamFinishErroring(stream);
    }
  }

  function writableStreamFinishErroring(stream) {
    stream.state = "errored";
    resetQueue(stream.controller); // [[ErrorSteps]]
    const storedError = stream.storedError;
    const requests = stream.writeRequests.drain();
    for (let i = 0; i < requests.length; i++) {
        const req = requests[i];
        req.reject(storedError);
      }
    const abortRequest = stream.pendingAbortRequest;
    if (abortRequest === undefined) {
      writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
      return;
    }
    stream.pendingAbortRequest = undefined;
    if (abortRequest.wasAlreadyErroring) {
      abortRequest.cap.reject(storedError);
      writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
      return;
    }
    const promise = writableControllerAbortSteps(stream.controller, abortRequest.reason);
    upon(
      promise,
      () => {
        abortRequest.cap.resolve(undefined);
        writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
      },
      (reason) => {
        abortRequest.cap.reject(reason);
        writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
      },
    );
  }

  function writableStreamFinishInFlightWrite(stream) {
    stream.inFlightWriteRequest.resolve(undefined);
    stream.inFlightWriteRequest = undefined;
  }

  function writableStreamFinishInFlightWriteWithError(stream, error) {
    stream.inFlightWriteRequest.reject(error);
    stream.inFlightWriteRequest = undefined;
    writableStreamDealWithRejection(stream, error);
  }

  function writableStreamFinishInFlightClose(stream) {
    stream.inFlightCloseRequest.resolve(undefined);
    stream.inFlightCloseRequest = undefined;
    if (stream.state === "erroring") {
      stream.storedError = undefined;
      if (stream.pendingAbortRequest !== undefined) {
        stream.pendingAbortRequest.cap.resolve(undefined);
        stream.pendingAbortRequest = undefined;
      }
    }
    stream.state = "closed";
    const writer = stream.writer;
    if (writer !== undefined) writer.closed.resolve(undefined);
  }

  function writableStreamFinishInFlightCloseWithError(stream, error) {
    stream.inFlightCloseRequest.reject(error);
    stream.inFlightCloseRequest = undefined;
    if (stream.pendingAbortRequest !== undefined) {
      stream.pendingAbortRequest.cap.reject(error);
      stream.pendingAbortRequest = undefined;
    }
    writableStreamDealWithRejection(stream, error);
  }

  function writableStreamHasOperationMarkedInFlight(stream) {
    return stream.inFlightWriteRequest !== undefined || stream.inFlightCloseRequest !== undefined;
  }

  function writableStreamMarkCloseRequestInFlight(stream) {
    stream.inFlightCloseRequest = stream.closeRequest;
    stream.closeRequest = undefined;
  }

  function writableStreamMarkFirstWriteRequestInFlight(stream) {
    stream.inFlightWriteRequest = stream.writeRequests.shift();
  }

  function writableStreamRejectCloseAndClosedPromiseIfNeeded(stream) {
    if (stream.closeRequest !== undefined) {
      stream.closeRequest.reject(stream.storedError);
      stream.closeRequest = undefined;
    }
    const writer = stream.writer;
    if (writer !== undefined) {
      writer.closed.reject(stream.storedError);
      setHandled(writer.closed.promise);
    }
  }

  function writableStreamUpdateBackpressure(stream, backpressure) {
    const writer = stream.writer;
    if (writer !== undefined && backpressure !== stream.backpressure) {
      if (backpressure) writer.ready = newCap();
      else writer.ready.resolve(undefined);
    }
    stream.backpressure = backpressure;
  }

  // ---- WritableStreamDefaultWriter --------------------------------------

  let writerOf;

  function newWriterRecord() {
    return { __proto__: null, obj: undefined, stream: undefined, ready: undefined, closed: undefined };
  }

  function acquireWriter(stream) {
    const writer = newWriterRecord();
    setUpWriter(writer, stream);
    new WritableStreamDefaultWriter(KEY, writer);
    return writer;
  }

  function setUpWriter(writer, stream) {
    if (isWritableStreamLocked(stream)) throw new $TypeError("This WritableStream is currently locked to a writer.");
    writer.stream = stream;
    stream.writer = writer;
    const state = stream.state;
    if (state === "writable") {
      writer.ready = !writableStreamCloseQueuedOrInFlight(stream) && stream.backpressure
        ? newCap()
        : resolvedCap(undefined);
      writer.closed = newCap();
    } else if (state === "erroring") {
      writer.ready = rejectedCap(stream.storedError);
      writer.closed = newCap();
    } else if (state === "closed") {
      writer.ready = resolvedCap(undefined);
      writer.closed = resolvedCap(undefined);
    } else {
      writer.ready = rejectedCap(stream.storedError);
      writer.closed = rejectedCap(stream.storedError);
    }
  }

  class WritableStreamDefaultWriter {
    #i;
    static {
      writerOf = (o) => (isObject(o) && #i in o ? o.#i : undefined);
    }

    constructor(stream, record = undefined) {
      if (stream === KEY) {
        this.#i = record;
        record.obj = this;
        return;
      }
      const s = wsOf(stream);
      if (!s) throw new $TypeError("Failed to construct 'WritableStreamDefaultWriter': constructor parameter 1 is not of type 'WritableStream'.");
      const writer = newWriterRecord();
      writer.obj = this;
      setUpWriter(writer, s);
      this.#i = writer;
    }

    get closed() {
      const w = writerOf(this);
      if (!w) return PromiseReject(illegal());
      return w.closed.promise;
    }

    get desiredSize() {
      const w = writerOf(this);
      if (!w) throw illegal();
      if (w.stream === undefined) throw new $TypeError("This WritableStream writer has been released.");
      return writerGetDesiredSize(w);
    }

    get ready() {
      const w = writerOf(this);
      if (!w) return PromiseReject(illegal());
      return w.ready.promise;
    }

    abort(reason = undefined) {
      const w = writerOf(this);
      if (!w) return PromiseReject(illegal());
      if (w.stream === undefined) return PromiseReject(new $TypeError("This WritableStream writer has been released."));
      return writableStreamAbort(w.stream, reason);
    }

    close() {
      const w = writerOf(this);
      if (!w) return PromiseReject(illegal());
      const stream = w.stream;
      if (stream === undefined) return PromiseReject(new $TypeError("This WritableStream writer has been released."));
      if (writableStreamCloseQueuedOrInFlight(stream)) {
        return PromiseReject(new $TypeError("Cannot close an already-closing stream"));
      }
      return writableStreamClose(stream);
    }

    releaseLock() {
      const w = writerOf(this);
      if (!w) throw illegal();
      if (w.stream === undefined) return;
      writerRelease(w);
    }

    write(chunk = undefined) {
      const w = writerOf(this);
      if (!w) return PromiseReject(illegal());
      if (w.stream === undefined) return PromiseReject(new $TypeError("This WritableStream writer has been released."));
      return writerWrite(w, chunk);
    }
  }
  finishClass(WritableStreamDefaultWriter, "WritableStreamDefaultWriter");

  function writerCloseWithErrorPropagation(writer) {
    const stream = writer.stream;
    const state = stream.state;
    if (writableStreamCloseQueuedOrInFlight(stream) || state === "closed") return PromiseResolve(undefined);
    if (state === "errored") return PromiseReject(stream.storedError);
    return writableStreamClose(stream);
  }

  function writerEnsureClosedPromiseRejected(writer, error) {
    if (writer.closed.pending) writer.closed.reject(error);
    else writer.closed = rejectedCap(error);
    setHandled(writer.closed.promise);
  }

  function writerEnsureReadyPromiseRejected(writer, error) {
    if (writer.ready.pending) writer.ready.reject(error);
    else writer.ready = rejectedCap(error);
    setHandled(writer.ready.promise);
  }

  function writerGetDesiredSize(writer) {
    const stream = writer.stream;
    const state = stream.state;
    if (state === "errored" || state === "erroring") return null;
    if (state === "closed") return 0;
    return writableControllerGetDesiredSize(stream.controller);
  }

  function writerRelease(writer) {
    const stream = writer.stream;
    const releasedError = new $TypeError("This WritableStream writer has been released.");
    writerEnsureReadyPromiseRejected(writer, releasedError);
    writerEnsureClosedPromiseRejected(writer, releasedError);
    stream.writer = undefined;
    writer.stream = undefined;
  }

  function writerWrite(writer, chunk) {
    const stream = writer.stream;
    const controller = stream.controller;
    const chunkSize = writableControllerGetChunkSize(controller, chunk);
    if (stream !== writer.stream) return PromiseReject(new $TypeError("This WritableStream writer has been released."));
    const state = stream.state;
    if (state === "errored") return PromiseReject(stream.storedError);
    if (writableStreamCloseQueuedOrInFlight(stream) || state === "closed") {
      return PromiseReject(new $TypeError("This WritableStream has been closed."));
    }
    if (state === "erroring") return PromiseReject(stream.storedError);
    const promise = writableStreamAddWriteRequest(stream);
    writableControllerWrite(controller, chunk, chunkSize);
    return promise;
  }

  // ---- WritableStreamDefaultController ----------------------------------

  let writableControllerOf;
  const closeSentinel = ObjectCreate(null);

  class WritableControllerRecord {
    constructor() {
      this.obj = undefined;
      this.stream = undefined;
      this.queue = undefined;
      this.queueTotalSize = 0;
      this.signal = undefined;
      this.abortController = undefined;
      this.started = false;
      this.strategySizeAlgorithm = undefined;
      this.strategyHWM = 1;
      this.writeAlgorithm = undefined;
      this.closeAlgorithm = undefined;
      this.abortAlgorithm = undefined;
    }
  }
  ObjectSetPrototypeOf(WritableControllerRecord.prototype, null);

  function newWritableControllerRecord() {
    return new WritableControllerRecord();
  }

  class WritableStreamDefaultController {
    #i;
    static {
      writableControllerOf = (o) => (isObject(o) && #i in o ? o.#i : undefined);
    }

    constructor(key = undefined, record = undefined) {
      if (key !== KEY) throw new $TypeError("Illegal constructor");
      this.#i = record;
      record.obj = this;
    }

    get signal() {
      const c = writableControllerOf(this);
      if (!c) throw illegal();
      return c.signal;
    }

    error(e = undefined) {
      const c = writableControllerOf(this);
      if (!c) throw illegal();
      if (c.stream.state !== "writable") return;
      writableControllerError(c, e);
    }
  }
  finishClass(WritableStreamDefaultController, "WritableStreamDefaultController");

  function newAbortSignalPair() {
    const a = internals.abort;
    if (a && a.newSignal && a.signalAbort) {
      const signal = a.newSignal();
      return { __proto__: null, signal, abort: (reason) => a.signalAbort(signal, reason) };
    }
    if (typeof globalThis.AbortController === "function") {
      const ac = new globalThis.AbortController();
      return { __proto__: null, signal: ac.signal, abort: (reason) => ac.abort(reason) };
    }
    return { __proto__: null, signal: undefined, abort: noop };
  }

  function writableControllerSignalAbort(c, reason) {
    c.abortController.abort(reason === undefined ? abortError("The stream was aborted") : reason);
  }

  function setUpWritableController(stream, c, startAlgorithm, writeAlgorithm, closeAlgorithm, abortAlgorithm, hwm,
    sizeAlgorithm) {
    c.stream = stream;
    stream.controller = c;
    if (c.obj === undefined) new WritableStreamDefaultController(KEY, c);
    resetQueue(c);
    c.abortController = newAbortSignalPair();
    c.signal = c.abortController.signal;
    c.started = false;
    c.strategySizeAlgorithm = sizeAlgorithm;
    c.strategyHWM = hwm;
    c.writeAlgorithm = writeAlgorithm;
    c.closeAlgorithm = closeAlgorithm;
    c.abortAlgorithm = abortAlgorithm;
    writableStreamUpdateBackpressure(stream, writableControllerGetBackpressure(c));
    const startResult = startAlgorithm();
    upon(
      PromiseResolve(startResult),
      () => {
        c.started = true;
        writableControllerAdvanceQueueIfNeeded(c);
      },
      (r) => {
        c.started = true;
        writableStreamDealWithRejection(stream, r);
      },
    );
  }

  function setUpWritableControllerFromSink(stream, sink, abort, close, start, write, hwm, sizeAlgorithm) {
    const c = newWritableControllerRecord();
    new WritableStreamDefaultController(KEY, c);
    const startAlgorithm = start === undefined ? noop : () => ReflectApply(start, sink, [c.obj]);
    const writeAlgorithm = write === undefined
      ? () => PromiseResolve(undefined)
      : (chunk) => promiseCall(write, sink, [chunk, c.obj]);
    const closeAlgorithm = close === undefined
      ? () => PromiseResolve(undefined)
      : () => promiseCall(close, sink, []);
    const abortAlgorithm = abort === undefined
      ? () => PromiseResolve(undefined)
      : (reason) => promiseCall(abort, sink, [reason]);
    setUpWritableController(stream, c, startAlgorithm, writeAlgorithm, closeAlgorithm, abortAlgorithm, hwm,
      sizeAlgorithm);
  }

  function writableControllerAbortSteps(c, reason) {
    const result = c.abortAlgorithm(reason);
    writableControllerClearAlgorithms(c);
    return result;
  }

  function writableControllerAdvanceQueueIfNeeded(c) {
    const stream = c.stream;
    if (!c.started) return;
    if (stream.inFlightWriteRequest !== undefined) return;
    const state = stream.state;
    if (state === "erroring") {
      writableStreamFinishErroring(stream);
      return;
    }
    if (c.queue.length === 0) return;
    const value = peekQueueValue(c);
    if (value === closeSentinel) writableControllerProcessClose(c);
    else writableControllerProcessWrite(c, value);
  }

  function writableControllerClearAlgorithms(c) {
    c.writeAlgorithm = undefined;
    c.closeAlgorithm = undefined;
    c.abortAlgorithm = undefined;
    c.strategySizeAlgorithm = undefined;
  }

  function writableControllerClose(c) {
    enqueueValueWithSize(c, closeSentinel, 0);
    writableControllerAdvanceQueueIfNeeded(c);
  }

  function writableControllerErrorIfNeeded(c, error) {
    if (c.stream.state === "writable") writableControllerError(c, error);
  }

  function writableControllerGetBackpressure(c) {
    return writableControllerGetDesiredSize(c) <= 0;
  }

  function writableControllerGetChunkSize(c, chunk) {
    if (c.strategySizeAlgorithm === undefined) return 1;
    try {
      return c.strategySizeAlgorithm(chunk);
    } catch (e) {
      writableControllerErrorIfNeeded(c, e);
      return 1;
    }
  }

  function writableControllerGetDesiredSize(c) {
    return c.strategyHWM - c.queueTotalSize;
  }

  function writableControllerError(c, error) {
    writableControllerClearAlgorithms(c);
    writableStreamStartErroring(c.stream, error);
  }

  function writableControllerProcessClose(c) {
    const stream = c.stream;
    writableStreamMarkCloseRequestInFlight(stream);
    dequeueValue(c);
    const sinkClosePromise = c.closeAlgorithm();
    writableControllerClearAlgorithms(c);
    upon(
      sinkClosePromise,
      () => writableStreamFinishInFlightClose(stream),
      (reason) => writableStreamFinishInFlightCloseWithError(stream, reason),
    );
  }

  function writableControllerProcessWrite(c, chunk) {
    const stream = c.stream;
    writableStreamMarkFirstWriteRequestInFlight(stream);
    const sinkWritePromise = c.writeAlgorithm(chunk);
    upon(
      sinkWritePromise,
      () => {
        writableStreamFinishInFlightWrite(stream);
        const state = stream.state;
        dequeueValue(c);
        if (!writableStreamCloseQueuedOrInFlight(stream) && state === "writable") {
          writableStreamUpdateBackpressure(stream, writableControllerGetBackpressure(c));
        }
        writableControllerAdvanceQueueIfNeeded(c);
      },
      (reason) => {
        if (stream.state === "writable") writableControllerClearAlgorithms(c);
        writableStreamFinishInFlightWriteWithError(stream, reason);
      },
    );
  }

  function writableControllerWrite(c, chunk, chunkSize) {
    try {
      enqueueValueWithSize(c, chunk, chunkSize);
    } catch (e) {
      writableControllerErrorIfNeeded(c, e);
      return;
    }
    const stream = c.stream;
    if (!writableStreamCloseQueuedOrInFlight(stream) && stream.state === "writable") {
      writableStreamUpdateBackpressure(stream, writableControllerGetBackpressure(c));
    }
    writableControllerAdvanceQueueIfNeeded(c);
  }

  // =====================================================================
  // TransformStream
  // =====================================================================

  let tsOf;
  let tsControllerOf;

  class TransformStream {
    #i;
    static {
      tsOf = (o) => (isObject(o) && #i in o ? o.#i : undefined);
    }

    constructor(transformer = undefined, writableStrategy = undefined, readableStrategy = undefined) {
      const ctx = "Failed to construct 'TransformStream'";
      if (transformer !== undefined && !isObject(transformer)) {
        throw new $TypeError(`${ctx}: constructor parameter 1 is not of type 'Transformer'.`);
      }
      const writableHWMRawwritableSize = convertStrategy(writableStrategy, ctx);
      const writableHWMRaw = writableHWMRawwritableSize[0];
      const writableSize = writableHWMRawwritableSize[1];
      const readableHWMRawreadableSize = convertStrategy(readableStrategy, ctx);
      const readableHWMRaw = readableHWMRawreadableSize[0];
      const readableSize = readableHWMRawreadableSize[1];
      const cancel = callbackMember(transformer, "cancel", ctx);
      const flush = callbackMember(transformer, "flush", ctx);
      const readableType = dictMember(transformer, "readableType", ctx);
      const start = callbackMember(transformer, "start", ctx);
      const transform = callbackMember(transformer, "transform", ctx);
      const writableType = dictMember(transformer, "writableType", ctx);
      if (readableType !== undefined) throw new $RangeError(`${ctx}: invalid readableType`);
      if (writableType !== undefined) throw new $RangeError(`${ctx}: invalid writableType`);
      const readableHWM = extractHighWaterMark(readableHWMRaw, 0);
      const readableSizeAlgorithm = extractSizeAlgorithm(readableSize);
      const writableHWM = extractHighWaterMark(writableHWMRaw, 1);
      const writableSizeAlgorithm = extractSizeAlgorithm(writableSize);
      const startCap = newCap();
      const stream = { __proto__: null, obj: this, readable: undefined, writable: undefined, backpressure: undefined,
        backpressureChangePromise: undefined, controller: undefined };
      this.#i = stream;
      initializeTransformStream(stream, startCap, writableHWM, writableSizeAlgorithm, readableHWM,
        readableSizeAlgorithm);
      setUpTransformControllerFromTransformer(stream, transformer, cancel, flush, transform);
      if (start !== undefined) startCap.resolve(ReflectApply(start, transformer, [stream.controller.obj]));
      else startCap.resolve(undefined);
    }

    get readable() {
      const s = tsOf(this);
      if (!s) throw illegal();
      return s.readable.obj;
    }

    get writable() {
      const s = tsOf(this);
      if (!s) throw illegal();
      return s.writable.obj;
    }
  }
  finishClass(TransformStream, "TransformStream");

  function initializeTransformStream(stream, startCap, writableHWM, writableSizeAlgorithm, readableHWM,
    readableSizeAlgorithm) {
    const startAlgorithm = () => startCap.promise;
    stream.writable = createWritableStream(
      startAlgorithm,
      (chunk) => transformStreamDefaultSinkWriteAlgorithm(stream, chunk),
      () => transformStreamDefaultSinkCloseAlgorithm(stream),
      (reason) => transformStreamDefaultSinkAbortAlgorithm(stream, reason),
      writableHWM,
      writableSizeAlgorithm,
    );
    stream.readable = createReadableStream(
      startAlgorithm,
      () => transformStreamDefaultSourcePullAlgorithm(stream),
      (reason) => transformStreamDefaultSourceCancelAlgorithm(stream, reason),
      readableHWM,
      readableSizeAlgorithm,
    );
    stream.backpressure = undefined;
    stream.backpressureChangePromise = undefined;
    transformStreamSetBackpressure(stream, true);
    stream.controller = undefined;
  }

  function transformStreamError(stream, e) {
    defaultControllerError(stream.readable.controller, e);
    transformStreamErrorWritableAndUnblockWrite(stream, e);
  }

  function transformStreamErrorWritableAndUnblockWrite(stream, e) {
    transformControllerClearAlgorithms(stream.controller);
    writableControllerErrorIfNeeded(stream.writable.controller, e);
    transformStreamUnblockWrite(stream);
  }

  function transformStreamUnblockWrite(stream) {
    if (stream.backpressure) transformStreamSetBackpressure(stream, false);
  }

  function transformStreamSetBackpressure(stream, backpressure) {
    if (stream.backpressureChangePromise !== undefined) stream.backpressureChangePromise.resolve(undefined);
    stream.backpressureChangePromise = newCap();
    stream.backpressure = backpressure;
  }

  class TransformStreamDefaultController {
    #i;
    static {
      tsControllerOf = (o) => (isObject(o) && #i in o ? o.#i : undefined);
    }

    constructor(key = undefined, record = undefined) {
      if (key !== KEY) throw new $TypeError("Illegal constructor");
      this.#i = record;
      record.obj = this;
    }

    get desiredSize() {
      const c = tsControllerOf(this);
      if (!c) throw illegal();
      return defaultControllerGetDesiredSize(c.stream.readable.controller);
    }

    enqueue(chunk = undefined) {
      const c = tsControllerOf(this);
      if (!c) throw illegal();
      transformControllerEnqueue(c, chunk);
    }

    error(reason = undefined) {
      const c = tsControllerOf(this);
      if (!c) throw illegal();
      transformStreamError(c.stream, reason);
    }

    terminate() {
      const c = tsControllerOf(this);
      if (!c) throw illegal();
      transformControllerTerminate(c);
    }
  }
  finishClass(TransformStreamDefaultController, "TransformStreamDefaultController");

  class TransformControllerRecord {
    constructor(stream) {
      this.obj = undefined;
      this.stream = stream;
      this.transformAlgorithm = undefined;
      this.flushAlgorithm = undefined;
      this.cancelAlgorithm = undefined;
      this.finishPromise = undefined;
    }
  }
  ObjectSetPrototypeOf(TransformControllerRecord.prototype, null);

  function setUpTransformControllerFromTransformer(stream, transformer, cancel, flush, transform) {
    const c = new TransformControllerRecord(stream);
    new TransformStreamDefaultController(KEY, c);
    c.transformAlgorithm = transform === undefined
      ? (chunk) => {
        try {
          transformControllerEnqueue(c, chunk);
          return PromiseResolve(undefined);
        } catch (e) {
          return PromiseReject(e);
        }
      }
      : (chunk) => promiseCall(transform, transformer, [chunk, c.obj]);
    c.flushAlgorithm = flush === undefined
      ? () => PromiseResolve(undefined)
      : () => promiseCall(flush, transformer, [c.obj]);
    c.cancelAlgorithm = cancel === undefined
      ? () => PromiseResolve(undefined)
      : (reason) => promiseCall(cancel, transformer, [reason]);
    stream.controller = c;
  }

  function transformControllerClearAlgorithms(c) {
    c.transformAlgorithm = undefined;
    c.flushAlgorithm = undefined;
    c.cancelAlgorithm = undefined;
  }

  function transformControllerEnqueue(c, chunk) {
    const stream = c.stream;
    const readableController = stream.readable.controller;
    if (!defaultControllerCanCloseOrEnqueue(readableController)) {
      throw new $TypeError("Readable side is not in a state that permits enqueue");
    }
    try {
      defaultControllerEnqueue(readableController, chunk);
    } catch (e) {
      transformStreamErrorWritableAndUnblockWrite(stream, e);
      throw stream.readable.storedError;
    }
    const backpressure = defaultControllerHasBackpressure(readableController);
    if (backpressure !== stream.backpressure) transformStreamSetBackpressure(stream, true);
  }

  function transformControllerPerformTransform(c, chunk) {
    return upon(c.transformAlgorithm(chunk), undefined, (r) => {
      transformStreamError(c.stream, r);
      throw r;
    });
  }

  function transformControllerTerminate(c) {
    const stream = c.stream;
    defaultControllerClose(stream.readable.controller);
    transformStreamErrorWritableAndUnblockWrite(stream, new $TypeError("TransformStream terminated"));
  }

  function transformStreamDefaultSinkWriteAlgorithm(stream, chunk) {
    const controller = stream.controller;
    if (stream.backpressure) {
      return upon(stream.backpressureChangePromise.promise, () => {
        const writable = stream.writable;
        if (writable.state === "erroring") throw writable.storedError;
        return transformControllerPerformTransform(controller, chunk);
      }, undefined);
    }
    return transformControllerPerformTransform(controller, chunk);
  }

  function transformStreamDefaultSinkAbortAlgorithm(stream, reason) {
    const controller = stream.controller;
    if (controller.finishPromise !== undefined) return controller.finishPromise.promise;
    const readable = stream.readable;
    const finish = (controller.finishPromise = newCap());
    const cancelPromise = controller.cancelAlgorithm(reason);
    transformControllerClearAlgorithms(controller);
    upon(
      cancelPromise,
      () => {
        if (readable.state === "errored") {
          finish.reject(readable.storedError);
        } else {
          defaultControllerError(readable.controller, reason);
          finish.resolve(undefined);
        }
      },
      (r) => {
        defaultControllerError(readable.controller, r);
        finish.reject(r);
      },
    );
    return finish.promise;
  }

  function transformStreamDefaultSinkCloseAlgorithm(stream) {
    const controller = stream.controller;
    if (controller.finishPromise !== undefined) return controller.finishPromise.promise;
    const readable = stream.readable;
    const finish = (controller.finishPromise = newCap());
    const flushPromise = controller.flushAlgorithm();
    transformControllerClearAlgorithms(controller);
    upon(
      flushPromise,
      () => {
        if (readable.state === "errored") {
          finish.reject(readable.storedError);
        } else {
          defaultControllerClose(readable.controller);
          finish.resolve(undefined);
        }
      },
      (r) => {
        defaultControllerError(readable.controller, r);
        finish.reject(r);
      },
    );
    return finish.promise;
  }

  function transformStreamDefaultSourceCancelAlgorithm(stream, reason) {
    const controller = stream.controller;
    if (controller.finishPromise !== undefined) return controller.finishPromise.promise;
    const writable = stream.writable;
    const finish = (controller.finishPromise = newCap());
    const cancelPromise = controller.cancelAlgorithm(reason);
    transformControllerClearAlgorithms(controller);
    upon(
      cancelPromise,
      () => {
        if (writable.state === "errored") {
          finish.reject(writable.storedError);
        } else {
          writableControllerErrorIfNeeded(writable.controller, reason);
          transformStreamUnblockWrite(stream);
          finish.resolve(undefined);
        }
      },
      (r) => {
        writableControllerErrorIfNeeded(writable.controller, r);
        transformStreamUnblockWrite(stream);
        finish.reject(r);
      },
    );
    return finish.promise;
  }

  function transformStreamDefaultSourcePullAlgorithm(stream) {
    transformStreamSetBackpressure(stream, false);
    return stream.backpressureChangePromise.promise;
  }

  // =====================================================================
  // Queuing strategies
  // =====================================================================

  const byteLengthSizeFunction = {
    size(chunk) {
      return chunk.byteLength;
    },
  }.size;
  const countSizeFunction = {
    size() {
      return 1;
    },
  }.size;

  function strategyHighWaterMark(init, ctx) {
    if (!isObject(init)) throw new $TypeError(`${ctx}: constructor parameter 1 is not of type 'QueuingStrategyInit'.`);
    const hwm = init.highWaterMark;
    if (hwm === undefined) throw new $TypeError(`${ctx}: highWaterMark is required`);
    return toNumber(hwm);
  }

  class ByteLengthQueuingStrategy {
    #highWaterMark;
    constructor(init) {
      const ctx = "Failed to construct 'ByteLengthQueuingStrategy'";
      this.#highWaterMark = strategyHighWaterMark(init, ctx);
    }
    get highWaterMark() {
      if (!(isObject(this) && #highWaterMark in this)) throw illegal();
      return this.#highWaterMark;
    }
    get size() {
      if (!(isObject(this) && #highWaterMark in this)) throw illegal();
      return byteLengthSizeFunction;
    }
  }
  finishClass(ByteLengthQueuingStrategy, "ByteLengthQueuingStrategy");

  class CountQueuingStrategy {
    #highWaterMark;
    constructor(init) {
      const ctx = "Failed to construct 'CountQueuingStrategy'";
      this.#highWaterMark = strategyHighWaterMark(init, ctx);
    }
    get highWaterMark() {
      if (!(isObject(this) && #highWaterMark in this)) throw illegal();
      return this.#highWaterMark;
    }
    get size() {
      if (!(isObject(this) && #highWaterMark in this)) throw illegal();
      return countSizeFunction;
    }
  }
  finishClass(CountQueuingStrategy, "CountQueuingStrategy");

  // =====================================================================
  // Runtime hooks
  // =====================================================================

  function isArrayBuffer(x) {
    if (!isObject(x)) return false;
    try {
      ReflectApply(ArrayBufferByteLengthGetter, x, []);
      return true;
    } catch {
      return false;
    }
  }

  // A byte stream fed by `pull()` (Uint8Array, or null at the end). The
  // chunks belong to the runtime, so they are enqueued without transfer.
  // `options` is the runtime's own literal: a member it leaves out is
  // absent, never looked up on Object.prototype (where a script may have
  // planted a getter).
  function createPullStream(options) {
    const stream = newReadableStreamRecord();
    new ReadableStream(KEY, stream);
    setUpPullStream(stream, options);
    return stream.obj;
  }

  // createPullStream whose controller is set up on the stream's first use
  // (rsOf): a runtime body handed on untouched (`new Response(res.body,
  // res)`) never needs one. What only reads the record's flags (locked,
  // disturbed, the native tag: rsRaw) does not set it up.
  function createLazyPullStream(options) {
    const stream = newReadableStreamRecord();
    stream.lazy = options;
    new ReadableStream(KEY, stream);
    return stream.obj;
  }

  function setUpPullStream(stream, options) {
    const own = (k) => (ObjectPrototypeHasOwnProperty(options, k) ? options[k] : undefined);
    const pullFn = own("pull");
    const cancelFn = own("cancel");
    const hwmValue = own("highWaterMark");
    const hwm = hwmValue === undefined ? 0 : extractHighWaterMark(toNumber(hwmValue), 0);
    // `pull` returns the chunk (a view, an ArrayBuffer, or null at the end)
    // or a promise of it. A chunk handed back synchronously is taken as it
    // is: wrapping it in a promise would look `then` up on it, through
    // Object.prototype, where a script may have planted one.
    const pullAlgorithm = () => {
      let r;
      try {
        r = pullFn();
        if (r === null || r === undefined || ArrayBufferIsView(r) || isArrayBuffer(r)) {
          onChunk(r);
          return PromiseResolve(undefined);
        }
      } catch (e) {
        return PromiseReject(e);
      }
      return upon(PromiseResolve(r), onChunk, undefined);
    };
    const onChunk = (chunk) => {
      const c = stream.controller;
      if (stream.state !== "readable" || c.closeRequested) return;
      if (chunk === null || chunk === undefined) {
        byteControllerClose(c);
        if (c.pendingPullIntos.length > 0) byteControllerRespond(c, 0);
        return;
      }
      let view;
      if (ArrayBufferIsView(chunk)) view = chunk;
      else if (isArrayBuffer(chunk)) view = new $Uint8Array(chunk);
      else throw new $TypeError("The body source produced a chunk that is not a Uint8Array");
      if (viewByteLength(view) === 0) {
        // Nothing to deliver: ask again once this pull has settled.
        byteControllerCallPullIfNeeded(c);
        return;
      }
      byteControllerEnqueue(c, view);
    };
    const cancelAlgorithm = cancelFn === undefined || cancelFn === null
      ? () => PromiseResolve(undefined)
      : (reason) => promiseCall(cancelFn, undefined, [reason]);
    const c = newByteControllerRecord();
    c.noTransfer = true;
    setUpByteController(stream, c, noop, pullAlgorithm, cancelAlgorithm, hwm, undefined);
  }

  // Reads every chunk of `stream` into one Uint8Array, resolved in a
  // null-prototype box `{ bytes }` (resolving with the Uint8Array would look
  // `then` up through Object.prototype). The stream stays locked (and
  // disturbed) afterwards, as when a body is consumed.
  function readAll(streamObj) {
    const stream = rsOf(streamObj);
    if (!stream) return PromiseReject(new $TypeError("Not a ReadableStream"));
    let reader;
    try {
      reader = acquireDefaultReader(stream);
    } catch (e) {
      return PromiseReject(e);
    }
    const cap = newCap();
    const chunks = [];
    let total = 0;
    let done = false;
    const fail = (e) => {
      done = true;
      cap.reject(e);
    };
    const loop = () => {
      for (;;) {
        let sync = true;
        let again = false;
        defaultReaderRead(reader, {
          chunk: (chunk) => {
            let bytes;
            if (ArrayBufferIsView(chunk)) {
              bytes = new $Uint8Array(viewBuffer(chunk), viewByteOffset(chunk), viewByteLength(chunk));
            } else if (isArrayBuffer(chunk)) {
              bytes = new $Uint8Array(chunk);
            } else {
              const e = new $TypeError("This ReadableStream did not return bytes.");
              setHandled(readerGenericCancel(reader, e));
              fail(e);
              return;
            }
            ArraySetOwn(chunks, chunks.length, bytes);
            total += viewByteLength(bytes);
            if (sync) again = true;
            else loop();
          },
          close: () => {
            done = true;
            const out = new $Uint8Array(total);
            let offset = 0;
            for (let i = 0; i < chunks.length; i++) {
              ReflectApply(TypedArraySet, out, [chunks[i], offset]);
              offset += viewByteLength(chunks[i]);
            }
            cap.resolve({ __proto__: null, bytes: out });
          },
          error: fail,
        });
        sync = false;
        if (!again || done) return;
      }
    };
    loop();
    return cap.promise;
  }

  // A default reader's read() for the runtime's own readers: the result is
  // a null-prototype record, so resolving the promise with it looks up no
  // `then` a script put on Object.prototype (the standard's internal read
  // requests; a script's read() resolves with an ordinary iterator result).
  function readInternal(readerObj) {
    const r = defaultReaderOf(readerObj);
    if (!r) return PromiseReject(illegal());
    if (r.stream === undefined) return PromiseReject(new $TypeError("The reader has no stream"));
    const cap = newCap();
    defaultReaderRead(r, {
      __proto__: null,
      chunk: (value) => cap.resolve({ __proto__: null, value, done: false }),
      close: () => cap.resolve({ __proto__: null, value: undefined, done: true }),
      error: (e) => cap.reject(e),
    });
    return cap.promise;
  }

  internals.streams = {
    __proto__: null,
    readInternal,
    WritableStream: undefined, // set below, once the class exists
    isReadableStream: (x) => rsRaw(x) !== undefined,
    isDisturbed: (s) => rsRaw(s).disturbed,
    isLocked: (s) => isReadableStreamLocked(rsRaw(s)),
    isErrored: (s) => rsRaw(s).state === "errored",
    isClosed: (s) => rsRaw(s).state === "closed",
    createPullStream,
    createLazyPullStream,
    readAll,
    getNativeTag: (s) => rsRaw(s).tag,
    setNativeTag: (s, value) => {
      rsRaw(s).tag = value;
    },
    expectedLength: (s) => rsRaw(s).expectedLength,
    markDisturbed: (s) => {
      rsRaw(s).disturbed = true;
    },
    markConsumed: (s) => {
      const r = rsOf(s);
      r.disturbed = true;
      if (!isReadableStreamLocked(r)) acquireDefaultReader(r);
    },
    tee: (s) => {
      const r = rsOf(s);
      const pair = readableStreamTee(r);
      r.disturbed = true;
      return [pair[0].obj, pair[1].obj];
    },
  };

  // ---- TextEncoderStream / TextDecoderStream (WHATWG Encoding) and workerd's
  // IdentityTransformStream / FixedLengthStream, on top of TransformStream.
  const NOT_BYTES =
    "This TransformStream is being used as a byte stream, but received an object of non-ArrayBuffer/ArrayBufferView type on its writable side.";
  function chunkBytes(chunk) {
    // workerd writes a string as its UTF-8 bytes.
    if (typeof chunk === "string") return internals.encoding.encodeUtf8(chunk);
    if (ArrayBufferIsView(chunk)) return new $Uint8Array(viewBuffer(chunk), viewByteOffset(chunk), viewByteLength(chunk));
    if (isArrayBuffer(chunk)) return new $Uint8Array(chunk);
    throw new $TypeError(NOT_BYTES);
  }

  class TextDecoderStream {
    #decoder;
    #transform;
    constructor(label = "utf-8", options = undefined) {
      const decoder = new internals.encoding.TextDecoder(label, options);
      this.#decoder = decoder;
      this.#transform = new TransformStream({
        __proto__: null,
        transform(chunk, c) {
          // The standard converts the chunk to a BufferSource first.
          if (!ArrayBufferIsView(chunk) && !isArrayBuffer(chunk)) {
            throw new $TypeError("The provided value is not of type '(ArrayBuffer or ArrayBufferView)'.");
          }
          const text = internals.encoding.decode(decoder, chunk, true);
          if (text !== "") c.enqueue(text);
        },
        flush(c) {
          const text = internals.encoding.decode(decoder, undefined, false);
          if (text !== "") c.enqueue(text);
        },
      });
    }
    static #check(o) {
      if (!(isObject(o) && #decoder in o)) throw illegal();
    }
    get encoding() { TextDecoderStream.#check(this); return this.#decoder.encoding; }
    get fatal() { TextDecoderStream.#check(this); return this.#decoder.fatal; }
    get ignoreBOM() { TextDecoderStream.#check(this); return this.#decoder.ignoreBOM; }
    get readable() { TextDecoderStream.#check(this); return this.#transform.readable; }
    get writable() { TextDecoderStream.#check(this); return this.#transform.writable; }
  }
  finishClass(TextDecoderStream, "TextDecoderStream");

  class TextEncoderStream {
    #transform;
    constructor() {
      let pending = ""; // a high surrogate waiting for its pair
      this.#transform = new TransformStream({
        __proto__: null,
        transform(chunk, c) {
          let text = pending + String(chunk);
          pending = "";
          const last = text.charCodeAt(text.length - 1);
          if (last >= 0xd800 && last <= 0xdbff) {
            pending = text[text.length - 1];
            text = StringPrototypeSlice(text, 0, -1);
          }
          if (text !== "") c.enqueue(internals.encoding.encodeUtf8(text));
        },
        flush(c) {
          if (pending !== "") c.enqueue(new Uint8Array([0xef, 0xbf, 0xbd]));
        },
      });
    }
    static #check(o) {
      if (!(isObject(o) && #transform in o)) throw illegal();
    }
    get encoding() { TextEncoderStream.#check(this); return "utf-8"; }
    get readable() { TextEncoderStream.#check(this); return this.#transform.readable; }
    get writable() { TextEncoderStream.#check(this); return this.#transform.writable; }
  }
  finishClass(TextEncoderStream, "TextEncoderStream");

  class IdentityTransformStream extends TransformStream {
    constructor(options = undefined) {
      super({
        __proto__: null,
        transform(chunk, c) {
          const bytes = chunkBytes(chunk);
          if (TypedArrayPrototypeGetByteLength(bytes)) c.enqueue(TypedArrayPrototypeSlice(bytes));
        },
      });
    }
  }

  class FixedLengthStream extends TransformStream {
    constructor(expectedLength, options = undefined) {
      const expected = Number(expectedLength);
      if (!NumberIsInteger(expected) || expected < 0) {
        throw new $TypeError("FixedLengthStream requires a non-negative integer expected length.");
      }
      let seen = 0;
      super({
        __proto__: null,
        transform(chunk, c) {
          const bytes = chunkBytes(chunk);
          seen += TypedArrayPrototypeGetByteLength(bytes);
          if (seen > expected) throw new $TypeError("Attempt to write too many bytes through a FixedLengthStream.");
          if (TypedArrayPrototypeGetByteLength(bytes)) c.enqueue(TypedArrayPrototypeSlice(bytes));
        },
        flush() {
          if (seen < expected) throw new $TypeError("FixedLengthStream did not see all expected bytes before close().");
        },
      });
      // As a body it has a known length (workerd sends Content-Length).
      rsOf(this.readable).expectedLength = expected;
    }
  }

  const defineGlobal = internals.defineGlobal;
  defineGlobal("TextDecoderStream", TextDecoderStream);
  defineGlobal("TextEncoderStream", TextEncoderStream);
  finishClass(IdentityTransformStream, "IdentityTransformStream");
  finishClass(FixedLengthStream, "FixedLengthStream");
  defineGlobal("IdentityTransformStream", IdentityTransformStream);
  defineGlobal("FixedLengthStream", FixedLengthStream);
  defineGlobal("ReadableStream", ReadableStream);
  defineGlobal("ReadableStreamDefaultReader", ReadableStreamDefaultReader);
  defineGlobal("ReadableStreamBYOBReader", ReadableStreamBYOBReader);
  defineGlobal("ReadableStreamBYOBRequest", ReadableStreamBYOBRequest);
  defineGlobal("ReadableStreamDefaultController", ReadableStreamDefaultController);
  defineGlobal("ReadableByteStreamController", ReadableByteStreamController);
  defineGlobal("WritableStream", WritableStream);
  internals.streams.WritableStream = WritableStream;
  internals.streams.TransformStream = TransformStream;
  internals.streams.ReadableStream = ReadableStream;
  defineGlobal("WritableStreamDefaultWriter", WritableStreamDefaultWriter);
  defineGlobal("WritableStreamDefaultController", WritableStreamDefaultController);
  defineGlobal("TransformStream", TransformStream);
  defineGlobal("TransformStreamDefaultController", TransformStreamDefaultController);
  defineGlobal("ByteLengthQueuingStrategy", ByteLengthQueuingStrategy);
  defineGlobal("CountQueuingStrategy", CountQueuingStrategy);
  // workerd's shape for its API classes (90_dispatch.js).
  const classes = [
    TextEncoderStream, TextDecoderStream, IdentityTransformStream, FixedLengthStream, ReadableStream,
    ReadableStreamDefaultReader, ReadableStreamBYOBReader, ReadableStreamBYOBRequest,
    ReadableStreamDefaultController, ReadableByteStreamController, WritableStream, WritableStreamDefaultWriter,
    WritableStreamDefaultController, TransformStream, TransformStreamDefaultController,
    ByteLengthQueuingStrategy, CountQueuingStrategy,
  ];
  for (let i = 0; i < classes.length; i++) internals.webClassShape(classes[i]);
})
