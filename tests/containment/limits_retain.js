// Attack: make the process hold memory through a module-level array that
// outlives each request (issue 9, item 4). Every kind of allocation must
// count against memory_mb: past it the worker gets 503 and a fresh isolate.
const keep = [];
const MiB = 1 << 20;

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    switch (path) {
      case "/encode":
        // Buffers created in Rust (the reported bug: 438 MiB RSS, no 503).
        keep.push(new TextEncoder().encode("a".repeat(4 * MiB)));
        break;
      case "/buffers":
        keep.push(new Uint8Array(4 * MiB).fill(1));
        break;
      case "/strings":
        keep.push("b".repeat(4 * MiB) + keep.length);
        break;
      case "/resizable": {
        // Reserves 1 GiB each; touches 4 MiB of it.
        const ab = new ArrayBuffer(0, { maxByteLength: 1024 * MiB });
        ab.resize(4 * MiB);
        new Uint8Array(ab).fill(2);
        keep.push(ab);
        break;
      }
      case "/grow-resizable": {
        // One resizable buffer, grown in place by every request.
        if (keep.length === 0) keep.push(new ArrayBuffer(0, { maxByteLength: 2048 * MiB }));
        const ab = keep[0];
        const before = ab.byteLength;
        ab.resize(before + 16 * MiB);
        new Uint8Array(ab, before).fill(3);
        break;
      }
      case "/wasm-memory": {
        // 64 pages = 4 MiB each, touched.
        const mem = new WebAssembly.Memory({ initial: 64 });
        new Uint8Array(mem.buffer).fill(4);
        keep.push(mem);
        break;
      }
      case "/wasm-grow": {
        if (keep.length === 0) keep.push(new WebAssembly.Memory({ initial: 1 }));
        const mem = keep[0];
        const before = mem.buffer.byteLength;
        mem.grow(256); // +16 MiB
        new Uint8Array(mem.buffer, before).fill(5);
        break;
      }
      case "/response-bodies": {
        // Bodies read from subrequests, held in JS.
        const res = await fetch(`${env.ORIGIN}/bytes/4194304`);
        keep.push(new Uint8Array(await res.arrayBuffer()));
        break;
      }
      case "/decompress": {
        // 4 MiB of zeros, gzipped (a few KiB), inflated and kept.
        const zeros = new Uint8Array(4 * MiB);
        const gz = await new Response(new Blob([zeros]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
        const out = await new Response(new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
        keep.push(out);
        break;
      }
      case "/count":
        break;
      default:
        return new Response("unknown attack", { status: 404 });
    }
    return new Response(String(keep.length));
  },
};
