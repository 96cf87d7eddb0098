// Attack: keep burning CPU after the response, on timers the request
// started (issue 9, item 3). Each callback burns 20 ms of CPU and re-arms.
function burn(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x++;
  return x;
}

export default {
  fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    if (path === "/timeout-chain") {
      const tick = () => {
        burn(20);
        setTimeout(tick, 1);
      };
      setTimeout(tick, 1);
      return new Response("chain started");
    }
    if (path === "/interval") {
      setInterval(() => burn(20), 1);
      return new Response("interval started");
    }
    if (path === "/wait-until-chain") {
      // waitUntil keeps the request alive: the chain runs, charged to it,
      // until its CPU limit ends it.
      let stop;
      ctx.waitUntil(new Promise((resolve) => (stop = resolve)));
      const tick = () => {
        burn(20);
        setTimeout(tick, 1);
      };
      setTimeout(tick, 1);
      setTimeout(() => stop(), 20000);
      return new Response("chain started under waitUntil");
    }
    return new Response("fine");
  },
};
