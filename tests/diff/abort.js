import { Rec, settle, tick } from "./prelude.js";

export default {
  async fetch() {
    const r = new Rec();
    r.ck("controller", () => {
      const ac = new AbortController();
      const log = [];
      ac.signal.addEventListener("abort", (e) => log.push(e.type + ":" + e.isTrusted));
      ac.signal.onabort = () => log.push("onabort");
      const before = [ac.signal.aborted, ac.signal.reason];
      ac.abort();
      ac.abort("again");
      return [before, ac.signal.aborted, ac.signal.reason.name, ac.signal.reason.message, ac.signal.reason.code, log];
    });
    r.ck("custom reason", () => {
      const ac = new AbortController();
      ac.abort({ why: 1 });
      return ac.signal.reason;
    });
    r.ck("undefined reason", () => {
      const ac = new AbortController();
      ac.abort(undefined);
      return Object.prototype.toString.call(ac.signal.reason);
    });
    r.ck("throwIfAborted", () => {
      const ac = new AbortController();
      ac.signal.throwIfAborted();
      ac.abort("r");
      ac.signal.throwIfAborted();
    });
    r.ck("static abort", () => {
      const s = AbortSignal.abort();
      return [s.aborted, s.reason.name, s.reason instanceof DOMException];
    });
    r.ck("new AbortSignal", () => new AbortSignal());
    r.ck("any", () => {
      const a = new AbortController();
      const b = new AbortController();
      const s = AbortSignal.any([a.signal, b.signal]);
      const before = s.aborted;
      b.abort("b first");
      a.abort("a");
      return [before, s.aborted, s.reason];
    });
    r.ck("any already aborted", () => AbortSignal.any([AbortSignal.abort("pre")]).reason);
    r.ck("any empty", () => AbortSignal.any([]).aborted);
    r.ck("any non-signal", () => AbortSignal.any([1]));
    await r.ack("timeout", async () => {
      const s = AbortSignal.timeout(1);
      const before = s.aborted;
      await tick(30);
      return [before, s.aborted, s.reason.name, s.reason.message, s.reason.code];
    });
    r.ck("timeout negative", () => AbortSignal.timeout(-1));
    await r.ack("abort during fetch-like wait", async () => {
      const ac = new AbortController();
      const p = new Promise((_, rej) => ac.signal.addEventListener("abort", () => rej(ac.signal.reason)));
      ac.abort();
      return settle(p);
    });
    r.ck("toStringTag", () => [Object.prototype.toString.call(new AbortController()), Object.prototype.toString.call(AbortSignal.abort())]);
    r.ck("signal proto keys", () => Object.getOwnPropertyNames(AbortSignal.prototype).sort());
    r.ck("signal static keys", () => Object.getOwnPropertyNames(AbortSignal).sort());
    return r.response();
  },
};
