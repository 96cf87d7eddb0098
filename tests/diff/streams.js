import { Rec, settle } from "./prelude.js";

const readAll = async (stream) => {
  const reader = stream.getReader();
  const out = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(value);
  }
};

export default {
  async fetch() {
    const r = new Rec();
    const make = (items) =>
      new ReadableStream({
        start(c) {
          for (const i of items) c.enqueue(i);
          c.close();
        },
      });
    await r.ack("read all", () => readAll(make([1, "two", { three: 3 }])));
    await r.ack("pull order", async () => {
      const log = [];
      let n = 0;
      const s = new ReadableStream(
        {
          start() { log.push("start"); },
          pull(c) {
            log.push("pull" + n);
            if (n++ < 2) c.enqueue(n);
            else c.close();
          },
          cancel() { log.push("cancel"); },
        },
        { highWaterMark: 0 },
      );
      log.push(await readAll(s));
      return log;
    });
    await r.ack("tee", async () => {
      const [a, b] = make(["x", "y"]).tee();
      return [await readAll(a), await readAll(b)];
    });
    await r.ack("locked", async () => {
      const s = make([1]);
      s.getReader();
      return [s.locked, (() => { try { s.getReader(); } catch (e) { return e.name + ": " + e.message; } })()];
    });
    await r.ack("cancel reason", async () => {
      let reason;
      const s = new ReadableStream({ cancel(x) { reason = x; } });
      await s.cancel("why");
      return reason;
    });
    await r.ack("error propagates", async () => {
      const s = new ReadableStream({ start(c) { c.error(new TypeError("boom")); } });
      return settle(s.getReader().read());
    });
    await r.ack("releaseLock pending", async () => {
      const s = new ReadableStream();
      const reader = s.getReader();
      const p = reader.read();
      reader.releaseLock();
      return settle(p);
    });
    await r.ack("closed promise", async () => {
      const reader = make([]).getReader();
      return [await reader.closed, await reader.read()];
    });
    await r.ack("enqueue after close", async () => {
      let ctrl;
      new ReadableStream({ start(c) { ctrl = c; } });
      ctrl.close();
      ctrl.enqueue(1);
    });
    await r.ack("async iterator", async () => {
      const out = [];
      for await (const v of make(["a", "b"])) out.push(v);
      return out;
    });
    await r.ack("from", async () => (typeof ReadableStream.from === "function" ? readAll(ReadableStream.from(["p", "q"])) : "absent"));
    await r.ack("strategy size", async () => {
      let ctrl;
      new ReadableStream({ start(c) { ctrl = c; } }, new CountQueuingStrategy({ highWaterMark: 2 }));
      ctrl.enqueue(1);
      const bl = new ByteLengthQueuingStrategy({ highWaterMark: 10 });
      return [ctrl.desiredSize, bl.highWaterMark, bl.size(new Uint8Array(4))];
    });
    await r.ack("bad underlying source", async () => new ReadableStream({ type: "nope" }));
    await r.ack("toStringTags", async () => [
      Object.prototype.toString.call(new ReadableStream()),
      Object.prototype.toString.call(new ReadableStream().getReader()),
    ]);
    return r.response();
  },
};
