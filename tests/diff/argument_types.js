// The TypeError for a missing argument of APIs outside argument_errors.js:
// workerd names the first missing parameter's type ("parameter N is not of
// type 'T'"), not a count.
export default { async fetch() {
  const T = async (f) => { try { await f(); return "no throw"; } catch (e) { return e.name + ": " + e.message; } };
  const out = {};
  const cache = caches.default;
  const cases = {
    CompressionStream: () => new CompressionStream(),
    DecompressionStream: () => new DecompressionStream(),
    cacheMatch: () => cache.match(),
    cachePut0: () => cache.put(),
    cachePut1: () => cache.put("http://x/"),
    cacheDelete: () => cache.delete(),
    cachesOpen: () => caches.open(),
    pipeThrough: () => new ReadableStream().pipeThrough(),
    respond: async () => { let req; const rs = new ReadableStream({ type: "bytes", pull(c) { req = c.byobRequest; } }); const rd = rs.getReader({ mode: "byob" }); rd.read(new Uint8Array(4)); await null; await null; return req.respond(); },
    forEachHeaders: () => new Headers().forEach(),
    initEvent: () => new Event("x").initEvent(),
    rewriterOn0: () => new HTMLRewriter().on(),
    rewriterOn1: () => new HTMLRewriter().on("p"),
    rewriterOnDocument: () => new HTMLRewriter().onDocument(),
    rewriterTransform: () => new HTMLRewriter().transform(),
    subtleDigest: () => crypto.subtle.digest(),
    subtleDigest1: () => crypto.subtle.digest("SHA-256"),
    subtleEncrypt: () => crypto.subtle.encrypt(),
    subtleImportKey: () => crypto.subtle.importKey("raw"),
    subtleGenerateKey: () => crypto.subtle.generateKey(),
    subtleSign: () => crypto.subtle.sign(),
    DigestStream: () => new crypto.DigestStream(),
  };
  for (const [k, f] of Object.entries(cases)) out[k] = await T(f);
  // HTMLRewriter element methods
  const res = new HTMLRewriter().on("p", { element(el) {
    for (const [k, f] of Object.entries({ getAttribute: () => el.getAttribute(), hasAttribute: () => el.hasAttribute(), setAttribute: () => el.setAttribute("a"), removeAttribute: () => el.removeAttribute(), onEndTag: () => el.onEndTag(), before: () => el.before(), append: () => el.append(), setInnerContent: () => el.setInnerContent() })) {
      try { f(); out["el " + k] = "no throw"; } catch (e) { out["el " + k] = e.name + ": " + e.message; }
    }
  } }).transform(new Response("<p>x</p>"));
  await res.text();
  return new Response(JSON.stringify(out, null, 1));
}};
