// Web Crypto's `crypto.subtle` (and `require('crypto').webcrypto`) for what edge code verifies
// and signs with: digest (SHA-1/256/384/512); HMAC, RSASSA-PKCS1-v1_5 and ECDSA (P-256,
// P-384) keys imported from raw bytes, JWK, SPKI or PKCS#8; sign, verify and exportKey.
// Compiled on first use; see runtime.js "Node modules made on first use".
((helpers) => {
  "use strict";
  const { Buffer, ops, keys, createHmac, timingSafeEqual } = helpers;
  const HASHES = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };
  const domError = (name, message) => new DOMException(message, name);
  const bufferOf = (data) => {
    if (data instanceof ArrayBuffer) return Buffer.from(new Uint8Array(data));
    if (ArrayBuffer.isView(data)) return Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    throw new TypeError("Failed to execute on 'SubtleCrypto': the data is not a BufferSource");
  };
  const arrayBuffer = (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  const algorithmOf = (a) => (typeof a === "string" ? { name: a } : { ...a });
  const hashName = (h) => {
    const name = String(typeof h === "string" ? h : h?.name ?? "").toUpperCase();
    if (!HASHES[name]) throw domError("NotSupportedError", "Unrecognized algorithm name");
    return name;
  };
  const normalName = (name) => {
    const n = String(name).toUpperCase();
    if (n === "HMAC" || n === "ECDSA") return n;
    if (n === "RSASSA-PKCS1-V1_5") return "RSASSA-PKCS1-v1_5";
    throw domError("NotSupportedError", "Unrecognized algorithm name");
  };
  class CryptoKey {
    #type; #extractable; #algorithm; #usages; #key;
    constructor(secret, type, extractable, algorithm, usages, key) {
      if (secret !== CryptoKey.#made) throw new TypeError("Illegal constructor");
      this.#type = type; this.#extractable = extractable; this.#algorithm = algorithm; this.#usages = usages; this.#key = key;
    }
    static #made = Symbol("made");
    static _make(...a) { return new CryptoKey(CryptoKey.#made, ...a); }
    static _keyOf(k) { return k.#key; }
    get type() { return this.#type; }
    get extractable() { return this.#extractable; }
    get algorithm() { return this.#algorithm; }
    get usages() { return this.#usages; }
    get [Symbol.toStringTag]() { return "CryptoKey"; }
  }
  const usable = (key, usage) => {
    if (!(key instanceof CryptoKey)) throw new TypeError("The provided value is not of type 'CryptoKey'");
    if (!key.usages.includes(usage)) throw domError("InvalidAccessError", `The requested operation is not valid for the provided key (it may not be used to ${usage})`);
    return CryptoKey._keyOf(key);
  };
  const importKey = async (format, keyData, algorithm, extractable, usages) => {
    const alg = algorithmOf(algorithm);
    const name = normalName(alg.name);
    const usageList = [...usages];
    if (name === "HMAC") {
      const hash = hashName(alg.hash);
      let bytes;
      if (format === "raw") bytes = bufferOf(keyData);
      else if (format === "jwk") {
        if (keyData?.kty !== "oct") throw domError("DataError", "The JWK's kty must be 'oct' for HMAC");
        bytes = Buffer.from(String(keyData.k ?? ""), "base64url");
      } else throw domError("NotSupportedError", `Unsupported key format for HMAC: ${format}`);
      return CryptoKey._make("secret", !!extractable, { name, hash: { name: hash }, length: bytes.length * 8 }, usageList, keys.createSecretKey(bytes));
    }
    let keyObject;
    let type = "public";
    if (format === "spki") keyObject = keys.createPublicKey({ key: bufferOf(keyData), format: "der", type: "spki" });
    else if (format === "pkcs8") {
      keyObject = keys.createPrivateKey(keys.pemOf(bufferOf(keyData), "PRIVATE KEY"));
      type = "private";
    } else if (format === "jwk") {
      if (keyData?.d !== undefined) throw domError("NotSupportedError", "private keys as JWK are not supported here; import PKCS#8");
      keyObject = keys.createPublicKey({ key: keyData, format: "jwk" });
    } else throw domError("NotSupportedError", `Unsupported key format: ${format}`);
    const kind = keyObject.asymmetricKeyType;
    if ((name === "ECDSA") !== (kind === "ec")) throw domError("DataError", `The key is ${kind}, not for ${name}`);
    let algo;
    if (name === "ECDSA") {
      const curve = keyObject.asymmetricKeyDetails.namedCurve === "prime256v1" ? "P-256" : "P-384";
      if (alg.namedCurve && alg.namedCurve !== curve) throw domError("DataError", `The key's curve is ${curve}, not ${alg.namedCurve}`);
      algo = { name, namedCurve: curve };
    } else {
      const d = keyObject.asymmetricKeyDetails;
      const e = d.publicExponent;
      const exponent = [];
      for (let v = e; v > 0n; v >>= 8n) exponent.unshift(Number(v & 0xffn));
      algo = { name, modulusLength: d.modulusLength, publicExponent: new Uint8Array(exponent), hash: { name: hashName(alg.hash) } };
    }
    return CryptoKey._make(type, !!extractable, algo, usageList, keyObject);
  };
  const nodeAlg = (key, algorithm) => {
    const name = normalName(algorithmOf(algorithm).name);
    if (name !== key.algorithm.name) throw domError("InvalidAccessError", `The key is for ${key.algorithm.name}, not ${name}`);
    if (name === "ECDSA") return HASHES[hashName(algorithmOf(algorithm).hash)];
    return HASHES[key.algorithm.hash.name];
  };
  const sign = async (algorithm, key, data) => {
    const k = usable(key, "sign");
    const hash = nodeAlg(key, algorithm);
    const bytes = bufferOf(data);
    if (key.algorithm.name === "HMAC") return arrayBuffer(createHmac(hash, k).update(bytes).digest());
    const sig = Buffer.from(ops.op_edge_sign(hash, k._pem, bytes, key.algorithm.name === "ECDSA"));
    return arrayBuffer(sig);
  };
  const verify = async (algorithm, key, signature, data) => {
    const k = usable(key, "verify");
    const hash = nodeAlg(key, algorithm);
    const bytes = bufferOf(data);
    const sig = bufferOf(signature);
    if (key.algorithm.name === "HMAC") {
      const mac = createHmac(hash, k).update(bytes).digest();
      return mac.length === sig.length && timingSafeEqual(mac, sig);
    }
    const pem = key.type === "private" ? keys.createPublicKey(k).export() : k._pem;
    return ops.op_edge_verify(hash, pem, bytes, sig, key.algorithm.name === "ECDSA");
  };
  const digest = async (algorithm, data) => {
    const name = hashName(algorithmOf(algorithm).name);
    return arrayBuffer(Buffer.from(ops.op_edge_digest(HASHES[name], bufferOf(data))));
  };
  const exportKey = async (format, key) => {
    if (!(key instanceof CryptoKey)) throw new TypeError("The provided value is not of type 'CryptoKey'");
    // Node 20 names this one InvalidAccessException.
    if (!key.extractable) throw domError("InvalidAccessException", "key is not extractable");
    const k = CryptoKey._keyOf(key);
    if (key.type === "secret") {
      if (format === "raw") return arrayBuffer(k.export());
      if (format === "jwk") return { kty: "oct", k: k.export().toString("base64url"), alg: `HS${key.algorithm.hash.name.slice(4)}`, ext: true, key_ops: key.usages };
    } else if (key.type === "public") {
      if (format === "spki") return arrayBuffer(k.export({ format: "der", type: "spki" }));
      if (format === "jwk") return { ...k.export({ format: "jwk" }), ext: true, key_ops: key.usages };
    }
    throw domError("NotSupportedError", `Unsupported export format ${format} for a ${key.type} key`);
  };
  const subtle = { digest, importKey, exportKey, sign, verify, [Symbol.toStringTag]: "SubtleCrypto" };
  return { subtle, CryptoKey };
})
