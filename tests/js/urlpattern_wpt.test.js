// Every case of the WPT URL Pattern test data, run in the real runtime (whose
// URL parsing, and so URLPattern's canonicalisation, is native), checked as
// WPT's urlpattern/resources/urlpatterntests.js checks them.
import { test, assert, assertEquals, suite } from "./harness.js";
import data from "./urlpattern_wpt_data.js";

const COMPONENTS = ["protocol", "username", "password", "hostname", "port", "pathname",
  "search", "hash"];

const EARLIER_COMPONENTS = {
  protocol: [],
  hostname: ["protocol"],
  port: ["protocol", "hostname"],
  username: [],
  password: [],
  pathname: ["protocol", "hostname", "port"],
  search: ["protocol", "hostname", "port", "pathname"],
  hash: ["protocol", "hostname", "port", "pathname", "search"],
};

function assertTypeError(fn, what) {
  try {
    fn();
  } catch (e) {
    assert(e instanceof TypeError, `${what}: expected TypeError, got ${e}`);
    return;
  }
  assert(false, `${what}: expected a TypeError`);
}

function expectedPatternString(entry, component) {
  const expectedObj = entry.expected_obj || {};
  if (expectedObj[component] != undefined) return expectedObj[component];
  let baseURL = null;
  if (entry.pattern.length > 0 && entry.pattern[0].baseURL) {
    baseURL = new URL(entry.pattern[0].baseURL);
  } else if (entry.pattern.length > 1 && typeof entry.pattern[1] === "string") {
    baseURL = new URL(entry.pattern[1]);
  }
  if (entry.exactly_empty_components && entry.exactly_empty_components.includes(component)) {
    return "";
  }
  if (typeof entry.pattern[0] === "object" && entry.pattern[0][component]) {
    return entry.pattern[0][component];
  }
  if (typeof entry.pattern[0] === "object" &&
    EARLIER_COMPONENTS[component].some((c) => c in entry.pattern[0])) {
    return "*";
  }
  if (baseURL && component !== "username" && component !== "password") {
    const v = baseURL[component];
    if (component === "protocol") return v.substring(0, v.length - 1);
    if (component === "search" || component === "hash") return v.substring(1);
    return v;
  }
  return "*";
}

function runEntry(entry) {
  if (entry.expected_obj === "error") {
    assertTypeError(() => new URLPattern(...entry.pattern), "URLPattern() constructor");
    return;
  }
  const pattern = new URLPattern(...entry.pattern);
  for (const component of COMPONENTS) {
    assertEquals(pattern[component], expectedPatternString(entry, component),
      `compiled pattern property '${component}'`);
  }
  if (entry.expected_match === "error") {
    assertTypeError(() => pattern.test(...entry.inputs), "test()");
    assertTypeError(() => pattern.exec(...entry.inputs), "exec()");
    return;
  }
  assertEquals(pattern.test(...entry.inputs), !!entry.expected_match, "test() result");
  const result = pattern.exec(...entry.inputs);
  if (!entry.expected_match || typeof entry.expected_match !== "object") {
    assertEquals(result, entry.expected_match, "exec() failed match result");
    return;
  }
  const expectedInputs = entry.expected_match.inputs || entry.inputs;
  assertEquals(result.inputs.length, expectedInputs.length, "exec() result.inputs.length");
  for (let i = 0; i < result.inputs.length; i++) {
    const input = result.inputs[i];
    if (typeof input === "string") {
      assertEquals(input, expectedInputs[i], `exec() result.inputs[${i}]`);
      continue;
    }
    for (const component of COMPONENTS) {
      assertEquals(input[component], expectedInputs[i][component],
        `exec() result.inputs[${i}][${component}]`);
    }
  }
  for (const component of COMPONENTS) {
    let expected = entry.expected_match[component];
    if (!expected) {
      expected = { input: "", groups: {} };
      if (!entry.exactly_empty_components || !entry.exactly_empty_components.includes(component)) {
        expected.groups["0"] = "";
      }
    }
    const actual = result[component];
    const what = `exec() result for ${component}`;
    assertEquals(Object.keys(actual).join(), "input,groups", what);
    assertEquals(actual.input, expected.input, `${what}.input`);
    assertEquals(Object.keys(actual.groups).sort().join(), Object.keys(expected.groups).sort().join(),
      `${what}.groups keys`);
    for (const key of Object.keys(expected.groups)) {
      // The data file writes undefined as null.
      const value = expected.groups[key] === null ? undefined : expected.groups[key];
      assert(actual.groups[key] === value,
        `${what}.groups[${key}]: expected ${value}, got ${actual.groups[key]}`);
    }
  }
}

for (const entry of data) {
  test(`Pattern: ${JSON.stringify(entry.pattern)} Inputs: ${JSON.stringify(entry.inputs)}`,
    () => runEntry(structuredClone(entry)));
}

export default suite();
