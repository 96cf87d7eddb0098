"use strict";
// Globals every other file relies on: defineGlobal, console, timers,
// queueMicrotask, reportError, navigator.
((globalThis, internals) => {
  const ops = internals.ops;

  internals.defineGlobal = (name, value) => {
    Object.defineProperty(globalThis, name, {
      value,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  };
  const defineGlobal = internals.defineGlobal;

  // ---- console -----------------------------------------------------------
  function inspect(value, depth = 2, seen = [], top = true) {
    switch (typeof value) {
      case "string":
        return top ? value : quote(value);
      case "number":
        return Object.is(value, -0) ? "-0" : String(value);
      case "bigint":
        return `${value}n`;
      case "boolean":
      case "undefined":
        return String(value);
      case "symbol":
        return value.toString();
      case "function": {
        const name = value.name ? `: ${value.name}` : " (anonymous)";
        const kind = /^class\s/.test(Function.prototype.toString.call(value)) ? "class" : "Function";
        return kind === "class" ? `[class ${value.name || "(anonymous)"}]` : `[${kind}${name}]`;
      }
    }
    if (value === null) return "null";
    if (seen.includes(value)) return "[Circular *1]";
    if (value instanceof Error) {
      return value.stack || `${value.name}: ${value.message}`;
    }
    if (value instanceof Date) return isNaN(value) ? "Invalid Date" : value.toISOString();
    if (value instanceof RegExp) return String(value);
    if (depth < 0) return Array.isArray(value) ? "[Array]" : "[Object]";
    seen = [...seen, value];
    const inner = (v) => inspect(v, depth - 1, seen, false);
    if (Array.isArray(value)) {
      const items = value.slice(0, 100).map(inner);
      if (value.length > 100) items.push(`... ${value.length - 100} more items`);
      return items.length ? `[ ${items.join(", ")} ]` : "[]";
    }
    if (value instanceof Map) {
      const items = [...value].map(([k, v]) => `${inner(k)} => ${inner(v)}`);
      return `Map(${value.size}) {${items.length ? ` ${items.join(", ")} ` : ""}}`;
    }
    if (value instanceof Set) {
      const items = [...value].map(inner);
      return `Set(${value.size}) {${items.length ? ` ${items.join(", ")} ` : ""}}`;
    }
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      const items = Array.from(value.slice(0, 100), (x) => inner(x));
      return `${value.constructor.name}(${value.length}) [${items.length ? ` ${items.join(", ")} ` : ""}]`;
    }
    if (value instanceof ArrayBuffer) return `ArrayBuffer { byteLength: ${value.byteLength} }`;
    if (value instanceof Promise) return "Promise { <state unknown> }";
    const proto = Object.getPrototypeOf(value);
    const ctor = proto && proto.constructor && proto.constructor.name;
    const tag = value[Symbol.toStringTag];
    let prefix = "";
    if (proto === null) prefix = "[Object: null prototype] ";
    else if (ctor && ctor !== "Object") prefix = `${ctor} `;
    else if (tag) prefix = `Object [${tag}] `;
    const keys = Object.keys(value);
    const items = keys.map((k) => {
      const key = /^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k);
      return `${key}: ${inner(value[k])}`;
    });
    return items.length ? `${prefix}{ ${items.join(", ")} }` : `${prefix}{}`;
  }

  function quote(s) {
    const q = s.includes("'") && !s.includes('"') ? '"' : "'";
    return q + s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(q === "'" ? /'/g : /"/g, `\\${q}`) + q;
  }

  function format(args) {
    if (args.length === 0) return "";
    let first = args[0];
    let rest = 1;
    let out;
    if (typeof first === "string" && first.includes("%")) {
      out = first.replace(/%([sdifjoOc%])/g, (m, c) => {
        if (c === "%") return "%";
        if (rest >= args.length) return m;
        const a = args[rest++];
        switch (c) {
          case "s":
            return typeof a === "string" ? a : inspect(a, 1, [], false);
          case "d":
          case "i":
            return typeof a === "bigint" ? `${a}n` : String(c === "i" ? parseInt(a) : Number(a));
          case "f":
            return String(parseFloat(a));
          case "j":
            try {
              return JSON.stringify(a);
            } catch {
              return "[Circular]";
            }
          case "c":
            return "";
          default:
            return inspect(a, 2, [], false);
        }
      });
    } else {
      out = inspect(first);
    }
    for (; rest < args.length; rest++) out += " " + inspect(args[rest]);
    return out;
  }
  internals.inspect = inspect;
  internals.format = format;

  const counts = new Map();
  const timersByLabel = new Map();
  const consoleObject = {
    log: (...a) => ops.log(1, format(a)),
    info: (...a) => ops.log(1, format(a)),
    debug: (...a) => ops.log(0, format(a)),
    warn: (...a) => ops.log(2, format(a)),
    error: (...a) => ops.log(3, format(a)),
    trace: (...a) => ops.log(1, `Trace: ${format(a)}\n${new Error().stack.split("\n").slice(2).join("\n")}`),
    assert: (cond, ...a) => {
      if (!cond) ops.log(3, `Assertion failed${a.length ? ": " + format(a) : ""}`);
    },
    count: (label = "default") => {
      const n = (counts.get(label) || 0) + 1;
      counts.set(label, n);
      ops.log(1, `${label}: ${n}`);
    },
    countReset: (label = "default") => counts.delete(label),
    time: (label = "default") => timersByLabel.set(label, Date.now()),
    timeLog: (label = "default", ...a) => {
      const t = timersByLabel.get(label);
      if (t !== undefined) ops.log(1, `${label}: ${Date.now() - t}ms${a.length ? " " + format(a) : ""}`);
    },
    timeEnd: (label = "default") => {
      const t = timersByLabel.get(label);
      if (t !== undefined) {
        timersByLabel.delete(label);
        ops.log(1, `${label}: ${Date.now() - t}ms`);
      }
    },
    table: (data) => ops.log(1, inspect(data)),
    dir: (obj) => ops.log(1, inspect(obj)),
    group: (...a) => a.length && ops.log(1, format(a)),
    groupEnd: () => {},
  };
  defineGlobal("console", consoleObject);

  // ---- errors outside any promise chain ------------------------------------
  function reportError(e) {
    ops.log(3, `Uncaught ${e instanceof Error ? e.stack || e : inspect(e, 2, [], false)}`);
  }
  internals.reportError = reportError;
  defineGlobal("reportError", reportError);

  function queueMicrotask(callback) {
    if (typeof callback !== "function") {
      throw new TypeError("Failed to execute 'queueMicrotask': parameter 1 is not of type 'Function'.");
    }
    Promise.resolve().then(() => {
      try {
        callback();
      } catch (e) {
        reportError(e);
      }
    });
  }
  defineGlobal("queueMicrotask", queueMicrotask);

  // ---- timers --------------------------------------------------------------
  let nextTimerId = 1;
  const liveTimers = new Map();

  function startTimer(callback, delay, args, repeat) {
    if (typeof callback !== "function") {
      throw new TypeError("The \"callback\" argument must be of type function.");
    }
    delay = Number(delay);
    if (!(delay >= 0) || !isFinite(delay)) delay = 0;
    const id = nextTimerId++;
    liveTimers.set(id, true);
    const arm = () => {
      ops.timer(delay).then(() => {
        if (!liveTimers.has(id)) return;
        if (!repeat) liveTimers.delete(id);
        try {
          callback(...args);
        } catch (e) {
          reportError(e);
        }
        if (repeat && liveTimers.has(id)) arm();
      });
    };
    arm();
    return id;
  }
  function clearTimer(id) {
    liveTimers.delete(Number(id));
  }
  defineGlobal("setTimeout", (cb, ms = 0, ...args) => startTimer(cb, ms, args, false));
  defineGlobal("setInterval", (cb, ms = 0, ...args) => startTimer(cb, ms, args, true));
  defineGlobal("clearTimeout", clearTimer);
  defineGlobal("clearInterval", clearTimer);
  internals.sleep = (ms) => ops.timer(ms);

  defineGlobal("self", globalThis);
  defineGlobal("navigator", Object.freeze({ userAgent: "Cloudflare-Workers", hardwareConcurrency: 1, language: "en" }));
})
