import { Rec, settle } from "./prelude.js";

export default {
  async fetch() {
    const r = new Rec();
    await r.ack("write order", async () => {
      const log = [];
      const ws = new WritableStream({
        start() { log.push("start"); },
        write(c) { log.push("w:" + c); },
        close() { log.push("close"); },
      });
      const w = ws.getWriter();
      await w.write("a");
      await w.write("b");
      await w.close();
      return log;
    });
    await r.ack("write error", async () => {
      const ws = new WritableStream({ write() { throw new Error("bad write"); } });
      const w = ws.getWriter();
      return [await settle(w.write(1)), await settle(w.closed)];
    });
    await r.ack("abort", async () => {
      let reason;
      const ws = new WritableStream({ abort(x) { reason = x; } });
      const w = ws.getWriter();
      await w.abort("stop");
      return [reason, await settle(w.closed)];
    });
    await r.ack("write after close", async () => {
      const w = new WritableStream().getWriter();
      w.close();
      return settle(w.write(1));
    });
    await r.ack("locked", async () => {
      const ws = new WritableStream();
      ws.getWriter();
      return [ws.locked, await settle((async () => ws.getWriter())())];
    });
    await r.ack("controller signal", async () => {
      let ctrl;
      new WritableStream({ start(c) { ctrl = c; } });
      return [typeof ctrl.signal, ctrl.signal.aborted, typeof ctrl.error];
    });
    await r.ack("close twice", async () => {
      const w = new WritableStream().getWriter();
      await w.close();
      return settle(w.close());
    });
    await r.ack("releaseLock", async () => {
      const ws = new WritableStream();
      const w = ws.getWriter();
      w.releaseLock();
      return [ws.locked, await settle(w.write(1))];
    });
    await r.ack("toStringTag", async () => [
      Object.prototype.toString.call(new WritableStream()),
      Object.prototype.toString.call(new WritableStream().getWriter()),
    ]);
    return r.response();
  },
};
