"use strict";
// crypto.subtle (Web Crypto) as workerd has it: SubtleCrypto, CryptoKey and
// workerd's timingSafeEqual. This file normalises algorithms, checks usages
// and converts JWKs; the `crypto*` ops compute (src/crypto.rs). A key's
// material lives in a private slot: raw bytes for secret keys, PKCS#8 DER
// for private keys, SPKI DER for public keys.
((globalThis, internals) => {
  const {
    ArrayBuffer,
    ArrayBufferIsView,
    ArrayFrom,
    ArrayIsArray,
    FinalizationRegistry,
    JSON,
    JSONParse,
    JSONStringify,
    MathCeil,
    MathFloor,
    ObjectAssign,
    ObjectDefineProperty,
    Promise,
    SafeMap,
    SafeSet,
    SafeWeakMap,
    SharedArrayBuffer,
    Symbol,
    SymbolIterator,
    SyntaxError,
    TypeError,
    Uint8Array,
    ArrayAppend,
    ArrayFromIndexed,
    ArrayPrototypeIncludes,
    ArrayBufferPrototypeGetByteLength,
    ArrayBufferPrototypeSlice,
    DataViewPrototypeGetBuffer,
    DataViewPrototypeGetByteLength,
    DataViewPrototypeGetByteOffset,
    PromisePrototypeThen,
    ReflectApply,
    SharedArrayBufferPrototypeGetByteLength,
    SharedArrayBufferPrototypeSlice,
    StringPrototypeSlice,
    StringPrototypeToUpperCase,
    TypedArrayPrototypeGetBuffer,
    TypedArrayPrototypeGetByteLength,
    TypedArrayPrototypeGetByteOffset,
    TypedArrayPrototypeGetLength,
    TypedArrayPrototypeGetSymbolToStringTag,
    TypedArrayPrototypeSlice,
  } = internals.primordials;
  const { TextEncoder, TextDecoder } = internals.encoding;
  const WritableStream = internals.loadStreams().WritableStream;
  // Array helpers by index: the runtime's own lists never meet Array.prototype.
  const includes = (list, v) => ArrayPrototypeIncludes(list, v);
  function filter(list, keep) {
    const out = [];
    for (let i = 0; i < list.length; i++) if (keep(list[i])) ArrayAppend(out, list[i]);
    return out;
  }
  function concat(a, b) {
    const out = ArrayFromIndexed(a);
    for (let i = 0; i < b.length; i++) ArrayAppend(out, b[i]);
    return out;
  }
  const len = (u8) => TypedArrayPrototypeGetLength(u8);
  const ops = internals.ops;
  const webidl = internals.webidl;
  const DOMEx = internals.makeDOMException;

  // Errors the ops throw carry the DOMException name in `name`.
  const OP_ERRORS = new SafeSet(["NotSupportedError", "DataError", "OperationError", "InvalidAccessError"]);
  function op(name, ...args) {
    try {
      return ReflectApply(ops[name], ops, args);
    } catch (e) {
      if (e && OP_ERRORS.has(e.name) && !(e instanceof globalThis.DOMException)) throw DOMEx(e.message, e.name);
      throw e;
    }
  }

  const notSupported = (msg) => DOMEx(msg, "NotSupportedError");
  const dataError = (msg) => DOMEx(msg, "DataError");
  const operationError = (msg) => DOMEx(msg, "OperationError");
  const invalidAccess = (msg) => DOMEx(msg, "InvalidAccessError");
  const syntaxError = (msg) => DOMEx(msg, "SyntaxError");

  // ---- conversions --------------------------------------------------------
  /** A copy of a BufferSource's bytes (Web IDL's "get a copy of the bytes"). */
  // Brand checks and captured accessors throughout: a replaced `slice`,
  // `byteLength` or Symbol.hasInstance cannot change what the ops get.
  function isArrayBuffer(v) {
    try {
      ArrayBufferPrototypeGetByteLength(v);
      return true;
    } catch {
      return false;
    }
  }
  function isSharedArrayBuffer(v) {
    if (SharedArrayBufferPrototypeGetByteLength === undefined) return false;
    try {
      SharedArrayBufferPrototypeGetByteLength(v);
      return true;
    } catch {
      return false;
    }
  }
  const isUint8Array = (v) => ArrayBufferIsView(v) && TypedArrayPrototypeGetSymbolToStringTag(v) === "Uint8Array";
  function viewBytes(v) {
    if (TypedArrayPrototypeGetSymbolToStringTag(v) !== undefined) {
      return new Uint8Array(TypedArrayPrototypeGetBuffer(v), TypedArrayPrototypeGetByteOffset(v), TypedArrayPrototypeGetByteLength(v));
    }
    return new Uint8Array(DataViewPrototypeGetBuffer(v), DataViewPrototypeGetByteOffset(v), DataViewPrototypeGetByteLength(v));
  }
  function toBytes(v, what) {
    if (isArrayBuffer(v)) return new Uint8Array(ArrayBufferPrototypeSlice(v, 0));
    if (isSharedArrayBuffer(v)) return new Uint8Array(SharedArrayBufferPrototypeSlice(v, 0));
    if (ArrayBufferIsView(v)) return TypedArrayPrototypeSlice(viewBytes(v));
    throw new TypeError(`${what} must be an ArrayBuffer or ArrayBufferView.`);
  }
  const toBuffer = (u8) => {
    const buffer = TypedArrayPrototypeGetBuffer(u8);
    if (TypedArrayPrototypeGetByteOffset(u8) === 0 && TypedArrayPrototypeGetByteLength(u8) === ArrayBufferPrototypeGetByteLength(buffer)) {
      return buffer;
    }
    return TypedArrayPrototypeGetBuffer(TypedArrayPrototypeSlice(u8));
  };

  const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const B64URL_INDEX = new SafeMap();
  for (let i = 0; i < B64URL.length; i++) B64URL_INDEX.set(B64URL[i], i);
  function b64urlEncode(bytes) {
    let out = "";
    let i = 0;
    const n_ = len(bytes);
    for (; i + 2 < n_; i += 3) {
      const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      out += B64URL[n >> 18] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63] + B64URL[n & 63];
    }
    if (i + 1 === n_) {
      const n = bytes[i] << 16;
      out += B64URL[n >> 18] + B64URL[(n >> 12) & 63];
    } else if (i + 2 === n_) {
      const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
      out += B64URL[n >> 18] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63];
    }
    return out;
  }
  function b64urlDecode(s, member) {
    if (typeof s !== "string") throw dataError(`Invalid JWK: "${member}" must be a base64url string.`);
    // Lenient like workerd's decoder: padding and standard base64 are accepted.
    let end = s.length;
    while (end > 0 && s[end - 1] === "=") end--;
    let t = "";
    for (let i = 0; i < end; i++) t += s[i] === "+" ? "-" : s[i] === "/" ? "_" : s[i];
    s = t;
    if (s.length % 4 === 1) throw dataError(`Invalid JWK: "${member}" is not valid base64url.`);
    const out = new Uint8Array(MathFloor((s.length * 3) / 4));
    let bits = 0;
    let acc = 0;
    let j = 0;
    for (let i = 0; i < s.length; i++) {
      const v = B64URL_INDEX.get(s[i]);
      if (v === undefined) throw dataError(`Invalid JWK: "${member}" is not valid base64url.`);
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[j++] = (acc >> bits) & 0xff;
      }
    }
    return out;
  }

  // ---- algorithm normalisation -------------------------------------------
  const HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
  const ALGORITHMS = [
    "SHA-1", "SHA-256", "SHA-384", "SHA-512", "MD5", "HMAC", "AES-GCM", "AES-CBC", "AES-CTR", "AES-KW", "ECDSA", "ECDH",
    "RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP", "Ed25519", "X25519", "NODE-ED25519", "HKDF", "PBKDF2",
  ];
  const CANONICAL = new SafeMap();
  for (let i = 0; i < ALGORITHMS.length; i++) CANONICAL.set(StringPrototypeToUpperCase(ALGORITHMS[i]), ALGORITHMS[i]);
  // The members of each algorithm's parameter dictionaries. A dictionary is
  // read once, in Web IDL's order (sorted), into a null-prototype record,
  // so a getter cannot answer one value to a check and another to the op.
  const MEMBERS = {
    __proto__: null,
    HMAC: ["hash", "length"],
    "AES-GCM": ["additionalData", "iv", "length", "tagLength"],
    "AES-CBC": ["iv", "length"],
    "AES-CTR": ["counter", "length"],
    "AES-KW": ["length"],
    HKDF: ["hash", "info", "salt"],
    PBKDF2: ["hash", "iterations", "salt"],
    ECDSA: ["hash", "namedCurve"],
    ECDH: ["namedCurve", "public"],
    Ed25519: [],
    X25519: ["public"],
    "NODE-ED25519": ["namedCurve"],
    "RSASSA-PKCS1-v1_5": ["hash", "modulusLength", "publicExponent"],
    "RSA-PSS": ["hash", "modulusLength", "publicExponent", "saltLength"],
    "RSA-OAEP": ["hash", "label", "modulusLength", "publicExponent"],
  };

  /**
   * `{name, ...}` with `name` canonical; throws NotSupportedError for unknown
   * names, worded as workerd does for `what` ("digest", "import", "generate").
   */
  function normalize(alg, what = undefined) {
    let given;
    let source = null;
    if (typeof alg === "string") given = alg;
    else if (webidl.isObject(alg)) {
      given = alg.name;
      if (given === undefined) throw new TypeError("Algorithm: name: Missing required property.");
      source = alg;
    } else {
      given = webidl.toDOMString(alg);
    }
    const raw = webidl.toDOMString(given);
    const name = CANONICAL.get(StringPrototypeToUpperCase(raw));
    if (name === undefined) {
      if (what === "digest") throw notSupported("Unrecognized or unimplemented digest algorithm requested.");
      if (what === "import") throw notSupported(`Unrecognized key import algorithm "${raw}" requested.`);
      if (what === "generate") throw notSupported(`Unrecognized key generation algorithm "${raw}" requested.`);
      throw notSupported(`Unrecognized or unimplemented algorithm "${raw}" requested.`);
    }
    const dict = { __proto__: null, name: raw };
    const members = MEMBERS[name];
    if (source !== null && members !== undefined) {
      for (let i = 0; i < members.length; i++) dict[members[i]] = source[members[i]];
    }
    return { __proto__: null, dict, name };
  }

  function hashOf(v, what = "hash") {
    if (v === undefined) throw new TypeError(`Missing field "${what}" in "algorithm".`);
    const { name } = normalize(v, "digest");
    if (!includes(HASHES, name)) throw notSupported(`Unrecognized or unimplemented digest algorithm requested.`);
    return name;
  }

  // ---- CryptoKey ------------------------------------------------------------
  const USAGES = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];
  const slots = new SafeWeakMap();
  const TOKEN = Symbol("CryptoKey");

  function slot(key) {
    const s = slots.get(key);
    if (s === undefined) throw new TypeError("Illegal invocation");
    return s;
  }

  class CryptoKey {
    constructor(token = undefined) {
      if (token !== TOKEN) throw new TypeError("Illegal constructor");
    }
    get type() {
      return slot(this).type;
    }
    get extractable() {
      return slot(this).extractable;
    }
    get algorithm() {
      return slot(this).algorithm;
    }
    get usages() {
      return slot(this).usagesList;
    }
  }
  webidl.defineToStringTag(CryptoKey, "CryptoKey");
  webidl.makeEnumerable(CryptoKey.prototype, ["type", "extractable", "algorithm", "usages"]);

  /** The given usages as a validated list in canonical order. */
  function toUsages(list) {
    if (list === null || typeof list !== "object" || typeof list[SymbolIterator] !== "function") {
      throw new TypeError("Failed to execute on 'SubtleCrypto': keyUsages is not a sequence.");
    }
    const seen = new SafeSet();
    // A sequence: the script's own iterator, as Web IDL converts it.
    for (const u of list) {
      const s = webidl.toDOMString(u);
      if (!includes(USAGES, s)) {
        throw new TypeError(`'${s}' is not a valid enum value of type KeyUsage.`);
      }
      seen.add(s);
    }
    return filter(USAGES, (u) => seen.has(u));
  }

  /**
   * A new key. `info` carries what the ops need: `kind` ("secret", "EC",
   * "OKP", "RSA"), `curve`, `hash`.
   */
  function makeKey(type, extractable, algorithm, usages, material, info) {
    const key = new CryptoKey(TOKEN);
    slots.set(key, {
      __proto__: null,
      type, extractable: !!extractable, algorithm, usages, usagesList: ArrayFromIndexed(usages), material, info,
    });
    return key;
  }

  /** `verb`: "generate", "import secret", "import public" or "import private". */
  function checkUsages(usages, allowed, algName, verb) {
    for (let i = 0; i < usages.length; i++) {
      const u = usages[i];
      if (!includes(allowed, u)) throw syntaxError(`Attempt to ${verb} ${algName} key with invalid usage "${u}".`);
    }
  }
  const NO_USAGES = "Secret/private CryptoKeys must have at least one usage.";

  /** Common JWK checks: kty, use, key_ops, ext (RFC 7517, WebCrypto 14.3.9). */
  function checkJwk(jwk, kty, usages, extractable, use, algName) {
    if (!webidl.isObject(jwk)) throw new TypeError("JSON Web Key must be an object.");
    if (jwk.kty !== kty) throw dataError(`JSON Web Key "kty" must be "${kty}".`);
    if (jwk.use !== undefined && usages.length > 0 && jwk.use !== use) {
      throw dataError(`Asymmetric "use" of "${jwk.use}" is not valid for this key; expected "${use}".`);
    }
    if (jwk.key_ops !== undefined) {
      if (!ArrayIsArray(jwk.key_ops)) throw dataError('JSON Web Key "key_ops" must be an array.');
      for (let i = 0; i < usages.length; i++) {
        if (!includes(jwk.key_ops, usages[i])) throw dataError("All specified key usages must be present in the JSON Web Key's \"key_ops\" member.");
      }
    }
    if (jwk.ext === false && extractable) {
      throw dataError(`JWK ext field for "${algName}" is set to false but extractable is true`);
    }
  }

  // An exported JWK as workerd makes it: every member of its JsonWebKey
  // dictionary, in declaration order, the absent ones undefined (so
  // Object.keys and JSON.stringify match byte for byte). `m` is a
  // null-prototype record of the members present.
  function jwkObject(m) {
    return {
      kty: m.kty, use: m.use, key_ops: m.key_ops, alg: m.alg, ext: m.ext, crv: m.crv, x: m.x, y: m.y, d: m.d,
      n: m.n, e: m.e, p: m.p, q: m.q, dp: m.dp, dq: m.dq, qi: m.qi, oth: m.oth, k: m.k, pub: m.pub, priv: m.priv,
    };
  }

  // ---- secret-key algorithms -------------------------------------------------
  const HASH_BYTES = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };
  const BLOCK_BITS = { "SHA-1": 512, "SHA-256": 512, "SHA-384": 1024, "SHA-512": 1024 };
  const HMAC_JWK_ALG = { "SHA-1": "HS1", "SHA-256": "HS256", "SHA-384": "HS384", "SHA-512": "HS512" };

  function importRawOrJwkSecret(algName, format, data, extractable, usages, jwkAlg) {
    if (format === "raw") return toBytes(data, "keyData");
    if (format === "jwk") {
      checkJwk(data, "oct", usages, extractable, algName === "HMAC" ? "sig" : "enc", algName);
      const k = b64urlDecode(data.k, "k");
      if (data.alg !== undefined && jwkAlg !== undefined && data.alg !== jwkAlg(k)) {
        throw dataError(`JSON Web Key "alg" "${data.alg}" does not match the key.`);
      }
      return k;
    }
    throw notSupported(`Unrecognized key import format "${format}".`);
  }

  function exportSecret(format, s, jwkAlg) {
    if (format === "raw") return toBuffer(TypedArrayPrototypeSlice(s.material));
    if (format === "jwk") {
      return jwkObject({
        __proto__: null, kty: "oct", key_ops: ArrayFromIndexed(s.usages), alg: jwkAlg, ext: s.extractable,
        k: b64urlEncode(s.material),
      });
    }
    throw notSupported(`Unsupported export format "${format}" for a secret key.`);
  }

  const HMAC = {
    __proto__: null,
    usages: ["sign", "verify"],
    keyLength(p) {
      const hash = hashOf(p.hash);
      if (p.length === undefined) return BLOCK_BITS[hash];
      const bits = webidl.toEnforcedUnsignedLongLong(p.length, "length");
      if (bits === 0) throw operationError("HMAC key length must be non-zero.");
      return bits;
    },
    make(p, bytes, extractable, usages, length, verb) {
      const hash = hashOf(p.hash);
      checkUsages(usages, HMAC.usages, "HMAC", verb);
      if (usages.length === 0) throw syntaxError(NO_USAGES);
      return makeKey("secret", extractable, { name: "HMAC", hash: { name: hash }, length }, usages, bytes, { __proto__: null, kind: "secret", hash });
    },
    generate(p, extractable, usages) {
      const bits = HMAC.keyLength(p);
      if (bits % 8 !== 0) throw notSupported("HMAC key lengths that are not a multiple of 8 are not supported.");
      return HMAC.make(p, ops.randomBytes(bits / 8), extractable, usages, bits, "generate");
    },
    import(format, data, p, extractable, usages) {
      const hash = hashOf(p.hash);
      const k = importRawOrJwkSecret("HMAC", format, data, extractable, usages, () => HMAC_JWK_ALG[hash]);
      if (len(k) === 0) throw dataError("HMAC key data must not be empty.");
      let length = len(k) * 8;
      if (p.length !== undefined) {
        const want = webidl.toEnforcedUnsignedLongLong(p.length, "length");
        if (want > length || want <= length - 8) throw dataError(`Invalid HMAC key length ${want} for ${len(k)} bytes of key data.`);
        length = want;
      }
      return HMAC.make(p, k, extractable, usages, length, "import secret");
    },
    export(format, s) {
      return exportSecret(format, s, HMAC_JWK_ALG[s.info.hash]);
    },
    sign(p, s, data) {
      return toBuffer(op("cryptoHmac", s.info.hash, s.material, data));
    },
    verify(p, s, sig, data) {
      const mac = op("cryptoHmac", s.info.hash, s.material, data);
      return timingSafeEqualBytes(mac, sig);
    },
  };

  function timingSafeEqualBytes(a, b) {
    const n = len(a);
    if (n !== len(b)) return false;
    let diff = 0;
    for (let i = 0; i < n; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  function aesAlgorithm(name) {
    const suffix = StringPrototypeSlice(name, 4); // GCM, CBC, CTR, KW
    const usages = name === "AES-KW" ? ["wrapKey", "unwrapKey"] : ["encrypt", "decrypt", "wrapKey", "unwrapKey"];
    const jwkAlg = (bytes) => `A${bytes * 8}${suffix}`;
    const make = (bytes, extractable, usages2, verb) => {
      checkUsages(usages2, usages, name, verb);
      if (usages2.length === 0) throw syntaxError(NO_USAGES);
      return makeKey("secret", extractable, { name, length: len(bytes) * 8 }, usages2, bytes, { __proto__: null, kind: "secret" });
    };
    const run = (encrypt, p, s, data) => {
      let iv;
      let n = 0;
      let aad;
      if (name === "AES-GCM") {
        iv = toBytes(p.iv, "iv");
        if (len(iv) === 0) throw operationError("AES-GCM IV must not be empty.");
        aad = p.additionalData === undefined ? undefined : toBytes(p.additionalData, "additionalData");
        n = p.tagLength === undefined ? 128 : webidl.toEnforcedUnsignedLongLong(p.tagLength, "tagLength");
        if (!includes([32, 64, 96, 104, 112, 120, 128], n)) throw operationError(`Invalid AES-GCM tag length ${n}.`);
        if (!encrypt && len(data) < n / 8) throw operationError("Ciphertext is shorter than the authentication tag.");
      } else if (name === "AES-CBC") {
        iv = toBytes(p.iv, "iv");
        if (len(iv) !== 16) throw operationError("AES-CBC IV must be 16 bytes long.");
      } else if (name === "AES-CTR") {
        iv = toBytes(p.counter, "counter");
        if (len(iv) !== 16) throw operationError("Counter must have length of 16 bytes.");
        n = webidl.toEnforcedUnsignedLongLong(p.length, "length");
        if (n === 0 || n > 128) throw operationError(`Invalid counter of ${n} bits length provided.`);
      }
      return toBuffer(op("cryptoAes", name, encrypt, s.material, data, iv, n, aad));
    };
    const algo = {
      __proto__: null,
      usages,
      keyLength(p) {
        if (p.length === undefined) throw new TypeError('Missing field "length" in "derivedKeyParams".');
        const bits = webidl.toEnforcedUnsignedLongLong(p.length, "length");
        if (!includes([128, 192, 256], bits)) {
          throw operationError(`Derived AES key must be 128, 192, or 256 bits in length but provided ${bits}.`);
        }
        return bits;
      },
      generate(p, extractable, usages2) {
        const bits = p.length === undefined ? undefined : webidl.toEnforcedUnsignedLongLong(p.length, "length");
        if (bits === undefined) throw new TypeError('Missing field "length" in "algorithm".');
        if (!includes([128, 192, 256], bits)) throw operationError("AES key length must be 128, 192, or 256 bits.");
        return make(ops.randomBytes(bits / 8), extractable, usages2, "generate");
      },
      import(format, data, p, extractable, usages2) {
        const k = importRawOrJwkSecret(name, format, data, extractable, usages2, (bytes) => jwkAlg(len(bytes)));
        if (!includes([16, 24, 32], len(k))) throw dataError(`Imported AES key length must be 128, 192, or 256 bits but provided ${len(k) * 8}.`);
        return make(k, extractable, usages2, "import secret");
      },
      export(format, s) {
        return exportSecret(format, s, jwkAlg(len(s.material)));
      },
    };
    if (name === "AES-KW") {
      algo.wrap = (p, s, data) => toBuffer(op("cryptoAes", name, true, s.material, data));
      algo.unwrap = (p, s, data) => toBuffer(op("cryptoAes", name, false, s.material, data));
    } else {
      algo.encrypt = (p, s, data) => run(true, p, s, data);
      algo.decrypt = (p, s, data) => run(false, p, s, data);
    }
    return algo;
  }

  function kdfAlgorithm(name) {
    const algo = {
      __proto__: null,
      usages: ["deriveKey", "deriveBits"],
      keyLength() {
        return null;
      },
      import(format, data, p, extractable, usages) {
        if (format !== "raw") throw notSupported(`${name} keys can only be imported as "raw".`);
        if (extractable) throw syntaxError(`${name} keys cannot be extractable.`);
        checkUsages(usages, algo.usages, name, "import secret");
        if (usages.length === 0) throw syntaxError(NO_USAGES);
        return makeKey("secret", false, { name }, usages, toBytes(data, "keyData"), { __proto__: null, kind: "secret" });
      },
      deriveBits(p, s, length) {
        if (length === null) throw operationError(`${name} cannot derive a key with null length.`);
        if (length % 8 !== 0) throw operationError(`${name} requires a derived key length that is a multiple of eight.`);
        const hash = hashOf(p.hash);
        const salt = toBytes(p.salt, "salt");
        // The output is computed in one uninterruptible native call, so it is
        // bounded: HKDF's own limit (255 hash blocks), applied to PBKDF2 too.
        const max = 255 * HASH_BYTES[hash] * 8;
        if (length > max) throw operationError(`${name} cannot derive more than ${max} bits with ${hash} (requested ${length}).`);
        if (name === "HKDF") {
          return toBuffer(op("cryptoHkdf", hash, s.material, salt, toBytes(p.info, "info"), length / 8));
        }
        const iterations = webidl.toEnforcedUnsignedLongLong(p.iterations, "iterations");
        if (iterations === 0) throw operationError(`PBKDF2 requires a positive iteration count (requested ${iterations}).`);
        if (iterations > 100000) {
          throw notSupported(`Pbkdf2 failed: iteration counts above 100000 are not supported (requested ${iterations}).`);
        }
        return toBuffer(op("cryptoPbkdf2", hash, s.material, salt, iterations, length / 8));
      },
    };
    return algo;
  }

  // ---- asymmetric algorithms -------------------------------------------------
  const EC_CURVES = ["P-256", "P-384", "P-521"];
  const ECDSA_JWK_ALG = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" };
  const RSA_JWK_ALG = {
    "RSASSA-PKCS1-v1_5": { "SHA-1": "RS1", "SHA-256": "RS256", "SHA-384": "RS384", "SHA-512": "RS512" },
    "RSA-PSS": { "SHA-1": "PS1", "SHA-256": "PS256", "SHA-384": "PS384", "SHA-512": "PS512" },
    "RSA-OAEP": { "SHA-1": "RSA-OAEP", "SHA-256": "RSA-OAEP-256", "SHA-384": "RSA-OAEP-384", "SHA-512": "RSA-OAEP-512" },
  };
  const JWK_MEMBERS = { EC: ["x", "y", "d"], OKP: ["x", "d"], RSA: ["n", "e", "d", "p", "q", "dp", "dq", "qi"] };

  /**
   * An asymmetric algorithm. `kind` is "EC", "OKP" or "RSA"; `priv`/`pub`
   * the usages each half may have; `use` the JWK "use" it matches.
   */
  function asymAlgorithm(name, kind, priv, pub, use) {
    // The curve the ops need, and the key's algorithm dictionary.
    const describe = (p, rsa) => {
      if (kind === "EC") {
        if (p.namedCurve === undefined) throw new TypeError('Missing field "namedCurve" in "algorithm".');
        const curve = webidl.toDOMString(p.namedCurve);
        if (!includes(EC_CURVES, curve)) throw notSupported(`Unsupported namedCurve "${curve}".`);
        return { __proto__: null, curve, algorithm: { name, namedCurve: curve } };
      }
      if (kind === "OKP") {
        if (name === "NODE-ED25519") {
          if (p.namedCurve === undefined) throw new TypeError('Missing field "namedCurve" in "algorithm".');
          if (p.namedCurve !== "NODE-ED25519") throw notSupported(`EDDSA curve "${p.namedCurve}" isn't supported.`);
          return { __proto__: null, curve: "Ed25519", algorithm: { name, namedCurve: "NODE-ED25519" } };
        }
        return { __proto__: null, curve: name, algorithm: { name } };
      }
      const hash = hashOf(p.hash);
      const algorithm = { name, modulusLength: rsa.bits, publicExponent: new Uint8Array(rsa.exponent), hash: { name: hash } };
      return { __proto__: null, curve: "", hash, algorithm };
    };
    const make = (type, d, material, extractable, usages) =>
      makeKey(type, extractable, d.algorithm, usages, material, { __proto__: null, kind, curve: d.curve, hash: d.hash });
    const jwkAlg = (d) => {
      if (kind === "EC") return name === "ECDSA" ? ECDSA_JWK_ALG[d.curve] : undefined;
      if (kind === "OKP") return d.curve === "Ed25519" ? "EdDSA" : undefined;
      return RSA_JWK_ALG[name][d.hash];
    };

    const algo = {
      __proto__: null,
      usages: concat(priv, pub),
      generate(p, extractable, usages) {
        checkUsages(usages, algo.usages, name, "generate");
        let d;
        let pair;
        if (kind === "RSA") {
          const bits = webidl.toEnforcedUnsignedLongLong(p.modulusLength, "modulusLength");
          const publicExponent = p.publicExponent;
          if (!isUint8Array(publicExponent)) throw new TypeError("publicExponent must be a Uint8Array.");
          if (bits < 1024 || bits > 4096 || bits % 8 !== 0) {
            throw operationError(`The modulus length must be a multiple of 8 between 1024 and 4096 (requested ${bits}).`);
          }
          const exponent = TypedArrayPrototypeSlice(publicExponent);
          d = describe(p, { __proto__: null, bits, exponent });
          pair = op("cryptoGenerateKeyPair", "RSA", "", bits, exponent);
        } else {
          d = describe(p);
          pair = op("cryptoGenerateKeyPair", kind, d.curve, 0, undefined);
        }
        const privUsages = filter(usages, (u) => includes(priv, u));
        if (privUsages.length === 0) throw syntaxError("Attempt to generate asymmetric keys with no valid private key usages.");
        return {
          privateKey: make("private", d, pair[0], extractable, privUsages),
          publicKey: make("public", d, pair[1], true, filter(usages, (u) => includes(pub, u))),
        };
      },
      import(format, data, p, extractable, usages) {
        let d = kind === "RSA" ? null : describe(p);
        let result;
        if (format === "jwk") {
          const kty = kind;
          checkJwk(data, kty, usages, extractable, use, name);
          if (kind !== "RSA" && data.crv !== d.curve) throw dataError(`JSON Web Key "crv" "${data.crv}" does not match the requested curve "${d.curve}".`);
          const members = JWK_MEMBERS[kind];
          const parts = [];
          for (let i = 0; i < members.length; i++) {
            const v = data[members[i]];
            ArrayAppend(parts, v === undefined ? undefined : b64urlDecode(v, members[i]));
          }
          result = op("cryptoImportKey", kind, d ? d.curve : "", "jwk", undefined, parts);
          if (kind === "RSA") d = describe(p, { __proto__: null, bits: result[2], exponent: result[3] });
          const alg = jwkAlg(d);
          if (data.alg !== undefined && alg !== undefined && data.alg !== alg && !(alg === "EdDSA" && data.alg === "Ed25519")) {
            throw dataError(`JSON Web Key "alg" "${data.alg}" does not match the requested algorithm.`);
          }
        } else if (format === "raw" || format === "spki" || format === "pkcs8") {
          if (format === "raw" && kind === "RSA") throw notSupported(`Unrecognized key import format "raw" for ${name}.`);
          result = op("cryptoImportKey", kind, d ? d.curve : "", format, toBytes(data, "keyData"), undefined);
          if (kind === "RSA") d = describe(p, { __proto__: null, bits: result[2], exponent: result[3] });
        } else {
          throw notSupported(`Unrecognized key import format "${format}".`);
        }
        const isPrivate = result[0];
        checkUsages(usages, isPrivate ? priv : pub, name, isPrivate ? "import private" : "import public");
        if (isPrivate && usages.length === 0) throw syntaxError(NO_USAGES);
        return make(isPrivate ? "private" : "public", d, result[1], extractable, usages);
      },
      export(format, s) {
        const isPrivate = s.type === "private";
        if (format === "spki" || format === "pkcs8") {
          if ((format === "pkcs8") !== isPrivate) {
            throw invalidAccess(`Only ${isPrivate ? "public" : "private"} keys can be exported as "${format}".`);
          }
          return toBuffer(TypedArrayPrototypeSlice(s.material));
        }
        if (format === "raw") {
          if (kind === "RSA") throw notSupported(`Unrecognized export format "raw" for ${name}.`);
          if (isPrivate) throw invalidAccess("Only public keys can be exported as \"raw\".");
          return toBuffer(op("cryptoExportKey", kind, s.info.curve, "raw", false, s.material)[0]);
        }
        if (format === "jwk") {
          const parts = op("cryptoExportKey", kind, s.info.curve, "jwk", isPrivate, s.material);
          const m = { __proto__: null, kty: kind, key_ops: ArrayFromIndexed(s.usages), ext: s.extractable };
          if (kind !== "RSA") m.crv = s.info.curve;
          const members = JWK_MEMBERS[kind];
          for (let i = 0; i < members.length; i++) {
            if (parts[i] !== undefined) m[members[i]] = b64urlEncode(parts[i]);
          }
          // workerd names no "alg" in an exported EC key.
          if (kind !== "EC") m.alg = jwkAlg(s.info);
          return jwkObject(m);
        }
        throw notSupported(`Unrecognized export format "${format}".`);
      },
    };

    const requireType = (s, type, what) => {
      if (s.type !== type) throw invalidAccess(`${what} requires a ${type} key.`);
    };
    if (includes(priv, "sign")) {
      const params = (p, s) => {
        if (name === "ECDSA") return [hashOf(p.hash), 0];
        if (name === "RSA-PSS") {
          if (p.saltLength === undefined) throw new TypeError("Failed to provide salt for RSA-PSS key operation which requires a salt");
          return [s.info.hash, webidl.toEnforcedUnsignedLongLong(p.saltLength, "saltLength")];
        }
        return [s.info.hash, 0];
      };
      algo.sign = (p, s, data) => {
        requireType(s, "private", "Signing");
        const hs = params(p, s);
        const hash = hs[0];
        const salt = hs[1];
        return toBuffer(op("cryptoSign", name === "NODE-ED25519" ? "Ed25519" : name, s.info.curve, hash, salt, s.material, data));
      };
      algo.verify = (p, s, sig, data) => {
        requireType(s, "public", "Verification");
        const hs = params(p, s);
        const hash = hs[0];
        const salt = hs[1];
        return op("cryptoVerify", name === "NODE-ED25519" ? "Ed25519" : name, s.info.curve, hash, salt, s.material, sig, data);
      };
    }
    if (name === "RSA-OAEP") {
      const label = (p) => (p.label === undefined ? undefined : toBytes(p.label, "label"));
      algo.encrypt = (p, s, data) => {
        requireType(s, "public", "Encryption");
        return toBuffer(op("cryptoRsaOaep", true, s.info.hash, label(p), s.material, data));
      };
      algo.decrypt = (p, s, data) => {
        requireType(s, "private", "Decryption");
        return toBuffer(op("cryptoRsaOaep", false, s.info.hash, label(p), s.material, data));
      };
    }
    if (includes(priv, "deriveBits")) {
      algo.deriveBits = (p, s, length) => {
        requireType(s, "private", "Key derivation");
        const pubKey = p.public;
        const ps = slots.get(pubKey);
        if (ps === undefined) throw new TypeError('Missing field "public" in "derivedKeyParams".');
        if (ps.type !== "public") throw invalidAccess(`The provided key has type "${ps.type}", not "public"`);
        if (ps.algorithm.name !== name) throw invalidAccess("Public key algorithm does not match the requested algorithm.");
        if (ps.info.curve !== s.info.curve) throw invalidAccess("The public and private keys must be on the same curve.");
        const secret = op("cryptoEcdh", kind, s.info.curve, s.material, ps.material);
        if (length === null) return toBuffer(secret);
        if (length > len(secret) * 8) {
          throw operationError(`Derived key length (${length} bits) is too long (should be at most ${len(secret) * 8} bits).`);
        }
        const out = TypedArrayPrototypeSlice(secret, 0, MathCeil(length / 8));
        if (length % 8 !== 0) out[len(out) - 1] &= 0xff << (8 - (length % 8));
        return toBuffer(out);
      };
    }
    return algo;
  }

  const IMPL = {
    __proto__: null,
    HMAC,
    "AES-GCM": aesAlgorithm("AES-GCM"),
    "AES-CBC": aesAlgorithm("AES-CBC"),
    "AES-CTR": aesAlgorithm("AES-CTR"),
    "AES-KW": aesAlgorithm("AES-KW"),
    HKDF: kdfAlgorithm("HKDF"),
    PBKDF2: kdfAlgorithm("PBKDF2"),
    ECDSA: asymAlgorithm("ECDSA", "EC", ["sign"], ["verify"], "sig"),
    ECDH: asymAlgorithm("ECDH", "EC", ["deriveKey", "deriveBits"], [], "enc"),
    Ed25519: asymAlgorithm("Ed25519", "OKP", ["sign"], ["verify"], "sig"),
    "NODE-ED25519": asymAlgorithm("NODE-ED25519", "OKP", ["sign"], ["verify"], "sig"),
    X25519: asymAlgorithm("X25519", "OKP", ["deriveKey", "deriveBits"], [], "enc"),
    "RSASSA-PKCS1-v1_5": asymAlgorithm("RSASSA-PKCS1-v1_5", "RSA", ["sign"], ["verify"], "sig"),
    "RSA-PSS": asymAlgorithm("RSA-PSS", "RSA", ["sign"], ["verify"], "sig"),
    "RSA-OAEP": asymAlgorithm("RSA-OAEP", "RSA", ["decrypt", "unwrapKey"], ["encrypt", "wrapKey"], "enc"),
  };

  // ---- SubtleCrypto ------------------------------------------------------------
  const FORMATS = ["raw", "pkcs8", "spki", "jwk"];

  // workerd takes the format as a plain string: an unknown one is NotSupportedError.
  function toFormat(v, verb = "import") {
    const s = webidl.toDOMString(v);
    if (!includes(FORMATS, s)) throw notSupported(`Unrecognized key ${verb} format "${s}".`);
    return s;
  }

  /** The implementation of `alg` for `method`, with its dictionary. */
  function lookup(alg, method) {
    return lookupNormalized(normalize(alg, method), method);
  }
  /** `lookup` for a dictionary already read (each is read once). */
  function lookupNormalized(found, method) {
    const dict = found.dict;
    const name = found.name;
    const impl = IMPL[name];
    if (impl === undefined || typeof impl[method] !== "function") {
      const what = method === "generate" ? "key generation " : method === "import" ? "key import " : "";
      throw notSupported(`Unrecognized ${what}algorithm "${name}" requested.`);
    }
    return { __proto__: null, dict, name, impl };
  }

  function keySlot(key, method, position) {
    const s = slots.get(key);
    if (s === undefined) {
      throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': parameter ${position} is not of type 'CryptoKey'.`);
    }
    return s;
  }

  // workerd's parameter types, for the first missing argument's message.
  const ENC = "string or EncryptAlgorithm", IMP = "string or ImportKeyAlgorithm", DER = "string or DeriveKeyAlgorithm";
  const SIG = "string or SignAlgorithm", BUF = "BufferSource", KEY = "CryptoKey";
  const PARAMETER_TYPES = {
    __proto__: null,
    digest: ["string or HashAlgorithm", BUF],
    encrypt: [ENC, KEY, BUF],
    decrypt: [ENC, KEY, BUF],
    sign: [SIG, KEY, BUF],
    verify: [SIG, KEY, BUF, BUF],
    generateKey: ["string or GenerateKeyAlgorithm", "boolean", "Array"],
    importKey: ["string", "BufferSource or JsonWebKey", IMP, "boolean", "Array"],
    exportKey: ["string", KEY],
    deriveBits: [DER, KEY],
    deriveKey: [DER, KEY, IMP, "boolean", "Array"],
    wrapKey: ["string", KEY, KEY, ENC],
    unwrapKey: ["string", BUF, KEY, ENC, IMP, "boolean", "Array"],
    timingSafeEqual: [BUF, BUF],
  };
  function args(n, required, method) {
    webidl.requiredArguments(n, required, `Failed to execute '${method}' on 'SubtleCrypto'`, PARAMETER_TYPES[method]);
  }

  function importKey(format, keyData, algorithm, extractable, keyUsages) {
    const fmt = toFormat(format);
    const usages = toUsages(keyUsages);
    const { dict, impl } = lookup(algorithm, "import");
    if (fmt === "jwk") {
      if (!webidl.isObject(keyData) || ArrayBufferIsView(keyData) || isArrayBuffer(keyData)) {
        throw new TypeError('Import data provided for "jwk" import format must be a JsonWebKey.');
      }
    } else if (!isArrayBuffer(keyData) && !ArrayBufferIsView(keyData)) {
      throw new TypeError("Import data provided for buffer-based import formats must be a buffer source.");
    }
    return impl.import(fmt, keyData, dict, !!extractable, usages);
  }

  function exportKey(format, s) {
    if (!s.extractable) throw invalidAccess(`Attempt to export non-extractable ${s.algorithm.name} key.`);
    const impl = IMPL[s.algorithm.name];
    return impl.export(format, s);
  }

  function deriveBits(found, s, length) {
    const { dict, name, impl } = lookupNormalized(found, "deriveBits");
    if (s.algorithm.name !== name) {
      throw invalidAccess(`Requested algorithm "${name}" does not match this CryptoKey's algorithm "${s.algorithm.name}".`);
    }
    return impl.deriveBits(dict, s, length);
  }

  function requireKeyUsage(s, name, usage) {
    if (s.algorithm.name !== name) {
      throw invalidAccess(`Requested algorithm "${name}" does not match this CryptoKey's algorithm "${s.algorithm.name}".`);
    }
    if (!includes(s.usages, usage)) {
      throw invalidAccess(`Requested key usage "${usage}" does not match any usage listed in this CryptoKey.`);
    }
  }

  class SubtleCrypto {
    constructor(token = undefined) {
      if (token !== TOKEN) throw new TypeError("Illegal constructor");
    }

    async digest(algorithm, data) {
      args(arguments.length, 2, "digest");
      const { name } = normalize(algorithm, "digest");
      if (!includes(HASHES, name) && name !== "MD5") throw notSupported("Unrecognized or unimplemented digest algorithm requested.");
      return toBuffer(op("cryptoDigest", name, toBytes(data, "data")));
    }

    async encrypt(algorithm, key, data) {
      args(arguments.length, 3, "encrypt");
      const { dict, name, impl } = lookup(algorithm, "encrypt");
      const s = keySlot(key, "encrypt", 2);
      const bytes = toBytes(data, "data");
      requireKeyUsage(s, name, "encrypt");
      return impl.encrypt(dict, s, bytes);
    }

    async decrypt(algorithm, key, data) {
      args(arguments.length, 3, "decrypt");
      const { dict, name, impl } = lookup(algorithm, "decrypt");
      const s = keySlot(key, "decrypt", 2);
      const bytes = toBytes(data, "data");
      requireKeyUsage(s, name, "decrypt");
      return impl.decrypt(dict, s, bytes);
    }

    async sign(algorithm, key, data) {
      args(arguments.length, 3, "sign");
      const { dict, name, impl } = lookup(algorithm, "sign");
      const s = keySlot(key, "sign", 2);
      const bytes = toBytes(data, "data");
      requireKeyUsage(s, name, "sign");
      return impl.sign(dict, s, bytes);
    }

    async verify(algorithm, key, signature, data) {
      args(arguments.length, 4, "verify");
      const { dict, name, impl } = lookup(algorithm, "verify");
      const s = keySlot(key, "verify", 2);
      const sig = toBytes(signature, "signature");
      const bytes = toBytes(data, "data");
      requireKeyUsage(s, name, "verify");
      return impl.verify(dict, s, sig, bytes);
    }

    async generateKey(algorithm, extractable, keyUsages) {
      args(arguments.length, 3, "generateKey");
      const usages = toUsages(keyUsages);
      const { dict, impl } = lookup(algorithm, "generate");
      return impl.generate(dict, !!extractable, usages);
    }

    async importKey(format, keyData, algorithm, extractable, keyUsages) {
      args(arguments.length, 5, "importKey");
      return importKey(format, keyData, algorithm, extractable, keyUsages);
    }

    async exportKey(format, key) {
      args(arguments.length, 2, "exportKey");
      const fmt = toFormat(format, "export");
      return exportKey(fmt, keySlot(key, "exportKey", 2));
    }

    async deriveBits(algorithm, baseKey, length = null) {
      args(arguments.length, 2, "deriveBits");
      const s = keySlot(baseKey, "deriveBits", 2);
      const len = length === null || length === undefined ? null : webidl.toEnforcedUnsignedLongLong(length, "length");
      const found = normalize(algorithm);
      if (s.algorithm.name === found.name && !includes(s.usages, "deriveBits")) {
        throw invalidAccess('Requested key usage "deriveBits" does not match any usage listed in this CryptoKey.');
      }
      return deriveBits(found, s, len);
    }

    async deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
      args(arguments.length, 5, "deriveKey");
      const s = keySlot(baseKey, "deriveKey", 2);
      const found = normalize(algorithm, "deriveBits");
      const { name } = lookupNormalized(found, "deriveBits");
      const target = lookup(derivedKeyType, "import");
      if (typeof target.impl.keyLength !== "function") {
        throw notSupported(`Unrecognized derived key type "${target.name}" requested.`);
      }
      const length = target.impl.keyLength(target.dict);
      requireKeyUsage(s, name, "deriveKey");
      const bits = deriveBits(found, s, length);
      return importKey("raw", bits, derivedKeyType, extractable, keyUsages);
    }

    async wrapKey(format, key, wrappingKey, wrapAlgorithm) {
      args(arguments.length, 4, "wrapKey");
      const fmt = toFormat(format);
      const ks = keySlot(key, "wrapKey", 2);
      const ws = keySlot(wrappingKey, "wrapKey", 3);
      const { dict, name } = normalize(wrapAlgorithm);
      const impl = IMPL[name];
      const wrap = impl && (impl.wrap || impl.encrypt);
      if (!wrap) throw notSupported(`Unrecognized or unimplemented algorithm "${name}" for wrapKey.`);
      requireKeyUsage(ws, name, "wrapKey");
      const exported = exportKey(fmt, ks);
      const bytes = fmt === "jwk" ? internals.encoding.encodeUtf8(JSONStringify(exported)) : new Uint8Array(exported);
      return wrap(dict, ws, bytes);
    }

    async unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
      args(arguments.length, 7, "unwrapKey");
      const fmt = toFormat(format);
      const bytes = toBytes(wrappedKey, "wrappedKey");
      const us = keySlot(unwrappingKey, "unwrapKey", 3);
      const { dict, name } = normalize(unwrapAlgorithm);
      const impl = IMPL[name];
      const unwrap = impl && (impl.unwrap || impl.decrypt);
      if (!unwrap) throw notSupported(`Unrecognized or unimplemented algorithm "${name}" for unwrapKey.`);
      lookup(unwrappedKeyAlgorithm, "import");
      requireKeyUsage(us, name, "unwrapKey");
      const plain = unwrap(dict, us, bytes);
      let keyData = plain;
      if (fmt === "jwk") {
        try {
          keyData = JSONParse(internals.encoding.decodeUtf8(plain));
        } catch {
          throw dataError("The unwrapped key is not a valid JSON Web Key.");
        }
      }
      return importKey(fmt, keyData, unwrappedKeyAlgorithm, extractable, keyUsages);
    }

    /** workerd's non-standard constant-time comparison. */
    timingSafeEqual(a, b) {
      args(arguments.length, 2, "timingSafeEqual");
      const x = toBytes(a, "a");
      const y = toBytes(b, "b");
      if (len(x) !== len(y)) throw new TypeError("Input buffers must have the same byte length.");
      return timingSafeEqualBytes(x, y);
    }
  }
  webidl.defineToStringTag(SubtleCrypto, "SubtleCrypto");
  webidl.makeEnumerable(SubtleCrypto.prototype, [
    "digest", "encrypt", "decrypt", "sign", "verify", "generateKey", "importKey", "exportKey",
    "deriveBits", "deriveKey", "wrapKey", "unwrapKey", "timingSafeEqual",
  ]);

  const subtle = new SubtleCrypto(TOKEN);
  ObjectDefineProperty(globalThis.Crypto.prototype, "subtle", {
    __proto__: null,
    get() {
      return subtle;
    },
    enumerable: true,
    configurable: true,
  });
  // ---- crypto.DigestStream (workerd) ------------------------------------------
  // A WritableStream whose `digest` promise resolves to the hash of all bytes
  // written; the running hash lives on the Rust side.
  const digestRegistry = new FinalizationRegistry((id) => {
    try {
      ops.cryptoDigestFree(id);
    } catch {
      // isolate shutting down
    }
  });
  class DigestStream extends WritableStream {
    #digest;
    constructor(algorithm) {
      webidl.requiredArguments(arguments.length, 1, "Failed to construct 'DigestStream'", ["string or HashAlgorithm"]);
      const { name } = normalize(algorithm, "digest");
      if (!includes(HASHES, name) && name !== "MD5") throw notSupported("Unrecognized or unimplemented digest algorithm requested.");
      const id = op("cryptoDigestNew", name);
      let resolve;
      let reject;
      const digest = new Promise((res, rej) => {
        resolve = res;
        reject = rej;
      });
      PromisePrototypeThen(digest, undefined, () => {});
      super({
       __proto__: null,
        write(chunk) {
          let bytes;
          if (typeof chunk === "string") bytes = internals.encoding.encodeUtf8(chunk);
          else if (isArrayBuffer(chunk) || ArrayBufferIsView(chunk)) bytes = chunk;
          else throw new TypeError("DigestStream accepts only ArrayBuffer, ArrayBufferView or string chunks.");
          ops.cryptoDigestUpdate(id, bytes);
        },
        close() {
          resolve(toBuffer(op("cryptoDigestFinish", id)));
        },
        abort(reason) {
          ops.cryptoDigestFree(id);
          reject(reason);
        },
      });
      this.#digest = digest;
      digestRegistry.register(this, id);
    }
    get digest() {
      return this.#digest;
    }
  }
  webidl.defineToStringTag(DigestStream, "DigestStream");
  ObjectDefineProperty(globalThis.Crypto.prototype, "DigestStream", {
    __proto__: null,
    value: DigestStream,
    writable: true,
    enumerable: false,
    configurable: true,
  });

  internals.defineGlobal("SubtleCrypto", SubtleCrypto);
  internals.defineGlobal("CryptoKey", CryptoKey);
})
