// Attack: never answer, and keep a timer going meanwhile (issue 9, item 3).
// The client gives up; the request must be cancelled in the runtime so its
// version can be swept after a reload.
export default {
  fetch(request) {
    if (new URL(request.url).pathname === "/hello") return new Response("hello");
    setInterval(() => {}, 10);
    return new Promise(() => {});
  },
};
