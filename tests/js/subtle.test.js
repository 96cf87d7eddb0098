import { test, assert, assertEquals, assertRejects, assertThrows, suite } from "./harness.js";

const subtle = crypto.subtle;
const enc = (s) => new TextEncoder().encode(s);
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (h) => new Uint8Array(h.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const isDOM = (name) => (e) => e instanceof DOMException && e.name === name;

async function rejectsWith(fn, name, includes = "") {
  const e = await assertRejects(fn, name === "TypeError" ? TypeError : DOMException, includes);
  if (name !== "TypeError") assertEquals(e.name, name);
  return e;
}

test("crypto.subtle is a SubtleCrypto; CryptoKey and SubtleCrypto are not constructible", () => {
  assert(crypto.subtle instanceof SubtleCrypto);
  assert(crypto.subtle === crypto.subtle);
  assertEquals(Object.prototype.toString.call(crypto.subtle), "[object SubtleCrypto]");
  assertThrows(() => new SubtleCrypto(), TypeError);
  assertThrows(() => new CryptoKey(), TypeError);
});

test("digest: SHA-1/256/384/512 and MD5 known answers", async () => {
  const abc = enc("abc");
  assertEquals(hex(await subtle.digest("SHA-1", abc)), "a9993e364706816aba3e25717850c26c9cd0d89d");
  assertEquals(hex(await subtle.digest({ name: "sha-256" }, abc)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assertEquals(
    hex(await subtle.digest("SHA-384", abc.buffer)),
    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
  );
  assertEquals(
    hex(await subtle.digest("SHA-512", new DataView(abc.buffer))),
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
  );
  assertEquals(hex(await subtle.digest("MD5", abc)), "900150983cd24fb0d6963f7d28e17f72");
  const out = await subtle.digest("SHA-256", new Uint8Array(0));
  assert(out instanceof ArrayBuffer);
  assertEquals(hex(out), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  await rejectsWith(() => subtle.digest("SHA-999", abc), "NotSupportedError");
  await rejectsWith(() => subtle.digest("SHA-256", "abc"), "TypeError");
  await rejectsWith(() => subtle.digest({}, abc), "TypeError");
});

test("HMAC: RFC 4231 vectors, verify, generateKey, export", async () => {
  const key = await subtle.importKey("raw", enc("Jefe"), { name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
  assertEquals(Object.prototype.toString.call(key), "[object CryptoKey]");
  assert(key instanceof CryptoKey);
  assertEquals(key.type, "secret");
  assertEquals(key.extractable, true);
  assertEquals(key.algorithm, { name: "HMAC", hash: { name: "SHA-256" }, length: 32 });
  assertEquals(key.usages, ["sign", "verify"]);
  const data = enc("what do ya want for nothing?");
  const mac = await subtle.sign("HMAC", key, data);
  assertEquals(hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  assert(await subtle.verify("HMAC", key, mac, data));
  assert(!(await subtle.verify("HMAC", key, new Uint8Array(32), data)));
  assert(!(await subtle.verify("HMAC", key, mac, enc("other"))));
  const k512 = await subtle.importKey("raw", enc("Jefe"), { name: "HMAC", hash: { name: "SHA-512" } }, false, ["sign"]);
  assertEquals(
    hex(await subtle.sign({ name: "HMAC" }, k512, data)),
    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
  );
  const jwk = await subtle.exportKey("jwk", key);
  assertEquals(jwk.kty, "oct");
  assertEquals(jwk.k, b64url(enc("Jefe")));
  assertEquals(jwk.alg, "HS256");
  assertEquals(jwk.ext, true);
  assertEquals(jwk.key_ops, ["sign", "verify"]);
  const back = await subtle.importKey("jwk", { ...jwk, use: "sig" }, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  await rejectsWith(() => subtle.importKey("jwk", { ...jwk, use: "enc" }, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]), "DataError");
  assert(await subtle.verify("HMAC", back, mac, data));
  const gen = await subtle.generateKey({ name: "HMAC", hash: "SHA-384" }, true, ["sign"]);
  assertEquals(gen.algorithm.length, 1024);
  assertEquals((await subtle.exportKey("raw", gen)).byteLength, 128);
  const gen2 = await subtle.generateKey({ name: "HMAC", hash: "SHA-256", length: 128 }, true, ["sign"]);
  assertEquals((await subtle.exportKey("raw", gen2)).byteLength, 16);
});

test("HMAC errors: usages, extractable, lengths, JWK", async () => {
  const hmac = { name: "HMAC", hash: "SHA-256" };
  const key = await subtle.importKey("raw", enc("k"), hmac, false, ["verify"]);
  await rejectsWith(() => subtle.sign("HMAC", key, enc("x")), "InvalidAccessError");
  await rejectsWith(() => subtle.exportKey("raw", key), "InvalidAccessError");
  await rejectsWith(() => subtle.importKey("raw", enc("k"), hmac, false, ["encrypt"]), "SyntaxError");
  await rejectsWith(() => subtle.importKey("raw", enc("k"), hmac, false, ["bogus"]), "TypeError");
  await rejectsWith(() => subtle.importKey("raw", enc("k"), hmac, false, []), "SyntaxError");
  await rejectsWith(() => subtle.importKey("raw", new Uint8Array(0), hmac, false, ["sign"]), "DataError");
  await rejectsWith(() => subtle.importKey("raw", enc("k"), { name: "HMAC" }, false, ["sign"]), "TypeError");
  await rejectsWith(() => subtle.importKey("raw", enc("k"), { name: "HMAC", hash: "SHA-256", length: 64 }, false, ["sign"]), "DataError");
  await rejectsWith(() => subtle.importKey("jwk", { kty: "RSA", k: "AA" }, hmac, false, ["sign"]), "DataError");
  await rejectsWith(() => subtle.importKey("jwk", { kty: "oct", k: "AAAA", alg: "HS512" }, hmac, false, ["sign"]), "DataError");
  await rejectsWith(() => subtle.importKey("jwk", { kty: "oct", k: "AAAA", ext: false }, hmac, true, ["sign"]), "DataError");
  await rejectsWith(() => subtle.importKey("jwk", { kty: "oct", k: "AAAA", key_ops: ["verify"] }, hmac, false, ["sign"]), "DataError");
  await rejectsWith(() => subtle.importKey("jwk", { kty: "oct", k: "!!" }, hmac, false, ["sign"]), "DataError");
  await rejectsWith(() => subtle.importKey("spki", enc("k"), hmac, false, ["sign"]), "NotSupportedError");
  await rejectsWith(() => subtle.importKey("bogus", enc("k"), hmac, false, ["sign"]), "NotSupportedError", 'Unrecognized key import format "bogus".');
  await rejectsWith(() => subtle.importKey("raw", enc("k"), "FOO-BAR", false, ["sign"]), "NotSupportedError", 'Unrecognized key import algorithm "FOO-BAR" requested.');
  await rejectsWith(() => subtle.importKey("raw", enc("k"), hmac, false, ["sign", "encrypt"]), "SyntaxError", 'Attempt to import secret HMAC key with invalid usage "encrypt".');
  await rejectsWith(() => subtle.exportKey("raw", key), "InvalidAccessError", "Attempt to export non-extractable HMAC key.");
  await rejectsWith(() => subtle.sign("HMAC", {}, enc("x")), "TypeError");
  const aes = await subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["encrypt"]);
  await rejectsWith(() => subtle.sign("HMAC", aes, enc("x")), "InvalidAccessError");
});

test("AES-GCM: known answer (GCM spec test case 4), tag lengths, tamper detection", async () => {
  const key = await subtle.importKey("raw", unhex("feffe9928665731c6d6a8f9467308308"), "AES-GCM", true, ["encrypt", "decrypt"]);
  assertEquals(key.algorithm, { name: "AES-GCM", length: 128 });
  const iv = unhex("cafebabefacedbaddecaf888");
  const pt = unhex(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
  );
  const aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const ct = await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, pt);
  assertEquals(
    hex(ct),
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091" +
      "5bc94fbc3221a5db94fae95ae7121a47",
  );
  assertEquals(hex(await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, key, ct)), hex(pt));
  const bad = new Uint8Array(ct);
  bad[0] ^= 1;
  await rejectsWith(() => subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, key, bad), "OperationError");
  await rejectsWith(() => subtle.decrypt({ name: "AES-GCM", iv }, key, ct), "OperationError");
  const short = await subtle.encrypt({ name: "AES-GCM", iv, tagLength: 96 }, key, pt);
  assertEquals(short.byteLength, pt.length + 12);
  assertEquals(hex(await subtle.decrypt({ name: "AES-GCM", iv, tagLength: 96 }, key, short)), hex(pt));
  // 16-byte IVs too (the expected value is from OpenSSL).
  const iv16 = new Uint8Array(16).fill(9);
  const c16 = await subtle.encrypt({ name: "AES-GCM", iv: iv16 }, key, enc("hello gcm"));
  assertEquals(hex(c16), "89221ee7ccafd06d5938a8c77a8760165eebc9fbd08a7ed09c");
  assertEquals(new TextDecoder().decode(await subtle.decrypt({ name: "AES-GCM", iv: iv16 }, key, c16)), "hello gcm");
  await rejectsWith(() => subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(0) }, key, pt), "OperationError");
  await rejectsWith(() => subtle.encrypt({ name: "AES-GCM", iv, tagLength: 100 }, key, pt), "OperationError");
});

test("AES-CBC and AES-CTR round trips and known answers", async () => {
  // NIST SP 800-38A F.2.1 / F.5.1 (first block).
  const raw = unhex("2b7e151628aed2a6abf7158809cf4f3c");
  const block = unhex("6bc1bee22e409f96e93d7e117393172a");
  const cbc = await subtle.importKey("raw", raw, "AES-CBC", true, ["encrypt", "decrypt"]);
  const iv = unhex("000102030405060708090a0b0c0d0e0f");
  const c1 = await subtle.encrypt({ name: "AES-CBC", iv }, cbc, block);
  assertEquals(hex(c1).slice(0, 32), "7649abac8119b246cee98e9b12e9197d");
  assertEquals(c1.byteLength, 32, "PKCS#7 padding adds a block");
  assertEquals(hex(await subtle.decrypt({ name: "AES-CBC", iv }, cbc, c1)), hex(block));
  await rejectsWith(() => subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(8) }, cbc, block), "OperationError");
  await rejectsWith(() => subtle.decrypt({ name: "AES-CBC", iv }, cbc, new Uint8Array(16)), "OperationError");
  const ctrKey = await subtle.importKey("raw", raw, "AES-CTR", false, ["encrypt", "decrypt"]);
  const counter = unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  const c2 = await subtle.encrypt({ name: "AES-CTR", counter, length: 64 }, ctrKey, block);
  assertEquals(hex(c2), "874d6191b620e3261bef6864990db6ce");
  assertEquals(hex(await subtle.decrypt({ name: "AES-CTR", counter, length: 64 }, ctrKey, c2)), hex(block));
  // A short counter wraps within its bits: blocks 2 and 3 use counters ...ff and ...00 of an 8-bit counter.
  const long = new Uint8Array(64).fill(7);
  const a = new Uint8Array(await subtle.encrypt({ name: "AES-CTR", counter, length: 8 }, ctrKey, long));
  const wrapped = counter.slice();
  wrapped[15] = 0;
  const b = new Uint8Array(await subtle.encrypt({ name: "AES-CTR", counter: wrapped, length: 8 }, ctrKey, long.subarray(0, 16)));
  assertEquals(hex(a.subarray(16, 32)), hex(b), "counter wrapped to zero");
  await rejectsWith(() => subtle.encrypt({ name: "AES-CTR", counter, length: 0 }, ctrKey, block), "OperationError");
  await rejectsWith(() => subtle.importKey("raw", new Uint8Array(20), "AES-CBC", false, ["encrypt"]), "DataError");
  await rejectsWith(() => subtle.generateKey({ name: "AES-GCM", length: 100 }, false, ["encrypt"]), "OperationError");
  await rejectsWith(() => subtle.importKey("raw", raw, "AES-GCM", false, ["sign"]), "SyntaxError");
});

test("AES keys: generate, export raw/jwk and re-import", async () => {
  for (const name of ["AES-GCM", "AES-CBC", "AES-CTR", "AES-KW"]) {
    for (const length of [128, 192, 256]) {
      const usages = name === "AES-KW" ? ["wrapKey", "unwrapKey"] : ["encrypt", "decrypt"];
      const key = await subtle.generateKey({ name, length }, true, usages);
      assertEquals(key.algorithm, { name, length });
      const raw = await subtle.exportKey("raw", key);
      assertEquals(raw.byteLength, length / 8);
      const jwk = await subtle.exportKey("jwk", key);
      assertEquals(jwk.alg, `A${length}${name.slice(4)}`);
      const again = await subtle.importKey("jwk", jwk, name, true, usages);
      assertEquals(hex(await subtle.exportKey("raw", again)), hex(raw));
    }
  }
});

test("AES-KW: RFC 3394 vector, wrapKey/unwrapKey", async () => {
  const kek = await subtle.importKey("raw", unhex("000102030405060708090a0b0c0d0e0f"), "AES-KW", false, ["wrapKey", "unwrapKey"]);
  const data = await subtle.importKey("raw", unhex("00112233445566778899aabbccddeeff"), "AES-GCM", true, ["encrypt"]);
  const wrapped = await subtle.wrapKey("raw", data, kek, "AES-KW");
  assertEquals(hex(wrapped), "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5");
  const back = await subtle.unwrapKey("raw", wrapped, kek, "AES-KW", "AES-GCM", true, ["encrypt", "decrypt"]);
  assertEquals(hex(await subtle.exportKey("raw", back)), "00112233445566778899aabbccddeeff");
  await rejectsWith(() => subtle.unwrapKey("raw", new Uint8Array(24), kek, "AES-KW", "AES-GCM", true, ["encrypt"]), "OperationError");
  await rejectsWith(() => subtle.encrypt("AES-KW", kek, new Uint8Array(16)), "NotSupportedError");
});

test("wrapKey/unwrapKey as JWK with AES-GCM", async () => {
  const wk = await subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["wrapKey", "unwrapKey"]);
  const hmac = await subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = await subtle.wrapKey("jwk", hmac, wk, { name: "AES-GCM", iv });
  const back = await subtle.unwrapKey("jwk", wrapped, wk, { name: "AES-GCM", iv }, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
  const d = enc("hello");
  assertEquals(hex(await subtle.sign("HMAC", back, d)), hex(await subtle.sign("HMAC", hmac, d)));
  const nx = await subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  await rejectsWith(() => subtle.wrapKey("raw", nx, wk, { name: "AES-GCM", iv }), "InvalidAccessError");
  const encOnly = await subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["encrypt"]);
  await rejectsWith(() => subtle.wrapKey("raw", hmac, encOnly, { name: "AES-GCM", iv }), "InvalidAccessError");
});

test("HKDF (RFC 5869 case 1) and PBKDF2 (RFC 6070)", async () => {
  const ikm = await subtle.importKey("raw", new Uint8Array(22).fill(0x0b), "HKDF", false, ["deriveBits", "deriveKey"]);
  assertEquals(ikm.algorithm, { name: "HKDF" });
  assertEquals(ikm.extractable, false);
  const okm = await subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: unhex("000102030405060708090a0b0c"), info: unhex("f0f1f2f3f4f5f6f7f8f9") },
    ikm,
    42 * 8,
  );
  assertEquals(hex(okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  await rejectsWith(() => subtle.importKey("raw", enc("x"), "HKDF", true, ["deriveBits"]), "SyntaxError");
  await rejectsWith(() => subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info: new Uint8Array() }, ikm, 255 * 32 * 8 + 8), "OperationError");
  await rejectsWith(() => subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info: new Uint8Array() }, ikm, null), "OperationError");

  const pw = await subtle.importKey("raw", enc("password"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
  const p = (iterations) => ({ name: "PBKDF2", hash: "SHA-1", salt: enc("salt"), iterations });
  assertEquals(hex(await subtle.deriveBits(p(1), pw, 160)), "0c60c80f961f0e71f3a9b524af6012062fe037a6");
  assertEquals(hex(await subtle.deriveBits(p(4096), pw, 160)), "4b007901b765489abead49d926f721d065a429c1");
  await rejectsWith(() => subtle.deriveBits(p(0), pw, 160), "OperationError");
  await rejectsWith(() => subtle.deriveBits(p(100001), pw, 160), "NotSupportedError");
  const aes = await subtle.deriveKey({ ...p(1000), hash: "SHA-256" }, pw, { name: "AES-GCM", length: 256 }, true, ["encrypt"]);
  assertEquals(aes.algorithm, { name: "AES-GCM", length: 256 });
  assertEquals(
    hex(await subtle.exportKey("raw", aes)),
    hex(await subtle.deriveBits({ ...p(1000), hash: "SHA-256" }, pw, 256)),
  );
  const hk = await subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info: new Uint8Array() },
    ikm,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  assertEquals(hk.algorithm.length, 512);
  const bitsOnly = await subtle.importKey("raw", enc("pw"), "PBKDF2", false, ["deriveBits"]);
  await rejectsWith(() => subtle.deriveKey(p(1), bitsOnly, { name: "AES-GCM", length: 128 }, false, ["encrypt"]), "InvalidAccessError");
});

test("ECDSA: every curve x format round trip, sign/verify", async () => {
  for (const [curve, hash, sigLen] of [["P-256", "SHA-256", 64], ["P-384", "SHA-384", 96], ["P-521", "SHA-512", 132]]) {
    const { privateKey, publicKey } = await subtle.generateKey({ name: "ECDSA", namedCurve: curve }, true, ["sign", "verify"]);
    assertEquals(privateKey.type, "private");
    assertEquals(publicKey.type, "public");
    assertEquals(privateKey.usages, ["sign"]);
    assertEquals(publicKey.usages, ["verify"]);
    assertEquals(publicKey.algorithm, { name: "ECDSA", namedCurve: curve });
    const data = enc("message");
    const sig = await subtle.sign({ name: "ECDSA", hash }, privateKey, data);
    assertEquals(sig.byteLength, sigLen, curve);
    assert(await subtle.verify({ name: "ECDSA", hash }, publicKey, sig, data), curve);
    assert(!(await subtle.verify({ name: "ECDSA", hash }, publicKey, sig, enc("massage"))));
    assert(!(await subtle.verify({ name: "ECDSA", hash }, publicKey, sig.slice(1), data)));
    const alg = { name: "ECDSA", namedCurve: curve };
    const raw = await subtle.exportKey("raw", publicKey);
    assertEquals(new Uint8Array(raw)[0], 4);
    const spki = await subtle.exportKey("spki", publicKey);
    const pkcs8 = await subtle.exportKey("pkcs8", privateKey);
    const jwkPub = await subtle.exportKey("jwk", publicKey);
    const jwkPriv = await subtle.exportKey("jwk", privateKey);
    assertEquals(jwkPub.kty, "EC");
    assertEquals(jwkPub.crv, curve);
    assert(jwkPriv.d && !jwkPub.d);
    for (const [fmt, data2] of [["raw", raw], ["spki", spki], ["jwk", jwkPub]]) {
      const k = await subtle.importKey(fmt, data2, alg, true, ["verify"]);
      assertEquals(hex(await subtle.exportKey("spki", k)), hex(spki), `${curve} ${fmt}`);
      assert(await subtle.verify({ name: "ECDSA", hash }, k, sig, data));
    }
    for (const [fmt, data2] of [["pkcs8", pkcs8], ["jwk", jwkPriv]]) {
      const k = await subtle.importKey(fmt, data2, alg, true, ["sign"]);
      assertEquals((await subtle.exportKey("jwk", k)).d, jwkPriv.d, `${curve} ${fmt}`);
      assert(await subtle.verify({ name: "ECDSA", hash }, publicKey, await subtle.sign({ name: "ECDSA", hash }, k, data), data));
    }
    await rejectsWith(() => subtle.exportKey("raw", privateKey), "InvalidAccessError");
    await rejectsWith(() => subtle.exportKey("pkcs8", publicKey), "InvalidAccessError");
    await rejectsWith(() => subtle.importKey("jwk", { ...jwkPub, crv: "P-999" }, alg, true, ["verify"]), "DataError");
  }
  await rejectsWith(() => subtle.generateKey({ name: "ECDSA", namedCurve: "P-192" }, true, ["sign"]), "NotSupportedError");
  await rejectsWith(() => subtle.importKey("raw", new Uint8Array(65), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]), "DataError");
  await rejectsWith(() => subtle.importKey("pkcs8", enc("junk"), { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]), "DataError");
  const { publicKey } = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const spki = await subtle.exportKey("spki", publicKey);
  await rejectsWith(() => subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-384" }, true, ["verify"]), "DataError");
  await rejectsWith(() => subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]), "SyntaxError");
});

// Keys and signatures made by another WebCrypto implementation (Node's).
const INTEROP = {"P-256SHA-256":{"jwk":{"kty":"EC","x":"tCBHARcKJBw5-mO5DUQm_Qm_8YtkDYw5Zn6SDp3GXlU","y":"QbN8ZgM0eCnAPV9A6ZzFkQsE8ztooP5d89cWBOlI8IA","crv":"P-256"},"hash":"SHA-256","sig":"2e94be1978365629e4afe5c3caddb98614e46acfb41f32c7a3f4f522bf3a66ec9cd9acbf1aef6e0ba71f5c758bea5d17bb467dfcdc3ea64df4812a331b0cbb9b"},"P-521SHA-256":{"jwk":{"kty":"EC","x":"ACEHakwa4aLYDmNpBx3dkbvtZUj2B1Wm6RbaCsYOEiVzaPJS2cWu5ABqiB6CWKnXh2_2EDIiO_-rDl6dU0f-sz02","y":"AXVRpnYJHdTdd4yDqzHbatMnM4FY-_I7Su3RbJpm7knLWncom_kMccZIiM1OzrGzffkaXcU_ocBEhYqHHlsaWDrU","crv":"P-521"},"hash":"SHA-256","sig":"00ee09c376801b706f110fc561e42b5dff24ab27280abbd90ee5ba71da1b02749a81d3de17a1fb2a9af509642ae7a2b0a05d5a2c6f4d97285b36f8a33f2d50939ec00054db8a81c7f51e97f1d5eca054af4de51f83d93e613bb99bd93fd3bbfce09a6afdaa00e72a33eca2c9b6d2aa653c9783fc9649d2edaeeb6d4a71d175a20d3c90ad"},"P-384SHA-512":{"jwk":{"kty":"EC","x":"SKoJlnPhxVVjieKdXvoYnYgll1vFEAInMdvOeCP0ibDUiWV5huCMNsKHwL-LaCGc","y":"rEJ0OY42kVVEE-F5IWSO0NiYBYrlf4mZLiVA0SyfUz9kDltPtPSrbyavq5vQG6zP","crv":"P-384"},"hash":"SHA-512","sig":"6b9409c3a0188a06fb3bcc070d38cdb154402ed6e17c508d6de1a299d9085c39bf4584f5a6a08d62f5e0f9d85c026e23921b664222d105c09a3e147262af0142b2c1b47ddaff5579d83f51954dbd9ee72e1ccf57369338090f68b93b5480c1fc"},"rsa":{"jwk":{"kty":"RSA","n":"zRTp38-MY-r3mM_5YwSKgFCYD3pU5mP2866uKesiSeh1UmAgmTn7Qpf-_Z3_EXN47t7O_RTwNFRGIQ0TFROi0APWsaO_eVcAbQvpSNerLWhBZc1xj1FWX-XTe6NVZiDGIwOopZSPIgWwgb9t2zhXVcbrYLJjxYbDCOiS8H_wg-E","e":"AQAB","d":"DWMOGTP9IBCYdPsudk43lESuiGQd4qQn3KRMbiQRKu3nqqbnudjVE_XECV4k5ki5Xi5hKJgTTfcqVMH7uuZ7PCbQdYqOdI1DxQ4pS7GOUdEK-tnznxvCZ-xKlfqzWGaKcAfKNApNXnune1WkMQaU5iVk8CHSs0OUubaYQkn0siE","p":"_kbnJQdKYUQBiQh9NT9vsJkEGyVZFlij89M5ICdYmWcUaUT8eBs2VeUXUm2bqJs0a0fFt-choXz2BQ_BCARtnQ","q":"zniry6zd866jKuQJGZ-Z2dbTGW90Yeq5RUTw7pM87gImSVm8tXEe-BWt2_mBlGgwikAO56WgSc6sXKHkDk2-FQ","dp":"cO-k8jlOu-yskeSHWAMY5GLSBAyOiPJNv5ntIW7YVyoFUswlJmNPus7JkP7FyBlHKu7xzkCGG2eZDZ51qc3tsQ","dq":"akVqB1delkJY8YaVuH6RbbJIzVq0iIGMAr9NUz6tqcOpeS-bFbi3u_FMn2B49a367e2yvkBdlB-wT61z-HjDUQ","qi":"EFcfm1wPY93cCQFVl67qtnb30KpaeQ_rXXIKDpzpNTw5nPu7B71GRe5s86mDr9GqaC19OxUefQhlLkOrP7bp0Q","alg":"RS256"},"sig":"3363218a03a61570ea87601148caeca9d90299004fd79e5c0605d68fe8c1e31e214747c00f522e41898b372dd9f4d4cba47e8df3707bfa5609c55e18a5f91b26a15387d99f227e51014b03d333747d095a636cec048a07033be0fe3ac656f3bfc9624a771429696646ac3a7ffa4ea89c8732b5ced862a4dde0d53c57c5f5fc21"}};

test("interop: verifies ECDSA (any hash with any curve) and RSA signatures made elsewhere", async () => {
  for (const [name, v] of Object.entries(INTEROP)) {
    if (name === "rsa") continue;
    const key = await subtle.importKey("jwk", v.jwk, { name: "ECDSA", namedCurve: v.jwk.crv }, true, ["verify"]);
    assert(await subtle.verify({ name: "ECDSA", hash: v.hash }, key, unhex(v.sig), enc("interop")), name);
    assert(!(await subtle.verify({ name: "ECDSA", hash: v.hash }, key, unhex(v.sig), enc("interoP"))), name);
  }
  const priv = await subtle.importKey("jwk", INTEROP.rsa.jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
  assertEquals(hex(await subtle.sign("RSASSA-PKCS1-v1_5", priv, enc("interop"))), INTEROP.rsa.sig, "PKCS#1 v1.5 is deterministic");
  const { privateKey, publicKey } = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-521" }, false, ["sign", "verify"]);
  const sig = await subtle.sign({ name: "ECDSA", hash: "SHA-1" }, privateKey, enc("x"));
  assert(await subtle.verify({ name: "ECDSA", hash: "SHA-1" }, publicKey, sig, enc("x")));
});

test("ECDH: both sides derive the same secret; deriveKey", async () => {
  const alg = { name: "ECDH", namedCurve: "P-256" };
  const a = await subtle.generateKey(alg, true, ["deriveBits", "deriveKey"]);
  const b = await subtle.generateKey(alg, true, ["deriveBits"]);
  assertEquals(a.publicKey.usages, []);
  const s1 = await subtle.deriveBits({ name: "ECDH", public: b.publicKey }, a.privateKey, 256);
  const s2 = await subtle.deriveBits({ name: "ECDH", public: a.publicKey }, b.privateKey, 256);
  assertEquals(hex(s1), hex(s2));
  assertEquals(hex(await subtle.deriveBits({ name: "ECDH", public: b.publicKey }, a.privateKey, 128)), hex(s1).slice(0, 32));
  assertEquals((await subtle.deriveBits({ name: "ECDH", public: b.publicKey }, a.privateKey, null)).byteLength, 32);
  await rejectsWith(() => subtle.deriveBits({ name: "ECDH", public: b.publicKey }, a.privateKey, 512), "OperationError");
  const k = await subtle.deriveKey({ name: "ECDH", public: b.publicKey }, a.privateKey, { name: "AES-GCM", length: 128 }, true, ["encrypt"]);
  assertEquals(hex(await subtle.exportKey("raw", k)), hex(s1).slice(0, 32));
  const other = await subtle.generateKey({ name: "ECDH", namedCurve: "P-384" }, true, ["deriveBits"]);
  await rejectsWith(() => subtle.deriveBits({ name: "ECDH", public: other.publicKey }, a.privateKey, 256), "InvalidAccessError");
  await rejectsWith(() => subtle.deriveBits({ name: "ECDH", public: a.privateKey }, a.privateKey, 256), "InvalidAccessError");
  const p384 = await subtle.generateKey({ name: "ECDH", namedCurve: "P-521" }, true, ["deriveBits"]);
  assertEquals((await subtle.deriveBits({ name: "ECDH", public: p384.publicKey }, p384.privateKey, null)).byteLength, 66);
});

test("Ed25519: RFC 8032 test 1, formats, NODE-ED25519", async () => {
  const d = unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const x = unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const expected =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
  const priv = await subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: b64url(x), d: b64url(d) }, "Ed25519", true, ["sign"]);
  assertEquals(priv.algorithm, { name: "Ed25519" });
  assertEquals(hex(await subtle.sign("Ed25519", priv, new Uint8Array(0))), expected);
  const pub = await subtle.importKey("raw", x, "Ed25519", true, ["verify"]);
  assert(await subtle.verify("Ed25519", pub, unhex(expected), new Uint8Array(0)));
  assert(!(await subtle.verify("Ed25519", pub, unhex(expected), new Uint8Array(1))));
  assertEquals(hex(await subtle.exportKey("raw", pub)), hex(x));
  const pkcs8 = await subtle.exportKey("pkcs8", priv);
  assertEquals(hex(pkcs8), "302e020100300506032b657004220420" + hex(d));
  const spki = await subtle.exportKey("spki", pub);
  assertEquals(hex(spki), "302a300506032b6570032100" + hex(x));
  const jwk = await subtle.exportKey("jwk", priv);
  assertEquals([jwk.kty, jwk.crv, jwk.x, jwk.d], ["OKP", "Ed25519", b64url(x), b64url(d)]);
  const again = await subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  assertEquals(hex(await subtle.sign("Ed25519", again, new Uint8Array(0))), expected);
  const { privateKey, publicKey } = await subtle.generateKey("Ed25519", false, ["sign", "verify"]);
  assertEquals(publicKey.extractable, true);
  const sig = await subtle.sign("Ed25519", privateKey, enc("x"));
  assert(await subtle.verify("Ed25519", publicKey, sig, enc("x")));
  const node = await subtle.importKey("raw", x, { name: "NODE-ED25519", namedCurve: "NODE-ED25519" }, true, ["verify"]);
  assertEquals(node.algorithm, { name: "NODE-ED25519", namedCurve: "NODE-ED25519" });
  assert(await subtle.verify({ name: "NODE-ED25519" }, node, unhex(expected), new Uint8Array(0)));
  await rejectsWith(() => subtle.importKey("raw", new Uint8Array(31), "Ed25519", true, ["verify"]), "DataError");
  await rejectsWith(
    () => subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: b64url(x), d: b64url(new Uint8Array(32)) }, "Ed25519", true, ["sign"]),
    "DataError",
  );
  await rejectsWith(() => subtle.verify("Ed25519", priv, unhex(expected), new Uint8Array(0)), "InvalidAccessError");
});

test("X25519: RFC 7748 shared secret, generateKey", async () => {
  const alicePriv = unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const alicePub = unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const bobPub = unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const a = await subtle.importKey("jwk", { kty: "OKP", crv: "X25519", x: b64url(alicePub), d: b64url(alicePriv) }, "X25519", true, ["deriveBits"]);
  const b = await subtle.importKey("raw", bobPub, "X25519", true, []);
  const shared = await subtle.deriveBits({ name: "X25519", public: b }, a, 256);
  assertEquals(hex(shared), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  const k1 = await subtle.generateKey("X25519", true, ["deriveBits"]);
  const k2 = await subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
  assertEquals(
    hex(await subtle.deriveBits({ name: "X25519", public: k2.publicKey }, k1.privateKey, 256)),
    hex(await subtle.deriveBits({ name: "X25519", public: k1.publicKey }, k2.privateKey, 256)),
  );
  const pkcs8 = await subtle.exportKey("pkcs8", k1.privateKey);
  const back = await subtle.importKey("pkcs8", pkcs8, "X25519", true, ["deriveBits"]);
  assertEquals((await subtle.exportKey("jwk", back)).d, (await subtle.exportKey("jwk", k1.privateKey)).d);
  const zero = await subtle.importKey("raw", new Uint8Array(32), "X25519", true, []);
  await rejectsWith(() => subtle.deriveBits({ name: "X25519", public: zero }, a, 256), "OperationError");
});

test("RSA: PKCS1-v1_5, PSS and OAEP keys through every format", async () => {
  const e = new Uint8Array([1, 0, 1]);
  const data = enc("the message");
  for (const [name, usages, use] of [
    ["RSASSA-PKCS1-v1_5", ["sign", "verify"], "sig"],
    ["RSA-PSS", ["sign", "verify"], "sig"],
    ["RSA-OAEP", ["encrypt", "decrypt", "wrapKey", "unwrapKey"], "enc"],
  ]) {
    const alg = { name, modulusLength: 1024, publicExponent: e, hash: "SHA-256" };
    const { privateKey, publicKey } = await subtle.generateKey(alg, true, usages);
    assertEquals(publicKey.algorithm.name, name);
    assertEquals(publicKey.algorithm.modulusLength, 1024);
    assertEquals([...publicKey.algorithm.publicExponent], [1, 0, 1]);
    assertEquals(publicKey.algorithm.hash, { name: "SHA-256" });
    const params = { name, saltLength: 32, label: enc("label") };
    const exercise = async (priv, pub) => {
      if (use === "sig") {
        const sig = await subtle.sign(params, priv, data);
        assertEquals(sig.byteLength, 128);
        assert(await subtle.verify(params, pub, sig, data), name);
        assert(!(await subtle.verify(params, pub, sig, enc("other"))), name);
      } else {
        const ct = await subtle.encrypt(params, pub, data);
        assertEquals(hex(await subtle.decrypt(params, priv, ct)), hex(data));
        await rejectsWith(() => subtle.decrypt({ name }, priv, ct), "OperationError");
      }
    };
    await exercise(privateKey, publicKey);
    const spki = await subtle.exportKey("spki", publicKey);
    const pkcs8 = await subtle.exportKey("pkcs8", privateKey);
    const jwkPub = await subtle.exportKey("jwk", publicKey);
    const jwkPriv = await subtle.exportKey("jwk", privateKey);
    assertEquals(jwkPub.kty, "RSA");
    assertEquals(jwkPub.e, "AQAB");
    assertEquals(jwkPub.alg, { "RSASSA-PKCS1-v1_5": "RS256", "RSA-PSS": "PS256", "RSA-OAEP": "RSA-OAEP-256" }[name]);
    for (const m of ["d", "p", "q", "dp", "dq", "qi"]) assert(typeof jwkPriv[m] === "string", m);
    const privUsages = usages.filter((u) => ["sign", "decrypt", "unwrapKey"].includes(u));
    const pubUsages = usages.filter((u) => !privUsages.includes(u));
    const priv2 = await subtle.importKey("pkcs8", pkcs8, { name, hash: "SHA-256" }, true, privUsages);
    const pub2 = await subtle.importKey("spki", spki, { name, hash: "SHA-256" }, true, pubUsages);
    assertEquals(pub2.algorithm.modulusLength, 1024);
    await exercise(priv2, pub2);
    const priv3 = await subtle.importKey("jwk", jwkPriv, { name, hash: "SHA-256" }, true, privUsages);
    const pub3 = await subtle.importKey("jwk", jwkPub, { name, hash: "SHA-256" }, true, pubUsages);
    await exercise(priv3, pub3);
    assertEquals(hex(await subtle.exportKey("pkcs8", priv3)), hex(pkcs8));
    await rejectsWith(() => subtle.importKey("jwk", jwkPub, { name, hash: "SHA-512" }, true, pubUsages), "DataError");
    // Without the CRT members the primes are recovered from d.
    const { p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...bare } = jwkPriv;
    const priv4 = await subtle.importKey("jwk", bare, { name, hash: "SHA-256" }, true, privUsages);
    const recovered = await subtle.exportKey("jwk", priv4);
    assertEquals([recovered.p, recovered.q].sort(), [jwkPriv.p, jwkPriv.q].sort(), "same primes, in either order");
    await exercise(priv4, pub3);
    await rejectsWith(() => subtle.importKey("jwk", { ...bare, p: jwkPriv.p }, { name, hash: "SHA-256" }, true, privUsages), "DataError");
    await rejectsWith(() => subtle.importKey("jwk", { ...jwkPriv, n: jwkPub.n.slice(4) }, { name, hash: "SHA-256" }, true, privUsages), "DataError");
    await rejectsWith(() => subtle.exportKey("raw", publicKey), "NotSupportedError");
  }
  await rejectsWith(
    () => subtle.generateKey({ name: "RSA-PSS", modulusLength: 1024, publicExponent: new Uint8Array([7]), hash: "SHA-256" }, true, ["sign"]),
    "OperationError",
  );
  await rejectsWith(() => subtle.importKey("spki", enc("junk"), { name: "RSA-OAEP", hash: "SHA-1" }, true, ["encrypt"]), "DataError");
});

test("RSA-OAEP wraps an AES key; a 2048-bit key generates", async () => {
  const alg = { name: "RSA-OAEP", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-1" };
  const { privateKey, publicKey } = await subtle.generateKey(alg, false, ["wrapKey", "unwrapKey"]);
  assertEquals(publicKey.usages, ["wrapKey"]);
  assertEquals(privateKey.usages, ["unwrapKey"]);
  const aes = await subtle.generateKey({ name: "AES-CBC", length: 256 }, true, ["encrypt", "decrypt"]);
  const wrapped = await subtle.wrapKey("raw", aes, publicKey, { name: "RSA-OAEP" });
  assertEquals(wrapped.byteLength, 256);
  const back = await subtle.unwrapKey("raw", wrapped, privateKey, "RSA-OAEP", "AES-CBC", true, ["decrypt"]);
  assertEquals(hex(await subtle.exportKey("raw", back)), hex(await subtle.exportKey("raw", aes)));
});

test("timingSafeEqual, CryptoKey attributes and enumeration", async () => {
  assertEquals(subtle.timingSafeEqual(enc("abc"), enc("abc")), true);
  assertEquals(subtle.timingSafeEqual(enc("abc").buffer, enc("abd")), false);
  assertThrows(() => subtle.timingSafeEqual(enc("abc"), enc("ab")), TypeError);
  assertThrows(() => subtle.timingSafeEqual("abc", enc("abc")), TypeError);
  const key = await subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["decrypt", "encrypt", "encrypt"]);
  assertEquals(key.usages, ["encrypt", "decrypt"]);
  const keys = [];
  for (const k in key) keys.push(k);
  assertEquals(keys.sort(), ["algorithm", "extractable", "type", "usages"]);
  assert(!Object.prototype.hasOwnProperty.call(key, "type"));
  assertThrows(() => Object.getOwnPropertyDescriptor(CryptoKey.prototype, "type").get.call({}), TypeError);
  const methods = [];
  for (const k in subtle) methods.push(k);
  for (const m of ["digest", "encrypt", "decrypt", "sign", "verify", "generateKey", "deriveKey", "deriveBits", "importKey", "exportKey", "wrapKey", "unwrapKey"]) {
    assert(methods.includes(m), m);
  }
  assert(subtle.digest("SHA-256", "nope") instanceof Promise, "argument errors reject rather than throw");
  await rejectsWith(() => subtle.digest("SHA-256", "nope"), "TypeError");
});

test("crypto.DigestStream hashes what is written; abort rejects digest", async () => {
  const ds = new crypto.DigestStream("SHA-256");
  assert(ds instanceof WritableStream);
  const w = ds.getWriter();
  await w.write(enc("a"));
  await w.write("b");
  await w.write(enc("c").buffer);
  await w.close();
  assertEquals(hex(await ds.digest), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const md5 = new crypto.DigestStream({ name: "MD5" });
  await new Response("abc").body.pipeTo(md5);
  assertEquals(hex(await md5.digest), "900150983cd24fb0d6963f7d28e17f72");
  const aborted = new crypto.DigestStream("SHA-1");
  await aborted.abort(new Error("stop"));
  await assertRejects(() => aborted.digest, Error, "stop");
  assertThrows(() => new crypto.DigestStream("SHA-999"), DOMException);
  const bad = new crypto.DigestStream("SHA-1").getWriter();
  await assertRejects(() => bad.write(42), TypeError);
});

export default suite();
