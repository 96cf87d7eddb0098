// Status line attacks: statuses outside 200-599, 101 without an upgrade,
// CR LF in the reason phrase (response splitting), a body on a null-body
// status. Each must end as a 500, never on the wire.
// Runs `make` with `proto[name]` replaced, then puts it back.
function disarmed(proto, name, replacement, make) {
  const original = proto[name];
  proto[name] = replacement;
  try {
    return make();
  } finally {
    proto[name] = original;
  }
}

export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    switch (path) {
      case "/status-0":
        return Response.error();
      case "/status-99":
        return new Response(null, { status: 99 });
      case "/status-600":
        return new Response(null, { status: 600 });
      case "/status-101":
        // The JS lets 101 through for a WebSocket; isoproxy has no upgrade.
        return new Response(null, { status: 101, webSocket: {} });
      case "/crlf":
        return new Response("x", { statusText: "OK\r\nSet-Cookie: forged=1" });
      case "/crlf-bypass":
        // Disarm the regular expression the constructor checks with, for
        // this one construction.
        return disarmed(RegExp.prototype, "test", () => false, () =>
          new Response("x", { statusText: "OK\r\nSet-Cookie: forged=1" }));
      case "/long-reason":
        return new Response("x", { statusText: "r".repeat(2000) });
      case "/204-body": {
        // Disarm the null-body check: a 204 with a body would desync the client.
        const has = Set.prototype.has;
        return disarmed(Set.prototype, "has", function (v) {
          return v === 204 ? false : has.call(this, v);
        }, () => new Response("smuggled", { status: 204 }));
      }
      default:
        return new Response("status ok");
    }
  },
};
