"use strict";
// URLPattern (WHATWG URL Pattern Standard, https://urlpattern.spec.whatwg.org/).
// Pure JS: the tokenizer, the pattern parser, compilation of each component
// to a RegExp (flag "v", as the spec), the constructor string parser and
// matching. Canonicalisation goes through the URL parser of 12_url.js
// (internals.url.parse / ops.urlSet), as the spec does with dummy URLs.
((globalThis, internals) => {
  const {
    ArrayFrom,
    Object,
    ObjectDefineProperty,
    ObjectHasOwn,
    ReflectApply,
    RegExp,
    String,
    TypeError,
    encodeURIComponent,
    ArrayPrototypePush,
  } = internals.primordials;
  const { toUSVString, isObject, defineToStringTag, makeEnumerable } = internals.webidl;
  const ops = internals.ops;
  const urlParse = internals.url.parse;
  const C = internals.url.COMPONENTS;
  const RegExpPrototypeExec = RegExp.prototype.exec;
  const StringPrototypeToLowerCase = String.prototype.toLowerCase;

  // CreateDataProperty: unaffected by setters on Object.prototype and by a
  // key named "__proto__".
  function createDataProperty(obj, key, value) {
    ObjectDefineProperty(obj, key, { __proto__: null, value, writable: true, enumerable: true, configurable: true });
  }

  function regExpExec(re, s) {
    return ReflectApply(RegExpPrototypeExec, re, [s]);
  }

  function toLowerCase(s) {
    return ReflectApply(StringPrototypeToLowerCase, s, []);
  }

  const ID_START = /[$_\p{ID_Start}]/u;
  const ID_CONTINUE = /[$\u200C\u200D\p{ID_Continue}]/u;

  function isValidNameCodePoint(cp, first) {
    return regExpExec(first ? ID_START : ID_CONTINUE, cp) !== null;
  }

  function isASCII(cp) {
    return cp.codePointAt(0) <= 0x7f;
  }

  function isASCIIDigit(cp) {
    return cp !== undefined && cp >= "0" && cp <= "9";
  }

  // ---------------------------------------------------------------------
  // Tokenizer
  // ---------------------------------------------------------------------

  const T_OPEN = "open", T_CLOSE = "close", T_REGEXP = "regexp", T_NAME = "name",
    T_CHAR = "char", T_ESCAPED = "escaped-char", T_MODIFIER = "other-modifier",
    T_ASTERISK = "asterisk", T_END = "end", T_INVALID = "invalid-char";

  // input: array of code points; policy: "strict" | "lenient".
  // Token index values are code point indices into input.
  function tokenize(input, policy) {
    const tokens = [];
    const length = input.length;
    let index = 0;
    let nextIndex = 0;
    let cp = "";

    const seekAndGet = (pos) => {
      nextIndex = pos;
      cp = input[nextIndex++];
    };
    const addToken = (type, nextPos, valuePos, valueLen) => {
      ArrayPrototypePush(tokens, { type, index, value: input.slice(valuePos, valuePos + valueLen).join("") });
      index = nextPos;
    };
    const addDefaultLen = (type, nextPos, valuePos) => addToken(type, nextPos, valuePos, nextPos - valuePos);
    const addDefault = (type) => addDefaultLen(type, nextIndex, index);
    const error = (nextPos, valuePos) => {
      if (policy === "strict") {
        throw new TypeError(`Invalid pattern: unexpected character at position ${valuePos}`);
      }
      addDefaultLen(T_INVALID, nextPos, valuePos);
    };

    while (index < length) {
      seekAndGet(index);
      if (cp === "*") { addDefault(T_ASTERISK); continue; }
      if (cp === "+" || cp === "?") { addDefault(T_MODIFIER); continue; }
      if (cp === "\\") {
        if (index === length - 1) { error(nextIndex, index); continue; }
        const escapedIndex = nextIndex;
        seekAndGet(nextIndex);
        addDefaultLen(T_ESCAPED, nextIndex, escapedIndex);
        continue;
      }
      if (cp === "{") { addDefault(T_OPEN); continue; }
      if (cp === "}") { addDefault(T_CLOSE); continue; }
      if (cp === ":") {
        let namePos = nextIndex;
        const nameStart = namePos;
        while (namePos < length) {
          seekAndGet(namePos);
          if (!isValidNameCodePoint(cp, namePos === nameStart)) break;
          namePos = nextIndex;
        }
        if (namePos <= nameStart) { error(nameStart, index); continue; }
        addDefaultLen(T_NAME, namePos, nameStart);
        continue;
      }
      if (cp === "(") {
        let depth = 1;
        let rePos = nextIndex;
        const reStart = rePos;
        let failed = false;
        while (rePos < length) {
          seekAndGet(rePos);
          if (!isASCII(cp)) { error(reStart, index); failed = true; break; }
          if (rePos === reStart && cp === "?") { error(reStart, index); failed = true; break; }
          if (cp === "\\") {
            if (rePos === length - 1) { error(reStart, index); failed = true; break; }
            seekAndGet(nextIndex);
            if (!isASCII(cp)) { error(reStart, index); failed = true; break; }
            rePos = nextIndex;
            continue;
          }
          if (cp === ")") {
            depth--;
            if (depth === 0) { rePos = nextIndex; break; }
          } else if (cp === "(") {
            depth++;
            if (rePos === length - 1) { error(reStart, index); failed = true; break; }
            const tmp = nextIndex;
            seekAndGet(nextIndex);
            if (cp !== "?") { error(reStart, index); failed = true; break; }
            nextIndex = tmp;
          }
          rePos = nextIndex;
        }
        if (failed) continue;
        if (depth !== 0) { error(reStart, index); continue; }
        const reLen = rePos - reStart - 1;
        if (reLen === 0) { error(reStart, index); continue; }
        addToken(T_REGEXP, rePos, reStart, reLen);
        continue;
      }
      addDefault(T_CHAR);
    }
    addDefaultLen(T_END, index, index);
    return tokens;
  }

  // ---------------------------------------------------------------------
  // Pattern parser
  // ---------------------------------------------------------------------

  const P_FIXED = "fixed-text", P_REGEXP = "regexp", P_SEGMENT = "segment-wildcard",
    P_FULL = "full-wildcard";
  const M_NONE = "", M_OPTIONAL = "?", M_ZERO_OR_MORE = "*", M_ONE_OR_MORE = "+";
  const FULL_WILDCARD = ".*";

  function escapeRegExpString(s) {
    return s.replace(/[.+*?^${}()[\]|/\\]/g, "\\$&");
  }

  function escapePatternString(s) {
    return s.replace(/[+*?:{}()\\]/g, "\\$&");
  }

  function segmentWildcardRegExp(options) {
    return "[^" + escapeRegExpString(options.delimiter) + "]+?";
  }

  function parsePatternString(input, options, encode) {
    const tokens = tokenize(ArrayFrom(input), "strict");
    const segmentWildcard = segmentWildcardRegExp(options);
    const parts = [];
    let pendingFixed = "";
    let index = 0;
    let nextNumericName = 0;

    const tryConsume = (type) => {
      const t = tokens[index];
      if (t.type !== type) return null;
      index++;
      return t;
    };
    const tryConsumeModifier = () => tryConsume(T_MODIFIER) ?? tryConsume(T_ASTERISK);
    const tryConsumeRegexpOrWildcard = (nameToken) => {
      const t = tryConsume(T_REGEXP);
      if (nameToken === null && t === null) return tryConsume(T_ASTERISK);
      return t;
    };
    const consumeRequired = (type) => {
      const t = tryConsume(type);
      if (t === null) {
        const got = tokens[index];
        throw new TypeError(
          `Invalid pattern: expected ${type} token at position ${got.index}, got ${got.type}`,
        );
      }
      return t;
    };
    const consumeText = () => {
      let result = "";
      for (;;) {
        const t = tryConsume(T_CHAR) ?? tryConsume(T_ESCAPED);
        if (t === null) return result;
        result += t.value;
      }
    };
    const maybeAddPartFromPending = () => {
      if (pendingFixed === "") return;
      const encoded = encode(pendingFixed);
      pendingFixed = "";
      ArrayPrototypePush(parts, { type: P_FIXED, value: encoded, modifier: M_NONE, name: "", prefix: "", suffix: "" });
    };
    const isDuplicateName = (name) => parts.some((p) => p.name === name);
    const addPart = (prefix, nameToken, regexpOrWildcardToken, suffix, modifierToken) => {
      const modifier = modifierToken === null ? M_NONE : modifierToken.value;
      if (nameToken === null && regexpOrWildcardToken === null && modifier === M_NONE) {
        pendingFixed += prefix;
        return;
      }
      maybeAddPartFromPending();
      if (nameToken === null && regexpOrWildcardToken === null) {
        if (prefix === "") return;
        ArrayPrototypePush(parts, { type: P_FIXED, value: encode(prefix), modifier, name: "", prefix: "", suffix: "" });
        return;
      }
      let regexpValue;
      if (regexpOrWildcardToken === null) regexpValue = segmentWildcard;
      else if (regexpOrWildcardToken.type === T_ASTERISK) regexpValue = FULL_WILDCARD;
      else regexpValue = regexpOrWildcardToken.value;
      let type = P_REGEXP;
      if (regexpValue === segmentWildcard) {
        type = P_SEGMENT;
        regexpValue = "";
      } else if (regexpValue === FULL_WILDCARD) {
        type = P_FULL;
        regexpValue = "";
      }
      let name = "";
      if (nameToken !== null) {
        name = nameToken.value;
      } else if (regexpOrWildcardToken !== null) {
        name = `${nextNumericName}`;
        nextNumericName++;
      }
      if (isDuplicateName(name)) {
        throw new TypeError(`Invalid pattern: duplicate group name '${name}'`);
      }
      ArrayPrototypePush(parts, {
        type, value: regexpValue, modifier, name,
        prefix: encode(prefix), suffix: encode(suffix),
      });
    };

    while (index < tokens.length) {
      const charToken = tryConsume(T_CHAR);
      let nameToken = tryConsume(T_NAME);
      let regexpOrWildcardToken = tryConsumeRegexpOrWildcard(nameToken);
      if (nameToken !== null || regexpOrWildcardToken !== null) {
        let prefix = charToken === null ? "" : charToken.value;
        if (prefix !== "" && prefix !== options.prefix) {
          pendingFixed += prefix;
          prefix = "";
        }
        maybeAddPartFromPending();
        const modifierToken = tryConsumeModifier();
        addPart(prefix, nameToken, regexpOrWildcardToken, "", modifierToken);
        continue;
      }
      const fixedToken = charToken ?? tryConsume(T_ESCAPED);
      if (fixedToken !== null) {
        pendingFixed += fixedToken.value;
        continue;
      }
      const openToken = tryConsume(T_OPEN);
      if (openToken !== null) {
        const prefix = consumeText();
        nameToken = tryConsume(T_NAME);
        regexpOrWildcardToken = tryConsumeRegexpOrWildcard(nameToken);
        const suffix = consumeText();
        consumeRequired(T_CLOSE);
        const modifierToken = tryConsumeModifier();
        addPart(prefix, nameToken, regexpOrWildcardToken, suffix, modifierToken);
        continue;
      }
      maybeAddPartFromPending();
      consumeRequired(T_END);
    }
    return parts;
  }

  // ---------------------------------------------------------------------
  // Component compilation
  // ---------------------------------------------------------------------

  function generateRegExpAndNameList(parts, options) {
    // "[^]+?" for an empty delimiter, spelt so that engines whose v-mode
    // "[^]" matches nothing (V8 before 12) still match any code point.
    const segmentWildcard = options.delimiter === ""
      ? "[\\s\\S]+?"
      : segmentWildcardRegExp(options);
    let result = "^";
    const names = [];
    for (let i_part = 0; i_part < parts.length; i_part++) {
      const part = parts[i_part];
      if (part.type === P_FIXED) {
        if (part.modifier === M_NONE) result += escapeRegExpString(part.value);
        else result += "(?:" + escapeRegExpString(part.value) + ")" + part.modifier;
        continue;
      }
      ArrayPrototypePush(names, part.name);
      let value = part.value;
      if (part.type === P_SEGMENT) value = segmentWildcard;
      else if (part.type === P_FULL) value = FULL_WILDCARD;
      const optionalOrNone = part.modifier === M_NONE || part.modifier === M_OPTIONAL;
      if (part.prefix === "" && part.suffix === "") {
        if (optionalOrNone) result += "(" + value + ")" + part.modifier;
        else result += "((?:" + value + ")" + part.modifier + ")";
        continue;
      }
      const prefix = escapeRegExpString(part.prefix);
      const suffix = escapeRegExpString(part.suffix);
      if (optionalOrNone) {
        result += "(?:" + prefix + "(" + value + ")" + suffix + ")" + part.modifier;
        continue;
      }
      result += "(?:" + prefix + "((?:" + value + ")(?:" + suffix + prefix + "(?:" + value +
        "))*)" + suffix + ")";
      if (part.modifier === M_ZERO_OR_MORE) result += "?";
    }
    result += "$";
    return { regexpString: result, names };
  }

  function generatePatternString(parts, options) {
    let result = "";
    const segmentWildcard = segmentWildcardRegExp(options);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      const previous = i > 0 ? parts[i - 1] : null;
      const next = i < parts.length - 1 ? parts[i + 1] : null;
      if (part.type === P_FIXED) {
        if (part.modifier === M_NONE) {
          result += escapePatternString(part.value);
        } else {
          result += "{" + escapePatternString(part.value) + "}" + part.modifier;
        }
        continue;
      }
      const customName = !isASCIIDigit(part.name[0]);
      let needsGrouping = part.suffix !== "" ||
        (part.prefix !== "" && part.prefix !== options.prefix);
      if (!needsGrouping && customName && part.type === P_SEGMENT &&
        part.modifier === M_NONE && next !== null && next.prefix === "" && next.suffix === "") {
        if (next.type === P_FIXED) {
          needsGrouping = isValidNameCodePoint(ArrayFrom(next.value)[0] ?? "", false);
        } else {
          needsGrouping = isASCIIDigit(next.name[0]);
        }
      }
      if (!needsGrouping && part.prefix === "" && previous !== null &&
        previous.type === P_FIXED && previous.value !== "" &&
        ArrayFrom(previous.value).at(-1) === options.prefix) {
        needsGrouping = true;
      }
      if (needsGrouping) result += "{";
      result += escapePatternString(part.prefix);
      if (customName) result += ":" + part.name;
      if (part.type === P_REGEXP) {
        result += "(" + part.value + ")";
      } else if (part.type === P_SEGMENT && !customName) {
        result += "(" + segmentWildcard + ")";
      } else if (part.type === P_FULL) {
        if (!customName && (previous === null || previous.type === P_FIXED ||
          previous.modifier !== M_NONE || needsGrouping || part.prefix !== "")) {
          result += "*";
        } else {
          result += "(" + FULL_WILDCARD + ")";
        }
      }
      if (part.type === P_SEGMENT && customName && part.suffix !== "" &&
        isValidNameCodePoint(ArrayFrom(part.suffix)[0], false)) {
        result += "\\";
      }
      result += escapePatternString(part.suffix);
      if (needsGrouping) result += "}";
      result += part.modifier;
    }
    return result;
  }

  const DEFAULT_OPTIONS = { delimiter: "", prefix: "", ignoreCase: false };
  const HOSTNAME_OPTIONS = { delimiter: ".", prefix: "", ignoreCase: false };
  const PATHNAME_OPTIONS = { delimiter: "/", prefix: "/", ignoreCase: false };

  function compileComponent(input, encode, options) {
    const parts = parsePatternString(input, options, encode);
    const { regexpString, names } = generateRegExpAndNameList(parts, options);
    let regexp;
    try {
      regexp = new RegExp(regexpString, options.ignoreCase ? "vi" : "v");
    } catch (e) {
      throw new TypeError(`Invalid pattern: ${e.message}`);
    }
    return {
      patternString: generatePatternString(parts, options),
      regexp,
      names,
      hasRegExpGroups: parts.some((p) => p.type === P_REGEXP),
    };
  }

  const SPECIAL_SCHEMES = ["ftp", "file", "http", "https", "ws", "wss"];
  const DEFAULT_PORTS = { __proto__: null, ftp: "21", http: "80", https: "443", ws: "80", wss: "443" };

  function isSpecialScheme(s) {
    return SPECIAL_SCHEMES.includes(s);
  }

  function protocolComponentMatchesSpecialScheme(component) {
    for (let i_scheme = 0; i_scheme < SPECIAL_SCHEMES.length; i_scheme++) {
      const scheme = SPECIAL_SCHEMES[i_scheme];
      if (regExpExec(component.regexp, scheme) !== null) return true;
    }
    return false;
  }

  function hostnamePatternIsIPv6(s) {
    if (s.length < 2) return false;
    return s[0] === "[" || ((s[0] === "{" || s[0] === "\\") && s[1] === "[");
  }

  // ---------------------------------------------------------------------
  // Canonicalisation (the encoding callbacks), through dummy URLs
  // ---------------------------------------------------------------------

  const DUMMY = "https://dummy.invalid/";

  function urlSet(href, setter, value) {
    const c = ops.urlSet(href, setter, value);
    return c === null || c === undefined ? null : c;
  }

  function invalidComponent(what, value) {
    return new TypeError(`Invalid ${what}: '${value}'`);
  }

  function canonicalizeProtocol(value) {
    if (value === "") return value;
    const c = urlParse(value + "://dummy.invalid/");
    if (c === null) throw invalidComponent("protocol", value);
    return c[C.PROTOCOL].slice(0, -1);
  }

  function canonicalizeUsername(value) {
    if (value === "") return value;
    const c = urlSet(DUMMY, "username", value);
    if (c === null) throw invalidComponent("username", value);
    return c[C.USERNAME];
  }

  function canonicalizePassword(value) {
    if (value === "") return value;
    const c = urlSet(DUMMY, "password", value);
    if (c === null) throw invalidComponent("password", value);
    return c[C.PASSWORD];
  }

  // A URL setter that cannot apply its value leaves the URL as it was, so
  // set the value on two URLs that differ in that component: it failed when
  // the two still differ afterwards.
  function setOnTwo(hrefA, hrefB, setter, value, index) {
    const a = urlSet(hrefA, setter, value);
    const b = urlSet(hrefB, setter, value);
    if (a === null || b === null || a[index] !== b[index]) return null;
    return a[index];
  }

  function canonicalizeHostname(value) {
    if (value === "") return value;
    const r = setOnTwo("https://a.invalid/", "https://b.invalid/", "hostname", value, C.HOSTNAME);
    if (r === null) throw invalidComponent("hostname", value);
    return r;
  }

  function canonicalizeIPv6Hostname(value) {
    let result = "";
    for (const cp of value) {
      if (regExpExec(/^[0-9a-fA-F[\]:]$/, cp) === null) {
        throw invalidComponent("IPv6 hostname", value);
      }
      result += toLowerCase(cp);
    }
    return result;
  }

  function canonicalizePort(value, protocol = undefined) {
    if (value === "") return value;
    // The port state with a state override fails for input that does not
    // start with an ASCII digit (tab and newline are stripped first).
    if (!isASCIIDigit(value.replace(/[\t\n\r]/g, "")[0])) {
      throw invalidComponent("port", value);
    }
    let scheme = "dummy";
    if (protocol !== undefined && protocol !== "" &&
      urlParse(protocol + "://dummy.invalid:1/") !== null) {
      scheme = protocol;
    }
    const r = setOnTwo(`${scheme}://dummy.invalid:1/`, `${scheme}://dummy.invalid:2/`, "port",
      value, C.PORT);
    if (r === null) throw invalidComponent("port", value);
    return r;
  }

  function canonicalizePathname(value) {
    if (value === "") return value;
    const leadingSlash = value[0] === "/";
    const modified = leadingSlash ? value : "/-" + value;
    const c = urlSet(DUMMY, "pathname", modified);
    if (c === null) throw invalidComponent("pathname", value);
    let result = c[C.PATHNAME];
    if (!leadingSlash && result.startsWith("/-")) result = result.slice(2);
    return result;
  }

  // The opaque path state: UTF-8 percent-encode with the C0 control
  // percent-encode set.
  function canonicalizeOpaquePathname(value) {
    let result = "";
    for (const cp of value) {
      const n = cp.codePointAt(0);
      if (n < 0x20 || n === 0x7f) {
        result += "%" + (n < 16 ? "0" : "") + n.toString(16).toUpperCase();
      } else if (n > 0x7e) {
        result += encodeURIComponent(cp);
      } else {
        result += cp;
      }
    }
    return result;
  }

  function canonicalizeSearch(value) {
    if (value === "") return value;
    const c = urlSet(DUMMY, "search", "?" + value);
    if (c === null) throw invalidComponent("search", value);
    return c[C.SEARCH].slice(1);
  }

  function canonicalizeHash(value) {
    if (value === "") return value;
    const c = urlSet(DUMMY, "hash", "#" + value);
    if (c === null) throw invalidComponent("hash", value);
    return c[C.HASH].slice(1);
  }

  // ---------------------------------------------------------------------
  // Processing a URLPatternInit
  // ---------------------------------------------------------------------

  const COMPONENTS = ["protocol", "username", "password", "hostname", "port", "pathname",
    "search", "hash"];

  function processBaseURLString(input, type) {
    return type === "pattern" ? escapePatternString(input) : input;
  }

  function isAbsolutePathname(input, type) {
    if (input === "") return false;
    if (input[0] === "/") return true;
    if (type === "url") return false;
    if (input.length < 2) return false;
    return (input[0] === "\\" || input[0] === "{") && input[1] === "/";
  }

  function hasOpaquePath(c) {
    // An opaque path is the only kind that does not start with "/" (an empty
    // one counts as not opaque here: it gives the same result below).
    return c[C.PATHNAME] !== "" && c[C.PATHNAME][0] !== "/";
  }

  // init: a converted URLPatternInit (own members present or absent);
  // type: "pattern" | "url".
  function processInit(init, type) {
    const result = { __proto__: null };
    let base = null;
    const has = (k) => ObjectHasOwn(init, k) && init[k] !== undefined;
    if (has("baseURL")) {
      base = urlParse(init.baseURL);
      if (base === null) throw new TypeError(`Invalid baseURL: '${init.baseURL}'`);
      if (!has("protocol")) {
        result.protocol = processBaseURLString(base[C.PROTOCOL].slice(0, -1), type);
      }
      if (type !== "pattern" && !has("protocol") && !has("hostname") && !has("port") &&
        !has("username")) {
        result.username = processBaseURLString(base[C.USERNAME], type);
      }
      if (type !== "pattern" && !has("protocol") && !has("hostname") && !has("port") &&
        !has("username") && !has("password")) {
        result.password = processBaseURLString(base[C.PASSWORD], type);
      }
      if (!has("protocol") && !has("hostname")) {
        result.hostname = processBaseURLString(base[C.HOSTNAME], type);
      }
      if (!has("protocol") && !has("hostname") && !has("port")) {
        result.port = processBaseURLString(base[C.PORT], type);
      }
      if (!has("protocol") && !has("hostname") && !has("port") && !has("pathname")) {
        result.pathname = processBaseURLString(base[C.PATHNAME], type);
      }
      if (!has("protocol") && !has("hostname") && !has("port") && !has("pathname") &&
        !has("search")) {
        result.search = processBaseURLString(base[C.SEARCH].slice(1), type);
      }
      if (!has("protocol") && !has("hostname") && !has("port") && !has("pathname") &&
        !has("search") && !has("hash")) {
        result.hash = processBaseURLString(base[C.HASH].slice(1), type);
      }
    }
    const pattern = type === "pattern";
    if (has("protocol")) {
      let v = init.protocol;
      if (v.endsWith(":")) v = v.slice(0, -1);
      result.protocol = pattern ? v : canonicalizeProtocol(v);
    }
    if (has("username")) {
      result.username = pattern ? init.username : canonicalizeUsername(init.username);
    }
    if (has("password")) {
      result.password = pattern ? init.password : canonicalizePassword(init.password);
    }
    if (has("hostname")) {
      result.hostname = pattern ? init.hostname : canonicalizeHostname(init.hostname);
    }
    if (has("port")) {
      result.port = pattern ? init.port : canonicalizePort(init.port, result.protocol);
    }
    if (has("pathname")) {
      let pathname = init.pathname;
      if (base !== null && !hasOpaquePath(base) && !isAbsolutePathname(pathname, type)) {
        const basePath = processBaseURLString(base[C.PATHNAME], type);
        const slash = basePath.lastIndexOf("/");
        if (slash !== -1) pathname = basePath.slice(0, slash + 1) + pathname;
      }
      if (!pattern) {
        const protocol = result.protocol;
        if (protocol === undefined || protocol === "" || isSpecialScheme(protocol)) {
          pathname = canonicalizePathname(pathname);
        } else {
          pathname = canonicalizeOpaquePathname(pathname);
        }
      }
      result.pathname = pathname;
    }
    if (has("search")) {
      let v = init.search;
      if (v[0] === "?") v = v.slice(1);
      result.search = pattern ? v : canonicalizeSearch(v);
    }
    if (has("hash")) {
      let v = init.hash;
      if (v[0] === "#") v = v.slice(1);
      result.hash = pattern ? v : canonicalizeHash(v);
    }
    return result;
  }

  // ---------------------------------------------------------------------
  // Constructor string parser
  // ---------------------------------------------------------------------

  function parseConstructorString(inputString) {
    const input = ArrayFrom(inputString);
    const tokens = tokenize(input, "lenient");
    const result = { __proto__: null };
    let componentStart = 0;
    let tokenIndex = 0;
    let tokenIncrement = 1;
    let groupDepth = 0;
    let ipv6Depth = 0;
    let protocolMatchesSpecialScheme = false;
    let state = "init";

    const safeToken = (i) => (i < tokens.length ? tokens[i] : tokens[tokens.length - 1]);
    const isNonSpecialPatternChar = (i, value) => {
      const t = safeToken(i);
      if (t.value !== value) return false;
      return t.type === T_CHAR || t.type === T_ESCAPED || t.type === T_INVALID;
    };
    const isSearchPrefix = () => {
      if (isNonSpecialPatternChar(tokenIndex, "?")) return true;
      if (tokens[tokenIndex].value !== "?") return false;
      const previousIndex = tokenIndex - 1;
      if (previousIndex < 0) return true;
      const previous = safeToken(previousIndex);
      return !(previous.type === T_NAME || previous.type === T_REGEXP ||
        previous.type === T_CLOSE || previous.type === T_ASTERISK);
    };
    const isHashPrefix = () => isNonSpecialPatternChar(tokenIndex, "#");
    const isPathnameStart = () => isNonSpecialPatternChar(tokenIndex, "/");
    const isColon = () => isNonSpecialPatternChar(tokenIndex, ":");
    const isIdentityTerminator = () => isNonSpecialPatternChar(tokenIndex, "@");
    const nextIsAuthoritySlashes = () =>
      isNonSpecialPatternChar(tokenIndex + 1, "/") && isNonSpecialPatternChar(tokenIndex + 2, "/");
    const makeComponentString = () => {
      const token = tokens[tokenIndex];
      const startIndex = safeToken(componentStart).index;
      return input.slice(startIndex, token.index).join("");
    };
    const rewind = () => {
      tokenIndex = componentStart;
      tokenIncrement = 0;
    };
    const rewindAndSetState = (s) => {
      rewind();
      state = s;
    };
    const changeState = (newState, skip) => {
      if (state !== "init" && state !== "authority" && state !== "done") {
        result[state] = makeComponentString();
      }
      if (state !== "init" && newState !== "done") {
        const early = ["protocol", "authority", "username", "password"];
        if (early.includes(state) && ["port", "pathname", "search", "hash"].includes(newState) &&
          result.hostname === undefined) {
          result.hostname = "";
        }
        if ([...early, "hostname", "port"].includes(state) &&
          (newState === "search" || newState === "hash") && result.pathname === undefined) {
          result.pathname = protocolMatchesSpecialScheme ? "/" : "";
        }
        if ([...early, "hostname", "port", "pathname"].includes(state) && newState === "hash" &&
          result.search === undefined) {
          result.search = "";
        }
      }
      state = newState;
      tokenIndex += skip;
      componentStart = tokenIndex;
      tokenIncrement = 0;
    };
    const computeProtocolMatchesSpecialScheme = () => {
      const component = compileComponent(makeComponentString(), canonicalizeProtocol, DEFAULT_OPTIONS);
      if (protocolComponentMatchesSpecialScheme(component)) protocolMatchesSpecialScheme = true;
    };

    while (tokenIndex < tokens.length) {
      tokenIncrement = 1;
      const token = tokens[tokenIndex];
      if (token.type === T_END) {
        if (state === "init") {
          rewind();
          if (isHashPrefix()) changeState("hash", 1);
          else if (isSearchPrefix()) changeState("search", 1);
          else changeState("pathname", 0);
          tokenIndex += tokenIncrement;
          continue;
        }
        if (state === "authority") {
          rewindAndSetState("hostname");
          tokenIndex += tokenIncrement;
          continue;
        }
        changeState("done", 0);
        break;
      }
      if (token.type === T_OPEN) {
        groupDepth++;
        tokenIndex += tokenIncrement;
        continue;
      }
      if (groupDepth > 0) {
        if (token.type === T_CLOSE) {
          groupDepth--;
        } else {
          tokenIndex += tokenIncrement;
          continue;
        }
      }
      switch (state) {
        case "init":
          if (isColon()) rewindAndSetState("protocol");
          break;
        case "protocol":
          if (isColon()) {
            computeProtocolMatchesSpecialScheme();
            let nextState = "pathname";
            let skip = 1;
            if (nextIsAuthoritySlashes()) {
              nextState = "authority";
              skip = 3;
            } else if (protocolMatchesSpecialScheme) {
              nextState = "authority";
            }
            changeState(nextState, skip);
          }
          break;
        case "authority":
          if (isIdentityTerminator()) rewindAndSetState("username");
          else if (isPathnameStart() || isSearchPrefix() || isHashPrefix()) {
            rewindAndSetState("hostname");
          }
          break;
        case "username":
          if (isColon()) changeState("password", 1);
          else if (isIdentityTerminator()) changeState("hostname", 1);
          break;
        case "password":
          if (isIdentityTerminator()) changeState("hostname", 1);
          break;
        case "hostname":
          if (isNonSpecialPatternChar(tokenIndex, "[")) ipv6Depth++;
          else if (isNonSpecialPatternChar(tokenIndex, "]")) ipv6Depth--;
          else if (isColon() && ipv6Depth === 0) changeState("port", 1);
          else if (isPathnameStart()) changeState("pathname", 0);
          else if (isSearchPrefix()) changeState("search", 1);
          else if (isHashPrefix()) changeState("hash", 1);
          break;
        case "port":
          if (isPathnameStart()) changeState("pathname", 0);
          else if (isSearchPrefix()) changeState("search", 1);
          else if (isHashPrefix()) changeState("hash", 1);
          break;
        case "pathname":
          if (isSearchPrefix()) changeState("search", 1);
          else if (isHashPrefix()) changeState("hash", 1);
          break;
        case "search":
          if (isHashPrefix()) changeState("hash", 1);
          break;
        default:
          break;
      }
      tokenIndex += tokenIncrement;
    }
    if (result.hostname !== undefined && result.port === undefined) result.port = "";
    return result;
  }

  // ---------------------------------------------------------------------
  // URLPattern
  // ---------------------------------------------------------------------

  // URLPatternInit members, in Web IDL (lexicographic) conversion order.
  const INIT_MEMBERS = ["baseURL", "hash", "hostname", "password", "pathname", "port",
    "protocol", "search", "username"];

  function toURLPatternInit(v) {
    const init = {};
    if (v === undefined || v === null) return init;
    for (let i_key = 0; i_key < INIT_MEMBERS.length; i_key++) {
      const key = INIT_MEMBERS[i_key];
      const value = v[key];
      if (value !== undefined) createDataProperty(init, key, toUSVString(value));
    }
    return init;
  }

  // (USVString or URLPatternInit)
  function toURLPatternInput(v) {
    if (v === undefined || v === null || isObject(v)) return toURLPatternInit(v);
    return toUSVString(v);
  }

  function toURLPatternOptions(v, prefix) {
    if (v === undefined || v === null) return { ignoreCase: false };
    if (!isObject(v)) {
      throw new TypeError(`${prefix}: The provided value is not of type 'URLPatternOptions'.`);
    }
    return { ignoreCase: !!v.ignoreCase };
  }

  function componentResult(component, input, execResult) {
    const groups = {};
    const names = component.names;
    // workerd lists a component's groups last name first (index names,
    // being integer keys, come first in any order).
    for (let i = execResult.length - 1; i >= 1; i--) {
      createDataProperty(groups, names[i - 1], execResult[i]);
    }
    return { input, groups };
  }

  // The spec's "create" steps after argument conversion: the compiled
  // components, or a TypeError for an invalid pattern.
  function create(input, base, opts) {
    let init;
    if (typeof input === "string") {
      init = parseConstructorString(input);
      if (base === null && init.protocol === undefined) {
        throw new TypeError("A relative pattern needs a base URL");
      }
      if (base !== null) init.baseURL = base;
    } else {
      if (base !== null) throw new TypeError("A base URL cannot be given with a URLPatternInit");
      init = input;
    }
    const processed = processInit(init, "pattern");
    for (let i_name = 0; i_name < COMPONENTS.length; i_name++) {
      const name = COMPONENTS[i_name];
      if (processed[name] === undefined) processed[name] = "*";
    }
    if (isSpecialScheme(processed.protocol) &&
      processed.port === DEFAULT_PORTS[processed.protocol]) {
      processed.port = "";
    }

    const c = { __proto__: null };
    c.protocol = compileComponent(processed.protocol, canonicalizeProtocol, DEFAULT_OPTIONS);
    c.username = compileComponent(processed.username, canonicalizeUsername, DEFAULT_OPTIONS);
    c.password = compileComponent(processed.password, canonicalizePassword, DEFAULT_OPTIONS);
    c.hostname = compileComponent(processed.hostname,
      hostnamePatternIsIPv6(processed.hostname) ? canonicalizeIPv6Hostname : canonicalizeHostname,
      HOSTNAME_OPTIONS);
    c.port = compileComponent(processed.port, canonicalizePort, DEFAULT_OPTIONS);
    const compileOptions = { ...DEFAULT_OPTIONS, ignoreCase: opts.ignoreCase };
    if (protocolComponentMatchesSpecialScheme(c.protocol)) {
      c.pathname = compileComponent(processed.pathname, canonicalizePathname,
        { ...PATHNAME_OPTIONS, ignoreCase: opts.ignoreCase });
    } else {
      c.pathname = compileComponent(processed.pathname, canonicalizeOpaquePathname,
        compileOptions);
    }
    c.search = compileComponent(processed.search, canonicalizeSearch, compileOptions);
    c.hash = compileComponent(processed.hash, canonicalizeHash, compileOptions);
    return c;
  }

  class URLPattern {
    #components;

    constructor(input = undefined, baseURL = undefined, options = undefined) {
      const prefix = "Failed to construct 'URLPattern'";
      input = toURLPatternInput(input);
      // As workerd: the second argument is the options when it is an
      // object (the (input, options) overload), else the base URL.
      let base = null;
      let opts = null;
      if (baseURL !== undefined) {
        if (baseURL === null || isObject(baseURL)) opts = toURLPatternOptions(baseURL, prefix);
        else base = toUSVString(baseURL);
      }
      if (opts === null) opts = toURLPatternOptions(options, prefix);
      try {
        this.#components = create(input, base, opts);
      } catch (e) {
        // workerd (ada) reports every invalid pattern the same way.
        if (e instanceof TypeError) throw new TypeError("Failed to construct URLPattern");
        throw e;
      }
    }

    static #check(p) {
      if (!(isObject(p) && #components in p)) throw new TypeError("Illegal invocation");
    }

    // The spec's "match": null when there is no match.
    #match(input, baseURL, method) {
      const inputs = [input];
      let values;
      if (typeof input !== "string") {
        // A base URL cannot be given with a URLPatternInit.
        if (baseURL !== null) throw new TypeError(`Failed to ${method} URLPattern`);
        let applied;
        try {
          applied = processInit(input, "url");
        } catch {
          return null;
        }
        values = { __proto__: null };
        for (let i_name = 0; i_name < COMPONENTS.length; i_name++) {
          const name = COMPONENTS[i_name];
          values[name] = applied[name] ?? "";
        }
      } else {
        let base;
        if (baseURL !== null) {
          ArrayPrototypePush(inputs, baseURL);
          base = urlParse(baseURL);
          if (base === null) return null;
        }
        const u = urlParse(input, baseURL === null ? undefined : base[C.HREF]);
        if (u === null) return null;
        values = {
          protocol: u[C.PROTOCOL].slice(0, -1),
          username: u[C.USERNAME],
          password: u[C.PASSWORD],
          hostname: u[C.HOSTNAME],
          port: u[C.PORT],
          pathname: u[C.PATHNAME],
          search: u[C.SEARCH].slice(1),
          hash: u[C.HASH].slice(1),
        };
      }
      const c = this.#components;
      const execResults = { __proto__: null };
      for (let i_name = 0; i_name < COMPONENTS.length; i_name++) {
        const name = COMPONENTS[i_name];
        const r = regExpExec(c[name].regexp, values[name]);
        if (r === null) return null;
        execResults[name] = r;
      }
      const result = { inputs };
      for (let i_name = 0; i_name < COMPONENTS.length; i_name++) {
        const name = COMPONENTS[i_name];
        createDataProperty(result, name, componentResult(c[name], values[name], execResults[name]));
      }
      return result;
    }

    test(input = undefined, baseURL = undefined) {
      URLPattern.#check(this);
      input = toURLPatternInput(input);
      baseURL = baseURL === undefined ? null : toUSVString(baseURL);
      return this.#match(input, baseURL, "test") !== null;
    }

    exec(input = undefined, baseURL = undefined) {
      URLPattern.#check(this);
      input = toURLPatternInput(input);
      baseURL = baseURL === undefined ? null : toUSVString(baseURL);
      return this.#match(input, baseURL, "exec");
    }

    get protocol() { URLPattern.#check(this); return this.#components.protocol.patternString; }
    get username() { URLPattern.#check(this); return this.#components.username.patternString; }
    get password() { URLPattern.#check(this); return this.#components.password.patternString; }
    get hostname() { URLPattern.#check(this); return this.#components.hostname.patternString; }
    get port() { URLPattern.#check(this); return this.#components.port.patternString; }
    get pathname() { URLPattern.#check(this); return this.#components.pathname.patternString; }
    get search() { URLPattern.#check(this); return this.#components.search.patternString; }
    get hash() { URLPattern.#check(this); return this.#components.hash.patternString; }
    get hasRegExpGroups() {
      URLPattern.#check(this);
      const c = this.#components;
      return COMPONENTS.some((name) => c[name].hasRegExpGroups);
    }
  }

  defineToStringTag(URLPattern, "URLPattern");
  makeEnumerable(URLPattern.prototype, [
    "test", "exec", "protocol", "username", "password", "hostname", "port", "pathname",
    "search", "hash", "hasRegExpGroups",
  ]);

  internals.urlpattern = { URLPattern };

  internals.defineGlobal("URLPattern", URLPattern);
})
