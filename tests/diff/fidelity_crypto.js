// Issue 11 (items 7, 8): crypto.getRandomValues argument checks and the
// member order of exported JWKs (JSON.stringify byte for byte).
import { Rec } from "./prelude.js";

// Fixed key material (generated once by Node.js), members deliberately
// shuffled so the export order is the runtime's own.
const KEYS = {"ec256":{"kty":"EC","x":"BA6vRdKNo8DST6v4DF3FIJwwhS3-0Mt5Ws8Gq3VWzNc","y":"rzgzZTdrE7xPjLRbCeZeSU2n4ntzyzXf9Epr-EBE8iQ","crv":"P-256","d":"aiUyG2U-Svfdg8fn24g5UU_0ppDJzZrqiqB8LtImX-g"},"ec384":{"kty":"EC","x":"Me_d36y-6QGxXdO8tzAvURCgs4ZhWQjkJbALDPHzF0VqRemVHFxvl2nUBCdJgkL_","y":"w4Y1k2xboboSPq3f-FXMgMsotgd4yoaVEdZMlPD3iQ6stHNBpMSNIsRSYAmOTUJA","crv":"P-384","d":"AJswuAI2OiFl30BDj2AeEYorSsn0xOoS9tRUFC7Jgd2zY7jqXja0s4xBIesPBs9X"},"rsa":{"kty":"RSA","n":"ylhbMjdoF3GqI00KxYaZSkKdB7fcdt3dChh-Lvqwwlc_1ie1S6_S6fwrt-xBdADI_zntARaDhkwswDznYFC5_1wfvGazj1MXew7Gc92rPVPF6i2PGZjJoH226hbCgAY2sZ2TQFex6w-FuWmQABaO_vPbs8TGjy9dOkFe79wvHzE","e":"AQAB","d":"UImMetdMyhAGvRg8ElS5jLIo2FqZGILEKPGIv-AuHJwnn3Ccm2x3EYS6TfFuN-LcHaILsGQqo3iMU1OqcE6RSNoO70imczK3xulAdKoa2axiZI9zgC4VlxARuIrZqpydw0Ce-GpnAzIIu6jm9lBMIW_SbdIcBLuBTbeTb3oDjzU","p":"7-ikC82TrZ9pRd3XIKj5OCnaI2luslgswDNReB-_n55nQ0PfdCG2nBak41b15_cJ7OT8-SBLL4lodrLxNPws9w","q":"1-q6f1Sv61rx6I4vrcrAAhem2p3z0qF9k8vre-vcohCBF4XsudbozblbJmHfvlD2-wz-2Fm3qa3dxp39UuVTFw","dp":"rhJe9TF0tcW03LzaGxh_vACiBo-5gi34Snzx3_cpUufchTH6MIlFtnu3qDywsF7PFNQRubF03EkXQwkTex5-gQ","dq":"uGhUsk19FlENTOarWA5TITZcHllLFjkwzJscWzFdtdjMuG98eFhRausFK2nqM1xpJI-71MIDd9r0EB99bWBJLw","qi":"1WRovmK2CukdzSuwLAKWfuwKZSVCiZsDQdpWKq-TEkGDSyPToioKeVGZgZe54Vka6TM2By34g8xP-1Q7PDsNDw"},"ed":{"crv":"Ed25519","d":"BL5xFAejrkeTNYg6Yv5ZVmu1BzqprEQzAIkHl1OMUdo","x":"wlqzirWAoY0hQ4IAkb8NV3o-maD3NHR1rZ9fJPnG2X4","kty":"OKP"},"x":{"crv":"X25519","d":"mEiBZSj5CgJh5J5CjNMVQ5SF_NiDrZgjjs-M4lYyv0s","x":"MZzFo_-nhOacg0inWj6gBODOSRU9-CW0lDusrD6K7XM","kty":"OKP"}};

function shuffled(jwk) {
  const out = {};
  for (const k of Object.keys(jwk).reverse()) out[k] = jwk[k];
  return out;
}

export default {
  async fetch() {
    const r = new Rec();
    // ---- 7: getRandomValues ----
    const grv = (v) => {
      const out = crypto.getRandomValues(v);
      return [out === v, Object.prototype.toString.call(out)];
    };
    r.ck("grv Uint8Array", () => grv(new Uint8Array(4)));
    r.ck("grv BigInt64Array", () => grv(new BigInt64Array(2)));
    r.ck("grv Uint8ClampedArray", () => grv(new Uint8ClampedArray(2)));
    r.ck("grv Float32Array", () => grv(new Float32Array(2)));
    r.ck("grv Float64Array", () => grv(new Float64Array(2)));
    r.ck("grv DataView", () => grv(new DataView(new ArrayBuffer(4))));
    r.ck("grv ArrayBuffer", () => grv(new ArrayBuffer(4)));
    r.ck("grv plain object", () => grv({ length: 2 }));
    r.ck("grv array", () => grv([1, 2]));
    r.ck("grv null", () => grv(null));
    r.ck("grv undefined", () => grv(undefined));
    r.ck("grv no args", () => crypto.getRandomValues());
    r.ck("grv string", () => grv("abc"));
    r.ck("grv too large", () => grv(new Uint8Array(65537)));
    r.ck("grv too large float", () => grv(new Float32Array(20000)));
    r.ck("grv 65536", () => grv(new Uint8Array(65536)));
    r.ck("grv empty", () => grv(new Uint8Array(0)));

    // ---- 8: JWK member order ----
    const subtle = crypto.subtle;
    const jwkOf = async (k) => JSON.stringify(await subtle.exportKey("jwk", k));
    const raw16 = new Uint8Array(16).map((_, i) => i + 1);
    const raw32 = new Uint8Array(32).map((_, i) => i + 7);
    await r.ack("jwk HMAC SHA-256", async () => jwkOf(await subtle.importKey("raw", raw32, { name: "HMAC", hash: "SHA-256" }, true, ["verify", "sign"])));
    await r.ack("jwk HMAC SHA-1 length", async () => jwkOf(await subtle.importKey("raw", raw16, { name: "HMAC", hash: "SHA-1" }, true, ["sign"])));
    await r.ack("jwk HMAC from jwk", async () => jwkOf(await subtle.importKey("jwk", { ext: true, k: "AQIDBAUGBwgJCgsMDQ4PEA", alg: "HS512", kty: "oct" }, { name: "HMAC", hash: "SHA-512" }, true, ["sign"])));
    for (const name of ["AES-GCM", "AES-CBC", "AES-CTR", "AES-KW"]) {
      const usages = name === "AES-KW" ? ["unwrapKey", "wrapKey"] : ["decrypt", "encrypt"];
      await r.ack("jwk " + name, async () => jwkOf(await subtle.importKey("raw", raw16, name, true, usages)));
      await r.ack("jwk " + name + " 256 from jwk", async () => jwkOf(await subtle.importKey("jwk", shuffled({ kty: "oct", k: "BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY", ext: true }), name, true, usages)));
    }
    const ec = (jwk, curve, name, usages) => subtle.importKey("jwk", shuffled(jwk), name === "ECDSA" ? { name, namedCurve: curve } : { name, namedCurve: curve }, true, usages);
    const pub = (jwk) => { const { d, p, q, dp, dq, qi, ...rest } = jwk; return rest; };
    await r.ack("jwk ECDSA P-256 private", async () => jwkOf(await ec(KEYS.ec256, "P-256", "ECDSA", ["sign"])));
    await r.ack("jwk ECDSA P-256 public", async () => jwkOf(await ec(pub(KEYS.ec256), "P-256", "ECDSA", ["verify"])));
    await r.ack("jwk ECDSA P-384 private", async () => jwkOf(await ec(KEYS.ec384, "P-384", "ECDSA", ["sign"])));
    await r.ack("jwk ECDH P-256 private", async () => jwkOf(await ec(KEYS.ec256, "P-256", "ECDH", ["deriveBits"])));
    await r.ack("jwk ECDH P-256 public", async () => jwkOf(await ec(pub(KEYS.ec256), "P-256", "ECDH", [])));
    for (const [name, hash, usages, pubUsages] of [["RSASSA-PKCS1-v1_5", "SHA-256", ["sign"], ["verify"]], ["RSA-PSS", "SHA-384", ["sign"], ["verify"]], ["RSA-OAEP", "SHA-1", ["decrypt", "unwrapKey"], ["encrypt"]]]) {
      await r.ack("jwk " + name + " private", async () => jwkOf(await subtle.importKey("jwk", shuffled(KEYS.rsa), { name, hash }, true, usages)));
      await r.ack("jwk " + name + " public", async () => jwkOf(await subtle.importKey("jwk", shuffled(pub(KEYS.rsa)), { name, hash }, true, pubUsages)));
    }
    await r.ack("jwk Ed25519 private", async () => jwkOf(await subtle.importKey("jwk", shuffled(KEYS.ed), "Ed25519", true, ["sign"])));
    await r.ack("jwk Ed25519 public", async () => jwkOf(await subtle.importKey("jwk", shuffled(pub(KEYS.ed)), "Ed25519", true, ["verify"])));
    await r.ack("jwk X25519 private", async () => jwkOf(await subtle.importKey("jwk", shuffled(KEYS.x), "X25519", true, ["deriveBits"])));
    await r.ack("jwk X25519 public", async () => jwkOf(await subtle.importKey("jwk", shuffled(pub(KEYS.x)), "X25519", true, [])));
    await r.ack("jwk generated HMAC keys", async () => Object.keys(await subtle.exportKey("jwk", await subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]))));
    await r.ack("jwk generated ECDSA keys", async () => { const p = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]); return [Object.keys(await subtle.exportKey("jwk", p.privateKey)), Object.keys(await subtle.exportKey("jwk", p.publicKey))]; });
    await r.ack("jwk generated Ed25519 keys", async () => { const p = await subtle.generateKey("Ed25519", true, ["sign", "verify"]); return [Object.keys(await subtle.exportKey("jwk", p.privateKey)), Object.keys(await subtle.exportKey("jwk", p.publicKey))]; });

    return r.response();
  },
};
