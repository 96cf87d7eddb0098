// compatibility_date: 2026-11-01
// From 2026-08-04 workerd enables nodejs_compat by default. This worker
// imports no node: module, so the Node.js globals load on first use.
import { test, assert, assertEquals, suite } from "./harness.js";

test("Buffer and process exist without the flag and load on first use", () => {
  const d = Object.getOwnPropertyDescriptor(globalThis, "Buffer");
  assert(d && "value" in d && d.writable && !d.enumerable);
  assertEquals(typeof Buffer, "function");
  assertEquals(Buffer.from("hi").toString("base64"), "aGk=");
  assert(Buffer.from("x") instanceof Uint8Array);
  assertEquals(typeof process, "object");
  assertEquals(process.env.NAME, "value");
  assertEquals(typeof process.nextTick, "function");
});

test("the loaded Buffer is the one global value from then on", () => {
  const a = Buffer;
  assert(a === globalThis.Buffer);
  assertEquals(Buffer.byteLength("héllo"), 6);
});

export default suite();
