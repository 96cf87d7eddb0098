// Dynamic import() at run time (tests/containment_crypto.rs): nothing outside
// the worker's root may load, however the specifier is spelled.
export default {
  async fetch() {
    const specs = [
      "../outside.js",
      "./../outside.js",
      "/etc/hostname",
      "file:///etc/passwd",
      "./%2e%2e/outside.js",
      "data:text/javascript,export default 1",
    ];
    const lines = [];
    for (const spec of specs) {
      try {
        const m = await import(spec);
        lines.push(`${spec}: loaded ${JSON.stringify(m.default ?? Object.keys(m))}`);
      } catch (e) {
        lines.push(`${spec}: ${e.name}`);
      }
    }
    return new Response(lines.join("\n"));
  },
};
