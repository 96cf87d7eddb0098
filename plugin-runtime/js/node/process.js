"use strict";
// node:process - the parts a Worker can use: env (the worker's text
// bindings, under nodejs_compat_populate_process_env), nextTick, version,
// platform; the rest stubbed as workerd does.
((globalThis, internals) => {
  const {
    ArrayIsArray,
    BigInt,
    Error,
    MathFloor,
    ObjectAssign,
    ObjectDefineProperty,
    ObjectEntries,
    String,
    SymbolToStringTag,
    StringPrototypeStartsWith,
    StringPrototypeSlice,
    ObjectHasOwn,
  } = internals.primordials;
  const node = (internals.node ??= { __proto__: null });
  const errors = internals.nodeErrors;
  const flags = internals.compat.flags;
  const EventEmitter = internals.EventEmitter;

  const env = {};
  if (flags.populateProcessEnv && internals.env) {
    for (const [k, v] of ObjectEntries(internals.env)) if (typeof v === "string") env[k] = v;
  }

  function nextTick(callback, ...args) {
    if (typeof callback !== "function") throw errors.invalidArgType("callback", "of type function", callback);
    queueMicrotask(() => callback(...args));
  }
  const start = performance.now();
  function hrtime(prev) {
    const now = performance.timeOrigin + performance.now();
    let s = MathFloor(now / 1000);
    let ns = MathFloor((now % 1000) * 1e6);
    if (ArrayIsArray(prev)) {
      s -= prev[0];
      ns -= prev[1];
      if (ns < 0) {
        s--;
        ns += 1e9;
      }
    }
    return [s, ns];
  }
  hrtime.bigint = () => BigInt(MathFloor((performance.timeOrigin + performance.now()) * 1e6));

  const version = "v22.14.0";
  const process = new EventEmitter();
  ObjectAssign(process, {
    env,
    nextTick,
    version,
    versions: { node: version.slice(1) },
    platform: "linux",
    arch: "x64",
    title: "workerd",
    argv: ["workerd"],
    argv0: "workerd",
    execArgv: [],
    execPath: "",
    pid: 1,
    ppid: 0,
    exitCode: undefined,
    release: { name: "node" },
    features: {
      inspector: false,
      debug: false,
      uv: false,
      ipv6: true,
      tls_alpn: true,
      tls_sni: true,
      tls_ocsp: true,
      tls: true,
      cached_builtins: true,
      require_module: false,
      typescript: false,
    },
    hrtime,
    cwd: () => "/bundle",
    chdir() {
      throw errors.nodeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", "The chdir() method is not implemented");
    },
    uptime: () => (performance.now() - start) / 1000,
    memoryUsage: ObjectAssign(() => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }), {
      rss: () => 0,
    }),
    cpuUsage: () => ({ user: 0, system: 0 }),
    umask: () => 0o22,
    emitWarning(warning, type) {
      const name = typeof type === "string" ? type : (type?.type ?? "Warning");
      const msg = warning instanceof Error ? `${warning.name}: ${warning.message}` : `${name}: ${warning}`;
      console.warn(`(node) ${msg}`);
    },
    exit(code) {
      throw errors.nodeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", `process.exit(${code ?? ""}) is not supported`);
    },
    abort() {
      throw errors.nodeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", "process.abort() is not supported");
    },
    getBuiltinModule(id) {
      let name = String(id);
      if (StringPrototypeStartsWith(name, "node:")) name = StringPrototypeSlice(name, 5);
      return ObjectHasOwn(internals.node, name) ? internals.node[name] : undefined;
    },
  });
  ObjectDefineProperty(process, SymbolToStringTag, { __proto__: null, value: "process", configurable: true });
  node.process = process;
  internals.process = process;
  if (flags.nodeJsCompatV2) internals.defineGlobal("process", process);
})
