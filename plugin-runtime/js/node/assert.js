"use strict";
// node:assert - the common assertions, throwing AssertionError
// (code ERR_ASSERTION) as Node.js does; messages are simplified.
((globalThis, internals) => {
  const {
    Error,
    NumberIsNaN,
    ObjectAssign,
    ObjectIs,
    ObjectKeys,
    RegExp,
    String,
  } = internals.primordials;
  const node = (internals.node ??= { __proto__: null });
  const { inspect, deepEqual } = internals;
  const errors = internals.nodeErrors;

  class AssertionError extends Error {
    constructor(options = {}) {
      const { message, actual, expected, operator } = options;
      super(message ?? `${inspect(actual)} ${operator} ${inspect(expected)}`);
      this.generatedMessage = message === undefined;
      this.code = "ERR_ASSERTION";
      this.actual = actual;
      this.expected = expected;
      this.operator = operator;
    }
    get name() {
      return "AssertionError";
    }
  }
  function fail(options, fallback) {
    if (options.message instanceof Error) throw options.message;
    throw new AssertionError({ ...options, message: options.message ?? fallback });
  }
  function ok(value, message) {
    if (!value) {
      fail(
        { actual: value, expected: true, operator: "==", message },
        arguments.length === 0 ? "No value argument passed to `assert.ok()`" : "The expression evaluated to a falsy value",
      );
    }
  }
  const assert = function assert(value, message) {
    if (!value) {
      fail(
        { actual: value, expected: true, operator: "==", message },
        arguments.length === 0 ? "No value argument passed to `assert.ok()`" : "The expression evaluated to a falsy value",
      );
    }
  };
  const pair = (a, b, op) => `${inspect(a)} ${op} ${inspect(b)}`;
  ObjectAssign(assert, {
    AssertionError,
    ok,
    fail(message = "Failed") {
      if (message instanceof Error) throw message;
      throw new AssertionError({ message, operator: "fail" });
    },
    equal(actual, expected, message) {
      if (!(actual == expected || (NumberIsNaN(actual) && NumberIsNaN(expected)))) {
        fail({ actual, expected, operator: "==", message }, pair(actual, expected, "=="));
      }
    },
    notEqual(actual, expected, message) {
      if (actual == expected || (NumberIsNaN(actual) && NumberIsNaN(expected))) {
        fail({ actual, expected, operator: "!=", message }, pair(actual, expected, "!="));
      }
    },
    strictEqual(actual, expected, message) {
      if (!ObjectIs(actual, expected)) {
        fail(
          { actual, expected, operator: "strictEqual", message },
          `Expected values to be strictly equal:\n\n${pair(actual, expected, "!==")}\n`,
        );
      }
    },
    notStrictEqual(actual, expected, message) {
      if (ObjectIs(actual, expected)) {
        fail(
          { actual, expected, operator: "notStrictEqual", message },
          `Expected "actual" to be strictly unequal to: ${inspect(expected)}`,
        );
      }
    },
    deepEqual(actual, expected, message) {
      if (!deepEqual(actual, expected, false, new Map())) {
        fail(
          { actual, expected, operator: "deepEqual", message },
          `Expected values to be loosely deep-equal:\n\n${inspect(actual)}\n\nshould loosely deep-equal\n\n${inspect(expected)}`,
        );
      }
    },
    notDeepEqual(actual, expected, message) {
      if (deepEqual(actual, expected, false, new Map())) {
        fail({ actual, expected, operator: "notDeepEqual", message }, `"actual" deepEqual "expected"`);
      }
    },
    deepStrictEqual(actual, expected, message) {
      if (!deepEqual(actual, expected, true, new Map())) {
        fail(
          { actual, expected, operator: "deepStrictEqual", message },
          `Expected values to be strictly deep-equal:\n${inspect(actual)}\n\nshould equal\n\n${inspect(expected)}`,
        );
      }
    },
    notDeepStrictEqual(actual, expected, message) {
      if (deepEqual(actual, expected, true, new Map())) {
        fail(
          { actual, expected, operator: "notDeepStrictEqual", message },
          `Expected "actual" not to be strictly deep-equal to: ${inspect(expected)}`,
        );
      }
    },
    match(string, regexp, message) {
      if (!(regexp instanceof RegExp)) throw errors.invalidArgType("regexp", "an instance of RegExp", regexp);
      if (typeof string !== "string" || !regexp.test(string)) {
        fail(
          { actual: string, expected: regexp, operator: "match", message },
          `The input did not match the regular expression ${inspect(regexp)}. Input:\n\n${inspect(string)}\n`,
        );
      }
    },
    doesNotMatch(string, regexp, message) {
      if (typeof string === "string" && regexp.test(string)) {
        fail(
          { actual: string, expected: regexp, operator: "doesNotMatch", message },
          `The input was expected to not match the regular expression ${inspect(regexp)}. Input:\n\n${inspect(string)}\n`,
        );
      }
    },
    throws(fn, expected, message) {
      if (typeof fn !== "function") throw errors.invalidArgType("fn", "of type function", fn);
      try {
        fn();
      } catch (e) {
        checkExpected(e, expected, message, "throws");
        return;
      }
      if (typeof expected === "string") [message, expected] = [expected, undefined];
      fail({ actual: undefined, expected, operator: "throws", message }, "Missing expected exception.");
    },
    async rejects(promiseFn, expected, message) {
      const p = typeof promiseFn === "function" ? promiseFn() : promiseFn;
      try {
        await p;
      } catch (e) {
        checkExpected(e, expected, message, "rejects");
        return;
      }
      if (typeof expected === "string") [message, expected] = [expected, undefined];
      fail({ actual: undefined, expected, operator: "rejects", message }, "Missing expected rejection.");
    },
    doesNotThrow(fn, message) {
      try {
        fn();
      } catch (e) {
        fail({ actual: e, operator: "doesNotThrow", message }, `Got unwanted exception.\nActual message: "${e?.message}"`);
      }
    },
    async doesNotReject(promiseFn, message) {
      try {
        await (typeof promiseFn === "function" ? promiseFn() : promiseFn);
      } catch (e) {
        fail({ actual: e, operator: "doesNotReject", message }, `Got unwanted rejection.\nActual message: "${e?.message}"`);
      }
    },
    ifError(value) {
      if (value !== null && value !== undefined) throw value;
    },
  });
  function checkExpected(e, expected, message, operator) {
    if (expected === undefined || typeof expected === "string") return;
    if (typeof expected === "function") {
      if (expected.prototype !== undefined && e instanceof expected) return;
      if (Error.isPrototypeOf(expected) || expected === Error) {
        fail({ actual: e, expected, operator, message }, `The error is expected to be an instance of "${expected.name}". Received "${e?.constructor?.name}"`);
      }
      if (expected.call({}, e) === true) return;
      fail({ actual: e, expected, operator, message }, "The validation function is expected to return \"true\".");
    }
    if (expected instanceof RegExp) {
      if (expected.test(String(e))) return;
      fail({ actual: e, expected, operator, message }, `The input did not match the regular expression ${expected}.`);
    }
    for (const k of ObjectKeys(expected)) {
      const want = expected[k];
      const got = e?.[k];
      const same = want instanceof RegExp && typeof got === "string" ? want.test(got) : deepEqual(got, want, true, new Map());
      if (!same) {
        fail({ actual: e, expected, operator, message }, `Expected values to be strictly deep-equal:\n${k}: ${inspect(got)} !== ${inspect(want)}`);
      }
    }
  }
  assert.strict = assert;
  node.assert = assert;
})
