"use strict";
// The Cache API as Cloudflare Workers has it: `caches.default` and
// `caches.open(name)`, with match/put/delete only. Entries live in a Rust
// store shared by every isolate of the process (ops.cachePut/Match/Delete),
// which applies Cache-Control / Expires, Vary, conditional and range requests.
((globalThis, internals) => {
  const {
    Boolean,
    Error,
    ObjectDefineProperty,
    ObjectGetOwnPropertyDescriptor,
    ReflectOwnKeys,
    String,
    Symbol,
    SymbolToStringTag,
    TypeError,
    ArrayPrototypePush,
  } = internals.primordials;
  const ops = internals.ops;
  const H = internals.headers;
  const bodyOf = internals.bodyOf;
  const defineGlobal = internals.defineGlobal;
  const KEY = Symbol("cache");

  function flatten(headers) {
    const out = [];
    for (const [n, v] of H.toList(headers)) ArrayPrototypePush(out, n, v);
    return out;
  }

  function coerce(input) {
    return input instanceof Request ? input : new Request(input);
  }

  function ignoreMethod(options) {
    if (options === undefined || options === null) return false;
    if (typeof options !== "object") {
      throw new TypeError("Failed to execute on 'Cache': parameter 2 is not of type 'CacheQueryOptions'.");
    }
    return Boolean(options.ignoreMethod);
  }

  // workerd's jsg::Unimplemented / jsg::WontImplement methods.
  function unimplemented(name) {
    const fn = function () {
      throw new Error(`Failed to execute '${name}' on 'Cache': the method is not implemented.`);
    };
    ObjectDefineProperty(fn, "name", { __proto__: null, value: name });
    return fn;
  }

  function finishClass(cls, name) {
    const proto = cls.prototype;
    for (const key of ReflectOwnKeys(proto)) {
      if (key === "constructor" || typeof key === "symbol") continue;
      const d = ObjectGetOwnPropertyDescriptor(proto, key);
      d.enumerable = true;
      ObjectDefineProperty(proto, key, d);
    }
    ObjectDefineProperty(proto, SymbolToStringTag, { __proto__: null, value: name, configurable: true });
  }

  class Cache {
    #name; // null: caches.default
    constructor(key, name) {
      if (key !== KEY) throw new TypeError("Illegal constructor");
      this.#name = name;
    }
    static #nameOf(self) {
      if (!(typeof self === "object" && self !== null && #name in self)) throw new TypeError("Illegal invocation");
      return self.#name;
    }

    async match(request, options = undefined) {
      const name = Cache.#nameOf(this);
      if (arguments.length < 1) {
        throw new TypeError("Failed to execute 'match' on 'Cache': parameter 1 is not of type 'Request or string'.");
      }
      const req = coerce(request);
      if (!ignoreMethod(options) && req.method !== "GET") return undefined;
      const hit = ops.cacheMatch(name, req.url, flatten(req.headers));
      if (hit === null) return undefined;
      const [status, statusText, flat, body] = hit;
      const headers = [];
      for (let i = 0; i < flat.length; i += 2) ArrayPrototypePush(headers, [flat[i], flat[i + 1]]);
      const nullBody = status === 304 || status === 204 || (status === 416 && body.byteLength === 0);
      const res = new Response(nullBody ? null : body, { status, statusText, headers });
      H.setGuard(res.headers, "immutable");
      return res;
    }

    async put(request, response) {
      const name = Cache.#nameOf(this);
      if (arguments.length < 2) {
        throw new TypeError(
          arguments.length === 0
            ? "Failed to execute 'put' on 'Cache': parameter 1 is not of type 'Request or string'."
            : "Failed to execute 'put' on 'Cache': parameter 2 is not of type 'Response'.",
        );
      }
      if (!(response instanceof Response)) {
        throw new TypeError("Failed to execute 'put' on 'Cache': parameter 2 is not of type 'Response'.");
      }
      if (response.type === "error") throw new TypeError("Cache is unable to store an error response");
      if (response.webSocket) throw new TypeError("Cannot cache WebSocket upgrade response.");
      const req = coerce(request);
      if (req.method !== "GET") throw new TypeError("Cannot cache response to non-GET request.");
      if (response.status === 206) {
        throw new TypeError("Cannot cache response to a range request (206 Partial Content).");
      }
      const vary = response.headers.get("vary");
      if (vary !== null && vary.includes("*")) throw new TypeError("Cannot cache response with 'Vary: *' header.");
      // 304s are dropped silently, as workerd does.
      if (response.status === 304) return undefined;
      // Reading starts now, so the body is disturbed when put() returns.
      const bytes = (await bodyOf.get(response).consume()).bytes;
      ops.cachePut(
        name,
        req.url,
        flatten(req.headers),
        response.status,
        response.statusText,
        flatten(response.headers),
        bytes,
      );
      return undefined;
    }

    async delete(request, options = undefined) {
      const name = Cache.#nameOf(this);
      if (arguments.length < 1) {
        throw new TypeError("Failed to execute 'delete' on 'Cache': parameter 1 is not of type 'Request or string'.");
      }
      const req = coerce(request);
      if (!ignoreMethod(options) && req.method !== "GET") return false;
      return ops.cacheDelete(name, req.url);
    }
  }
  Cache.prototype.add = unimplemented("add");
  Cache.prototype.addAll = unimplemented("addAll");
  Cache.prototype.matchAll = unimplemented("matchAll");
  Cache.prototype.keys = unimplemented("keys");
  finishClass(Cache, "Cache");

  const MAX_CACHE_NAME_LENGTH = 1024;

  class CacheStorage {
    #default;
    constructor(key) {
      if (key !== KEY) throw new TypeError("Illegal constructor");
      this.#default = new Cache(KEY, null);
    }
    get default() {
      if (!(typeof this === "object" && this !== null && #default in this)) throw new TypeError("Illegal invocation");
      return this.#default;
    }
    async open(cacheName) {
      if (!(typeof this === "object" && this !== null && #default in this)) throw new TypeError("Illegal invocation");
      if (arguments.length < 1) {
        throw new TypeError("Failed to execute 'open' on 'CacheStorage': parameter 1 is not of type 'string'.");
      }
      const name = String(cacheName);
      if (name.length >= MAX_CACHE_NAME_LENGTH) throw new TypeError("Cache name is too long.");
      return new Cache(KEY, name);
    }
  }
  finishClass(CacheStorage, "CacheStorage");

  // The classes are exposed (for instanceof); calling them throws.
  defineGlobal("Cache", Cache);
  defineGlobal("CacheStorage", CacheStorage);
  defineGlobal("caches", new CacheStorage(KEY));
})
