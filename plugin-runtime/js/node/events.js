"use strict";
// node:events - EventEmitter with Node.js semantics ('error' without a
// listener throws, 'newListener'/'removeListener', once(), max listeners).
((globalThis, internals) => {
  const {
    Error,
    NumberIsNaN,
    ObjectAssign,
    ObjectCreate,
    ObjectDefineProperty,
    ObjectGetPrototypeOf,
    Promise,
    PromiseReject,
    PromiseResolve,
    ReflectApply,
    ReflectOwnKeys,
    String,
    Symbol,
    SymbolAsyncIterator,
    SymbolFor,
  } = internals.primordials;
  const node = (internals.node ??= { __proto__: null });
  const errors = internals.nodeErrors;
  const kCapture = Symbol("kCapture");
  const errorMonitor = Symbol("events.errorMonitor");
  let defaultMaxListeners = 10;

  function checkListener(listener) {
    if (typeof listener !== "function") throw errors.invalidArgType("listener", "of type function", listener);
  }

  function EventEmitter(opts) {
    EventEmitter.init.call(this, opts);
  }
  EventEmitter.prototype._events = undefined;
  EventEmitter.prototype._eventsCount = 0;
  EventEmitter.prototype._maxListeners = undefined;
  EventEmitter.init = function (opts) {
    if (this._events === undefined || this._events === ObjectGetPrototypeOf(this)._events) {
      this._events = ObjectCreate(null);
      this._eventsCount = 0;
    }
    this._maxListeners = this._maxListeners || undefined;
    if (opts?.captureRejections) this[kCapture] = true;
    else if (this[kCapture] === undefined) this[kCapture] = false;
  };
  ObjectDefineProperty(EventEmitter, "defaultMaxListeners", {
    __proto__: null,
    enumerable: true,
    get: () => defaultMaxListeners,
    set(n) {
      if (typeof n !== "number" || n < 0 || NumberIsNaN(n)) {
        throw errors.outOfRange("defaultMaxListeners", "a non-negative number", n);
      }
      defaultMaxListeners = n;
    },
  });
  EventEmitter.errorMonitor = errorMonitor;
  EventEmitter.captureRejectionSymbol = SymbolFor("nodejs.rejection");
  ObjectDefineProperty(EventEmitter, "captureRejections", { __proto__: null, value: false, writable: true, enumerable: true });

  const P = EventEmitter.prototype;
  P.setMaxListeners = function setMaxListeners(n) {
    if (typeof n !== "number" || n < 0 || NumberIsNaN(n)) throw errors.outOfRange("n", "a non-negative number", n);
    this._maxListeners = n;
    return this;
  };
  function maxListeners(that) {
    return that._maxListeners === undefined ? defaultMaxListeners : that._maxListeners;
  }
  P.getMaxListeners = function getMaxListeners() {
    return maxListeners(this);
  };

  P.emit = function emit(type, ...args) {
    const events = this._events;
    if (type === "error" && events !== undefined && events[errorMonitor] !== undefined) {
      this.emit(errorMonitor, ...args);
    }
    const handler = events === undefined ? undefined : events[type];
    if (handler === undefined) {
      if (type === "error") {
        const er = args[0];
        if (er instanceof Error) throw er;
        const err = errors.nodeError(Error, "ERR_UNHANDLED_ERROR", `Unhandled error. (${internals.inspect(er)})`);
        err.context = er;
        throw err;
      }
      return false;
    }
    if (typeof handler === "function") {
      ReflectApply(handler, this, args);
    } else {
      const listeners = handler.slice();
      for (let i = 0; i < listeners.length; i++) ReflectApply(listeners[i], this, args);
    }
    return true;
  };

  function addListener(target, type, listener, prepend) {
    checkListener(listener);
    let events = target._events;
    if (events === undefined) {
      events = target._events = ObjectCreate(null);
      target._eventsCount = 0;
    } else if (events.newListener !== undefined) {
      target.emit("newListener", type, listener.listener ?? listener);
      events = target._events;
    }
    const existing = events[type];
    if (existing === undefined) {
      events[type] = listener;
      target._eventsCount++;
      return target;
    }
    let list;
    if (typeof existing === "function") {
      list = events[type] = prepend ? [listener, existing] : [existing, listener];
    } else {
      list = existing;
      if (prepend) list.unshift(listener);
      else list.push(listener);
    }
    const m = maxListeners(target);
    if (m > 0 && list.length > m && !list.warned) {
      list.warned = true;
      const name = target.constructor?.name || "EventEmitter";
      console.warn(
        `(node) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. ${list.length} ` +
          `${String(type)} listeners added to [${name}]. MaxListeners is ${m}. ` +
          "Use emitter.setMaxListeners() to increase limit",
      );
    }
    return target;
  }
  P.addListener = function addListener_(type, listener) {
    return addListener(this, type, listener, false);
  };
  P.on = P.addListener;
  P.prependListener = function prependListener(type, listener) {
    return addListener(this, type, listener, true);
  };
  function onceWrapper(target, type, listener) {
    const state = { fired: false, target, type, listener };
    const wrapped = function (...args) {
      if (!state.fired) {
        state.target.removeListener(state.type, wrapped);
        state.fired = true;
        return ReflectApply(state.listener, state.target, args);
      }
    };
    wrapped.listener = listener;
    return wrapped;
  }
  P.once = function once(type, listener) {
    checkListener(listener);
    this.on(type, onceWrapper(this, type, listener));
    return this;
  };
  P.prependOnceListener = function prependOnceListener(type, listener) {
    checkListener(listener);
    this.prependListener(type, onceWrapper(this, type, listener));
    return this;
  };
  P.removeListener = function removeListener(type, listener) {
    checkListener(listener);
    const events = this._events;
    if (events === undefined) return this;
    const list = events[type];
    if (list === undefined) return this;
    if (list === listener || list.listener === listener) {
      this._eventsCount--;
      if (this._eventsCount === 0) this._events = ObjectCreate(null);
      else delete events[type];
      if (events.removeListener !== undefined) this.emit("removeListener", type, list.listener || listener);
    } else if (typeof list !== "function") {
      let position = -1;
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i] === listener || list[i].listener === listener) {
          position = i;
          break;
        }
      }
      if (position < 0) return this;
      const removed = list[position];
      list.splice(position, 1);
      if (list.length === 1) events[type] = list[0];
      if (events.removeListener !== undefined) this.emit("removeListener", type, removed.listener || listener);
    }
    return this;
  };
  P.off = P.removeListener;
  P.removeAllListeners = function removeAllListeners(type) {
    const events = this._events;
    if (events === undefined) return this;
    if (events.removeListener === undefined) {
      if (arguments.length === 0) {
        this._events = ObjectCreate(null);
        this._eventsCount = 0;
      } else if (events[type] !== undefined) {
        if (--this._eventsCount === 0) this._events = ObjectCreate(null);
        else delete events[type];
      }
      return this;
    }
    if (arguments.length === 0) {
      for (const key of ReflectOwnKeys(events)) {
        if (key === "removeListener") continue;
        this.removeAllListeners(key);
      }
      this.removeAllListeners("removeListener");
      this._events = ObjectCreate(null);
      this._eventsCount = 0;
      return this;
    }
    const listeners = events[type];
    if (typeof listeners === "function") this.removeListener(type, listeners);
    else if (listeners !== undefined) {
      for (let i = listeners.length - 1; i >= 0; i--) this.removeListener(type, listeners[i]);
    }
    return this;
  };
  function listenersOf(target, type, unwrap) {
    const list = target._events?.[type];
    if (list === undefined) return [];
    if (typeof list === "function") return unwrap ? [list.listener || list] : [list];
    return unwrap ? list.map((l) => l.listener || l) : list.slice();
  }
  P.listeners = function listeners(type) {
    return listenersOf(this, type, true);
  };
  P.rawListeners = function rawListeners(type) {
    return listenersOf(this, type, false);
  };
  P.listenerCount = function listenerCount(type, listener) {
    const list = this._events?.[type];
    if (list === undefined) return 0;
    if (typeof list === "function") {
      return listener == null || list === listener || list.listener === listener ? 1 : 0;
    }
    if (listener == null) return list.length;
    return list.filter((l) => l === listener || l.listener === listener).length;
  };
  P.eventNames = function eventNames() {
    return this._eventsCount > 0 ? ReflectOwnKeys(this._events) : [];
  };
  EventEmitter.listenerCount = (emitter, type) => emitter.listenerCount(type);

  function abortError(signal) {
    const e = new DOMException("The operation was aborted", "AbortError");
    if (signal?.reason !== undefined) e.cause = signal.reason;
    return e;
  }
  // once(emitter, name[, {signal}]) -> a promise of the event's arguments;
  // rejects on 'error' (unless waiting for 'error') or abort.
  function once(emitter, name, options = {}) {
    const signal = options?.signal;
    if (signal?.aborted) return PromiseReject(abortError(signal));
    return new Promise((resolve, reject) => {
      if (typeof emitter.addEventListener === "function" && typeof emitter.on !== "function") {
        const listener = (...args) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(args);
        };
        const onAbort = () => {
          emitter.removeEventListener(name, listener);
          reject(abortError(signal));
        };
        emitter.addEventListener(name, listener, { once: true });
        signal?.addEventListener("abort", onAbort, { once: true });
        return;
      }
      const onError = (err) => {
        emitter.removeListener(name, resolver);
        signal?.removeEventListener("abort", onAbort);
        reject(err);
      };
      const resolver = (...args) => {
        if (name !== "error") emitter.removeListener("error", onError);
        signal?.removeEventListener("abort", onAbort);
        resolve(args);
      };
      const onAbort = () => {
        emitter.removeListener(name, resolver);
        emitter.removeListener("error", onError);
        reject(abortError(signal));
      };
      emitter.once(name, resolver);
      if (name !== "error") emitter.once("error", onError);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
  // on(emitter, name) -> an async iterator of the event's arguments.
  function on(emitter, name, options = {}) {
    const signal = options?.signal;
    const queue = [];
    const waiting = [];
    let error = null;
    let done = false;
    const push = (...args) => {
      if (waiting.length) waiting.shift().resolve({ value: args, done: false });
      else queue.push(args);
    };
    const fail = (err) => {
      done = true;
      if (waiting.length) waiting.shift().reject(err);
      else error = err;
      cleanup();
    };
    const onAbort = () => fail(abortError(signal));
    const cleanup = () => {
      emitter.removeListener(name, push);
      emitter.removeListener("error", fail);
      signal?.removeEventListener("abort", onAbort);
      for (const w of waiting.splice(0)) w.resolve({ value: undefined, done: true });
    };
    emitter.on(name, push);
    if (name !== "error") emitter.on("error", fail);
    signal?.addEventListener("abort", onAbort, { once: true });
    return {
      next() {
        if (queue.length) return PromiseResolve({ value: queue.shift(), done: false });
        if (error) {
          const e = error;
          error = null;
          return PromiseReject(e);
        }
        if (done) return PromiseResolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
      },
      return() {
        done = true;
        cleanup();
        return PromiseResolve({ value: undefined, done: true });
      },
      throw(err) {
        fail(err);
        return PromiseReject(err);
      },
      [SymbolAsyncIterator]() {
        return this;
      },
    };
  }
  function getEventListeners(emitter, name) {
    if (typeof emitter.listeners === "function") return emitter.listeners(name);
    return [];
  }
  function setMaxListeners(n = defaultMaxListeners, ...targets) {
    if (targets.length === 0) defaultMaxListeners = n;
    for (const t of targets) if (typeof t.setMaxListeners === "function") t.setMaxListeners(n);
  }

  EventEmitter.EventEmitter = EventEmitter;
  EventEmitter.once = once;
  EventEmitter.on = on;
  EventEmitter.getEventListeners = getEventListeners;
  EventEmitter.setMaxListeners = setMaxListeners;
  EventEmitter.usingDomains = false;
  internals.EventEmitter = EventEmitter;

  // `import EventEmitter from "node:events"` is the class itself, as in
  // Node.js; its named exports are the class's static properties.
  ObjectAssign(EventEmitter, {
    listenerCount: EventEmitter.listenerCount,
    EventTarget: globalThis.EventTarget,
    Event: globalThis.Event,
  });
  internals.node.events = EventEmitter;
})
