"use strict";
// Headers (WHATWG Fetch), with the guard semantics workerd has.
((globalThis, internals) => {
  const {
    ReflectApply,
    ObjectPrototypePropertyIsEnumerable,
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
  const ops = internals.ops;

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

  // Copy-on-write headers (src/headers.rs): the headers of a message the
  // runtime made (the incoming request, a fetch() response) stay in Rust
  // behind a token `[id]` until the script reads them; edits made before
  // that are kept as `[id, op, name, value, ...]`, which is also what goes
  // back to Rust (ops.fetch / ops.respond apply it to their own map).
  const EDIT_SET = 0;
  const EDIT_APPEND = 1;
  const EDIT_DELETE = 2;
  // Past this many edits the headers are materialised instead.
  const MAX_EDITS = 64;

  function addValue(map, key, value) {
    const values = map.get(key);
    if (values === undefined) map.set(key, [value]);
    else ArrayAppend(values, value);
  }
  function applyEdit(map, op, key, value) {
    if (op === EDIT_SET) map.set(key, [value]);
    else if (op === EDIT_APPEND) addValue(map, key, value);
    else map.delete(key);
  }

  class Headers {
    // lower-cased name -> array of values, in append order; null until
    // something reads or builds the headers in JS
    #map = null;
    // while #map is null: the token of a Rust-held map, or null (no headers)
    #base = null;
    // while #map is null: edits to #base, [id, op, name, value, ...], or null
    #edits = null;
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
        const src = init.#map;
        if (src === null) {
          // Shares the Rust-held map; the edits are copied.
          this.#base = init.#base;
          if (init.#edits !== null) this.#edits = ArrayFromIndexed(init.#edits);
          return;
        }
        const map = new SafeMap();
        for (const entry of src) map.set(entry[0], ArrayFromIndexed(entry[1]));
        this.#map = map;
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
      // record<ByteString, ByteString>: converted whole (every getter runs)
      // before the first field is checked. Distinct keys are distinct
      // names, so a map keeps them in order.
      const pairs = new SafeMap();
      const keys = ReflectOwnKeys(init);
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k];
        // [[GetOwnProperty]] and its enumerability, without a descriptor object.
        if (!ObjectPrototypePropertyIsEnumerable(init, key)) continue;
        const name = toByteString(key);
        pairs.set(name, toByteString(init[key]));
      }
      pairs.forEach((value, name) => this.#append(name, value));
    }

    static #check(h) {
      if (!(isObject(h) && #map in h)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    }

    #checkMutable() {
      if (this.#guard === "immutable") throw new TypeError("Can't modify immutable headers.");
    }

    // The headers in JS: the Rust-held map copied over (one op) with the
    // pending edits applied, the first time anything reads them.
    #m() {
      let map = this.#map;
      if (map !== null) return map;
      map = new SafeMap();
      const base = this.#base;
      if (base !== null) {
        const flat = ops.headersRead(base[0]);
        for (let i = 0; i + 1 < flat.length; i += 2) addValue(map, flat[i], flat[i + 1]);
        const edits = this.#edits;
        if (edits !== null) {
          for (let i = 1; i + 2 < edits.length; i += 3) applyEdit(map, edits[i], edits[i + 1], edits[i + 2]);
        }
        this.#base = null;
        this.#edits = null;
      }
      this.#map = map;
      return map;
    }

    // A checked edit (key lower-cased, value normalised): kept as a delta
    // while the headers are still Rust's, else applied to the map.
    #edit(op, key, value) {
      if (this.#map === null && this.#base !== null) {
        const edits = this.#edits;
        if (edits === null) {
          this.#edits = [this.#base[0], op, key, value];
          return;
        }
        if (edits.length < 1 + 3 * MAX_EDITS) {
          ArrayAppend(edits, op);
          ArrayAppend(edits, key);
          ArrayAppend(edits, value);
          return;
        }
      }
      applyEdit(this.#m(), op, key, value);
      this.#sorted = null;
    }

    #append(name, value) {
      value = normalizeValue(value);
      requireName(name);
      requireValue(value);
      this.#checkMutable();
      this.#edit(EDIT_APPEND, lower(name), value);
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
      this.#edit(EDIT_DELETE, lower(name), "");
    }

    get(name) {
      Headers.#check(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'get' on 'Headers'", ["string"]);
      name = toByteString(name);
      requireName(name);
      const values = this.#m().get(lower(name));
      return values === undefined ? null : joinValues(values);
    }

    getSetCookie() {
      Headers.#check(this);
      const values = this.#m().get("set-cookie");
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
      return this.#m().has(lower(name));
    }

    set(name, value) {
      Headers.#check(this);
      requiredArguments(arguments.length, 2, "Failed to execute 'set' on 'Headers'", ["string", "string"]);
      name = toByteString(name);
      value = normalizeValue(toByteString(value));
      requireName(name);
      requireValue(value);
      this.#checkMutable();
      this.#edit(EDIT_SET, lower(name), value);
    }

    // The spec's "sort and combine": sorted by lower-cased name, values of
    // a repeated name joined with ", ", except set-cookie which is kept as
    // separate entries in order.
    #sortAndCombine() {
      if (this.#sorted !== null && this.#map !== null) return this.#sorted;
      const map = this.#m();
      const names = sortedNames(map);
      const out = [];
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        const values = map.get(name);
        if (name === "set-cookie") {
          for (let j = 0; j < values.length; j++) ArrayAppend(out, [name, values[j]]);
        } else {
          ArrayAppend(out, [name, joinValues(values)]);
        }
      }
      this.#sorted = out;
      return out;
    }

    // [name, value, ...] sorted by name, each value apart (`combine`: the
    // values of a name but set-cookie joined with ", ").
    #flat(combine) {
      const map = this.#m();
      const names = sortedNames(map);
      const out = [];
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        const values = map.get(name);
        if (combine && name !== "set-cookie") {
          ArrayAppend(out, name);
          ArrayAppend(out, joinValues(values));
          continue;
        }
        for (let j = 0; j < values.length; j++) {
          ArrayAppend(out, name);
          ArrayAppend(out, values[j]);
        }
      }
      return out;
    }

    // The text wire form, `name:value\n` per field in the map's order
    // (Rust sorts by name): one string instead of an array built field by
    // field. Values never hold a line feed (isHeaderValue).
    #text(combine) {
      let out = "";
      this.#map.forEach((values, name) => {
        if (combine && name !== "set-cookie") {
          out += `${name}:${joinValues(values)}\n`;
          return;
        }
        for (let j = 0; j < values.length; j++) out += `${name}:${values[j]}\n`;
      });
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
          const map = h.#m();
          for (let i = 0; i < pairs.length; i++) addValue(map, lower(`${pairs[i][0]}`), `${pairs[i][1]}`);
          h.#guard = guard;
          return h;
        },
        // Headers over a Rust-held map (the token `[id]` from Rust).
        fromBacked(token, guard) {
          const h = new Headers();
          h.#base = token;
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
          return h.#flat(true);
        },
        // Every value apart, as workerd writes a response head: one line
        // per append()ed value.
        toWireList(h) {
          Headers.#check(h);
          const map = h.#m();
          const names = sortedNames(map);
          const out = [];
          for (let i = 0; i < names.length; i++) {
            const values = map.get(names[i]);
            for (let j = 0; j < values.length; j++) ArrayAppend(out, [names[i], values[j]]);
          }
          return out;
        },
        // toWireList flattened: [name, value, ...] for ops.respond.
        toFlatWireList(h) {
          Headers.#check(h);
          return h.#flat(false);
        },
        // The headers slot of ops.fetch (`combine`) / ops.respond: the
        // copy-on-write form while the map is still Rust's, else the flat
        // list (sorted; combined for a subrequest, apart for a response).
        wire(h, combine) {
          Headers.#check(h);
          if (h.#map === null) return h.#base === null ? "" : h.#edits ?? h.#base;
          return h.#text(combine);
        },
        // wire() of a copy of `h` without the fields named in `names`
        // (lower-case): for a copy-on-write `h`, more edits.
        wireWithout(h, names, combine) {
          Headers.#check(h);
          const copy = new Headers(h);
          for (let i = 0; i < names.length; i++) copy.#edit(EDIT_DELETE, names[i], "");
          return headersInternals.wire(copy, combine);
        },
        // get/has/set without the script-replaceable Headers.prototype methods
        // (name already a valid lower-case header name, value valid).
        get(h, name) {
          Headers.#check(h);
          const values = h.#m().get(name);
          return values === undefined ? null : joinValues(values);
        },
        // The first value of `name`, or undefined.
        first(h, name) {
          Headers.#check(h);
          const values = h.#m().get(name);
          return values === undefined ? undefined : values[0];
        },
        has(h, name) {
          Headers.#check(h);
          return h.#m().has(name);
        },
        set(h, name, value) {
          Headers.#check(h);
          h.#checkMutable();
          h.#edit(EDIT_SET, name, value);
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
    fromBacked: headersInternals.fromBacked,
    wire: headersInternals.wire,
    wireWithout: headersInternals.wireWithout,
    first: headersInternals.first,
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
