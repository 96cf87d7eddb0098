// Hostile: tries to reach what a worker must not reach (loopback in every
// spelling, cloud metadata, private networks, the proxy's own listeners...).
// The client POSTs a JSON list of URLs; the answer maps each URL to what
// happened: "reached STATUS" or "ErrorName: message".
export default {
  async fetch(request) {
    const targets = await request.json();
    const out = {};
    for (const url of targets) {
      try {
        const res = await fetch(url, { redirect: "follow" });
        await res.arrayBuffer();
        out[url] = `reached ${res.status}`;
      } catch (e) {
        out[url] = `${e instanceof TypeError ? "TypeError" : e && e.name}: ${e && e.message}`;
      }
    }
    return Response.json(out);
  },
};
