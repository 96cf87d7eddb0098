"use strict";
// node:path - the POSIX implementation (workerd's node:path is POSIX too).
((globalThis, internals) => {
  const {
    Boolean,
    Error,
  } = internals.primordials;
  const node = (internals.node ??= { __proto__: null });
  const errors = internals.nodeErrors;
  const check = (name, v) => {
    if (typeof v !== "string") throw errors.invalidArgType(name, "of type string", v);
  };
  function normalizeParts(path, allowAboveRoot) {
    const out = [];
    for (const seg of path.split("/")) {
      if (seg === "" || seg === ".") continue;
      if (seg === "..") {
        if (out.length && out[out.length - 1] !== "..") out.pop();
        else if (allowAboveRoot) out.push("..");
      } else out.push(seg);
    }
    return out.join("/");
  }
  const posix = {
    sep: "/",
    delimiter: ":",
    resolve(...args) {
      let resolved = "";
      let absolute = false;
      for (let i = args.length - 1; i >= -1 && !absolute; i--) {
        const p = i >= 0 ? args[i] : "/";
        check(`paths[${i}]`, p);
        if (p.length === 0) continue;
        resolved = `${p}/${resolved}`;
        absolute = p[0] === "/";
      }
      resolved = normalizeParts(resolved, !absolute);
      return absolute ? `/${resolved}` : resolved.length ? resolved : ".";
    },
    normalize(path) {
      check("path", path);
      if (path.length === 0) return ".";
      const abs = path[0] === "/";
      const trailing = path[path.length - 1] === "/";
      let p = normalizeParts(path, !abs);
      if (p.length === 0) {
        if (abs) return "/";
        return trailing ? "./" : ".";
      }
      if (trailing) p += "/";
      return abs ? `/${p}` : p;
    },
    isAbsolute(path) {
      check("path", path);
      return path.length > 0 && path[0] === "/";
    },
    join(...args) {
      if (args.length === 0) return ".";
      args.forEach((a, i) => check(`paths[${i}]`, a));
      const joined = args.filter((a) => a.length > 0).join("/");
      return joined.length === 0 ? "." : posix.normalize(joined);
    },
    relative(from, to) {
      check("from", from);
      check("to", to);
      if (from === to) return "";
      const f = posix.resolve(from).split("/").filter(Boolean);
      const t = posix.resolve(to).split("/").filter(Boolean);
      let i = 0;
      while (i < f.length && i < t.length && f[i] === t[i]) i++;
      return [...Array(f.length - i).fill(".."), ...t.slice(i)].join("/");
    },
    toNamespacedPath: (p) => p,
    dirname(path) {
      check("path", path);
      if (path.length === 0) return ".";
      let end = path.length;
      while (end > 1 && path[end - 1] === "/") end--;
      const i = path.lastIndexOf("/", end - 1);
      if (i === -1) return ".";
      if (i === 0) return "/";
      let d = path.slice(0, i);
      while (d.length > 1 && d.endsWith("/")) d = d.slice(0, -1);
      return d;
    },
    basename(path, suffix) {
      check("path", path);
      if (suffix !== undefined) check("suffix", suffix);
      let end = path.length;
      while (end > 0 && path[end - 1] === "/") end--;
      let base = path.slice(path.lastIndexOf("/", end - 1) + 1, end);
      if (suffix !== undefined && base.endsWith(suffix) && base !== suffix) base = base.slice(0, -suffix.length);
      return base;
    },
    extname(path) {
      check("path", path);
      const base = posix.basename(path);
      const i = base.lastIndexOf(".");
      return i <= 0 ? "" : base.slice(i);
    },
    parse(path) {
      check("path", path);
      const root = path[0] === "/" ? "/" : "";
      const base = posix.basename(path);
      const ext = posix.extname(path);
      let dir = posix.dirname(path);
      if (dir === "." && !path.includes("/")) dir = "";
      return { root, dir, base, ext, name: ext ? base.slice(0, -ext.length) : base };
    },
    format(obj) {
      if (obj === null || typeof obj !== "object") throw errors.invalidArgType("pathObject", "of type object", obj);
      const dir = obj.dir || obj.root;
      const base = obj.base || `${obj.name || ""}${obj.ext ? (obj.ext[0] === "." ? "" : ".") + obj.ext : ""}`;
      if (!dir) return base;
      return dir === obj.root ? `${dir}${base}` : `${dir}/${base}`;
    },
    matchesGlob() {
      throw errors.nodeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", "The matchesGlob() method is not implemented");
    },
  };
  posix.posix = posix;
  posix.win32 = posix;
  node.path = posix;
})
