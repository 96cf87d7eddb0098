// A tiny test framework for tests that run inside the real runtime: each
// tests/js/*.test.js file is a worker module; its fetch handler runs every
// registered test and answers with JSON { passed, failed: [{name, error}] }.
const tests = [];

export function test(name, fn) {
  tests.push({ name, fn });
}

export class AssertionError extends Error {}

export function assert(cond, message = "assertion failed") {
  if (!cond) throw new AssertionError(message);
}

function show(v) {
  try {
    return typeof v === "string" ? JSON.stringify(v) : String(JSON.stringify(v) ?? v);
  } catch {
    return String(v);
  }
}

export function assertEquals(actual, expected, message = "") {
  const same = Object.is(actual, expected) || show(actual) === show(expected) && typeof actual === typeof expected && (typeof actual === "object" || typeof actual === "string");
  if (!same) throw new AssertionError(`${message ? message + ": " : ""}expected ${show(expected)}, got ${show(actual)}`);
}

export function assertThrows(fn, ErrorClass = Error, includes = "") {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ErrorClass)) throw new AssertionError(`expected ${ErrorClass.name}, got ${e && e.name}: ${e && e.message}`);
    if (includes && !String(e.message).includes(includes)) throw new AssertionError(`message ${show(e.message)} lacks ${show(includes)}`);
    return e;
  }
  throw new AssertionError(`expected ${ErrorClass.name} to be thrown`);
}

export async function assertRejects(fn, ErrorClass = Error, includes = "") {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof ErrorClass)) throw new AssertionError(`expected ${ErrorClass.name}, got ${e && e.name}: ${e && e.message}`);
    if (includes && !String(e.message).includes(includes)) throw new AssertionError(`message ${show(e.message)} lacks ${show(includes)}`);
    return e;
  }
  throw new AssertionError(`expected ${ErrorClass.name} to be thrown`);
}

/** The worker entry point for a test file. */
export function suite() {
  return {
    async fetch(request, env, ctx) {
      const only = new URL(request.url).searchParams.get("only");
      const failed = [];
      let passed = 0;
      for (const t of tests) {
        if (only && t.name !== only) continue;
        try {
          await t.fn({ request, env, ctx });
          passed++;
        } catch (e) {
          failed.push({ name: t.name, error: String((e && e.stack) || e) });
        }
      }
      return new Response(JSON.stringify({ passed, failed }), { headers: { "content-type": "application/json" } });
    },
  };
}
