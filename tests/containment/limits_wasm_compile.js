// Attack surface: compiling WebAssembly from bytes at run time (issue 9,
// item 4). Refused, as on Workers, whichever entry point is used.
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

export default {
  async fetch() {
    const out = [];
    const describe = (e) => `${e.constructor.name}: ${e.message}`;
    try {
      new WebAssembly.Module(EMPTY_MODULE);
      out.push("Module: compiled");
    } catch (e) {
      out.push(`Module ${describe(e)}`);
    }
    out.push(await WebAssembly.compile(EMPTY_MODULE).then(() => "compile: compiled", (e) => `compile ${describe(e)}`));
    out.push(
      await WebAssembly.instantiate(EMPTY_MODULE).then(() => "instantiate: compiled", (e) => `instantiate ${describe(e)}`),
    );
    out.push(`validate: ${WebAssembly.validate(EMPTY_MODULE)}`);
    return new Response(out.join("\n"));
  },
};
