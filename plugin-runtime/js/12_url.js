"use strict";
// URL and URLSearchParams (WHATWG URL). Parsing is native (ops.urlParse /
// ops.urlSet); application/x-www-form-urlencoded is done here.
((globalThis, internals) => {
  const {
    Array,
    Error,
    ObjectDefineProperty,
    ReflectApply,
    ReflectGetOwnPropertyDescriptor,
    ReflectOwnKeys,
    String,
    Symbol,
    SymbolIterator,
    TypeError,
    Uint8Array,
    encodeURIComponent,
    ArrayAppend,
    ArrayPrototypeSort,
    StringPrototypeCharCodeAt,
    StringPrototypeIndexOf,
    StringPrototypeSlice,
    StringPrototypeSplit,
    StringPrototypeReplace,
  } = internals.primordials;
  // Set per worker once the snapshot is restored (no compat: newest).
  let valueArg = true;
  internals.onWorkerInit((() => {
    valueArg = internals.compat ? internals.compat.flags.urlSearchParamsDeleteHasValueArg : true;
  }));
  const {
    requiredArguments, toUSVString, isObject, definePairIterable,
    defineToStringTag, makeEnumerable, utf8Encode, utf8DecodeWithoutBOM,
  } = internals.webidl;
  const ops = internals.ops;
  // The list operations, by index: the lists never meet Array.prototype.
  function filterList(list, keep) {
    const out = [];
    for (let i = 0; i < list.length; i++) if (keep(list[i], i)) ArrayAppend(out, list[i]);
    return out;
  }
  function usvPairs(list) {
    const out = [];
    for (let i = 0; i < list.length; i++) ArrayAppend(out, [toUSVString(list[i][0]), toUSVString(list[i][1])]);
    return out;
  }
  function copyPairs(list) {
    const out = [];
    for (let i = 0; i < list.length; i++) ArrayAppend(out, [list[i][0], list[i][1]]);
    return out;
  }
  const encodeURIComponent_ = encodeURIComponent;

  // Components array indices, as returned by ops.urlParse / ops.urlSet.
  const HREF = 0, PROTOCOL = 1, USERNAME = 2, PASSWORD = 3, HOST = 4,
    HOSTNAME = 5, PORT = 6, PATHNAME = 7, SEARCH = 8, HASH = 9, ORIGIN = 10;

  function parse(href, base) {
    const c = ops.urlParse(href, base);
    return c === null || c === undefined ? null : c;
  }

  // ---------------------------------------------------------------------
  // application/x-www-form-urlencoded
  // ---------------------------------------------------------------------

  function hexValue(c) {
    if (c >= 0x30 && c <= 0x39) return c - 0x30;
    if (c >= 0x41 && c <= 0x46) return c - 0x37;
    if (c >= 0x61 && c <= 0x66) return c - 0x57;
    return -1;
  }

  // Replace '+' by space, percent-decode, UTF-8 decode without BOM.
  // s is a USVString.
  function decodeFormComponent(s) {
    if (StringPrototypeIndexOf(s, "%") === -1) {
      if (StringPrototypeIndexOf(s, "+") === -1) return s;
      let out = "";
      for (let i = 0; i < s.length; i++) out += s[i] === "+" ? " " : s[i];
      return out;
    }
    const bytes = utf8Encode(s);
    const out = [];
    const n = bytes.length;
    for (let i = 0; i < n; i++) {
      const b = bytes[i];
      if (b === 0x2b) {
        ArrayAppend(out, 0x20);
      } else if (b === 0x25 && i + 2 < n &&
        hexValue(bytes[i + 1]) >= 0 && hexValue(bytes[i + 2]) >= 0) {
        ArrayAppend(out, hexValue(bytes[i + 1]) * 16 + hexValue(bytes[i + 2]));
        i += 2;
      } else {
        ArrayAppend(out, b);
      }
    }
    return utf8DecodeWithoutBOM(out);
  }

  // The application/x-www-form-urlencoded parser. input is a USVString.
  function parseUrlencoded(input) {
    const list = [];
    if (input === "") return list;
    let start = 0;
    while (start <= input.length) {
      let end = StringPrototypeIndexOf(input, "&", start);
      if (end === -1) end = input.length;
      const sequence = StringPrototypeSlice(input, start, end);
      start = end + 1;
      if (sequence === "") continue;
      const eq = StringPrototypeIndexOf(sequence, "=");
      const name = eq === -1 ? sequence : StringPrototypeSlice(sequence, 0, eq);
      const value = eq === -1 ? "" : StringPrototypeSlice(sequence, eq + 1);
      ArrayAppend(list, [decodeFormComponent(name), decodeFormComponent(value)]);
    }
    return list;
  }

  // Code points left as they are by the urlencoded serializer:
  // ASCII alphanumeric, *, -, ., _
  const SAFE = new Uint8Array(128);
  for (const c of "*-._0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
    SAFE[c.charCodeAt(0)] = 1;
  }
  const HEX = "0123456789ABCDEF";

  // s is a USVString.
  function serializeFormComponent(s) {
    let out = "";
    const n = s.length;
    let runStart = 0;
    for (let i = 0; i < n; i++) {
      const c = StringPrototypeCharCodeAt(s, i);
      if (c < 128 && SAFE[c] === 1) continue;
      if (runStart < i) out += StringPrototypeSlice(s, runStart, i);
      if (c === 0x20) {
        out += "+";
      } else if (c < 128) {
        out += "%" + HEX[c >> 4] + HEX[c & 15];
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        // a surrogate pair (the input is well-formed)
        out += encodeURIComponent_(StringPrototypeSlice(s, i, i + 2));
        i++;
      } else {
        out += encodeURIComponent_(s[i]);
      }
      runStart = i + 1;
    }
    if (runStart === 0) return s;
    if (runStart < n) out += StringPrototypeSlice(s, runStart);
    return out;
  }

  function serializeUrlencoded(list) {
    let out = "";
    for (let i = 0; i < list.length; i++) {
      if (i !== 0) out += "&";
      out += serializeFormComponent(list[i][0]) + "=" + serializeFormComponent(list[i][1]);
    }
    return out;
  }

  // ---------------------------------------------------------------------
  // URLSearchParams
  // ---------------------------------------------------------------------

  const kLinked = Symbol("linked URLSearchParams");
  let paramsInternals; // set in URLSearchParams' static block
  let urlInternals; // set in URL's static block

  class URLSearchParams {
    #list = [];
    #url = null;

    constructor(init = "") {
      if (init === kLinked) return; // created by URL; list set afterwards
      const prefix = "Failed to construct 'URLSearchParams'";
      if (isObject(init)) {
        const method = init[SymbolIterator];
        if (method !== undefined && method !== null) {
          if (typeof method !== "function") {
            throw new TypeError(`${prefix}: The object must have a callable @@iterator property.`);
          }
          if (#list in init && method === URLSearchParams.prototype[SymbolIterator]) {
            this.#list = copyPairs(init.#list);
            return;
          }
          const list = [];
          for (const item of { __proto__: null, [SymbolIterator]: () => ReflectApply(method, init, []) }) {
            if (!isObject(item)) {
              throw new TypeError(`${prefix}: The provided value cannot be converted to a sequence.`);
            }
            const pair = [];
            for (const v of item) ArrayAppend(pair, toUSVString(v));
            if (pair.length !== 2) {
              throw new TypeError("Invalid URL search params sequence.");
            }
            ArrayAppend(list, pair);
          }
          this.#list = list;
          return;
        }
        // record<USVString, USVString>
        const list = [];
        const keys = ReflectOwnKeys(init);
        for (let k = 0; k < keys.length; k++) {
          const key = keys[k];
          const desc = ReflectGetOwnPropertyDescriptor(init, key);
          if (desc === undefined || !desc.enumerable) continue;
          const name = toUSVString(key);
          const value = toUSVString(init[key]);
          // A record can't hold the same key twice after conversion; a later
          // one replaces the earlier value in place.
          let replaced = false;
          for (let j = 0; j < list.length; j++) {
            const p = list[j];
            if (p[0] === name) {
              p[1] = value;
              replaced = true;
              break;
            }
          }
          if (!replaced) ArrayAppend(list, [name, value]);
        }
        this.#list = list;
        return;
      }
      let s = toUSVString(init);
      if (s.length > 0 && s[0] === "?") s = StringPrototypeSlice(s, 1);
      this.#list = parseUrlencoded(s);
    }

    static #check(p) {
      if (!(isObject(p) && #list in p)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    }

    #update() {
      if (this.#url === null) return;
      urlInternals.setQuery(this.#url, serializeUrlencoded(this.#list));
    }

    get size() {
      URLSearchParams.#check(this);
      return this.#list.length;
    }

    append(name, value) {
      URLSearchParams.#check(this);
      requiredArguments(arguments.length, 2, "Failed to execute 'append' on 'URLSearchParams'", ["USVString", "USVString"]);
      ArrayAppend(this.#list, [toUSVString(name), toUSVString(value)]);
      this.#update();
    }

    delete(name, value = undefined) {
      URLSearchParams.#check(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'delete' on 'URLSearchParams'", ["USVString"]);
      name = toUSVString(name);
      // The value argument exists from 2023-07-01 (urlsearchparams_delete_has_value_arg).
      if (!valueArg) value = undefined;
      if (value !== undefined) {
        value = toUSVString(value);
        this.#list = filterList(this.#list, (p) => !(p[0] === name && p[1] === value));
      } else {
        this.#list = filterList(this.#list, (p) => p[0] !== name);
      }
      this.#update();
    }

    get(name) {
      URLSearchParams.#check(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'get' on 'URLSearchParams'", ["USVString"]);
      name = toUSVString(name);
      const list = this.#list;
      for (let i = 0; i < list.length; i++) if (list[i][0] === name) return list[i][1];
      return null;
    }

    getAll(name) {
      URLSearchParams.#check(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'getAll' on 'URLSearchParams'", ["USVString"]);
      name = toUSVString(name);
      const out = [];
      const list = this.#list;
      for (let i = 0; i < list.length; i++) if (list[i][0] === name) ArrayAppend(out, list[i][1]);
      return out;
    }

    has(name, value = undefined) {
      URLSearchParams.#check(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'has' on 'URLSearchParams'", ["USVString"]);
      name = toUSVString(name);
      // The value argument exists from 2023-07-01 (urlsearchparams_delete_has_value_arg).
      if (!valueArg) value = undefined;
      if (value !== undefined) {
        value = toUSVString(value);
        const list = this.#list;
        for (let i = 0; i < list.length; i++) if (list[i][0] === name && list[i][1] === value) return true;
        return false;
      }
      const list = this.#list;
      for (let i = 0; i < list.length; i++) if (list[i][0] === name) return true;
      return false;
    }

    set(name, value) {
      URLSearchParams.#check(this);
      requiredArguments(arguments.length, 2, "Failed to execute 'set' on 'URLSearchParams'", ["USVString", "USVString"]);
      name = toUSVString(name);
      value = toUSVString(value);
      const list = this.#list;
      let i = 0;
      while (i < list.length && list[i][0] !== name) i++;
      if (i === list.length) {
        ArrayAppend(list, [name, value]);
      } else {
        list[i][1] = value;
        this.#list = filterList(list, (p, j) => j <= i || p[0] !== name);
      }
      this.#update();
    }

    sort() {
      URLSearchParams.#check(this);
      // Array.prototype.sort is stable; < compares UTF-16 code units.
      ArrayPrototypeSort(this.#list, (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      this.#update();
    }

    toString() {
      URLSearchParams.#check(this);
      return serializeUrlencoded(this.#list);
    }

    static {
      paramsInternals = {
        __proto__: null,
        isParams: (p) => isObject(p) && #list in p,
        list(p) {
          URLSearchParams.#check(p);
          return p.#list;
        },
        createLinked(url, list) {
          const p = new URLSearchParams(kLinked);
          p.#url = url;
          p.#list = list;
          return p;
        },
        setList(p, list) {
          p.#list = list;
        },
      };
    }
  }

  definePairIterable(URLSearchParams, "URLSearchParams", (p) => paramsInternals.list(p));
  defineToStringTag(URLSearchParams, "URLSearchParams");
  makeEnumerable(URLSearchParams.prototype, [
    "size", "append", "delete", "get", "getAll", "has", "set", "sort", "toString",
  ]);

  // ---------------------------------------------------------------------
  // URL
  // ---------------------------------------------------------------------

  const kFromComponents = Symbol("URL from components");

  function queryList(search) {
    // search is "" or "?..."
    return parseUrlencoded(search.length > 0 ? StringPrototypeSlice(search, 1) : "");
  }

  function invalidURL() {
    return new TypeError("Invalid URL string.");
  }

  class URL {
    #c;
    // Made on first use of `searchParams` (most URLs are never asked):
    // from then on it is kept in step with the URL's query.
    #searchParams = null;

    constructor(url, base = undefined) {
      if (url === kFromComponents) {
        this.#c = base;
      } else {
        requiredArguments(arguments.length, 1, "Failed to construct 'URL'", ["USVString"]);
        url = toUSVString(url);
        base = base === undefined ? undefined : toUSVString(base);
        const c = parse(url, base);
        if (c === null) throw invalidURL();
        this.#c = c;
      }
    }

    static canParse(url, base = undefined) {
      requiredArguments(arguments.length, 1, "Failed to execute 'canParse' on 'URL'", ["USVString"]);
      url = toUSVString(url);
      base = base === undefined ? undefined : toUSVString(base);
      return parse(url, base) !== null;
    }

    static parse(url, base = undefined) {
      requiredArguments(arguments.length, 1, "Failed to execute 'parse' on 'URL'", ["USVString"]);
      url = toUSVString(url);
      base = base === undefined ? undefined : toUSVString(base);
      const c = parse(url, base);
      return c === null ? null : new URL(kFromComponents, c);
    }

    static #check(u) {
      if (!(isObject(u) && #c in u)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    }

    #set(setter, value) {
      const c = ops.urlSet(this.#c[HREF], setter, value);
      if (c === null || c === undefined) return false;
      this.#c = c;
      return true;
    }

    get href() { URL.#check(this); return this.#c[HREF]; }
    set href(value) {
      URL.#check(this);
      value = toUSVString(value);
      if (!this.#set("href", value)) {
        throw new TypeError(
          "Failed to set the 'href' property on 'URL': the provided value is not of type 'valid URL string'.",
        );
      }
      this.#syncParams();
    }
    get origin() { URL.#check(this); return this.#c[ORIGIN]; }
    get protocol() { URL.#check(this); return this.#c[PROTOCOL]; }
    set protocol(value) { URL.#check(this); this.#set("protocol", toUSVString(value)); }
    get username() { URL.#check(this); return this.#c[USERNAME]; }
    set username(value) { URL.#check(this); this.#set("username", toUSVString(value)); }
    get password() { URL.#check(this); return this.#c[PASSWORD]; }
    set password(value) { URL.#check(this); this.#set("password", toUSVString(value)); }
    get host() { URL.#check(this); return this.#c[HOST]; }
    set host(value) { URL.#check(this); this.#set("host", toUSVString(value)); }
    get hostname() { URL.#check(this); return this.#c[HOSTNAME]; }
    set hostname(value) { URL.#check(this); this.#set("hostname", toUSVString(value)); }
    get port() { URL.#check(this); return this.#c[PORT]; }
    set port(value) { URL.#check(this); this.#set("port", toUSVString(value)); }
    get pathname() { URL.#check(this); return this.#c[PATHNAME]; }
    set pathname(value) { URL.#check(this); this.#set("pathname", toUSVString(value)); }
    get search() { URL.#check(this); return this.#c[SEARCH]; }
    set search(value) {
      URL.#check(this);
      this.#set("search", toUSVString(value));
      this.#syncParams();
    }
    #syncParams() {
      if (this.#searchParams !== null) paramsInternals.setList(this.#searchParams, queryList(this.#c[SEARCH]));
    }
    get searchParams() {
      URL.#check(this);
      if (this.#searchParams === null) {
        this.#searchParams = paramsInternals.createLinked(this, queryList(this.#c[SEARCH]));
      }
      return this.#searchParams;
    }
    get hash() { URL.#check(this); return this.#c[HASH]; }
    set hash(value) { URL.#check(this); this.#set("hash", toUSVString(value)); }

    toString() { URL.#check(this); return this.#c[HREF]; }
    toJSON() { URL.#check(this); return this.#c[HREF]; }

    static {
      urlInternals = {
        __proto__: null,
        isURL: (u) => isObject(u) && #c in u,
        // A URL's serialisation (undefined for anything else), which parses
        // back to itself.
        hrefOf: (u) => (isObject(u) && #c in u ? u.#c[HREF] : undefined),
        // URLSearchParams update steps: set the query without re-parsing the
        // list ("" -> null query).
        setQuery(u, serialized) {
          u.#set("search", serialized);
        },
        components: (u) => {
          URL.#check(u);
          const c = u.#c;
          const out = [];
          for (let i = 0; i < c.length; i++) ArrayAppend(out, c[i]);
          return out;
        },
      };
    }
  }

  defineToStringTag(URL, "URL");
  makeEnumerable(URL.prototype, [
    "href", "origin", "protocol", "username", "password", "host", "hostname",
    "port", "pathname", "search", "searchParams", "hash", "toString", "toJSON",
  ]);
  // workerd has these (blob: URLs are not supported there): they throw.
  for (const name of ["createObjectURL", "revokeObjectURL"]) {
    const fn = {
      [name]() {
        throw new Error(`URL.${name}() is not implemented`);
      },
    }[name];
    ObjectDefineProperty(URL, name, { __proto__: null, value: fn, writable: true, enumerable: true, configurable: true });
  }
  makeEnumerable(URL, ["canParse", "parse"]);

  internals.url = {
    __proto__: null,
    URL, URLSearchParams,
    // parse(href, base) -> components array or null
    parse: (href, base = undefined) => parse(`${href}`, base === undefined ? undefined : `${base}`),
    isURL: (u) => urlInternals.isURL(u),
    hrefOf: (u) => urlInternals.hrefOf(u),
    components: (u) => urlInternals.components(u),
    isURLSearchParams: (p) => paramsInternals.isParams(p),
    serializeParams: (p) => serializeUrlencoded(paramsInternals.list(p)),
    parseUrlencoded: (s) => parseUrlencoded(toUSVString(s)),
    serializeUrlencoded: (list) =>
      serializeUrlencoded(usvPairs(list)),
    COMPONENTS: { __proto__: null, HREF, PROTOCOL, USERNAME, PASSWORD, HOST, HOSTNAME, PORT, PATHNAME, SEARCH, HASH, ORIGIN },
  };

  internals.defineGlobal("URL", URL);
  internals.defineGlobal("URLSearchParams", URLSearchParams);
})
