"use strict";
// WebSocket and WebSocketPair, as on Workers. A WebSocket is a native id:
// - an origin's accepted upgrade (`response.webSocket` of a 101 from
//   fetch()): the script can only return it in a 101 Response, and the
//   proxy splices client and origin natively (no JS per frame);
// - the two ends of a WebSocketPair: the client end goes back in a 101
//   Response (the proxy completes the handshake with the client and parses
//   its frames in Rust), the server end is accept()ed here and its messages
//   arrive as events (ops.wsRecv), its sends go out through ops.wsSend.
// An origin's socket accept()ed (ops.wsAcceptOrigin), or made by
// `new WebSocket(url)` (a fetch() with `Upgrade: websocket`, then the
// same), becomes a server end: the proxy speaks the protocol with the
// origin and carries whole messages.
((globalThis, internals) => {
  const {
    ArrayBufferIsView,
    ArrayBufferPrototypeGetByteLength,
    ArrayAppend,
    ArrayFrom,
    ArrayIsArray,
    ArrayPrototypeJoin,
    NumberIsInteger,
    ObjectDefineProperty,
    ObjectFreeze,
    ObjectSetPrototypeOf,
    PrivateSlot,
    RegExpPrototypeExec,
    SafeMap,
    SafeSet,
    String,
    StringPrototypeSlice,
    SymbolToStringTag,
    TypeError,
    TypedArrayPrototypeGetBuffer,
  } = internals.primordials;
  const ops = internals.ops;
  const H = internals.headers;
  const E = internals.events;
  const { toDOMString, toUSVString, utf8Encode } = internals.webidl;
  const makeDOMException = internals.makeDOMException;
  const defineGlobal = internals.defineGlobal;

  const ILLEGAL = "Illegal constructor";
  const illegalKey = {};

  // ---- events ---------------------------------------------------------------
  const msgSlot = PrivateSlot();
  class MessageEvent extends E.Event {
    constructor(type, init = undefined) {
      super(type, init);
      const data = init !== undefined && init !== null ? init.data : undefined;
      msgSlot.set(this, data === undefined ? null : data);
    }
    get data() {
      if (!msgSlot.has(this)) throw new TypeError("Illegal invocation");
      return msgSlot.get(this);
    }
  }
  const closeSlot = PrivateSlot();
  class CloseEvent extends E.Event {
    constructor(type, init = undefined) {
      super(type, init);
      const i = init ?? { __proto__: null };
      closeSlot.set(this, {
        __proto__: null,
        code: i.code === undefined ? 0 : i.code >>> 0 & 0xffff,
        reason: i.reason === undefined ? "" : String(i.reason),
        wasClean: !!i.wasClean,
      });
    }
    get code() { return closeState(this).code; }
    get reason() { return closeState(this).reason; }
    get wasClean() { return closeState(this).wasClean; }
  }
  function closeState(e) {
    const s = closeSlot.get(e);
    if (s === undefined) throw new TypeError("Illegal invocation");
    return s;
  }
  const errSlot = PrivateSlot();
  class ErrorEvent extends E.Event {
    constructor(type, init = undefined) {
      super(type, init);
      const i = init ?? { __proto__: null };
      errSlot.set(this, { __proto__: null, message: i.message === undefined ? "" : String(i.message), error: i.error });
    }
    get message() { return errState(this).message; }
    get error() { return errState(this).error; }
    get filename() { errState(this); return ""; }
    get lineno() { errState(this); return 0; }
    get colno() { errState(this); return 0; }
  }
  function errState(e) {
    const s = errSlot.get(e);
    if (s === undefined) throw new TypeError("Illegal invocation");
    return s;
  }

  // ---- WebSocket --------------------------------------------------------------
  const CONNECTING = 0;
  const OPEN = 1;
  const CLOSING = 2;
  const CLOSED = 3;

  // Kinds of native socket.
  const ORIGIN = 0; // an origin's accepted upgrade, spliced by the proxy
  const CLIENT = 1; // a WebSocketPair's client end (goes to the proxy)
  const SERVER = 2; // a WebSocketPair's server end (this script's)

  class SocketRecord {
    id;
    kind;
    reqId;
    readyState = OPEN;
    accepted = false;
    /** The native end went out in a 101 response (or its peer did). */
    used = false;
    /** Our close frame went out. */
    closeSent = false;
    peer = null;
    /** `new WebSocket(url)`: its URL; the protocol and extensions the origin chose. */
    url = null;
    protocol = null;
    extensions = null;
    /** An origin's socket, accept()ed or made by `new WebSocket(url)`. */
    origin = false;
    /** `new WebSocket(url)` before its handshake completed. */
    connecting = false;
    binaryType;
    constructor(id, kind, reqId) {
      this.id = id;
      this.kind = kind;
      this.reqId = reqId;
      // workerd's `websocket_standard_binary_type` (on from 2026-03-17).
      const flags = internals.compat ? internals.compat.flags : undefined;
      this.binaryType = flags === undefined || flags.websocketBinaryTypeDefault ? "blob" : "arraybuffer";
    }
  }
  ObjectSetPrototypeOf(SocketRecord.prototype, null);
  const wsSlot = PrivateSlot();
  function wsOf(ws) {
    const s = wsSlot.get(ws);
    if (s === undefined) throw new TypeError("Illegal invocation: function called with incorrect `this` reference.");
    return s;
  }

  // A socket belongs to the request that made it, as workerd's I/O objects do.
  const OTHER_REQUEST =
    "Cannot perform I/O on behalf of a different request. I/O objects (such as streams, request/response " +
    "bodies, and others) created in the context of one request handler cannot be accessed from a different " +
    "request's handler.";
  function checkRequest(s) {
    if (s.reqId !== ops.currentRequest()) throw new TypeError(OTHER_REQUEST);
  }

  /** The promises (one per accepted server end) a request waits for before it ends. */
  const openByRequest = new SafeMap();

  class WebSocket extends E.EventTarget {
    constructor(url, protocols = undefined, key = undefined) {
      if (key === illegalKey) {
        super();
        return;
      }
      // `new WebSocket(url, protocols)`: an outbound socket, as workerd's
      // WebSocket::constructor (web-socket.c++).
      if (arguments.length === 0) {
        throw new TypeError("Failed to construct 'WebSocket': 1 argument required, but only 0 present.");
      }
      url = toUSVString(url);
      const target = outboundTarget(url);
      const proto = protocolHeader(protocols);
      const reqId = ops.currentRequest();
      if (reqId === undefined) {
        throw new TypeError("new WebSocket() can only be called while handling a request.");
      }
      super();
      const s = new SocketRecord(0, SERVER, reqId);
      s.url = url;
      s.readyState = CONNECTING;
      s.connecting = true;
      // Empty until the handshake says otherwise (then null when none).
      s.protocol = "";
      s.extensions = "";
      wsSlot.set(this, s);
      const headers = proto === undefined
        ? ["upgrade", "websocket"]
        : ["upgrade", "websocket", "sec-websocket-protocol", proto];
      // Counted, limited and checked against the egress policy as any
      // fetch(); rejects outside a request.
      const fetched = ops.fetch(reqId, "GET", target, headers, 0, null);
      const done = connect(this, s, fetched);
      track(s.reqId, done);
    }
    get readyState() { return wsOf(this).readyState; }
    get url() { return wsOf(this).url; }
    get protocol() { return wsOf(this).protocol; }
    get extensions() { return wsOf(this).extensions; }
    get binaryType() { return wsOf(this).binaryType; }
    set binaryType(value) {
      const s = wsOf(this);
      value = toDOMString(value);
      // Other values are ignored, as the standard says.
      if (value === "blob" || value === "arraybuffer") s.binaryType = value;
    }

    accept() {
      const s = wsOf(this);
      if (s.connecting) throw new TypeError("Websockets obtained from the 'new WebSocket()' constructor cannot call accept");
      if (s.used) throw new TypeError("Can't accept() WebSocket that was already used in a response.");
      if (s.kind === ORIGIN) {
        // The script speaks WebSocket on the origin's connection itself.
        checkRequest(s);
        s.id = ops.wsAcceptOrigin(s.id);
        s.kind = SERVER;
        s.origin = true;
      }
      if (s.kind === CLIENT) {
        throw new TypeError(
          "Only the server end (pair[1]) of a WebSocketPair can be accepted; return the client end in a 101 Response.",
        );
      }
      // A second accept() does nothing, as on workerd.
      if (s.accepted) return;
      checkRequest(s);
      s.accepted = true;
      track(s.reqId, receive(this, s));
    }

    send(message) {
      const s = wsOf(this);
      if (s.kind !== SERVER || !s.accepted) {
        throw new TypeError("You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.");
      }
      if (s.closeSent) throw new TypeError("Can't call WebSocket send() after close().");
      // After the connection is gone, sends are dropped (as on workerd).
      if (s.readyState === CLOSED) return;
      // Bytes (any ArrayBuffer or view) are read in Rust; anything else
      // is sent as its string.
      const bytes = typeof message === "object" && message !== null &&
        (ArrayBufferIsView(message) || isArrayBuffer(message));
      const sent = ops.wsSend(s.id, bytes ? message : toDOMString(message));
      if (!sent) {
        // The connection is gone (the client closed it or it failed).
        s.readyState = CLOSED;
      }
    }

    close(code = undefined, reason = undefined) {
      const s = wsOf(this);
      // As workerd (web-socket.c++): the code and reason are checked first.
      if (code !== undefined) {
        code = +code;
        if (!NumberIsInteger(code) || !validCloseCode(code)) {
          throw makeDOMException(`Invalid WebSocket close code: ${code}.`, "InvalidAccessError");
        }
      }
      if (reason !== undefined) {
        reason = toUSVString(reason);
        if (utf8Encode(reason).length > 123) {
          throw makeDOMException(
            "WebSocket close reason must not be longer than 123 bytes when UTF-8 encoded.",
            "SyntaxError",
          );
        }
      }
      if (reason !== undefined && code === undefined) {
        throw makeDOMException(
          "If you specify a WebSocket close reason, you must also specify a code.",
          "InvalidAccessError",
        );
      }
      // A second close() is ignored, as on workerd.
      if (s.closeSent || s.used || s.readyState === CLOSED) return;
      if (s.kind !== SERVER || !s.accepted) {
        throw new TypeError(
          "You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.",
        );
      }
      checkRequest(s);
      // Checked again in Rust: code range, reason at most 123 bytes of UTF-8.
      ops.wsClose(s.id, code === undefined ? 0 : code, reason === undefined ? "" : reason);
      s.closeSent = true;
      if (s.readyState === OPEN) s.readyState = CLOSING;
    }

    static get CONNECTING() { return CONNECTING; }
    static get OPEN() { return OPEN; }
    static get CLOSING() { return CLOSING; }
    static get CLOSED() { return CLOSED; }
    get CONNECTING() { return CONNECTING; }
    get OPEN() { return OPEN; }
    get CLOSING() { return CLOSING; }
    get CLOSED() { return CLOSED; }
  }
  E.defineEventHandler(WebSocket.prototype, "open");
  E.defineEventHandler(WebSocket.prototype, "message");
  E.defineEventHandler(WebSocket.prototype, "close");
  E.defineEventHandler(WebSocket.prototype, "error");

  /** The request waits for `done` (a socket's life) before it ends. */
  function track(reqId, done) {
    let list = openByRequest.get(reqId);
    if (list === undefined) {
      list = [];
      openByRequest.set(reqId, list);
    }
    ArrayAppend(list, done);
  }

  /**
   * The http(s) URL `new WebSocket(url)` connects to: `ws:`/`wss:` only,
   * no fragment, without its userinfo (SyntaxError DOMExceptions, as
   * workerd's).
   */
  function outboundTarget(url) {
    const C = internals.url.COMPONENTS;
    const c = internals.url.parse(url);
    if (c === null) throw makeDOMException("WebSocket Constructor: The url is invalid.", "SyntaxError");
    const scheme = c[C.PROTOCOL];
    if (scheme !== "ws:" && scheme !== "wss:") {
      throw makeDOMException("WebSocket Constructor: The url scheme must be ws or wss.", "SyntaxError");
    }
    if (c[C.HASH] !== "" || StringPrototypeSlice(c[C.HREF], -1) === "#") {
      throw makeDOMException("WebSocket Constructor: The url fragment must be empty.", "SyntaxError");
    }
    // As workerd: `wss` goes out as `https` (and its X-Forwarded-Proto).
    return `${scheme === "wss:" ? "https" : "http"}://${c[C.HOST]}${c[C.PATHNAME]}${c[C.SEARCH]}`;
  }

  // RFC 6455 section 4.1: a protocol is an HTTP token.
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  /** `Sec-WebSocket-Protocol` for the `protocols` argument (undefined: none). */
  function protocolHeader(protocols) {
    if (protocols === undefined) return undefined;
    const err = (what) => makeDOMException(`WebSocket Constructor: ${what}`, "SyntaxError");
    if (typeof protocols === "object" && protocols !== null) {
      let list;
      if (ArrayIsArray(protocols)) {
        list = [];
        for (let i = 0; i < protocols.length; i++) ArrayAppend(list, toDOMString(protocols[i]));
      } else {
        list = ArrayFrom(protocols, (p) => toDOMString(p));
      }
      if (list.length === 0) return undefined;
      const seen = new SafeSet();
      for (let i = 0; i < list.length; i++) {
        if (!RegExpPrototypeExec(TOKEN, list[i])) {
          throw err("One of the protocol header tokens is invalid.");
        }
        if (seen.has(list[i])) throw err("The protocols header cannot have repeating values.");
        seen.add(list[i]);
      }
      return ArrayPrototypeJoin(list, ", ");
    }
    const one = toDOMString(protocols);
    if (!RegExpPrototypeExec(TOKEN, one)) throw err("The protocol header token is invalid.");
    return one;
  }

  /**
   * `new WebSocket(url)`'s handshake (a fetch() with `Upgrade: websocket`):
   * on the origin's 101 the socket is accepted and `open` fires; anything
   * else fires `error` and `close` (1006). Then its receive loop.
   */
  async function connect(ws, s, fetched) {
    let head;
    try {
      head = await fetched;
      if (head[0] !== 101 || typeof head[4] !== "number") {
        if (typeof head[3] === "number") ops.bodyCancel(head[3]);
        throw new TypeError(
          "Failed to establish the WebSocket connection: expected server to reply with HTTP status code 101 " +
            `(switching protocols), but received ${head[0]} instead.`,
        );
      }
      s.id = ops.wsAcceptOrigin(head[4]);
    } catch (e) {
      s.connecting = false;
      s.readyState = CLOSED;
      const message = typeof e === "object" && e !== null && typeof e.message === "string" ? e.message : String(e);
      E.fireEvent(ws, "error", ErrorEvent, { __proto__: null, message, error: e });
      E.fireEvent(ws, "close", CloseEvent, {
        __proto__: null, code: 1006, reason: "Failed to establish websocket connection", wasClean: false,
      });
      return;
    }
    const headers = H.fromBacked(head[2], "immutable");
    const proto = H.first(headers, "sec-websocket-protocol");
    const ext = H.first(headers, "sec-websocket-extensions");
    s.protocol = proto === undefined ? null : proto;
    s.extensions = ext === undefined ? null : ext;
    s.connecting = false;
    s.origin = true;
    s.accepted = true;
    s.readyState = OPEN;
    E.fireEvent(ws, "open", E.Event, undefined);
    await receive(ws, s);
  }

  // workerd's rule (web-socket.c++ close()): 1000-4999 less the codes RFC
  // 6455 section 7.4.1 keeps for reports (1004, 1005, 1006, 1015).
  function validCloseCode(code) {
    return code >= 1000 && code < 5000 && code !== 1004 && code !== 1005 && code !== 1006 && code !== 1015;
  }

  /**
   * The server end's receive loop: one native message at a time, each
   * dispatched as an event. Ends with the close (or the error); its promise
   * is what the request waits for before it ends.
   */
  async function receive(ws, s) {
    for (;;) {
      const m = await ops.wsRecv(s.id);
      // [0, text] | [1, bytes] | [2, code, reason, clean] | [3, message]
      const kind = m[0];
      if (kind === 0 || kind === 1) {
        if (s.readyState === CLOSED) continue;
        const data = kind === 0
          ? m[1]
          : s.binaryType === "blob"
          ? internals.loadBlob().makeBlob(m[1], "")
          : TypedArrayPrototypeGetBuffer(m[1]);
        const thrown = fireCatching(ws, "message", MessageEvent, { __proto__: null, data });
        if (thrown !== NOTHING) {
          // As on Workers: a handler that throws fails the socket, 1011.
          if (!s.closeSent) {
            s.closeSent = true;
            ops.wsClose(s.id, 1011, "");
          }
          s.readyState = CLOSED;
          ops.wsFree(s.id);
          return;
        }
        continue;
      }
      s.readyState = CLOSED;
      if (kind === 2) {
        E.fireEvent(ws, "close", CloseEvent, { __proto__: null, code: m[1], reason: m[2], wasClean: m[3] });
      } else {
        E.fireEvent(ws, "error", ErrorEvent, { __proto__: null, message: m[1], error: new TypeError(m[1]) });
        E.fireEvent(ws, "close", CloseEvent, { __proto__: null, code: 1006, reason: "", wasClean: false });
      }
      ops.wsFree(s.id);
      return;
    }
  }

  const NOTHING = {};
  /** Fires an event; returns the first exception a listener threw (reported as usual), or NOTHING. */
  function fireCatching(target, type, EventClass, init) {
    const report = internals.reportError;
    let thrown = NOTHING;
    internals.reportError = (e) => {
      if (thrown === NOTHING) thrown = e;
      report(e);
    };
    try {
      E.fireEvent(target, type, EventClass, init);
    } finally {
      internals.reportError = report;
    }
    return thrown;
  }

  function isArrayBuffer(v) {
    try {
      ArrayBufferPrototypeGetByteLength(v);
      return true;
    } catch {
      return false;
    }
  }

  function make(id, kind, reqId) {
    const ws = new WebSocket(undefined, undefined, illegalKey);
    wsSlot.set(ws, new SocketRecord(id, kind, reqId));
    return ws;
  }

  const pairSlot = PrivateSlot();
  class WebSocketPair {
    constructor() {
      const reqId = ops.currentRequest();
      // [clientId, serverId]; throws outside a request.
      const ids = ops.wsPair(reqId);
      const client = make(ids[0], CLIENT, reqId);
      const server = make(ids[1], SERVER, reqId);
      wsOf(client).peer = wsOf(server);
      wsOf(server).peer = wsOf(client);
      pairSlot.set(this, 0);
      ObjectDefineProperty(this, 0, { __proto__: null, value: client, enumerable: true });
      ObjectDefineProperty(this, 1, { __proto__: null, value: server, enumerable: true });
    }
  }

  ObjectDefineProperty(WebSocket.prototype, SymbolToStringTag, { __proto__: null, value: "WebSocket" });
  ObjectDefineProperty(WebSocketPair.prototype, SymbolToStringTag, { __proto__: null, value: "WebSocketPair" });

  internals.webSocket = ObjectFreeze({
    __proto__: null,
    /** `response.webSocket` of an origin's 101. */
    fromOrigin: (id, reqId) => make(id, ORIGIN, reqId),
    isWebSocket: (v) => wsSlot.has(v),
    /**
     * The native id a 101 response hands to Rust (once): an origin's
     * socket, or a pair's client end. Anything else is a TypeError.
     */
    take(ws) {
      const s = wsOf(ws);
      if (s.connecting) throw new TypeError("Can't return WebSocket in a Response if it was created with `new WebSocket()`");
      if (s.kind === SERVER && !s.origin) {
        throw new TypeError("A WebSocketPair's server end (pair[1]) can't be returned in a Response; return pair[0].");
      }
      if (s.used) throw new TypeError("Can't return WebSocket that was already used in a response.");
      if (s.accepted) throw new TypeError("Can't return WebSocket in a Response after calling accept().");
      checkRequest(s);
      s.used = true;
      return s.id;
    },
    /** Waits for the request's accepted sockets to close. */
    async settled(reqId) {
      const list = openByRequest.get(reqId);
      if (list === undefined) return;
      for (let i = 0; i < list.length; i++) {
        try {
          await list[i];
        } catch {
          // (reported where it happened)
        }
      }
      openByRequest.delete(reqId);
    },
    forget(reqId) {
      openByRequest.delete(reqId);
    },
  });

  defineGlobal("WebSocket", WebSocket);
  defineGlobal("WebSocketPair", WebSocketPair);
  defineGlobal("MessageEvent", MessageEvent);
  defineGlobal("CloseEvent", CloseEvent);
  defineGlobal("ErrorEvent", ErrorEvent);
});
