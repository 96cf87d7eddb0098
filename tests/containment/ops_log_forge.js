// A script's console output and exceptions must stay one line each in
// isoproxy's log: newlines and other controls are escaped.
export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/console") {
      console.log("innocent\n[2030-01-01T00:00:00Z ERROR isoproxy::admin] FORGED-BY-CONSOLE");
      console.error("carriage\r[2030-01-01T00:00:00Z INFO isoproxy] FORGED-BY-CR\u2028\u001b[2J");
      return new Response("logged");
    }
    if (path === "/throw") {
      throw new Error("boom\n[2030-01-01T00:00:00Z ERROR isoproxy] FORGED-BY-EXCEPTION");
    }
    if (path === "/huge") {
      console.log("H".repeat(8 * 1024 * 1024));
      return new Response("logged huge");
    }
    return new Response("log ok");
  },
};
