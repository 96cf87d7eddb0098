// Shared by the differential scripts: records observations as a JSON object,
// so one script covers many behaviours and a mismatch names the exact one.
export function err(e) {
  if (e === null || typeof e !== "object") return "threw " + String(e);
  const ctor = e.constructor && e.constructor.name;
  return `threw ${ctor}/${e.name}: ${e.message}`;
}

export function show(v) {
  if (v === undefined) return "undefined";
  if (typeof v === "bigint") return v + "n";
  if (typeof v === "function") return "function " + v.name;
  if (typeof v === "symbol") return v.toString();
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (v instanceof ArrayBuffer) return "ArrayBuffer[" + [...new Uint8Array(v)] + "]";
  if (ArrayBuffer.isView(v)) {
    return v.constructor.name + "[" + [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)] + "]";
  }
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : JSON.parse(s);
  } catch {
    return String(v);
  }
}

export class Rec {
  constructor() {
    this.o = {};
  }
  ck(k, f) {
    try {
      this.o[k] = show(f());
    } catch (e) {
      this.o[k] = err(e);
    }
  }
  async ack(k, f) {
    try {
      this.o[k] = show(await withTimeout(f()));
    } catch (e) {
      this.o[k] = err(e);
    }
  }
  set(k, v) {
    this.o[k] = show(v);
  }
  response(init) {
    return new Response(JSON.stringify(this.o, null, 1) + "\n", {
      headers: { "content-type": "application/json" },
      ...init,
    });
  }
}

// A promise that never settles is an observation too ("hung"), not a hang.
function withTimeout(p, ms = 2000) {
  let id;
  const t = new Promise((resolve) => {
    id = setTimeout(() => resolve("hung"), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(id));
}

// Settles `p` and reports how: "ok <value>" or "threw ...".
export async function settle(p) {
  try {
    return show(await p);
  } catch (e) {
    return err(e);
  }
}

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
