"use strict";
// Web IDL helpers, DOMException, Event, EventTarget, CustomEvent,
// AbortController, AbortSignal, atob and btoa.
//
// Evaluated as a classic script; its value is a function that the runtime
// calls as fn(globalThis, internals). Per-object state is kept in class
// private fields or in closure WeakMaps so that user scripts can't reach it.
((globalThis, internals) => {
  const {
    Array,
    Uint16Array,
    Boolean,
    DateNow,
    Error,
    ErrorCaptureStackTrace,
    Int16Array,
    MathTrunc,
    Number,
    NumberIsFinite,
    NumberMAX_SAFE_INTEGER,
    Object,
    ObjectCreate,
    ObjectDefineProperty,
    ObjectGetOwnPropertyDescriptor,
    ObjectGetPrototypeOf,
    ObjectKeys,
    ObjectSetPrototypeOf,
    PromiseReject,
    Reflect,
    SafeMap,
    SafeSet,
    SafeWeakMap,
    String,
    StringFromCharCode,
    Symbol,
    SymbolIterator,
    SymbolToStringTag,
    SyntaxError,
    TypeError,
    ArrayAppend,
    ArrayFromIndexed,
    ArrayPrototypeJoin,
    ArrayPrototypePush,
    ReflectApply,
    StringPrototypeCharCodeAt,
    StringPrototypeStartsWith,
    StringPrototypeSlice,
    ArrayPrototypeIndexOf,
    ArrayPrototypeSplice,
  } = internals.primordials;
  const hasWellFormed = typeof String.prototype.isWellFormed === "function";
  const StringPrototypeIsWellFormed = String.prototype.isWellFormed;
  const StringPrototypeToWellFormed = String.prototype.toWellFormed;

  // ---------------------------------------------------------------------
  // Web IDL helpers (shared with the later files via internals.webidl)
  // ---------------------------------------------------------------------

  // With `types` (a type name per parameter), the message is workerd's:
  // "<prefix>: [constructor ]parameter N is not of type 'T'."
  function requiredArguments(length, required, prefix, types = undefined) {
    if (length < required && types !== undefined && length < types.length) {
      const ctor = StringPrototypeStartsWith(prefix, "Failed to construct") ? "constructor " : "";
      throw new TypeError(`${prefix}: ${ctor}parameter ${length + 1} is not of type '${types[length]}'.`);
    }
    if (length < required) {
      throw new TypeError(
        `${prefix}: ${required} argument${required === 1 ? "" : "s"} required, ` +
          `but only ${length} present.`,
      );
    }
  }

  // ToString as Web IDL does it (throws on symbols, unlike String(x)).
  function toDOMString(v) {
    return typeof v === "string" ? v : `${v}`;
  }

  // Replace lone surrogates with U+FFFD.
  function toWellFormed(s) {
    if (hasWellFormed) {
      return ReflectApply(StringPrototypeIsWellFormed, s, [])
        ? s
        : ReflectApply(StringPrototypeToWellFormed, s, []);
    }
    let out = null;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = StringPrototypeCharCodeAt(s, i);
      if (c >= 0xd800 && c <= 0xdfff) {
        if (c <= 0xdbff && i + 1 < n) {
          const d = StringPrototypeCharCodeAt(s, i + 1);
          if (d >= 0xdc00 && d <= 0xdfff) {
            if (out !== null) out += s[i] + s[i + 1];
            i++;
            continue;
          }
        }
        if (out === null) out = StringPrototypeSlice(s, 0, i);
        out += "\uFFFD";
      } else if (out !== null) {
        out += s[i];
      }
    }
    return out === null ? s : out;
  }

  function toUSVString(v) {
    return toWellFormed(toDOMString(v));
  }

  // workerd is lenient with ByteStrings: any string is taken and goes out
  // as UTF-8 (header values, statusText). A lone surrogate becomes its
  // three WTF-8 bytes there, which read back as three U+FFFD; so here.
  function toByteString(v) {
    const s = toDOMString(v);
    if (hasWellFormed && ReflectApply(StringPrototypeIsWellFormed, s, [])) return s;
    let out = null;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = StringPrototypeCharCodeAt(s, i);
      if (c < 0xd800 || c > 0xdfff) {
        if (out !== null) out += s[i];
        continue;
      }
      if (c <= 0xdbff && i + 1 < n) {
        const d = StringPrototypeCharCodeAt(s, i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          if (out !== null) out += s[i] + s[i + 1];
          i++;
          continue;
        }
      }
      if (out === null) out = StringPrototypeSlice(s, 0, i);
      out += "\uFFFD\uFFFD\uFFFD";
    }
    return out === null ? s : out;
  }

  function isObject(v) {
    return (typeof v === "object" && v !== null) || typeof v === "function";
  }

  // Web IDL dictionary conversion: undefined/null -> empty, other
  // non-objects -> TypeError.
  // With `position` and `typeName`, the message is workerd's
  // "<prefix>: [constructor ]parameter N is not of type 'T'."
  function toDictionary(v, prefix, position = undefined, typeName = undefined) {
    if (v === undefined || v === null) return null;
    if (!isObject(v)) {
      if (position !== undefined) {
        const ctor = StringPrototypeStartsWith(prefix, "Failed to construct") ? "constructor " : "";
        throw new TypeError(`${prefix}: ${ctor}parameter ${position} is not of type '${typeName}'.`);
      }
      throw new TypeError(`${prefix}: The provided value is not of type 'object'.`);
    }
    return v;
  }

  // [EnforceRange] unsigned long long
  function toEnforcedUnsignedLongLong(v, prefix) {
    const x = Number(v);
    if (!NumberIsFinite(x)) {
      throw new TypeError(`${prefix}: Value is not a finite number.`);
    }
    const t = MathTrunc(x) + 0;
    if (t < 0 || t > NumberMAX_SAFE_INTEGER) {
      throw new TypeError(`${prefix}: Value is outside the 'unsigned long long' value range.`);
    }
    return t;
  }

  function defineToStringTag(ctor, tag) {
    ObjectDefineProperty(ctor.prototype, SymbolToStringTag, {
      __proto__: null,
      value: tag, writable: false, enumerable: false, configurable: true,
    });
  }

  // Make the listed prototype members enumerable, as Web IDL wants.
  function makeEnumerable(proto, names) {
    for (let i_name = 0; i_name < names.length; i_name++) { const name = names[i_name];
      const desc = ObjectGetOwnPropertyDescriptor(proto, name);
      if (desc) {
        desc.enumerable = true;
        ObjectDefineProperty(proto, name, desc);
      }
    }
  }

  function defineConstants(targets, table) {
    for (let i_target = 0; i_target < targets.length; i_target++) { const target = targets[i_target];
      for (const key of ObjectKeys(table)) {
        ObjectDefineProperty(target, key, {
          __proto__: null,
          value: table[key], writable: false, enumerable: true, configurable: false,
        });
      }
    }
  }

  const IteratorPrototype = ObjectGetPrototypeOf(
    ObjectGetPrototypeOf([][SymbolIterator]()),
  );

  // Installs a Web IDL pair iterator (entries/keys/values/forEach/@@iterator)
  // on Class.prototype. getPairs(obj) must brand-check obj and return the
  // current array of [key, value] pairs (re-evaluated on each step, so the
  // iteration sees live changes the way the spec's index-based one does).
  // With `snapshot`, iterators and forEach walk the pairs as they were when
  // they started (workerd's Headers copy the list).
  // The iterators are shaped as workerd's: one class per kind
  // (EntryIterator, KeyIterator, ValueIterator) whose constructor throws,
  // whose prototype holds constructor, next, @@iterator and @@toStringTag
  // and inherits %IteratorPrototype%; next() works on its own kind only.
  function definePairIterable(Class, name, getPairs, snapshot = false) {
    class PairIterator {
      #target;
      #kind;
      #index = 0;
      #pairs = null;
      constructor(target, kind) {
        this.#target = target;
        this.#kind = kind;
        if (snapshot) this.#pairs = ArrayFromIndexed(getPairs(target));
        ObjectSetPrototypeOf(this, kindProtos[kind]);
      }
      static next(it, kind) {
        if (!(it !== null && typeof it === "object" && #target in it && it.#kind === kind)) {
          throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
        }
        const pairs = it.#pairs ?? getPairs(it.#target);
        const index = it.#index;
        if (index >= pairs.length) return { value: undefined, done: true };
        it.#index = index + 1;
        const pair = pairs[index];
        if (kind === "key") return { value: pair[0], done: false };
        if (kind === "value") return { value: pair[1], done: false };
        return { value: [pair[0], pair[1]], done: false };
      }
    }
    const nextOf = PairIterator.next;
    const kindProtos = { __proto__: null };
    const kinds = [["key+value", "EntryIterator"], ["key", "KeyIterator"], ["value", "ValueIterator"]];
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[k][0];
      const tag = kinds[k][1];
      const Ctor = { [tag]: function () { throw new TypeError("Illegal constructor"); } }[tag];
      const proto = Ctor.prototype;
      ObjectSetPrototypeOf(proto, IteratorPrototype);
      ObjectDefineProperty(proto, "next", {
        __proto__: null,
        value: { next() { return nextOf(this, kind); } }.next,
        writable: true, enumerable: true, configurable: true,
      });
      ObjectDefineProperty(proto, SymbolToStringTag, {
        __proto__: null, value: tag, writable: true, enumerable: false, configurable: true,
      });
      ObjectDefineProperty(proto, SymbolIterator, {
        __proto__: null,
        value: { [SymbolIterator]() { return this; } }[SymbolIterator],
        writable: true, enumerable: false, configurable: true,
      });
      kindProtos[kind] = proto;
    }
    const methods = {
      entries() {
        getPairs(this);
        return new PairIterator(this, "key+value");
      },
      keys() {
        getPairs(this);
        return new PairIterator(this, "key");
      },
      values() {
        getPairs(this);
        return new PairIterator(this, "value");
      },
      forEach(callback, thisArg = undefined) {
        let pairs = getPairs(this);
        requiredArguments(arguments.length, 1, `Failed to execute 'forEach' on '${name}'`, ["function"]);
        if (typeof callback !== "function") {
          throw new TypeError(
            `Failed to execute 'forEach' on '${name}': parameter 1 is not of type 'Function'.`,
          );
        }
        if (snapshot) pairs = ArrayFromIndexed(pairs);
        for (let i = 0; i < pairs.length; i++) {
          const pair = pairs[i];
          ReflectApply(callback, thisArg, [pair[1], pair[0], this]);
          if (!snapshot) pairs = getPairs(this);
        }
      },
      // A function of its own, as in workerd (not `entries` itself).
      [SymbolIterator]() {
        getPairs(this);
        return new PairIterator(this, "key+value");
      },
    };
    // (Also run by lazily loaded files, after scripts: no iteration protocol.)
    const names = ["entries", "keys", "values", "forEach"];
    for (let i = 0; i < names.length; i++) {
      const key = names[i];
      ObjectDefineProperty(Class.prototype, key, {
        __proto__: null,
        value: methods[key], writable: true, enumerable: true, configurable: true,
      });
    }
    ObjectDefineProperty(Class.prototype, SymbolIterator, {
      __proto__: null,
      value: methods[SymbolIterator], writable: true, enumerable: false, configurable: true,
    });
  }

  // The first `n` code units of a Uint16Array as a string. Direct calls of
  // StringFromCharCode, eight units each: applying it to an array-like would
  // read a typed array's `length` (an accessor a script can replace) or
  // need an array filled without consulting Array.prototype.
  function charCodesToString(c, n) {
    let out = "";
    let i = 0;
    for (; i + 8 <= n; i += 8) {
      out += StringFromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5], c[i + 6], c[i + 7]);
    }
    for (; i < n; i++) out += StringFromCharCode(c[i]);
    return out;
  }

  // Shared UTF-8 helpers (pure JS, spec decoder with U+FFFD replacement).
  function utf8Encode(s) {
    // s must be a USVString (no lone surrogates).
    const out = [];
    const n = s.length;
    for (let i = 0; i < n; i++) {
      let c = StringPrototypeCharCodeAt(s, i);
      if (c < 0x80) {
        ArrayPrototypePush(out, c);
      } else if (c < 0x800) {
        ArrayPrototypePush(out, 0xc0 | (c >> 6), 0x80 | (c & 0x3f));
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = StringPrototypeCharCodeAt(s, i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          ArrayPrototypePush(out, 0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f),
            0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
        } else {
          ArrayPrototypePush(out, 0xef, 0xbf, 0xbd);
        }
      } else if (c >= 0xd800 && c <= 0xdfff) {
        ArrayPrototypePush(out, 0xef, 0xbf, 0xbd);
      } else {
        ArrayPrototypePush(out, 0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
      }
    }
    return out;
  }

  // WHATWG "UTF-8 decode without BOM" over an array-like of bytes.
  function utf8DecodeWithoutBOM(bytes) {
    let out = "";
    const chunk = new Uint16Array(4098);
    let filled = 0;
    let cp = 0, needed = 0, seen = 0, lower = 0x80, upper = 0xbf;
    const flush = () => {
      out += charCodesToString(chunk, filled);
      filled = 0;
    };
    const emit = (c) => {
      if (c > 0xffff) {
        c -= 0x10000;
        chunk[filled++] = 0xd800 + (c >> 10);
        chunk[filled++] = 0xdc00 + (c & 0x3ff);
      } else {
        chunk[filled++] = c;
      }
      if (filled > 4096) flush();
    };
    const n = bytes.length;
    for (let i = 0; i < n; i++) {
      const b = bytes[i];
      if (needed === 0) {
        if (b <= 0x7f) emit(b);
        else if (b >= 0xc2 && b <= 0xdf) { needed = 1; cp = b & 0x1f; }
        else if (b >= 0xe0 && b <= 0xef) {
          if (b === 0xe0) lower = 0xa0;
          if (b === 0xed) upper = 0x9f;
          needed = 2; cp = b & 0xf;
        } else if (b >= 0xf0 && b <= 0xf4) {
          if (b === 0xf0) lower = 0x90;
          if (b === 0xf4) upper = 0x8f;
          needed = 3; cp = b & 0x7;
        } else emit(0xfffd);
        continue;
      }
      if (b < lower || b > upper) {
        cp = needed = seen = 0; lower = 0x80; upper = 0xbf;
        emit(0xfffd);
        i--; // reprocess this byte
        continue;
      }
      lower = 0x80; upper = 0xbf;
      cp = (cp << 6) | (b & 0x3f);
      seen++;
      if (seen === needed) {
        emit(cp);
        cp = needed = seen = 0;
      }
    }
    if (needed !== 0) emit(0xfffd);
    flush();
    return out;
  }

  const webidl = {
    __proto__: null,
    requiredArguments, toDOMString, toUSVString, toByteString, toWellFormed,
    isObject, toDictionary, toEnforcedUnsignedLongLong, defineToStringTag,
    makeEnumerable, defineConstants, definePairIterable, IteratorPrototype,
    utf8Encode, utf8DecodeWithoutBOM,
  };
  internals.webidl = webidl;

  function reportException(e) {
    const report = internals.reportError;
    if (typeof report === "function") {
      report(e);
    } else {
      // Surface it as an unhandled rejection rather than losing it.
      PromiseReject(e);
    }
  }

  // ---------------------------------------------------------------------
  // DOMException
  // ---------------------------------------------------------------------

  const legacyCodes = {
    INDEX_SIZE_ERR: 1, DOMSTRING_SIZE_ERR: 2, HIERARCHY_REQUEST_ERR: 3,
    WRONG_DOCUMENT_ERR: 4, INVALID_CHARACTER_ERR: 5, NO_DATA_ALLOWED_ERR: 6,
    NO_MODIFICATION_ALLOWED_ERR: 7, NOT_FOUND_ERR: 8, NOT_SUPPORTED_ERR: 9,
    INUSE_ATTRIBUTE_ERR: 10, INVALID_STATE_ERR: 11, SYNTAX_ERR: 12,
    INVALID_MODIFICATION_ERR: 13, NAMESPACE_ERR: 14, INVALID_ACCESS_ERR: 15,
    VALIDATION_ERR: 16, TYPE_MISMATCH_ERR: 17, SECURITY_ERR: 18, NETWORK_ERR: 19,
    ABORT_ERR: 20, URL_MISMATCH_ERR: 21, QUOTA_EXCEEDED_ERR: 22, TIMEOUT_ERR: 23,
    INVALID_NODE_TYPE_ERR: 24, DATA_CLONE_ERR: 25,
  };
  const nameToCode = new SafeMap([
    ["IndexSizeError", 1], ["HierarchyRequestError", 3], ["WrongDocumentError", 4],
    ["InvalidCharacterError", 5], ["NoModificationAllowedError", 7],
    ["NotFoundError", 8], ["NotSupportedError", 9], ["InUseAttributeError", 10],
    ["InvalidStateError", 11], ["SyntaxError", 12], ["InvalidModificationError", 13],
    ["NamespaceError", 14], ["InvalidAccessError", 15], ["TypeMismatchError", 17],
    ["SecurityError", 18], ["NetworkError", 19], ["AbortError", 20],
    ["URLMismatchError", 21], ["QuotaExceededError", 22], ["TimeoutError", 23],
    ["InvalidNodeTypeError", 24], ["DataCloneError", 25],
  ]);

  const captureStackTrace = ErrorCaptureStackTrace;

  // As in workerd, code, name, message and stack are enumerable own
  // properties of each instance (read-only), not prototype getters.
  const readOnly = (value) => ({ __proto__: null, value, writable: false, enumerable: true, configurable: true });
  class DOMException {
    #name;
    constructor(message = "", name = "Error") {
      message = toDOMString(message);
      this.#name = toDOMString(name);
      ObjectDefineProperty(this, "code", readOnly(nameToCode.get(this.#name) ?? 0));
      ObjectDefineProperty(this, "name", readOnly(this.#name));
      ObjectDefineProperty(this, "message", readOnly(message));
      if (typeof captureStackTrace === "function") {
        captureStackTrace(this, new.target === undefined ? DOMException : new.target);
        const stack = ObjectGetOwnPropertyDescriptor(this, "stack");
        if (stack !== undefined) {
          stack.enumerable = true;
          ObjectDefineProperty(this, "stack", stack);
        }
      }
    }
  }
  // instanceof Error, and Error.prototype.toString gives "Name: message".
  ObjectSetPrototypeOf(DOMException.prototype, Error.prototype);
  defineToStringTag(DOMException, "DOMException");
  defineConstants([DOMException, DOMException.prototype], legacyCodes);

  function makeDOMException(message, name) {
    return new DOMException(message, name);
  }
  internals.makeDOMException = makeDOMException;

  // ---------------------------------------------------------------------
  // Event
  // ---------------------------------------------------------------------

  const NONE = 0, CAPTURING_PHASE = 1, AT_TARGET = 2, BUBBLING_PHASE = 3;

  // Module-private accessors into Event's private state, set from a static
  // block inside the class.
  let eventInternals;

  class Event {
    #type = "";
    #target = null;
    #currentTarget = null;
    #eventPhase = NONE;
    #bubbles = false;
    #cancelable = false;
    #composed = false;
    #isTrusted = false;
    #timeStamp = 0;
    // flags
    #stopPropagation = false;
    #stopImmediatePropagation = false;
    #canceled = false;
    #inPassiveListener = false;
    #initialized = true;
    #dispatching = false;

    constructor(type, eventInitDict = undefined) {
      requiredArguments(arguments.length, 1, "Failed to construct 'Event'", ["string"]);
      this.#type = toDOMString(type);
      const init = toDictionary(eventInitDict, "Failed to construct 'Event'", 2, "Init");
      if (init !== null) {
        this.#bubbles = Boolean(init.bubbles);
        this.#cancelable = Boolean(init.cancelable);
        this.#composed = Boolean(init.composed);
      }
      this.#timeStamp = DateNow();
    }

    static #check(e) {
      if (!(isObject(e) && #type in e)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    }

    get type() { Event.#check(this); return this.#type; }
    get target() { Event.#check(this); return this.#target; }
    get srcElement() { Event.#check(this); return this.#target; }
    get currentTarget() { Event.#check(this); return this.#currentTarget; }
    composedPath() {
      Event.#check(this);
      return this.#dispatching && this.#currentTarget !== null ? [this.#currentTarget] : [];
    }
    get eventPhase() { Event.#check(this); return this.#eventPhase; }
    stopPropagation() { Event.#check(this); this.#stopPropagation = true; }
    get cancelBubble() { Event.#check(this); return this.#stopPropagation; }
    set cancelBubble(value) {
      Event.#check(this);
      if (value) this.#stopPropagation = true;
    }
    stopImmediatePropagation() {
      Event.#check(this);
      this.#stopPropagation = true;
      this.#stopImmediatePropagation = true;
    }
    get bubbles() { Event.#check(this); return this.#bubbles; }
    get cancelable() { Event.#check(this); return this.#cancelable; }
    get returnValue() { Event.#check(this); return !this.#canceled; }
    set returnValue(value) {
      Event.#check(this);
      if (!value) this.#setCanceled();
    }
    preventDefault() { Event.#check(this); this.#setCanceled(); }
    #setCanceled() {
      if (this.#cancelable && !this.#inPassiveListener) this.#canceled = true;
    }
    get defaultPrevented() { Event.#check(this); return this.#canceled; }
    get composed() { Event.#check(this); return this.#composed; }
    get isTrusted() { Event.#check(this); return this.#isTrusted; }
    get timeStamp() { Event.#check(this); return this.#timeStamp; }
    initEvent(type, bubbles = false, cancelable = false) {
      Event.#check(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'initEvent' on 'Event'");
      if (this.#dispatching) return;
      this.#initialized = true;
      this.#stopPropagation = false;
      this.#stopImmediatePropagation = false;
      this.#canceled = false;
      this.#isTrusted = false;
      this.#target = null;
      this.#type = toDOMString(type);
      this.#bubbles = Boolean(bubbles);
      this.#cancelable = Boolean(cancelable);
    }

    static {
      eventInternals = {
        __proto__: null,
        isEvent: (e) => isObject(e) && #type in e,
        setTrusted: (e, v) => { e.#isTrusted = v; },
        // Dispatch to a single target (there is no tree here).
        dispatch(target, event, invoke) {
          if (event.#dispatching || !event.#initialized) {
            throw new DOMException(
              "The event is already being dispatched.", "InvalidStateError",
            );
          }
          event.#dispatching = true;
          event.#target = target;
          try {
            if (!event.#stopPropagation) {
              event.#eventPhase = AT_TARGET;
              event.#currentTarget = target;
              invoke(target, event, "capturing");
              invoke(target, event, "bubbling");
            }
          } finally {
            event.#eventPhase = NONE;
            event.#currentTarget = null;
            event.#dispatching = false;
            event.#stopPropagation = false;
            event.#stopImmediatePropagation = false;
          }
          return !event.#canceled;
        },
        type: (e) => e.#type,
        stoppedImmediately: (e) => e.#stopImmediatePropagation,
        stopped: (e) => e.#stopPropagation,
        setInPassive: (e, v) => { e.#inPassiveListener = v; },
        preventDefault: (e) => { e.#setCanceled(); },
      };
    }
  }
  defineToStringTag(Event, "Event");
  defineConstants([Event, Event.prototype], {
    NONE, CAPTURING_PHASE, AT_TARGET, BUBBLING_PHASE,
  });
  makeEnumerable(Event.prototype, [
    "type", "target", "srcElement", "currentTarget", "composedPath", "eventPhase",
    "stopPropagation", "cancelBubble", "stopImmediatePropagation", "bubbles",
    "cancelable", "returnValue", "preventDefault", "defaultPrevented", "composed",
    "isTrusted", "timeStamp",
  ]);
  // workerd has no Event.prototype.initEvent; initCustomEvent still uses it.
  const eventInit = Event.prototype.initEvent;
  delete Event.prototype.initEvent;

  class CustomEvent extends Event {
    #detail = null;
    constructor(type, eventInitDict = undefined) {
      requiredArguments(arguments.length, 1, "Failed to construct 'CustomEvent'", ["string"]);
      super(type, eventInitDict);
      const init = toDictionary(eventInitDict, "Failed to construct 'CustomEvent'", 2, "Init");
      if (init !== null) {
        const detail = init.detail;
        this.#detail = detail === undefined ? null : detail;
      }
    }
    get detail() {
      if (!(isObject(this) && #detail in this)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
      return this.#detail;
    }
    initCustomEvent(type, bubbles = false, cancelable = false, detail = null) {
      if (!(isObject(this) && #detail in this)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
      requiredArguments(arguments.length, 1, "Failed to execute 'initCustomEvent' on 'CustomEvent'");
      ReflectApply(eventInit, this, [type, bubbles, cancelable]);
      this.#detail = detail;
    }
  }
  defineToStringTag(CustomEvent, "CustomEvent");
  makeEnumerable(CustomEvent.prototype, ["detail", "initCustomEvent"]);

  // ---------------------------------------------------------------------
  // EventTarget
  // ---------------------------------------------------------------------

  // target -> Map<type, listener[]>; a WeakMap (not a #field) so the runtime
  // can make arbitrary objects (e.g. the global object) event targets.
  const targetListeners = new SafeWeakMap();
  // target -> Map<type, {value, record}> for onxxx event handler attributes
  const targetHandlers = new SafeWeakMap();

  function listenersOf(target) {
    const map = targetListeners.get(target);
    if (map === undefined) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    return map;
  }

  function thisTarget(self) {
    // Unbound calls (e.g. a global addEventListener) act on the global.
    return self === undefined || self === null ? globalThis : self;
  }

  // Parenthesised: compiled into the startup snapshot (each isolate calls
  // it once, from 90_dispatch.js's worker-init hook).
  const initEventTarget = ((obj) => {
    if (!targetListeners.has(obj)) targetListeners.set(obj, new SafeMap());
    return obj;
  });

  function flattenOptions(options) {
    if (isObject(options)) return Boolean(options.capture);
    return Boolean(options);
  }

  function flattenMoreOptions(options, prefix) {
    if (!isObject(options)) {
      return { capture: Boolean(options), once: false, passive: false, signal: null };
    }
    const capture = Boolean(options.capture);
    const once = Boolean(options.once);
    const passive = Boolean(options.passive);
    let signal = options.signal;
    if (signal === undefined) {
      signal = null;
    } else if (!isAbortSignal(signal)) {
      throw new TypeError(
        `${prefix}: Failed to read the 'signal' property from 'AddEventListenerOptions': ` +
          "The provided value is not of type 'AbortSignal'.",
      );
    }
    return { capture, once, passive, signal };
  }

  function convertCallback(callback, prefix) {
    if (callback === undefined || callback === null) return null;
    if (!isObject(callback)) {
      throw new TypeError(`${prefix}: parameter 2 is not of type 'Object'.`);
    }
    return callback;
  }

  function removeListenerRecord(target, record) {
    record.removed = true;
    const map = targetListeners.get(target);
    if (map === undefined) return;
    const list = map.get(record.type);
    if (list === undefined) return;
    const i = ArrayPrototypeIndexOf(list, record);
    if (i !== -1) ArrayPrototypeSplice(list, i, 1);
    if (list.length === 0) map.delete(record.type);
  }

  function addListenerRecord(target, record) {
    const map = listenersOf(target);
    if (record.signal !== null && abortInternals.aborted(record.signal)) return;
    if (record.callback === null) return;
    let list = map.get(record.type);
    if (list === undefined) {
      list = [];
      map.set(record.type, list);
    }
    for (let i_l = 0; i_l < list.length; i_l++) { const l = list[i_l];
      if (l.callback === record.callback && l.capture === record.capture) return;
    }
    ArrayAppend(list, record);
    if (record.signal !== null) {
      abortInternals.addAlgorithm(record.signal, () => removeListenerRecord(target, record));
    }
  }

  function callListener(record, target, event) {
    const callback = record.callback;
    if (typeof callback === "function") {
      ReflectApply(callback, target, [event]);
      return;
    }
    const handleEvent = callback.handleEvent;
    if (typeof handleEvent !== "function") {
      throw new TypeError("The 'handleEvent' property of the event listener is not callable.");
    }
    ReflectApply(handleEvent, callback, [event]);
  }

  // "inner invoke" for a single target and phase.
  function invokeListeners(target, event, phase) {
    if (eventInternals.stopped(event)) return;
    const map = targetListeners.get(target);
    if (map === undefined) return;
    const list = map.get(eventInternals.type(event));
    if (list === undefined) return;
    const listeners = ArrayFromIndexed(list);
    for (let i_record = 0; i_record < listeners.length; i_record++) { const record = listeners[i_record];
      if (record.removed) continue;
      if (phase === "capturing" ? !record.capture : record.capture) continue;
      if (record.once) removeListenerRecord(target, record);
      if (record.passive) eventInternals.setInPassive(event, true);
      try {
        callListener(record, target, event);
      } catch (e) {
        reportException(e);
      }
      eventInternals.setInPassive(event, false);
      if (eventInternals.stoppedImmediately(event)) return;
    }
  }

  function dispatchEventInternal(target, event, trusted = false) {
    eventInternals.setTrusted(event, trusted);
    return eventInternals.dispatch(target, event, invokeListeners);
  }

  class EventTarget {
    constructor() {
      targetListeners.set(this, new SafeMap());
    }

    addEventListener(type, callback, options = undefined) {
      const self = thisTarget(this);
      listenersOf(self);
      const prefix = "Failed to execute 'addEventListener' on 'EventTarget'";
      requiredArguments(arguments.length, 2, prefix, ["string", "function or HandlerObject"]);
      type = toDOMString(type);
      callback = convertCallback(callback, prefix);
      const { capture, once, passive, signal } = flattenMoreOptions(options, prefix);
      addListenerRecord(self, {
        __proto__: null,
        type, callback, capture, once, passive, signal, removed: false,
      });
    }

    removeEventListener(type, callback, options = undefined) {
      const self = thisTarget(this);
      const map = listenersOf(self);
      const prefix = "Failed to execute 'removeEventListener' on 'EventTarget'";
      requiredArguments(arguments.length, 2, prefix, ["string", "function or HandlerObject"]);
      type = toDOMString(type);
      callback = convertCallback(callback, prefix);
      const capture = flattenOptions(options);
      if (callback === null) return;
      const list = map.get(type);
      if (list === undefined) return;
      for (let i_record = 0; i_record < list.length; i_record++) { const record = list[i_record];
        if (record.callback === callback && record.capture === capture) {
          removeListenerRecord(self, record);
          return;
        }
      }
    }

    dispatchEvent(event) {
      const self = thisTarget(this);
      listenersOf(self);
      const prefix = "Failed to execute 'dispatchEvent' on 'EventTarget'";
      requiredArguments(arguments.length, 1, prefix, ["Event"]);
      if (!eventInternals.isEvent(event)) {
        throw new TypeError(`${prefix}: parameter 1 is not of type 'Event'.`);
      }
      return dispatchEventInternal(self, event, false);
    }
  }
  defineToStringTag(EventTarget, "EventTarget");
  makeEnumerable(EventTarget.prototype, [
    "addEventListener", "removeEventListener", "dispatchEvent",
  ]);

  // HTML "event handler" IDL attribute (onabort, onmessage, ...).
  function defineEventHandler(proto, eventName) {
    const attr = `on${eventName}`;
    ObjectDefineProperty(proto, attr, {
      __proto__: null,
      get() {
        const self = thisTarget(this);
        listenersOf(self);
        const handlers = targetHandlers.get(self);
        const h = handlers === undefined ? undefined : handlers.get(eventName);
        return h === undefined ? null : h.value;
      },
      set(value) {
        const self = thisTarget(this);
        listenersOf(self);
        value = isObject(value) ? value : null;
        let handlers = targetHandlers.get(self);
        if (handlers === undefined) {
          handlers = new SafeMap();
          targetHandlers.set(self, handlers);
        }
        let h = handlers.get(eventName);
        if (value === null) {
          if (h !== undefined) {
            removeListenerRecord(self, h.record);
            handlers.delete(eventName);
          }
          return;
        }
        if (h !== undefined) {
          h.value = value;
          return;
        }
        h = { value, record: null };
        const callback = function (event) {
          const fn = h.value;
          if (typeof fn !== "function") return;
          const ret = ReflectApply(fn, this, [event]);
          if (ret === false) eventInternals.preventDefault(event);
        };
        h.record = {
          __proto__: null,
          type: eventName, callback, capture: false, once: false, passive: false,
          signal: null, removed: false,
        };
        handlers.set(eventName, h);
        addListenerRecord(self, h.record);
      },
      enumerable: true,
      configurable: true,
    });
  }

  internals.events = {
    __proto__: null,
    Event, EventTarget, CustomEvent,
    initEventTarget,
    // Dispatch with isTrusted = trusted (default true) to a target.
    dispatchEvent: (target, event, trusted = true) =>
      dispatchEventInternal(target, event, trusted),
    // fire(target, type) -> creates a trusted Event and dispatches it.
    fireEvent(target, type, EventClass = Event, init = undefined) {
      const e = new EventClass(type, init);
      return dispatchEventInternal(target, e, true);
    },
    setTrusted: (event, v) => eventInternals.setTrusted(event, v),
    defineEventHandler,
    isEvent: (e) => eventInternals.isEvent(e),
    isEventTarget: (t) => targetListeners.has(t),
  };

  // ---------------------------------------------------------------------
  // AbortSignal / AbortController
  // ---------------------------------------------------------------------

  const illegalConstructorKey = Symbol("illegal constructor key");
  let abortInternals;

  function defaultAbortReason() {
    return new DOMException("The operation was aborted", "AbortError");
  }

  class AbortSignal extends EventTarget {
    #aborted = false;
    #reason = undefined;
    // The three sets are made on first use: most signals (every request's
    // own, see #inert) never get an algorithm, a source or a dependent.
    #algorithms = null;
    #dependent = false;
    #sources = null;
    #dependents = null;
    // Made by the runtime for a request nobody can abort (`request.signal`
    // read on a request made without a signal): no controller holds it,
    // so only signalAbort() could abort it, and the runtime never does.
    #inert = false;

    constructor(key = undefined) {
      if (key !== illegalConstructorKey) throw new TypeError("Illegal constructor");
      super();
    }

    static abort(reason = undefined) {
      const signal = new AbortSignal(illegalConstructorKey);
      signal.#aborted = true;
      signal.#reason = reason === undefined ? defaultAbortReason() : reason;
      return signal;
    }

    static timeout(milliseconds) {
      const prefix = "Failed to execute 'timeout' on 'AbortSignal'";
      requiredArguments(arguments.length, 1, prefix, ["number"]);
      // workerd takes any number: a negative or NaN delay fires at once.
      let ms = MathTrunc(Number(milliseconds));
      if (!(ms > 0)) ms = 0;
      const signal = new AbortSignal(illegalConstructorKey);
      const setTimeout = globalThis.setTimeout;
      if (typeof setTimeout !== "function") {
        throw new TypeError("AbortSignal.timeout() requires setTimeout");
      }
      setTimeout(() => {
        signalAbort(signal, new DOMException(
          "The operation was aborted due to timeout", "TimeoutError",
        ));
      }, ms);
      return signal;
    }

    static any(signals) {
      const prefix = "Failed to execute 'any' on 'AbortSignal'";
      requiredArguments(arguments.length, 1, prefix, ["Array"]);
      if (!isObject(signals) || typeof signals[SymbolIterator] !== "function") {
        throw new TypeError(`${prefix}: The provided value cannot be converted to a sequence.`);
      }
      const list = [];
      for (const s of signals) {
        if (!isAbortSignal(s)) {
          throw new TypeError(
            `Incorrect type for array element ${list.length}: the provided value is not of type 'AbortSignal'.`,
          );
        }
        ArrayAppend(list, s);
      }
      return createDependentSignal(list);
    }

    get aborted() {
      AbortSignal.#check(this);
      return this.#aborted;
    }

    get reason() {
      AbortSignal.#check(this);
      return this.#reason;
    }

    throwIfAborted() {
      AbortSignal.#check(this);
      if (this.#aborted) throw this.#reason;
    }

    static #check(s) {
      if (!(isObject(s) && #aborted in s)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
    }

    static {
      const isSignal = (s) => isObject(s) && #aborted in s;
      const runAbortSteps = (signal) => {
        const algorithms = [];
        if (signal.#algorithms !== null) {
          for (const a of signal.#algorithms) ArrayAppend(algorithms, a);
          signal.#algorithms.clear();
        }
        for (let i_algorithm = 0; i_algorithm < algorithms.length; i_algorithm++) { const algorithm = algorithms[i_algorithm];
          try {
            algorithm(signal.#reason);
          } catch (e) {
            reportException(e);
          }
        }
        dispatchEventInternal(signal, new Event("abort"), true);
      };
      abortInternals = {
        __proto__: null,
        isSignal,
        aborted: (s) => s.#aborted,
        reason: (s) => s.#reason,
        addAlgorithm(s, algorithm) {
          if (!s.#aborted) (s.#algorithms ??= new SafeSet()).add(algorithm);
        },
        removeAlgorithm(s, algorithm) {
          if (s.#algorithms !== null) s.#algorithms.delete(algorithm);
        },
        signalAbort(signal, reason) {
          if (signal.#aborted) return;
          signal.#inert = false;
          signal.#aborted = true;
          signal.#reason = reason === undefined ? defaultAbortReason() : reason;
          const dependentsToAbort = [];
          if (signal.#dependents !== null) {
            for (const dep of signal.#dependents) {
              if (!dep.#aborted) {
                dep.#aborted = true;
                dep.#reason = signal.#reason;
                ArrayAppend(dependentsToAbort, dep);
              }
            }
            signal.#dependents.clear();
          }
          runAbortSteps(signal);
          for (let i_dep = 0; i_dep < dependentsToAbort.length; i_dep++) { const dep = dependentsToAbort[i_dep]; runAbortSteps(dep); }
        },
        createDependent(signals) {
          const result = new AbortSignal(illegalConstructorKey);
          for (let i_s = 0; i_s < signals.length; i_s++) { const s = signals[i_s];
            if (s.#aborted) {
              result.#aborted = true;
              result.#reason = s.#reason;
              return result;
            }
          }
          result.#dependent = true;
          for (let i_s = 0; i_s < signals.length; i_s++) { const s = signals[i_s];
            if (!s.#dependent) {
              (result.#sources ??= new SafeSet()).add(s);
              (s.#dependents ??= new SafeSet()).add(result);
            } else if (s.#sources !== null) {
              for (const source of s.#sources) {
                if (source.#aborted) continue;
                (result.#sources ??= new SafeSet()).add(source);
                (source.#dependents ??= new SafeSet()).add(result);
              }
            }
          }
          return result;
        },
        newSignal: () => new AbortSignal(illegalConstructorKey),
        newInertSignal: () => {
          const signal = new AbortSignal(illegalConstructorKey);
          signal.#inert = true;
          return signal;
        },
        isInert: (s) => isSignal(s) && s.#inert,
      };
    }
  }
  defineEventHandler(AbortSignal.prototype, "abort");
  defineToStringTag(AbortSignal, "AbortSignal");
  makeEnumerable(AbortSignal.prototype, ["aborted", "reason", "throwIfAborted"]);
  makeEnumerable(AbortSignal, ["abort", "timeout", "any"]);

  function isAbortSignal(s) {
    return abortInternals.isSignal(s);
  }
  function signalAbort(signal, reason) {
    abortInternals.signalAbort(signal, reason);
  }
  function createDependentSignal(signals) {
    return abortInternals.createDependent(signals);
  }

  class AbortController {
    #signal = new AbortSignal(illegalConstructorKey);
    get signal() {
      if (!(isObject(this) && #signal in this)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
      return this.#signal;
    }
    abort(reason = undefined) {
      if (!(isObject(this) && #signal in this)) throw new TypeError("Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
      signalAbort(this.#signal, reason);
    }
  }
  defineToStringTag(AbortController, "AbortController");
  makeEnumerable(AbortController.prototype, ["signal", "abort"]);

  internals.abort = {
    __proto__: null,
    AbortSignal, AbortController,
    isAbortSignal,
    newSignal: () => abortInternals.newSignal(),
    // A signal that never aborts (see AbortSignal's #inert); waiting on it
    // is skipped (fetch() does not race a request's promise against it).
    newInertSignal: () => abortInternals.newInertSignal(),
    isInert: (s) => abortInternals.isInert(s),
    signalAbort,
    isAborted: (s) => abortInternals.aborted(s),
    reason: (s) => abortInternals.reason(s),
    // algorithm(reason) runs (once) when the signal aborts, before the
    // "abort" event fires. No-op on an already-aborted signal.
    addAlgorithm: (s, algorithm) => abortInternals.addAlgorithm(s, algorithm),
    removeAlgorithm: (s, algorithm) => abortInternals.removeAlgorithm(s, algorithm),
    any: (signals) => createDependentSignal(signals),
  };

  // ---------------------------------------------------------------------
  // atob / btoa (forgiving-base64, HTML spec)
  // ---------------------------------------------------------------------

  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const B64_LOOKUP = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) B64_LOOKUP[StringPrototypeCharCodeAt(B64, i)] = i;

  function btoa(data) {
    if (arguments.length < 1) {
      throw new TypeError("Failed to execute 'btoa' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'String'.");
    }
    const s = toDOMString(data);
    const n = s.length;
    for (let i = 0; i < n; i++) {
      if (StringPrototypeCharCodeAt(s, i) > 0xff) {
        throw new DOMException(
          "btoa() can only operate on characters in the Latin1 (ISO/IEC 8859-1) range.",
          "InvalidCharacterError",
        );
      }
    }
    // String concatenation (V8 ropes), no arrays: an index setter a script
    // planted on Array.prototype must not see the output.
    let out = "";
    let i = 0;
    for (; i + 2 < n; i += 3) {
      const v = (StringPrototypeCharCodeAt(s, i) << 16) | (StringPrototypeCharCodeAt(s, i + 1) << 8) | StringPrototypeCharCodeAt(s, i + 2);
      out += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + B64[v & 63];
    }
    if (n - i === 1) {
      const v = StringPrototypeCharCodeAt(s, i) << 16;
      out += B64[v >> 18] + B64[(v >> 12) & 63] + "==";
    } else if (n - i === 2) {
      const v = (StringPrototypeCharCodeAt(s, i) << 16) | (StringPrototypeCharCodeAt(s, i + 1) << 8);
      out += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + "=";
    }
    return out;
  }

  function atob(data) {
    if (arguments.length < 1) {
      throw new TypeError("Failed to execute 'atob' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'String'.");
    }
    const s = toDOMString(data);
    const fail = () => new DOMException(
      "atob() called with invalid base64-encoded data. (Only whitespace, '+', '/', alphanumeric ASCII, " +
        "and up to two terminal '=' signs when the input data length is divisible by 4 are allowed.)",
      "InvalidCharacterError",
    );
    // Strip ASCII whitespace (TAB, LF, FF, CR, SPACE), collecting values.
    // Typed arrays, not arrays: an index setter a script planted on
    // Array.prototype must not see the data.
    const n = s.length;
    const values = new Uint16Array(n);
    let len = 0;
    for (let i = 0; i < n; i++) {
      const c = StringPrototypeCharCodeAt(s, i);
      if (c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20) continue;
      values[len++] = c;
    }
    if (len % 4 === 0 && len > 0) {
      if (values[len - 1] === 0x3d) {
        len--;
        if (values[len - 1] === 0x3d) len--;
      }
    }
    if (len % 4 === 1) throw fail();
    let out = "";
    const chunk = new Uint16Array(8192);
    let filled = 0;
    let buffer = 0, bits = 0;
    for (let i = 0; i < len; i++) {
      const c = values[i];
      const v = c < 128 ? B64_LOOKUP[c] : -1;
      if (v < 0) throw fail();
      buffer = (buffer << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        chunk[filled++] = (buffer >> bits) & 0xff;
        buffer &= (1 << bits) - 1;
        if (filled === 8192) {
          out += charCodesToString(chunk, filled);
          filled = 0;
        }
      }
    }
    return out + charCodesToString(chunk, filled);
  }

  // Run once here, so that the startup snapshot holds their bytecode (every
  // request's headers go through them; see 00_primordials.js).
  isObject(null);
  toByteString("a");

  internals.defineGlobal("DOMException", DOMException);
  internals.defineGlobal("Event", Event);
  internals.defineGlobal("EventTarget", EventTarget);
  internals.defineGlobal("CustomEvent", CustomEvent);
  internals.defineGlobal("AbortController", AbortController);
  internals.defineGlobal("AbortSignal", AbortSignal);
  internals.defineGlobal("atob", atob);
  internals.defineGlobal("btoa", btoa);
})
