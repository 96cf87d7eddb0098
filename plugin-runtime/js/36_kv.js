"use strict";
// Workers KV: the KVNamespace objects of `env` (`internals.kvBind`, called
// by the isolate's init for each worker's `kv_namespaces`). The store is in
// Rust (src/kv): ops.kvGet/GetMany/Put/Delete/List take the namespace's
// index in the worker's bindings, check every argument again and answer
// with Workers' errors. A ReadableStream value goes to Rust chunk by chunk
// (ops.kvBufferWrite, size limit enforced as bytes arrive; it answers with
// a promise when full pieces went to the store, awaited before the next
// chunk is read, so the stream is read no faster than the store takes it
// and nothing but the current chunk stays in JS); get(key,
// "stream") reads the value back through a native body.
((globalThis, internals) => {
  const {
    ArrayAppend,
    ArrayBufferIsView,
    ArrayBufferPrototypeGetByteLength,
    Error,
    ArrayIsArray,
    JSONParse,
    JSONStringify,
    Map,
    MapPrototypeSet,
    Number,
    ObjectDefineProperty,
    ObjectGetOwnPropertyDescriptor,
    PrivateSlot,
    ReflectOwnKeys,
    String,
    SymbolToStringTag,
    TypeError,
    TypedArrayPrototypeGetBuffer,
    TypedArrayPrototypeGetByteLength,
    TypedArrayPrototypeGetByteOffset,
    TypedArrayPrototypeSlice,
  } = internals.primordials;
  const ops = internals.ops;
  // The streams (20_streams.js) load on first use (95_lazy.js); until they
  // have, no value is a stream.
  const S = () => internals.loadStreams();
  const isStream = (x) => internals.streams !== undefined && internals.streams.isReadableStream(x);
  const decodeUtf8 = internals.encoding.decodeUtf8;
  const KEY = {};
  const nsOf = PrivateSlot();

  const VALUE_TYPES =
    "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.";

  function index(self) {
    if (!(typeof self === "object" && self !== null && nsOf.has(self))) throw new TypeError("Illegal invocation");
    return nsOf.get(self);
  }

  // get(key, "text" | {type, cacheTtl}): the type, checked as workerd does.
  function typeOf(options) {
    let type = "text";
    if (typeof options === "string") {
      type = options;
    } else if (options !== undefined && options !== null) {
      if (typeof options !== "object") throw new TypeError("Failed to execute 'get' on 'KVNamespace': parameter 2 is not of type 'GetOptions'.");
      const t = options.type;
      if (t !== undefined) type = String(t);
      const ttl = options.cacheTtl;
      if (ttl !== undefined) {
        const n = Number(ttl);
        // Accepted and ignored (one location), as in Miniflare; below 60 is refused as on Workers.
        if (!(n >= 60)) throw new Error(`KV GET failed: 400 Invalid cache_ttl of ${String(ttl)}. Cache TTL must be at least 60.`);
      }
    }
    if (type !== "text" && type !== "json" && type !== "arrayBuffer" && type !== "stream") {
      throw new TypeError(
        'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".',
      );
    }
    return type;
  }

  function arrayBufferOf(bytes) {
    // A runtime-made Uint8Array over its whole buffer: hand the buffer out.
    if (
      TypedArrayPrototypeGetByteOffset(bytes) === 0 &&
      TypedArrayPrototypeGetByteLength(bytes) === ArrayBufferPrototypeGetByteLength(TypedArrayPrototypeGetBuffer(bytes))
    ) {
      return TypedArrayPrototypeGetBuffer(bytes);
    }
    return TypedArrayPrototypeGetBuffer(TypedArrayPrototypeSlice(bytes));
  }

  function convert(bytes, type) {
    if (type === "arrayBuffer") return arrayBufferOf(bytes);
    const text = decodeUtf8(bytes);
    return type === "json" ? JSONParse(text) : text;
  }

  function metadataOf(m) {
    return m === null || m === undefined ? null : JSONParse(m);
  }

  async function getOne(ns, key, type, withMetadata) {
    if (type === "stream") {
      const hit = await ops.kvGet(ns, key, true);
      if (hit === null) return withMetadata ? { value: null, metadata: null, cacheStatus: null } : null;
      const rid = hit[0];
      const stream = S().createPullStream({
        pull: () => ops.bodyRead(rid),
        cancel: () => ops.bodyCancel(rid),
      });
      return withMetadata ? { value: stream, metadata: metadataOf(hit[1]), cacheStatus: null } : stream;
    }
    const hit = await ops.kvGet(ns, key, false);
    if (hit === null) return withMetadata ? { value: null, metadata: null, cacheStatus: null } : null;
    const value = convert(hit[0], type);
    return withMetadata ? { value, metadata: metadataOf(hit[1]), cacheStatus: null } : value;
  }

  async function getBulk(ns, keys, type, withMetadata) {
    if (type !== "text" && type !== "json") {
      throw new Error(`KV GET_BULK failed: 400 Invalid type "${type}". Bulk get supports "text" and "json" only.`);
    }
    const names = [];
    for (let i = 0; i < keys.length; i++) ArrayAppend(names, String(keys[i]));
    const hits = await ops.kvGetMany(ns, names);
    const out = new Map();
    for (let i = 0; i < names.length; i++) {
      const hit = hits[i];
      let v = null;
      if (hit !== null) {
        const value = convert(hit[0], type);
        v = withMetadata ? { value, metadata: metadataOf(hit[1]) } : value;
      } else if (withMetadata) {
        v = null;
      }
      MapPrototypeSet(out, names[i], v);
    }
    return out;
  }

  // A ReadableStream's chunks into a Rust buffer, checked as they arrive.
  async function bufferStream(stream) {
    const id = ops.kvBufferNew();
    try {
      const reader = stream.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (!(ArrayBufferIsView(value) || isArrayBuffer(value))) throw new TypeError(VALUE_TYPES);
        const staged = ops.kvBufferWrite(id, value);
        if (staged !== undefined) await staged;
      }
    } catch (e) {
      ops.kvBufferFree(id);
      throw e;
    }
    return id;
  }

  function isArrayBuffer(v) {
    try {
      // The captured getter throws for anything but an ArrayBuffer.
      ArrayBufferPrototypeGetByteLength(v);
      return true;
    } catch {
      return false;
    }
  }

  class KVNamespace {
    constructor(key, ns) {
      if (key !== KEY) throw new TypeError("Illegal constructor");
      nsOf.set(this, ns);
    }

    get(key, options = undefined) {
      const ns = index(this);
      return (async () => {
        const type = typeOf(options);
        if (ArrayIsArray(key)) return getBulk(ns, key, type, false);
        return getOne(ns, String(key), type, false);
      })();
    }

    getWithMetadata(key, options = undefined) {
      const ns = index(this);
      return (async () => {
        const type = typeOf(options);
        if (ArrayIsArray(key)) return getBulk(ns, key, type, true);
        return getOne(ns, String(key), type, true);
      })();
    }

    put(key, value, options = undefined) {
      const ns = index(this);
      return (async () => {
        const name = String(key);
        let expiration;
        let expirationTtl;
        let metadata;
        if (options !== undefined && options !== null) {
          if (typeof options !== "object") {
            throw new TypeError("Failed to execute 'put' on 'KVNamespace': parameter 3 is not of type 'PutOptions'.");
          }
          const e = options.expiration;
          if (e !== undefined) expiration = Number(e);
          const t = options.expirationTtl;
          if (t !== undefined) expirationTtl = Number(t);
          const m = options.metadata;
          // A cyclic object or a throwing toJSON/getter rejects the put.
          if (m !== undefined && m !== null) metadata = JSONStringify(m);
        }
        let body;
        if (typeof value === "object" && value !== null) {
          if (ArrayBufferIsView(value) || isArrayBuffer(value)) {
            body = value;
          } else if (isStream(value)) {
            body = await bufferStream(value);
          } else {
            throw new TypeError(VALUE_TYPES);
          }
        } else {
          body = String(value);
        }
        return ops.kvPut(ns, name, body, expiration, expirationTtl, metadata);
      })();
    }

    delete(key) {
      const ns = index(this);
      return (async () => ops.kvDelete(ns, String(key)))();
    }

    list(options = undefined) {
      const ns = index(this);
      return (async () => {
        let prefix = null;
        let limit;
        let cursor = null;
        if (options !== undefined && options !== null) {
          if (typeof options !== "object") {
            throw new TypeError("Failed to execute 'list' on 'KVNamespace': parameter 1 is not of type 'ListOptions'.");
          }
          const p = options.prefix;
          if (p !== undefined && p !== null) prefix = String(p);
          const l = options.limit;
          if (l !== undefined) limit = Number(l);
          const c = options.cursor;
          if (c !== undefined && c !== null) cursor = String(c);
        }
        const page = await ops.kvList(ns, prefix, limit, cursor);
        const names = page[0];
        const exps = page[1];
        const metas = page[2];
        const next = page[3];
        const keys = [];
        for (let i = 0; i < names.length; i++) {
          const k = { name: names[i] };
          if (exps[i] !== undefined) k.expiration = exps[i];
          if (metas[i] !== undefined) k.metadata = JSONParse(metas[i]);
          ArrayAppend(keys, k);
        }
        if (next === null) return { list_complete: true, keys, cacheStatus: null };
        return { list_complete: false, keys, cursor: next, cacheStatus: null };
      })();
    }
  }
  {
    const proto = KVNamespace.prototype;
    const names = ReflectOwnKeys(proto);
    for (let i = 0; i < names.length; i++) {
      const key = names[i];
      if (key === "constructor" || typeof key === "symbol") continue;
      const d = ObjectGetOwnPropertyDescriptor(proto, key);
      d.enumerable = true;
      ObjectDefineProperty(proto, key, d);
    }
    ObjectDefineProperty(proto, SymbolToStringTag, { __proto__: null, value: "KvNamespace", configurable: true });
  }

  // env[binding] = a KVNamespace for the worker's binding number i.
  internals.kvBind = (env, bindings) => {
    for (let i = 0; i < bindings.length; i++) {
      ObjectDefineProperty(env, bindings[i], {
        __proto__: null,
        value: new KVNamespace(KEY, i),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  };
})
