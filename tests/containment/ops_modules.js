// Module hooks isoproxy does not install: dynamic import() and import.meta
// must fail or be empty, never crash.
export default {
  async fetch() {
    let imported;
    try {
      await import("./ops_normal.js");
      imported = "imported";
    } catch (e) {
      imported = `import refused: ${e.constructor.name}`;
    }
    return new Response(`${imported}; meta ${typeof import.meta}`);
  },
};
