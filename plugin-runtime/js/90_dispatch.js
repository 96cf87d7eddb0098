"use strict";
// The entry points Rust calls: checking a module's default export at load,
// and running its fetch handler for one request.
((globalThis, internals) => {
  const ops = internals.ops;

  internals.checkHandler = (handler) => {
    if (handler === undefined) {
      return "the main module has no default export; a worker exports `export default { async fetch(request, env, ctx) { ... } }`";
    }
    if (handler === null || (typeof handler !== "object" && typeof handler !== "function")) {
      return "the default export must be an object with a fetch() handler";
    }
    if (typeof handler.fetch !== "function" && typeof handler.scheduled !== "function") {
      return "the default export has neither a fetch() nor a scheduled() handler";
    }
    return true;
  };

  const ctxState = new WeakMap();
  class ExecutionContext {
    constructor() {
      throw new TypeError("Illegal constructor");
    }
    waitUntil(promise) {
      const s = ctxState.get(this);
      if (!s) throw new TypeError("Illegal invocation");
      s.waits.push(Promise.resolve(promise));
    }
    passThroughOnException() {
      const s = ctxState.get(this);
      if (!s) throw new TypeError("Illegal invocation");
      s.passThrough = true;
    }
    get props() {
      return {};
    }
    get [Symbol.toStringTag]() {
      return "ExecutionContext";
    }
  }
  function makeContext() {
    const ctx = Object.create(ExecutionContext.prototype);
    const s = { waits: [], passThrough: false };
    ctxState.set(ctx, s);
    return [ctx, s];
  }
  internals.makeContext = makeContext;

  internals.dispatchFetch = async (handler, reqId, method, url, headers, rid, env) => {
    const request = internals.makeRequest(method, url, headers, rid, {});
    const isHead = method === "HEAD";
    const [ctx, s] = makeContext();
    try {
      if (typeof handler.fetch !== "function") {
        throw new Error("Handler does not export a fetch() function.");
      }
      const res = await handler.fetch(request, env, ctx);
      const parts = internals.responseParts(res, isHead);
      if (parts === null) {
        throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
      }
      ops.respond(reqId, ...parts);
    } catch (e) {
      let passed = false;
      if (s.passThrough && !internals.requestBodyUsed(request)) {
        try {
          const res = await fetch(request);
          ops.respond(reqId, ...internals.responseParts(res, isHead));
          passed = true;
          internals.reportError(e);
        } catch {
          passed = false;
        }
      }
      if (!passed) ops.respondError(reqId, e);
    }
    // Work the script asked to finish after the response.
    for (const e of await settleWaits(s)) internals.reportError(e);
    ops.requestDone(reqId);
  };

  /** Waits for every waitUntil promise, including ones added meanwhile; the rejections. */
  async function settleWaits(s) {
    const errors = [];
    for (let done = 0; done < s.waits.length; ) {
      const batch = s.waits.slice(done);
      done = s.waits.length;
      for (const r of await Promise.allSettled(batch)) if (r.status === "rejected") errors.push(r.reason);
    }
    return errors;
  }

  const controllerState = new WeakMap();
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
    get [Symbol.toStringTag]() {
      return "ScheduledController";
    }
  }

  internals.dispatchScheduled = async (handler, reqId, cron, scheduledTime, env) => {
    const controller = Object.create(ScheduledController.prototype);
    controllerState.set(controller, { cron, scheduledTime, noRetry: false });
    const [ctx, s] = makeContext();
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
    if (error === null && waitErrors.length) error = waitErrors.shift();
    for (const e of waitErrors) internals.reportError(e);
    if (error !== null) ops.respondError(reqId, error);
    ops.requestDone(reqId);
  };
})
