import { Rec, tick } from "./prelude.js";

export default {
  async fetch() {
    const r = new Rec();
    await r.ack("ordering", async () => {
      const log = [];
      setTimeout(() => log.push("t20"), 20);
      setTimeout(() => log.push("t0a"), 0);
      setTimeout(() => log.push("t0b"));
      setTimeout(() => log.push("t5"), 5);
      queueMicrotask(() => log.push("micro"));
      Promise.resolve().then(() => log.push("promise"));
      log.push("sync");
      await tick(40);
      return log;
    });
    await r.ack("clear", async () => {
      const log = [];
      const id = setTimeout(() => log.push("no"), 1);
      clearTimeout(id);
      clearTimeout(undefined);
      clearTimeout(12345);
      await tick(10);
      return log;
    });
    await r.ack("interval", async () => {
      let n = 0;
      await new Promise((res) => {
        const id = setInterval(() => {
          if (++n === 3) {
            clearInterval(id);
            res();
          }
        }, 1);
      });
      return n;
    });
    await r.ack("args", async () => new Promise((res) => setTimeout((a, b) => res([a, b]), 0, "x", 2)));
    await r.ack("nested microtasks", async () => {
      const log = [];
      queueMicrotask(() => {
        log.push(1);
        queueMicrotask(() => log.push(3));
      });
      queueMicrotask(() => log.push(2));
      await tick(0);
      return log;
    });
    r.ck("clearInterval works for timeout", () => {
      const id = setTimeout(() => {}, 1);
      clearInterval(id);
      return "ok";
    });
    await r.ack("scheduler.wait", async () => (typeof scheduler === "object" && typeof scheduler.wait === "function" ? (await scheduler.wait(1), "ok") : "absent"));
    return r.response();
  },
};
