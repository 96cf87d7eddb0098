// Hostile crypto.subtle calls (tests/containment_crypto.rs): sizes and
// iteration counts that would pin an isolate thread in one native call, and
// malformed keys. Each route answers "<ErrorName>: <message>" or "ok ...".
const subtle = crypto.subtle;
const enc = (s) => new TextEncoder().encode(s);
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function outcome(f) {
  const started = Date.now();
  try {
    const r = await f();
    return `ok ${r === undefined ? "" : String(r).slice(0, 1000)} in ${Date.now() - started}ms`;
  } catch (e) {
    return `${e.name}: ${e.message} in ${Date.now() - started}ms`;
  }
}

async function pbkdf2(iterations) {
  const key = await subtle.importKey("raw", enc("password"), "PBKDF2", false, ["deriveBits"]);
  const bits = await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: enc("salt"), iterations }, key, 256);
  return bits.byteLength;
}

const rsaGen = (modulusLength, publicExponent = new Uint8Array([1, 0, 1])) =>
  subtle.generateKey({ name: "RSA-PSS", modulusLength, publicExponent, hash: "SHA-256" }, true, ["sign", "verify"]);

// An odd number with its top bit set: a syntactically valid RSA modulus.
function modulus(bits) {
  const n = new Uint8Array(Math.ceil(bits / 8)).fill(0xa5);
  n[0] = 0x80 >> ((8 - (bits % 8)) % 8) | 1;
  n[n.length - 1] |= 1;
  return n;
}

const importJwk = (jwk, usages = ["verify"]) =>
  subtle.importKey("jwk", jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, usages);

// Every malformed key must be refused with a DOMException or TypeError.
async function malformed() {
  const real = await subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  );
  const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", real.privateKey));
  const spki = new Uint8Array(await subtle.exportKey("spki", real.publicKey));
  const jwk = await subtle.exportKey("jwk", real.privateKey);
  const rsa = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const attempts = [
    () => subtle.importKey("pkcs8", new Uint8Array(0), rsa, true, ["sign"]),
    () => subtle.importKey("pkcs8", pkcs8.slice(0, 100), rsa, true, ["sign"]),
    () => subtle.importKey("pkcs8", new Uint8Array(1 << 20).fill(0x30), rsa, true, ["sign"]),
    () => subtle.importKey("spki", spki.slice(1), rsa, true, ["verify"]),
    () => subtle.importKey("spki", pkcs8, rsa, true, ["verify"]),
    () => subtle.importKey("pkcs8", spki, rsa, true, ["sign"]),
    () => importJwk({ kty: "RSA" }),
    () => importJwk({ kty: "RSA", n: "", e: "" }),
    () => importJwk({ kty: "RSA", n: 5, e: {} }),
    () => importJwk({ kty: "RSA", n: "!!!not base64!!!", e: "AQAB" }),
    () => importJwk({ kty: "RSA", n: b64url(modulus(16392)), e: "AQAB" }),
    () => importJwk({ kty: "RSA", n: "A".repeat(1 << 20), e: "AQAB" }),
    () => importJwk({ kty: "RSA", n: jwk.n, e: b64url(new Uint8Array(64).fill(255)) }),
    () => importJwk({ kty: "RSA", n: jwk.n, e: "AA" }),
    () => importJwk({ ...jwk, d: b64url(new Uint8Array(4096).fill(7)) }, ["sign"]),
    () => importJwk({ ...jwk, p: undefined, q: undefined, dp: undefined, dq: undefined, qi: undefined, d: "AQ" }, ["sign"]),
    () => importJwk({ ...jwk, q: undefined }, ["sign"]),
    () => importJwk({ ...jwk, qi: jwk.dp }, ["sign"]),
    () => importJwk({ ...jwk, n: b64url(modulus(16384)) }, ["sign"]),
    () => subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: "AA", y: "AA" }, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]),
    () => subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: "A".repeat(100) }, "Ed25519", true, ["verify"]),
    () => subtle.importKey("raw", new Uint8Array(33), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]),
  ];
  const names = [];
  for (const f of attempts) {
    try {
      await f();
      names.push("accepted");
    } catch (e) {
      names.push(e.name);
    }
  }
  return names.join(",");
}

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const routes = {
      "/pbkdf2-huge": () => pbkdf2(1e9),
      "/pbkdf2-wrap": () => pbkdf2(2 ** 32 + 1),
      "/pbkdf2-max": () => pbkdf2(100000),
      "/rsa-gen-huge": () => rsaGen(16384),
      "/rsa-gen-wrap": () => rsaGen(2 ** 32 + 2048),
      "/rsa-gen-odd": () => rsaGen(1032),
      "/rsa-gen-exponent": () => rsaGen(1024, new Uint8Array([1, 0, 0, 0, 0, 1])),
      "/rsa-import-16384": async () => {
        const key = await importJwk({ kty: "RSA", n: b64url(modulus(16384)), e: "AQAB" });
        const ok = await subtle.verify("RSASSA-PKCS1-v1_5", key, new Uint8Array(2048), enc("m"));
        return `${key.algorithm.modulusLength} bits, verify ${ok}`;
      },
      "/rsa-import-16392": () => importJwk({ kty: "RSA", n: b64url(modulus(16392)), e: "AQAB" }),
      "/hkdf-long": async () => {
        const key = await subtle.importKey("raw", enc("k"), "HKDF", false, ["deriveBits"]);
        return subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: enc(""), info: enc("") }, key, 2 ** 31);
      },
      "/malformed": malformed,
    };
    const route = routes[path];
    if (!route) return new Response("no such attack", { status: 404 });
    return new Response(await outcome(route));
  },
};
