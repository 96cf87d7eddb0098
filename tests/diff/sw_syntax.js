// Service-worker syntax (no modules): addEventListener("fetch"). Recorded
// with workerd's serviceWorkerScript; no imports allowed here.
function describe(e) {
  return e && typeof e === "object" ? `threw ${e.constructor.name}/${e.name}: ${e.message}` : String(e);
}

addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const o = {};
  o.type = event.type;
  o.isFetchEvent = event instanceof Event;
  o.tag = Object.prototype.toString.call(event);
  o.method = event.request.method;
  o.path = url.pathname;
  o.hasWaitUntil = typeof event.waitUntil;
  o.hasPassThrough = typeof event.passThroughOnException;
  o.cancelable = event.cancelable;
  event.waitUntil(Promise.resolve(1));
  event.respondWith(
    (async () => {
      await null;
      return new Response(JSON.stringify(o, null, 1), { headers: { "content-type": "application/json", "x-sw": "1" } });
    })(),
  );
  try {
    event.respondWith(new Response("second"));
    o.second = "no error";
  } catch (e) {
    o.second = describe(e);
  }
});
