// The well-behaved neighbour: after every attack it must still answer 200.
export default {
  fetch() {
    return new Response("normal ok");
  },
};
