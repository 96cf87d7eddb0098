// Streams a generated response: timers between chunks, a TransformStream that
// counts bytes, and a trailer line written at flush.
const enc = new TextEncoder();

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const n = Math.min(Number(url.searchParams.get("n") ?? 5), 50);
    let i = 0;
    const source = new ReadableStream({
      async pull(c) {
        if (i >= n) {
          c.close();
          return;
        }
        await new Promise((r) => setTimeout(r, 1));
        c.enqueue(enc.encode(`line ${i++}\n`));
      },
    });
    let total = 0;
    const counter = new TransformStream({
      transform(chunk, c) {
        total += chunk.byteLength;
        c.enqueue(chunk);
      },
      flush(c) {
        c.enqueue(enc.encode(`total ${total} bytes\n`));
      },
    });
    if (url.pathname === "/ndjson") {
      const { readable, writable } = new TransformStream();
      const w = writable.getWriter();
      (async () => {
        for (let k = 0; k < n; k++) {
          await w.write(enc.encode(JSON.stringify({ k, sq: k * k }) + "\n"));
        }
        await w.close();
      })();
      return new Response(readable, { headers: { "content-type": "application/x-ndjson" } });
    }
    return new Response(source.pipeThrough(counter), {
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    });
  },
};
