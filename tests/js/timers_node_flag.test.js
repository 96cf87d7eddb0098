// compatibility_date: 2026-01-01
// flags: enable_nodejs_global_timers
// The flag alone (without nodejs_compat) gives Timeout objects but no
// setImmediate or `global`, as on workerd 2026-11-23.
import { test, assert, assertEquals, suite } from "./harness.js";

test("Timeout objects without nodejs_compat", async () => {
  const t = setTimeout(() => {}, 1000);
  assertEquals([typeof t, t.constructor.name, typeof +t, t.hasRef()], ["object", "Timeout", "number", true]);
  clearTimeout(t);
  assertEquals([typeof globalThis.setImmediate, typeof globalThis.global], ["undefined", "undefined"]);
  const log = [];
  const a = setTimeout(() => log.push("a"), 1);
  const b = setInterval(() => log.push("b"), 1);
  clearTimeout(+a); // the number clears it too
  b.close();
  await new Promise((r) => setTimeout(r, 10));
  assertEquals(log, []);
});

export default suite();
