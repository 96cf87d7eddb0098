// Attack: block the isolate thread without using CPU (issue 9, item 3).
// Atomics.wait on a SharedArrayBuffer nobody will ever notify would park
// the thread forever; the CPU watchdog alone never fires. It must throw.
export default {
  fetch(request) {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    if (new URL(request.url).pathname === "/caught") {
      try {
        Atomics.wait(cell, 0, 0);
        return new Response("Atomics.wait returned");
      } catch (e) {
        return new Response(`${e.constructor.name}: ${e.message}`);
      }
    }
    Atomics.wait(cell, 0, 0);
    return new Response("not blocked?");
  },
};
