// Spends subrequests on env.ORIGIN one by one (10 tries) and reports how
// many went through and how many were refused as "Too many subrequests."
// On /via it instead passes the request to /spend through the proxy's own
// listener, so /spend runs as the second hop of a chain.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/via") {
      url.pathname = "/spend";
      return fetch(url);
    }
    let ok = 0;
    let refused = 0;
    for (let i = 0; i < 10; i++) {
      try {
        const res = await fetch(`${env.ORIGIN}/status/200`);
        await res.arrayBuffer();
        ok++;
      } catch (e) {
        if (e instanceof TypeError && e.message === "Too many subrequests.") refused++;
        else throw e;
      }
    }
    return Response.json({ ok, refused });
  },
};
