// The web-platform-tests URL suite, run in the real runtime: every case of
// urltestdata.json (and its JavaScript-only cases) as url-constructor.any.js,
// url-origin.any.js and url-statics-canparse.any.js check it, and every case
// of setters_tests.json as url-setters.any.js does. A case listed in
// KNOWN_FAILURES must still fail (so the list stays true);
// tests/diff/KNOWN_DIFFERENCES.md says why each does (none fail today).
// `GET /?summary` answers the raw pass counts per suite instead.
import { test, assert, assertEquals, suite } from "./harness.js";
import { urltestdata, setters } from "./url_wpt_data.js";

const KNOWN_FAILURES = new Set([]);

function constructorCase(expected) {
  const base = expected.base !== null ? expected.base : undefined;
  if (expected.failure) {
    let threw = null;
    try {
      new URL(expected.input, base);
    } catch (e) {
      threw = e;
    }
    assert(threw instanceof TypeError, `expected a TypeError, got ${threw}`);
    return;
  }
  const url = new URL(expected.input, base);
  for (const attr of ["href", "protocol", "username", "password", "host", "hostname", "port",
    "pathname", "search"]) {
    assertEquals(url[attr], expected[attr], attr);
  }
  if ("searchParams" in expected) {
    assertEquals(url.searchParams.toString(), expected.searchParams, "searchParams");
  }
  assertEquals(url.hash, expected.hash, "hash");
}

function originCase(expected) {
  const base = expected.base !== null ? expected.base : undefined;
  assertEquals(new URL(expected.input, base).origin, expected.origin, "origin");
}

function canParseCase(expected) {
  const base = expected.base !== null ? expected.base : undefined;
  assertEquals(URL.canParse(expected.input, base), !expected.failure, "canParse");
}

function setterCase(attribute, c) {
  const url = new URL(c.href);
  url[attribute] = c.new_value;
  for (const attr in c.expected) assertEquals(url[attr], c.expected[attr], attr);
}

function describe(e) {
  return `<${e.input}> ${e.base ? "against <" + e.base + ">" : "without base"}`;
}

// [suite, name, fn] for every case, in the data's order.
const cases = [];
for (const e of urltestdata) {
  cases.push(["constructor", `Parsing: ${describe(e)}`, () => constructorCase(e)]);
  if ("origin" in e) cases.push(["origin", `Origin parsing: ${describe(e)}`, () => originCase(e)]);
  cases.push(["canParse", `URL.canParse(): ${describe(e)}`, () => canParseCase(e)]);
}
for (const attribute of Object.keys(setters)) {
  for (const c of setters[attribute]) {
    const name = `URL: Setting <${c.href}>.${attribute} = '${c.new_value}'${c.comment ? " " + c.comment : ""}`;
    cases.push(["setters", name, () => setterCase(attribute, c)]);
  }
}

for (const [, name, fn] of cases) {
  if (KNOWN_FAILURES.has(name)) {
    test(name, () => {
      let passed = true;
      try {
        fn();
      } catch {
        passed = false;
      }
      assert(!passed, "listed in KNOWN_FAILURES but passes: take it off the list");
    });
  } else {
    test(name, fn);
  }
}

const tests = suite();
export default {
  async fetch(request, env, ctx) {
    if (!new URL(request.url).searchParams.has("summary")) return tests.fetch(request, env, ctx);
    const counts = Object.create(null);
    const failing = [];
    for (const [which, name, fn] of cases) {
      const c = (counts[which] ??= { passed: 0, total: 0 });
      c.total++;
      try {
        fn();
        c.passed++;
      } catch (e) {
        failing.push(`${name}: ${e && e.message}`);
      }
    }
    return Response.json({ counts, failing });
  },
};
