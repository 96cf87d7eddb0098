// Records the golden answers in expected/<script>.json by running every
// script under real workerd. Run through record.sh (which finds workerd).
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const workerd = process.env.WORKERD;
const COMPAT_DATE = fs.readFileSync(path.join(here, "COMPAT_DATE"), "utf8").trim();
// Headers that say nothing about the worker's behaviour.
export const IGNORED_HEADERS = ["date", "server", "connection", "keep-alive", "transfer-encoding", "cf-ray"];

const requests = fs
  .readFileSync(path.join(here, "requests.txt"), "utf8")
  .split("\n")
  .filter((l) => l.trim() && !l.startsWith("#"))
  .map((l) => JSON.parse(l));
const only = process.argv.slice(2);
const scripts = [...new Set(requests.map((r) => r.script))].filter((s) => !only.length || only.includes(s));

// The origin env.ORIGIN points at: the same behaviour as tests/common's
// Origin ("diff"), which the cargo test uses.
const TAG = "diff";
const originServer = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const u = new URL(req.url, "http://x");
    const send = (status, headers, body) => {
      res.writeHead(status, { "content-length": Buffer.byteLength(body), ...headers });
      // A Buffer: with a string body Node writes the head as UTF-8, not Latin-1.
      res.end(req.method === "HEAD" ? undefined : Buffer.from(body, "utf8"));
    };
    const status = u.pathname.match(/^\/status\/(\d+)$/);
    if (status) return send(Number(status[1]), { "x-origin": TAG }, `status ${status[1]}`);
    if (u.pathname === "/redirect") {
      const q = u.search.slice(1);
      const to = decodeURIComponent(q.startsWith("to=") ? q.slice(3) : "/");
      // As UTF-8 bytes (Node writes header strings as Latin-1), as tests/common's origin does.
      return send(302, { location: Buffer.from(to, "utf8").toString("latin1") }, "moved");
    }
    const headers = {};
    // Values decoded as UTF-8 (invalid bytes as U+FFFD), as tests/common's origin does.
    for (let k = 0; k < req.rawHeaders.length; k += 2) {
      headers[req.rawHeaders[k].toLowerCase()] = Buffer.from(req.rawHeaders[k + 1], "latin1").toString("utf8");
    }
    const echo = { origin: TAG, method: req.method, path: u.pathname, query: u.search.slice(1), headers, body: Buffer.concat(chunks).toString("utf8") };
    res.setHeader("set-cookie", ["a=1", "b=2"]);
    return send(200, { "content-type": "application/json", "x-origin": TAG }, JSON.stringify(echo));
  });
});
await new Promise((r) => originServer.listen(0, "127.0.0.1", r));
const ORIGIN = `http://127.0.0.1:${originServer.address().port}`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "diff-workerd-"));
for (const f of fs.readdirSync(here).filter((f) => f.endsWith(".js"))) {
  fs.copyFileSync(path.join(here, f), path.join(dir, f));
}
const basePort = 20000 + (process.pid % 20000);
const port = (i) => basePort + i;
// sw_*.js scripts use service-worker syntax: no modules.
const code = (s) =>
  s.startsWith("sw_")
    ? `serviceWorkerScript = embed "${s}.js",`
    : `modules = [(name = "${s}.js", esModule = embed "${s}.js"), (name = "prelude.js", esModule = embed "prelude.js")],`;
const services = scripts
  .map(
    (s) => `    (name = "${s}", worker = (
      ${code(s)}
      compatibilityDate = "${COMPAT_DATE}",
      bindings = [(name = "ORIGIN", text = "${ORIGIN}")],
      globalOutbound = "net",
    )),`,
  )
  .join("\n");
const sockets = scripts.map((s, i) => `    (name = "${s}", address = "127.0.0.1:${port(i)}", http = (), service = "${s}"),`).join("\n");
fs.writeFileSync(
  path.join(dir, "config.capnp"),
  `using Workerd = import "/workerd/workerd.capnp";\nconst config :Workerd.Config = (\n  services = [\n${services}\n    (name = "net", network = (allow = ["public", "private", "local"])),\n  ],\n  sockets = [\n${sockets}\n  ],\n);\n`,
);

const child = spawn(workerd, ["serve", path.join(dir, "config.capnp")], { stdio: ["ignore", "inherit", "inherit"] });
process.on("exit", () => child.kill());

function send(i, req) {
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? null : Buffer.from(req.body, "utf8");
    // Node writes header strings as Latin-1: `headers` values go out as
    // their UTF-8 bytes, `latin1_headers` values one byte per character.
    const headers = { host: `${req.script.replaceAll("_", "-")}.test` };
    for (const [k, v] of Object.entries(req.headers || {})) headers[k] = Buffer.from(v, "utf8").toString("latin1");
    Object.assign(headers, req.latin1_headers || {});
    // `chunked`: the body goes out chunked (Node adds the framing).
    if (req.chunked) headers["transfer-encoding"] = "chunked";
    else if (body) headers["content-length"] = String(body.length);
    const r = http.request({ host: "127.0.0.1", port: port(i), method: req.method, path: req.path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ res, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    r.on("error", reject);
    r.end(body ?? undefined);
  });
}

async function waitUp(i) {
  for (let n = 0; n < 200; n++) {
    try {
      await send(i, { script: scripts[i], method: "OPTIONS", path: "/__ping" });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error("workerd did not start");
}

export function recordOf(req, res, body) {
  const headers = {};
  for (let k = 0; k < res.rawHeaders.length; k += 2) {
    const name = res.rawHeaders[k].toLowerCase();
    if (IGNORED_HEADERS.includes(name)) continue;
    (headers[name] ??= []).push(res.rawHeaders[k + 1]);
  }
  const text = body.toString("utf8");
  const valid = Buffer.from(text, "utf8").equals(body);
  return {
    request: req,
    status: res.statusCode,
    headers,
    ...(valid ? { body: text } : { body_base64: body.toString("base64") }),
  };
}

await waitUp(0);
for (const [i, script] of scripts.entries()) {
  const out = [];
  for (const req of requests.filter((r) => r.script === script)) {
    const { res, body } = await send(i, req);
    out.push(recordOf(req, res, body));
  }
  fs.writeFileSync(path.join(here, "expected", `${script}.json`), JSON.stringify(out, null, 1) + "\n");
  console.log(`${script}: ${out.length} responses recorded`);
}
child.kill();
originServer.close();
fs.rmSync(dir, { recursive: true, force: true });
