// Calls every raw op (globalThis.__isoproxyRawOps, exposed only by
// plugin_runtime::expose_raw_ops_for_tests) with hostile arguments. Each
// call must return or throw a JS exception; the process must survive.
// Answers JSON: how many calls, how they ended, and per op.

const ops = globalThis.__isoproxyRawOps;

// An array of length 2^32 - 1 with nothing in it.
const SPARSE = [];
SPARSE.length = 2 ** 32 - 1;

// (op, value) pairs left out, each with its reason. Only for ops owned by
// another area whose fix is under way; each is reported with the results.
// (op, value) pairs left out of the run; none today (cryptoImportKey
// once walked a sparse array of length 2^32-1 to its end: it now reads at
// most 8 entries).
const EXCLUDED = [];

function hostileValues() {
  const detachedBuffer = new ArrayBuffer(8);
  const detachedView = new Uint8Array(detachedBuffer);
  detachedBuffer.transfer();
  const resizable = new ArrayBuffer(8, { maxByteLength: 64 });
  const tracking = new Uint8Array(resizable);
  resizable.resize(32);
  const shrunk = new ArrayBuffer(16, { maxByteLength: 16 });
  const outOfBounds = new Uint8Array(shrunk, 8, 8);
  shrunk.resize(4);
  const sab = new SharedArrayBuffer(16);
  const thrower = () => {
    throw new Error("hostile getter");
  };
  const trapAll = {};
  for (const t of ["get", "set", "has", "ownKeys", "getOwnPropertyDescriptor", "defineProperty", "deleteProperty",
    "getPrototypeOf", "setPrototypeOf", "isExtensible", "preventExtensions", "apply", "construct"]) {
    trapAll[t] = thrower;
  }
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  const getterArray = ["a", "b"];
  Object.defineProperty(getterArray, 0, { get: thrower });
  const getterArray2 = ["x-a", "1", "x-b", "2"];
  Object.defineProperty(getterArray2, 3, { get: thrower });
  const growingArray = ["x", "1", "y", "2"];
  Object.defineProperty(growingArray, 1, {
    get() {
      for (let i = 0; i < 5000; i++) growingArray.push("z", "1");
      return "1";
    },
  });
  const sparse = SPARSE;
  const headers25000 = [];
  for (let i = 0; i < 25000; i++) headers25000.push("x", "1");
  const throwingConversions = {
    toString: thrower,
    valueOf: thrower,
    [Symbol.toPrimitive]: thrower,
  };
  const lengthGetter = Object.defineProperty({}, "length", { get: thrower });
  const rejected = Promise.reject(new Error("hostile rejection"));
  rejected.catch(() => {});
  return [
    undefined, null, true, false,
    0, -0, 1, -1, 0.5, -0.5, 2, 3, 255, 256, 65535, 65536, 65736, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
    2 ** 32 + 200, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity,
    12345678901234567890n, -1n, Symbol("hostile"),
    "", "x", "0", "200", "utf-8", "gzip", "\uD800", "\uDFFF\uD800", "a\r\nSet-Cookie: forged=1", "\0", "日本",
    "x".repeat(1 << 22), "é".repeat(1 << 21), "\r\n".repeat(1 << 16),
    {}, [], [1, 2, 3], ["a", "b", "c"], [["p", true, true, true, true, true]], [[null, 1, 1, 1, 1, 1]],
    sparse, new Array(1 << 20).fill("x"), headers25000, getterArray, getterArray2, growingArray,
    ["bad name", "v"], ["x", "a\r\nb"], ["x", "日本"],
    throwingConversions, lengthGetter, new Proxy({}, trapAll), new Proxy([], trapAll), new Proxy(function () {}, trapAll),
    revocable.proxy,
    () => {}, thrower, class {}, async () => {},
    new ArrayBuffer(0), new Uint8Array(0), new Uint8Array(16), new Uint8Array(1 << 22).fill(0xff),
    detachedBuffer, detachedView, resizable, tracking, outOfBounds, sab, new Uint8Array(sab), new Int32Array(sab),
    new DataView(new ArrayBuffer(8)), new Float64Array([NaN, -0]), new BigInt64Array(2),
    new Error("e"), new TypeError("t"), rejected, Promise.resolve(1), new Date(NaN), /re/g, new Map(), new Set(),
    new WeakMap(), Object.create(null), globalThis,
  ];
}

function recorder() {
  const r = { calls: 0, returned: 0, threw: 0, skipped: 0, excluded: 0, classes: {}, perOp: {}, nonErrors: [] };
  r.note = (name, fn) => {
    const per = (r.perOp[name] ??= { calls: 0, threw: 0 });
    r.calls++;
    per.calls++;
    try {
      const v = fn();
      if (v instanceof Promise) v.catch(() => {});
      r.returned++;
    } catch (e) {
      r.threw++;
      per.threw++;
      const cls = e instanceof Error ? e.constructor.name : `non-Error ${typeof e}`;
      r.classes[cls] = (r.classes[cls] ?? 0) + 1;
      if (!(e instanceof Error) && r.nonErrors.length < 5) r.nonErrors.push(`${name}: ${String(e)}`);
    }
  };
  return r;
}

// Argument lists that get each op past its first checks, so the hostile
// value in each position reaches the code behind them.
function bases(me) {
  const decoder = ops.decoderNew("utf-8", false, false);
  const codec = ops.compressionNew("gzip", true);
  const rewriter = ops.htmlRewriterNew([["p", true, true, true, false, false]], null);
  const sink = ops.sinkNew(5);
  return {
    log: [1, "message"],
    respond: [0, 200, "OK", ["x-a", "b"], 1, new Uint8Array(3)],
    respondError: [0, new Error("hostile")],
    requestDone: [0],
    fetch: [me, "GET", "http://echo.test/", ["x-a", "b"], 1, new Uint8Array(1)],
    bodyRead: [0],
    bodyCancel: [0],
    sinkNew: [5],
    sinkWrite: [sink, new Uint8Array(1)],
    sinkClose: [sink, "error"],
    timer: [1],
    urlParse: ["/path", "http://a.test/"],
    urlSet: ["http://a.test/", "pathname", "/x"],
    encodeUtf8: ["x"],
    encodeUtf8Into: ["x", new Uint8Array(4)],
    encodingForLabel: ["utf-8"],
    decoderNew: ["utf-8", false, false],
    decoderDecode: [decoder, new Uint8Array([0xe6, 0x97, 0xa5]), true],
    decoderFree: [0],
    randomBytes: [16],
    loadBootstrap: ["no-such-file", {}],
    defineLazy: [{}, "p", () => 1],
    compressionNew: ["gzip", false],
    compressionPush: [codec, new Uint8Array(4)],
    compressionFinish: [codec],
    compressionFree: [0],
    cachePut: [null, "http://a.test/", [], 200, "OK", ["cache-control", "max-age=60"], new Uint8Array(1)],
    cacheMatch: [null, "http://a.test/", []],
    cacheDelete: [null, "http://a.test/"],
    htmlSelectorCheck: ["p"],
    htmlRewriterNew: [[["p", true, false, false, false, false]], null],
    htmlRewriterWrite: [rewriter, new TextEncoder().encode("<p>x</p>")],
    htmlRewriterEnd: [rewriter],
    htmlRewriterDone: [rewriter],
    htmlRewriterOp: [rewriter, "tagName", "a", "b", false],
    htmlRewriterFree: [0],
  };
}

const ARITY = 7;
const GENERIC = [0, "x", "x", [], 0, null, true];

/** The op that frees what each constructor-like op returns (an id). */
const FREE = {
  htmlRewriterNew: "htmlRewriterFree",
  compressionNew: "compressionFree",
  decoderNew: "decoderFree",
  cryptoDigestNew: "cryptoDigestFree",
};

/** Every op on the ops object (so new ops are covered automatically). */
const opNames = () => Object.keys(ops).filter((n) => n !== "testPanic").sort();

function run(me, name) {
  const r = recorder();
  const values = hostileValues();
  const base = bases(me);
  const saved = ops.getContext();
  const op = ops[name];
  const call = (args) => {
    // Answering or ending this very request would end the test early.
    if (["respond", "respondError", "requestDone"].includes(name) && args[0] === me) {
      r.skipped++;
      return;
    }
    if (EXCLUDED.some(([n, v]) => n === name && args.includes(v))) {
      r.excluded++;
      return;
    }
    r.note(name, () => {
      const v = op(...args);
      // Native state a call created is freed again: each is charged to the
      // isolate's memory budget (an HTMLRewriter 4 MiB), and 785 leaked ones
      // would end the run at the memory limit rather than test the op.
      const free = FREE[name];
      if (free && typeof v === "number") ops[free](v);
      return v;
    });
    if (name === "setContext") ops.setContext(saved);
  };
  call([]);
  for (const v of values) call(new Array(ARITY).fill(v));
  const good = base[name] ?? GENERIC;
  for (let i = 0; i < ARITY; i++) {
    for (const v of values) {
      const args = [...good];
      while (args.length < ARITY) args.push(undefined);
      args[i] = v;
      call(args);
    }
  }
  return r;
}

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const me = ops.currentRequest();
    if (path === "/ops") return new Response(JSON.stringify(opNames()));
    if (path === "/hostile") {
      const r = run(me, new URL(request.url).searchParams.get("op"));
      // Let the promises the calls started settle (settling is op code too).
      await new Promise((resolve) => setTimeout(resolve, 50));
      const { note, ...out } = r;
      return new Response(JSON.stringify(out));
    }
    if (path === "/headers-25000") {
      const H = new Headers();
      for (let i = 0; i < 25000; i++) H.append("x", "1");
      return new Response("ok", { headers: H });
    }
    if (path === "/raw-respond-crlf") {
      try {
        ops.respond(me, 200, "OK\r\nSet-Cookie: forged=1", [], 0, null);
      } catch (e) {
        return new Response(`${e.constructor.name}: ${e.message}`);
      }
      return new Response("not refused");
    }
    if (path === "/raw-respond-101") {
      try {
        ops.respond(me, 101, "Switching Protocols", ["upgrade", "websocket"], 0, null);
      } catch (e) {
        return new Response(`${e.constructor.name}: ${e.message}`);
      }
      return new Response("not refused");
    }
    if (path === "/panic-op") {
      try {
        ops.testPanic("op");
      } catch (e) {
        return new Response(`${e.constructor.name}: ${e.message}`);
      }
      return new Response("no panic?");
    }
    if (path === "/panic-settle") {
      await ops.testPanic("settle");
      return new Response("settled?");
    }
    if (path === "/url-limit") {
      // The serialised URL outgrows V8's longest string (each char -> "%C2%80").
      const s = "\x80".repeat(90_000_000);
      try {
        ops.urlParse("http://a.test/" + s);
      } catch (e) {
        return new Response(`${e.constructor.name}: ${e.message}`);
      }
      return new Response("parsed?");
    }
    return new Response("ok");
  },
};
