import { Rec, settle } from "./prelude.js";

const enc = new TextEncoder();

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/upper") {
      // A streaming response through a TransformStream.
      const upper = new TransformStream({
        transform(chunk, c) {
          c.enqueue(enc.encode(new TextDecoder().decode(chunk).toUpperCase()));
        },
        flush(c) {
          c.enqueue(enc.encode("!END"));
        },
      });
      const src = new ReadableStream({
        start(c) {
          c.enqueue(enc.encode("abc "));
          c.enqueue(enc.encode("def"));
          c.close();
        },
      });
      return new Response(src.pipeThrough(upper), { headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    if (url.pathname === "/echo-upper") {
      return new Response(request.body.pipeThrough(new TextDecoderStream()).pipeThrough(
        new TransformStream({ transform(s, c) { c.enqueue(s.toUpperCase()); } }),
      ).pipeThrough(new TextEncoderStream()));
    }
    const r = new Rec();
    await r.ack("text decoder stream", async () => {
      const s = new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array([0xe2, 0x82]));
          c.enqueue(new Uint8Array([0xac, 0x61]));
          c.close();
        },
      });
      return new Response(s.pipeThrough(new TextDecoderStream())).text();
    });
    await r.ack("text decoder stream reader", async () => {
      const s = new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array([0xe2, 0x82]));
          c.enqueue(new Uint8Array([0xac, 0x61]));
          c.close();
        },
      });
      const out = [];
      for await (const chunk of s.pipeThrough(new TextDecoderStream())) out.push(chunk);
      return out;
    });
    await r.ack("text decoder stream fatal", async () => {
      const s = new ReadableStream({ start(c) { c.enqueue(new Uint8Array([0xff])); c.close(); } });
      return settle(new Response(s.pipeThrough(new TextDecoderStream("utf-8", { fatal: true }))).text());
    });
    await r.ack("decoder stream props", async () => {
      const d = new TextDecoderStream("latin1");
      return [d.encoding, d.fatal, d.ignoreBOM, typeof d.readable, typeof d.writable];
    });
    await r.ack("encoder stream", async () => {
      const s = new ReadableStream({ start(c) { c.enqueue("\uD83D"); c.enqueue("\uDE00a"); c.close(); } });
      return new Response(s.pipeThrough(new TextEncoderStream())).arrayBuffer();
    });
    await r.ack("transform order", async () => {
      const log = [];
      const t = new TransformStream({
        start() { log.push("start"); },
        transform(x, c) { log.push("t" + x); c.enqueue(x * 2); },
        flush() { log.push("flush"); },
      });
      const w = t.writable.getWriter();
      w.write(1);
      w.write(2);
      w.close();
      const out = [];
      const reader = t.readable.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out.push(value);
      }
      return [log, out];
    });
    await r.ack("transform throws", async () => {
      const t = new TransformStream({ transform() { throw new RangeError("nope"); } });
      const w = t.writable.getWriter();
      const rp = settle(t.readable.getReader().read());
      const wp = settle(w.write("x"));
      return [await wp, await rp];
    });
    await r.ack("identity transform", async () => {
      const t = new IdentityTransformStream();
      const w = t.writable.getWriter();
      w.write(new Uint8Array([1, 2]));
      w.close();
      return new Response(t.readable).arrayBuffer();
    });
    await r.ack("identity rejects string", async () => {
      const t = new IdentityTransformStream();
      const w = t.writable.getWriter();
      const rp = settle(t.readable.getReader().read());
      return [await settle(w.write("str")), await rp];
    });
    await r.ack("pipeTo abort", async () => {
      const ac = new AbortController();
      const src = new ReadableStream({ pull(c) { c.enqueue(1); } });
      const dst = new WritableStream();
      const p = src.pipeTo(dst, { signal: ac.signal });
      ac.abort();
      return settle(p);
    });
    await r.ack("pipeTo preventClose", async () => {
      const chunks = [];
      let closed = false;
      const dst = new WritableStream({ write(c) { chunks.push(c); }, close() { closed = true; } });
      const src = new ReadableStream({ start(c) { c.enqueue("a"); c.close(); } });
      await src.pipeTo(dst, { preventClose: true });
      return [chunks, closed, dst.locked];
    });
    await r.ack("fixed length ok", async () => {
      const f = new FixedLengthStream(3);
      const w = f.writable.getWriter();
      w.write(new Uint8Array([1, 2, 3]));
      w.close();
      return new Response(f.readable).arrayBuffer();
    });
    return r.response();
  },
};
