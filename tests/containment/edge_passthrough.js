// Hostile only through what clients send it: it forwards every request as
// is, so a Host header that routing and request.url read differently would
// send its fetch() wherever the client likes (the admin listener, say).
export default { fetch: (request) => fetch(request) };
