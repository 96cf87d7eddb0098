import { Rec } from "./prelude.js";

export default {
  async fetch() {
    const r = new Rec();
    r.ck("event defaults", () => {
      const e = new Event("x");
      return [e.type, e.bubbles, e.cancelable, e.composed, e.defaultPrevented, e.eventPhase, e.isTrusted, e.target, e.currentTarget, typeof e.timeStamp, e.returnValue, e.cancelBubble];
    });
    r.ck("event no type", () => new Event());
    r.ck("preventDefault", () => {
      const a = new Event("a", { cancelable: true });
      a.preventDefault();
      const b = new Event("b");
      b.preventDefault();
      return [a.defaultPrevented, b.defaultPrevented];
    });
    r.ck("dispatch order and once", () => {
      const t = new EventTarget();
      const log = [];
      t.addEventListener("x", () => log.push("a"), { once: true });
      t.addEventListener("x", { handleEvent(e) { log.push("obj:" + (e.currentTarget === t) + ":" + e.eventPhase); } });
      const f = () => log.push("f");
      t.addEventListener("x", f);
      t.addEventListener("x", f);
      const ret = t.dispatchEvent(new Event("x"));
      t.dispatchEvent(new Event("x"));
      return [log, ret];
    });
    r.ck("stopImmediatePropagation", () => {
      const t = new EventTarget();
      const log = [];
      t.addEventListener("x", (e) => { log.push(1); e.stopImmediatePropagation(); });
      t.addEventListener("x", () => log.push(2));
      t.dispatchEvent(new Event("x"));
      return log;
    });
    r.ck("passive ignores preventDefault", () => {
      const t = new EventTarget();
      t.addEventListener("x", (e) => e.preventDefault(), { passive: true });
      const e = new Event("x", { cancelable: true });
      t.dispatchEvent(e);
      return e.defaultPrevented;
    });
    r.ck("re-dispatch", () => {
      const t = new EventTarget();
      let e;
      t.addEventListener("x", () => {
        try { t.dispatchEvent(e); } catch (err) { e.err = err.name + ": " + err.message; }
      });
      e = new Event("x");
      t.dispatchEvent(e);
      return e.err;
    });
    r.ck("remove during dispatch", () => {
      const t = new EventTarget();
      const log = [];
      const b = () => log.push("b");
      t.addEventListener("x", () => { log.push("a"); t.removeEventListener("x", b); });
      t.addEventListener("x", b);
      t.dispatchEvent(new Event("x"));
      return log;
    });
    r.ck("listener throws", () => {
      const t = new EventTarget();
      const log = [];
      t.addEventListener("x", () => { throw new Error("inner"); });
      t.addEventListener("x", () => log.push("after"));
      t.dispatchEvent(new Event("x"));
      return log;
    });
    r.ck("dispatch non-event", () => new EventTarget().dispatchEvent({ type: "x" }));
    r.ck("null listener", () => new EventTarget().addEventListener("x", null));
    r.ck("abort signal option", () => {
      const t = new EventTarget();
      const ac = new AbortController();
      const log = [];
      t.addEventListener("x", () => log.push(1), { signal: ac.signal });
      t.dispatchEvent(new Event("x"));
      ac.abort();
      t.dispatchEvent(new Event("x"));
      return log;
    });
    r.ck("CustomEvent", () => {
      const e = new CustomEvent("c", { detail: { d: 1 } });
      return [e.detail, e instanceof Event, Object.prototype.toString.call(e)];
    });
    r.ck("subclass", () => {
      class My extends EventTarget {}
      const m = new My();
      let got;
      m.addEventListener("z", (e) => { got = e.target === m; });
      m.dispatchEvent(new Event("z"));
      return got;
    });
    r.ck("composedPath", () => {
      const t = new EventTarget();
      let path;
      t.addEventListener("x", (e) => { path = e.composedPath().length; });
      const e = new Event("x");
      t.dispatchEvent(e);
      return [path, e.composedPath().length];
    });
    r.ck("constants", () => [Event.NONE, Event.CAPTURING_PHASE, Event.AT_TARGET, Event.BUBBLING_PHASE]);
    r.ck("toStringTags", () => [Object.prototype.toString.call(new Event("x")), Object.prototype.toString.call(new EventTarget())]);
    r.ck("event proto keys", () => Object.getOwnPropertyNames(Event.prototype).sort());
    r.ck("target proto keys", () => Object.getOwnPropertyNames(EventTarget.prototype).sort());
    return r.response();
  },
};
