// FormData parsed from a body (multipart/form-data and its Content-Type)
// with String.prototype / RegExp.prototype methods and typed arrays'
// species replaced by the script (issue 11, stop-17 note): the runtime's
// parser must not call them, and must parse as before.
import { test, assertEquals, suite } from "./harness.js";

const STRING_METHODS = ["slice", "substring", "indexOf", "lastIndexOf", "toLowerCase", "toUpperCase", "split", "trim",
  "replace", "replaceAll", "startsWith", "endsWith", "includes", "charCodeAt", "match", "search", "at"];
const REGEXP_MEMBERS = ["exec", "test", Symbol.replace, Symbol.split, Symbol.match, Symbol.search];

// Replaces them all with functions that record their use; restores them.
function hostile(fn, species = true) {
  const calls = new Set();
  const saved = [];
  const plant = (target, key, label) => {
    saved.push([target, key, Object.getOwnPropertyDescriptor(target, key)]);
    const original = target[key];
    Object.defineProperty(target, key, {
      configurable: true,
      writable: true,
      value: function (...args) {
        calls.add(label);
        return original.apply(this, args);
      },
    });
  };
  for (const m of STRING_METHODS) plant(String.prototype, m, "String." + m);
  for (const m of REGEXP_MEMBERS) plant(RegExp.prototype, m, "RegExp." + String(m));
  const TypedArray = Object.getPrototypeOf(Uint8Array);
  for (const m of ["subarray", "slice", "set"]) plant(TypedArray.prototype, m, "TypedArray." + m);
  if (species) {
    saved.push([Uint8Array, Symbol.species, undefined]);
    Object.defineProperty(Uint8Array, Symbol.species, { configurable: true, get() { calls.add("species"); return Uint8Array; } });
  }
  saved.push([String.prototype, "0", undefined], [String.prototype, "200", undefined]);
  for (const k of ["0", "200"]) {
    Object.defineProperty(String.prototype, k, { configurable: true, get() { calls.add("String[" + k + "]"); return undefined; } });
  }
  return Promise.resolve()
    .then(fn)
    .finally(() => {
      for (let i = saved.length - 1; i >= 0; i--) {
        const [target, key, d] = saved[i];
        if (d) Object.defineProperty(target, key, d);
        else delete target[key];
      }
    })
    .then((result) => [result, [...calls].sort()]);
}

const BODY =
  "preamble\r\n--XyZ\r\n" +
  'Content-Disposition: form-data; name="field"\r\n\r\nvalue one\r\n' +
  "--XyZ\r\n" +
  "Content-Disposition: form-data; name=\"up\"; filename*=UTF-8''%E2%82%AC.txt\r\n" +
  "Content-Type: text/plain\r\n" +
  "X-Folded: a\r\n  b\r\n\r\n" +
  "file body\r\n--XyZ--\r\nepilogue";

test("multipart FormData parsing calls none of the script's replacements", async () => {
  const [result, calls] = await hostile(async () => {
    const fd = await new Response(BODY, { headers: { "content-type": 'multipart/form-data; boundary="XyZ"; charset=utf-8' } }).formData();
    const file = fd.get("up");
    return [fd.get("field"), file.name, file.type, await file.text()];
  });
  assertEquals(result, ["value one", "\u20ac.txt", "text/plain", "file body"]);
  assertEquals(calls, []);
});

test("blob() type and urlencoded FormData with replaced built-ins", async () => {
  const [result, calls] = await hostile(async () => {
    const b = await new Response("x", { headers: { "content-type": 'Text/HTML; Charset="a\\"b"; q=1' } }).blob();
    const fd = await new Response("a=1&b=%20x", { headers: { "content-type": "application/x-www-form-urlencoded" } }).formData();
    return [b.type, fd.get("b")];
    // Typed arrays' species is still looked up on this path (a body's bytes
    // are copied with %TypedArray%.prototype.slice): not planted here.
  }, false);
  assertEquals(result, ['text/html;charset="a\\"b";q=1', " x"]);
  assertEquals(calls, []);
});

export default suite();
