// The smallest worker: answers every request itself.
export default {
  async fetch(request, env, ctx) {
    return new Response("Hello from isoproxy!\n", {
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
  },
};
