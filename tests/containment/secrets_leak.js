// Ways a script's errors can quote its secrets (tests/containment_crypto.rs).
// isoproxy's own log lines, /workers and error answers must not show them.
// (A script that console.logs its secret has chosen to: not tested here.)
export default {
  async fetch(request, env) {
    switch (new URL(request.url).pathname) {
      case "/json":
        return new Response(JSON.parse(env.API_TOKEN));
      case "/throw":
        throw new Error(`token is ${env.API_TOKEN}`);
      case "/reject":
        Promise.reject(new TypeError("bad token " + env.API_TOKEN));
        return new Response("rejected later");
      case "/nested":
        throw new Error(JSON.stringify({ env: { ...env } }));
      default:
        return new Response("ok");
    }
  },
};
