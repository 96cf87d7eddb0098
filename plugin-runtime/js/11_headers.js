"use strict";
// Headers (WHATWG Fetch), with the guard semantics workerd has.
((globalThis, internals) => {
  const {
    ReflectApply,
    ReflectGetOwnPropertyDescriptor,
    ReflectOwnKeys,
    SafeMap,
    SafeSet,
    String,
    SymbolIterator,
    TypeError,
    Uint8Array,
    ArrayAppend,
    ArrayFromIndexed,
    ArrayPrototypeSort,
    SafeArrayIterator,
    StringPrototypeCharCodeAt,
    StringPrototypeToLowerCase,
    StringPrototypeSlice,
  } = internals.primordials;
  const {
    requiredArguments, toByteString, isObject, definePairIterable,
    defineToStringTag, makeEnumerable,
  } = internals.webidl;

  // token = 1*tchar ; tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
  // "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
  const TOKEN = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
    TOKEN[c.charCodeAt(0)] = 1;
  }

  function isHeaderName(name) {
    const n = name.length;
    if (n === 0) return false;
    for (let i = 0; i < n; i++) {
      const c = StringPrototypeCharCodeAt(name, i);
      if (c >= 128 || TOKEN[c] === 0) return false;
    }
    return true;
  }

  function isHttpWhitespace(c) {
    return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  }

  // Strip leading and trailing HTTP whitespace.
  function normalizeValue(value) {
    let start = 0;
    let end = value.length;
    while (start < end && isHttpWhitespace(StringPrototypeCharCodeAt(value, start))) start++;
    while (end > start && isHttpWhitespace(StringPrototypeCharCodeAt(value, end - 1))) end--;
    return start === 0 && end === value.length ? value : StringPrototypeSlice(value, start, end);
  }

  // A normalized value is a header value unless it contains NUL, CR or LF.
  function isHeaderValue(value) {
    const n = value.length;
    for (let i = 0; i < n; i++) {
      const c = StringPrototypeCharCodeAt(value, i);
      if (c === 0x00 || c === 0x0a || c === 0x0d) return false;
    }
    return true;
  }

  function lower(name) {
    return StringPrototypeToLowerCase(name);
  }

  function requireName(name) {
    if (!isHeaderName(name)) throw new TypeError("Invalid header name.");
  }
  function requireValue(value) {
    if (!isHeaderValue(value)) throw new TypeError("Invalid header value.");
  }

  const GUARDS = new SafeSet(["immutable", "request", "request-no-cors", "response", "none"]);

  let headersInternals;

  function joinValues(values) {
    let out = values[0];
    for (let i = 1; i < values.length; i++) out += `, ${values[i]}`;
    return out;
  }
  const compareNames = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  function sortedNames(map) {
    const names = [];
    for (const name of map.keys()) ArrayAppend(names, name);
    return ArrayPrototypeSort(names, compareNames);
  }

  class Headers {
    // lower-cased name -> array of values, in append order
    #map = new SafeMap();
    #guard = "none";
    // cache of the sorted-and-combined list, invalidated on mutation
    #sorted = null;

    constructor(init = undefined) {
      const prefix = "Failed to construct 'Headers'";
      if (init === undefined) return;
      if (!isObject(init)) {
        throw new TypeError(`${prefix}: constructor parameter 1 is not of type 'Headers or Sequence or object'.`);
      }
      if (#map in init) {
        for (const entry of init.#map) this.#map.set(entry[0], ArrayFromIndexed(entry[1]));
        return;
      }
      const method = init[SymbolIterator];
      if (method !== undefined && method !== null) {
        if (typeof method !== "function") {
          throw new TypeError(`${prefix}: The object must have a callable @@iterator property.`);
        }
        // sequence<sequence<ByteString>>: convert it all, then fill.
        // The script's own iterators (Web IDL sequence conversion); the
        // converted pairs are the runtime's.
        const pairs = [];
        for (const item of { __proto__: null, [SymbolIterator]: () => ReflectApply(method, init, []) }) {
          if (!isObject(item)) {
            throw new TypeError(`${prefix}: The provided value cannot be converted to a sequence.`);
          }
          const pair = [];
          for (const v of item) ArrayAppend(pair, toByteString(v));
          if (pair.length !== 2) {
            throw new TypeError(
              "To initialize a Headers object from a sequence, each inner sequence must have exactly two elements.",
            );
          }
          ArrayAppend(pairs, pair);
        }
        for (let i = 0; i < pairs.length; i++) this.#append(pairs[i][0], pairs[i][1]);
        return;
      }
      // record<ByteString, ByteString>
      const pairs = [];
      const keys = ReflectOwnKeys(init);
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k];
        const desc = ReflectGetOwnPropertyDescriptor(init, key);
        if (desc === undefined || !desc.enumerable) continue;
        const name = toByteString(key);
        ArrayAppend(pairs, [name, toByteString(init[key])]);
      }
      for (let i = 0; i < pairs.length; i++) this.#append(pairs[i][0], pairs[i][1]);
    }

    static #check(h) {
      if (!(isObject(h) && #map in h)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    }

    #checkMutable() {
      if (this.#guard === "immutable") throw new TypeError("Can't modify immutable headers.");
    }

    #append(name, value) {
      value = normalizeValue(value);
      requireName(name);
      requireValue(value);
      this.#checkMutable();
      const key = lower(name);
      const values = this.#map.get(key);
      if (values === undefined) this.#map.set(key, [value]);
      else ArrayAppend(values, value);
      this.#sorted = null;
    }

    append(name, value) {
      Headers.#check(this);
      requiredArguments(arguments.length, 2, "Failed to execute 'append' on 'Headers'", ["string", "string"]);
      this.#append(toByteString(name), toByteString(value));
    }

    delete(name) {
      Headers.#check(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'delete' on 'Headers'", ["string"]);
      name = toByteString(name);
      requireName(name);
      this.#checkMutable();
      if (this.#map.delete(lower(name))) this.#sorted = null;
    }

    get(name) {
      Headers.#check(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'get' on 'Headers'", ["string"]);
      name = toByteString(name);
      requireName(name);
      const values = this.#map.get(lower(name));
      return values === undefined ? null : joinValues(values);
    }

    getSetCookie() {
      Headers.#check(this);
      const values = this.#map.get("set-cookie");
      return values === undefined ? [] : ArrayFromIndexed(values);
    }

    // workerd extension: only valid for Set-Cookie.
    getAll(name) {
      Headers.#check(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'getAll' on 'Headers'", ["string"]);
      name = toByteString(name);
      requireName(name);
      if (lower(name) !== "set-cookie") {
        throw new TypeError('getAll() can only be used with the header name "Set-Cookie".');
      }
      return this.getSetCookie();
    }

    has(name) {
      Headers.#check(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'has' on 'Headers'", ["string"]);
      name = toByteString(name);
      requireName(name);
      return this.#map.has(lower(name));
    }

    set(name, value) {
      Headers.#check(this);
      requiredArguments(arguments.length, 2, "Failed to execute 'set' on 'Headers'", ["string", "string"]);
      name = toByteString(name);
      value = normalizeValue(toByteString(value));
      requireName(name);
      requireValue(value);
      this.#checkMutable();
      this.#map.set(lower(name), [value]);
      this.#sorted = null;
    }

    // The spec's "sort and combine": sorted by lower-cased name, values of
    // a repeated name joined with ", ", except set-cookie which is kept as
    // separate entries in order.
    #sortAndCombine() {
      if (this.#sorted !== null) return this.#sorted;
      const names = sortedNames(this.#map);
      const out = [];
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        const values = this.#map.get(name);
        if (name === "set-cookie") {
          for (let j = 0; j < values.length; j++) ArrayAppend(out, [name, values[j]]);
        } else {
          ArrayAppend(out, [name, joinValues(values)]);
        }
      }
      this.#sorted = out;
      return out;
    }

    static {
      headersInternals = {
        __proto__: null,
        isHeaders: (h) => isObject(h) && #map in h,
        pairs(h) {
          Headers.#check(h);
          return h.#sortAndCombine();
        },
        fromList(pairs, guard = "none") {
          const h = new Headers();
          for (let i = 0; i < pairs.length; i++) {
            const key = lower(`${pairs[i][0]}`);
            const value = `${pairs[i][1]}`;
            const values = h.#map.get(key);
            if (values === undefined) h.#map.set(key, [value]);
            else ArrayAppend(values, value);
          }
          h.#guard = guard;
          return h;
        },
        toList(h) {
          Headers.#check(h);
          const sorted = h.#sortAndCombine();
          const out = [];
          for (let i = 0; i < sorted.length; i++) ArrayAppend(out, [sorted[i][0], sorted[i][1]]);
          return out;
        },
        // [name, value, name, value, ...], sorted and combined (a subrequest's head).
        toFlatList(h) {
          Headers.#check(h);
          const sorted = h.#sortAndCombine();
          const out = [];
          for (let i = 0; i < sorted.length; i++) {
            ArrayAppend(out, sorted[i][0]);
            ArrayAppend(out, sorted[i][1]);
          }
          return out;
        },
        // Every value apart, as workerd writes a response head: one line
        // per append()ed value.
        toWireList(h) {
          Headers.#check(h);
          const names = sortedNames(h.#map);
          const out = [];
          for (let i = 0; i < names.length; i++) {
            const values = h.#map.get(names[i]);
            for (let j = 0; j < values.length; j++) ArrayAppend(out, [names[i], values[j]]);
          }
          return out;
        },
        // toWireList flattened: [name, value, ...] for ops.respond.
        toFlatWireList(h) {
          Headers.#check(h);
          const names = sortedNames(h.#map);
          const out = [];
          for (let i = 0; i < names.length; i++) {
            const values = h.#map.get(names[i]);
            for (let j = 0; j < values.length; j++) {
              ArrayAppend(out, names[i]);
              ArrayAppend(out, values[j]);
            }
          }
          return out;
        },
        // get/has/set without the script-replaceable Headers.prototype methods
        // (name already a valid lower-case header name, value valid).
        get(h, name) {
          Headers.#check(h);
          const values = h.#map.get(name);
          return values === undefined ? null : joinValues(values);
        },
        has(h, name) {
          Headers.#check(h);
          return h.#map.has(name);
        },
        set(h, name, value) {
          Headers.#check(h);
          h.#checkMutable();
          h.#map.set(name, [value]);
          h.#sorted = null;
        },
        setGuard(h, guard) {
          Headers.#check(h);
          if (!GUARDS.has(guard)) throw new TypeError(`unknown headers guard: ${guard}`);
          h.#guard = guard;
        },
        getGuard(h) {
          Headers.#check(h);
          return h.#guard;
        },
      };
    }
  }

  definePairIterable(Headers, "Headers", (h) => headersInternals.pairs(h), true);
  defineToStringTag(Headers, "Headers");
  makeEnumerable(Headers.prototype, [
    "append", "delete", "get", "getSetCookie", "getAll", "has", "set",
  ]);

  internals.headers = {
    __proto__: null,
    Headers,
    isHeaders: headersInternals.isHeaders,
    fromList: headersInternals.fromList,
    toList: headersInternals.toList,
    toWireList: headersInternals.toWireList,
    toFlatList: headersInternals.toFlatList,
    toFlatWireList: headersInternals.toFlatWireList,
    get: headersInternals.get,
    has: headersInternals.has,
    set: headersInternals.set,
    setGuard: headersInternals.setGuard,
    getGuard: headersInternals.getGuard,
    isHeaderName,
    isHeaderValue,
    normalizeValue,
  };

  internals.defineGlobal("Headers", Headers);
})
