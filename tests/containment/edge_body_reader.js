// Reads the whole request body; reports whether the read rejected (a client
// that stops sending mid-body must not hold this request forever).
export default {
  async fetch(request) {
    try {
      const text = await request.text();
      return new Response(`read ${text.length} bytes`);
    } catch (e) {
      return new Response(`body rejected: ${e.message}`, { status: 400 });
    }
  },
};
