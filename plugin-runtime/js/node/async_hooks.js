"use strict";
// node:async_hooks - AsyncLocalStorage and AsyncResource, as in workerd.
// The stores travel in V8's continuation-preserved embedder data, which V8
// carries into every promise reaction (so through `await`, `.then` and
// timers, which resolve a promise). That slot also names the request being
// served, so it holds either the request id or a frame
// `[requestId, Map<AsyncLocalStorage, store>]` (see ops::current_request).
((globalThis, internals) => {
  const {
    ArrayIsArray,
    ObjectDefineProperty,
    ReflectApply,
    SymbolToStringTag,
  } = internals.primordials;
  const node = (internals.node ??= { __proto__: null });
  const { getContext, setContext } = internals.ops;
  const errors = internals.nodeErrors;
  const isFrame = ArrayIsArray;

  // Runs fn with the frame `frame` current, restoring the previous one.
  function runIn(frame, fn, thisArg, args) {
    const prev = getContext();
    setContext(frame);
    try {
      return ReflectApply(fn, thisArg, args);
    } finally {
      setContext(prev);
    }
  }
  function withStore(key, value, remove) {
    const prev = getContext();
    const stores = new Map(isFrame(prev) ? prev[1] : undefined);
    if (remove) stores.delete(key);
    else stores.set(key, value);
    return [isFrame(prev) ? prev[0] : prev, stores];
  }
  function checkFunction(name, fn) {
    if (typeof fn !== "function") throw errors.invalidArgType(name, "of type function", fn);
  }

  class AsyncLocalStorage {
    run(store, callback, ...args) {
      checkFunction("callback", callback);
      return runIn(withStore(this, store, false), callback, undefined, args);
    }
    exit(callback, ...args) {
      checkFunction("callback", callback);
      return runIn(withStore(this, undefined, true), callback, undefined, args);
    }
    getStore() {
      const frame = getContext();
      return isFrame(frame) ? frame[1].get(this) : undefined;
    }
    // The stores of every AsyncLocalStorage as they are now, for later.
    static snapshot() {
      const frame = getContext();
      return function runInAsyncScope(fn, ...args) {
        checkFunction("fn", fn);
        return runIn(frame, fn, this, args);
      };
    }
    static bind(fn) {
      checkFunction("fn", fn);
      const frame = getContext();
      return function bound(...args) {
        return runIn(frame, fn, this, args);
      };
    }
    get [SymbolToStringTag]() {
      return "AsyncLocalStorage";
    }
  }

  class AsyncResource {
    #frame;
    #type;
    constructor(type, _options) {
      if (typeof type !== "string") throw errors.invalidArgType("type", "of type string", type);
      this.#type = type;
      this.#frame = getContext();
    }
    runInAsyncScope(fn, thisArg, ...args) {
      checkFunction("fn", fn);
      return runIn(this.#frame, fn, thisArg, args);
    }
    bind(fn, thisArg) {
      checkFunction("fn", fn);
      const resource = this;
      const bound = function (...args) {
        return resource.runInAsyncScope(fn, thisArg === undefined ? this : thisArg, ...args);
      };
      ObjectDefineProperty(bound, "length", { __proto__: null, value: fn.length, configurable: true });
      return bound;
    }
    static bind(fn, type, thisArg) {
      return new AsyncResource(type || fn.name || "bound-anonymous-fn").bind(fn, thisArg);
    }
    emitDestroy() {
      return this;
    }
    asyncId() {
      return 0;
    }
    triggerAsyncId() {
      return 0;
    }
    get [SymbolToStringTag]() {
      return "AsyncResource";
    }
  }

  node.async_hooks = {
    AsyncLocalStorage,
    AsyncResource,
  };
  internals.AsyncLocalStorage = AsyncLocalStorage;
})
