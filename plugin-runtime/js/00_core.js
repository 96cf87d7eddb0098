"use strict";
// Globals every other file relies on: defineGlobal, console, timers,
// queueMicrotask, reportError, navigator.
((globalThis, internals) => {
  const {
    Array,
    ArrayAppend,
    ArrayBuffer,
    ArrayFrom,
    ArrayIsArray,
    BigInt,
    Boolean,
    DataView,
    Date,
    DateNow,
    DatePrototypeGetTime,
    DatePrototypeToISOString,
    DatePrototypeToString,
    Error,
    ErrorCaptureStackTrace,
    ErrorPrototypeToString,
    FunctionPrototypeToString,
    JSONStringify,
    MapPrototypeEntries,
    MathFloor,
    MathMax,
    MathMin,
    MathRound,
    MathSqrt,
    Number,
    NumberIsNaN,
    NumberParseFloat,
    NumberParseInt,
    Object,
    ObjectAssign,
    ObjectCreate,
    ObjectDefineProperty,
    ObjectFreeze,
    ObjectGetOwnPropertyDescriptor,
    ObjectGetOwnPropertyNames,
    ObjectGetOwnPropertySymbols,
    ObjectGetPrototypeOf,
    ObjectIs,
    ObjectKeys,
    ObjectPrototypeHasOwnProperty,
    ObjectPrototypePropertyIsEnumerable,
    ObjectPrototypeToString,
    ObjectValues,
    Promise,
    RangeError,
    RegExp,
    RegExpPrototypeToString,
    SafeMap,
    SafeSet,
    SetPrototypeValues,
    String,
    Symbol,
    SymbolFor,
    SymbolIterator,
    SymbolToStringTag,
    TypeError,
    Uint8Array,
    WeakMapPrototypeHas,
    WeakSetPrototypeHas,
    isFinite,
    PromisePrototypeThen,
    ReflectApply,
    StringPrototypeCharCodeAt,
    StringPrototypeReplaceAll,
    StringPrototypeSlice,
    SymbolDispose,
    SymbolToPrimitive,
  } = internals.primordials;
  const ops = internals.ops;

  // This file and the ones after it run once per process, into the startup
  // snapshot (src/snapshot.rs). What depends on the worker (compatibility
  // date and flags, env) or on the moment an isolate starts is set up after
  // the snapshot is restored: each file registers a hook here, and the
  // runtime calls `internals.initWorker()` once `internals.compat` and
  // `internals.env` are set. Every isolate runs these functions, and none
  // runs while the snapshot is made, so each is written in parentheses,
  // `internals.onWorkerInit((() => { ... }))`: V8 then compiles it when the
  // file runs (its hint for a function about to be called), so its bytecode
  // is in the snapshot instead of being compiled again in every isolate.
  const workerInitHooks = [];
  internals.onWorkerInit = (hook) => {
    ArrayAppend(workerInitHooks, hook);
  };
  internals.initWorker = (() => {
    for (let i = 0; i < workerInitHooks.length; i++) workerInitHooks[i]();
  });

  // Prototypes of the runtime's Web API classes: inspect shows their
  // accessors (state lives in private fields), as workerd does for its
  // C++-backed types.
  const webPrototypes = new SafeSet();
  internals.defineGlobal = (name, value) => {
    if (typeof value === "function") {
      const c = StringPrototypeCharCodeAt(name, 0);
      const proto = ObjectGetOwnPropertyDescriptor(value, "prototype");
      if (c >= 65 && c <= 90 && proto !== undefined && proto.value) webPrototypes.add(proto.value);
    }
    // A lazily loaded file (95_lazy.js) hands its globals to the loader.
    if (internals.lazyTarget) {
      internals.lazyTarget.set(name, value);
      return;
    }
    ObjectDefineProperty(globalThis, name, {
      __proto__: null,
      value,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  };
  const defineGlobal = internals.defineGlobal;

  // ---- inspect: Node.js's util.inspect (workerd formats console output with
  // it), for the options console and util use: no colors, no showHidden.
  const customInspectSymbol = SymbolFor("nodejs.util.inspect.custom");
  const inspectDefaultOptions = {
    showHidden: false,
    depth: 2,
    colors: false,
    customInspect: true,
    showProxy: false,
    maxArrayLength: 100,
    maxStringLength: 10000,
    breakLength: 80,
    compact: 3,
    sorted: false,
    getters: false,
    numericSeparator: false,
  };
  const kObjectType = 0;
  const kArrayExtrasType = 2;
  const builtInObjects = new SafeSet(
    ObjectGetOwnPropertyNames(globalThis).filter((k) => /^[A-Z][a-zA-Z0-9]+$/.test(k)),
  );
  const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype);
  const typedArrayTag = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, SymbolToStringTag).get;
  const objToString = (v) => ObjectPrototypeToString(v);
  const brandCheck = (getter) => (v) => {
    try {
      getter.call(v);
      return true;
    } catch {
      return false;
    }
  };
  const isMap = brandCheck(ObjectGetOwnPropertyDescriptor(Map.prototype, "size").get);
  const isSet = brandCheck(ObjectGetOwnPropertyDescriptor(Set.prototype, "size").get);
  const isDate = brandCheck(Date.prototype.getTime);
  const isRegExp = brandCheck(ObjectGetOwnPropertyDescriptor(RegExp.prototype, "source").get);
  const isArrayBuffer = brandCheck(ObjectGetOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get);
  const isDataView = brandCheck(ObjectGetOwnPropertyDescriptor(DataView.prototype, "byteLength").get);
  const isWeakMap = brandCheck(function () {
    WeakMapPrototypeHas(this, {});
  });
  const isWeakSet = brandCheck(function () {
    WeakSetPrototypeHas(this, {});
  });
  const isPromise = (v) => v instanceof Promise || objToString(v) === "[object Promise]";
  const isError = (v) => v instanceof Error || objToString(v) === "[object Error]";
  const isTypedArray = (v) => typedArrayTag.call(v) !== undefined;
  const boxed = [
    ["Number", Number.prototype.valueOf],
    ["String", String.prototype.valueOf],
    ["Boolean", Boolean.prototype.valueOf],
    ["BigInt", BigInt.prototype.valueOf],
    ["Symbol", Symbol.prototype.valueOf],
  ];
  function boxedType(v) {
    for (const [name, valueOf] of boxed) {
      try {
        valueOf.call(v);
        return name;
      } catch {}
    }
    return undefined;
  }

  function inspect(value, opts) {
    const ctx = {
      budget: {},
      indentationLvl: 0,
      seen: [],
      currentDepth: 0,
      circular: undefined,
      ...inspectDefaultOptions,
    };
    if (arguments.length > 2) {
      // Legacy signature: inspect(value, showHidden, depth, colors).
      if (arguments[2] !== undefined) ctx.depth = arguments[2];
      if (arguments.length > 3 && arguments[3] !== undefined) ctx.colors = arguments[3];
    }
    if (typeof opts === "boolean") ctx.showHidden = opts;
    else if (opts) {
      for (const key of ObjectKeys(opts)) {
        if (ObjectPrototypeHasOwnProperty(inspectDefaultOptions, key) || key === "stylize") ctx[key] = opts[key];
      }
    }
    if (ctx.maxArrayLength === null) ctx.maxArrayLength = Infinity;
    if (ctx.maxStringLength === null) ctx.maxStringLength = Infinity;
    return formatValue(ctx, value, 0);
  }
  inspect.custom = customInspectSymbol;
  ObjectDefineProperty(inspect, "defaultOptions", {
    get: () => inspectDefaultOptions,
    set(options) {
      ObjectAssign(inspectDefaultOptions, options);
    },
  });

  const strEscapeRe = /[\x00-\x1f\x27\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  const strEscapeReG = new RegExp(strEscapeRe.source, "g");
  const strEscapeReSingle = /[\x00-\x1f\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  const strEscapeReSingleG = new RegExp(strEscapeReSingle.source, "g");
  const meta = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    "'": "\\'",
    "\\": "\\\\",
  };
  function escapeFn(ch) {
    if (meta[ch] !== undefined) return meta[ch];
    const c = ch.charCodeAt(0);
    return c <= 0xff ? `\\x${c.toString(16).toUpperCase().padStart(2, "0")}` : `\\u${c.toString(16).toUpperCase()}`;
  }
  function strEscape(str) {
    let test = strEscapeRe;
    let replace = strEscapeReG;
    let quote = "'";
    if (str.includes("'")) {
      if (!str.includes('"')) quote = '"';
      else if (!str.includes("`") && !str.includes("${")) quote = "`";
      if (quote !== "'") {
        test = strEscapeReSingle;
        replace = strEscapeReSingleG;
      }
    }
    if (!test.test(str)) return quote + str + quote;
    return quote + str.replace(replace, escapeFn) + quote;
  }

  function formatNumber(n) {
    return ObjectIs(n, -0) ? "-0" : `${n}`;
  }
  function formatPrimitive(ctx, value) {
    switch (typeof value) {
      case "string": {
        let trailer = "";
        if (value.length > ctx.maxStringLength) {
          const remaining = value.length - ctx.maxStringLength;
          value = value.slice(0, ctx.maxStringLength);
          trailer = `... ${remaining} more character${remaining > 1 ? "s" : ""}`;
        }
        if (ctx.compact !== true && value.length > 16 && value.length > ctx.breakLength - ctx.indentationLvl - 4) {
          return (
            value
              .split(/(?<=\n)/)
              .map((line) => strEscape(line))
              .join(` +\n${" ".repeat(ctx.indentationLvl + 2)}`) + trailer
          );
        }
        return strEscape(value) + trailer;
      }
      case "number":
        return formatNumber(value);
      case "bigint":
        return `${value}n`;
      case "boolean":
      case "undefined":
        return `${value}`;
      default:
        // symbol
        return value.toString();
    }
  }

  function formatValue(ctx, value, recurseTimes, typedArray) {
    if (typeof value !== "object" && typeof value !== "function") return formatPrimitive(ctx, value);
    if (value === null) return "null";
    if (ctx.customInspect) {
      let custom;
      try {
        custom = value[customInspectSymbol];
      } catch {}
      if (
        typeof custom === "function" &&
        custom !== inspect &&
        !(value.constructor && value.constructor.prototype === value)
      ) {
        const depth = ctx.depth === null ? null : ctx.depth - recurseTimes;
        const options = { ...inspectDefaultOptions, ...ctx, budget: undefined, seen: undefined };
        delete options.budget;
        delete options.seen;
        delete options.indentationLvl;
        delete options.currentDepth;
        delete options.circular;
        options.depth = depth;
        options.stylize = (s) => String(s);
        const ret = custom.call(value, depth, options, inspect);
        if (ret !== value) {
          if (typeof ret !== "string") return formatValue(ctx, ret, recurseTimes);
          return ret.replaceAll("\n", `\n${" ".repeat(ctx.indentationLvl)}`);
        }
      }
    }
    if (ctx.seen.includes(value)) {
      let index = 1;
      if (ctx.circular === undefined) {
        ctx.circular = new SafeMap([[value, index]]);
      } else {
        index = ctx.circular.get(value);
        if (index === undefined) {
          index = ctx.circular.size + 1;
          ctx.circular.set(value, index);
        }
      }
      return `[Circular *${index}]`;
    }
    return formatRaw(ctx, value, recurseTimes, typedArray);
  }

  function getConstructorName(obj) {
    let o = obj;
    while (o) {
      const d = ObjectGetOwnPropertyDescriptor(o, "constructor");
      if (d !== undefined && typeof d.value === "function" && d.value.name !== "") {
        try {
          if (obj instanceof d.value) return String(d.value.name);
        } catch {}
      }
      o = ObjectGetPrototypeOf(o);
    }
    if (ObjectGetPrototypeOf(obj) === null) return null;
    return "Object";
  }
  function getPrefix(constructor, tag, fallback, size = "") {
    if (constructor === null) {
      if (tag !== "" && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
      return `[${fallback}${size}: null prototype] `;
    }
    if (tag !== "" && constructor !== tag) return `${constructor}${size} [${tag}] `;
    return `${constructor}${size} `;
  }
  function getKeys(value) {
    const keys = ObjectKeys(value);
    const symbols = ObjectGetOwnPropertySymbols(value);
    for (const s of symbols) if (ObjectPrototypePropertyIsEnumerable(value, s)) keys.push(s);
    return keys;
  }
  function getNonIndexKeys(value) {
    return getKeys(value).filter((k) => typeof k === "symbol" || !/^(0|[1-9][0-9]*)$/.test(k) || +k >= 2 ** 32 - 1);
  }

  function formatRaw(ctx, value, recurseTimes, typedArray) {
    let keys;
    const constructor = getConstructorName(value);
    let tag = value[SymbolToStringTag];
    if (typeof tag !== "string" || (tag !== "" && ObjectPrototypePropertyIsEnumerable(value, SymbolToStringTag))) {
      tag = "";
    }
    let base = "";
    let formatter = () => [];
    let braces;
    let noIterator = true;
    let extrasType = kObjectType;
    if (SymbolIterator in value || constructor === null) {
      noIterator = false;
      if (ArrayIsArray(value)) {
        const prefix = constructor !== "Array" || tag !== "" ? getPrefix(constructor, tag, "Array", `(${value.length})`) : "";
        keys = getNonIndexKeys(value);
        braces = [`${prefix}[`, "]"];
        if (value.length === 0 && keys.length === 0) return `${braces[0]}]`;
        extrasType = kArrayExtrasType;
        formatter = formatArray;
      } else if (isSet(value)) {
        const size = ObjectGetOwnPropertyDescriptor(Set.prototype, "size").get.call(value);
        const prefix = getPrefix(constructor, tag, "Set", `(${size})`);
        keys = getKeys(value);
        formatter = formatSet;
        if (size === 0 && keys.length === 0) return `${prefix}{}`;
        braces = [`${prefix}{`, "}"];
      } else if (isMap(value)) {
        const size = ObjectGetOwnPropertyDescriptor(Map.prototype, "size").get.call(value);
        const prefix = getPrefix(constructor, tag, "Map", `(${size})`);
        keys = getKeys(value);
        formatter = formatMap;
        if (size === 0 && keys.length === 0) return `${prefix}{}`;
        braces = [`${prefix}{`, "}"];
      } else if (isTypedArray(value)) {
        keys = getNonIndexKeys(value);
        const fallback = constructor === null ? typedArrayTag.call(value) : "";
        const size = value.length;
        const prefix = getPrefix(constructor, tag, fallback, `(${size})`);
        braces = [`${prefix}[`, "]"];
        if (value.length === 0 && keys.length === 0) return `${braces[0]}]`;
        formatter = formatTypedArray;
        extrasType = kArrayExtrasType;
      } else {
        noIterator = true;
      }
    }
    if (noIterator) {
      keys = getKeys(value);
      braces = ["{", "}"];
      if (typeof value === "function") {
        base = getFunctionBase(value, constructor, tag);
        if (keys.length === 0) return base;
      } else if (constructor === "Object") {
        if (objToString(value) === "[object Arguments]") braces[0] = "[Arguments] [";
        else if (tag !== "") braces[0] = `${getPrefix(constructor, tag, "Object")}{`;
        if (keys.length === 0) return `${braces[0]}}`;
      } else if (isRegExp(value)) {
        base = RegExpPrototypeToString(constructor !== null ? value : new RegExp(value));
        const prefix = getPrefix(constructor, tag, "RegExp");
        if (prefix !== "RegExp ") base = `${prefix}${base}`;
        if (keys.length === 0 || (ctx.depth !== null && recurseTimes > ctx.depth)) return base;
      } else if (isDate(value)) {
        base = NumberIsNaN(DatePrototypeGetTime(value))
          ? DatePrototypeToString(value)
          : DatePrototypeToISOString(value);
        const prefix = getPrefix(constructor, tag, "Date");
        if (prefix !== "Date ") base = `${prefix}${base}`;
        if (keys.length === 0) return base;
      } else if (isError(value)) {
        base = formatError(value, constructor, tag, ctx, keys);
        if (keys.length === 0) return base;
      } else if (isArrayBuffer(value)) {
        const prefix = getPrefix(constructor, tag, "ArrayBuffer");
        if (typedArray === undefined) formatter = formatArrayBuffer;
        else if (keys.length === 0) return `${prefix}{ byteLength: ${formatNumber(value.byteLength)} }`;
        braces[0] = `${prefix}{`;
        keys.unshift("byteLength");
      } else if (isDataView(value)) {
        braces[0] = `${getPrefix(constructor, tag, "DataView")}{`;
        keys.unshift("byteLength", "byteOffset", "buffer");
      } else if (isPromise(value)) {
        braces[0] = `${getPrefix(constructor, tag, "Promise")}{`;
        formatter = formatPromise;
      } else if (isWeakSet(value)) {
        braces[0] = `${getPrefix(constructor, tag, "WeakSet")}{`;
        formatter = () => ["<items unknown>"];
      } else if (isWeakMap(value)) {
        braces[0] = `${getPrefix(constructor, tag, "WeakMap")}{`;
        formatter = () => ["<items unknown>"];
      } else if (objToString(value) === "[object Module]" && ObjectGetPrototypeOf(value) === null) {
        braces[0] = `${getPrefix(constructor, tag, "Module")}{`;
      } else if (boxedType(value) !== undefined) {
        base = getBoxedBase(value, ctx, keys, constructor, tag);
        if (keys.length === 0) return base;
      } else {
        const accessors = webAccessors(value);
        if (keys.length === 0 && accessors.length === 0) return `${getPrefix(constructor, tag, "Object")}{}`;
        braces[0] = `${getPrefix(constructor, tag, "Object")}{`;
        if (accessors.length !== 0) formatter = (ctx, _value, recurseTimes) => formatAccessors(ctx, accessors, recurseTimes);
      }
    }
    if (ctx.depth !== null && recurseTimes > ctx.depth) {
      let name = getPrefix(constructor, tag, "Object").slice(0, -1);
      if (constructor !== null) name = `[${name}]`;
      return name;
    }
    recurseTimes += 1;
    ctx.seen.push(value);
    ctx.currentDepth = recurseTimes;
    let output;
    try {
      output = formatter(ctx, value, recurseTimes);
      for (let i = 0; i < keys.length; i++) {
        output.push(formatProperty(ctx, value, recurseTimes, keys[i], extrasType));
      }
    } catch (err) {
      if (err instanceof RangeError && /call stack/.test(err.message)) {
        ctx.seen.pop();
        return `[${getPrefix(constructor, tag, "Object").slice(0, -1)}: Inspection interrupted prematurely. Maximum call stack size exceeded.]`;
      }
      throw err;
    }
    if (ctx.circular !== undefined) {
      const index = ctx.circular.get(value);
      if (index !== undefined) {
        const reference = `<ref *${index}>`;
        if (ctx.compact !== true) base = base === "" ? reference : `${reference} ${base}`;
        else braces[0] = `${reference} ${braces[0]}`;
      }
    }
    ctx.seen.pop();
    if (ctx.sorted) {
      const cmp = ctx.sorted === true ? undefined : ctx.sorted;
      if (extrasType === kObjectType) output.sort(cmp);
      else if (keys.length > 1) {
        const sorted = output.slice(output.length - keys.length).sort(cmp);
        output.splice(output.length - keys.length, keys.length, ...sorted);
      }
    }
    const res = reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value);
    const budget = ctx.budget[ctx.indentationLvl] || 0;
    const newLength = budget + res.length;
    ctx.budget[ctx.indentationLvl] = newLength;
    if (newLength > 2 ** 27) ctx.depth = -1;
    return res;
  }

  function getFunctionBase(value, constructor, tag) {
    const source = FunctionPrototypeToString(value);
    if (source.startsWith("class") && source.endsWith("}")) {
      const slice = source.slice(5, -1);
      const brace = slice.indexOf("{");
      if (brace !== -1 && (!slice.slice(0, brace).includes("(") || /^class\s+[^(]*\bextends\b/.test(source))) {
        const hasName = ObjectPrototypeHasOwnProperty(value, "name");
        let base = `class ${(hasName && value.name) || "(anonymous)"}`;
        if (constructor !== "Function" && constructor !== null) base += ` [${constructor}]`;
        if (tag !== "" && constructor !== tag) base += ` [${tag}]`;
        if (constructor !== null) {
          const superName = ObjectGetPrototypeOf(value).name;
          if (superName) base += ` extends ${superName}`;
        } else {
          base += " extends [null prototype]";
        }
        return `[${base}]`;
      }
    }
    let type = "Function";
    const t = objToString(value);
    if (t.endsWith("GeneratorFunction]")) type = `Generator${type}`;
    if (t.startsWith("[object Async")) type = `Async${type}`;
    let base = `[${type}`;
    if (constructor === null) base += " (null prototype)";
    base += value.name === "" ? " (anonymous)" : `: ${value.name}`;
    base += "]";
    if (constructor !== type && constructor !== null) base += ` ${constructor}`;
    if (tag !== "" && constructor !== tag) base += ` [${tag}]`;
    return base;
  }

  function getBoxedBase(value, ctx, keys, constructor, tag) {
    const type = boxedType(value);
    const primitive = boxed.find(([name]) => name === type)[1].call(value);
    if (type === "String") keys.splice(0, primitive.length);
    let base = `[${type}`;
    if (type !== constructor) base += constructor === null ? " (null prototype)" : ` (${constructor})`;
    base += `: ${formatPrimitive({ ...ctx, compact: true }, primitive)}]`;
    if (tag !== "" && tag !== constructor) base += ` [${tag}]`;
    return base;
  }

  function formatError(err, constructor, tag, ctx, keys) {
    const name = err.name != null ? String(err.name) : "Error";
    let stack;
    try {
      stack = err.stack ? String(err.stack) : ErrorPrototypeToString(err);
    } catch {
      stack = ErrorPrototypeToString(err);
    }
    // Keys already shown by the stack are left out.
    for (const k of ["name", "message", "stack"]) {
      const i = keys.indexOf(k);
      if (i !== -1 && (typeof err[k] !== "string" || stack.includes(err[k]))) keys.splice(i, 1);
    }
    if ("cause" in err && (keys.length === 0 || !keys.includes("cause"))) keys.push("cause");
    if (ArrayIsArray(err.errors) && (keys.length === 0 || !keys.includes("errors"))) keys.push("errors");
    stack = improveStack(stack, constructor, name, tag);
    let pos = (err.message && stack.indexOf(err.message)) || -1;
    if (pos !== -1) pos += err.message.length;
    const stackStart = stack.indexOf("\n    at", pos);
    if (stackStart === -1) stack = `[${stack}]`;
    if (ctx.indentationLvl !== 0) {
      stack = stack.replaceAll("\n", `\n${" ".repeat(ctx.indentationLvl)}`);
    }
    return stack;
  }
  function improveStack(stack, constructor, name, tag) {
    let len = name.length;
    if (
      constructor === null ||
      (name.endsWith("Error") &&
        stack.startsWith(name) &&
        (stack.length === len || stack[len] === ":" || stack[len] === "\n"))
    ) {
      let fallback = "Error";
      if (constructor === null) {
        const start = /^([A-Z][a-z_ A-Z0-9[\]()-]+)(?::|\n\s+at)/.exec(stack) || /^([a-z_A-Z0-9-]*Error)$/.exec(stack);
        fallback = (start && start[1]) || "";
        len = fallback.length;
        fallback = fallback || "Error";
      }
      const prefix = getPrefix(constructor, tag, fallback).slice(0, -1);
      if (name !== prefix) {
        if (prefix.includes(name)) {
          stack = len === 0 ? `${prefix}: ${stack}` : `${prefix}${stack.slice(len)}`;
        } else {
          stack = `${prefix} [${name}]${stack.slice(len)}`;
        }
      }
    }
    return stack;
  }

  // [name, value] of the accessors a Web API object inherits (base class
  // last), skipping ones that throw.
  function webAccessors(value) {
    const out = [];
    let proto = ObjectGetPrototypeOf(value);
    let isWeb = false;
    for (let p = proto; p !== null; p = ObjectGetPrototypeOf(p)) if (webPrototypes.has(p)) isWeb = true;
    if (!isWeb) return out;
    const seen = new SafeSet();
    for (; proto !== null && proto !== Object.prototype; proto = ObjectGetPrototypeOf(proto)) {
      for (const key of ObjectGetOwnPropertyNames(proto)) {
        const d = ObjectGetOwnPropertyDescriptor(proto, key);
        if (seen.has(key) || !d || typeof d.get !== "function") continue;
        seen.add(key);
        try {
          out.push([key, d.get.call(value)]);
        } catch {}
      }
    }
    return out;
  }
  function formatAccessors(ctx, accessors, recurseTimes) {
    const output = [];
    for (const [key, v] of accessors) {
      ctx.indentationLvl += 2;
      const str = formatValue(ctx, v, recurseTimes);
      ctx.indentationLvl -= 2;
      output.push(`${/^[a-zA-Z_][a-zA-Z_0-9]*$/.test(key) ? key : strEscape(key)}: ${str}`);
    }
    return output;
  }

  function remainingText(n) {
    return `... ${n} more item${n > 1 ? "s" : ""}`;
  }
  function formatArray(ctx, value, recurseTimes) {
    const valLen = value.length;
    const len = MathMin(MathMax(0, ctx.maxArrayLength), valLen);
    const remaining = valLen - len;
    const output = [];
    for (let i = 0; i < len; i++) {
      if (!ObjectPrototypeHasOwnProperty(value, i)) return formatSpecialArray(ctx, value, recurseTimes, len, output, i);
      output.push(formatProperty(ctx, value, recurseTimes, i, kArrayExtrasType));
    }
    if (remaining > 0) output.push(remainingText(remaining));
    return output;
  }
  // Arrays with holes: runs of them are shown as "<n empty items>".
  function formatSpecialArray(ctx, value, recurseTimes, maxLength, output, i) {
    const keys = ObjectKeys(value);
    let index = i;
    for (; i < keys.length && output.length < maxLength; i++) {
      const key = keys[i];
      const tmp = +key;
      if (tmp > 2 ** 32 - 2) break;
      if (`${index}` !== key) {
        if (!/^(0|[1-9][0-9]*)$/.test(key)) break;
        const empty = tmp - index;
        output.push(`<${empty} empty item${empty > 1 ? "s" : ""}>`);
        index = tmp;
        if (output.length === maxLength) break;
      }
      output.push(formatProperty(ctx, value, recurseTimes, key, kArrayExtrasType));
      index++;
    }
    const remaining = value.length - index;
    if (output.length !== maxLength) {
      if (remaining > 0) output.push(`<${remaining} empty item${remaining > 1 ? "s" : ""}>`);
    } else if (remaining > 0) {
      output.push(remainingText(remaining));
    }
    return output;
  }
  function formatTypedArray(ctx, value) {
    const length = value.length;
    const max = MathMin(MathMax(0, ctx.maxArrayLength), length);
    const output = [];
    for (let i = 0; i < max; i++) {
      output.push(typeof value[i] === "bigint" ? `${value[i]}n` : formatNumber(value[i]));
    }
    if (length > max) output.push(remainingText(length - max));
    return output;
  }
  function formatSet(ctx, value, recurseTimes) {
    const length = ObjectGetOwnPropertyDescriptor(Set.prototype, "size").get.call(value);
    const max = MathMin(MathMax(0, ctx.maxArrayLength), length);
    const output = [];
    ctx.indentationLvl += 2;
    let i = 0;
    for (const v of SetPrototypeValues(value)) {
      if (i++ >= max) break;
      output.push(formatValue(ctx, v, recurseTimes));
    }
    if (length > max) output.push(remainingText(length - max));
    ctx.indentationLvl -= 2;
    return output;
  }
  function formatMap(ctx, value, recurseTimes) {
    const length = ObjectGetOwnPropertyDescriptor(Map.prototype, "size").get.call(value);
    const max = MathMin(MathMax(0, ctx.maxArrayLength), length);
    const output = [];
    ctx.indentationLvl += 2;
    let i = 0;
    for (const [k, v] of MapPrototypeEntries(value)) {
      if (i++ >= max) break;
      output.push(`${formatValue(ctx, k, recurseTimes)} => ${formatValue(ctx, v, recurseTimes)}`);
    }
    if (length > max) output.push(remainingText(length - max));
    ctx.indentationLvl -= 2;
    return output;
  }
  function formatArrayBuffer(ctx, value) {
    let bytes;
    try {
      bytes = new Uint8Array(value);
    } catch {
      return ["(detached)"];
    }
    const n = MathMin(ctx.maxArrayLength, bytes.length);
    let str = ArrayFrom(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, "0")).join(" ");
    const remaining = bytes.length - ctx.maxArrayLength;
    if (remaining > 0) str += ` ... ${remaining} more byte${remaining > 1 ? "s" : ""}`;
    return [`[Uint8Contents]: <${str}>`];
  }
  function formatPromise(ctx, value, recurseTimes) {
    const details = ops.promiseState ? ops.promiseState(value) : undefined;
    if (!details || details[0] === 0) return ["<pending>"];
    ctx.indentationLvl += 2;
    const str = formatValue(ctx, details[1], recurseTimes);
    ctx.indentationLvl -= 2;
    return [details[0] === 2 ? `<rejected> ${str}` : str];
  }

  function formatProperty(ctx, value, recurseTimes, key, type) {
    let str;
    const desc = ObjectGetOwnPropertyDescriptor(value, key) || { value: value[key], enumerable: true };
    if (desc.value !== undefined) {
      ctx.indentationLvl += 2;
      str = formatValue(ctx, desc.value, recurseTimes);
      ctx.indentationLvl -= 2;
    } else if (desc.get !== undefined) {
      str = desc.set !== undefined ? "[Getter/Setter]" : "[Getter]";
    } else if (desc.set !== undefined) {
      str = "[Setter]";
    } else {
      str = "undefined";
    }
    if (type === kArrayExtrasType) return str;
    let name;
    if (typeof key === "symbol") {
      name = `[${key.toString().replace(strEscapeReG, escapeFn)}]`;
    } else if (key === "__proto__") {
      name = "['__proto__']";
    } else if (desc.enumerable === false) {
      name = `[${key.replace(strEscapeReG, escapeFn)}]`;
    } else if (/^[a-zA-Z_][a-zA-Z_0-9]*$/.test(key)) {
      name = key;
    } else {
      name = strEscape(key);
    }
    return `${name}: ${str}`;
  }

  function isBelowBreakLength(ctx, output, start, base) {
    let totalLength = output.length + start;
    if (totalLength + output.length > ctx.breakLength) return false;
    for (let i = 0; i < output.length; i++) {
      totalLength += output[i].length;
      if (totalLength > ctx.breakLength) return false;
    }
    return base === "" || !base.includes("\n");
  }
  function reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value) {
    if (ctx.compact !== true) {
      if (typeof ctx.compact === "number" && ctx.compact >= 1) {
        const entries = output.length;
        if (extrasType === kArrayExtrasType && entries > 6) output = groupArrayElements(ctx, output, value);
        if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
          const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
          if (isBelowBreakLength(ctx, output, start, base)) {
            const joined = output.join(", ");
            if (!joined.includes("\n")) {
              return `${base ? `${base} ` : ""}${braces[0]} ${joined}` + ` ${braces[1]}`;
            }
          }
        }
      }
      const indentation = `\n${" ".repeat(ctx.indentationLvl)}`;
      return `${base ? `${base} ` : ""}${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
    }
    if (isBelowBreakLength(ctx, output, 0, base)) {
      return `${braces[0]}${base ? ` ${base}` : ""} ${output.join(", ")} ${braces[1]}`;
    }
    const indentation = " ".repeat(ctx.indentationLvl);
    const ln = base === "" && braces[0].length === 1 ? " " : `${base ? ` ${base}` : ""}\n${indentation}  `;
    return `${braces[0]}${ln}${output.join(`,\n${indentation}  `)} ${braces[1]}`;
  }
  function groupArrayElements(ctx, output, value) {
    let totalLength = 0;
    let maxLength = 0;
    let i = 0;
    let outputLength = output.length;
    if (ctx.maxArrayLength < output.length) outputLength--;
    const separatorSpace = 2;
    const dataLen = new Array(outputLength);
    for (; i < outputLength; i++) {
      const len = output[i].length;
      dataLen[i] = len;
      totalLength += len + separatorSpace;
      if (maxLength < len) maxLength = len;
    }
    const actualMax = maxLength + separatorSpace;
    if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength && (totalLength / actualMax > 5 || maxLength <= 6)) {
      const averageBias = MathSqrt(actualMax - totalLength / output.length);
      const biasedMax = MathMax(actualMax - 3 - averageBias, 1);
      const columns = MathMin(
        MathRound(MathSqrt(2.5 * biasedMax * outputLength) / biasedMax),
        MathFloor((ctx.breakLength - ctx.indentationLvl) / actualMax),
        ctx.compact * 4,
        15,
      );
      if (columns <= 1) return output;
      const tmp = [];
      const maxLineLength = [];
      for (let i = 0; i < columns; i++) {
        let lineLength = 0;
        for (let j = i; j < output.length; j += columns) if (dataLen[j] > lineLength) lineLength = dataLen[j];
        maxLineLength.push(lineLength + separatorSpace);
      }
      let padStart = true;
      if (value !== undefined) {
        for (let i = 0; i < output.length; i++) {
          if (typeof value[i] !== "number" && typeof value[i] !== "bigint") {
            padStart = false;
            break;
          }
        }
      }
      for (let i = 0; i < outputLength; i += columns) {
        const max = MathMin(i + columns, outputLength);
        let str = "";
        let j = i;
        for (; j < max - 1; j++) {
          const cell = `${output[j]}, `;
          str += padStart ? cell.padStart(maxLineLength[j - i], " ") : cell.padEnd(maxLineLength[j - i], " ");
        }
        str += padStart ? output[j].padStart(maxLineLength[j - i] - separatorSpace, " ") : output[j];
        tmp.push(str);
      }
      if (ctx.maxArrayLength < output.length) tmp.push(output[outputLength]);
      output = tmp;
    }
    return output;
  }

  // ---- util.format ----------------------------------------------------------
  function hasBuiltInToString(value) {
    if (typeof value.toString !== "function") return true;
    if (ObjectPrototypeHasOwnProperty(value, "toString")) return false;
    let pointer = value;
    do {
      pointer = ObjectGetPrototypeOf(pointer);
    } while (pointer !== null && !ObjectPrototypeHasOwnProperty(pointer, "toString"));
    if (pointer === null) return true;
    const d = ObjectGetOwnPropertyDescriptor(pointer, "constructor");
    return d !== undefined && typeof d.value === "function" && builtInObjects.has(d.value.name);
  }
  function tryStringify(arg) {
    try {
      return JSONStringify(arg);
    } catch (err) {
      if (err instanceof TypeError && /circular/i.test(err.message)) return "[Circular]";
      throw err;
    }
  }
  function formatWithOptions(inspectOptions, ...args) {
    return formatWithOptionsInternal(inspectOptions, args);
  }
  function formatWithOptionsInternal(inspectOptions, args) {
    const first = args[0];
    let a = 0;
    let str = "";
    let join = "";
    if (typeof first === "string") {
      if (args.length === 1) return first;
      let tempStr;
      let lastPos = 0;
      for (let i = 0; i < first.length - 1; i++) {
        if (first.charCodeAt(i) === 37) {
          const nextChar = first.charCodeAt(++i);
          if (a + 1 !== args.length) {
            switch (nextChar) {
              case 115: {
                const arg = args[++a];
                if (typeof arg === "number") tempStr = formatNumber(arg);
                else if (typeof arg === "bigint") tempStr = `${arg}n`;
                else if (typeof arg !== "object" || arg === null || !hasBuiltInToString(arg)) tempStr = String(arg);
                else tempStr = inspect(arg, { ...inspectOptions, depth: 0, colors: false, compact: 3 });
                break;
              }
              case 106:
                tempStr = tryStringify(args[++a]);
                break;
              case 100: {
                const n = args[++a];
                if (typeof n === "bigint") tempStr = `${n}n`;
                else if (typeof n === "symbol") tempStr = "NaN";
                else tempStr = formatNumber(Number(n));
                break;
              }
              case 79:
                tempStr = inspect(args[++a], inspectOptions);
                break;
              case 111:
                tempStr = inspect(args[++a], { ...inspectOptions, showHidden: true, showProxy: true, depth: 4 });
                break;
              case 105: {
                const n = args[++a];
                if (typeof n === "bigint") tempStr = `${n}n`;
                else if (typeof n === "symbol") tempStr = "NaN";
                else tempStr = formatNumber(NumberParseInt(n));
                break;
              }
              case 102: {
                const n = args[++a];
                tempStr = typeof n === "symbol" ? "NaN" : formatNumber(NumberParseFloat(n));
                break;
              }
              case 99:
                a += 1;
                tempStr = "";
                break;
              case 37:
                str += first.slice(lastPos, i);
                lastPos = i + 1;
                continue;
              default:
                continue;
            }
            if (lastPos !== i - 1) str += first.slice(lastPos, i - 1);
            str += tempStr;
            lastPos = i + 1;
          } else if (nextChar === 37) {
            str += first.slice(lastPos, i);
            lastPos = i + 1;
          }
        }
      }
      if (lastPos !== 0) {
        a++;
        join = " ";
        if (lastPos < first.length) str += first.slice(lastPos);
      }
    }
    while (a < args.length) {
      const value = args[a];
      str += join;
      str += typeof value !== "string" ? inspect(value, inspectOptions) : value;
      join = " ";
      a++;
    }
    return str;
  }
  function format(...args) {
    return formatWithOptionsInternal(undefined, args);
  }
  internals.inspect = inspect;
  internals.format = format;
  internals.formatWithOptions = formatWithOptions;

  // ---- console --------------------------------------------------------------
  // Levels of ops.log: 0 debug, 1 info (log), 2 warn, 3 error.
  let groupIndent = "";
  const emit = (level, text) => {
    if (groupIndent !== "") text = groupIndent + StringPrototypeReplaceAll(text, "\n", `\n${groupIndent}`);
    ops.log(level, text);
  };
  const counts = new SafeMap();
  const timers = new SafeMap();
  function formatTime(ms) {
    let hours = 0;
    let minutes = 0;
    let seconds = 0;
    if (ms >= 1000) {
      if (ms >= 60000) {
        if (ms >= 3600000) {
          hours = MathFloor(ms / 3600000);
          ms %= 3600000;
        }
        minutes = MathFloor(ms / 60000);
        ms %= 60000;
      }
      seconds = ms / 1000;
    }
    if (hours !== 0 || minutes !== 0) {
      const [s, frac] = seconds.toFixed(3).split(".");
      const res = hours !== 0 ? `${hours}:${String(minutes).padStart(2, "0")}` : minutes;
      return `${res}:${s.padStart(2, "0")}.${frac} (${hours !== 0 ? "h:m" : ""}m:ss.mmm)`;
    }
    if (seconds !== 0) return `${seconds.toFixed(3)}s`;
    return `${Number(ms.toFixed(3))}ms`;
  }
  const now = () => (globalThis.performance ? globalThis.performance.now() : DateNow());
  function timeLogImpl(name, label, data) {
    const start = timers.get(label);
    if (start === undefined) {
      emit(2, `(node) Warning: No such label '${label}' for console.${name}()`);
      return false;
    }
    const text = `${label}: ${formatTime(now() - start)}`;
    emit(1, data === undefined ? text : `${text} ${formatWithOptionsInternal(undefined, data)}`);
    return true;
  }
  const tableChars = {
    middleMiddle: "\u2500",
    rowMiddle: "\u253c",
    topRight: "\u2510",
    topLeft: "\u250c",
    leftMiddle: "\u251c",
    topMiddle: "\u252c",
    bottomRight: "\u2518",
    bottomLeft: "\u2514",
    bottomMiddle: "\u2534",
    rightMiddle: "\u2524",
    left: "\u2502 ",
    right: " \u2502",
    middle: " \u2502 ",
  };
  function renderRow(row, widths) {
    let out = tableChars.left;
    for (let i = 0; i < row.length; i++) {
      out += row[i] + " ".repeat(widths[i] - row[i].length);
      if (i !== row.length - 1) out += tableChars.middle;
    }
    return out + tableChars.right;
  }
  function renderTable(head, columns) {
    const rows = [];
    const widths = head.map((h) => h.length);
    const longest = MathMax(...columns.map((c) => c.length));
    for (let i = 0; i < head.length; i++) {
      const column = columns[i];
      for (let j = 0; j < longest; j++) {
        if (rows[j] === undefined) rows[j] = [];
        const value = (rows[j][i] = ObjectPrototypeHasOwnProperty(column, j) ? column[j] : "");
        widths[i] = MathMax(widths[i] || 0, value.length);
      }
    }
    const divider = widths.map((w) => tableChars.middleMiddle.repeat(w + 2));
    let result =
      `${tableChars.topLeft}${divider.join(tableChars.topMiddle)}${tableChars.topRight}\n` +
      `${renderRow(head, widths)}\n` +
      `${tableChars.leftMiddle}${divider.join(tableChars.rowMiddle)}${tableChars.rightMiddle}\n`;
    for (const row of rows) result += `${renderRow(row, widths)}\n`;
    return result + `${tableChars.bottomLeft}${divider.join(tableChars.bottomMiddle)}${tableChars.bottomRight}`;
  }
  function table(data, properties) {
    if (data === null || typeof data !== "object") return consoleObject.log(data);
    const cell = (v) => {
      const depth = v !== null && typeof v === "object" && !ArrayIsArray(v) && ObjectKeys(v).length > 2 ? -1 : 0;
      return inspect(v, { depth, maxArrayLength: 3, breakLength: Infinity });
    };
    const indexes = (n) => ArrayFrom({ length: n }, (_, i) => cell(i));
    if (isMap(data)) {
      const keys = [];
      const values = [];
      for (const [k, v] of data) {
        keys.push(cell(k));
        values.push(cell(v));
      }
      return emit(1, renderTable(["(iteration index)", "Key", "Values"], [indexes(keys.length), keys, values]));
    }
    if (isSet(data)) {
      const values = [...data].map(cell);
      return emit(1, renderTable(["(iteration index)", "Values"], [indexes(values.length), values]));
    }
    const map = ObjectCreate(null);
    let hasPrimitives = false;
    const valuesColumn = [];
    const indexColumn = ObjectKeys(data);
    for (let i = 0; i < indexColumn.length; i++) {
      const item = data[indexColumn[i]];
      const primitive = item === null || (typeof item !== "function" && typeof item !== "object");
      if (properties === undefined && primitive) {
        hasPrimitives = true;
        valuesColumn[i] = cell(item);
      } else {
        for (const key of properties || ObjectKeys(item)) {
          map[key] ??= [];
          map[key][i] = (primitive && properties) || !ObjectPrototypeHasOwnProperty(item, key) ? "" : cell(item[key]);
        }
      }
    }
    const keys = ObjectKeys(map);
    const values = ObjectValues(map);
    if (hasPrimitives) {
      keys.push("Values");
      values.push(valuesColumn);
    }
    keys.unshift("(index)");
    values.unshift(indexColumn);
    emit(1, renderTable(keys, values));
  }

  const consoleObject = {
    log: (...a) => emit(1, formatWithOptionsInternal(undefined, a)),
    info: (...a) => emit(1, formatWithOptionsInternal(undefined, a)),
    debug: (...a) => emit(0, formatWithOptionsInternal(undefined, a)),
    warn: (...a) => emit(2, formatWithOptionsInternal(undefined, a)),
    error: (...a) => emit(3, formatWithOptionsInternal(undefined, a)),
    dirxml: (...a) => emit(1, formatWithOptionsInternal(undefined, a)),
    trace(...a) {
      const err = { name: "Trace", message: formatWithOptionsInternal(undefined, a) };
      ErrorCaptureStackTrace(err, consoleObject.trace);
      emit(3, err.stack);
    },
    assert(expression, ...a) {
      if (!expression) {
        if (typeof a[0] === "string") a[0] = `Assertion failed: ${a[0]}`;
        else a.unshift("Assertion failed");
        emit(2, formatWithOptionsInternal(undefined, a));
      }
    },
    count(label = "default") {
      label = `${label}`;
      const n = (counts.get(label) || 0) + 1;
      counts.set(label, n);
      emit(1, `${label}: ${n}`);
    },
    countReset(label = "default") {
      label = `${label}`;
      if (!counts.has(label)) {
        emit(2, `(node) Warning: Count for '${label}' does not exist`);
        return;
      }
      counts.delete(label);
    },
    time(label = "default") {
      label = `${label}`;
      if (timers.has(label)) {
        emit(2, `(node) Warning: Label '${label}' already exists for console.time()`);
        return;
      }
      timers.set(label, now());
    },
    timeLog(label = "default", ...data) {
      timeLogImpl("timeLog", `${label}`, data);
    },
    timeEnd(label = "default") {
      label = `${label}`;
      if (timeLogImpl("timeEnd", label)) timers.delete(label);
    },
    table,
    dir(obj, options) {
      emit(1, inspect(obj, { customInspect: false, ...options }));
    },
    group(...data) {
      if (data.length > 0) emit(1, formatWithOptionsInternal(undefined, data));
      groupIndent += "  ";
    },
    groupCollapsed(...data) {
      ReflectApply(consoleObject.group, consoleObject, data);
    },
    groupEnd() {
      groupIndent = groupIndent.slice(0, -2);
    },
    clear() {},
    profile() {},
    profileEnd() {},
    timeStamp() {},
  };
  ObjectDefineProperty(consoleObject, SymbolToStringTag, {
    value: "console",
    writable: false,
    enumerable: false,
    configurable: true,
  });
  defineGlobal("console", consoleObject);

  // ---- errors outside any promise chain ------------------------------------
  function reportError(e) {
    ops.log(3, `Uncaught ${inspect(e)}`);
  }
  internals.reportError = reportError;
  defineGlobal("reportError", reportError);

  const resolvedPromise = new Promise((resolve) => resolve());
  function queueMicrotask(callback) {
    if (typeof callback !== "function") {
      throw new TypeError("Failed to execute 'queueMicrotask' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.");
    }
    PromisePrototypeThen(resolvedPromise, () => {
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
  const liveTimers = new SafeMap();

  // workerd's message for a callback that is not a function, per API.
  function notAFunction(api) {
    return new TypeError(`Failed to execute '${api}' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.`);
  }
  function startTimer(callback, delay, args, repeat) {
    delay = Number(delay);
    if (!(delay >= 0) || !isFinite(delay)) delay = 0;
    const id = nextTimerId++;
    liveTimers.set(id, true);
    const arm = () => {
      PromisePrototypeThen(ops.timer(delay), () => {
        if (!liveTimers.has(id)) return;
        if (!repeat) liveTimers.delete(id);
        try {
          // workerd calls a timer's callback with the global as `this`.
          ReflectApply(callback, globalThis, args);
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
  // The Web timers: numeric ids (workerd without enable_nodejs_global_timers).
  const webTimers = {
    __proto__: null,
    setTimeout(callback, delay = 0, ...args) {
      if (typeof callback !== "function") throw notAFunction("setTimeout");
      return startTimer(callback, delay, args, false);
    },
    setInterval(callback, delay = 0, ...args) {
      if (typeof callback !== "function") throw notAFunction("setInterval");
      return startTimer(callback, delay, args, true);
    },
    clearTimeout(id) {
      clearTimer(id);
    },
    clearInterval(id) {
      clearTimer(id);
    },
  };
  defineGlobal("setTimeout", webTimers.setTimeout);
  defineGlobal("setInterval", webTimers.setInterval);
  defineGlobal("clearTimeout", webTimers.clearTimeout);
  defineGlobal("clearInterval", webTimers.clearInterval);
  internals.sleep = (ms) => ops.timer(ms);

  // Node.js's timers (workerd's node-internal:internal_timers): setTimeout
  // and setInterval return a Timeout (its number through
  // Symbol.toPrimitive), setImmediate an Immediate. node:timers exports
  // these; the globals are these under enable_nodejs_global_timers.
  function received(value) {
    if (value == null) return ` Received ${value}`;
    if (typeof value === "function") return ` Received function ${value.name}`;
    if (typeof value === "object") {
      if (value.constructor && value.constructor.name) return ` Received an instance of ${value.constructor.name}`;
      return ` Received ${inspect(value, { depth: -1 })}`;
    }
    let shown = inspect(value, { colors: false });
    if (shown.length > 28) shown = `${StringPrototypeSlice(shown, 0, 25)}...`;
    return ` Received type ${typeof value} (${shown})`;
  }
  function validateCallback(callback) {
    if (typeof callback !== "function") {
      const e = new TypeError(`The "callback" argument must be of type function.${received(callback)}`);
      ObjectDefineProperty(e, "code", { __proto__: null, value: "ERR_INVALID_ARG_TYPE", enumerable: true, writable: true, configurable: true });
      throw e;
    }
  }
  let isTimeout, clearTimeoutObject;
  class Timeout {
    #timer = 0;
    #callback;
    #after;
    #args;
    #isRepeat;
    #isRefed;
    constructor(callback, after = 1, args = [], isRepeat = false, isRefed = false) {
      this.#callback = callback;
      this.#after = after * 1;
      this.#args = ArrayIsArray(args) ? args : [];
      this.#isRepeat = !!isRepeat;
      this.#isRefed = !!isRefed;
      this.#start();
    }
    #start() {
      if (typeof this.#callback !== "function") throw notAFunction(this.#isRepeat ? "setInterval" : "setTimeout");
      this.#timer = startTimer(this.#callback, this.#after, this.#args, this.#isRepeat);
    }
    refresh() {
      clearTimer(this.#timer);
      this.#start();
      return this;
    }
    unref() {
      this.#isRefed = false;
      return this;
    }
    ref() {
      this.#isRefed = true;
      return this;
    }
    hasRef() {
      return this.#isRefed;
    }
    close() {
      clearTimer(this.#timer);
      return this;
    }
    [SymbolDispose]() {
      clearTimer(this.#timer);
    }
    [SymbolToPrimitive]() {
      return this.#timer;
    }
    static {
      isTimeout = (v) => v !== null && typeof v === "object" && #timer in v;
      clearTimeoutObject = (t) => clearTimer(t.#timer);
    }
  }
  let isImmediate, clearImmediateObject;
  class Immediate {
    #timer;
    constructor(token, callback, args) {
      if (token !== IMMEDIATE_TOKEN) throw new TypeError("Illegal constructor");
      this.#timer = startTimer(callback, 0, args, false);
    }
    hasRef() {
      return false;
    }
    ref() {}
    unref() {}
    get [SymbolToStringTag]() {
      return "Immediate";
    }
    static {
      isImmediate = (v) => v !== null && typeof v === "object" && #timer in v;
      clearImmediateObject = (i) => clearTimer(i.#timer);
    }
  }
  const IMMEDIATE_TOKEN = Symbol("Immediate");
  const nodeTimers = {
    __proto__: null,
    setTimeout(callback, delay, ...args) {
      validateCallback(callback);
      return new Timeout(callback, delay, args, false, true);
    },
    setInterval(callback, repeat, ...args) {
      validateCallback(callback);
      return new Timeout(callback, repeat, args, true, true);
    },
    clearTimeout(timer) {
      if (isTimeout(timer)) clearTimeoutObject(timer);
      else if (typeof timer === "number") clearTimer(timer);
    },
    clearInterval(timer) {
      if (isTimeout(timer)) clearTimeoutObject(timer);
      else if (typeof timer === "number") clearTimer(timer);
    },
    setImmediate(callback, ...args) {
      if (typeof callback !== "function") throw notAFunction("setImmediate");
      return new Immediate(IMMEDIATE_TOKEN, callback, args);
    },
    clearImmediate(immediate) {
      if (immediate === undefined || immediate === null) return;
      if (!isImmediate(immediate)) {
        throw new TypeError(
          "Failed to execute 'clearImmediate' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'Immediate'.",
        );
      }
      clearImmediateObject(immediate);
    },
  };
  ObjectDefineProperty(nodeTimers.setImmediate, "length", { __proto__: null, value: 0, configurable: true });
  ObjectDefineProperty(nodeTimers.clearImmediate, "length", { __proto__: null, value: 0, configurable: true });
  internals.nodeTimers = nodeTimers;

  defineGlobal("self", globalThis);
  // Keyed to the compatibility date/flags as in workerd (no compat: newest).
  internals.onWorkerInit((() => {
    const compatFlags = internals.compat ? internals.compat.flags : { __proto__: null, globalNavigator: true, enableNavigatorLanguage: true, enableNodejsGlobalTimers: true, nodeJsCompatV2: true };
    if (compatFlags.globalNavigator) {
      const nav = { userAgent: "Cloudflare-Workers", hardwareConcurrency: 1 };
      if (compatFlags.enableNavigatorLanguage) nav.language = "en";
      defineGlobal("navigator", ObjectFreeze(nav));
    }
    // workerd assigns these over its prototype's: own enumerable properties.
    if (compatFlags.enableNodejsGlobalTimers) {
      const names = ["setTimeout", "setInterval", "clearTimeout", "clearInterval"];
      for (let i = 0; i < names.length; i++) {
        ObjectDefineProperty(globalThis, names[i], { __proto__: null, value: nodeTimers[names[i]], writable: true, enumerable: true, configurable: true });
      }
    }
    // Node.js globals (nodejs_compat_v2, which nodejs_compat implies).
    if (compatFlags.nodeJsCompatV2) {
      defineGlobal("setImmediate", nodeTimers.setImmediate);
      defineGlobal("clearImmediate", nodeTimers.clearImmediate);
      ObjectDefineProperty(globalThis, "global", { __proto__: null, value: globalThis, writable: true, enumerable: true, configurable: true });
    }
  }));
})
