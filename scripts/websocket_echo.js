// A WebSocket server in a worker, as on Cloudflare Workers: each
// connection gets its own WebSocketPair; the worker keeps the server end
// and hands the client end back in a 101 response. Text comes back
// prefixed with "echo: ", binary comes back as sent, and the close code the
// client chose is returned to it.
export default {
  fetch(request) {
    if (request.headers.get("Upgrade") !== "websocket") {
      return new Response("Connect with a WebSocket client (Upgrade: websocket).\n", { status: 426 });
    }
    const [client, server] = Object.values(new WebSocketPair());
    // Binary messages as ArrayBuffers (from compatibility date 2026-03-17
    // they arrive as Blobs unless asked), so they can be sent back as is.
    server.binaryType = "arraybuffer";
    server.accept();
    server.addEventListener("message", (event) => {
      server.send(typeof event.data === "string" ? `echo: ${event.data}` : event.data);
    });
    server.addEventListener("close", (event) => {
      // 1005: the client sent no code; 1006: the connection just dropped.
      if (event.code !== 1006) server.close(event.code === 1005 ? 1000 : event.code, "goodbye");
    });
    return new Response(null, { status: 101, webSocket: client });
  },
};
