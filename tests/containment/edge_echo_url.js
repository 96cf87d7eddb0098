// Answers with the URL the script sees, to compare with how the request
// was routed (this worker only serves its own route patterns).
export default {
  fetch(request) {
    const url = new URL(request.url);
    return Response.json({ url: request.url, host: url.host, path: url.pathname + url.search });
  },
};
