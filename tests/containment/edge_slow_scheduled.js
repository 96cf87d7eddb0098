// A scheduled handler that takes a while, to show one run per trigger.
export default {
  async scheduled(controller) {
    await new Promise((resolve) => setTimeout(resolve, 1500));
  },
  fetch() {
    return new Response("ok");
  },
};
