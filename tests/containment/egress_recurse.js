// Hostile: passes every request back to the proxy it runs in, forever
// (the client's Host is the proxy's own listener). Loop protection must
// end the chain.
export default {
  async fetch(request) {
    return fetch(request);
  },
};
