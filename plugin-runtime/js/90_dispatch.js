"use strict";
// The entry points Rust calls: checking a module's default export at load,
// and running its fetch handler for one request.
((globalThis, internals) => {
  const {
    Error,
    ObjectCreate,
    ObjectDefineProperty,
    ObjectEntries,
    ObjectGetOwnPropertyDescriptor,
    ObjectGetOwnPropertyNames,
    Promise,
    PromiseAllSettled,
    PromiseRace,
    PromiseResolve,
    PromisePrototypeThen,
    ReflectApply,
    SafeMap,
    SafePromiseAllSettled,
    SafePromiseRace,
    SafePromiseResolve,
    ArrayAppend,
    ArrayPrototypeSlice,
    ArrayPrototypeShift,
    SafeWeakMap,
    PrivateSlot,
    ObjectSetPrototypeOf,
    String,
    SymbolToStringTag,
    TypeError,
  } = internals.primordials;
  const ops = internals.ops;
  const defineGlobal = internals.defineGlobal;

  // ---- workerd's shape for the Web API classes ----------------------------
  // As workerd (jsg) has them: every prototype member enumerable, and
  // constructors and global functions with length 0 (setTimeout keeps 2).
  // (The stream classes and Blob, File and FormData, loaded on first use,
  // are shaped by their files with `internals.webClassShape` as they load.)
  const API_CLASSES = [
    "Headers", "Request", "Response", "URL", "URLSearchParams", "TextEncoder", "TextDecoder",
    "AbortController", "AbortSignal", "Event", "EventTarget", "CustomEvent", "DOMException",
  ];
  // Runs after scripts too (lazily loaded files): no iteration protocol.
  const webClassShape = (C) => {
    ObjectDefineProperty(C, "length", { __proto__: null, value: 0, configurable: true });
    const proto = C.prototype;
    const keys = ObjectGetOwnPropertyNames(proto);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key === "constructor") continue;
      const d = ObjectGetOwnPropertyDescriptor(proto, key);
      if (d.configurable && !d.enumerable) ObjectDefineProperty(proto, key, { __proto__: null, enumerable: true });
    }
  };
  internals.webClassShape = webClassShape;
  for (const name of API_CLASSES) {
    const C = globalThis[name];
    if (typeof C === "function") webClassShape(C);
  }
  const FN_LENGTHS = {
    fetch: 0, atob: 0, btoa: 0, structuredClone: 0, queueMicrotask: 0,
    setTimeout: 2, setInterval: 2, clearTimeout: 1, clearInterval: 1,
  };
  for (const [name, length] of ObjectEntries(FN_LENGTHS)) {
    if (typeof globalThis[name] === "function") ObjectDefineProperty(globalThis[name], "length", { __proto__: null, value: length, configurable: true });
  }
  ObjectDefineProperty(globalThis, SymbolToStringTag, { __proto__: null, value: "ServiceWorkerGlobalScope", configurable: true });

  // ---- service-worker syntax: addEventListener("fetch" | "scheduled") ----
  const events = internals.events;
  const EventTargetProto = events.EventTarget.prototype;
  const addEventListenerImpl = EventTargetProto.addEventListener;
  const removeEventListenerImpl = EventTargetProto.removeEventListener;
  const dispatchEventImpl = EventTargetProto.dispatchEvent;
  // A context restored from the startup snapshot has a new global proxy
  // (a WeakMap keyed by the old one no longer finds it): the global becomes
  // an event target per isolate, after the restore.
  internals.onWorkerInit((() => events.initEventTarget(globalThis)));
  const swTypes = new SafeMap(); // type -> count of listeners added
  const wrapped = new SafeWeakMap(); // listener -> wrapper that records exceptions
  const eventState = new SafeWeakMap();

  function wrap(listener) {
    if (typeof listener !== "function" && !(listener && typeof listener.handleEvent === "function")) return listener;
    let w = wrapped.get(listener);
    if (!w) {
      w = function (event) {
        try {
          return typeof listener === "function" ? ReflectApply(listener, this, [event]) : listener.handleEvent(event);
        } catch (e) {
          const s = eventState.get(event);
          if (s && s.error === undefined) s.error = e;
          else throw e;
        }
      };
      wrapped.set(listener, w);
    }
    return w;
  }
  defineGlobal("addEventListener", function addEventListener(type, listener, options) {
    type = String(type);
    swTypes.set(type, (swTypes.get(type) || 0) + 1);
    return ReflectApply(addEventListenerImpl, globalThis, [type, wrap(listener), options]);
  });
  defineGlobal("removeEventListener", function removeEventListener(type, listener, options) {
    return ReflectApply(removeEventListenerImpl, globalThis, [type, (listener && wrapped.get(listener)) || listener, options]);
  });
  defineGlobal("dispatchEvent", function dispatchEvent(event) {
    return ReflectApply(dispatchEventImpl, globalThis, [event]);
  });

  // ---- unhandled rejections (workerd: PromiseRejectionEvent on the global) ----
  const rejectionState = new SafeWeakMap();
  class PromiseRejectionEvent extends events.Event {
    constructor(type, init = undefined) {
      if (arguments.length < 2) {
        throw new TypeError(`Failed to construct 'PromiseRejectionEvent': 2 arguments required, but only ${arguments.length} present.`);
      }
      super(type, init);
      if (init === null || typeof init !== "object" || !("promise" in init)) {
        throw new TypeError("Failed to construct 'PromiseRejectionEvent': required member promise is undefined.");
      }
      rejectionState.set(this, { __proto__: null, promise: init.promise, reason: init.reason });
    }
    get promise() {
      const s = rejectionState.get(this);
      if (!s) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
      return s.promise;
    }
    get reason() {
      const s = rejectionState.get(this);
      if (!s) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
      return s.reason;
    }
    get [SymbolToStringTag]() {
      return "PromiseRejectionEvent";
    }
  }
  defineGlobal("PromiseRejectionEvent", PromiseRejectionEvent);
  // Rust calls this for each promise still rejected without a handler once
  // the microtask queue has drained; true means "log it".
  internals.unhandledRejection = (promise, reason) => {
    if (!swTypes.get("unhandledrejection")) return true;
    const event = new PromiseRejectionEvent("unhandledrejection", { cancelable: true, promise, reason });
    ReflectApply(dispatchEventImpl, globalThis, [event]);
    return !event.defaultPrevented;
  };

  class FetchEvent extends events.Event {
    constructor(type, init = {}) {
      super(type, init);
      eventState.set(this, { __proto__: null, request: init.request, response: undefined, ctx: null, error: undefined });
    }
    get request() {
      return eventState.get(this).request;
    }
    respondWith(response) {
      const s = eventState.get(this);
      if (s.response !== undefined) throw new DOMException("FetchEvent.respondWith() has already been called; it can only be called once.", "InvalidStateError");
      s.response = SafePromiseResolve(response);
    }
    waitUntil(promise) {
      const s = eventState.get(this);
      if (s.ctx) s.ctx.waitUntil(promise);
    }
    passThroughOnException() {
      const s = eventState.get(this);
      if (s.ctx) s.ctx.passThroughOnException();
    }
    get [SymbolToStringTag]() {
      return "FetchEvent";
    }
  }
  defineGlobal("FetchEvent", FetchEvent);

  class ScheduledEvent extends events.Event {
    constructor(type, init = {}) {
      super(type, init);
      eventState.set(this, { __proto__: null, controller: init.controller, ctx: null, error: undefined });
    }
    get cron() {
      return eventState.get(this).controller.cron;
    }
    get scheduledTime() {
      return eventState.get(this).controller.scheduledTime;
    }
    noRetry() {
      eventState.get(this).controller.noRetry();
    }
    waitUntil(promise) {
      const s = eventState.get(this);
      if (s.ctx) s.ctx.waitUntil(promise);
    }
    get [SymbolToStringTag]() {
      return "ScheduledEvent";
    }
  }
  defineGlobal("ScheduledEvent", ScheduledEvent);

  let bindingsInstalled = false;
  function installBindings(env) {
    // Service-worker scripts see their bindings as globals.
    if (bindingsInstalled) return;
    bindingsInstalled = true;
    const entries = ObjectEntries(env);
    for (let i = 0; i < entries.length; i++) {
      const k = entries[i][0];
      if (!(k in globalThis)) defineGlobal(k, entries[i][1]);
    }
  }

  const serviceWorkerHandler = {
    async fetch(request, env, ctx) {
      installBindings(env);
      if (!swTypes.get("fetch")) throw new Error("No fetch event listener was registered.");
      const event = new FetchEvent("fetch", { __proto__: null, request });
      const s = eventState.get(event);
      s.ctx = ctx;
      events.dispatchEvent(globalThis, event);
      if (s.error !== undefined) throw s.error;
      // No respondWith(): the request goes on to the origin, as on Workers.
      return s.response !== undefined ? s.response : fetch(request);
    },
    async scheduled(controller, env, ctx) {
      installBindings(env);
      if (!swTypes.get("scheduled")) throw new Error("No scheduled event listener was registered.");
      const event = new ScheduledEvent("scheduled", { __proto__: null, controller });
      const s = eventState.get(event);
      s.ctx = ctx;
      events.dispatchEvent(globalThis, event);
      if (s.error !== undefined) throw s.error;
    },
  };

  /** The handler object Rust calls, or a string saying what is wrong. */
  internals.checkHandler = ((handler) => {
    if (handler === undefined) {
      if (swTypes.get("fetch") || swTypes.get("scheduled")) return serviceWorkerHandler;
      return "the main module has no default export; a worker exports `export default { async fetch(request, env, ctx) { ... } }` (or registers addEventListener(\"fetch\", ...))";
    }
    if (handler === null || (typeof handler !== "object" && typeof handler !== "function")) {
      return "the default export must be an object with a fetch() handler";
    }
    if (typeof handler.fetch !== "function" && typeof handler.scheduled !== "function") {
      return "the default export has neither a fetch() nor a scheduled() handler";
    }
    return handler;
  });

  const ctxState = PrivateSlot();
  class ExecutionContext {
    constructor() {
      throw new TypeError("Illegal constructor");
    }
    waitUntil(promise) {
      const s = ctxState.get(this);
      if (!s) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
      ArrayAppend(s.waits, SafePromiseResolve(promise));
    }
    passThroughOnException() {
      const s = ctxState.get(this);
      if (!s) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
      s.passThrough = true;
    }
    get props() {
      return {};
    }
    get [SymbolToStringTag]() {
      return "ExecutionContext";
    }
  }
  /** A handler invocation's ExecutionContext state (a fixed-shape record). */
  class CtxRecord {
    waits = [];
    passThrough = false;
    ctx;
    constructor(ctx) {
      this.ctx = ctx;
    }
  }
  ObjectSetPrototypeOf(CtxRecord.prototype, null);
  function makeContext() {
    const ctx = ObjectCreate(ExecutionContext.prototype);
    const s = new CtxRecord(ctx);
    ctxState.set(ctx, s);
    return s;
  }
  internals.makeContext = makeContext;

  internals.dispatchFetch = async (handler, reqId, method, url, headers, rid, env, cf) => {
    const request = internals.makeRequest(method, url, headers, rid, cf);
    const isHead = method === "HEAD";
    const s = makeContext();
    const ctx = s.ctx;
    try {
      if (typeof handler.fetch !== "function") {
        throw new Error("Handler does not export a fetch() function.");
      }
      const res = await handler.fetch(request, env, ctx);
      const parts = internals.responseParts(res, isHead);
      if (parts === null) {
        throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
      }
      ops.respond(reqId, parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]);
    } catch (e) {
      let passed = false;
      if (s.passThrough) {
        try {
          const res = await fetch(internals.passThroughRequest(request));
          const parts = internals.responseParts(res, isHead);
          if (parts === null) throw new TypeError("not a Response");
          ops.respond(reqId, parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]);
          passed = true;
          internals.reportError(e);
        } catch {
          passed = false;
        }
      }
      if (!passed) ops.respondError(reqId, e);
    }
    // Work the script asked to finish after the response.
    const waitErrors = await settleWaits(s);
    for (let i = 0; i < waitErrors.length; i++) internals.reportError(waitErrors[i]);
    // A WebSocket the script accepted keeps its request until it closes
    // (none before 31_websocket.js has loaded; the await stays, one tick).
    const sockets = internals.webSocket;
    await (sockets === undefined ? undefined : sockets.settled(reqId));
    ops.requestDone(reqId);
  };

  /** As on Workers, waitUntil work may run this long after the response. */
  const WAIT_UNTIL_MS = 30000;

  /**
   * Waits for every waitUntil promise, including ones added meanwhile, for
   * at most WAIT_UNTIL_MS; answers the rejections.
   */
  async function settleWaits(s) {
    const errors = [];
    if (s.waits.length === 0) return errors;
    let timedOut = false;
    const deadline = PromisePrototypeThen(internals.sleep(WAIT_UNTIL_MS), () => {
      timedOut = true;
    });
    for (let done = 0; done < s.waits.length && !timedOut; ) {
      const batch = ArrayPrototypeSlice(s.waits, done);
      done = s.waits.length;
      const settled = PromisePrototypeThen(SafePromiseAllSettled(batch), (results) => {
        for (let i = 0; i < results.length; i++) if (results[i].status === "rejected") ArrayAppend(errors, results[i].reason);
      });
      await SafePromiseRace([settled, deadline]);
    }
    if (timedOut) {
      internals.reportError(new Error(`waitUntil() work was cancelled ${WAIT_UNTIL_MS / 1000} s after the response.`));
    }
    return errors;
  }

  const controllerState = new SafeWeakMap();
  class ScheduledController {
    constructor() {
      throw new TypeError("Illegal constructor");
    }
    get cron() {
      return controllerState.get(this).cron;
    }
    get scheduledTime() {
      return controllerState.get(this).scheduledTime;
    }
    noRetry() {
      controllerState.get(this).noRetry = true;
    }
    get [SymbolToStringTag]() {
      return "ScheduledController";
    }
  }

  internals.dispatchScheduled = async (handler, reqId, cron, scheduledTime, env) => {
    const controller = ObjectCreate(ScheduledController.prototype);
    controllerState.set(controller, { __proto__: null, cron, scheduledTime, noRetry: false });
    const s = makeContext();
    const ctx = s.ctx;
    let error = null;
    try {
      if (typeof handler.scheduled !== "function") {
        throw new Error("Handler does not export a scheduled() function.");
      }
      await handler.scheduled(controller, env, ctx);
    } catch (e) {
      error = e;
    }
    const waitErrors = await settleWaits(s);
    if (error === null && waitErrors.length) error = ArrayPrototypeShift(waitErrors);
    for (let i = 0; i < waitErrors.length; i++) internals.reportError(waitErrors[i]);
    if (error !== null) ops.respondError(reqId, error);
    ops.requestDone(reqId);
  };
})
