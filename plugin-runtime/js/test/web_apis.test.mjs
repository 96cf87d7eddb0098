// Tests for 10_webidl_events.js, 11_headers.js, 12_url.js, 13_encoding.js.
// Run: node --test plugin-runtime/js/test/web_apis.test.mjs
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import vm from "node:vm";
import { fileURLToPath } from "node:url";
import { components, defineGlobalOn, runFiles, webOps } from "./stub_ops.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const FILES = ["10_webidl_events.js", "11_headers.js", "12_url.js", "13_encoding.js"];


// A fresh V8 context with the four files loaded, ops stubbed with Node's
// own URL / TextEncoder / TextDecoder.
function load({ setTimeout: st = setTimeout, pre = "" } = {}) {
  const ctx = vm.createContext({});
  vm.runInContext(pre, ctx);
  const g = vm.runInContext("globalThis", ctx);
  g.setTimeout = st;
  const reported = [];
  const ops = webOps(g);
  const internals = {
    ops,
    reportError: (e) => reported.push(e),
    defineGlobal: defineGlobalOn(g),
    defineGlobal(name, value) {
      Object.defineProperty(g, name, {
        value, writable: true, configurable: true, enumerable: false,
      });
    },
  };
  runFiles(ctx, g, internals, FILES);
  const run = (code) => vm.runInContext(code, ctx);
  return { g, internals, reported, run, ctx };
}

// Values from the context realm have other Array/Object prototypes; turn
// arrays and plain objects into this realm's before deep comparisons.
function norm(v) {
  if (Array.isArray(v)) return Array.from(v, norm);
  if (v !== null && typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto === null || proto.constructor?.name === "Object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
    }
  }
  return v;
}
const _deepEqual = assert.deepEqual;
assert.deepEqual = (actual, expected, message) => _deepEqual(norm(actual), norm(expected), message);

// Errors come from the context's realm; compare by name / constructor name.
function throwsKind(fn, name, message) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `expected ${name} to be thrown`);
  assert.equal(err.name, name, `got ${err && err.name}: ${err && err.message}`);
  if (message !== undefined) {
    if (message instanceof RegExp) assert.match(err.message, message);
    else assert.equal(err.message, message);
  }
  return err;
}

const E = load();
const { g } = E;

// ---------------------------------------------------------------------------
describe("globals and file format", () => {
  test("all globals defined, non-enumerable", () => {
    for (const name of ["DOMException", "Event", "EventTarget", "CustomEvent", "AbortController",
      "AbortSignal", "atob", "btoa", "Headers", "URL", "URLSearchParams", "TextEncoder",
      "TextDecoder"]) {
      const d = Object.getOwnPropertyDescriptor(g, name);
      assert.ok(d, name);
      assert.equal(d.enumerable, false);
      assert.equal(d.writable, true);
      assert.equal(d.configurable, true);
    }
  });

  test("toStringTags", () => {
    assert.equal(E.run("Object.prototype.toString.call(new Headers())"), "[object Headers]");
    assert.equal(E.run("Object.prototype.toString.call(new URL('http://a'))"), "[object URL]");
    assert.equal(E.run("Object.prototype.toString.call(new URLSearchParams())"), "[object URLSearchParams]");
    assert.equal(E.run("Object.prototype.toString.call(new Headers().entries())"), "[object EntryIterator]");
    assert.equal(E.run("Object.prototype.toString.call(new URLSearchParams().keys())"), "[object KeyIterator]");
    assert.equal(E.run("Object.prototype.toString.call(new DOMException())"), "[object DOMException]");
    assert.equal(E.run("Object.prototype.toString.call(new AbortController().signal)"), "[object AbortSignal]");
    assert.equal(E.run("Object.prototype.toString.call(new TextDecoder())"), "[object TextDecoder]");
  });

  test("iterator prototype chain", () => {
    assert.equal(E.run(`
      const it = new Headers()[Symbol.iterator]();
      // it -> EntryIterator.prototype (workerd's class per kind) -> %IteratorPrototype%
      Object.getPrototypeOf(Object.getPrototypeOf(it)) ===
        Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()))`), true);
    assert.equal(E.run("Headers.prototype[Symbol.iterator] === Headers.prototype.entries"), false);
    assert.equal(E.run("Object.getPrototypeOf(new Headers().keys()) === Object.getPrototypeOf(new Headers().entries())"), false);
  });

  test("prototype members are enumerable, lengths as Web IDL", () => {
    assert.equal(E.run("Object.keys(Headers.prototype).includes('append')"), true);
    assert.equal(E.run("Object.keys(URL.prototype).includes('href')"), true);
    assert.equal(g.Headers.prototype.append.length, 2);
    assert.equal(g.Headers.prototype.forEach.length, 1);
    assert.equal(g.URLSearchParams.prototype.delete.length, 1);
    assert.equal(g.URL.length, 1);
    assert.equal(g.EventTarget.prototype.addEventListener.length, 2);
    assert.equal(g.TextDecoder.length, 0);
    assert.equal(g.atob.length, 1);
    assert.equal(g.DOMException.length, 0);
  });

  test("iterator next() brand check", () => {
    throwsKind(() => E.run("new Headers().keys().next.call({})"), "TypeError", "Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
  });

  test("brand checks", () => {
    throwsKind(() => E.run("Headers.prototype.get.call({}, 'a')"), "TypeError", "Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    throwsKind(() => E.run("Object.getOwnPropertyDescriptor(URL.prototype, 'href').get.call({})"), "TypeError");
    throwsKind(() => E.run("new AbortSignal()"), "TypeError", "Illegal constructor");
    throwsKind(() => E.run("Event.prototype.preventDefault.call(Object.create(Event.prototype))"), "TypeError");
  });
});

// ---------------------------------------------------------------------------
describe("DOMException", () => {
  test("name, message, code, instanceof Error", () => {
    const e = new g.DOMException("boom", "AbortError");
    assert.equal(e.name, "AbortError");
    assert.equal(e.message, "boom");
    assert.equal(e.code, 20);
    assert.ok(e instanceof g.Error);
    assert.ok(e instanceof g.DOMException);
    assert.equal(String(e), "AbortError: boom");
    assert.equal(typeof e.stack, "string");
    assert.match(e.stack, /AbortError: boom/);
  });

  test("defaults and unknown names", () => {
    const e = new g.DOMException();
    assert.equal(e.name, "Error");
    assert.equal(e.message, "");
    assert.equal(e.code, 0);
    assert.equal(new g.DOMException("x", "Whatever").code, 0);
    assert.equal(new g.DOMException("x", "ValidationError").code, 0);
  });

  test("legacy code table", () => {
    const table = {
      IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4,
      InvalidCharacterError: 5, NoModificationAllowedError: 7, NotFoundError: 8,
      NotSupportedError: 9, InUseAttributeError: 10, InvalidStateError: 11, SyntaxError: 12,
      InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15,
      TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20,
      URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24,
      DataCloneError: 25, EncodingError: 0, NotReadableError: 0, DataError: 0,
    };
    for (const [name, code] of Object.entries(table)) {
      assert.equal(new g.DOMException("", name).code, code, name);
      assert.equal(new DOMException("", name).code, code, `node agrees on ${name}`);
    }
  });

  test("constants on constructor and prototype", () => {
    assert.equal(g.DOMException.ABORT_ERR, 20);
    assert.equal(g.DOMException.prototype.TIMEOUT_ERR, 23);
    assert.equal(g.DOMException.INDEX_SIZE_ERR, 1);
    assert.equal(g.DOMException.DATA_CLONE_ERR, 25);
    assert.equal(new g.DOMException().VALIDATION_ERR, 16);
    const d = Object.getOwnPropertyDescriptor(g.DOMException, "ABORT_ERR");
    assert.equal(d.writable, false);
    assert.equal(d.configurable, false);
  });

  test("makeDOMException hook", () => {
    const e = E.internals.makeDOMException("m", "NotFoundError");
    assert.ok(e instanceof g.DOMException);
    assert.equal(e.code, 8);
  });
});

// ---------------------------------------------------------------------------
describe("Event / EventTarget", () => {
  test("Event basics", () => {
    const e = new g.Event("foo", { bubbles: true, cancelable: true });
    assert.equal(e.type, "foo");
    assert.equal(e.bubbles, true);
    assert.equal(e.cancelable, true);
    assert.equal(e.composed, false);
    assert.equal(e.eventPhase, 0);
    assert.equal(e.target, null);
    assert.equal(e.isTrusted, false);
    assert.equal(e.defaultPrevented, false);
    e.preventDefault();
    assert.equal(e.defaultPrevented, true);
    assert.equal(e.returnValue, false);
    const f = new g.Event("x");
    f.preventDefault();
    assert.equal(f.defaultPrevented, false, "not cancelable");
    throwsKind(() => new g.Event(), "TypeError",
      "Failed to construct 'Event': constructor parameter 1 is not of type 'string'.");
    assert.equal(g.Event.AT_TARGET, 2);
    assert.equal(g.Event.prototype.BUBBLING_PHASE, 3);
  });

  test("dispatch order, this, currentTarget, return value", () => {
    const t = new g.EventTarget();
    const log = [];
    t.addEventListener("x", function (e) {
      log.push(["a", this === t, e.currentTarget === t, e.target === t, e.eventPhase]);
    });
    t.addEventListener("x", () => log.push(["b"]));
    t.addEventListener("x", { handleEvent(e) { log.push(["c", this !== t]); e.preventDefault(); } });
    t.addEventListener("x", () => log.push(["capture"]), true);
    t.addEventListener("y", () => log.push(["y"]));
    const ev = new g.Event("x", { cancelable: true });
    const r = t.dispatchEvent(ev);
    assert.deepEqual(log, [["capture"], ["a", true, true, true, 2], ["b"], ["c", true]]);
    assert.equal(r, false);
    assert.equal(ev.eventPhase, 0);
    assert.equal(ev.currentTarget, null);
    assert.equal(ev.target, t);
  });

  test("duplicate listeners are ignored; capture distinguishes", () => {
    const t = new g.EventTarget();
    let n = 0;
    const f = () => n++;
    t.addEventListener("x", f);
    t.addEventListener("x", f);
    t.addEventListener("x", f, { capture: false });
    t.addEventListener("x", f, { capture: true });
    t.dispatchEvent(new g.Event("x"));
    assert.equal(n, 2);
    t.removeEventListener("x", f, true);
    t.dispatchEvent(new g.Event("x"));
    assert.equal(n, 3);
    t.removeEventListener("x", f);
    t.dispatchEvent(new g.Event("x"));
    assert.equal(n, 3);
  });

  test("once", () => {
    const t = new g.EventTarget();
    let n = 0;
    t.addEventListener("x", () => n++, { once: true });
    t.dispatchEvent(new g.Event("x"));
    t.dispatchEvent(new g.Event("x"));
    assert.equal(n, 1);
  });

  test("once listener re-dispatch within itself runs once", () => {
    const t = new g.EventTarget();
    let n = 0;
    t.addEventListener("x", () => {
      n++;
      if (n < 5) t.dispatchEvent(new g.Event("x"));
    }, { once: true });
    t.dispatchEvent(new g.Event("x"));
    assert.equal(n, 1);
  });

  test("removing a later listener during dispatch skips it; adding doesn't run it", () => {
    const t = new g.EventTarget();
    const log = [];
    const b = () => log.push("b");
    const c = () => log.push("c");
    t.addEventListener("x", () => {
      log.push("a");
      t.removeEventListener("x", b);
      t.addEventListener("x", c);
    });
    t.addEventListener("x", b);
    t.dispatchEvent(new g.Event("x"));
    assert.deepEqual(log, ["a"]);
    t.dispatchEvent(new g.Event("x"));
    assert.deepEqual(log, ["a", "a", "c"]);
  });

  test("stopImmediatePropagation", () => {
    const t = new g.EventTarget();
    const log = [];
    t.addEventListener("x", (e) => { log.push(1); e.stopImmediatePropagation(); });
    t.addEventListener("x", () => log.push(2));
    t.dispatchEvent(new g.Event("x"));
    assert.deepEqual(log, [1]);
    // flags are cleared after dispatch, so a re-dispatch works again
    const e = new g.Event("x");
    t.dispatchEvent(e);
    assert.deepEqual(log, [1, 1]);
  });

  test("stopPropagation in a capture listener skips non-capture ones at target", () => {
    const t = new g.EventTarget();
    const log = [];
    t.addEventListener("x", (e) => { log.push("cap1"); e.stopPropagation(); }, true);
    t.addEventListener("x", () => log.push("cap2"), true);
    t.addEventListener("x", () => log.push("bubble"));
    t.dispatchEvent(new g.Event("x"));
    assert.deepEqual(log, ["cap1", "cap2"]);
    const e = new g.Event("x");
    e.stopPropagation();
    t.dispatchEvent(e);
    assert.deepEqual(log, ["cap1", "cap2"]);
  });

  test("passive listeners can't preventDefault", () => {
    const t = new g.EventTarget();
    t.addEventListener("x", (e) => e.preventDefault(), { passive: true });
    const e = new g.Event("x", { cancelable: true });
    assert.equal(t.dispatchEvent(e), true);
    assert.equal(e.defaultPrevented, false);
  });

  test("signal removes listeners; aborted signal prevents adding", () => {
    const t = new g.EventTarget();
    const ac = new g.AbortController();
    let n = 0;
    t.addEventListener("x", () => n++, { signal: ac.signal });
    t.dispatchEvent(new g.Event("x"));
    ac.abort();
    t.dispatchEvent(new g.Event("x"));
    assert.equal(n, 1);
    t.addEventListener("x", () => n++, { signal: ac.signal });
    t.dispatchEvent(new g.Event("x"));
    assert.equal(n, 1);
    throwsKind(() => t.addEventListener("x", () => {}, { signal: {} }), "TypeError");
    throwsKind(() => t.addEventListener("x", () => {}, { signal: null }), "TypeError");
  });

  test("listener exceptions are reported and dispatch continues", () => {
    const env = load();
    const t = new env.g.EventTarget();
    const log = [];
    t.addEventListener("x", () => { throw new Error("bad"); });
    t.addEventListener("x", {});
    t.addEventListener("x", () => log.push("after"));
    t.dispatchEvent(new env.g.Event("x"));
    assert.deepEqual(log, ["after"]);
    assert.equal(env.reported.length, 2);
    assert.equal(env.reported[0].message, "bad");
    assert.equal(env.reported[1].name, "TypeError");
  });

  test("handleEvent looked up at dispatch time", () => {
    const t = new g.EventTarget();
    const log = [];
    const obj = { handleEvent: () => log.push(1) };
    t.addEventListener("x", obj);
    obj.handleEvent = () => log.push(2);
    t.dispatchEvent(new g.Event("x"));
    assert.deepEqual(log, [2]);
  });

  test("argument checks", () => {
    const t = new g.EventTarget();
    throwsKind(() => t.addEventListener("x"), "TypeError",
      "Failed to execute 'addEventListener' on 'EventTarget': parameter 2 is not of type 'function or HandlerObject'.");
    t.addEventListener("x", null); // ignored
    throwsKind(() => t.addEventListener("x", 5), "TypeError");
    throwsKind(() => t.dispatchEvent({ type: "x" }), "TypeError");
  });

  test("re-dispatching an event being dispatched throws InvalidStateError", () => {
    const t = new g.EventTarget();
    let err;
    t.addEventListener("x", (e) => {
      try { t.dispatchEvent(e); } catch (x) { err = x; }
    });
    t.dispatchEvent(new g.Event("x"));
    assert.equal(err.name, "InvalidStateError");
    assert.ok(err instanceof g.DOMException);
  });

  test("composedPath", () => {
    const t = new g.EventTarget();
    let path;
    t.addEventListener("x", (e) => { path = e.composedPath(); });
    const e = new g.Event("x");
    t.dispatchEvent(e);
    assert.equal(path.length, 1);
    assert.equal(path[0], t);
    assert.deepEqual(e.composedPath(), []);
  });

  test("subclassing EventTarget and Event", () => {
    const r = E.run(`
      class MyTarget extends EventTarget {}
      class MyEvent extends Event { constructor() { super("m"); this.extra = 1; } }
      const t = new MyTarget();
      let got;
      t.addEventListener("m", (e) => { got = e.extra; });
      t.dispatchEvent(new MyEvent());
      got`);
    assert.equal(r, 1);
  });

  test("CustomEvent", () => {
    const e = new g.CustomEvent("c", { detail: { a: 1 }, cancelable: true });
    assert.deepEqual(e.detail, { a: 1 });
    assert.equal(e.cancelable, true);
    assert.equal(new g.CustomEvent("c").detail, null);
    assert.ok(e instanceof g.Event);
    const t = new g.EventTarget();
    let d;
    t.addEventListener("c", (ev) => { d = ev.detail; });
    t.dispatchEvent(e);
    assert.deepEqual(d, { a: 1 });
  });

  test("initEventTarget hook and unbound calls use the global", () => {
    const env = load();
    env.internals.events.initEventTarget(env.g);
    const r = env.run(`
      globalThis.addEventListener = EventTarget.prototype.addEventListener;
      globalThis.dispatchEvent = EventTarget.prototype.dispatchEvent;
      let n = 0;
      addEventListener("fetch", () => n++);
      dispatchEvent(new Event("fetch"));
      n`);
    assert.equal(r, 1);
  });

  test("fireEvent makes trusted events", () => {
    const t = new g.EventTarget();
    let trusted;
    t.addEventListener("x", (e) => { trusted = e.isTrusted; });
    E.internals.events.fireEvent(t, "x");
    assert.equal(trusted, true);
    t.dispatchEvent(new g.Event("x"));
    assert.equal(trusted, false);
  });
});

// ---------------------------------------------------------------------------
describe("AbortController / AbortSignal", () => {
  test("abort with default reason, event, onabort", () => {
    const ac = new g.AbortController();
    const s = ac.signal;
    assert.equal(ac.signal, s);
    assert.equal(s.aborted, false);
    assert.equal(s.reason, undefined);
    s.throwIfAborted();
    const log = [];
    s.onabort = (e) => log.push(["onabort", e.type, e.isTrusted, s.aborted]);
    s.addEventListener("abort", () => log.push(["listener"]));
    assert.equal(typeof s.onabort, "function");
    ac.abort();
    assert.equal(s.aborted, true);
    assert.ok(s.reason instanceof g.DOMException);
    assert.equal(s.reason.name, "AbortError");
    assert.equal(s.reason.code, 20);
    assert.deepEqual(log, [["onabort", "abort", true, true], ["listener"]]);
    ac.abort("again"); // no-op
    assert.equal(s.reason.name, "AbortError");
    assert.equal(log.length, 2);
    let thrown;
    try { s.throwIfAborted(); } catch (e) { thrown = e; }
    assert.equal(thrown, s.reason);
  });

  test("custom reasons, including falsy ones", () => {
    for (const reason of ["why", 0, null, false, { x: 1 }]) {
      const ac = new g.AbortController();
      ac.abort(reason);
      assert.equal(ac.signal.reason, reason);
    }
  });

  test("event handler keeps the position of its first assignment", () => {
    const ac = new g.AbortController();
    const log = [];
    ac.signal.addEventListener("abort", () => log.push(1));
    ac.signal.onabort = () => log.push("x");
    ac.signal.addEventListener("abort", () => log.push(2));
    ac.signal.onabort = () => log.push("h"); // replaces value, same position
    ac.signal.onabort = 5; // non-object -> null
    assert.equal(ac.signal.onabort, null);
    ac.signal.onabort = () => log.push("h2"); // re-added at the end
    ac.abort();
    assert.deepEqual(log, [1, 2, "h2"]);
  });

  test("onabort set to null removes handler", () => {
    const ac = new g.AbortController();
    let n = 0;
    ac.signal.onabort = () => n++;
    ac.signal.onabort = null;
    assert.equal(ac.signal.onabort, null);
    ac.abort();
    assert.equal(n, 0);
  });

  test("AbortSignal.abort", () => {
    const s = g.AbortSignal.abort();
    assert.equal(s.aborted, true);
    assert.equal(s.reason.name, "AbortError");
    const s2 = g.AbortSignal.abort("r");
    assert.equal(s2.reason, "r");
    assert.ok(s instanceof g.EventTarget);
  });

  test("AbortSignal.timeout", async () => {
    const s = g.AbortSignal.timeout(10);
    assert.equal(s.aborted, false);
    await new Promise((resolve) => s.addEventListener("abort", resolve));
    assert.equal(s.aborted, true);
    assert.equal(s.reason.name, "TimeoutError");
    assert.equal(s.reason.code, 23);
    // workerd takes any number: negative or NaN fires at once.
    assert.equal(g.AbortSignal.timeout(-1).aborted, false);
    assert.equal(g.AbortSignal.timeout(NaN).aborted, false);
    throwsKind(() => g.AbortSignal.timeout(), "TypeError");
  });

  test("AbortSignal.timeout reads globalThis.setTimeout at call time", () => {
    const env = load();
    const calls = [];
    env.g.setTimeout = (fn, ms) => { calls.push(ms); fn(); return 1; };
    const s = env.g.AbortSignal.timeout(1234.9);
    assert.deepEqual(calls, [1234]);
    assert.equal(s.aborted, true);
    assert.equal(s.reason.name, "TimeoutError");
  });

  test("AbortSignal.any", () => {
    const a = new g.AbortController();
    const b = new g.AbortController();
    const any = g.AbortSignal.any([a.signal, b.signal]);
    const nested = g.AbortSignal.any([any]);
    assert.equal(any.aborted, false);
    const log = [];
    any.addEventListener("abort", () => log.push("any"));
    nested.addEventListener("abort", () => log.push("nested"));
    b.signal.addEventListener("abort", () => log.push("b"));
    b.abort("B");
    assert.equal(any.aborted, true);
    assert.equal(any.reason, "B");
    assert.equal(nested.reason, "B");
    assert.deepEqual(log, ["b", "any", "nested"]);
    a.abort("A");
    assert.equal(any.reason, "B");
  });

  test("AbortSignal.any with an already aborted signal", () => {
    const s = g.AbortSignal.any([new g.AbortController().signal, g.AbortSignal.abort("x")]);
    assert.equal(s.aborted, true);
    assert.equal(s.reason, "x");
    assert.equal(g.AbortSignal.any([]).aborted, false);
    throwsKind(() => g.AbortSignal.any([{}]), "TypeError");
    throwsKind(() => g.AbortSignal.any(5), "TypeError");
  });

  test("internal abort algorithms run before the event", () => {
    const ac = new g.AbortController();
    const log = [];
    ac.signal.addEventListener("abort", () => log.push("event"));
    E.internals.abort.addAlgorithm(ac.signal, (r) => log.push(["algo", r]));
    const removed = () => log.push("removed");
    E.internals.abort.addAlgorithm(ac.signal, removed);
    E.internals.abort.removeAlgorithm(ac.signal, removed);
    ac.abort("R");
    assert.deepEqual(log, [["algo", "R"], "event"]);
  });
});

// ---------------------------------------------------------------------------
describe("atob / btoa", () => {
  test("round trips and agrees with node", () => {
    const samples = ["", "f", "fo", "foo", "foob", "fooba", "foobar", "\x00\xff\x80abc",
      String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i))];
    for (const s of samples) {
      assert.equal(g.btoa(s), btoa(s));
      assert.equal(g.atob(g.btoa(s)), s);
    }
  });

  test("forgiving decode", () => {
    const cases = ["Zm9v", "Zm9vYg", "Zm9vYg==", " Z m\t9\nv\fY\rg = = ", "Zm9vYmE",
      "Zm9vYmE=", "YQ", "YR==", "YR", "", "    ", "ab", "abc", "abcd"];
    for (const c of cases) {
      assert.equal(g.atob(c), atob(c), JSON.stringify(c));
    }
  });

  test("invalid input throws InvalidCharacterError", () => {
    const bad = ["a", "abcde", "Zm9vYg=", "Zm9vYg===", "Zm9v=", "Zm=9v", "Zm9v\u00ff", "Zm9v\vYg", "=",
      "==", "a===", "ab=c", "Zm9-", "Zm9_", "\u0100AAA"];
    for (const c of bad) {
      const e = throwsKind(() => g.atob(c), "InvalidCharacterError");
      assert.equal(e.code, 5);
      assert.ok(e instanceof g.DOMException);
      assert.throws(() => atob(c), undefined, `node also rejects ${JSON.stringify(c)}`);
    }
  });

  test("conversions", () => {
    throwsKind(() => g.atob(undefined), "InvalidCharacterError"); // "undefined": 9 chars
    assert.equal(g.atob(null), atob(null));
    assert.equal(g.btoa(null), "bnVsbA==");
    assert.equal(g.btoa(12), "MTI=");
    throwsKind(() => g.btoa("\u0100"), "InvalidCharacterError");
    throwsKind(() => g.btoa("😀"), "InvalidCharacterError");
    throwsKind(() => g.btoa(), "TypeError");
    throwsKind(() => g.atob(), "TypeError");
    throwsKind(() => g.btoa(Symbol()), "TypeError");
  });

  test("large input", () => {
    const s = "x".repeat(100001);
    assert.equal(g.btoa(s), btoa(s));
    assert.equal(g.atob(g.btoa(s)), s);
  });
});

// ---------------------------------------------------------------------------
describe("Headers", () => {
  const H = g.Headers;
  const entries = (h) => [...h].map(([k, v]) => [k, v]);

  test("constructor forms", () => {
    assert.deepEqual(entries(new H({ B: "2", a: "1" })), [["a", "1"], ["b", "2"]]);
    assert.deepEqual(entries(new H([["B", "2"], ["a", "1"], ["a", "3"]])), [["a", "1, 3"], ["b", "2"]]);
    const h = new H([["x", "1"]]);
    const copy = new H(h);
    h.set("x", "2");
    assert.equal(copy.get("x"), "1");
    assert.deepEqual(entries(new H(new Map([["m", "v"]]))), [["m", "v"]]);
    assert.deepEqual(entries(new H()), []);
    assert.deepEqual(entries(new H(undefined)), []);
    assert.deepEqual(entries(new H({ a: "1", A: "2" })), [["a", "1, 2"]]);
    // non-enumerable and inherited keys are ignored
    const rec = Object.create({ inherited: "x" });
    Object.defineProperty(rec, "hidden", { value: "y", enumerable: false });
    rec.shown = "z";
    assert.deepEqual(entries(new H(rec)), [["shown", "z"]]);
  });

  test("constructor errors", () => {
    throwsKind(() => new H(null), "TypeError");
    throwsKind(() => new H(5), "TypeError");
    throwsKind(() => new H("a: b"), "TypeError");
    throwsKind(() => new H([["a"]]), "TypeError");
    throwsKind(() => new H([["a", "b", "c"]]), "TypeError");
    throwsKind(() => new H(["ab"]), "TypeError");
    throwsKind(() => new H({ "bad name": "x" }), "TypeError", "Invalid header name.");
    throwsKind(() => new H({ [Symbol("s")]: "x" }), "TypeError");
  });

  test("get/has/set/delete are case-insensitive", () => {
    const h = new H();
    h.append("Content-Type", "text/plain");
    assert.equal(h.get("content-type"), "text/plain");
    assert.equal(h.get("CONTENT-TYPE"), "text/plain");
    assert.equal(h.has("Content-type"), true);
    assert.equal(h.get("missing"), null);
    h.set("CONTENT-type", "a");
    assert.equal(h.get("content-type"), "a");
    h.delete("Content-Type");
    assert.equal(h.has("content-type"), false);
    h.delete("not-there");
  });

  test("combined values", () => {
    const h = new H();
    h.append("Accept", "a");
    h.append("accept", "b");
    h.append("ACCEPT", "");
    assert.equal(h.get("accept"), "a, b, ");
    h.set("accept", "c");
    assert.equal(h.get("accept"), "c");
  });

  test("value normalisation and validation", () => {
    const h = new H();
    h.append("a", " \t x y \r\n");
    assert.equal(h.get("a"), "x y");
    h.set("b", "\n\n");
    assert.equal(h.get("b"), "");
    h.append("c", "x\u000by"); // vertical tab is fine
    assert.equal(h.get("c"), "x\u000by");
    for (const bad of ["a\nb", "a\rb", "a\0b", "\0"]) {
      throwsKind(() => h.append("d", bad), "TypeError", "Invalid header value.");
      throwsKind(() => h.set("d", bad), "TypeError", "Invalid header value.");
      throwsKind(() => new H([["d", bad]]), "TypeError", "Invalid header value.");
    }
    // trailing CR/LF are stripped before validation, so they're fine
    h.set("e", "ok\r\n");
    assert.equal(h.get("e"), "ok");
  });

  test("name validation", () => {
    const h = new H();
    for (const bad of ["", "a b", "a:b", "é", "a\n", "(x)", "a/b", "[x]", "a\"", "{", "@"]) {
      throwsKind(() => h.append(bad, "v"), "TypeError", "Invalid header name.");
      throwsKind(() => h.get(bad), "TypeError", "Invalid header name.");
      throwsKind(() => h.has(bad), "TypeError", "Invalid header name.");
      throwsKind(() => h.delete(bad), "TypeError", "Invalid header name.");
      throwsKind(() => h.set(bad, "v"), "TypeError", "Invalid header name.");
    }
    h.append("!#$%&'*+-.^_`|~09azAZ", "v");
    assert.equal(h.get("!#$%&'*+-.^_`|~09azaz"), "v");
  });

  test("argument conversion and counts", () => {
    const h = new H();
    throwsKind(() => h.append("a"), "TypeError",
      "Failed to execute 'append' on 'Headers': parameter 2 is not of type 'string'.");
    throwsKind(() => h.get(), "TypeError",
      "Failed to execute 'get' on 'Headers': parameter 1 is not of type 'string'.");
    h.append("n", 12);
    h.append("u", undefined);
    h.append("o", { toString: () => "obj" });
    assert.equal(h.get("n"), "12");
    assert.equal(h.get("u"), "undefined");
    assert.equal(h.get("o"), "obj");
  });

  test("set-cookie kept separate", () => {
    const h = new H();
    h.append("Set-Cookie", "a=1");
    h.append("set-cookie", "b=2, c=3");
    h.append("X", "1");
    h.append("x", "2");
    h.append("Age", "0");
    assert.equal(h.get("set-cookie"), "a=1, b=2, c=3");
    assert.deepEqual(h.getSetCookie(), ["a=1", "b=2, c=3"]);
    assert.deepEqual(entries(h), [["age", "0"], ["set-cookie", "a=1"], ["set-cookie", "b=2, c=3"], ["x", "1, 2"]]);
    assert.deepEqual(new H().getSetCookie(), []);
    assert.deepEqual(h.getAll("Set-Cookie"), ["a=1", "b=2, c=3"]);
    throwsKind(() => h.getAll("x"), "TypeError");
    // copies keep the separate values
    assert.deepEqual(new H(h).getSetCookie(), ["a=1", "b=2, c=3"]);
    // returned array is a copy
    h.getSetCookie().push("z");
    assert.equal(h.getSetCookie().length, 2);
  });

  test("iteration order, keys/values, and agreement with node", () => {
    const init = [["Zeta", "z"], ["alpha", "1"], ["Beta", "b"], ["alpha", "2"], ["a-b", "x"],
      ["a", "y"], ["A_", "u"], ["set-cookie", "s1"], ["Set-Cookie", "s2"], ["~", "t"]];
    const ours = new H(init);
    const node = new Headers(init);
    assert.deepEqual(entries(ours), [...node]);
    assert.deepEqual([...ours.keys()], [...node.keys()]);
    assert.deepEqual([...ours.values()], [...node.values()]);
    const seen = [];
    ours.forEach(function (v, k, obj) { seen.push([k, v, obj === ours, this.tag]); }, { tag: "T" });
    assert.deepEqual(seen.map((x) => [x[0], x[1]]), [...node]);
    assert.ok(seen.every((x) => x[2] && x[3] === "T"));
  });

  test("iterators and forEach walk a snapshot (workerd)", () => {
    const h = new H({ b: "1" });
    const it = h.keys();
    h.append("a", "0");
    h.append("c", "2");
    // workerd's Headers iterators copy the list when made
    assert.deepEqual([...it], ["b"]);
    const h2 = new H({ a: "1" });
    const seen = [];
    h2.forEach((v, k) => {
      seen.push(k);
      if (k === "a") h2.append("b", "2");
    });
    assert.deepEqual(seen, ["a"]);
    throwsKind(() => h.forEach(), "TypeError");
    throwsKind(() => h.forEach(5), "TypeError");
  });

  test("immutable guard", () => {
    const h = E.internals.headers.fromList([["A", "1"], ["b", "2"]], "immutable");
    assert.equal(E.internals.headers.getGuard(h), "immutable");
    assert.equal(h.get("a"), "1");
    for (const fn of [() => h.append("c", "1"), () => h.set("a", "2"), () => h.delete("a")]) {
      throwsKind(fn, "TypeError", "Can't modify immutable headers.");
    }
    // validation errors take precedence over the guard
    throwsKind(() => h.append("bad name", "1"), "TypeError", "Invalid header name.");
    assert.equal(h.get("a"), "1");
    E.internals.headers.setGuard(h, "response");
    h.set("a", "2");
    assert.equal(h.get("a"), "2");
    throwsKind(() => E.internals.headers.setGuard(h, "bogus"), "TypeError");
    // a copy of immutable headers is mutable
    E.internals.headers.setGuard(h, "immutable");
    const c = new H(h);
    c.set("a", "3");
    assert.equal(E.internals.headers.getGuard(c), "none");
  });

  test("request and response guards allow everything (as workerd does)", () => {
    const h = E.internals.headers.fromList([], "request");
    h.set("Host", "example.com");
    h.set("Set-Cookie", "a=1");
    h.set("Content-Length", "5");
    assert.equal(h.get("host"), "example.com");
  });

  test("toList hook", () => {
    const h = new H();
    h.append("Set-Cookie", "a");
    h.append("X-B", "1");
    h.append("x-b", "2");
    h.append("set-cookie", "b");
    h.append("Accept", "*/*");
    const list = E.internals.headers.toList(h);
    assert.deepEqual(list.map((p) => [p[0], p[1]]),
      [["accept", "*/*"], ["set-cookie", "a"], ["set-cookie", "b"], ["x-b", "1, 2"]]);
    list[0][1] = "mutated";
    assert.equal(h.get("accept"), "*/*");
  });

  test("unicode values are kept (workerd's lenient ByteString)", () => {
    const h = new H({ a: "é😀" });
    assert.equal(h.get("a"), "é😀");
  });
});

// ---------------------------------------------------------------------------
describe("URL", () => {
  const U = g.URL;

  test("parsing and getters", () => {
    const u = new U("HTTPS://user:pa ss@Example.COM:8080/a/../b/./c?q=1 2#frag ment");
    const n = new URL("HTTPS://user:pa ss@Example.COM:8080/a/../b/./c?q=1 2#frag ment");
    assert.deepEqual(components(u), components(n));
    assert.equal(u.toString(), u.href);
    assert.equal(u.toJSON(), u.href);
    assert.equal(String(u), u.href);
    assert.equal(JSON.stringify({ u }), JSON.stringify({ u: n }));
  });

  test("base URLs", () => {
    assert.equal(new U("/x?y", "https://a.example/b/c").href, "https://a.example/x?y");
    assert.equal(new U("d", new U("https://a.example/b/c")).href, "https://a.example/b/d");
    throwsKind(() => new U("/x"), "TypeError", "Invalid URL string.");
    throwsKind(() => new U("x", "not a base"), "TypeError");
    throwsKind(() => new U(), "TypeError",
      "Failed to construct 'URL': constructor parameter 1 is not of type 'USVString'.");
    throwsKind(() => new U("http://a", undefined).hostname && new U("https://exa mple.com"), "TypeError");
  });

  test("canParse and parse", () => {
    assert.equal(U.canParse("https://a"), true);
    assert.equal(U.canParse("a"), false);
    assert.equal(U.canParse("a", "https://b"), true);
    const p = U.parse("/p", "https://b");
    assert.ok(p instanceof U);
    assert.equal(p.href, "https://b/p");
    assert.equal(p.searchParams.size, 0);
    assert.equal(U.parse("nope"), null);
    throwsKind(() => U.parse(), "TypeError");
  });

  test("setters", () => {
    const u = new U("http://example.com/path?x=1#h");
    u.protocol = "https";
    assert.equal(u.href, "https://example.com/path?x=1#h");
    u.protocol = "foo"; // special -> non-special is ignored
    assert.equal(u.protocol, "https:");
    u.username = "us er";
    u.password = "p@ss";
    assert.equal(u.href, "https://us%20er:p%40ss@example.com/path?x=1#h");
    u.host = "other.org:81";
    assert.equal(u.host, "other.org:81");
    u.hostname = "third.net";
    assert.equal(u.host, "third.net:81");
    u.port = "443";
    assert.equal(u.port, "");
    u.port = "8443";
    assert.equal(u.port, "8443");
    u.pathname = "a b/c";
    assert.equal(u.pathname, "/a%20b/c");
    u.hash = "new";
    assert.equal(u.hash, "#new");
    u.hash = "";
    assert.equal(u.href, "https://us%20er:p%40ss@third.net:8443/a%20b/c?x=1");
    u.href = "http://fresh.example/?k=v";
    assert.equal(u.host, "fresh.example");
    throwsKind(() => { u.href = "not a url"; }, "TypeError",
      "Failed to set the 'href' property on 'URL': the provided value is not of type 'valid URL string'.");
    assert.equal(u.href, "http://fresh.example/?k=v");
  });

  test("search setter and searchParams linkage", () => {
    const u = new U("https://a.example/?a=1&b=2");
    const sp = u.searchParams;
    assert.equal(u.searchParams, sp, "same object every time");
    assert.equal(sp.get("a"), "1");
    u.search = "?c=3";
    assert.equal(sp.get("a"), null);
    assert.equal(sp.get("c"), "3");
    u.search = "d=4 5";
    assert.equal(u.search, "?d=4%205");
    assert.equal(sp.get("d"), "4 5");
    u.href = "https://b.example/?e=6";
    assert.equal(sp.get("e"), "6");
    assert.equal(sp.size, 1);

    sp.append("f", "x y&z");
    assert.equal(u.search, "?e=6&f=x+y%26z");
    assert.equal(u.href, "https://b.example/?e=6&f=x+y%26z");
    sp.delete("e");
    sp.delete("f");
    assert.equal(u.search, "");
    assert.equal(u.href, "https://b.example/", "empty list -> null query");
    sp.set("g", "1");
    assert.equal(u.href, "https://b.example/?g=1");
    u.search = "";
    assert.equal(sp.size, 0);
    u.hash = "h";
    sp.append("q", "é");
    assert.equal(u.href, "https://b.example/?q=%C3%A9#h");
  });

  test("searchParams update keeps non-form query encoding until mutated", () => {
    const u = new U("https://a.example/?a=b%20c&d");
    assert.equal(u.searchParams.get("a"), "b c");
    assert.equal(u.search, "?a=b%20c&d");
    u.searchParams.sort();
    assert.equal(u.search, "?a=b+c&d=");
  });

  test("USVString conversion", () => {
    const u = new U("https://a.example/\uD800");
    assert.equal(u.pathname, "/%EF%BF%BD");
  });

  test("agrees with node on a sample of inputs", () => {
    const inputs = [
      ["http://[::1]:80/"], ["file:///C:/x/../y"], ["mailto:someone@example.com"],
      ["data:text/plain,hi there"], ["https://xn--nxasmq6b.com/"], ["https://ÉXAMPLE.com/ü?ü#ü"],
      ["?q", "https://a/b?c#d"], ["#f", "https://a/b?c#d"], ["//x/y", "ftp://a/b"],
      ["blob:https://a.example/uuid"], ["http://1.2.3.4.5/"], ["http://0x7f.1/"],
      ["non-special://host/a b?c d#e f"], ["javascript:alert(1)"],
    ];
    for (const [i, b] of inputs) {
      let expected = null;
      try { expected = components(new URL(i, b)); } catch { /* invalid */ }
      const ours = g.URL.parse(i, b);
      assert.deepEqual(ours === null ? null : components(ours), expected, `${i} ${b ?? ""}`);
    }
  });

  test("internals.url.parse hook", () => {
    assert.deepEqual(E.internals.url.parse("/p", "https://h/"),
      components(new URL("https://h/p")));
    assert.equal(E.internals.url.parse("nope"), null);
  });
});

// ---------------------------------------------------------------------------
describe("URLSearchParams", () => {
  const P = g.URLSearchParams;
  const list = (p) => [...p].map(([k, v]) => [k, v]);

  test("constructor forms", () => {
    assert.deepEqual(list(new P("?a=1&b=2")), [["a", "1"], ["b", "2"]]);
    assert.deepEqual(list(new P("??a=1")), [["?a", "1"]]);
    assert.deepEqual(list(new P([["a", "1"], ["a", 2]])), [["a", "1"], ["a", "2"]]);
    assert.deepEqual(list(new P({ x: "1", y: 2 })), [["x", "1"], ["y", "2"]]);
    assert.deepEqual(list(new P(new P("z=9"))), [["z", "9"]]);
    assert.deepEqual(list(new P()), []);
    assert.deepEqual(list(new P("")), []);
    assert.deepEqual(list(new P(null)), [["null", ""]]);
    assert.deepEqual(list(new P(undefined)), []);
    throwsKind(() => new P([["a"]]), "TypeError");
    throwsKind(() => new P([["a", "b", "c"]]), "TypeError");
    throwsKind(() => new P([1]), "TypeError");
    // record keys with lone surrogates collapse to the same USVString
    assert.deepEqual(list(new P({ "\uD835x": "1", "\uD83Dx": "2" })), [["\uFFFDx", "2"]]);
  });

  test("parsing: +, %20, bad escapes, unicode, empty pieces", () => {
    const cases = [
      "a=b+c", "a=b%20c", "a+b=c+d", "a%2Bb=%2B", "a=%", "a=%2", "a=%zz", "a=%e9", "a=%C3%A9",
      "a=%C3", "a=%F0%9F%98%80", "&&a=1&&b=2&", "=", "=x", "a", "a==b", "é=ü", "a=b=c",
      "%00=%0a", "a=%ED%A0%80", "a=%C0%80", "%=%%", "a=1;b=2", "\uD800=1",
    ];
    for (const c of cases) {
      assert.deepEqual(list(new P(c)), [...new URLSearchParams(c)], JSON.stringify(c));
    }
  });

  test("serialising", () => {
    const p = new P();
    p.append("a b", "c+d");
    p.append("é", "😀");
    p.append("*-._", "~!'()");
    p.append("=&", "%");
    p.append("\uD800", "x");
    const n = new URLSearchParams();
    for (const [k, v] of [["a b", "c+d"], ["é", "😀"], ["*-._", "~!'()"], ["=&", "%"], ["\uD800", "x"]]) n.append(k, v);
    assert.equal(p.toString(), n.toString());
    assert.equal(p.toString(),
      "a+b=c%2Bd&%C3%A9=%F0%9F%98%80&*-._=%7E%21%27%28%29&%3D%26=%25&%EF%BF%BD=x");
    let all = "";
    for (let i = 0; i < 128; i++) all += String.fromCharCode(i);
    assert.equal(new P({ k: all }).toString(), new URLSearchParams({ k: all }).toString());
  });

  test("round trip", () => {
    const s = "a=1&b=x+y&c=%26%3D&d=%C3%A9&e=";
    assert.equal(new P(s).toString(), s);
  });

  test("append/get/getAll/has/set/delete with value", () => {
    const p = new P("a=1&b=2&a=3&c=4&a=5");
    assert.equal(p.get("a"), "1");
    assert.deepEqual(p.getAll("a"), ["1", "3", "5"]);
    assert.equal(p.get("zz"), null);
    assert.deepEqual(p.getAll("zz"), []);
    assert.equal(p.has("a"), true);
    assert.equal(p.has("a", "3"), true);
    assert.equal(p.has("a", "4"), false);
    assert.equal(p.has("a", undefined), true);
    p.delete("a", "3");
    assert.equal(p.toString(), "a=1&b=2&c=4&a=5");
    p.set("a", "9");
    assert.equal(p.toString(), "a=9&b=2&c=4");
    p.set("new", "x");
    assert.equal(p.toString(), "a=9&b=2&c=4&new=x");
    p.delete("b");
    assert.equal(p.toString(), "a=9&c=4&new=x");
    p.delete("a", undefined);
    assert.equal(p.toString(), "c=4&new=x");
    assert.equal(p.size, 2);
    throwsKind(() => p.append("x"), "TypeError",
      "Failed to execute 'append' on 'URLSearchParams': parameter 2 is not of type 'USVString'.");
    throwsKind(() => p.get(), "TypeError");
  });

  test("sort is stable by UTF-16 code units", () => {
    const input = "z=1&a=1&\uFFFD=1&\uD83D\uDE00=1&a=2&z=0&b=1&a=0&%C3%A9=1&A=1";
    const p = new P(input);
    p.sort();
    const n = new URLSearchParams(input);
    n.sort();
    assert.deepEqual(list(p), [...n]);
    assert.deepEqual(list(p).map((x) => x[0]), ["A", "a", "a", "a", "b", "z", "z", "é", "😀", "\uFFFD"]);
    assert.deepEqual(p.getAll("a"), ["1", "2", "0"]);
  });

  test("forEach/entries/keys/values, live iteration", () => {
    const p = new P("a=1&b=2");
    const seen = [];
    p.forEach((v, k, o) => {
      seen.push(k + v);
      if (k === "a") o.append("c", "3");
    });
    assert.deepEqual(seen, ["a1", "b2", "c3"]);
    assert.deepEqual([...p.keys()], ["a", "b", "c"]);
    assert.deepEqual([...p.values()], ["1", "2", "3"]);
    assert.deepEqual([...p.entries()].map(([k, v]) => [k, v]), [["a", "1"], ["b", "2"], ["c", "3"]]);
    const it = p.keys();
    it.next();
    p.delete("a");
    // index 1 now is "c"
    assert.deepEqual(it.next(), { value: "c", done: false });
  });

  test("form helpers on internals.url", () => {
    assert.deepEqual(E.internals.url.parseUrlencoded("a=b+c&d=%41").map((p) => [p[0], p[1]]),
      [["a", "b c"], ["d", "A"]]);
    assert.equal(E.internals.url.serializeUrlencoded([["a b", "é"]]), "a+b=%C3%A9");
  });
});

// ---------------------------------------------------------------------------
describe("TextEncoder / TextDecoder", () => {
  test("TextEncoder", () => {
    const enc = new g.TextEncoder();
    assert.equal(enc.encoding, "utf-8");
    assert.deepEqual([...enc.encode("é😀")], [...new TextEncoder().encode("é😀")]);
    assert.deepEqual([...enc.encode()], []);
    assert.deepEqual([...enc.encode("\uD800")], [0xef, 0xbf, 0xbd]);
    assert.deepEqual([...enc.encode(undefined)], []);
    assert.deepEqual([...enc.encode(null)], [...new TextEncoder().encode("null")]);
  });

  test("encodeInto", () => {
    const enc = new g.TextEncoder();
    const buf = new g.Uint8Array(5);
    const r = enc.encodeInto("aé😀", buf);
    assert.equal(r.read, 2);
    assert.equal(r.written, 3);
    assert.deepEqual([...buf], [0x61, 0xc3, 0xa9, 0, 0]);
    throwsKind(() => enc.encodeInto("a", new g.Uint16Array(4)), "TypeError");
    throwsKind(() => enc.encodeInto("a", new g.ArrayBuffer(4)), "TypeError");
    throwsKind(() => enc.encodeInto("a"), "TypeError");
  });

  test("TextDecoder labels and attributes", () => {
    const d = new g.TextDecoder();
    assert.equal(d.encoding, "utf-8");
    assert.equal(d.fatal, false);
    assert.equal(d.ignoreBOM, false);
    assert.equal(new g.TextDecoder(" UTF8 ").encoding, "utf-8");
    assert.equal(new g.TextDecoder("latin1").encoding, "windows-1252");
    assert.equal(new g.TextDecoder("utf-16").encoding, "utf-16le");
    const f = new g.TextDecoder("utf-8", { fatal: true, ignoreBOM: 1 });
    assert.equal(f.fatal, true);
    assert.equal(f.ignoreBOM, true);
    throwsKind(() => new g.TextDecoder("nope"), "RangeError");
    throwsKind(() => new g.TextDecoder("replacement"), "RangeError");
    throwsKind(() => new g.TextDecoder("utf-8", 5), "TypeError");
  });

  test("decode inputs", () => {
    const d = new g.TextDecoder();
    const bytes = [0x68, 0x69, 0xc3, 0xa9];
    assert.equal(d.decode(new g.Uint8Array(bytes)), "hié");
    assert.equal(d.decode(new g.Uint8Array(bytes).buffer), "hié");
    assert.equal(d.decode(new g.DataView(new g.Uint8Array(bytes).buffer, 1, 3)), "ié");
    assert.equal(d.decode(new g.Uint8Array([0, 0x68, 0x69, 0]).subarray(1, 3)), "hi");
    assert.equal(d.decode(new g.Uint16Array([0x6968])), "hi");
    assert.equal(d.decode(), "");
    assert.equal(d.decode(undefined, { stream: true }), "");
    assert.equal(d.decode(new Uint8Array(bytes)), "hié", "other-realm views work");
    throwsKind(() => d.decode("str"), "TypeError");
    throwsKind(() => d.decode([1, 2]), "TypeError");
    throwsKind(() => d.decode(null), "TypeError");
  });

  test("BOM handling", () => {
    const withBom = new g.Uint8Array([0xef, 0xbb, 0xbf, 0x61]);
    assert.equal(new g.TextDecoder().decode(withBom), "a");
    assert.equal(new g.TextDecoder("utf-8", { ignoreBOM: true }).decode(withBom), "\uFEFFa");
    const u16 = new g.Uint8Array([0xff, 0xfe, 0x61, 0x00]);
    assert.equal(new g.TextDecoder("utf-16le").decode(u16), "a");
    // BOM is stripped once per stream, then again after a non-stream decode
    const d = new g.TextDecoder();
    assert.equal(d.decode(withBom, { stream: true }), "a");
    assert.equal(d.decode(withBom, { stream: true }), "\uFEFFa");
    assert.equal(d.decode(), "");
    assert.equal(d.decode(withBom), "a");
  });

  test("streaming across chunks", () => {
    const d = new g.TextDecoder();
    const bytes = new TextEncoder().encode("a😀é");
    let out = "";
    for (const b of bytes) out += d.decode(new g.Uint8Array([b]), { stream: true });
    out += d.decode();
    assert.equal(out, "a😀é");
    // an unfinished sequence at a non-stream end becomes U+FFFD
    assert.equal(d.decode(new g.Uint8Array([0xf0, 0x9f]), { stream: true }), "");
    assert.equal(d.decode(), "\uFFFD");
  });

  test("fatal", () => {
    const d = new g.TextDecoder("utf-8", { fatal: true });
    throwsKind(() => d.decode(new g.Uint8Array([0xff])), "TypeError", "The encoded data was not valid.");
    assert.equal(d.decode(new g.Uint8Array([0x61])), "a");
    assert.equal(new g.TextDecoder().decode(new g.Uint8Array([0xff, 0x61])), "\uFFFDa");
  });

  test("windows-1252 label goes through to the native decoder", () => {
    // (node's own decoder maps 0x80 like ISO-8859-1, so only check 0xE9 here;
    // the native encoding_rs decoder gives "€" for 0x80.)
    const d = new g.TextDecoder("latin1");
    assert.equal(d.encoding, "windows-1252");
    assert.equal(d.decode(new g.Uint8Array([0x61, 0xe9])), "aé");
  });

  test("decoders are freed through a FinalizationRegistry", () => {
    assert.equal(E.run("typeof FinalizationRegistry"), "function");
  });
});

// ---------------------------------------------------------------------------
describe("USVString helpers", () => {
  test("toUSVString", () => {
    const { toUSVString } = E.internals.webidl;
    assert.equal(toUSVString("a\uD800b"), "a\uFFFDb");
    assert.equal(toUSVString("\uDC00\uD800"), "\uFFFD\uFFFD");
    assert.equal(toUSVString("\uD83D\uDE00"), "\uD83D\uDE00");
    assert.equal(toUSVString(1), "1");
    assert.throws(() => toUSVString(Symbol()));
  });

  test("toUSVString fallback without String.prototype.isWellFormed", () => {
    const env = load({ pre: "delete String.prototype.isWellFormed; delete String.prototype.toWellFormed;" });
    const { toUSVString } = env.internals.webidl;
    assert.equal(toUSVString("a\uD800b"), "a\uFFFDb");
    assert.equal(toUSVString("\uDC00\uD800"), "\uFFFD\uFFFD");
    assert.equal(toUSVString("x\uD83D\uDE00y\uD83D"), "x\uD83D\uDE00y\uFFFD");
    assert.equal(toUSVString("plain"), "plain");
    assert.equal(toUSVString("\uD83D\uDE00\uDE00a"), "\uD83D\uDE00\uFFFDa");
  });

  test("utf8 helpers", () => {
    const { utf8Encode, utf8DecodeWithoutBOM } = E.internals.webidl;
    const s = "aé😀\u0800\uFFFF";
    assert.deepEqual(utf8Encode(s), [...new TextEncoder().encode(s)]);
    const samples = [[0xff], [0xc3], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80],
      [0xf0, 0x9f, 0x98], [0xf0, 0x9f, 0x98, 0x41], [0xef, 0xbb, 0xbf, 0x41], [0xc2, 0x80]];
    for (const b of samples) {
      assert.equal(utf8DecodeWithoutBOM(b), new TextDecoder("utf-8", { ignoreBOM: true }).decode(new Uint8Array(b)), b.join(","));
    }
  });
});
