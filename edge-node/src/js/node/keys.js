// node:crypto's key objects — compiled the first time a function makes or asks for a key;
// see runtime.js "Node modules made on first use".
((helpers) => {
  "use strict";
  const { Buffer, inspect, ops, toBytes } = helpers;
  // Public keys as Node's KeyObject: from PEM (SPKI or PKCS#1), DER or a JWK; kept as SPKI.
  const pemOf = (der, label) => `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64").match(/.{1,64}/g).join("\n")}\n-----END ${label}-----\n`;
  const b64u = (bytes) => Buffer.from(bytes).toString("base64url");
  // A KeyObject is "public" (its description, from op_edge_public_key), "private" (its PEM
  // and its public half's description) or "secret" (its bytes).
  class KeyObject {
    #type; #info; #pem; #bytes;
    constructor(type, { info, pem, bytes }) { this.#type = type; this.#info = info; this.#pem = pem; this.#bytes = bytes; }
    get type() { return this.#type; }
    get asymmetricKeyType() { return this.#info?.kind; }
    get asymmetricKeyDetails() {
      const i = this.#info;
      if (!i) return undefined;
      if (i.kind === "rsa") {
        let e = 0n;
        for (const b of i.e) e = (e << 8n) | BigInt(b);
        return { modulusLength: i.n.length * 8 - Math.clz32(i.n[0]) + 24, publicExponent: e };
      }
      return { namedCurve: i.crv === "P-256" ? "prime256v1" : "secp384r1" };
    }
    get symmetricKeySize() { return this.#bytes?.length; }
    export(options = {}) {
      if (this.#type === "secret") {
        if (options.format === "jwk") return { kty: "oct", k: b64u(this.#bytes) };
        return Buffer.from(this.#bytes);
      }
      if (this.#type === "private") {
        const label = this.#pem.trim().split("\n")[0].replace(/^-----BEGIN |-----$/g, "");
        const want = options.type === "pkcs1" ? "RSA PRIVATE KEY" : options.type === "sec1" ? "EC PRIVATE KEY" : "PRIVATE KEY";
        if ((options.format ?? "pem") === "pem" && label === want) return this.#pem;
        throw Object.assign(new Error(`exporting this private key as ${options.format ?? "pem"} ${options.type ?? ""} is not supported here (it is a ${label})`), { code: "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM" });
      }
      const i = this.#info;
      const format = options.format ?? "pem";
      if (format === "jwk") return i.kind === "rsa" ? { kty: "RSA", n: b64u(i.n), e: b64u(i.e) } : { kty: "EC", x: b64u(i.x), y: b64u(i.y), crv: i.crv };
      const type = options.type ?? "spki";
      if (type !== "spki" && !(type === "pkcs1" && i.kind === "rsa")) {
        throw Object.assign(new TypeError(`The property 'options.type' is invalid. Received '${type}'`), { code: "ERR_INVALID_ARG_VALUE" });
      }
      let der = Buffer.from(i.spki);
      if (type === "pkcs1") {
        // The SPKI's BIT STRING holds the PKCS#1 RSAPublicKey after its unused-bits byte.
        const at = der.indexOf(Buffer.from([0x03]), 10);
        der = der.subarray(at + 2 + (der[at + 1] & 0x80 ? der[at + 1] & 0x7f : 0) + 1);
      }
      if (format === "der") return der;
      return pemOf(der, type === "pkcs1" ? "RSA PUBLIC KEY" : "PUBLIC KEY");
    }
    equals(other) {
      if (!(other instanceof KeyObject) || other.type !== this.#type) return false;
      if (this.#type === "secret") return Buffer.from(this.#bytes).equals(other.export());
      return Buffer.from(this.#info.spki).equals(Buffer.from(other.#info.spki));
    }
    // The PEM a signing or verifying op takes (a private key's own; a public key's SPKI).
    get _pem() { return this.#type === "private" ? this.#pem : this.export(); }
    get _secret() { return this.#bytes; }
    get [Symbol.toStringTag]() { return "KeyObject"; }
  }
  const keyInput = (key, what) => {
    const k = key !== null && typeof key === "object" && !ArrayBuffer.isView(key) && !(key instanceof ArrayBuffer) ? key : { key };
    if (k.format !== "jwk" && k.format !== "der") {
      const pem = typeof k.key === "string" ? k.key : ArrayBuffer.isView(k.key) ? Buffer.from(k.key).toString() : null;
      if (pem === null) throw Object.assign(new TypeError(`The "key" argument must be of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey. Received ${inspect(k.key)}`), { code: "ERR_INVALID_ARG_TYPE" });
      k.pem = pem;
    }
    return k;
  };
  const isPrivatePem = (pem) => /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(pem);
  const createPublicKey = (key) => {
    if (key instanceof KeyObject) {
      if (key.type === "private") return createPublicKey(key._pem);
      if (key.type === "public") return key;
      throw Object.assign(new TypeError("Invalid key object type secret, expected private."), { code: "ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE" });
    }
    const k = keyInput(key);
    if (k.key instanceof KeyObject) return createPublicKey(k.key);
    if (k.format === "jwk") {
      const j = k.key ?? {};
      if (j.kty === "RSA") return new KeyObject("public", { info: ops.op_edge_public_key(pemOf(ops.op_edge_jwk_spki("RSA", String(j.n ?? ""), String(j.e ?? ""), ""), "PUBLIC KEY")) });
      if (j.kty === "EC") return new KeyObject("public", { info: ops.op_edge_public_key(pemOf(ops.op_edge_jwk_spki("EC", String(j.crv ?? ""), String(j.x ?? ""), String(j.y ?? "")), "PUBLIC KEY")) });
      throw Object.assign(new TypeError(`The property 'key.kty' must be one of: 'RSA', 'EC', 'OKP'. Received ${typeof j.kty === "string" ? `'${j.kty}'` : inspect(j.kty)}`), { code: "ERR_INVALID_ARG_VALUE" });
    }
    if (k.format === "der") {
      const label = k.type === "pkcs1" ? "RSA PUBLIC KEY" : "PUBLIC KEY";
      return new KeyObject("public", { info: ops.op_edge_public_key(pemOf(toBytes(k.key), label)) });
    }
    if (isPrivatePem(k.pem)) return new KeyObject("public", { info: ops.op_edge_private_key(k.pem) });
    return new KeyObject("public", { info: ops.op_edge_public_key(k.pem) });
  };
  const createPrivateKey = (key) => {
    if (key instanceof KeyObject) {
      if (key.type === "private") return key;
      throw Object.assign(new TypeError(`Invalid key object type ${key.type}, expected private.`), { code: "ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE" });
    }
    const k = keyInput(key);
    if (k.format === "jwk" || k.format === "der") throw Object.assign(new Error(`private keys as ${k.format} are not supported here; give a PEM`), { code: "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM" });
    if (!isPrivatePem(k.pem)) throw Object.assign(new Error("error:1E08010C:DECODER routines::unsupported"), { code: "ERR_OSSL_UNSUPPORTED" });
    return new KeyObject("private", { info: ops.op_edge_private_key(k.pem), pem: k.pem });
  };
  const createSecretKey = (key, encoding) => {
    if (typeof key === "string") key = Buffer.from(key, encoding);
    else if (!ArrayBuffer.isView(key) && !(key instanceof ArrayBuffer)) throw Object.assign(new TypeError(`The "key" argument must be of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView. Received ${inspect(key)}`), { code: "ERR_INVALID_ARG_TYPE" });
    return new KeyObject("secret", { bytes: Buffer.from(toBytes(key)) });
  };
  return { KeyObject, createPublicKey, createPrivateKey, createSecretKey, pemOf };
})
