"use strict";
// WebSocket and WebSocketPair, as on Workers. A WebSocket is a native id:
// - an origin's accepted upgrade (`response.webSocket` of a 101 from
//   fetch()): the script can only return it in a 101 Response, and the
//   proxy splices client and origin natively (no JS per frame);
// - the two ends of a WebSocketPair: the client end goes back in a 101
//   Response (the proxy completes the handshake with the client and parses
//   its frames in Rust), the server end is accept()ed here and its messages
//   arrive as events (ops.wsRecv), its sends go out through ops.wsSend.
((globalThis, internals) => {
  const {
    ArrayBufferIsView,
    ArrayBufferPrototypeGetByteLength,
    ArrayAppend,
    NumberIsInteger,
    ObjectDefineProperty,
    ObjectFreeze,
    ObjectSetPrototypeOf,
    PrivateSlot,
    SafeMap,
    String,
    SymbolToStringTag,
    TypeError,
    TypedArrayPrototypeGetBuffer,
  } = internals.primordials;
  const ops = internals.ops;
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
    constructor(id, kind, reqId) {
      this.id = id;
      this.kind = kind;
      this.reqId = reqId;
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
    constructor(url = undefined, protocols = undefined, key = undefined) {
      if (key !== illegalKey) {
        // Outbound client WebSockets (`new WebSocket(url)`) are not built.
        throw new TypeError("WebSocket constructor is not supported; use fetch() with an Upgrade: websocket header.");
      }
      super();
      wsSlot.set(this, url);
    }
    get readyState() { return wsOf(this).readyState; }
    get url() { wsOf(this); return null; }
    get protocol() { wsOf(this); return null; }
    get extensions() { wsOf(this); return null; }
    get binaryType() { wsOf(this); return "arraybuffer"; }

    accept() {
      const s = wsOf(this);
      if (s.kind === ORIGIN) {
        throw new TypeError(
          "This WebSocket is an origin's: isoproxy passes it through natively. Return it in a 101 Response.",
        );
      }
      if (s.used) throw new TypeError("Can't accept() WebSocket that was already used in a response.");
      if (s.kind === CLIENT) {
        throw new TypeError(
          "Only the server end (pair[1]) of a WebSocketPair can be accepted; return the client end in a 101 Response.",
        );
      }
      // A second accept() does nothing, as on workerd.
      if (s.accepted) return;
      checkRequest(s);
      s.accepted = true;
      const socket = this;
      const done = receive(socket, s);
      let list = openByRequest.get(s.reqId);
      if (list === undefined) {
        list = [];
        openByRequest.set(s.reqId, list);
      }
      ArrayAppend(list, done);
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
        const data = kind === 0 ? m[1] : TypedArrayPrototypeGetBuffer(m[1]);
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
      if (s.kind === SERVER) {
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
