// flags: nodejs_als
// compatibility_date: 2022-01-01
// nodejs_als alone: node:async_hooks only; an old date has no navigator.
import { test, assert, assertEquals, suite } from "./harness.js";
import { AsyncLocalStorage } from "node:async_hooks";

test("nodejs_als provides AsyncLocalStorage", async () => {
  const als = new AsyncLocalStorage();
  assertEquals(await als.run(7, async () => {
    await new Promise((r) => setTimeout(r, 1));
    return als.getStore();
  }), 7);
  assertEquals(Object.prototype.toString.call(als), "[object AsyncLocalStorage]");
});

test("before 2022-03-21 there is no navigator", () => {
  assert(!("navigator" in globalThis));
});

test("2022 dates: URLSearchParams ignores the value argument; only spec methods are upper-cased", () => {
  const p = new URLSearchParams("a=1&a=2");
  assert(p.has("a", "3"));
  p.delete("a", "1");
  assertEquals(p.toString(), "");
  assertEquals(new Request("http://x.test/", { method: "post" }).method, "POST");
  let threw = false;
  try {
    new Request("http://x.test/", { method: "patch" });
  } catch (e) {
    threw = e instanceof TypeError;
  }
  assert(threw, "patch is not a method before 2024-10-14");
});

export default suite();
