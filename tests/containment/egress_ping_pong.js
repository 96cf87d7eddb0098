// Hostile: two routes of one worker send each other's path back through
// the proxy's own listener: /ping -> /pong -> /ping -> ...
export default {
  async fetch(request) {
    const url = new URL(request.url);
    url.pathname = url.pathname === "/ping" ? "/pong" : "/ping";
    return fetch(url, { headers: { "x-isoproxy-loop": "0/1000/0000000000000000/00" } });
  },
};
