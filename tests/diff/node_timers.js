// Node.js global timers (workerd's enable_nodejs_global_timers, implied by
// nodejs_compat from 2026-02-10): Timeout and Immediate objects, `global`.
import { Rec, tick } from "./prelude.js";
const desc = (o, k) => { const d = Object.getOwnPropertyDescriptor(o, k); if (!d) return "absent"; return ("value" in d ? typeof d.value : "accessor") + (d.enumerable ? " enum" : "") + (d.writable ? " w" : "") + (d.configurable ? " c" : ""); };
export default {
  async fetch() {
    const r = new Rec();
    r.ck("typeof", () => { const t = setTimeout(() => {}, 1000); clearTimeout(t); return [typeof t, Object.prototype.toString.call(t), t.constructor.name, Object.keys(t), JSON.stringify(t), Object.getOwnPropertyNames(Object.getPrototypeOf(t)).sort(), typeof t[Symbol.toPrimitive], typeof t[Symbol.dispose]]; });
    r.ck("primitive", () => { const a = setTimeout(() => {}, 1000); const b = setTimeout(() => {}, 1000); clearTimeout(a); clearTimeout(b); return [typeof +a, +b - +a, `${a}` === String(+a), a == +a]; });
    r.ck("ref", () => { const t = setTimeout(() => {}, 1000); const out = [t.hasRef(), t.unref() === t, t.hasRef(), t.ref() === t, t.hasRef(), t.close() === t, t.refresh() === t]; clearTimeout(t); return out; });
    await r.ack("clear by object", async () => { const log = []; const t = setTimeout(() => log.push("t"), 1); clearTimeout(t); const i = setInterval(() => log.push("i"), 1); clearInterval(i); await tick(10); return log; });
    await r.ack("clear by number", async () => { const log = []; const t = setTimeout(() => log.push("t"), 1); clearTimeout(+t); await tick(10); return log; });
    await r.ack("clear by string", async () => { const log = []; const t = setTimeout(() => log.push("t"), 1); clearTimeout(String(+t)); await tick(10); return log; });
    await r.ack("cross clear", async () => { const log = []; const t = setTimeout(() => log.push("t"), 1); clearInterval(t); const i = setInterval(() => log.push("i"), 1); clearTimeout(i); await tick(10); return log; });
    await r.ack("close", async () => { const log = []; const t = setTimeout(() => log.push("t"), 1); t.close(); await tick(10); return log; });
    await r.ack("dispose", async () => { const log = []; const t = setTimeout(() => log.push("t"), 1); t[Symbol.dispose](); await tick(10); return log; });
    await r.ack("refresh", async () => { const log = []; const t = setTimeout(() => log.push("t"), 5); t.refresh(); await tick(20); return log; });
    await r.ack("interval object", async () => { let n = 0; await new Promise((res) => { const id = setInterval(() => { if (++n === 3) { clearInterval(id); res(); } }, 1); }); return [n]; });
    await r.ack("args", async () => new Promise((res) => setTimeout((a, b) => res([a, b]), 0, "x", 2)));
    await r.ack("this in callback", async () => new Promise((res) => setTimeout(function () { res(this === globalThis ? "global" : typeof this === "object" && this !== null ? (this.constructor && this.constructor.name) : String(this)); }, 0)));
    r.ck("immediate", () => { const i = setImmediate(() => {}); clearImmediate(i); return [typeof i, Object.prototype.toString.call(i), i && i.constructor && i.constructor.name, i && Object.getOwnPropertyNames(Object.getPrototypeOf(i)).sort(), typeof i[Symbol.toPrimitive]]; });
    await r.ack("immediate order", async () => { const log = []; setTimeout(() => log.push("t0"), 0); setImmediate((a) => log.push("imm" + a), 1); Promise.resolve().then(() => log.push("p")); await tick(10); return log; });
    await r.ack("clearImmediate", async () => { const log = []; const i = setImmediate(() => log.push("i")); clearImmediate(i); clearImmediate(undefined); clearImmediate(5); await tick(5); return log; });
    r.ck("immediate ref", () => { const i = setImmediate(() => {}); const out = [i.hasRef(), i.unref() === i, i.hasRef(), i.ref() === i]; clearImmediate(i); return out; });
    r.ck("global", () => [typeof global, global === globalThis, desc(globalThis, "global")]);
    // setImmediate/clearImmediate live on workerd's global prototype (see
    // KNOWN_DIFFERENCES.md, "Globals' home"): only their name and length here.
    r.ck("descs", () => ["setTimeout", "setInterval", "clearTimeout", "clearInterval"].map((k) => [k, desc(globalThis, k), globalThis[k].name, globalThis[k].length]));
    r.ck("immediate fns", () => ["setImmediate", "clearImmediate"].map((k) => [k, typeof globalThis[k], globalThis[k].name, globalThis[k].length]));
    r.ck("setTimeout string", () => setTimeout("1+1"));
    r.ck("setTimeout none", () => setTimeout());
    r.ck("setInterval null", () => setInterval(null));
    r.ck("setImmediate none", () => setImmediate());
    r.ck("setImmediate string", () => setImmediate("x"));
    r.ck("queueMicrotask string", () => queueMicrotask("x"));
    r.ck("queueMicrotask none", () => queueMicrotask());
    r.ck("delay coercion", () => { const t = setTimeout(() => {}, "10"); clearTimeout(t); const u = setTimeout(() => {}, { valueOf() { return 3; } }); clearTimeout(u); return "ok"; });
    await r.ack("negative delay", async () => { const log = []; setTimeout(() => log.push("neg"), -5); setTimeout(() => log.push("nan"), NaN); await tick(5); return log; });
    r.ck("received", () => [() => setTimeout({}), () => setTimeout(Symbol("q")), () => setTimeout("abcdefghijklmnopqrstuvwxyz0123456789"), () => setInterval(5), () => setTimeout(new (class Foo {})()), () => setTimeout([1])].map((f) => {
      try {
        f();
        return "no throw";
      } catch (e) {
        return [e.name, e.message, e.code];
      }
    }));
    r.ck("clearImmediate wrong", () => [5, {}, "x"].map((v) => {
      try {
        clearImmediate(v);
        return "ok";
      } catch (e) {
        return e.message;
      }
    }));
    r.ck("clearImmediate nullish", () => [clearImmediate(undefined), clearImmediate(null)]);
    r.ck("clearTimeout of an Immediate", () => {
      const i = setImmediate(() => {});
      clearTimeout(i);
      clearImmediate(i);
      return "ok";
    });
    return r.response();
  },
};
