// crypto.subtle as JWT verifiers written for the Web Crypto API use it (jose-style code):
// digest, HMAC, RS256 and ES256 verification with keys from JWK and SPKI.
const { subtle } = globalThis.crypto;
const nodeCrypto = require("crypto");
const hex = (ab) => Buffer.from(ab).toString("hex");
// Test keys made for this file only (the same as crypto-sign.js).
const RSA_PUBLIC_JWK = { kty: "RSA", n: "jgutQdsgrIIIfLtmPR4XUwwhWPEnJ0yu6nDPiad6E58Sllgrf-34pag2-soKJ1oFcCk2jCR9KZDRh-zUHDUu5-tQ6evsNFC5osV93iOptFutmkc90Zy2gROXJKaDm7pxB89ejf6uueSt0wGt25cusZaRTKRfxZzZEU9HJpWgSzNKQEeHkFS95vcfZSokdCsp-QqmOl93wy8M8NpKEkUN1BE7apfJVA03QPp4zMcB_hDhaUgNTVZRve1qWNqXPMPwqbhGXR5Az5lXXIcmqLNcLM6YqjH5wyCgEFIe1uuLDb9B7m6QQD2w0U636edFK9kshl74CuEb5U9CNTTxNYyn_w", e: "AQAB" };
const EC_PUBLIC_JWK = { kty: "EC", x: "PZ3SW1t4YH4wfxtke4YlHLsw5F8GHFif2cRdjN2mzQ0", y: "HkQt2_qtP5lJnBtj-tv8pEESxsrAONqEDFBq7DzoIZQ", crv: "P-256" };
const EC_SIG_BY_NODE = "ZFwqLALulbieMbopy8Sa+BBg5E+2po00Sba389A0C9K71A/lHFskzXZhnS7TGCtEiR9jExCjOCi/ScOYtwYKhQ==";
const RS256_SIG_BY_NODE = "QROk2saIiPvUy90kdS3ikktIeOu1yuh1k/lskWENDiBD3Rsjyg8ylliR9mAkbJc1xBsThQymI70sz7VxpBq10jWqK7M2TE5SeRhHXycRHL9xWrZmzyz187Qd6cPvykfw3zLPRTCRm8AAoSR0FTg00X8pRf3mNWEFqZrZhWf+PnbB3tVIiF+75PWkSLt8DBHeh0h/jnlHXmko2JmWaxMWLMqG/+guQ+a19a/HJF0NlWIIE7KDqxIpCJNJHIoly0GcOOcjawMKd9N2SUrZveJlAl4A+NKUp5zDVx2QHAHqQh/FqJmbgNbKCpJ0hlCGd8ggDqpIf00nFA6vZmSgLgxs3A==";  // crypto.createSign("RSA-SHA256").update("payload").sign(RSA_PRIVATE of crypto-sign.js, "base64")
const data = new TextEncoder().encode("payload");
ta("digest", async () => [hex(await subtle.digest("SHA-256", data)), hex(await subtle.digest({ name: "SHA-1" }, new Uint8Array([1, 2]))), (await subtle.digest("SHA-512", data)).byteLength]);
ta("an unknown digest", () => subtle.digest("MD5", data));
ta("HMAC: import, sign, verify, export", async () => {
  const key = await subtle.importKey("raw", new TextEncoder().encode("secret"), { name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
  const sig = await subtle.sign("HMAC", key, data);
  return [key.type, key.algorithm.name, key.algorithm.hash.name, key.algorithm.length, key.usages, hex(sig), await subtle.verify("HMAC", key, sig, data), await subtle.verify("HMAC", key, sig, new Uint8Array([1])), Buffer.from(await subtle.exportKey("raw", key)).toString()];
});
ta("HMAC from a JWK", async () => { const key = await subtle.importKey("jwk", { kty: "oct", k: "c2VjcmV0" }, { name: "HMAC", hash: { name: "SHA-256" } }, false, ["verify"]); return [key.extractable, await subtle.verify("HMAC", key, await subtle.sign("HMAC", await subtle.importKey("raw", Buffer.from("secret"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]), data), data)]; });
ta("RS256 verify with a JWK key", async () => {
  const key = await subtle.importKey("jwk", RSA_PUBLIC_JWK, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["verify"]);
  return [key.type, key.algorithm.name, key.algorithm.modulusLength, Array.from(key.algorithm.publicExponent), key.algorithm.hash.name, await subtle.verify("RSASSA-PKCS1-v1_5", key, Buffer.from(RS256_SIG_BY_NODE, "base64"), data), await subtle.verify({ name: "RSASSA-PKCS1-v1_5" }, key, Buffer.from(RS256_SIG_BY_NODE, "base64"), new Uint8Array(3))];
});
ta("ES256 verify with a JWK key, raw r||s signature", async () => {
  const key = await subtle.importKey("jwk", EC_PUBLIC_JWK, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  return [key.algorithm.namedCurve, await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, Buffer.from(EC_SIG_BY_NODE, "base64"), data)];
});
ta("SPKI import and JWK export round trip", async () => {
  const spki = nodeCrypto.createPublicKey({ key: RSA_PUBLIC_JWK, format: "jwk" }).export({ format: "der", type: "spki" });
  const key = await subtle.importKey("spki", spki, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["verify"]);
  const jwk = await subtle.exportKey("jwk", key);
  return [jwk.kty, jwk.n === RSA_PUBLIC_JWK.n, jwk.e, Buffer.from(await subtle.exportKey("spki", key)).equals(spki)];
});
ta("a key used for what it was not imported for", async () => { const key = await subtle.importKey("jwk", EC_PUBLIC_JWK, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]); try { await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, data); return "signed"; } catch (e) { return e.name; } });
ta("exporting a key that is not extractable", async () => { const key = await subtle.importKey("raw", Buffer.from("k"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]); try { await subtle.exportKey("raw", key); return "exported"; } catch (e) { return e.name; } });
t("the shapes", () => [typeof require("crypto").webcrypto.subtle.digest, require("crypto").webcrypto.subtle === globalThis.crypto.subtle, typeof CryptoKey, Object.prototype.toString.call(globalThis.crypto.subtle)]);
