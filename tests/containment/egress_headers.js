// Shows what the script sees of the loop header (nothing: the proxy strips it).
export default {
  async fetch(request) {
    return Response.json({ loop: request.headers.get("x-isoproxy-loop") });
  },
};
