// compatibility_date: 2026-11-01
// flags: no_nodejs_global_timers
// nodejs_compat (on by default at this date) without the Node.js global
// timers: numeric ids, but setImmediate, clearImmediate and `global` are
// there, and node:timers still returns Timeout objects (workerd 2026-11-23).
import { test, assert, assertEquals, suite } from "./harness.js";
import * as timers from "node:timers";

test("numeric global timers beside setImmediate and global", async () => {
  const t = setTimeout(() => {}, 1000);
  clearTimeout(t);
  assertEquals(typeof t, "number");
  assert(global === globalThis);
  const log = [];
  const i = setImmediate((x) => log.push(x), "imm");
  assertEquals(Object.prototype.toString.call(i), "[object Immediate]");
  await new Promise((r) => setTimeout(r, 5));
  assertEquals(log, ["imm"]);
  const j = setImmediate(() => log.push("no"));
  clearImmediate(j);
  await new Promise((r) => setTimeout(r, 5));
  assertEquals(log, ["imm"]);
});

test("node:timers returns Timeout objects whatever the globals are", async () => {
  const t = timers.setTimeout(() => {}, 1000);
  assertEquals(t.constructor.name, "Timeout");
  assertEquals(t.unref(), t);
  assertEquals(t.hasRef(), false);
  timers.clearTimeout(t);
  const log = [];
  const r = timers.setTimeout(() => log.push("r"), 3);
  r.refresh();
  await new Promise((res) => setTimeout(res, 15));
  assertEquals(log, ["r"]);
});

export default suite();
