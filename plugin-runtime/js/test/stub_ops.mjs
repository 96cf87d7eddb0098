// Shared by the node unit tests: the native ops the bootstrap files need,
// stubbed with Node's own URL / TextEncoder / TextDecoder, and a loader that
// runs bootstrap files into a node:vm context as the runtime does.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { fileURLToPath } from "node:url";

const jsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

export function components(u) {
  return [u.href, u.protocol, u.username, u.password, u.host, u.hostname, u.port,
    u.pathname, u.search, u.hash, u.origin];
}

/** URL and text-encoding ops for the context whose global is `g`. */
export function webOps(g) {
  let nextId = 1;
  const decoders = new Map();
  return {
    urlParse(input, base) {
      try {
        return components(new URL(input, base));
      } catch {
        return null;
      }
    },
    urlSet(href, setter, value) {
      if (setter === "href") {
        try {
          return components(new URL(value));
        } catch {
          return null;
        }
      }
      const u = new URL(href);
      u[setter] = value;
      return components(u);
    },
    encodeUtf8(s) {
      const b = new TextEncoder().encode(s);
      return new g.Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    encodeUtf8Into(s, u8) {
      const r = new TextEncoder().encodeInto(s, u8);
      return [r.read, r.written];
    },
    encodingForLabel(label) {
      try {
        return new TextDecoder(label).encoding;
      } catch {
        return null;
      }
    },
    decoderNew(name, fatal, ignoreBOM) {
      const id = nextId++;
      decoders.set(id, new TextDecoder(name, { fatal, ignoreBOM }));
      return id;
    },
    decoderDecode(id, bytes, stream) {
      try {
        return decoders.get(id).decode(bytes, { stream });
      } catch {
        throw new g.TypeError("The encoded data was not valid.");
      }
    },
    decoderFree(id) {
      decoders.delete(id);
    },
  };
}

/** `internals.defineGlobal` as 00_core.js has it, on `g`. */
export function defineGlobalOn(g) {
  return (name, value) => {
    Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
  };
}

/** Runs bootstrap `files` (names in plugin-runtime/js) in `ctx`, in order. */
export function runFiles(ctx, g, internals, files) {
  // Every bootstrap file reads the built-ins it uses from internals.primordials.
  if (!internals.primordials && files[0] !== "00_primordials.js") files = ["00_primordials.js", ...files];
  // Without 00_core.js (which defines them): the per-worker init hooks.
  if (!internals.onWorkerInit && !files.includes("00_core.js")) {
    const hooks = [];
    internals.onWorkerInit = (hook) => hooks.push(hook);
    internals.initWorker = () => hooks.splice(0).forEach((hook) => hook());
  }
  // 20_streams.js and 25_blob_formdata.js take the pristine built-ins from
  // 19_pristine.js, and are shaped by 90_dispatch.js's webClassShape (they
  // load after it, on first use, in the runtime).
  const lazyAt = files.findIndex((f) => f === "20_streams.js" || f === "25_blob_formdata.js");
  if (lazyAt >= 0 && !files.includes("19_pristine.js")) {
    files = [...files.slice(0, lazyAt), "19_pristine.js", ...files.slice(lazyAt)];
  }
  if (!internals.webClassShape) internals.webClassShape = () => {};
  if (!internals.loadStreams) internals.loadStreams = () => internals.streams;
  if (!internals.loadBlob) internals.loadBlob = () => internals.blob;
  for (const f of files) {
    const src = fs.readFileSync(path.join(jsDir, f), "utf8");
    const fn = vm.runInContext(src, ctx, { filename: f });
    assert.equal(typeof fn, "function", `${f} must evaluate to a function`);
    fn(g, internals);
  }
  // What the runtime does once the startup snapshot is restored.
  if (internals.initWorker) internals.initWorker();
}
