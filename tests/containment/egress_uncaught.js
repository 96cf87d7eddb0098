// Hostile: fetches the machine's loopback without catching the refusal.
export default {
  async fetch(request, env) {
    return fetch(env.TARGET);
  },
};
