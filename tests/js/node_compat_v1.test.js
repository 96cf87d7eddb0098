// flags: nodejs_compat
// compatibility_date: 2024-09-01
// nodejs_compat before 2024-09-23 (v1): node: imports only, no Buffer or
// process globals, process.env left empty; navigator without language.
import { test, assert, assertEquals, suite } from "./harness.js";
import { Buffer } from "node:buffer";
import process from "node:process";

test("v1: no Buffer/process globals, node: imports work", () => {
  assertEquals(typeof globalThis.Buffer, "undefined");
  assertEquals(typeof globalThis.process, "undefined");
  assertEquals(Buffer.from("x").toString("hex"), "78");
  assertEquals(process.env.NAME, undefined);
});

test("compat date keys navigator", () => {
  assertEquals(navigator.userAgent, "Cloudflare-Workers");
  assertEquals(navigator.language, undefined);
});

export default suite();
