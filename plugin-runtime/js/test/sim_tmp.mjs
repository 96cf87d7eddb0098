import vm from "node:vm"; import fs from "node:fs";
import { defineGlobalOn, runFiles, webOps } from "./stub_ops.mjs";
const ctx = vm.createContext({});
const g = vm.runInContext("globalThis", ctx);
vm.runInContext("globalThis.Response = class {}; globalThis.Request = class {}; globalThis.fetch = () => {}; globalThis.crypto = {};", ctx);
const internals = { ops: webOps(g), reportError: (e) => console.log("reported", e), defineGlobal: defineGlobalOn(g) };
runFiles(ctx, g, internals, ["10_webidl_events.js", "11_headers.js", "12_url.js", "13_encoding.js", "20_streams.js"]);
let src = fs.readFileSync(process.env.TAMPER || "/work/wt/prim/tests/containment/prim_tamper.js", "utf8").replace("export default {", "globalThis.__h = {").replace("if (c) globalThis[globals[i]] = hostile;", "");
src += `
globalThis.__run = async () => {
  tamper("corrupt");
  const enc = new P.TextEncoder();
  let n = 0;
  const source = new P.ReadableStream({ __proto__: null, pull(controller) { if (n === 3) controller.close(); else controller.enqueue(enc.encode("chunk" + n++ + ";")); } });
  const upper = new P.TransformStream({ __proto__: null, transform(chunk, controller) { controller.enqueue(chunk); } });
  const tail = source.pipeThrough(upper);
  const reader = tail.getReader();
  const out = [];
  for (;;) { const r = await reader.read(); if (r.done) break; append(out, r.value); }
  return out.length;
};`;
vm.runInContext(src, ctx);
const t = setTimeout(() => { console.log("HANG"); process.exit(1); }, 3000);
g.__run().then((v) => { console.log("ok", v); clearTimeout(t); }, (e) => { console.log("err", e); clearTimeout(t); });
