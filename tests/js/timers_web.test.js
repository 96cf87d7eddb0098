// compatibility_date: 2026-01-01
// Before nodejs_compat is on by default and without it: the Web timers
// (numeric ids), no setImmediate or `global`; workerd 2026-11-23's answers.
import { test, assert, assertEquals, suite } from "./harness.js";

const message = (f) => {
  try {
    f();
    return "no throw";
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
};

test("setTimeout returns a number; no Node.js timer globals", async () => {
  const id = setTimeout(() => {}, 1000);
  clearTimeout(id);
  assertEquals(typeof id, "number");
  assertEquals([typeof globalThis.setImmediate, typeof globalThis.clearImmediate, typeof globalThis.global], ["undefined", "undefined", "undefined"]);
  const log = [];
  const t = setTimeout(() => log.push("t"), 1);
  clearTimeout(String(t)); // the Web timers take the id as a number
  await new Promise((r) => setTimeout(r, 10));
  assertEquals(log, []);
});

test("Web timers' messages are workerd's", () => {
  assertEquals(message(() => setTimeout("1+1")), "TypeError: Failed to execute 'setTimeout' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.");
  assertEquals(message(() => setInterval(5)), "TypeError: Failed to execute 'setInterval' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.");
  assertEquals(message(() => queueMicrotask(5)), "TypeError: Failed to execute 'queueMicrotask' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.");
});

test("timer callbacks get the global as this", async () => {
  const self = await new Promise((r) => setTimeout(function () { r(this); }, 0));
  assert(self === globalThis);
});

export default suite();
