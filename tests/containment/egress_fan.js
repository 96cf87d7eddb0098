// Hostile: every invocation calls itself three times at once through the
// proxy's own listener. Without a budget shared along the chain this is
// 3^16 requests; with it, the whole tree makes at most `subrequests`.
export default {
  async fetch(request) {
    const results = await Promise.allSettled([fetch(request.url), fetch(request.url), fetch(request.url)]);
    let ok = 0;
    let refused = 0;
    for (const r of results) {
      if (r.status === "fulfilled") {
        await r.value.arrayBuffer();
        ok++;
      } else if (String(r.reason && r.reason.message).includes("Too many subrequests")) {
        refused++;
      }
    }
    return Response.json({ ok, refused });
  },
};
