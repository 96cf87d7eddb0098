"use strict";
// HTMLRewriter (Cloudflare Workers), on lol_html. The parser runs natively
// on its own coroutine (see src/html_rewriter.rs): ops.htmlRewriterWrite /
// htmlRewriterEnd feed it and return `[output, kind, handler]`, stopping at
// each handler to run. The handler's token methods are ops.htmlRewriterOp
// calls applied to the live lol_html token; when the handler (and the
// promise it returned) is done, ops.htmlRewriterDone lets the parser go on.
((globalThis, internals) => {
  const {
    ArrayBuffer,
    ArrayBufferIsView,
    FinalizationRegistry,
    ObjectDefineProperty,
    ObjectGetOwnPropertyDescriptor,
    ObjectGetOwnPropertyNames,
    ObjectSetPrototypeOf,
    ReflectApply,
    SafeMap,
    String,
    Symbol,
    SymbolIterator,
    TypeError,
    Uint8Array,
    ArrayPrototypePush,
    TypedArrayPrototypeGetByteLength,
    TypedArrayPrototypeSet,
  } = internals.primordials;
  const { requiredArguments, toDOMString, toDictionary, isObject, defineToStringTag, IteratorPrototype } =
    internals.webidl;
  const ops = internals.ops;
  const S = internals.loadStreams();
  const defineGlobal = internals.defineGlobal;
  // Loaded on first use, after the script ran: the runtime's own classes,
  // not whatever the globals hold now.
  const Response = internals.fetchClasses.Response;
  const Headers = internals.headers.Headers;

  const INVALID_TOKEN =
    "This content token is no longer valid. Content tokens are only valid during the execution of the relevant content handler.";
  const STREAM_CONTENT =
    "Replacing HTML content using a ReadableStream or Response object is not implemented. You must provide a string.";
  const NOT_BYTES =
    "This TransformStream is being used as a byte stream, but received a value that is not an ArrayBuffer or ArrayBufferView.";

  // Event kinds, as html_rewriter.rs numbers them.
  const KIND_NAMES = ["element", "comments", "text", "doctype", "end"];
  const END_TAG = 5;

  // Guards the token constructors: tokens only come from the rewriter.
  const KEY = Symbol("token");

  function call(scope, name, a, b, html) {
    if (!scope.valid) throw new TypeError(INVALID_TOKEN);
    return ops.htmlRewriterOp(scope.id, name, a, b, html);
  }

  // `before(content, options)` and friends: string content only (as workerd).
  function insert(self, scope, name, args, prefix) {
    requiredArguments(args.length, 1, prefix, ["string or JsReadableStream or Response"]);
    const content = args[0];
    if (content instanceof Response || S.isReadableStream(content)) throw new TypeError(STREAM_CONTENT);
    const text = toDOMString(content);
    const options = toDictionary(args.length > 1 ? args[1] : undefined, prefix);
    const html = options !== null && !!options.html;
    if (!scope.valid) throw new TypeError(INVALID_TOKEN);
    call(scope, name, text, undefined, html);
    return self;
  }

  function check(self, cls) {
    if (!isObject(self) || !(self instanceof cls)) throw new TypeError("Illegal invocation");
  }

  // ---------------------------------------------------------------------
  // Element
  // ---------------------------------------------------------------------

  class AttributesIterator {
    #scope;
    #list;
    #i = 0;
    constructor(key, scope, list) {
      if (key !== KEY) throw new TypeError("Illegal constructor");
      this.#scope = scope;
      this.#list = list;
    }
    next() {
      if (!(#scope in this)) throw new TypeError("Illegal invocation");
      if (!this.#scope.valid) throw new TypeError(INVALID_TOKEN);
      if (this.#i >= this.#list.length) return { done: true, value: undefined };
      return { done: false, value: this.#list[this.#i++] };
    }
    [SymbolIterator]() {
      return this;
    }
  }
  ObjectSetPrototypeOf(AttributesIterator.prototype, IteratorPrototype);
  defineToStringTag(AttributesIterator, "AttributesIterator");

  class Element {
    #scope;
    constructor(key, scope) {
      if (key !== KEY) throw new TypeError("Illegal constructor");
      this.#scope = scope;
    }
    static #s(self) {
      if (!isObject(self) || !(#scope in self)) throw new TypeError("Illegal invocation");
      return self.#scope;
    }
    get tagName() {
      return call(Element.#s(this), "tagName");
    }
    set tagName(name) {
      const scope = Element.#s(this);
      call(scope, "setTagName", toDOMString(name));
    }
    get attributes() {
      const scope = Element.#s(this);
      return new AttributesIterator(KEY, scope, call(scope, "attributes"));
    }
    get removed() {
      return call(Element.#s(this), "removed");
    }
    get namespaceURI() {
      return call(Element.#s(this), "namespaceURI");
    }
    get selfClosing() {
      return call(Element.#s(this), "selfClosing");
    }
    get canHaveContent() {
      return call(Element.#s(this), "canHaveContent");
    }
    getAttribute(name) {
      const scope = Element.#s(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'getAttribute' on 'Element'", ["string"]);
      return call(scope, "getAttribute", toDOMString(name));
    }
    hasAttribute(name) {
      const scope = Element.#s(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'hasAttribute' on 'Element'", ["string"]);
      return call(scope, "hasAttribute", toDOMString(name));
    }
    setAttribute(name, value) {
      const scope = Element.#s(this);
      requiredArguments(arguments.length, 2, "Failed to execute 'setAttribute' on 'Element'", ["string", "string"]);
      call(scope, "setAttribute", toDOMString(name), toDOMString(value));
      return this;
    }
    removeAttribute(name) {
      const scope = Element.#s(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'removeAttribute' on 'Element'", ["string"]);
      call(scope, "removeAttribute", toDOMString(name));
      return this;
    }
    before(content, options) {
      return insert(this, Element.#s(this), "before", arguments, "Failed to execute 'before' on 'Element'");
    }
    after(content, options) {
      return insert(this, Element.#s(this), "after", arguments, "Failed to execute 'after' on 'Element'");
    }
    prepend(content, options) {
      return insert(this, Element.#s(this), "prepend", arguments, "Failed to execute 'prepend' on 'Element'");
    }
    append(content, options) {
      return insert(this, Element.#s(this), "append", arguments, "Failed to execute 'append' on 'Element'");
    }
    replace(content, options) {
      return insert(this, Element.#s(this), "replace", arguments, "Failed to execute 'replace' on 'Element'");
    }
    setInnerContent(content, options) {
      return insert(
        this, Element.#s(this), "setInnerContent", arguments, "Failed to execute 'setInnerContent' on 'Element'",
      );
    }
    remove() {
      call(Element.#s(this), "remove");
      return this;
    }
    removeAndKeepContent() {
      call(Element.#s(this), "removeAndKeepContent");
      return this;
    }
    onEndTag(handler) {
      const scope = Element.#s(this);
      requiredArguments(arguments.length, 1, "Failed to execute 'onEndTag' on 'Element'", ["function"]);
      if (typeof handler !== "function") {
        throw new TypeError("Failed to execute 'onEndTag' on 'Element': parameter 1 is not of type 'Function'.");
      }
      if (!scope.valid) throw new TypeError(INVALID_TOKEN);
      const id = scope.driver.addEndTagHandler(handler);
      try {
        call(scope, "onEndTag", String(id));
      } catch (e) {
        scope.driver.endTagHandlers.delete(id);
        throw e;
      }
    }
  }
  defineToStringTag(Element, "Element");

  class EndTag {
    #scope;
    constructor(key, scope) {
      if (key !== KEY) throw new TypeError("Illegal constructor");
      this.#scope = scope;
    }
    static #s(self) {
      if (!isObject(self) || !(#scope in self)) throw new TypeError("Illegal invocation");
      return self.#scope;
    }
    get name() {
      return call(EndTag.#s(this), "name");
    }
    set name(name) {
      const scope = EndTag.#s(this);
      call(scope, "setName", toDOMString(name));
    }
    before(content, options) {
      return insert(this, EndTag.#s(this), "before", arguments, "Failed to execute 'before' on 'EndTag'");
    }
    after(content, options) {
      return insert(this, EndTag.#s(this), "after", arguments, "Failed to execute 'after' on 'EndTag'");
    }
    remove() {
      call(EndTag.#s(this), "remove");
      return this;
    }
  }
  defineToStringTag(EndTag, "EndTag");

  class Comment {
    #scope;
    constructor(key, scope) {
      if (key !== KEY) throw new TypeError("Illegal constructor");
      this.#scope = scope;
    }
    static #s(self) {
      if (!isObject(self) || !(#scope in self)) throw new TypeError("Illegal invocation");
      return self.#scope;
    }
    get text() {
      return call(Comment.#s(this), "text");
    }
    set text(text) {
      const scope = Comment.#s(this);
      call(scope, "setText", toDOMString(text));
    }
    get removed() {
      return call(Comment.#s(this), "removed");
    }
    before(content, options) {
      return insert(this, Comment.#s(this), "before", arguments, "Failed to execute 'before' on 'Comment'");
    }
    after(content, options) {
      return insert(this, Comment.#s(this), "after", arguments, "Failed to execute 'after' on 'Comment'");
    }
    replace(content, options) {
      return insert(this, Comment.#s(this), "replace", arguments, "Failed to execute 'replace' on 'Comment'");
    }
    remove() {
      call(Comment.#s(this), "remove");
      return this;
    }
  }
  defineToStringTag(Comment, "Comment");

  class Text {
    #scope;
    constructor(key, scope) {
      if (key !== KEY) throw new TypeError("Illegal constructor");
      this.#scope = scope;
    }
    static #s(self) {
      if (!isObject(self) || !(#scope in self)) throw new TypeError("Illegal invocation");
      return self.#scope;
    }
    get text() {
      return call(Text.#s(this), "text");
    }
    get lastInTextNode() {
      return call(Text.#s(this), "lastInTextNode");
    }
    get removed() {
      return call(Text.#s(this), "removed");
    }
    before(content, options) {
      return insert(this, Text.#s(this), "before", arguments, "Failed to execute 'before' on 'Text'");
    }
    after(content, options) {
      return insert(this, Text.#s(this), "after", arguments, "Failed to execute 'after' on 'Text'");
    }
    replace(content, options) {
      return insert(this, Text.#s(this), "replace", arguments, "Failed to execute 'replace' on 'Text'");
    }
    remove() {
      call(Text.#s(this), "remove");
      return this;
    }
  }
  defineToStringTag(Text, "Text");

  class Doctype {
    #scope;
    constructor(key, scope) {
      if (key !== KEY) throw new TypeError("Illegal constructor");
      this.#scope = scope;
    }
    static #s(self) {
      if (!isObject(self) || !(#scope in self)) throw new TypeError("Illegal invocation");
      return self.#scope;
    }
    get name() {
      return call(Doctype.#s(this), "name");
    }
    get publicId() {
      return call(Doctype.#s(this), "publicId");
    }
    get systemId() {
      return call(Doctype.#s(this), "systemId");
    }
  }
  defineToStringTag(Doctype, "Doctype");

  class DocumentEnd {
    #scope;
    constructor(key, scope) {
      if (key !== KEY) throw new TypeError("Illegal constructor");
      this.#scope = scope;
    }
    static #s(self) {
      if (!isObject(self) || !(#scope in self)) throw new TypeError("Illegal invocation");
      return self.#scope;
    }
    append(content, options) {
      return insert(this, DocumentEnd.#s(this), "append", arguments, "Failed to execute 'append' on 'DocumentEnd'");
    }
  }
  defineToStringTag(DocumentEnd, "DocumentEnd");

  const TOKEN_CLASSES = [Element, Comment, Text, Doctype, DocumentEnd, EndTag];

  // This file loads lazily, after the script ran: index loops only (the
  // script may have replaced Array.prototype[Symbol.iterator]).
  const CLASSES = [Element, EndTag, Comment, Text, Doctype, DocumentEnd];
  for (let i = 0; i < CLASSES.length; i++) {
    const cls = CLASSES[i];
    // Web IDL attributes and operations are enumerable.
    const names = ObjectGetOwnPropertyNames(cls.prototype);
    for (let j = 0; j < names.length; j++) {
      const name = names[j];
      if (name === "constructor") continue;
      const desc = ObjectGetOwnPropertyDescriptor(cls.prototype, name);
      desc.enumerable = true;
      ObjectDefineProperty(cls.prototype, name, desc);
    }
  }

  // ---------------------------------------------------------------------
  // The driver of one transform(): pulls input, runs handlers.
  // ---------------------------------------------------------------------

  function isThenable(v) {
    return isObject(v) && typeof v.then === "function";
  }

  function toBytes(chunk) {
    if (chunk instanceof Uint8Array) return chunk;
    if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
    if (ArrayBufferIsView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    return null;
  }

  function concat(chunks) {
    if (chunks.length === 1) return chunks[0];
    let total = 0;
    for (let i = 0; i < chunks.length; i++) total += TypedArrayPrototypeGetByteLength(chunks[i]);
    const out = new Uint8Array(total);
    let off = 0;
    for (let i = 0; i < chunks.length; i++) {
      TypedArrayPrototypeSet(out, chunks[i], off);
      off += TypedArrayPrototypeGetByteLength(chunks[i]);
    }
    return out;
  }

  // Frees the native rewriter of an output stream nobody reads to the end.
  const finalizer = typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry((id) => ops.htmlRewriterFree(id))
    : null;

  class Driver {
    constructor(id, registrations) {
      this.id = id;
      this.registrations = registrations;
      this.endTagHandlers = new SafeMap();
      this.nextEndTag = 1;
      this.output = [];
      this.failed = false;
      this.error = undefined;
    }

    addEndTagHandler(fn) {
      const id = this.nextEndTag++;
      this.endTagHandlers.set(id, fn);
      return id;
    }

    // Runs handlers until the parser wants more input (or is finished). It
    // never rejects: a failure is kept in `error` for the next pull, so a
    // handler's exception is not reported as an unhandled rejection.
    async run(step) {
      try {
        for (;;) {
          const out = step[0];
          const kind = step[1];
          const index = step[2];
          if (out !== null) ArrayPrototypePush(this.output, out);
          if (kind < 0) return;
          let fn;
          let thisArg;
          if (kind === END_TAG) {
            fn = this.endTagHandlers.get(index);
            this.endTagHandlers.delete(index);
          } else {
            const reg = this.registrations[index];
            fn = reg.handlers[KIND_NAMES[kind]];
            thisArg = reg.thisArg;
          }
          const scope = { __proto__: null, id: this.id, valid: true, driver: this };
          const token = new TOKEN_CLASSES[kind](KEY, scope);
          try {
            const result = ReflectApply(fn, thisArg, [token]);
            if (isThenable(result)) await result;
          } finally {
            scope.valid = false;
          }
          step = ops.htmlRewriterDone(this.id);
        }
      } catch (e) {
        this.failed = true;
        this.error = e;
      }
    }

    takeOutput() {
      const out = concat(this.output);
      this.output = [];
      return out;
    }
  }

  // The `charset` parameter of a Content-Type, if any.
  function charsetOf(contentType) {
    if (contentType === null) return null;
    const m = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
    if (m === null) return null;
    const value = m[1] !== undefined ? m[1] : m[2];
    return value === "" ? null : value;
  }

  // Reads the handler functions of a handlers dictionary (as workerd's
  // JSG struct does: absent members are skipped, others must be functions).
  function handlersOf(handlers, names, prefix) {
    if (!isObject(handlers)) {
      throw new TypeError(`${prefix}: parameter ${names.length === 3 ? 2 : 1} is not of type 'object'.`);
    }
    const out = { __proto__: null };
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const fn = handlers[name];
      if (fn === undefined) continue;
      if (typeof fn !== "function") {
        throw new TypeError(`${prefix}: The '${name}' handler is not a function.`);
      }
      out[name] = fn;
    }
    return out;
  }

  class HTMLRewriter {
    #registrations = [];

    constructor() {}

    static #check(self) {
      if (!isObject(self) || !(#registrations in self)) throw new TypeError("Illegal invocation");
    }

    on(selector, handlers) {
      HTMLRewriter.#check(this);
      const prefix = "Failed to execute 'on' on 'HTMLRewriter'";
      requiredArguments(arguments.length, 2, prefix, ["string", "ElementContentHandlers"]);
      selector = toDOMString(selector);
      ops.htmlSelectorCheck(selector);
      const fns = handlersOf(handlers, ["element", "comments", "text"], prefix);
      ArrayPrototypePush(this.#registrations, { selector, handlers: fns, thisArg: handlers });
      return this;
    }

    onDocument(handlers) {
      HTMLRewriter.#check(this);
      const prefix = "Failed to execute 'onDocument' on 'HTMLRewriter'";
      requiredArguments(arguments.length, 1, prefix, ["DocumentContentHandlers"]);
      const fns = handlersOf(handlers, ["doctype", "comments", "text", "end"], prefix);
      ArrayPrototypePush(this.#registrations, { selector: null, handlers: fns, thisArg: handlers });
      return this;
    }

    transform(response) {
      HTMLRewriter.#check(this);
      const prefix = "Failed to execute 'transform' on 'HTMLRewriter'";
      requiredArguments(arguments.length, 1, prefix, ["Response"]);
      if (!(response instanceof Response)) {
        throw new TypeError(`${prefix}: parameter 1 is not of type 'Response'.`);
      }
      const input = response.body;
      if (input === null) return response;
      if (response.bodyUsed || S.isLocked(input)) {
        throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
      }
      // Index loops and own elements: no Array.prototype method, iterator
      // or index accessor of the script's is reached.
      const registrations = [];
      const selectors = [];
      for (let i = 0; i < this.#registrations.length; i++) {
        const r = this.#registrations[i];
        ArrayPrototypePush(registrations, r);
        ArrayPrototypePush(selectors, [
          r.selector,
          !!r.handlers.element,
          !!r.handlers.comments,
          !!r.handlers.text,
          !!r.handlers.doctype,
          !!r.handlers.end,
        ]);
      }
      const id = ops.htmlRewriterNew(
        selectors,
        charsetOf(response.headers.get("content-type")),
      );
      const driver = new Driver(id, registrations);
      const reader = input.getReader();
      let finished = false;
      // The run of handlers in progress: while an async handler waits, the
      // output produced before it is handed on rather than held back.
      let pending = null;
      const fail = (e) => {
        finished = true;
        ops.htmlRewriterFree(id);
        reader.cancel(e).catch(() => {});
      };
      const start = (step) => {
        pending = driver.run(step);
      };
      const output = S.createPullStream({
        pull: async () => {
          try {
            for (;;) {
              if (driver.output.length !== 0) return driver.takeOutput();
              if (pending !== null) {
                const p = pending;
                await p;
                if (pending === p) pending = null;
                if (driver.failed) throw driver.error;
                continue;
              }
              if (finished) return null;
              const result = await S.readInternal(reader);
              const value = result.value;
              const done = result.done;
              if (done) {
                finished = true;
                start(ops.htmlRewriterEnd(id));
              } else {
                const bytes = toBytes(value);
                if (bytes === null) throw new TypeError(NOT_BYTES);
                start(ops.htmlRewriterWrite(id, bytes));
              }
            }
          } catch (e) {
            fail(e);
            throw e;
          }
        },
        cancel: (reason) => fail(reason),
      });
      if (finalizer !== null) finalizer.register(output, id);
      const headers = new Headers(response.headers);
      headers.delete("content-length");
      return new Response(output, {
        __proto__: null,
        status: response.status,
        statusText: response.statusText,
        headers,
      });
    }
  }
  defineToStringTag(HTMLRewriter, "HTMLRewriter");
  const METHODS = ["on", "onDocument", "transform"];
  for (let i = 0; i < METHODS.length; i++) {
    const name = METHODS[i];
    const desc = ObjectGetOwnPropertyDescriptor(HTMLRewriter.prototype, name);
    desc.enumerable = true;
    ObjectDefineProperty(HTMLRewriter.prototype, name, desc);
  }
  defineGlobal("HTMLRewriter", HTMLRewriter);
});
